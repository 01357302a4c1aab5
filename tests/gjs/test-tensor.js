// test-tensor.js: ST.Tensor, ST.DType and the typed-array helpers, through GJS
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import ST from 'gi://ST?version=1.0';
import {test, run, assert, assertEqual, assertArrayEqual, assertGError} from './harness.js';

const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);

const ALL_DTYPES = [
    ['BOOL', 8], ['F4', 4], ['F6_E2M3', 6], ['F6_E3M2', 6], ['U8', 8], ['I8', 8], ['F8_E5M2', 8],
    ['F8_E4M3', 8], ['F8_E8M0', 8], ['F8_E4M3FNUZ', 8], ['F8_E5M2FNUZ', 8], ['I16', 16], ['U16', 16],
    ['F16', 16], ['BF16', 16], ['I32', 32], ['U32', 32], ['F32', 32], ['C64', 64], ['F64', 64],
    ['I64', 64], ['U64', 64],
];

function dtypeFromString(name) {
    // (out) dtype with a gboolean return that throws: GJS returns only the out value.
    const result = ST.dtype_from_string(name);
    return Array.isArray(result) ? result[result.length - 1] : result;
}

test('every dtype has its safetensors name, its bit width, and parses back', () => {
    for (const [name, bits] of ALL_DTYPES) {
        const dtype = ST.DType[name];
        assert(dtype !== undefined, `ST.DType.${name} exists`);
        assertEqual(ST.dtype_to_string(dtype), name, `name of ST.DType.${name}`);
        assertEqual(Safetensors.dtypeName(dtype), name, 'dtypeName()');
        assertEqual(ST.dtype_get_bits(dtype), bits, `bits of ${name}`);
        assertEqual(dtypeFromString(name), dtype, `dtype_from_string('${name}')`);
    }
    assertEqual(ALL_DTYPES.map(([name]) => ST.DType[name]).join(),
        ALL_DTYPES.map((_, i) => i).join(), 'the enum is in Hugging Face\'s order');
});

test('an unknown or differently cased dtype name is ST.Error.INVALID_DTYPE', () => {
    for (const name of ['f32', 'FLOAT', '', 'F32 '])
        assertGError(() => ST.dtype_from_string(name), ST.Error, ST.Error.INVALID_DTYPE, `'${name}'`);
});

test('byte sizes: products of the shape, scalars, empty shapes, overflow, sub-byte', () => {
    const nBytes = (dtype, shape) => {
        const result = ST.dtype_compute_n_bytes(dtype, shape);
        return Array.isArray(result) ? result[result.length - 1] : result;
    };
    assertEqual(nBytes(ST.DType.F32, [2, 3]), 24, 'F32 [2, 3]');
    assertEqual(nBytes(ST.DType.F64, []), 8, 'F64 scalar');
    assertEqual(nBytes(ST.DType.I16, [0, 5000000000]), 0, 'an empty dimension');
    assertEqual(nBytes(ST.DType.F4, [2, 4]), 4, 'F4 [2, 4]');
    assertGError(() => ST.dtype_compute_n_bytes(ST.DType.F32, [4294967296, 4294967296]),
        ST.Error, ST.Error.INVALID_SHAPE, 'element count overflow');
    assertGError(() => ST.dtype_compute_n_bytes(ST.DType.F32, [-1]), ST.Error, ST.Error.INVALID_SHAPE,
        'negative dimension');
    assertGError(() => ST.dtype_compute_n_bytes(ST.DType.F4, [3]), ST.Error,
        ST.Error.MISALIGNED_SUB_BYTE, 'F4 [3] is 12 bits');
});

test('ST.Tensor.new keeps dtype, shape and bytes; the getters agree', () => {
    const data = new GLib.Bytes(new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer));
    const tensor = ST.Tensor.new(ST.DType.F32, [2, 3], data);
    assertEqual(tensor.get_dtype(), ST.DType.F32, 'dtype');
    assertArrayEqual(tensor.get_shape(), [2, 3], 'shape');
    assertEqual(tensor.get_n_dims(), 2, 'n_dims');
    assertEqual(tensor.get_n_elements(), 6, 'n_elements');
    assertEqual(tensor.get_n_bytes(), 24, 'n_bytes');
    assertEqual(tensor.get_bytes().get_size(), 24, 'bytes size');
    assertArrayEqual(tensor.get_data(), new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer),
        'get_data()');
    assert(tensor.get_data_address() !== 0, 'a data address');
    // GObject properties
    assertEqual(tensor.dtype, ST.DType.F32, 'dtype property');
    assertEqual(tensor.n_dims, 2, 'n-dims property');
    assertEqual(tensor.n_elements, 6, 'n-elements property');
    assertEqual(tensor.n_bytes, 24, 'n-bytes property');
    assertEqual(tensor.bytes.get_size(), 24, 'bytes property');
});

