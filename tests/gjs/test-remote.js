// test-remote.js: remote files and Hub downloads through GJS's Promise API, against a Soup.Server
// this test starts on 127.0.0.1
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0

import GLib from 'gi://GLib';
import Soup from 'gi://Soup?version=3.0';
import ST from 'gi://ST?version=1.0';
import {test, run, assert, assertEqual, assertArrayEqual, assertRejects, tempDir} from './harness.js';

const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);
const Gio = (await import('gi://Gio')).default;

const COMMIT = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';

// A file written by hand: "a" (I16 [4]) then "b" (U8 [100, 10]), byte i of "b" being i % 251
function makeFile() {
    let json = '{"__metadata__":{"format":"pt"},"a":{"dtype":"I16","shape":[4],"data_offsets":[0,8]},' +
        '"b":{"dtype":"U8","shape":[100,10],"data_offsets":[8,1008]}}';
    while (json.length % 8)
        json += ' ';
    const header = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + header.length + 1008);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    const a = new DataView(bytes.buffer, 8 + header.length, 8);
    [7, -7, 300, -300].forEach((v, i) => a.setInt16(2 * i, v, true));
    for (let i = 0; i < 1000; i++)
        bytes[8 + header.length + 8 + i] = i % 251;
    return {bytes, dataStart: 8 + header.length};
}

// A shard of a sharded checkpoint, written by hand: one U8 tensor @name holding @values
function makeShard(name, values) {
    let json = `{"${name}":{"dtype":"U8","shape":[${values.length}],"data_offsets":[0,${values.length}]}}`;
    while (json.length % 8)
        json += ' ';
    const header = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + header.length + values.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    bytes.set(values, 8 + header.length);
    return bytes;
}

const {bytes: FILE, dataStart: DATA_START} = makeFile();
const ranges = [];
const requestedPaths = [];
const SHARDED = '/org/sharded/resolve/main';
const FILES = new Map([
    ['/org/name/resolve/main/model.safetensors', FILE],
    [`${SHARDED}/model.safetensors.index.json`, new TextEncoder().encode(
        '{"metadata":{"total_size":7},"weight_map":{"c":"model-00001-of-00002.safetensors",' +
        '"d":"model-00002-of-00002.safetensors"}}')],
    [`${SHARDED}/model-00001-of-00002.safetensors`, makeShard('c', [1, 2, 3])],
    [`${SHARDED}/model-00002-of-00002.safetensors`, makeShard('d', [4, 5, 6, 7])],
]);

const server = new Soup.Server();
server.add_handler(null, (_server, msg, path) => {
    requestedPaths.push(path);
    const file = FILES.get(path);
    if (file === undefined) {
        msg.set_status(404, null);
        msg.get_response_headers().append('X-Error-Code', 'EntryNotFound');
        return;
    }
    const headers = msg.get_response_headers();
    headers.append('X-Repo-Commit', COMMIT);
    headers.append('ETag', '"etag-of-the-file"');
    headers.append('X-Linked-Size', `${file.length}`);
    let start = 0, end = file.length - 1;
    const range = msg.get_request_headers().get_one('Range');
    if (range) {
        const [first, last] = range.slice('bytes='.length).split('-');
        start = Number(first);
        end = Math.min(last ? Number(last) : file.length - 1, file.length - 1);
        headers.append('Content-Range', `bytes ${start}-${end}/${file.length}`);
        msg.set_status(206, null);
    } else {
        msg.set_status(200, null);
    }
    ranges.push([msg.get_method(), start, end]);
    msg.set_response('application/octet-stream', Soup.MemoryUse.COPY, file.slice(start, end + 1));
});
server.listen_local(0, Soup.ServerListenOptions.IPV4_ONLY);
const base = server.get_uris()[0].to_string().replace(/\/$/, '');

// The environment before the library makes any thread
GLib.setenv('HF_ENDPOINT', base, true);
GLib.setenv('HF_HUB_CACHE', tempDir(), true);
GLib.setenv('HF_TOKEN_PATH', '/nonexistent/st-gjs/token', true);
GLib.setenv('no_proxy', '127.0.0.1', true);
GLib.unsetenv('HF_TOKEN');
GLib.unsetenv('http_proxy');
GLib.unsetenv('HF_HUB_OFFLINE');

