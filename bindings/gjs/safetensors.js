// safetensors.js: JavaScript helpers for safetensors-glib (GI namespace ST 1.0) under GJS
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0
//
// An ES module. Import it by its file URL (GJS resolves no bare names for third-party modules):
//
//   import ST from 'gi://ST?version=1.0';
//   import * as Safetensors from 'file:///usr/share/gjs-1.0/safetensors-glib-1.0/safetensors.js';
//
// or, when the location is only known at run time:
//
//   const Safetensors = await import(`file://${dir}/safetensors.js`);
//
// Everything the library does is in the ST namespace itself (ST.File, ST.Tensor, ST.DType, ST.Error).
// This module adds what JavaScript wants on top: typed arrays that share the tensors' memory, tensors
// made from typed arrays, and Promises for the asynchronous loads and saves.

import GLib from 'gi://GLib';
import ST from 'gi://ST?version=1.0';

// The typed array class for each dtype that JavaScript has one for. 8-bit floats and BOOL are bytes:
// their values are bit patterns that JavaScript cannot decode, so they come as Uint8Array.
const ARRAY_TYPES = new Map([
    [ST.DType.BOOL, Uint8Array],
    [ST.DType.U8, Uint8Array],
    [ST.DType.I8, Int8Array],
    [ST.DType.F8_E5M2, Uint8Array],
    [ST.DType.F8_E4M3, Uint8Array],
    [ST.DType.F8_E8M0, Uint8Array],
    [ST.DType.F8_E4M3FNUZ, Uint8Array],
    [ST.DType.F8_E5M2FNUZ, Uint8Array],
    [ST.DType.I16, Int16Array],
    [ST.DType.U16, Uint16Array],
    [ST.DType.I32, Int32Array],
    [ST.DType.U32, Uint32Array],
    [ST.DType.F32, Float32Array],
    [ST.DType.F64, Float64Array],
    [ST.DType.I64, BigInt64Array],
    [ST.DType.U64, BigUint64Array],
]);

// F16 and BF16 have no typed array: typedArray() gives their values converted to a Float32Array.
const CONVERTED_TO_FLOAT32 = new Set([ST.DType.F16, ST.DType.BF16]);

// Typed arrays use the host's byte order; safetensors data is little-endian.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// The dtype tensorFromTypedArray() gives each kind of typed array when none is named.
const DTYPES_BY_ARRAY = new Map([
    [Uint8Array, ST.DType.U8],
    [Uint8ClampedArray, ST.DType.U8],
    [Int8Array, ST.DType.I8],
    [Int16Array, ST.DType.I16],
    [Uint16Array, ST.DType.U16],
    [Int32Array, ST.DType.I32],
    [Uint32Array, ST.DType.U32],
    [Float32Array, ST.DType.F32],
    [Float64Array, ST.DType.F64],
    [BigInt64Array, ST.DType.I64],
    [BigUint64Array, ST.DType.U64],
]);

/**
 * The name safetensors gives a dtype in its header, such as `"F32"`.
 *
 * @param {ST.DType} dtype - an element type
 * @returns {string} its name
 */
export function dtypeName(dtype) {
    return ST.dtype_to_string(dtype);
}

/**
 * The bytes of a tensor as a Uint8Array that shares the tensor's memory (no copy). This works for
 * every dtype, including those JavaScript has no typed array for (F16, BF16, C64, F4, F6_*).
 *
 * For a tensor loaded from a path the memory is a private copy-on-write mapping of the file: writing
 * into the array never changes the file, but it does change what this tensor (and the file object it
 * came from) hold. The array keeps the memory alive on its own.
 *
 * @param {ST.Tensor} tensor - a tensor
 * @returns {Uint8Array} its bytes, row-major and little-endian
 */
export function bytes(tensor) {
    return tensor.get_bytes().toArray();
}

/**
 * The typed array class that typedArray() returns for a dtype: Float32Array for F16 and BF16 (a
 * converted copy), or null when there is none (C64 and the sub-byte floats F4, F6_E2M3, F6_E3M2).
 *
 * @param {ST.DType} dtype - an element type
 * @returns {?Function} Float32Array, BigInt64Array, Uint8Array, ... or null
 */
export function typedArrayClass(dtype) {
    if (CONVERTED_TO_FLOAT32.has(dtype))
        return Float32Array;
    return ARRAY_TYPES.get(dtype) ?? null;
}

