// async.js: load a file with a Promise, and cancel a load (GJS)
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0
//
// Run: gjs -m async.js [PATH]
// gjs -m exits 0 when a Promise rejection goes unhandled: catch, and exit 1 yourself.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import ST from 'gi://ST?version=1.0';
import System from 'system';

const moduleDir = GLib.getenv('ST_GJS_MODULE_DIR') ?? '/usr/share/gjs-1.0/safetensors-glib-1.0';
const Safetensors = await import(`file://${moduleDir}/safetensors.js`);

async function main() {
    let path = ARGV[0];
    let dir = null;
    if (!path) {
        dir = GLib.dir_make_tmp('st-example-XXXXXX');
        path = GLib.build_filenamev([dir, 'async.safetensors']);
        const file = new ST.File();
        file.set_tensor('matrix', Safetensors.tensorFromTypedArray(new Float64Array([1, 2, 3, 4]), [2, 2]));
        await Safetensors.saveAsync(file, path);
    }

    // The load runs in a worker thread; the main loop stays free meanwhile.
    const file = await Safetensors.loadAsync(path);
    print(`first load: ${file.get_n_tensors()} tensors: ${file.dup_names_sorted().join(' ')}`);

    // Start another load and cancel it straight away.
    const cancellable = new Gio.Cancellable();
    const pending = Safetensors.loadAsync(path, cancellable);
    cancellable.cancel();
    try {
        await pending;
        print('second load: finished before the cancellation reached it');
    } catch (e) {
        if (!(e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED)))
            throw e;
        print(`second load: cancelled, as asked (${e.message})`);
    }

    if (dir) {
        GLib.unlink(path);
        GLib.rmdir(dir);
    }
}

try {
    await main();
} catch (e) {
    printerr(`error: ${e.message}`);
    System.exit(1);
}