test('openUriAsync reads the header; fetchTensorsAsync and fetchSliceAsync fetch by range', async () => {
    const file = await Safetensors.openUriAsync(`${base}/org/name/resolve/main/model.safetensors`);
    assert(file.is_remote(), 'remote');
    assertArrayEqual(file.dup_names_in_file_order(), ['a', 'b'], 'names');
    assertEqual(file.get_metadata_value('format'), 'pt', 'metadata');
    assertEqual(ranges.length, 1, 'one request to open');

    const progress = [];
    await Safetensors.fetchTensorsAsync(file, ['a'], {progress: (done, total) => progress.push([done, total])});
    assertEqual(ranges.length, 2, 'one request for "a"');
    assertArrayEqual(ranges[1], ['GET', DATA_START, DATA_START + 7], 'the bytes of "a" only');
    assertArrayEqual(progress[progress.length - 1], [8, 8], 'progress ends with the 8 bytes');
    assertArrayEqual(Array.from(Safetensors.typedArray(file.get_tensor('a'))), [7, -7, 300, -300],
        'values of "a"');

    const rows = await Safetensors.fetchSliceAsync(file, 'b', 10, 12);
    assertArrayEqual(rows.get_shape(), [2, 10], 'shape of the rows');
    const values = Array.from(Safetensors.typedArray(rows));
    assertArrayEqual(values, Array.from({length: 20}, (_, i) => (100 + i) % 251), 'values of the rows');
    assertArrayEqual(ranges[2], ['GET', DATA_START + 8 + 100, DATA_START + 8 + 119], 'the rows only');
});

test('hubDownloadAsync puts the file into the cache, with progress', async () => {
    const progress = [];
    const files = [];
    const path = await Safetensors.hubDownloadAsync('hf://org/name/model.safetensors', {
        progress: (done, total) => progress.push([done, total]),
        fileProgress: (filename, done, total) => files.push([filename, done, total]),
    });
    assertArrayEqual(files[0], ['model.safetensors', 0, FILE.length], 'the file\'s first report');
    assertArrayEqual(files[files.length - 1], ['model.safetensors', FILE.length, FILE.length],
        'the file\'s last report');
    assert(path.endsWith(`/models--org--name/snapshots/${COMMIT}/model.safetensors`), `path ${path}`);
    assertArrayEqual(progress[progress.length - 1], [FILE.length, FILE.length], 'progress ends complete');
    const local = ST.File.new_from_path(path, null);
    assert(!local.is_remote(), 'the cached file is local');
    assertArrayEqual(Array.from(Safetensors.typedArray(local.get_tensor('a'))), [7, -7, 300, -300],
        'values');
});

test('openIndexUriAsync opens a sharded checkpoint: the index, then its shards\' headers, with progress',
    async () => {
        requestedPaths.length = 0;
        const progress = [];
        const index = await Safetensors.openIndexUriAsync(`hf://org/sharded/model.safetensors.index.json`, {
            progress: (done, total) => progress.push([done, total]),
        });
        assertEqual(index.get_n_tensors(), 2, 'tensors');
        assertEqual(index.get_uri(), 'hf://org/sharded/model.safetensors.index.json', 'its address');
        const names = [];
        for (let i = 0; i < index.get_n_items(); i++)
            names.push(index.get_item(i).get_name());
        assertArrayEqual(names.sort(), ['c', 'd'], 'the list model\'s items');
        assertArrayEqual(progress[progress.length - 1], [2, 2], 'progress ends with both shards');
        // what the protocol needs: the index, and one request per shard (small headers)
        assertArrayEqual(requestedPaths.slice().sort(), [
            `${SHARDED}/model-00001-of-00002.safetensors`, `${SHARDED}/model-00002-of-00002.safetensors`,
            `${SHARDED}/model.safetensors.index.json`], 'one request per file');
    });

test('a missing file rejects with NOT_FOUND', async () => {
    const e = await assertRejects(Safetensors.openUriAsync('hf://org/name/nope.safetensors'),
        Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'missing file');
    assert(e.message.includes('does not exist'), e.message);
});

await run();