test('ST.Tensor.new rejects data of the wrong size with ST.Error.SIZE_MISMATCH', () => {
    const data = new GLib.Bytes(new Uint8Array(10));
    const e = assertGError(() => ST.Tensor.new(ST.DType.F32, [2, 3], data), ST.Error,
        ST.Error.SIZE_MISMATCH, '10 bytes for F32 [2, 3]');
    assert(/24/.test(e.message) && /10/.test(e.message), `the message gives both sizes: ${e.message}`);
    assertGError(() => ST.Tensor.new(ST.DType.F32, [-2], new GLib.Bytes(new Uint8Array(0))),
        ST.Error, ST.Error.INVALID_SHAPE, 'negative dimension');
});

test('a tensor made with new ST.Tensor() (g_object_new) is a valid empty F32 tensor', () => {
    const tensor = new ST.Tensor();
    assertEqual(tensor.get_dtype(), ST.DType.F32, 'dtype');
    assertArrayEqual(tensor.get_shape(), [0], 'shape');
    assertEqual(tensor.get_n_elements(), 0, 'n_elements');
    assertEqual(tensor.get_n_bytes(), 0, 'n_bytes');
    assertEqual(tensor.get_bytes().get_size(), 0, 'bytes');
    assertEqual(Safetensors.typedArray(tensor).length, 0, 'typed array');
});

test('scalars: shape [] holds one element', () => {
    const tensor = Safetensors.tensorFromTypedArray(new Float64Array([2.5]), []);
    assertEqual(tensor.get_n_dims(), 0, 'n_dims');
    assertArrayEqual(tensor.get_shape(), [], 'shape');
    assertEqual(tensor.get_n_elements(), 1, 'n_elements');
    assertArrayEqual(Safetensors.typedArray(tensor), [2.5], 'value');
});

test('empty tensors: a 0 in the shape, no bytes, an empty typed array', () => {
    const tensor = Safetensors.tensorFromTypedArray(new Float32Array(0), [0, 3]);
    assertArrayEqual(tensor.get_shape(), [0, 3], 'shape');
    assertEqual(tensor.get_n_elements(), 0, 'n_elements');
    assertEqual(tensor.get_n_bytes(), 0, 'n_bytes');
    const values = Safetensors.typedArray(tensor);
    assertEqual(values.constructor, Float32Array, 'kind');
    assertEqual(values.length, 0, 'length');
    assertEqual(Safetensors.bytes(tensor).length, 0, 'bytes');
});

test('st_tensor_equal compares dtype, shape and bytes', () => {
    const a = Safetensors.tensorFromTypedArray(new Int32Array([1, 2, 3, 4]), [2, 2]);
    const b = Safetensors.tensorFromTypedArray(new Int32Array([1, 2, 3, 4]), [2, 2]);
    assert(a.equal(b), 'same values');
    assert(!a.equal(Safetensors.tensorFromTypedArray(new Int32Array([1, 2, 3, 4]), [4])), 'other shape');
    assert(!a.equal(Safetensors.tensorFromTypedArray(new Uint32Array([1, 2, 3, 4]), [2, 2])), 'other dtype');
    assert(!a.equal(Safetensors.tensorFromTypedArray(new Int32Array([1, 2, 3, 5]), [2, 2])), 'other data');
});

test('tensorFromTypedArray infers the dtype from every kind of typed array', () => {
    const cases = [
        [new Uint8Array([1, 255]), 'U8', [1, 255]],
        [new Uint8ClampedArray([7, 8]), 'U8', [7, 8]],
        [new Int8Array([-1, 127]), 'I8', [-1, 127]],
        [new Int16Array([-300, 300]), 'I16', [-300, 300]],
        [new Uint16Array([65535, 1]), 'U16', [65535, 1]],
        [new Int32Array([-70000, 70000]), 'I32', [-70000, 70000]],
        [new Uint32Array([4294967295, 0]), 'U32', [4294967295, 0]],
        [new Float32Array([0.5, -1.25]), 'F32', [0.5, -1.25]],
        [new Float64Array([Math.PI, -0]), 'F64', [Math.PI, -0]],
        [new BigInt64Array([-(2n ** 63n), 42n]), 'I64', [-(2n ** 63n), 42n]],
        [new BigUint64Array([2n ** 64n - 1n, 0n]), 'U64', [2n ** 64n - 1n, 0n]],
    ];
    for (const [array, name, values] of cases) {
        const tensor = Safetensors.tensorFromTypedArray(array, [2]);
        assertEqual(ST.dtype_to_string(tensor.get_dtype()), name, `dtype for ${array.constructor.name}`);
        const back = Safetensors.typedArray(tensor);
        assertEqual(back.constructor, name === 'U8' ? Uint8Array : array.constructor, 'array kind');
        assertArrayEqual(back, values, `${name} values`);
        assertEqual(Safetensors.typedArrayClass(tensor.get_dtype()), back.constructor, 'typedArrayClass');
    }
});

