// test-writer.js: ST.Writer through GJS: declared tensors written in chunks, same bytes as a whole save
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import ST from 'gi://ST?version=1.0';
import {test, run, assert, assertEqual, assertGError, tempDir} from './harness.js';

const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);

function readBytes(path) {
    const [ok, contents] = GLib.file_get_contents(path);
    assert(ok, `read ${path}`);
    return contents;
}

function sameBytes(a, b) {
    if (a.length !== b.length)
        return false;
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i])
            return false;
    }
    return true;
}

function listDir(path) {
    const names = [];
    const children = Gio.File.new_for_path(path).enumerate_children('standard::name',
        Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
    for (let info; (info = children.next_file(null)) !== null;)
        names.push(info.get_name());
    children.close(null);
    return names.sort();
}

test('chunks in any order give the bytes of a whole-file save', () => {
    const weight = new Float32Array(300).map((_, i) => i / 7);
    const ids = new BigInt64Array([1n, -2n, 3n]);
    const file = new ST.File();
    file.set_tensor('weight', Safetensors.tensorFromTypedArray(weight, [100, 3]));
    file.set_tensor('ids', Safetensors.tensorFromTypedArray(ids, [3]));
    file.set_metadata_value('format', 'pt');

    const dir = tempDir();
    const path = GLib.build_filenamev([dir, 'streamed.safetensors']);
    const writer = new ST.Writer();
    writer.add_tensor('weight', ST.DType.F32, [100, 3]);
    writer.add_tensor('ids', ST.DType.I64, [3]);
    writer.set_metadata_value('format', 'pt');
    writer.open(path, ST.SaveFlags.NONE, null);

    const weightBytes = new Uint8Array(weight.buffer);
    writer.write('ids', new Uint8Array(ids.buffer));
    for (let i = 0; i < weightBytes.length; i += 128)
        writer.write('weight', weightBytes.subarray(i, i + 128));
    assertEqual(writer.get_bytes_written(), writer.get_size(), 'bytes written');
    writer.finish();

    const expected = file.save_to_bytes().toArray();
    assert(sameBytes(readBytes(path), expected), 'same bytes as save_to_bytes');
    assertEqual(listDir(dir).join(','), 'streamed.safetensors', 'nothing else in the folder');
});

test('GBytes chunks, and an incomplete tensor leaves the target', () => {
    const dir = tempDir();
    const path = GLib.build_filenamev([dir, 'target.safetensors']);
    GLib.file_set_contents(path, 'old');
    const writer = new ST.Writer();
    writer.add_tensor('a', ST.DType.U8, [4]);
    writer.open(path, ST.SaveFlags.NONE, null);
    writer.write_bytes('a', new GLib.Bytes(new Uint8Array([1, 2, 3])));
    assertGError(() => writer.write('a', new Uint8Array([4, 5])), ST.Error, ST.Error.SIZE_MISMATCH, 'overlong');
    assertEqual(writer.get_tensor_remaining('a'), 1, 'remaining');
    assertGError(() => writer.finish(), ST.Error, ST.Error.SIZE_MISMATCH, 'finish');
    assertEqual(new TextDecoder().decode(readBytes(path)), 'old', 'target untouched');
    assertEqual(listDir(dir).join(','), 'target.safetensors', 'no debris');
    assertGError(() => writer.write('a', new Uint8Array([4])), Gio.IOErrorEnum, Gio.IOErrorEnum.CLOSED, 'closed');
});

test('a cancelled writer leaves nothing', () => {
    const dir = tempDir();
    const path = GLib.build_filenamev([dir, 'new.safetensors']);
    const cancellable = new Gio.Cancellable();
    const writer = new ST.Writer();
    writer.add_tensor('a', ST.DType.U8, [2]);
    writer.open(path, ST.SaveFlags.NONE, cancellable);
    cancellable.cancel();
    assertGError(() => writer.write('a', new Uint8Array([1, 2])), Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED,
        'cancelled');
    assertEqual(listDir(dir).length, 0, 'empty folder');
});

await run();
