// test-fixtures.js: every shared fixture through GJS, as tests/fixtures/manifest.json describes it
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import ST from 'gi://ST?version=1.0';
import {test, run, assert, assertEqual, assertArrayEqual, assertGError, assertRejects} from './harness.js';

const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);
const FIXTURES = GLib.getenv('ST_FIXTURES_DIR');
const fixture = relative => GLib.build_filenamev([FIXTURES, relative]);
const readBytes = relative => new GLib.Bytes(GLib.file_get_contents(fixture(relative))[1]);
const manifest = JSON.parse(new TextDecoder().decode(GLib.file_get_contents(fixture('manifest.json'))[1]));

function sha256(tensor) {
    return GLib.compute_checksum_for_bytes(GLib.ChecksumType.SHA256, tensor.get_bytes());
}

function checkValid(file, entry, what) {
    const expected = entry.tensors;
    assertEqual(file.get_n_tensors(), Object.keys(expected).length, `${what}: n_tensors`);
    const sorted = Object.keys(expected).sort((a, b) => {
        const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
        for (let i = 0; i < Math.min(x.length, y.length); i++) {
            if (x[i] !== y[i])
                return x[i] - y[i];
        }
        return x.length - y.length;
    });
    assertArrayEqual(file.dup_names_sorted(), sorted, `${what}: names sorted by bytes`);
    const byBegin = Object.keys(expected).sort((a, b) =>
        expected[a].data_offsets[0] - expected[b].data_offsets[0] ||
        expected[a].data_offsets[1] - expected[b].data_offsets[1]);
    // File order is the order of the data: the offsets, read in that order, are the manifest's sorted by
    // begin (tensors with equal offsets, empty ones, may come in any order among themselves), and it
    // names every tensor once.
    const inFileOrder = file.dup_names_in_file_order();
    const offsetsOf = names => JSON.stringify(names.map(n => expected[n].data_offsets));
    assertEqual(offsetsOf(inFileOrder), offsetsOf(byBegin), `${what}: names in file order`);
    assertArrayEqual([...inFileOrder].sort(), Object.keys(expected).sort(), `${what}: file order names each tensor`);
    for (const [name, t] of Object.entries(expected)) {
        const tensor = file.lookup_tensor(name);
        assertEqual(ST.dtype_to_string(tensor.get_dtype()), t.dtype, `${what}/${name}: dtype`);
        assertArrayEqual(tensor.get_shape(), t.shape, `${what}/${name}: shape`);
        assertEqual(tensor.get_n_dims(), t.shape.length, `${what}/${name}: n_dims`);
        assertEqual(tensor.get_n_bytes(), t.data_offsets[1] - t.data_offsets[0], `${what}/${name}: n_bytes`);
        assertEqual(sha256(tensor), t.sha256, `${what}/${name}: sha256 of the data`);
        const [found, begin, end] = file.get_tensor_offsets(name);
        assert(found, `${what}/${name}: has offsets`);
        assertArrayEqual([begin, end], t.data_offsets, `${what}/${name}: data_offsets`);
        // Every dtype either has a typed array sharing the memory or says to use bytes().
        if (Safetensors.typedArrayClass(tensor.get_dtype())) {
            const values = Safetensors.typedArray(tensor, {copy: true});
            assertEqual(values.length, tensor.get_n_elements(), `${what}/${name}: typed array length`);
        }
        assertEqual(Safetensors.bytes(tensor).length, tensor.get_n_bytes(), `${what}/${name}: bytes()`);
    }
    const metadata = Safetensors.metadata(file);
    if (entry.metadata === null)
        assertEqual(file.has_metadata(), false, `${what}: no metadata`);
    else
        assertEqual(JSON.stringify(Object.entries(metadata).sort()), JSON.stringify(Object.entries(entry.metadata).sort()),
            `${what}: metadata`);
}

function bytesEqual(a, b) {
    const x = a.toArray(), y = b.toArray();
    return x.length === y.length && x.every((v, i) => v === y[i]);
}

