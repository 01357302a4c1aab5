/* async.vala: load a file with `yield`, and cancel a load
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Build: valac --pkg safetensors-glib-1.0 async.vala
 * Run:   ./async [PATH]
 */

async ST.File load_cancelled (string path, Cancellable cancellable) throws GLib.Error {
    return yield new ST.File.from_path_async (path, cancellable);
}

async void run (string path) throws GLib.Error {
    // The load runs in a worker thread; the main loop stays free meanwhile.
    var file = yield new ST.File.from_path_async (path);
    stdout.printf ("first load: %u tensors: %s\n", file.get_n_tensors (), string.joinv (" ", file.dup_names_sorted ()));

    // Start another load and cancel it straight away.
    var cancellable = new Cancellable ();
    SourceFunc resume = run.callback;
    load_cancelled.begin (path, cancellable, (obj, result) => {
        try {
            load_cancelled.end (result);
            stdout.printf ("second load: finished before the cancellation reached it\n");
        } catch (IOError.CANCELLED e) {
            stdout.printf ("second load: cancelled, as asked (%s)\n", e.message);
        } catch (GLib.Error e) {
            printerr ("second load: unexpected error: %s\n", e.message);
            Process.exit (1);
        }
        resume ();
    });
    cancellable.cancel ();
    yield;
}

int main (string[] args) {
    var loop = new MainLoop ();
    int status = 0;
    string? dir = null;
    string path;

    try {
        if (args.length > 1) {
            path = args[1];
        } else {
            dir = DirUtils.make_tmp ("st-example-XXXXXX");
            path = Path.build_filename (dir, "async.safetensors");
            double[] values = { 1.0, 2.0, 3.0, 4.0 };
            // safetensors stores values little-endian, whatever the host: byte by byte
            var raw = new uint8[values.length * 8];
            for (int i = 0; i < values.length; i++) {
                uint64 bits = 0;
                Memory.copy (&bits, &values[i], sizeof (uint64));
                for (int b = 0; b < 8; b++)
                    raw[8 * i + b] = (uint8) (bits >> (8 * b));
            }
            var file = new ST.File ();
            file.set_tensor ("matrix", new ST.Tensor (ST.DType.F64, { 2, 2 }, new Bytes (raw)));
            file.save_to_path (path);
        }
    } catch (GLib.Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }

    run.begin (path, (obj, result) => {
        try {
            run.end (result);
        } catch (GLib.Error e) {
            printerr ("error: %s\n", e.message);
            status = 1;
        }
        loop.quit ();
    });
    loop.run ();

    if (dir != null) {
        FileUtils.unlink (path);
        DirUtils.remove (dir);
    }
    return status;
}
