/* basic.vala: build a safetensors file, save it, load it back, read it, and reject a bad one
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Build: valac --pkg safetensors-glib-1.0 basic.vala
 * Run:   ./basic [PATH]
 *
 * `using ST;` would make File and Error ambiguous with GLib's: write ST.File, ST.Error in full.
 */

/* safetensors stores every value little-endian, whatever machine wrote it: these put values into that form
 * and take them out again, byte by byte, so that they give the same numbers on big-endian hosts (s390x). */
GLib.Bytes f32_le_bytes (float[] values) {
    var raw = new uint8[values.length * 4];
    for (int i = 0; i < values.length; i++) {
        uint32 bits = 0;
        Memory.copy (&bits, &values[i], sizeof (uint32));
        for (int b = 0; b < 4; b++)
            raw[4 * i + b] = (uint8) (bits >> (8 * b));
    }
    return new GLib.Bytes (raw);
}

GLib.Bytes i64_le_bytes (int64 value) {
    var raw = new uint8[8];
    for (int b = 0; b < 8; b++)
        raw[b] = (uint8) ((uint64) value >> (8 * b));
    return new GLib.Bytes (raw);
}

uint64 read_le (uint8[] data, size_t at, int n_bytes) {
    uint64 v = 0;
    for (int b = n_bytes - 1; b >= 0; b--)
        v = (v << 8) | data[at + b];
    return v;
}

float f32_from_le (uint8[] data, size_t at) {
    uint32 bits = (uint32) read_le (data, at, 4);
    float v = 0;
    Memory.copy (&v, &bits, sizeof (float));
    return v;
}

void build_and_save (string path) throws GLib.Error {
    var file = new ST.File ();
    float[] weight = { 0.5f, -1.0f, 2.0f, 3.25f, 0.0f, -0.125f };
    uint8[] mask = { 1, 0, 0, 1 };

    file.set_tensor ("layer.weight", new ST.Tensor (ST.DType.F32, { 2, 3 }, f32_le_bytes (weight)));
    file.set_tensor ("optimizer.steps", new ST.Tensor (ST.DType.I64, {}, i64_le_bytes (1000)));
    file.set_tensor ("layer.mask", new ST.Tensor (ST.DType.BOOL, { 4 }, new GLib.Bytes (mask)));
    file.set_metadata_value ("format", "pt");
    file.set_metadata_value ("description", "a tiny example model");
    file.save_to_path (path);
}

string shape_text (ST.Tensor tensor) {
    var text = new StringBuilder ("[");
    foreach (var dim in tensor.get_shape ())
        text.append_printf ("%s%" + int64.FORMAT, text.len > 1 ? ", " : "", dim);
    return text.append_c (']').str;
}

void load_and_read (string path) throws GLib.Error {
    // The file is mapped, not read: tensors are views of the mapping.
    var file = new ST.File.from_path (path);
    stdout.printf ("%s: %u tensors, header %" + uint64.FORMAT + " bytes\n", path, file.get_n_tensors (),
           file.get_header_size ());

    stdout.printf ("metadata:\n");
    var keys = file.dup_metadata ().get_keys ();
    keys.sort (strcmp);
    foreach (unowned string key in keys)
        stdout.printf ("  %s = %s\n", key, file.get_metadata_value (key));

    stdout.printf ("tensors, in the order of their data:\n");
    foreach (unowned string name in file.dup_names_in_file_order ()) {
        var tensor = file.get_tensor (name);
        stdout.printf ("  %-16s %-4s shape %-8s %" + uint64.FORMAT + " bytes\n", name, tensor.get_dtype ().to_string (),
               shape_text (tensor), tensor.get_n_bytes ());
    }

    var weight = file.lookup_tensor ("layer.weight");
    unowned uint8[] values = weight.get_data ();
    stdout.printf ("layer.weight =\n");
    for (int row = 0; row < 2; row++)
        stdout.printf ("  [%8.3f %8.3f %8.3f]\n", f32_from_le (values, 4 * (row * 3)),
                       f32_from_le (values, 4 * (row * 3 + 1)), f32_from_le (values, 4 * (row * 3 + 2)));
    if (f32_from_le (values, 4 * 3) != 3.25f)
        error ("read back %g instead of 3.25", f32_from_le (values, 4 * 3));

    unowned uint8[] steps = file.get_tensor ("optimizer.steps").get_data ();
    stdout.printf ("optimizer.steps = %" + int64.FORMAT + "\n", (int64) read_le (steps, 0, 8));
}

void reject_hostile_file () {
    // Two tensors claiming overlapping bytes.
    string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""";
    var data = new ByteArray ();
    uint64 n = header.length;
    for (int i = 0; i < 8; i++)
        data.append ({ (uint8) (n >> (8 * i)) });
    data.append (header.data);
    data.append (new uint8[12]);

    try {
        new ST.File.from_bytes (ByteArray.free_to_bytes ((owned) data));
        error ("the hostile file was not rejected");
    } catch (ST.Error.INVALID_OFFSETS e) {
        stdout.printf ("a hostile file is rejected: %s\n", e.message);
    } catch (GLib.Error e) {
        error ("unexpected error: %s", e.message);
    }
}

int main (string[] args) {
    try {
        string? dir = args.length > 1 ? null : DirUtils.make_tmp ("st-example-XXXXXX");
        string path = args.length > 1 ? args[1] : Path.build_filename (dir, "model.safetensors");
        build_and_save (path);
        load_and_read (path);
        reject_hostile_file ();
        if (dir != null) {
            FileUtils.unlink (path);
            DirUtils.remove (dir);
        }
    } catch (GLib.Error e) {
        printerr ("error: %s\n", e.message);
        return 1;
    }
    return 0;
}