for (const [name, entry] of Object.entries(manifest.valid)) {
    test(`valid/${name} loads from a path, bytes and a stream with the manifest's tensors`, async () => {
        checkValid(ST.File.new_from_path(fixture(entry.file), null), entry, 'path');
        checkValid(ST.File.new_from_bytes(readBytes(entry.file)), entry, 'bytes');
        checkValid(ST.File.new_from_stream(Gio.MemoryInputStream.new_from_bytes(readBytes(entry.file)), null),
            entry, 'stream');
        checkValid(await Safetensors.loadAsync(fixture(entry.file)), entry, 'loadAsync');
    });
    if (entry.canonical) {
        test(`valid/${name} saves as ${entry.canonical}, byte for byte`, async () => {
            const canonical = readBytes(entry.canonical);
            const file = ST.File.new_from_path(fixture(entry.file), null);
            assert(bytesEqual(file.save_to_bytes(), canonical), 'save_to_bytes');
            // In a canonical file every tensor is aligned to its element size: views need no copy.
            const canonicalFile = ST.File.new_from_bytes(canonical);
            for (const [tname, tensor] of Safetensors.tensors(canonicalFile)) {
                if (Safetensors.typedArrayClass(tensor.get_dtype()))
                    assertEqual(Safetensors.typedArray(tensor).length, tensor.get_n_elements(), `view of ${tname}`);
            }
            const out = Gio.MemoryOutputStream.new_resizable();
            await Safetensors.saveStreamAsync(file, out);
            out.close(null);
            assert(bytesEqual(out.steal_as_bytes(), canonical), 'saveStreamAsync');
        });
    }
}

for (const [name, entry] of Object.entries(manifest.invalid)) {
    test(`invalid/${name} fails in the ST.Error domain from a path, bytes and a stream`, async () => {
        assertEqual(entry.expect, 'error', 'the manifest expects an error');
        assertGError(() => ST.File.new_from_path(fixture(entry.file), null), ST.Error, undefined, 'path');
        assertGError(() => ST.File.new_from_bytes(readBytes(entry.file)), ST.Error, undefined, 'bytes');
        assertGError(() => ST.File.new_from_stream(Gio.MemoryInputStream.new_from_bytes(readBytes(entry.file)),
            null), ST.Error, undefined, 'stream');
        await assertRejects(Safetensors.loadAsync(fixture(entry.file)), ST.Error, undefined, 'loadAsync');
    });
}

// The codes of the hostile fixtures whose failure class is beyond doubt.
const CODES = {
    too_small: 'HEADER_TOO_SMALL',
    header_too_large: 'HEADER_TOO_LARGE',
    header_len_past_eof: 'HEADER_TOO_LARGE',
    header_not_utf8: 'INVALID_HEADER',
    header_array: 'INVALID_HEADER',
    json_comment: 'INVALID_HEADER',
    json_trailing_comma: 'INVALID_HEADER',
    missing_shape: 'INVALID_HEADER',
    dtype_unknown: 'INVALID_DTYPE',
    shape_negative: 'INVALID_SHAPE',
    shape_float: 'INVALID_SHAPE',
    shape_string: 'INVALID_SHAPE',
    offsets_hole: 'INVALID_OFFSETS',
    offsets_overlap: 'INVALID_OFFSETS',
    offsets_size_mismatch: 'INVALID_OFFSETS',
    data_truncated: 'INCOMPLETE_BUFFER',
    metadata_int_value: 'INVALID_METADATA',
    duplicate_name_diff_offsets: 'DUPLICATE_NAME',
    duplicate_name_same_offsets: 'DUPLICATE_NAME',
    sub_byte_misaligned: 'MISALIGNED_SUB_BYTE',
};

test('hostile fixtures fail with the code of their failure class', () => {
    for (const [name, code] of Object.entries(CODES)) {
        const entry = manifest.invalid[name];
        assert(entry, `the manifest lists invalid/${name}`);
        assertGError(() => ST.File.new_from_bytes(readBytes(entry.file)), ST.Error, ST.Error[code],
            `invalid/${name}`);
    }
});

await run();
