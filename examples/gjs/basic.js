// basic.js: build a safetensors file, save it, load it back, read it, and reject a bad one (GJS)
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0
//
// Run: gjs -m basic.js [PATH]
// The module is imported from ST_GJS_MODULE_DIR when set (the build tree), else from where it is
// installed: <datadir>/gjs-1.0/safetensors-glib-1.0/safetensors.js.

import GLib from 'gi://GLib';
import ST from 'gi://ST?version=1.0';
import System from 'system';

const moduleDir = GLib.getenv('ST_GJS_MODULE_DIR') ?? '/usr/share/gjs-1.0/safetensors-glib-1.0';
const Safetensors = await import(`file://${moduleDir}/safetensors.js`);

function buildAndSave(path) {
    const file = new ST.File();
    file.set_tensor('layer.weight',
        Safetensors.tensorFromTypedArray(new Float32Array([0.5, -1, 2, 3.25, 0, -0.125]), [2, 3]));
    file.set_tensor('optimizer.steps', Safetensors.tensorFromTypedArray(new BigInt64Array([1000n]), []));
    file.set_tensor('layer.mask',
        Safetensors.tensorFromTypedArray(new Uint8Array([1, 0, 0, 1]), [4], ST.DType.BOOL));
    file.set_metadata_value('format', 'pt');
    file.set_metadata_value('description', 'a tiny example model');
    file.save_to_path(path, null);
}

function loadAndRead(path) {
    // The file is mapped, not read: typed arrays below are views of the mapping.
    const file = ST.File.new_from_path(path);
    print(`${path}: ${file.get_n_tensors()} tensors, header ${file.get_header_size()} bytes`);
    print('metadata:');
    for (const [key, value] of Object.entries(Safetensors.metadata(file)).sort())
        print(`  ${key} = ${value}`);
    print('tensors, in the order of their data:');
    for (const [name, tensor] of Safetensors.tensors(file)) {
        print(`  ${name.padEnd(16)} ${Safetensors.dtypeName(tensor.get_dtype()).padEnd(4)} ` +
            `shape ${`[${tensor.get_shape().join(', ')}]`.padEnd(8)} ${String(tensor.get_n_bytes()).padStart(3)} bytes`);
    }
    const weight = Safetensors.typedArray(file.lookup_tensor('layer.weight'));
    const [rows, cols] = file.get_tensor('layer.weight').get_shape();
    print('layer.weight =');
    for (let r = 0; r < rows; r++)
        print(`  [${Array.from(weight.subarray(r * cols, (r + 1) * cols), v => v.toFixed(3).padStart(8)).join(' ')}]`);
    const [steps] = Safetensors.typedArray(file.get_tensor('optimizer.steps'));
    print(`optimizer.steps = ${steps}`);
    return {weight: Array.from(weight), steps};
}

function rejectHostileFile() {
    // Two tensors claiming overlapping bytes.
    const header = new TextEncoder().encode('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
        '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}');
    const data = new Uint8Array(8 + header.length + 12);
    new DataView(data.buffer).setBigUint64(0, BigInt(header.length), true);
    data.set(header, 8);
    try {
        Safetensors.loadBytes(data);
    } catch (e) {
        if (e instanceof GLib.Error && e.matches(ST.Error, ST.Error.INVALID_OFFSETS)) {
            print(`a hostile file is rejected: ${e.message}`);
            return;
        }
        throw e;
    }
    throw new Error('the hostile file was not rejected');
}

try {
    const dir = ARGV[0] ? null : GLib.dir_make_tmp('st-example-XXXXXX');
    const path = ARGV[0] ?? GLib.build_filenamev([dir, 'model.safetensors']);
    buildAndSave(path);
    const {weight, steps} = loadAndRead(path);
    if (weight.join() !== '0.5,-1,2,3.25,0,-0.125' || steps !== 1000n)
        throw new Error('the values read back differ from those saved');
    rejectHostileFile();
    if (dir) {
        GLib.unlink(path);
        GLib.rmdir(dir);
    }
} catch (e) {
    printerr(`error: ${e.message}`);
    System.exit(1);
}
