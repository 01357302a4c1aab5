/* test-writer.vala: ST.Writer through the generated vapi
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A Vala program streaming a file: declare, write chunks with their lengths, finish; errors caught
 * by errordomain code.
 */

string make_temp_dir () {
    try {
        return DirUtils.make_tmp ("st-vala-writer-XXXXXX");
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

int count_entries (string dir) {
    int n = 0;
    try {
        var d = Dir.open (dir);
        while (d.read_name () != null)
            n++;
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    return n;
}

void remove_dir (string dir) {
    try {
        var d = Dir.open (dir);
        unowned string? name;
        while ((name = d.read_name ()) != null)
            FileUtils.unlink (Path.build_filename (dir, name));
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    DirUtils.remove (dir);
}

void test_same_bytes () {
    var dir = make_temp_dir ();
    var path = Path.build_filename (dir, "out.safetensors");
    uint8[] data = new uint8[600];
    for (int i = 0; i < data.length; i++)
        data[i] = (uint8) (i * 7);
    try {
        var file = new ST.File ();
        file.set_tensor ("w", new ST.Tensor (ST.DType.F16, { 20, 15 }, new GLib.Bytes (data)));
        file.set_tensor ("b", new ST.Tensor (ST.DType.U8, { 4 }, new GLib.Bytes (data[0:4])));
        file.set_metadata_value ("format", "pt");

        var writer = new ST.Writer ();
        writer.add_tensor ("w", ST.DType.F16, { 20, 15 });
        writer.add_tensor ("b", ST.DType.U8, { 4 });
        writer.set_metadata_value ("format", "pt");
        writer.open (path, ST.SaveFlags.SYNC, null);
        for (int i = 0; i < data.length; i += 100)
            writer.write ("w", data[i:i + 100]);
        writer.write_bytes ("b", new GLib.Bytes (data[0:4]));
        writer.finish ();

        uint8[] contents;
        FileUtils.get_data (path, out contents);
        var expected = file.save_to_bytes ();
        assert_true (contents.length == expected.get_size ());
        assert_true (Memory.cmp (contents, expected.get_data (), contents.length) == 0);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    assert_true (count_entries (dir) == 1);
    remove_dir (dir);
}

void test_errors () {
    var dir = make_temp_dir ();
    var path = Path.build_filename (dir, "new.safetensors");
    var writer = new ST.Writer ();
    try {
        writer.add_tensor ("a", ST.DType.U8, { 4 });
        writer.add_tensor ("a", ST.DType.U8, { 4 });
        assert_not_reached ();
    } catch (ST.Error.DUPLICATE_NAME e) {
        assert_true ("“a”" in e.message);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        writer.open (path, ST.SaveFlags.NONE, null);
        writer.write ("a", { 1, 2 });
        writer.finish ();
        assert_not_reached ();
    } catch (ST.Error.SIZE_MISMATCH e) {
        assert_true ("got 2 of its 4 bytes" in e.message);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    assert_true (count_entries (dir) == 0);
    try {
        writer.write ("a", { 3 });
        assert_not_reached ();
    } catch (IOError.CLOSED e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    remove_dir (dir);
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/writer/same-bytes", test_same_bytes);
    Test.add_func ("/vala/writer/errors", test_errors);
    return Test.run ();
}
