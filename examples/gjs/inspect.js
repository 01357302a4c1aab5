// inspect.js: print what a safetensors file holds, with the first values of each tensor (GJS)
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0
//
// Run: gjs -m inspect.js model.safetensors
// The module is imported from ST_GJS_MODULE_DIR when set (the build tree), else from where it is
// installed: <datadir>/gjs-1.0/safetensors-glib-1.0/safetensors.js.

import GLib from 'gi://GLib';
import ST from 'gi://ST?version=1.0';
import System from 'system';

const moduleDir = GLib.getenv('ST_GJS_MODULE_DIR') ?? '/usr/share/gjs-1.0/safetensors-glib-1.0';
const Safetensors = await import(`file://${moduleDir}/safetensors.js`);

const MAX_SHOWN = 4;

function firstValues(tensor) {
    // JavaScript has no typed array for F16, BF16, C64 or the sub-byte floats: Safetensors.bytes(tensor)
    // gives their raw bytes.
    if (Safetensors.typedArrayClass(tensor.get_dtype()) === null)
        return '(raw)';
    // A view of the mapped file when the data is aligned for it, else a copy.
    const values = Safetensors.typedArray(tensor, {copy: true});
    // Float32 values widen to doubles in JavaScript: show them with 6 significant digits, as C's %g.
    const isFloat = values instanceof Float32Array || values instanceof Float64Array;
    const shown = Array.from(values.subarray(0, MAX_SHOWN),
        v => isFloat ? String(Number(v.toPrecision(6))) : String(v));
    if (values.length > MAX_SHOWN)
        shown.push('...');
    return shown.join(', ');
}

try {
    if (ARGV.length !== 1) {
        printerr('usage: gjs -m inspect.js FILE.safetensors');
        System.exit(2);
    }
    const file = ST.File.new_from_path(ARGV[0]);
    print(`${ARGV[0]}: ${file.get_n_tensors()} tensors`);
    for (const [key, value] of Object.entries(Safetensors.metadata(file)).sort())
        print(`  metadata ${key} = ${value}`);
    for (const name of file.dup_names_sorted()) {
        const tensor = file.get_tensor(name);
        const shape = `[${tensor.get_shape().join(', ')}]`;
        print(`  ${name.padEnd(12)} ${Safetensors.dtypeName(tensor.get_dtype()).padEnd(5)} ${shape.padEnd(10)} ` +
            firstValues(tensor));
    }
} catch (e) {
    printerr(e instanceof GLib.Error ? e.message : e);
    System.exit(1);
}
