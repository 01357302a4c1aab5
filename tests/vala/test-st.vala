/* test-st.vala: the public API of safetensors-glib through the generated vapi
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Each test shows how a Vala program uses the library: constructors that throw, errordomain codes
 * caught by name, arrays with their lengths, and async methods with `yield`.
 */

string fixtures_dir;

string fixture (string relative) {
    return Path.build_filename (fixtures_dir, relative);
}

GLib.Bytes bytes_of (void* values, size_t n_bytes) {
    unowned uint8[] raw = (uint8[]) values;
    raw.length = (int) n_bytes;
    return new GLib.Bytes (raw);
}

unowned float[] float_values (ST.Tensor tensor) {
    unowned float[] values = (float[]) tensor.get_data ();
    values.length = (int) tensor.get_n_elements ();
    return values;
}

unowned int64[] int64_values (ST.Tensor tensor) {
    unowned int64[] values = (int64[]) tensor.get_data ();
    values.length = (int) tensor.get_n_elements ();
    return values;
}

string make_temp_dir () {
    try {
        return DirUtils.make_tmp ("st-vala-XXXXXX");
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
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

/* A model with three dtypes and two metadata entries. */
ST.File make_model () throws GLib.Error {
    var file = new ST.File ();
    float[] weight = { 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f };
    int64[] ids = { 7, -8, 9 };
    uint8[] mask = { 1, 0 };
    file.set_tensor ("embed.weight", new ST.Tensor (ST.DType.F32, { 3, 2 }, bytes_of (weight, weight.length * sizeof (float))));
    file.set_tensor ("embed.ids", new ST.Tensor (ST.DType.I64, { 3 }, bytes_of (ids, ids.length * sizeof (int64))));
    file.set_tensor ("mask", new ST.Tensor (ST.DType.BOOL, { 2 }, new GLib.Bytes (mask)));
    file.set_metadata_value ("format", "pt");
    file.set_metadata_value ("note", "quotes \" and \\ and ünïcödé");
    return file;
}

void check_model (ST.File file) {
    assert_cmpuint (file.get_n_tensors (), CompareOperator.EQ, 3);
    var names = file.dup_names_sorted ();
    assert_cmpint (names.length, CompareOperator.EQ, 3);
    assert_cmpstr (names[0], CompareOperator.EQ, "embed.ids");
    assert_cmpstr (names[1], CompareOperator.EQ, "embed.weight");
    assert_cmpstr (names[2], CompareOperator.EQ, "mask");
    var weight = file.get_tensor ("embed.weight");
    assert_nonnull (weight);
    assert_true (weight.get_dtype () == ST.DType.F32);
    unowned int64[] shape = weight.get_shape ();
    assert_cmpint (shape.length, CompareOperator.EQ, 2);
    assert_cmpint ((int) shape[0], CompareOperator.EQ, 3);
    assert_cmpint ((int) shape[1], CompareOperator.EQ, 2);
    assert_cmpfloat (float_values (weight)[5], CompareOperator.EQ, 2.5);
    assert_cmpint ((int) int64_values (file.get_tensor ("embed.ids"))[1], CompareOperator.EQ, -8);
    assert_true (file.get_tensor ("mask").get_dtype () == ST.DType.BOOL);
    assert_cmpstr (file.get_metadata_value ("format"), CompareOperator.EQ, "pt");
    assert_cmpstr (file.get_metadata_value ("note"), CompareOperator.EQ, "quotes \" and \\ and ünïcödé");
    assert_cmpuint (file.dup_metadata ().size (), CompareOperator.EQ, 2);
}

/* Runs an async test body in a main loop of its own. */
delegate void AsyncReady (GLib.AsyncReadyCallback done);

void run_async (owned AsyncReady start) {
    var loop = new MainLoop ();
    start ((obj, result) => loop.quit ());
    loop.run ();
}

uint8[] header_bytes (string json, int n_data) {
    var data = new ByteArray ();
    uint64 n = json.length;
    for (int i = 0; i < 8; i++)
        data.append ({ (uint8) (n >> (8 * i)) });
    data.append (json.data);
    data.append (new uint8[n_data]);
    return data.steal ();
}

void test_dtypes () {
    string[] names = { "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
                       "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64",
                       "F64", "I64", "U64" };
    uint[] bits = { 8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64 };
    for (int i = 0; i < names.length; i++) {
        var dtype = (ST.DType) i;
        assert_cmpstr (dtype.to_string (), CompareOperator.EQ, names[i]);
        assert_cmpuint (dtype.get_bits (), CompareOperator.EQ, bits[i]);
        ST.DType parsed;
        try {
            assert_true (ST.DType.from_string (names[i], out parsed));
        } catch (GLib.Error e) {
            error ("%s", e.message);
        }
        assert_true (parsed == dtype);
    }
    try {
        ST.DType parsed;
        ST.DType.from_string ("f32", out parsed);
        assert_not_reached ();
    } catch (ST.Error.INVALID_DTYPE e) {
        assert_true ("f32" in e.message);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_dtype_byte_counts () {
    uint64 n = 0;
    try {
        assert_true (ST.DType.F32.compute_n_bytes ({ 2, 3 }, out n));
        assert_cmpuint ((uint) n, CompareOperator.EQ, 24);
        assert_true (ST.DType.F64.compute_n_bytes ({}, out n));
        assert_cmpuint ((uint) n, CompareOperator.EQ, 8);
        assert_true (ST.DType.I16.compute_n_bytes ({ 0, 5000000000 }, out n));
        assert_cmpuint ((uint) n, CompareOperator.EQ, 0);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        ST.DType.F32.compute_n_bytes ({ 4294967296, 4294967296 }, out n);
        assert_not_reached ();
    } catch (ST.Error.INVALID_SHAPE e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        ST.DType.F4.compute_n_bytes ({ 3 }, out n);
        assert_not_reached ();
    } catch (ST.Error.MISALIGNED_SUB_BYTE e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_tensor () {
    try {
        float[] values = { 1, 2, 3, 4, 5, 6 };
        var tensor = new ST.Tensor (ST.DType.F32, { 2, 3 }, bytes_of (values, values.length * sizeof (float)));
        assert_true (tensor.get_dtype () == ST.DType.F32);
        assert_cmpuint (tensor.get_n_dims (), CompareOperator.EQ, 2);
        assert_cmpuint ((uint) tensor.get_n_elements (), CompareOperator.EQ, 6);
        assert_cmpuint ((uint) tensor.get_n_bytes (), CompareOperator.EQ, 24);
        assert_cmpuint ((uint) tensor.get_bytes ().get_size (), CompareOperator.EQ, 24);
        assert_cmpint (tensor.get_data ().length, CompareOperator.EQ, 24);
        assert_cmpfloat (float_values (tensor)[4], CompareOperator.EQ, 5);
        assert_true (tensor.get_data_address () == (uint64) (size_t) tensor.get_bytes ().get_data ());
        // GObject properties
        assert_true (tensor.dtype == ST.DType.F32);
        assert_cmpuint (tensor.n_dims, CompareOperator.EQ, 2);
        assert_cmpuint ((uint) tensor.n_elements, CompareOperator.EQ, 6);
        assert_cmpuint ((uint) tensor.n_bytes, CompareOperator.EQ, 24);

        var same = new ST.Tensor (ST.DType.F32, { 2, 3 }, bytes_of (values, values.length * sizeof (float)));
        assert_true (tensor.equal (same));
        var reshaped = new ST.Tensor (ST.DType.F32, { 6 }, bytes_of (values, values.length * sizeof (float)));
        assert_false (tensor.equal (reshaped));

        var scalar = new ST.Tensor (ST.DType.U8, {}, new GLib.Bytes ({ 42 }));
        assert_cmpuint (scalar.get_n_dims (), CompareOperator.EQ, 0);
        assert_cmpint (scalar.get_shape ().length, CompareOperator.EQ, 0);
        assert_cmpuint ((uint) scalar.get_n_elements (), CompareOperator.EQ, 1);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_tensor_errors () {
    try {
        new ST.Tensor (ST.DType.F32, { 2, 3 }, new GLib.Bytes (new uint8[10]));
        assert_not_reached ();
    } catch (ST.Error.SIZE_MISMATCH e) {
        assert_true ("24" in e.message && "10" in e.message);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        new ST.Tensor (ST.DType.F32, { -2 }, new GLib.Bytes (new uint8[0]));
        assert_not_reached ();
    } catch (ST.Error.INVALID_SHAPE e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_tensor_default () {
    var tensor = (ST.Tensor) Object.new (typeof (ST.Tensor));
    assert_true (tensor.get_dtype () == ST.DType.F32);
    assert_cmpint (tensor.get_shape ().length, CompareOperator.EQ, 1);
    assert_cmpint ((int) tensor.get_shape ()[0], CompareOperator.EQ, 0);
    assert_cmpuint ((uint) tensor.get_n_bytes (), CompareOperator.EQ, 0);
    assert_nonnull (tensor.get_bytes ());
}

void test_tensor_from_data () {
    var owner = new GLib.Object ();
    float[] values = { 1.5f, 2.5f };
    try {
        var tensor = new ST.Tensor.from_data (ST.DType.F32, { 2 }, (uint64) (size_t) values, 8, owner);
        assert_cmpfloat (float_values (tensor)[1], CompareOperator.EQ, 2.5);
        assert_true (tensor.get_data_address () == (uint64) (size_t) values);
        assert_cmpuint (owner.ref_count, CompareOperator.GT, 1);
        tensor = null;
        assert_cmpuint (owner.ref_count, CompareOperator.EQ, 1);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_file_empty () {
    foreach (var file in new ST.File[] { new ST.File (), (ST.File) Object.new (typeof (ST.File)) }) {
        assert_cmpuint (file.get_n_tensors (), CompareOperator.EQ, 0);
        assert_cmpint (file.dup_names_sorted ().length, CompareOperator.EQ, 0);
        assert_cmpint (file.dup_names_in_file_order ().length, CompareOperator.EQ, 0);
        assert_false (file.has_metadata ());
        assert_null (file.get_tensor ("x"));
        assert_false (file.contains ("x"));
        assert_cmpuint ((uint) file.get_header_size (), CompareOperator.EQ, 0);
        assert_cmpuint ((uint) file.get_data_size (), CompareOperator.EQ, 0);
        assert_true (file.get_data_address () == 0);
        try {
            uint8[] canonical;
            FileUtils.get_data (fixture ("canonical/empty_file.safetensors"), out canonical);
            assert_true (file.save_to_bytes ().compare (new GLib.Bytes (canonical)) == 0);
        } catch (GLib.Error e) {
            error ("%s", e.message);
        }
    }
}

void test_file_tensors () {
    try {
        var file = make_model ();
        assert_true (file.contains ("mask"));
        var ordered = file.dup_names_in_file_order ();
        assert_cmpstr (ordered[0], CompareOperator.EQ, "embed.weight");
        assert_cmpstr (ordered[2], CompareOperator.EQ, "mask");
        var replacement = new ST.Tensor (ST.DType.BOOL, { 3 }, new GLib.Bytes ({ 0, 0, 1 }));
        file.set_tensor ("embed.weight", replacement);
        assert_cmpstr (file.dup_names_in_file_order ()[0], CompareOperator.EQ, "embed.weight");
        assert_true (file.get_tensor ("embed.weight").equal (replacement));
        assert_true (file.lookup_tensor ("mask") == file.get_tensor ("mask"));
        uint64 begin, end;
        assert_false (file.get_tensor_offsets ("mask", out begin, out end));
        assert_true (file.remove_tensor ("mask"));
        assert_false (file.remove_tensor ("mask"));
        assert_cmpuint (file.get_n_tensors (), CompareOperator.EQ, 2);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        make_model ().lookup_tensor ("nope");
        assert_not_reached ();
    } catch (ST.Error.NOT_FOUND e) {
        assert_true ("nope" in e.message);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        new ST.File ().set_tensor ("__metadata__", new ST.Tensor (ST.DType.U8, { 1 }, new GLib.Bytes ({ 1 })));
        assert_not_reached ();
    } catch (ST.Error.INVALID_NAME e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_file_layout () {
    try {
        var file = new ST.File.from_bytes (make_model ().save_to_bytes ());
        int64[]? layout = file.dup_layout ();
        assert_nonnull (layout);
        int at = 0;
        foreach (unowned string name in file.dup_names_in_file_order ()) {
            var tensor = file.get_tensor (name);
            uint64 begin, end;
            assert_true (file.get_tensor_offsets (name, out begin, out end));
            assert_true (layout[at] == tensor.get_dtype ());
            assert_true (layout[at + 1] == begin && layout[at + 2] == end);
            var n_dims = (int) layout[at + 3];
            assert_cmpint (n_dims, CompareOperator.EQ, (int) tensor.get_n_dims ());
            for (int i = 0; i < n_dims; i++)
                assert_true (layout[at + 4 + i] == tensor.get_shape ()[i]);
            at += 4 + n_dims;
        }
        assert_cmpint (at, CompareOperator.EQ, layout.length);
        assert_null (new ST.File ().dup_layout ());
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_file_set_tensor_from_data () {
    var owner = new GLib.Object ();
    float[] values = { 1.5f, 2.5f, 3.5f };
    var file = new ST.File ();
    try {
        file.set_tensor_from_data ("v", ST.DType.F32, { 3 }, (uint64) (size_t) values, 12, owner);
        assert_cmpuint (owner.ref_count, CompareOperator.GT, 1);
        assert_true (file.get_tensor ("v").get_data_address () == (uint64) (size_t) values);
        assert_cmpfloat (float_values (file.get_tensor ("v"))[2], CompareOperator.EQ, 3.5);
        var reloaded = new ST.File.from_bytes (file.save_to_bytes ());
        assert_cmpfloat (float_values (reloaded.get_tensor ("v"))[0], CompareOperator.EQ, 1.5);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        file.set_tensor_from_data ("w", ST.DType.F32, { 4 }, (uint64) (size_t) values, 12, owner);
        assert_not_reached ();
    } catch (ST.Error.SIZE_MISMATCH e) {
        assert_false (file.contains ("w"));
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    file = null;
    assert_cmpuint (owner.ref_count, CompareOperator.EQ, 1);
}

void test_file_metadata () {
    var file = new ST.File ();
    file.set_metadata_value ("a", "1");
    assert_cmpstr (file.dup_metadata ().lookup ("a"), CompareOperator.EQ, "1");
    file.set_metadata_value ("a", null);
    assert_null (file.get_metadata_value ("a"));
    var table = new HashTable<string, string> (str_hash, str_equal);
    table.insert ("x", "y");
    file.set_metadata (table);
    table.insert ("x", "changed");
    assert_cmpstr (file.get_metadata_value ("x"), CompareOperator.EQ, "y");
    file.set_metadata (null);
    assert_false (file.has_metadata ());
    file.set_metadata (new HashTable<string, string> (str_hash, str_equal));
    try {
        var reloaded = new ST.File.from_bytes (file.save_to_bytes ());
        assert_true (reloaded.has_metadata ());
        assert_cmpuint (reloaded.dup_metadata ().size (), CompareOperator.EQ, 0);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

void test_file_path () {
    var dir = make_temp_dir ();
    var path = Path.build_filename (dir, "model.safetensors");
    try {
        assert_true (make_model ().save_to_path (path));
        var file = new ST.File.from_path (path);
        check_model (file);
        uint8[] contents;
        FileUtils.get_data (path, out contents);
        uint64 n = 0;
        for (int i = 7; i >= 0; i--)
            n = (n << 8) | contents[i];
        assert_true (file.get_header_size () == n);
        assert_true (n % 8 == 0);
        assert_true (file.get_data_size () == 24 + 24 + 2);
        uint64 begin, end;
        assert_true (file.get_tensor_offsets ("embed.weight", out begin, out end));
        assert_true (end - begin == 24);
        // Zero copy: the tensor's data is inside the file's mapped data buffer.
        assert_true (file.get_tensor ("embed.weight").get_data_address () == file.get_data_address () + begin);
        assert_true (Memory.cmp (file.get_tensor ("embed.weight").get_data (), (uint8*) contents + 8 + n + begin, 24) == 0);

        // Save over the very file the tensors are mapped from.
        file.set_metadata_value ("format", "np");
        file.save_to_path (path);
        var again = new ST.File.from_path (path);
        assert_cmpstr (again.get_metadata_value ("format"), CompareOperator.EQ, "np");
        assert_cmpfloat (float_values (again.get_tensor ("embed.weight"))[5], CompareOperator.EQ, 2.5);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        new ST.File.from_path (Path.build_filename (dir, "missing.safetensors"));
        assert_not_reached ();
    } catch (IOError.NOT_FOUND e) {
        assert_true ("missing.safetensors" in e.message);
    } catch (FileError.NOENT e) {
        assert_true ("missing.safetensors" in e.message);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    FileUtils.unlink (path);
    remove_dir (dir);
}

void test_file_bytes_and_streams () {
    try {
        var bytes = make_model ().save_to_bytes ();
        check_model (new ST.File.from_bytes (bytes));
        assert_true (bytes.compare (make_model ().save_to_bytes ()) == 0);
        assert_true (new ST.File.from_bytes (bytes).save_to_bytes ().compare (bytes) == 0);

        var output = new MemoryOutputStream.resizable ();
        assert_true (make_model ().save_to_stream (output));
        output.close ();
        var streamed = output.steal_as_bytes ();
        assert_true (streamed.compare (bytes) == 0);
        check_model (new ST.File.from_stream (new MemoryInputStream.from_bytes (streamed)));

        var dir = make_temp_dir ();
        var gfile = GLib.File.new_for_path (Path.build_filename (dir, "g.safetensors"));
        assert_true (make_model ().save_to_gfile (gfile));
        check_model (new ST.File.from_gfile (gfile));
        FileUtils.unlink (gfile.get_path ());
        remove_dir (dir);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

async void async_round_trip (string dir) throws GLib.Error {
    var path = Path.build_filename (dir, "async.safetensors");
    assert_true (yield make_model ().save_to_path_async (path));
    check_model (yield new ST.File.from_path_async (path));
    assert_true (yield make_model ().save_to_path_async (path, ST.SaveFlags.SYNC));
    check_model (yield new ST.File.from_path_async (path, ST.LoadFlags.NO_MMAP));
    check_model (new ST.File.from_path_full (path, ST.LoadFlags.NO_MMAP));
    check_model (yield new ST.File.from_gfile_async (GLib.File.new_for_path (path)));

    /* The progress of an async sharded save runs in this thread, from the main loop. */
    var shards = Path.build_filename (dir, "shards");
    DirUtils.create (shards, 0755);
    var self_thread = Thread.self<void*> ();
    assert_true (yield make_model ().save_sharded_async (shards, "model", 30, ST.SaveFlags.NONE, null, (done, total) => {
        assert_true (Thread.self<void*> () == self_thread);
        assert_true (done <= total);
    }));
    /* The index read in a worker thread, then its shards checked and opened there too. */
    var index = yield new ST.Index.from_path_async (Path.build_filename (shards, "model.safetensors.index.json"));
    assert_true (yield index.validate_async ());
    var first = index.dup_shard_names ()[0];
    var opened = yield index.open_shard_async (first);
    assert_true (opened == index.open_shard (first));
    assert_cmpuint (opened.get_n_tensors (), CompareOperator.EQ, index.dup_shard_tensor_names (first).length);
    foreach (var shard in index.dup_shard_names ())
        FileUtils.unlink (Path.build_filename (shards, shard));
    FileUtils.unlink (Path.build_filename (shards, "model.safetensors.index.json"));
    DirUtils.remove (shards);

    var output = new MemoryOutputStream.resizable ();
    assert_true (yield make_model ().save_to_stream_async (output));
    output.close ();
    var input = new MemoryInputStream.from_bytes (output.steal_as_bytes ());
    check_model (yield new ST.File.from_stream_async (input));
    FileUtils.unlink (path);
}

void test_async () {
    var dir = make_temp_dir ();
    run_async ((done) => async_round_trip.begin (dir, (obj, result) => {
        try {
            async_round_trip.end (result);
        } catch (GLib.Error e) {
            error ("%s", e.message);
        }
        done (obj, result);
    }));
    remove_dir (dir);
}

async void async_cancelled (string dir) {
    var path = Path.build_filename (dir, "model.safetensors");
    var target = Path.build_filename (dir, "never.safetensors");
    var cancelled = new Cancellable ();
    cancelled.cancel ();
    try {
        make_model ().save_to_path (path);
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        yield new ST.File.from_path_async (path, ST.LoadFlags.NONE, cancelled);
        assert_not_reached ();
    } catch (IOError.CANCELLED e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        yield make_model ().save_to_path_async (target, ST.SaveFlags.NONE, cancelled);
        assert_not_reached ();
    } catch (IOError.CANCELLED e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    assert_false (FileUtils.test (target, FileTest.EXISTS));
    try {
        var input = new MemoryInputStream.from_bytes (make_model ().save_to_bytes ());
        yield new ST.File.from_stream_async (input, cancelled);
        assert_not_reached ();
    } catch (IOError.CANCELLED e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        yield make_model ().save_to_stream_async (new MemoryOutputStream.resizable (), cancelled);
        assert_not_reached ();
    } catch (IOError.CANCELLED e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    try {
        make_model ().save_to_path (target, ST.SaveFlags.NONE, cancelled);
        assert_not_reached ();
    } catch (IOError.CANCELLED e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    // Only the file saved above: no temporary file left behind.
    try {
        var d = Dir.open (dir);
        assert_cmpstr (d.read_name (), CompareOperator.EQ, "model.safetensors");
        assert_null (d.read_name ());
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    FileUtils.unlink (path);
}

void test_cancellation () {
    var dir = make_temp_dir ();
    run_async ((done) => async_cancelled.begin (dir, done));
    remove_dir (dir);
}

void expect_code (uint8[] data, int code, string what) {
    var bytes = new GLib.Bytes (data);
    try {
        new ST.File.from_bytes (bytes);
        error ("%s: loaded from bytes", what);
    } catch (GLib.Error e) {
        if (!(e is ST.Error) || e.code != code)
            error ("%s: expected ST.Error code %d, got %s %d: %s", what, code, e.domain.to_string (), e.code, e.message);
    }
    try {
        new ST.File.from_stream (new MemoryInputStream.from_bytes (bytes));
        error ("%s: loaded from a stream", what);
    } catch (GLib.Error e) {
        if (!(e is ST.Error) || e.code != code)
            error ("%s (stream): expected ST.Error code %d, got %s %d: %s", what, code, e.domain.to_string (), e.code, e.message);
    }
}

void test_hostile () {
    expect_code (new uint8[5], ST.Error.HEADER_TOO_SMALL, "five bytes");
    expect_code (header_bytes ("""{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}""", 8),
                 ST.Error.INVALID_DTYPE, "unknown dtype");
    expect_code (header_bytes ("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8),
                 ST.Error.INVALID_SHAPE, "negative shape");
    expect_code (header_bytes ("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9]}}""", 9),
                 ST.Error.INVALID_OFFSETS, "offsets and size disagree");
    expect_code (header_bytes ("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 7),
                 ST.Error.INCOMPLETE_BUFFER, "truncated data");
    expect_code (header_bytes ("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 9),
                 ST.Error.INCOMPLETE_BUFFER, "trailing bytes");
    expect_code (header_bytes ("""{"__metadata__":{"k":1}}""", 0), ST.Error.INVALID_METADATA, "metadata value");
    expect_code (header_bytes ("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2),
                 ST.Error.DUPLICATE_NAME, "duplicate name");
    expect_code (header_bytes ("""{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}""", 2),
                 ST.Error.MISALIGNED_SUB_BYTE, "three F4 values");
    expect_code (header_bytes ("""{/*c*/}""", 0), ST.Error.INVALID_HEADER, "a comment");

    // The typed catch clause of Vala's errordomain.
    try {
        new ST.File.from_bytes (new GLib.Bytes (new uint8[3]));
        assert_not_reached ();
    } catch (ST.Error.HEADER_TOO_SMALL e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

/* Every shared fixture, as manifest.json describes it. */
void test_fixtures () {
    var parser = new Json.Parser ();
    try {
        parser.load_from_file (fixture ("manifest.json"));
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    var manifest = parser.get_root ().get_object ();

    var valid = manifest.get_object_member ("valid");
    foreach (unowned string name in valid.get_members ()) {
        var entry = valid.get_object_member (name);
        try {
            var file = new ST.File.from_path (fixture (entry.get_string_member ("file")));
            var tensors = entry.get_object_member ("tensors");
            assert_cmpuint (file.get_n_tensors (), CompareOperator.EQ, tensors.get_size ());
            foreach (unowned string tname in tensors.get_members ()) {
                var t = tensors.get_object_member (tname);
                var tensor = file.lookup_tensor (tname);
                assert_cmpstr (tensor.get_dtype ().to_string (), CompareOperator.EQ, t.get_string_member ("dtype"));
                var shape = t.get_array_member ("shape");
                unowned int64[] got = tensor.get_shape ();
                assert_cmpuint (got.length, CompareOperator.EQ, shape.get_length ());
                for (uint i = 0; i < shape.get_length (); i++)
                    assert_true (got[i] == shape.get_int_element (i));
                var offsets = t.get_array_member ("data_offsets");
                uint64 begin, end;
                assert_true (file.get_tensor_offsets (tname, out begin, out end));
                assert_true (begin == offsets.get_int_element (0) && end == offsets.get_int_element (1));
                var sha = Checksum.compute_for_bytes (ChecksumType.SHA256, tensor.get_bytes ());
                if (sha != t.get_string_member ("sha256"))
                    error ("valid/%s: tensor %s: sha256 %s, expected %s", name, tname, sha, t.get_string_member ("sha256"));
            }
            var metadata = entry.get_member ("metadata");
            if (metadata.is_null ()) {
                assert_false (file.has_metadata ());
            } else {
                var expected = metadata.get_object ();
                assert_cmpuint (file.dup_metadata ().size (), CompareOperator.EQ, expected.get_size ());
                foreach (unowned string key in expected.get_members ())
                    assert_cmpstr (file.get_metadata_value (key), CompareOperator.EQ, expected.get_string_member (key));
            }
            if (entry.has_member ("canonical")) {
                uint8[] canonical;
                FileUtils.get_data (fixture (entry.get_string_member ("canonical")), out canonical);
                if (file.save_to_bytes ().compare (new GLib.Bytes (canonical)) != 0)
                    error ("valid/%s: saving does not give %s", name, entry.get_string_member ("canonical"));
            }
        } catch (GLib.Error e) {
            error ("valid/%s: %s", name, e.message);
        }
    }

    var invalid = manifest.get_object_member ("invalid");
    foreach (unowned string name in invalid.get_members ()) {
        var path = fixture (invalid.get_object_member (name).get_string_member ("file"));
        try {
            new ST.File.from_path (path);
            error ("invalid/%s: loaded", name);
        } catch (GLib.Error e) {
            if (!(e is ST.Error))
                error ("invalid/%s: not an ST.Error: %s", name, e.message);
        }
        try {
            uint8[] data;
            FileUtils.get_data (path, out data);
            new ST.File.from_bytes (new GLib.Bytes (data));
            error ("invalid/%s: loaded from bytes", name);
        } catch (GLib.Error e) {
            if (!(e is ST.Error))
                error ("invalid/%s: not an ST.Error: %s", name, e.message);
        }
    }
}

void test_sharded () {
    var dir = make_temp_dir ();
    try {
        var model = make_model ();
        // Shards of at most 30 bytes: each F32/I64 tensor (24 bytes) gets a shard of its own.
        uint64 last_done = 0, last_total = 1;
        int calls = 0;
        assert_true (model.save_sharded (dir, "model", 30, ST.SaveFlags.NONE, null, (done, total) => {
            assert_true (done <= total);
            last_done = done;
            last_total = total;
            calls++;
        }));
        assert_cmpint (calls, CompareOperator.GT, 0);
        assert_true (last_done == last_total);
        var index = new ST.Index.from_path (Path.build_filename (dir, "model.safetensors.index.json"));
        assert_cmpuint (index.get_n_tensors (), CompareOperator.EQ, 3);
        assert_true (index.contains ("embed.weight"));
        assert_true (index.get_total_size () == 24 + 24 + 2);
        assert_true (index.validate (null));
        var shards = index.dup_shard_names ();
        assert_cmpint (shards.length, CompareOperator.GT, 1);
        assert_nonnull (index.get_shard_name ("mask"));
        var weight = index.dup_tensor ("embed.weight");
        assert_cmpfloat (float_values (weight)[5], CompareOperator.EQ, 2.5);
        var merged = index.merge (null);
        assert_cmpuint (merged.get_n_tensors (), CompareOperator.EQ, 3);
        uint64 bytes;
        assert_true (ST.parse_size ("1.5 KiB", out bytes));
        assert_true (bytes == 1536);
        assert_true (ST.parse_size ("5GB", out bytes));
        assert_true (bytes == 5000000000);
        foreach (unowned string shard in shards)
            FileUtils.unlink (Path.build_filename (dir, shard));
        FileUtils.unlink (Path.build_filename (dir, "model.safetensors.index.json"));
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
    remove_dir (dir);
    try {
        uint64 bytes;
        ST.parse_size ("lots", out bytes);
        assert_not_reached ();
    } catch (ST.Error.INVALID_SIZE e) {
    } catch (GLib.Error e) {
        error ("%s", e.message);
    }
}

/* Remote addresses from Vala, with `yield`: here the Hugging Face cache alone (HF_HUB_OFFLINE=1, set by
 * main() before any thread), laid out by hand as huggingface_hub lays it out. The network side is
 * tested in tests/http/. */
const string HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567";
string hub_cache;

async void async_hub () throws GLib.Error {
    var repo = Path.build_filename (hub_cache, "models--org--name");
    var snapshot = Path.build_filename (repo, "snapshots", HUB_COMMIT);
    var link = Path.build_filename (snapshot, "model.safetensors");
    DirUtils.create_with_parents (Path.build_filename (repo, "refs"), 0700);
    DirUtils.create_with_parents (Path.build_filename (repo, "blobs"), 0700);
    DirUtils.create_with_parents (snapshot, 0700);
    FileUtils.set_contents (Path.build_filename (repo, "refs", "main"), HUB_COMMIT);
    assert_true (make_model ().save_to_path (Path.build_filename (repo, "blobs", "etag")));
    assert_cmpint (FileUtils.symlink ("../../blobs/etag", link), CompareOperator.EQ, 0);

    var file = yield new ST.File.from_uri_async ("hf://org/name/model.safetensors");
    assert_false (file.is_remote ());
    check_model (file);
    assert_true (yield file.fetch_tensors_async (null));
    var rows = yield file.fetch_slice_async ("embed.weight", 1, 3);
    assert_cmpuint (rows.get_n_dims (), CompareOperator.EQ, 2);
    assert_cmpint ((int) rows.get_shape ()[0], CompareOperator.EQ, 2);
    unowned float[] values = (float[]) rows.get_data ();
    assert_cmpfloat (values[0], CompareOperator.EQ, 1.0f);
    assert_cmpfloat (values[3], CompareOperator.EQ, 2.5f);

    var path = yield ST.hub_download_async ("hf://org/name/model.safetensors");
    assert_cmpstr (path, CompareOperator.EQ, link);

    /* a sharded checkpoint in the snapshot: ST.Index from its address, with yield */
    var sharded = Path.build_filename (snapshot, "sharded");
    DirUtils.create_with_parents (sharded, 0700);
    assert_true (make_model ().save_sharded (sharded, "model", 30));
    var index = yield new ST.Index.from_uri_async ("hf://org/name/sharded/model.safetensors.index.json");
    assert_cmpuint (index.get_n_tensors (), CompareOperator.EQ, 3);
    assert_cmpstr (index.get_uri (), CompareOperator.EQ, "hf://org/name/sharded/model.safetensors.index.json");
    assert_cmpfloat (float_values (index.dup_tensor ("embed.weight"))[5], CompareOperator.EQ, 2.5);
    foreach (unowned string shard in index.dup_shard_names ())
        FileUtils.unlink (Path.build_filename (sharded, shard));
    FileUtils.unlink (Path.build_filename (sharded, "model.safetensors.index.json"));
    DirUtils.remove (sharded);

    /* a dataset's file: its own folder, datasets--org--name, as huggingface_hub names it */
    var data_repo = Path.build_filename (hub_cache, "datasets--org--name");
    var data_snapshot = Path.build_filename (data_repo, "snapshots", HUB_COMMIT);
    DirUtils.create_with_parents (Path.build_filename (data_repo, "refs"), 0700);
    DirUtils.create_with_parents (data_snapshot, 0700);
    FileUtils.set_contents (Path.build_filename (data_repo, "refs", "main"), HUB_COMMIT);
    assert_true (make_model ().save_to_path (Path.build_filename (data_snapshot, "data.safetensors")));
    var data = yield new ST.File.from_uri_async ("hf://datasets/org/name/data.safetensors");
    check_model (data);
    try {
        yield new ST.File.from_uri_async ("hf://spaces/org/name/data.safetensors");
        assert_not_reached ();
    } catch (IOError.NOT_FOUND e) {
    }
    FileUtils.unlink (Path.build_filename (data_snapshot, "data.safetensors"));
    DirUtils.remove (data_snapshot);
    DirUtils.remove (Path.build_filename (data_repo, "snapshots"));
    remove_dir (Path.build_filename (data_repo, "refs"));
    DirUtils.remove (data_repo);
    try {
        yield new ST.File.from_uri_async ("hf://org/name@v9/model.safetensors");
        assert_not_reached ();
    } catch (IOError.NOT_FOUND e) {
        assert_true ("HF_HUB_OFFLINE" in e.message);
    }
    try {
        yield new ST.File.from_uri_async ("hf://org-only/x");
        assert_not_reached ();
    } catch (IOError.INVALID_ARGUMENT e) {
    }
    FileUtils.unlink (link);
    DirUtils.remove (snapshot);
    DirUtils.remove (Path.build_filename (repo, "snapshots"));
    remove_dir (Path.build_filename (repo, "blobs"));
    remove_dir (Path.build_filename (repo, "refs"));
    DirUtils.remove (repo);
}

void test_hub () {
    run_async ((done) => async_hub.begin ((obj, result) => {
        try {
            async_hub.end (result);
        } catch (GLib.Error e) {
            error ("%s", e.message);
        }
        done (obj, result);
    }));
}

int main (string[] args) {
    Test.init (ref args);
    /* the environment of test_hub, before any thread */
    hub_cache = make_temp_dir ();
    Environment.set_variable ("HF_HUB_CACHE", hub_cache, true);
    Environment.set_variable ("HF_HUB_OFFLINE", "1", true);
    Environment.set_variable ("HF_ENDPOINT", "http://127.0.0.1:9", true);
    fixtures_dir = Environment.get_variable ("ST_FIXTURES_DIR");
    if (fixtures_dir == null)
        error ("ST_FIXTURES_DIR is not set");

    Test.add_func ("/vala/dtype/names-and-bits", test_dtypes);
    Test.add_func ("/vala/dtype/byte-counts", test_dtype_byte_counts);
    Test.add_func ("/vala/tensor/new-and-getters", test_tensor);
    Test.add_func ("/vala/tensor/errors", test_tensor_errors);
    Test.add_func ("/vala/tensor/object-new", test_tensor_default);
    Test.add_func ("/vala/tensor/from-data-keeps-owner", test_tensor_from_data);
    Test.add_func ("/vala/file/empty", test_file_empty);
    Test.add_func ("/vala/file/tensors", test_file_tensors);
    Test.add_func ("/vala/file/metadata", test_file_metadata);
    Test.add_func ("/vala/file/layout", test_file_layout);
    Test.add_func ("/vala/file/set-tensor-from-data", test_file_set_tensor_from_data);
    Test.add_func ("/vala/file/path", test_file_path);
    Test.add_func ("/vala/file/bytes-and-streams", test_file_bytes_and_streams);
    Test.add_func ("/vala/file/async", test_async);
    Test.add_func ("/vala/file/hub-cache", test_hub);
    Test.add_func ("/vala/file/cancellation", test_cancellation);
    Test.add_func ("/vala/file/hostile", test_hostile);
    Test.add_func ("/vala/fixtures", test_fixtures);
    Test.add_func ("/vala/index/sharded", test_sharded);
    var status = Test.run ();
    remove_dir (hub_cache);
    return status;
}
