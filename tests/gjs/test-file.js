// test-file.js: ST.File through GJS: load, save, lookup, metadata, async, cancellation, errors
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import ST from 'gi://ST?version=1.0';
import System from 'system';
import {
    test, run, assert, assertEqual, assertArrayEqual, assertGError, assertRejects, tempDir,
} from './harness.js';

const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);
const FIXTURES = GLib.getenv('ST_FIXTURES_DIR');
const fixture = relative => GLib.build_filenamev([FIXTURES, relative]);

/** A file with three tensors of different dtypes and two metadata entries. */
function makeModel() {
    const file = new ST.File();
    file.set_tensor('embed.weight', Safetensors.tensorFromTypedArray(
        new Float32Array([0, 0.5, 1, 1.5, 2, 2.5]), [3, 2]));
    file.set_tensor('embed.ids', Safetensors.tensorFromTypedArray(new BigInt64Array([7n, -8n, 9n]), [3]));
    file.set_tensor('mask', Safetensors.tensorFromTypedArray(new Uint8Array([1, 0]), [2], ST.DType.BOOL));
    file.set_metadata_value('format', 'pt');
    file.set_metadata_value('note', 'quotes " and \\ and ünïcödé');
    return file;
}

function checkModel(file, what) {
    assertEqual(file.get_n_tensors(), 3, `${what}: n_tensors`);
    assertArrayEqual(file.dup_names_sorted(), ['embed.ids', 'embed.weight', 'mask'], `${what}: names sorted`);
    // In a saved file the data is ordered by dtype (widest first), then by name.
    assertArrayEqual(file.dup_names_in_file_order(), ['embed.ids', 'embed.weight', 'mask'], `${what}: file order`);
    assertArrayEqual(Safetensors.typedArray(file.get_tensor('embed.weight')), [0, 0.5, 1, 1.5, 2, 2.5],
        `${what}: F32 values`);
    assertArrayEqual(file.get_tensor('embed.weight').get_shape(), [3, 2], `${what}: shape`);
    assertArrayEqual(Safetensors.typedArray(file.get_tensor('embed.ids')), [7n, -8n, 9n], `${what}: I64`);
    assertEqual(file.get_tensor('mask').get_dtype(), ST.DType.BOOL, `${what}: BOOL`);
    assertEqual(file.get_metadata_value('format'), 'pt', `${what}: metadata format`);
    assertEqual(file.get_metadata_value('note'), 'quotes " and \\ and ünïcödé', `${what}: metadata note`);
    assertEqual(sortedJSON(Safetensors.metadata(file)),
        sortedJSON({format: 'pt', note: 'quotes " and \\ and ünïcödé'}), `${what}: metadata()`);
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

/** An object's entries sorted by key, as JSON: for comparing maps regardless of order. */
function sortedJSON(object) {
    return JSON.stringify(Object.entries(object).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

function bytesEqual(a, b) {
    const x = a instanceof GLib.Bytes ? a.toArray() : a;
    const y = b instanceof GLib.Bytes ? b.toArray() : b;
    return x.length === y.length && x.every((v, i) => v === y[i]);
}

test('an empty file: new ST.File() and ST.File.new()', () => {
    for (const file of [new ST.File(), ST.File.new()]) {
        assertEqual(file.get_n_tensors(), 0, 'n_tensors');
        assertArrayEqual(file.dup_names_sorted(), [], 'names');
        assertArrayEqual(file.dup_names_in_file_order(), [], 'ordered names');
        assertEqual(file.has_metadata(), false, 'no metadata');
        assertEqual(JSON.stringify(file.dup_metadata()), '{}', 'an empty table, never null');
        assertEqual(file.get_header_size(), 0, 'header size');
        assertEqual(file.get_data_size(), 0, 'data size');
        assertEqual(file.get_data_address(), 0, 'data address');
        assertEqual(file.get_tensor('x'), null, 'get_tensor of nothing');
        assert(!file.contains('x'), 'contains');
        assert(bytesEqual(file.save_to_bytes(), GLib.file_get_contents(
            fixture('canonical/empty_file.safetensors'))[1]), 'saves as Hugging Face does');
    }
});

test('set, replace, look up and remove tensors', () => {
    const file = makeModel();
    assert(file.contains('mask'), 'contains');
    assertArrayEqual(file.dup_names_in_file_order(), ['embed.weight', 'embed.ids', 'mask'], 'insertion order');
    const replacement = Safetensors.tensorFromTypedArray(new Uint8Array([0, 0, 1]), [3], ST.DType.BOOL);
    file.set_tensor('embed.weight', replacement);
    assertArrayEqual(file.dup_names_in_file_order(), ['embed.weight', 'embed.ids', 'mask'], 'replaced in place');
    assert(file.get_tensor('embed.weight').equal(replacement), 'replaced');
    assert(file.lookup_tensor('mask').equal(file.get_tensor('mask')), 'lookup_tensor');
    const e = assertGError(() => file.lookup_tensor('nope'), ST.Error, ST.Error.NOT_FOUND, 'lookup_tensor');
    assert(e.message.includes('nope'), `the message names the tensor: ${e.message}`);
    assert(file.remove_tensor('mask'), 'remove_tensor');
    assert(!file.remove_tensor('mask'), 'remove_tensor twice');
    assertEqual(file.get_n_tensors(), 2, 'n_tensors after remove');
    assertGError(() => file.set_tensor('__metadata__', replacement), ST.Error, ST.Error.INVALID_NAME,
        '__metadata__ as a name');
    // Tensors built in memory have no offsets in a source.
    const [found] = [].concat(file.get_tensor_offsets('embed.ids'));
    assertEqual(found, false, 'no offsets before saving');
});

test('metadata: set, replace, remove, whole table', () => {
    const file = new ST.File();
    file.set_metadata_value('a', '1');
    assertEqual(JSON.stringify(file.dup_metadata()), '{"a":"1"}', 'created by set_metadata_value');
    file.set_metadata_value('a', '2');
    assertEqual(file.get_metadata_value('a'), '2', 'replaced');
    file.set_metadata_value('a', null);
    assertEqual(file.get_metadata_value('a'), null, 'removed by a null value');
    file.set_metadata({x: 'y', z: ''});
    assertEqual(sortedJSON(Safetensors.metadata(file)), sortedJSON({x: 'y', z: ''}), 'set_metadata');
    file.set_metadata(null);
    assertEqual(file.has_metadata(), false, 'set_metadata(null)');
    file.set_metadata({});
    const reloaded = ST.File.new_from_bytes(file.save_to_bytes());
    assert(reloaded.has_metadata(), 'an empty table is kept as "__metadata__":{}');
    assertEqual(Object.keys(reloaded.dup_metadata()).length, 0, 'and stays empty');
});

test('save to and load from a path, zero-copy, with offsets and header size', () => {
    const path = GLib.build_filenamev([tempDir(), 'model.safetensors']);
    assert(makeModel().save_to_path(path, ST.SaveFlags.NONE, null), 'save_to_path');
    const file = ST.File.new_from_path(path, null);
    checkModel(file, 'from path');
    const [, contents] = GLib.file_get_contents(path);
    const n = Number(new DataView(contents.buffer, contents.byteOffset, 8).getBigUint64(0, true));
    assertEqual(file.get_header_size(), n, 'header size is N');
    assertEqual(n % 8, 0, 'the header is padded to 8 bytes');
    assertEqual(file.get_data_size(), 24 + 24 + 2, 'data size');
    assert(file.get_data_address() !== 0, 'data address');
    const [found, begin, end] = file.get_tensor_offsets('embed.weight');
    assert(found, 'offsets found');
    assertEqual(end - begin, 24, 'offsets span the tensor');
    assertEqual(file.get_tensor('embed.weight').get_data_address(), file.get_data_address() + begin,
        'the tensor points into the mapping (no copy)');
    assert(bytesEqual(Safetensors.bytes(file.get_tensor('embed.weight')),
        contents.subarray(8 + n + begin, 8 + n + end)), 'the bytes are those of the file');
});

test('writing into a tensor loaded from a path does not change the file', () => {
    const path = GLib.build_filenamev([tempDir(), 'cow.safetensors']);
    makeModel().save_to_path(path, ST.SaveFlags.NONE, null);
    const before = GLib.file_get_contents(path)[1];
    const file = ST.File.new_from_path(path, null);
    Safetensors.typedArray(file.get_tensor('embed.weight'))[0] = 42;
    assertEqual(Safetensors.typedArray(file.get_tensor('embed.weight'))[0], 42, 'visible in memory');
    assert(bytesEqual(GLib.file_get_contents(path)[1], before), 'the file is unchanged');
});

test('a typed array keeps the mapping alive after the file and tensor are gone', () => {
    const path = GLib.build_filenamev([tempDir(), 'alive.safetensors']);
    makeModel().save_to_path(path, ST.SaveFlags.NONE, null);
    const view = (() => Safetensors.typedArray(ST.File.new_from_path(path, null).get_tensor('embed.weight')))();
    System.gc();
    GLib.unlink(path);
    System.gc();
    assertArrayEqual(view, [0, 0.5, 1, 1.5, 2, 2.5], 'values still readable');
});

test('a file whose header leaves F32 data misaligned: views refused, copies on request', () => {
    // A valid file written by some other tool: the header length is 1 mod 4, so the data of an F32
    // tensor starts at an odd offset of the (page-aligned) mapping.
    let json = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    while ((json.length % 4) !== 1)
        json += ' ';
    const text = new TextEncoder().encode(json);
    const data = new Uint8Array(8 + text.length + 8);
    const view = new DataView(data.buffer);
    view.setBigUint64(0, BigInt(text.length), true);
    data.set(text, 8);
    view.setFloat32(8 + text.length, 0.25, true);
    view.setFloat32(8 + text.length + 4, -4, true);
    const path = GLib.build_filenamev([tempDir(), 'misaligned.safetensors']);
    GLib.file_set_contents(path, data);

    const tensor = ST.File.new_from_path(path, null).get_tensor('x');
    assert(tensor.get_data_address() % 4 !== 0, 'the data is misaligned');
    let error = null;
    try {
        Safetensors.typedArray(tensor);
    } catch (e) {
        error = e;
    }
    assert(error instanceof Error && /not aligned/.test(error.message), `refused: ${error?.message}`);
    assertArrayEqual(Safetensors.typedArray(tensor, {copy: true}), [0.25, -4], 'copied values');
    assertEqual(Safetensors.bytes(tensor).length, 8, 'raw bytes are always available');
    // Saving it again writes an aligned, canonical file.
    const again = ST.File.new_from_bytes(ST.File.new_from_path(path, null).save_to_bytes());
    assertArrayEqual(Safetensors.typedArray(again.get_tensor('x')), [0.25, -4], 'aligned after a save');
});

test('saving over the very file the tensors are mapped from', () => {
    const path = GLib.build_filenamev([tempDir(), 'same.safetensors']);
    makeModel().save_to_path(path, ST.SaveFlags.NONE, null);
    const file = ST.File.new_from_path(path, null);
    file.set_metadata_value('format', 'np');
    file.save_to_path(path, ST.SaveFlags.NONE, null);
    const again = ST.File.new_from_path(path, null);
    assertEqual(again.get_metadata_value('format'), 'np', 'new metadata');
    assertArrayEqual(Safetensors.typedArray(again.get_tensor('embed.weight')), [0, 0.5, 1, 1.5, 2, 2.5],
        'data intact');
});

test('save to and load from GLib.Bytes; the output is reproducible', () => {
    const bytes = makeModel().save_to_bytes();
    checkModel(ST.File.new_from_bytes(bytes), 'from bytes');
    checkModel(Safetensors.loadBytes(bytes), 'loadBytes(GLib.Bytes)');
    checkModel(Safetensors.loadBytes(bytes.toArray()), 'loadBytes(Uint8Array)');
    assert(bytesEqual(bytes, makeModel().save_to_bytes()), 'same input, same bytes');
    assert(bytesEqual(ST.File.new_from_bytes(bytes).save_to_bytes(), bytes), 'load + save is identity');
});

test('save to a Gio.OutputStream and load from a Gio.InputStream', () => {
    const out = Gio.MemoryOutputStream.new_resizable();
    assert(makeModel().save_to_stream(out, null), 'save_to_stream');
    out.close(null);
    const bytes = out.steal_as_bytes();
    assert(bytesEqual(bytes, makeModel().save_to_bytes()), 'stream bytes equal save_to_bytes');
    checkModel(ST.File.new_from_stream(Gio.MemoryInputStream.new_from_bytes(bytes), null), 'from stream');
});

test('save to and load from a Gio.File', () => {
    const gfile = Gio.File.new_for_path(GLib.build_filenamev([tempDir(), 'g.safetensors']));
    assert(makeModel().save_to_gfile(gfile, null), 'save_to_gfile');
    checkModel(ST.File.new_from_gfile(gfile, null), 'from GFile');
    const missing = Gio.File.new_for_path(GLib.build_filenamev([tempDir(), 'missing.safetensors']));
    assertGError(() => ST.File.new_from_gfile(missing, null), Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND,
        'a missing GFile');
});

test('a missing path is Gio.IOErrorEnum.NOT_FOUND naming the path', () => {
    const path = GLib.build_filenamev([tempDir(), 'nowhere.safetensors']);
    let error = null;
    try {
        ST.File.new_from_path(path, null);
    } catch (e) {
        error = e;
    }
    assert(error instanceof GLib.Error, 'a GLib.Error');
    assert(error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND) ||
        error.matches(GLib.FileError, GLib.FileError.NOENT), `not found: ${error.message}`);
    assert(error.message.includes('nowhere.safetensors'), `the message names the path: ${error.message}`);
});

test('saving into a missing directory fails with a Gio.IOErrorEnum error', () => {
    const path = GLib.build_filenamev([tempDir(), 'no', 'such', 'dir', 'x.safetensors']);
    assertGError(() => makeModel().save_to_path(path, ST.SaveFlags.NONE, null), Gio.IOErrorEnum, undefined, 'save_to_path');
});

test('loadAsync and saveAsync resolve', async () => {
    const path = GLib.build_filenamev([tempDir(), 'async.safetensors']);
    assertEqual(await Safetensors.saveAsync(makeModel(), path), true, 'saveAsync');
    checkModel(await Safetensors.loadAsync(path), 'loadAsync');
    checkModel(await Safetensors.loadAsync(path, new Gio.Cancellable()), 'loadAsync with a cancellable');
});

test('loadStreamAsync and saveStreamAsync resolve', async () => {
    const out = Gio.MemoryOutputStream.new_resizable();
    assertEqual(await Safetensors.saveStreamAsync(makeModel(), out, null), true, 'saveStreamAsync');
    out.close(null);
    const bytes = out.steal_as_bytes();
    checkModel(await Safetensors.loadStreamAsync(Gio.MemoryInputStream.new_from_bytes(bytes)),
        'loadStreamAsync');
});

test('a cancelled Gio.Cancellable rejects every async call with CANCELLED', async () => {
    const dir = tempDir();
    const path = GLib.build_filenamev([dir, 'model.safetensors']);
    makeModel().save_to_path(path, ST.SaveFlags.NONE, null);
    const cancelled = new Gio.Cancellable();
    cancelled.cancel();
    const {CANCELLED} = Gio.IOErrorEnum;
    await assertRejects(Safetensors.loadAsync(path, cancelled), Gio.IOErrorEnum, CANCELLED, 'loadAsync');
    const target = GLib.build_filenamev([dir, 'never.safetensors']);
    await assertRejects(Safetensors.saveAsync(makeModel(), target, cancelled), Gio.IOErrorEnum, CANCELLED,
        'saveAsync');
    assert(!GLib.file_test(target, GLib.FileTest.EXISTS), 'a cancelled save leaves no file');
    const input = Gio.MemoryInputStream.new_from_bytes(makeModel().save_to_bytes());
    await assertRejects(Safetensors.loadStreamAsync(input, cancelled), Gio.IOErrorEnum, CANCELLED,
        'loadStreamAsync');
    await assertRejects(Safetensors.saveStreamAsync(makeModel(), Gio.MemoryOutputStream.new_resizable(),
        cancelled), Gio.IOErrorEnum, CANCELLED, 'saveStreamAsync');
    assertGError(() => makeModel().save_to_path(target, ST.SaveFlags.NONE, cancelled), Gio.IOErrorEnum, CANCELLED,
        'save_to_path');
    assert(!GLib.file_test(target, GLib.FileTest.EXISTS), 'still no file');
    assertArrayEqual(listDir(dir), ['model.safetensors'], 'no temporary file is left behind');
});

test('a cancellation while loading is reported and leaves the caller running', async () => {
    // The load reads from cat, which is given the header and one byte of the data and then nothing
    // more: the load cannot finish, so the cancellation is its only way out (a load that could finish
    // first would race the cancel, and accepting either outcome would test nothing).
    const bytes = makeModel().save_to_bytes().toArray();
    const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    const cat = Gio.Subprocess.new(['cat'], Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
    const stdin = cat.get_stdin_pipe();
    stdin.write_all(bytes.subarray(0, headerEnd + 1), null);
    stdin.flush(null);
    const cancellable = new Gio.Cancellable();
    const promise = Safetensors.loadStreamAsync(cat.get_stdout_pipe(), cancellable);
    cancellable.cancel();
    await assertRejects(promise, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'loadStreamAsync of a stream that stalls');
    // The caller runs on: the same stream's writer is still there, and a whole file still loads.
    stdin.close(null);
    cat.wait(null);
    checkModel(ST.File.new_from_bytes(new GLib.Bytes(bytes)), 'a load after the cancelled one');
});

test('hostile input: errors in the ST.Error domain with their codes, sync and async', async () => {
    const header = json => {
        const text = new TextEncoder().encode(json);
        const out = new Uint8Array(8 + text.length);
        new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
        out.set(text, 8);
        return out;
    };
    const withData = (json, n) => {
        const h = header(json);
        const out = new Uint8Array(h.length + n);
        out.set(h);
        return out;
    };
    const cases = [
        [new Uint8Array(5), ST.Error.HEADER_TOO_SMALL, 'five bytes'],
        [header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}').subarray(0, 20),
            ST.Error.HEADER_TOO_LARGE, 'header past the end'],
        [withData('{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}', 8), ST.Error.INVALID_DTYPE,
            'unknown dtype'],
        [withData('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', 8), ST.Error.INVALID_SHAPE,
            'negative shape'],
        [withData('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9]}}', 9), ST.Error.INVALID_OFFSETS,
            'offsets that disagree with the size'],
        [withData('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 7), ST.Error.INCOMPLETE_BUFFER,
            'truncated data'],
        [withData('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 9), ST.Error.INCOMPLETE_BUFFER,
            'trailing bytes'],
        [withData('{"__metadata__":{"k":1}}', 0), ST.Error.INVALID_METADATA, 'metadata not a string'],
        [withData('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},' +
            '"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', 2), ST.Error.DUPLICATE_NAME,
        'duplicate name'],
        [withData('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', 2), ST.Error.MISALIGNED_SUB_BYTE,
            'three F4 values'],
        [withData('{/*c*/}', 0), ST.Error.INVALID_HEADER, 'a comment'],
        [withData('[]', 0), ST.Error.INVALID_HEADER, 'an array'],
    ];
    const dir = tempDir();
    for (const [data, code, what] of cases) {
        const bytes = new GLib.Bytes(data);
        assertGError(() => ST.File.new_from_bytes(bytes), ST.Error, code, `${what} (bytes)`);
        assertGError(() => ST.File.new_from_stream(Gio.MemoryInputStream.new_from_bytes(bytes), null),
            ST.Error, code, `${what} (stream)`);
        const path = GLib.build_filenamev([dir, 'hostile.safetensors']);
        GLib.file_set_contents(path, data);
        assertGError(() => ST.File.new_from_path(path, null), ST.Error, code, `${what} (path)`);
        await assertRejects(Safetensors.loadAsync(path), ST.Error, code, `${what} (loadAsync)`);
        await assertRejects(Safetensors.loadStreamAsync(Gio.MemoryInputStream.new_from_bytes(bytes)),
            ST.Error, code, `${what} (loadStreamAsync)`);
    }
});

test('an empty file on disk is ST.Error.HEADER_TOO_SMALL', () => {
    const path = GLib.build_filenamev([tempDir(), 'empty.safetensors']);
    GLib.file_set_contents(path, new Uint8Array(0));
    assertGError(() => ST.File.new_from_path(path, null), ST.Error, ST.Error.HEADER_TOO_SMALL, 'empty file');
});

test('dup_layout describes every tensor in one array, in file order', () => {
    const file = ST.File.new_from_bytes(makeModel().save_to_bytes());
    const layout = file.dup_layout();
    const names = file.dup_names_in_file_order();
    let at = 0;
    for (const name of names) {
        const tensor = file.get_tensor(name);
        const [, begin, end] = file.get_tensor_offsets(name);
        assertEqual(layout[at], tensor.get_dtype(), `${name}: dtype`);
        assertArrayEqual([layout[at + 1], layout[at + 2]], [begin, end], `${name}: offsets`);
        const nDims = layout[at + 3];
        assertArrayEqual(layout.slice(at + 4, at + 4 + nDims), tensor.get_shape(), `${name}: shape`);
        at += 4 + nDims;
    }
    assertEqual(at, layout.length, 'records end to end');
    // A tensor set since loading has no offsets in the loaded data.
    file.set_tensor('new', Safetensors.tensorFromTypedArray(new Int8Array([1])));
    const again = file.dup_layout();
    assertArrayEqual(again.slice(again.length - 5), [ST.DType.I8, -1, -1, 1, 1], 'a new tensor');
    assertEqual((new ST.File().dup_layout() ?? []).length, 0, 'no tensors: nothing');
});

test('set_tensor_from_data stores a tensor over memory another object owns', () => {
    const source = Safetensors.tensorFromTypedArray(new Float32Array([1, 2, 3, 4]), [2, 2]);
    const file = new ST.File();
    assert(file.set_tensor_from_data('shared', ST.DType.F32, [4], source.get_data_address(),
        source.get_n_bytes(), source), 'set_tensor_from_data');
    const shared = file.get_tensor('shared');
    assertEqual(shared.get_data_address(), source.get_data_address(), 'no copy');
    assertArrayEqual(Safetensors.typedArray(shared), [1, 2, 3, 4], 'values');
    assertArrayEqual(shared.get_shape(), [4], 'its own shape');
    assertGError(() => file.set_tensor_from_data('bad', ST.DType.F32, [5], source.get_data_address(),
        source.get_n_bytes(), source), ST.Error, ST.Error.SIZE_MISMATCH, 'five floats over 16 bytes');
    assert(!file.contains('bad'), 'unchanged on failure');
});

test('NO_MMAP and SYNC: loadAsync, loadGFileAsync and saveAsync with flags', async () => {
    const path = GLib.build_filenamev([tempDir(), 'flags.safetensors']);
    assert(await Safetensors.saveAsync(makeModel(), path, null, ST.SaveFlags.SYNC), 'saveAsync SYNC');
    checkModel(await Safetensors.loadAsync(path, null, ST.LoadFlags.NO_MMAP), 'loadAsync NO_MMAP');
    checkModel(await Safetensors.loadGFileAsync(Gio.File.new_for_path(path)), 'loadGFileAsync');
    checkModel(ST.File.new_from_path_full(path, ST.LoadFlags.NO_MMAP, null), 'new_from_path_full');
});

test('saveShardedAsync reports progress on the main loop and writes an index', async () => {
    const dir = tempDir();
    const progress = [];
    const file = makeModel();
    assert(await Safetensors.saveShardedAsync(file, dir, 'model', 30,
        {progress: (done, total) => progress.push([done, total])}), 'saveShardedAsync');
    // The reports are idles of the main loop: let the last ones run.
    while (GLib.MainContext.default().iteration(false))
        ;
    assert(progress.length >= 2, `progress reported per shard (${progress.length})`);
    assertEqual(progress[progress.length - 1][0], progress[progress.length - 1][1], 'ends at the total');
    const index = ST.Index.new_from_path(GLib.build_filenamev([dir, 'model.safetensors.index.json']), null);
    // Merged shard by shard, then saved: the file order is the writer's again.
    checkModel(ST.File.new_from_bytes(index.merge(null).save_to_bytes()), 'merged back');
});

test('the tensors() iterator gives [name, tensor] in file order', () => {
    const file = ST.File.new_from_bytes(makeModel().save_to_bytes());
    const seen = [...Safetensors.tensors(file)];
    assertArrayEqual(seen.map(([name]) => name), file.dup_names_in_file_order(), 'names');
    for (const [name, tensor] of seen)
        assert(tensor.equal(file.get_tensor(name)), `tensor ${name}`);
});

await run();