/**
 * Elements of a tensor converted to a Float32Array by the library (st_tensor_dup_values_as_float),
 * whatever the dtype: F16, BF16, the 8-bit floats, F4, BOOL and the integers. Always a copy, in the
 * host's byte order. The rounding rules are those of ST.Tensor.dup_values_as_float: exact for every
 * dtype of 16 bits or fewer, nearest-even for the wider integers and F64.
 *
 * @param {ST.Tensor} tensor - a tensor
 * @param {object} [options] - options
 * @param {number} [options.start=0] - the first element, in row-major order
 * @param {number} [options.count] - the largest number of elements (default: all from start)
 * @returns {Float32Array} the values
 * @throws {GLib.Error} Gio.IOErrorEnum.NOT_SUPPORTED for C64, F6_E2M3 and F6_E3M2
 */
export function floatValues(tensor, {start = 0, count = Number.MAX_SAFE_INTEGER} = {}) {
    const bytes = tensor.dup_values_as_float_bytes(start, count).toArray();
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

// A copy of @raw with the bytes of each @size-byte element reversed: little-endian to big-endian.
function _swappedCopy(raw, size) {
    const copy = new Uint8Array(raw.byteLength);
    for (let i = 0; i < raw.byteLength; i += size) {
        for (let j = 0; j < size; j++)
            copy[i + j] = raw[i + size - 1 - j];
    }
    return copy;
}

/**
 * The values of a tensor as a typed array of the matching kind, sharing the tensor's memory:
 * Float32Array for F32, Float64Array for F64, Int8/16/32Array and Uint8/16/32Array for the integers,
 * BigInt64Array and BigUint64Array for I64 and U64, Uint8Array for BOOL (0 or 1) and for the 8-bit
 * floats (their raw bit patterns). The array is flat, in row-major order; use tensor.get_shape()
 * for the dimensions.
 *
 * F16 and BF16, which JavaScript has no array type for, come as a Float32Array of their values,
 * converted by the library (a copy, not a view). C64 and the sub-byte floats have no typed array:
 * for those this throws an Error naming the dtype; read their raw bytes with bytes(tensor), or the
 * values of F4 with floatValues(tensor).
 *
 * Typed arrays are in the host's byte order and safetensors data is little-endian: on a big-endian
 * host every multi-byte dtype comes as a converted copy (byte-swapped), never as a view.
 *
 * A typed array must start at a multiple of its element size. Files written by safetensors-glib or by
 * Hugging Face's safetensors always place tensors so; a file written by another tool may not. For such
 * a tensor this throws, unless `options.copy` is true: then (and only then) the values are copied into
 * a new, aligned array that no longer shares the tensor's memory.
 *
 * @param {ST.Tensor} tensor - a tensor
 * @param {object} [options] - options
 * @param {boolean} [options.copy=false] - copy the values when the data is not aligned for a view
 * @returns {Float32Array|Float64Array|Int8Array|Int16Array|Int32Array|Uint8Array|Uint16Array|Uint32Array|BigInt64Array|BigUint64Array}
 *   the tensor's values
 */
export function typedArray(tensor, options = {}) {
    const dtype = tensor.get_dtype();
    if (CONVERTED_TO_FLOAT32.has(dtype))
        return floatValues(tensor);
    const ArrayType = ARRAY_TYPES.get(dtype);
    if (!ArrayType) {
        throw new Error(`safetensors: JavaScript has no typed array for dtype ${dtypeName(dtype)}; ` +
            'use bytes(tensor) for its raw bytes');
    }
    const raw = bytes(tensor);
    const nElements = raw.byteLength / ArrayType.BYTES_PER_ELEMENT;
    const size = ArrayType.BYTES_PER_ELEMENT;
    if (size > 1 && !HOST_IS_LITTLE_ENDIAN)
        return new ArrayType(_swappedCopy(raw, size).buffer, 0, nElements);
    const address = tensor.get_data_address();
    // The address is a guint64 that arrives as a Number: exact for every address a process can have.
    if (size > 1 && nElements > 0 && (address % size !== 0 || raw.byteOffset % size !== 0)) {
        if (!options.copy) {
            throw new Error(`safetensors: the data of this ${dtypeName(dtype)} tensor is not aligned ` +
                `to ${size} bytes, so no ${ArrayType.name} can share it; ` +
                'pass {copy: true} to get a copy, or use bytes(tensor)');
        }
        const copy = new Uint8Array(raw.byteLength);
        copy.set(raw);
        return new ArrayType(copy.buffer, 0, nElements);
    }
    return new ArrayType(raw.buffer, raw.byteOffset, nElements);
}

/**
 * A new tensor holding a copy of a typed array's values (GJS cannot hand JavaScript memory to C
 * without a copy; the copy is made once, here).
 *
 * The dtype comes from the kind of array (Float32Array gives F32, BigInt64Array I64, Uint8Array U8,
 * ...) unless given. Any typed array may carry any dtype whose byte size matches: a Uint16Array of
 * raw bits for F16 or BF16, a Uint8Array for BOOL or the 8-bit floats.
 *
 * @param {ArrayBufferView} array - the values, row-major
 * @param {number[]} [shape] - the dimensions; default: one dimension of `array.length` elements
 * @param {ST.DType} [dtype] - the element type; default: the one matching the kind of array
 * @returns {ST.Tensor} the new tensor
 * @throws {GLib.Error} ST.Error.SIZE_MISMATCH when the array's byte length does not match the
 *   dtype and shape
 */
export function tensorFromTypedArray(array, shape, dtype) {
    if (!ArrayBuffer.isView(array) || array instanceof DataView)
        throw new TypeError('safetensors: tensorFromTypedArray() needs a typed array');
    if (dtype === undefined || dtype === null) {
        dtype = DTYPES_BY_ARRAY.get(array.constructor);
        if (dtype === undefined)
            throw new TypeError(`safetensors: no dtype for ${array.constructor.name}; name one`);
    }
    if (shape === undefined || shape === null)
        shape = [array.length];
    const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    return ST.Tensor.new(dtype, shape, new GLib.Bytes(view));
}

/**
 * The tensors of a file as [name, tensor] pairs, in the order of their data in the file (for a file
 * built in memory: the order they were added in).
 *
 * @param {ST.File} file - a file
 * @yields {Array} [name, tensor]
 */
export function* tensors(file) {
    for (const name of file.dup_names_in_file_order())
        yield [name, file.get_tensor(name)];
}

/**
 * The `__metadata__` of a file as a plain object of strings (empty when the file has none).
 *
 * @param {ST.File} file - a file
 * @returns {Object<string, string>} the metadata
 */
export function metadata(file) {
    // GJS 1.74 turns the utf8 keys of a returned GHashTable into strings one byte per character
    // (values are right): a key "été" arrives as "Ã©tÃ©". Decode such a key again as UTF-8, and
    // keep the result only when the file knows it, so that a GJS which gets keys right is unaffected.
    const decoder = new TextDecoder('utf-8', {fatal: true});
    const result = {};
    for (const [key, value] of Object.entries(file.dup_metadata())) {
        let name = key;
        if (file.get_metadata_value(key) === null && [...key].every(c => c.charCodeAt(0) < 256)) {
            try {
                const decoded = decoder.decode(Uint8Array.from(key, c => c.charCodeAt(0)));
                if (file.get_metadata_value(decoded) !== null)
                    name = decoded;
            } catch (e) {
                if (!(e instanceof TypeError))
                    throw e;
            }
        }
        result[name] = value;
    }
    return result;
}

function _finishInto(resolve, reject, finish) {
    try {
        resolve(finish());
    } catch (e) {
        reject(e);
    }
}

/**
 * Loads a safetensors file in a worker thread. The file is mapped, not read: the Promise resolves as
 * soon as the header is checked, and tensor data is paged in when it is used.
 *
 * A mapped file must not shrink while it is loaded: if another program truncates it, reading one of
 * its tensors afterwards kills the process with SIGBUS. Pass ST.LoadFlags.NO_MMAP for files that
 * other programs may rewrite, or on network file systems: the file is then read into memory whole.
 *
 * @param {string} path - the file's path
 * @param {?Gio.Cancellable} [cancellable] - cancels the load (the Promise rejects with
 *   Gio.IOErrorEnum.CANCELLED)
 * @param {ST.LoadFlags} [flags] - ST.LoadFlags.NO_MMAP to read instead of mapping
 * @returns {Promise<ST.File>} the loaded file; rejects with a GLib.Error in the ST.Error domain for an
 *   invalid file, or in the Gio.IOErrorEnum domain for an I/O failure
 */
export function loadAsync(path, cancellable = null, flags = ST.LoadFlags.NONE) {
    return new Promise((resolve, reject) => {
        ST.File.new_from_path_async(path, flags, cancellable, (_source, result) =>
            _finishInto(resolve, reject, () => ST.File.new_from_path_finish(result)));
    });
}

/**
 * Loads a safetensors file from a Gio.File in a worker thread: a local file is mapped as loadAsync()
 * does, any other is read through GIO.
 *
 * @param {Gio.File} file - the file to load
 * @param {?Gio.Cancellable} [cancellable] - cancels the load
 * @returns {Promise<ST.File>} the loaded file
 */
export function loadGFileAsync(file, cancellable = null) {
    return new Promise((resolve, reject) => {
        ST.File.new_from_gfile_async(file, cancellable, (_source, result) =>
            _finishInto(resolve, reject, () => ST.File.new_from_gfile_finish(result)));
    });
}

/**
 * Loads a safetensors file from an input stream in a worker thread. The stream must give the whole
 * file and nothing more; it is not closed.
 *
 * @param {Gio.InputStream} stream - the stream to read
 * @param {?Gio.Cancellable} [cancellable] - cancels the load
 * @returns {Promise<ST.File>} the loaded file
 */
export function loadStreamAsync(stream, cancellable = null) {
    return new Promise((resolve, reject) => {
        ST.File.new_from_stream_async(stream, cancellable, (_source, result) =>
            _finishInto(resolve, reject, () => ST.File.new_from_stream_finish(result)));
    });
}

/**
 * Saves a file in a worker thread, atomically: the data goes to a temporary file beside `path` that
 * replaces it only once complete. Do not change `file` until the Promise settles.
 *
 * @param {ST.File} file - the file to save
 * @param {string} path - where to save it
 * @param {?Gio.Cancellable} [cancellable] - cancels the save, leaving `path` untouched
 * @param {ST.SaveFlags} [flags] - ST.SaveFlags.SYNC to fsync the file and its folder before resolving
 * @returns {Promise<boolean>} resolves to true once saved
 */
export function saveAsync(file, path, cancellable = null, flags = ST.SaveFlags.NONE) {
    return new Promise((resolve, reject) => {
        file.save_to_path_async(path, flags, cancellable, (self, result) =>
            _finishInto(resolve, reject, () => self.save_to_path_finish(result)));
    });
}

/**
 * Saves a file as a sharded checkpoint (shards and an index, as transformers writes them) in a
 * worker thread. Every shard is written before any is renamed into place. `progress(done, total)`
 * (bytes of tensor data) runs on the main loop, so it may update a progress bar.
 *
 * @param {ST.File} file - the file to save
 * @param {string} directory - an existing directory
 * @param {string} prefix - the file names' prefix, usually 'model'
 * @param {number} maxShardSize - the largest sum of tensor bytes per shard
 * @param {object} [options] - `{cancellable, flags, progress}`
 * @returns {Promise<boolean>} resolves to true once saved
 */
export function saveShardedAsync(file, directory, prefix, maxShardSize,
    {cancellable = null, flags = ST.SaveFlags.NONE, progress = null} = {}) {
    return new Promise((resolve, reject) => {
        file.save_sharded_async(directory, prefix, maxShardSize, flags, cancellable, progress,
            (self, result) => _finishInto(resolve, reject, () => self.save_sharded_finish(result)));
    });
}

/**
 * Writes a file to an output stream in a worker thread. The stream is not closed. Do not change
 * `file` until the Promise settles.
 *
 * @param {ST.File} file - the file to save
 * @param {Gio.OutputStream} stream - where to write it
 * @param {?Gio.Cancellable} [cancellable] - cancels the write
 * @returns {Promise<boolean>} resolves to true once written
 */
export function saveStreamAsync(file, stream, cancellable = null) {
    return new Promise((resolve, reject) => {
        file.save_to_stream_async(stream, cancellable, (self, result) =>
            _finishInto(resolve, reject, () => self.save_to_stream_finish(result)));
    });
}

/**
 * Opens a sharded checkpoint in a worker thread: reads the index (as ST.Index.new_from_path_async),
 * then, unless `validate` is false, checks the whole checkpoint as ST.Index.validate_async does:
 * every shard opened (their headers; the data is mapped, not read) and checked, then the index's
 * total_size. The items of the index (a Gio.ListModel of ST.TensorInfo) then carry every tensor's
 * dtype, shape and offsets.
 *
 * @param {string} path - the index file, usually model.safetensors.index.json
 * @param {object} [options] - options
 * @param {?Gio.Cancellable} [options.cancellable] - cancels the open
 * @param {?Function} [options.progress] - called as (done, total) in bytes of shard files, on the
 *   main context of the caller (never from the worker), first with done 0, last with done === total,
 *   always before the Promise settles; never called when `validate` is false
 * @param {boolean} [options.validate] - open and check every shard too (the default), or read the
 *   index file only, as ST.Index.new_from_path does
 * @returns {Promise<ST.Index>} the index; rejects with a GLib.Error
 */
export async function openIndexAsync(path, {cancellable = null, progress = null, validate = true} = {}) {
    const index = await new Promise((resolve, reject) => {
        ST.Index.new_from_path_async(path, cancellable, (_source, result) =>
            _finishInto(resolve, reject, () => ST.Index.new_from_path_finish(result)));
    });
    if (validate)
        await validateIndexAsync(index, {cancellable, progress});
    return index;
}

/**
 * Checks a whole sharded checkpoint in a worker thread (see ST.Index.validate): every shard opened
 * and checked, then the index's total_size. The shards stay open.
 *
 * @param {ST.Index} index - an index
 * @param {object} [options] - options
 * @param {?Gio.Cancellable} [options.cancellable] - cancels the check
 * @param {?Function} [options.progress] - called as (done, total) in bytes of shard files on the
 *   caller's main context, first with done 0, last with done === total, before the Promise settles
 * @returns {Promise<boolean>} resolves to true when the checkpoint is consistent; rejects with the
 *   first problem as a GLib.Error
 */
export function validateIndexAsync(index, {cancellable = null, progress = null} = {}) {
    return new Promise((resolve, reject) => {
        index.validate_async(cancellable, progress, (self, result) =>
            _finishInto(resolve, reject, () => self.validate_finish(result)));
    });
}

/**
 * Opens one shard of a sharded checkpoint in a worker thread (see ST.Index.open_shard). The shard is
 * shared with the index and every other caller: read it, do not change it.
 *
 * @param {ST.Index} index - an index
 * @param {string} shardName - the shard's file name, as the weight map gives it
 * @param {?Gio.Cancellable} [cancellable] - cancels the open
 * @returns {Promise<ST.File>} the shard; rejects with a GLib.Error
 */
export function openShardAsync(index, shardName, cancellable = null) {
    return new Promise((resolve, reject) => {
        index.open_shard_async(shardName, cancellable, (self, result) =>
            _finishInto(resolve, reject, () => self.open_shard_finish(result)));
    });
}

/**
 * Merges all the tensors of a sharded checkpoint into one ST.File, in a worker thread, without
 * copying tensor data (see ST.Index.merge).
 *
 * @param {ST.Index} index - an index
 * @param {object} [options] - options
 * @param {?Gio.Cancellable} [options.cancellable] - cancels the merge
 * @param {?Function} [options.progress] - called as (done, total) on the caller's main context
 * @returns {Promise<ST.File>} the merged file; rejects with a GLib.Error
 */
export function mergeAsync(index, {cancellable = null, progress = null} = {}) {
    return new Promise((resolve, reject) => {
        index.merge_async(cancellable, progress, (self, result) =>
            _finishInto(resolve, reject, () => self.merge_finish(result)));
    });
}

/**
 * Opens a safetensors file where it lives (`https://`, `http://`, `hf://[datasets/|spaces/]ORG/NAME[@REVISION]/FILE`)
 * in a worker thread, reading its header only: names, dtypes, shapes, metadata and the list model
 * then need no network. Tensor data is fetched by range when asked for: with fetchTensorsAsync() or
 * fetchSliceAsync() without blocking; file.get_tensor() on a remote file blocks while it fetches.
 * The environment is read as huggingface_hub reads it (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE...).
 *
 * @param {string} uri - the address of the file
 * @param {?Gio.Cancellable} [cancellable] - cancels the open
 * @returns {Promise<ST.File>} the file; rejects with a GLib.Error (Gio.IOErrorEnum for the network,
 *   ST.Error for an invalid file)
 */
export function openUriAsync(uri, cancellable = null) {
    return new Promise((resolve, reject) => {
        ST.File.new_from_uri_async(uri, cancellable, (_source, result) =>
            _finishInto(resolve, reject, () => ST.File.new_from_uri_finish(result)));
    });
}

/**
 * Fetches the bytes of tensors of a remote file in worker threads: neighbouring tensors in one
 * request. Afterwards file.get_tensor() gives them without network I/O. Nothing is done for a file
 * that is not remote.
 *
 * @param {ST.File} file - a file opened with openUriAsync()
 * @param {?string[]} names - the tensors, or null for all
 * @param {object} [options] - `{cancellable, progress}`; progress(done, total) in bytes runs on the
 *   caller's main context, always before the Promise settles
 * @returns {Promise<boolean>} resolves to true once the bytes are in
 */
export function fetchTensorsAsync(file, names = null, {cancellable = null, progress = null} = {}) {
    return new Promise((resolve, reject) => {
        file.fetch_tensors_async(names, cancellable, progress, (self, result) =>
            _finishInto(resolve, reject, () => self.fetch_tensors_finish(result)));
    });
}

/**
 * Gives rows `start` to `stop` (excluded) of a tensor's first dimension as a tensor of their own,
 * fetching only those rows from a remote file.
 *
 * @param {ST.File} file - a file
 * @param {string} name - the tensor
 * @param {number} start - the first row
 * @param {number} stop - one past the last row
 * @param {object} [options] - `{cancellable, progress}`
 * @returns {Promise<ST.Tensor>} the rows
 */
export function fetchSliceAsync(file, name, start, stop, {cancellable = null, progress = null} = {}) {
    return new Promise((resolve, reject) => {
        file.fetch_slice_async(name, start, stop, cancellable, progress, (self, result) =>
            _finishInto(resolve, reject, () => self.fetch_slice_finish(result)));
    });
}

/**
 * Opens a sharded checkpoint where it lives (its index's address): the index, then every shard's
 * header, several at once.
 *
 * @param {string} uri - the address of the index, usually .../model.safetensors.index.json
 * @param {object} [options] - `{cancellable, progress}`; progress(done, total) counts shards
 * @returns {Promise<ST.Index>} the index
 */
export function openIndexUriAsync(uri, {cancellable = null, progress = null} = {}) {
    return new Promise((resolve, reject) => {
        ST.Index.new_from_uri_async(uri, cancellable, progress, (_source, result) =>
            _finishInto(resolve, reject, () => ST.Index.new_from_uri_finish(result)));
    });
}

/**
 * Downloads a file of the Hugging Face Hub (an index brings its shards) into the Hugging Face cache,
 * as huggingface_hub lays it out, resumably and verified.
 *
 * @param {string} address - `hf://[datasets/|spaces/]ORG/NAME[@REVISION]/FILE` or the Hub's resolve address
 * @param {object} [options] - `{cancellable, progress, fileProgress}`; progress(done, total) in bytes
 *   of all files, fileProgress(filename, done, total) per file (the index, then each shard)
 * @returns {Promise<string>} the path of the file in the cache
 */
export function hubDownloadAsync(address, {cancellable = null, progress = null, fileProgress = null} = {}) {
    return new Promise((resolve, reject) => {
        ST.hub_download_async(address, cancellable, progress, fileProgress, (_source, result) =>
            _finishInto(resolve, reject, () => ST.hub_download_finish(result)));
    });
}

/**
 * Loads a safetensors file from a GLib.Bytes or a Uint8Array, without copying a GLib.Bytes (a
 * Uint8Array is copied once into one). Tensors share the memory of the bytes.
 *
 * @param {GLib.Bytes|Uint8Array} data - the whole file
 * @returns {ST.File} the loaded file
 * @throws {GLib.Error} in the ST.Error domain for an invalid file
 */
export function loadBytes(data) {
    if (!(data instanceof GLib.Bytes))
        data = new GLib.Bytes(data);
    return ST.File.new_from_bytes(data);
}

/** The ST namespace itself, for convenience. */
export {ST};