test('tensorFromTypedArray: default shape, sub-arrays, explicit dtypes, wrong sizes', () => {
    const whole = new Float32Array([9, 1, 2, 3, 4, 9]);
    const middle = whole.subarray(1, 5);
    const tensor = Safetensors.tensorFromTypedArray(middle);
    assertArrayEqual(tensor.get_shape(), [4], 'default shape');
    assertArrayEqual(Safetensors.typedArray(tensor), [1, 2, 3, 4], 'only the sub-array');
    // The tensor holds a copy: changing the source afterwards does not change it.
    middle[0] = 100;
    assertEqual(Safetensors.typedArray(tensor)[0], 1, 'copied at creation');

    const bf16 = Safetensors.tensorFromTypedArray(new Uint16Array([0x3f80, 0xc000]), [2], ST.DType.BF16);
    assertEqual(bf16.get_dtype(), ST.DType.BF16, 'BF16 from raw bits');
    assertArrayEqual(Safetensors.bytes(bf16), [0x80, 0x3f, 0x00, 0xc0], 'little-endian raw bits');
    const bools = Safetensors.tensorFromTypedArray(new Uint8Array([1, 0, 1]), [3], ST.DType.BOOL);
    assertArrayEqual(Safetensors.typedArray(bools), [1, 0, 1], 'BOOL as Uint8Array');

    assertGError(() => Safetensors.tensorFromTypedArray(new Float32Array(5), [2, 3]), ST.Error,
        ST.Error.SIZE_MISMATCH, 'five floats for [2, 3]');
    assertGError(() => Safetensors.tensorFromTypedArray(new Uint8Array(3), [3], ST.DType.F16), ST.Error,
        ST.Error.SIZE_MISMATCH, 'three bytes for F16 [3]');
    let threw = false;
    try {
        Safetensors.tensorFromTypedArray([1, 2, 3], [3]);
    } catch (e) {
        threw = e instanceof TypeError;
    }
    assert(threw, 'a plain Array is a TypeError');
});

test('typedArray shares the tensor\'s memory (no copy)', () => {
    const tensor = Safetensors.tensorFromTypedArray(new Int32Array([1, 2, 3, 4]), [2, 2]);
    const view = Safetensors.typedArray(tensor);
    const again = Safetensors.typedArray(tensor);
    view[3] = 40;
    assertEqual(again[3], 40, 'two views see the same memory');
    assertEqual(new Int32Array(tensor.get_data().buffer)[3], 40, 'get_data() sees the write');
});

test('F16 and BF16 come as a converted Float32Array, edge values included', () => {
    // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0, inf, NaN
    const f16 = Safetensors.tensorFromTypedArray(
        new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x7e00]), [7], ST.DType.F16);
    assertEqual(Safetensors.typedArrayClass(ST.DType.F16), Float32Array, 'class for F16');
    const halves = Safetensors.typedArray(f16);
    assertEqual(halves.constructor, Float32Array, 'F16 gives a Float32Array');
    assertArrayEqual(halves.subarray(0, 4), [1, -2, 65504, 2 ** -24], 'F16 values');
    assert(Object.is(halves[4], -0), 'F16 negative zero');
    assertEqual(halves[5], Infinity, 'F16 infinity');
    assert(Number.isNaN(halves[6]), 'F16 NaN');

    // BF16: 1, -2, 3.140625, the largest (0x7f7f), -inf
    const bf16 = Safetensors.tensorFromTypedArray(new Uint16Array([0x3f80, 0xc000, 0x4049, 0x7f7f, 0xff80]),
        [5], ST.DType.BF16);
    assertEqual(Safetensors.typedArrayClass(ST.DType.BF16), Float32Array, 'class for BF16');
    assertArrayEqual(Safetensors.typedArray(bf16), [1, -2, 3.140625, 0xff * 2 ** 120, -Infinity], 'BF16 values');
    // A copy: writing into it does not change the tensor.
    const copy = Safetensors.typedArray(bf16);
    copy[0] = 5;
    assertEqual(Safetensors.typedArray(bf16)[0], 1, 'a converted copy');
});

test('floatValues converts any numeric dtype through the library, with start and count', () => {
    const f8 = Safetensors.tensorFromTypedArray(new Uint8Array([0x38, 0x7e, 0x7f, 0x80]), [4], ST.DType.F8_E4M3);
    const values = Safetensors.floatValues(f8);
    assertArrayEqual(values.subarray(0, 2), [1, 448], 'F8_E4M3');
    assert(Number.isNaN(values[2]), 'F8_E4M3 NaN');
    assert(Object.is(values[3], -0), 'F8_E4M3 -0');
    const f4 = Safetensors.tensorFromTypedArray(new Uint8Array([0x21, 0xf7]), [4], ST.DType.F4);
    assertArrayEqual(Safetensors.floatValues(f4), [0.5, 1, 6, -6], 'F4, low nibble first');
    assertArrayEqual(Safetensors.floatValues(f4, {start: 1, count: 2}), [1, 6], 'start and count');
    const ints = Safetensors.tensorFromTypedArray(new Int16Array([-3, 7]));
    assertArrayEqual(Safetensors.floatValues(ints), [-3, 7], 'I16');
    const c64 = Safetensors.tensorFromTypedArray(new Float32Array([1, 2]), [1], ST.DType.C64);
    assertGError(() => Safetensors.floatValues(c64), Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED, 'C64');
    assertGError(() => Safetensors.floatValues(ints, {start: 3}), Gio.IOErrorEnum,
        Gio.IOErrorEnum.INVALID_ARGUMENT, 'start past the end');
});

test('dtypes without a JavaScript array throw an Error naming the dtype and bytes()', () => {
    for (const name of ['C64', 'F4', 'F6_E2M3', 'F6_E3M2']) {
        const dtype = ST.DType[name];
        const nBytes = ST.dtype_get_bits(dtype) * 4 / 8;
        const tensor = Safetensors.tensorFromTypedArray(new Uint8Array(nBytes).fill(0x11), [4], dtype);
        assertEqual(Safetensors.typedArrayClass(dtype), null, `no class for ${name}`);
        let error = null;
        try {
            Safetensors.typedArray(tensor);
        } catch (e) {
            error = e;
        }
        assert(error instanceof Error, `${name}: throws`);
        assert(error.message.includes(name) && error.message.includes('bytes('),
            `${name}: the message names the dtype and bytes(): ${error.message}`);
        assertEqual(Safetensors.bytes(tensor).length, nBytes, `${name}: raw bytes`);
        assert(Safetensors.bytes(tensor).every(b => b === 0x11), `${name}: raw values`);
    }
});

test('8-bit floats come as Uint8Array of their bit patterns', () => {
    for (const name of ['F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ']) {
        const tensor = Safetensors.tensorFromTypedArray(new Uint8Array([0x38, 0x40]), [2], ST.DType[name]);
        const array = Safetensors.typedArray(tensor);
        assertEqual(array.constructor, Uint8Array, name);
        assertArrayEqual(array, [0x38, 0x40], `${name} bits`);
    }
});

test('misaligned data: typedArray refuses a view, copies when asked', () => {
    // Two F32 values starting one byte into a buffer: a tensor over a slice of GLib.Bytes.
    const backing = new Uint8Array(12);
    new DataView(backing.buffer).setFloat32(1, 1.5, true);
    new DataView(backing.buffer).setFloat32(5, -2, true);
    const all = new GLib.Bytes(backing);
    const tensor = ST.Tensor.new(ST.DType.F32, [2], all.new_from_bytes(1, 8));
    if (tensor.get_data_address() % 4 === 0)
        throw new Error('test setup: expected a misaligned slice');
    let error = null;
    try {
        Safetensors.typedArray(tensor);
    } catch (e) {
        error = e;
    }
    assert(error instanceof Error && /aligned/.test(error.message) && /copy/.test(error.message),
        `a clear error: ${error?.message}`);
    const copy = Safetensors.typedArray(tensor, {copy: true});
    assertEqual(copy.constructor, Float32Array, 'kind');
    assertArrayEqual(copy, [1.5, -2], 'copied values');
});

await run();
