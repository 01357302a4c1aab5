// test-index.js: sharded checkpoints (ST.Index, ST.File.save_sharded, ST.parse_size) through GJS
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import ST from 'gi://ST?version=1.0';
import {test, run, assert, assertEqual, assertArrayEqual, assertGError, assertRejects, tempDir} from './harness.js';

const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);

function makeModel() {
    const file = new ST.File();
    file.set_tensor('a.weight', Safetensors.tensorFromTypedArray(new Float32Array(8).fill(1.5), [2, 4]));
    file.set_tensor('b.weight', Safetensors.tensorFromTypedArray(new Float32Array(8).fill(-2), [8]));
    file.set_tensor('c.bias', Safetensors.tensorFromTypedArray(new Int16Array([1, 2, 3, 4])));
    return file;
}

test('save_sharded writes shards and an index that ST.Index reads back', () => {
    const dir = tempDir();
    const progress = [];
    assert(makeModel().save_sharded(dir, 'model', 40, ST.SaveFlags.NONE, null, (done, total) => progress.push([done, total])),
        'save_sharded');
    assert(progress.length > 0, 'the progress callback was called');
    const [lastDone, lastTotal] = progress[progress.length - 1];
    assertEqual(lastDone, lastTotal, 'progress ends complete');

    const index = ST.Index.new_from_path(GLib.build_filenamev([dir, 'model.safetensors.index.json']), null);
    assertEqual(index.get_directory(), dir, 'directory');
    assertEqual(index.get_n_tensors(), 3, 'n_tensors');
    assertArrayEqual(index.dup_names_sorted(), ['a.weight', 'b.weight', 'c.bias'], 'names');
    assert(index.contains('c.bias') && !index.contains('d'), 'contains');
    assertEqual(index.get_total_size(), 32 + 32 + 8, 'total_size');
    assertEqual(index.dup_metadata()['total_size'], '72', 'metadata total_size');
    assertEqual(index.get_metadata_value('total_size'), '72', 'get_metadata_value');
    assertEqual(index.get_metadata_value('nope'), null, 'get_metadata_value of an unknown key');
    const shards = index.dup_shard_names();
    assert(shards.length >= 2, `several shards: ${shards}`);
    assertEqual(index.get_shard_name('d'), null, 'no shard for an unknown tensor');
    for (const shard of shards) {
        assert(index.validate_shard(shard, null), `validate_shard ${shard}`);
        const file = index.open_shard(shard, null);
        assertArrayEqual(file.dup_names_sorted(), index.dup_shard_tensor_names(shard), `tensors of ${shard}`);
        assert(index.open_shard(shard, null) === file, `${shard}: one shared shard`);
    }
    assert(index.validate(null), 'validate');
    assertArrayEqual(Safetensors.typedArray(index.dup_tensor('b.weight', null)), new Float32Array(8).fill(-2),
        'dup_tensor');
    assertGError(() => index.dup_tensor('d', null), ST.Error, ST.Error.NOT_FOUND, 'unknown tensor');
    assertGError(() => index.open_shard('model-00009-of-00009.safetensors', null), ST.Error, ST.Error.NOT_FOUND,
        'unknown shard');
    const merged = index.merge(null);
    assertArrayEqual(merged.dup_names_sorted(), ['a.weight', 'b.weight', 'c.bias'], 'merged');
    assert(merged.get_tensor('c.bias').equal(makeModel().get_tensor('c.bias')), 'merged values');
});

test('openShardAsync opens a shard in a worker thread, shared with the index', async () => {
    const dir = tempDir();
    assert(makeModel().save_sharded(dir, 'model', 40, ST.SaveFlags.NONE, null, null), 'save_sharded');
    const index = ST.Index.new_from_path(GLib.build_filenamev([dir, 'model.safetensors.index.json']), null);

    const shardName = index.get_shard_name('c.bias');
    const shard = await Safetensors.openShardAsync(index, shardName);
    assert(shard instanceof ST.File, 'an ST.File');
    assert(shard === index.open_shard(shardName, null), 'the shard the index shares');
    assertArrayEqual(Safetensors.typedArray(shard.get_tensor('c.bias')), [1, 2, 3, 4], 'its values');
    await assertRejects(Safetensors.openShardAsync(index, 'nope.safetensors'), ST.Error, ST.Error.NOT_FOUND,
        'unknown shard');
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    const other = index.dup_shard_names().find(name => name !== shardName);
    await assertRejects(Safetensors.openShardAsync(index, other, cancellable), Gio.IOErrorEnum,
        Gio.IOErrorEnum.CANCELLED, 'cancelled');
    assertGError(() => index.dup_tensor(index.dup_shard_tensor_names(other)[0], cancellable), Gio.IOErrorEnum,
        Gio.IOErrorEnum.CANCELLED, 'dup_tensor cancelled');
});

test('openIndexAsync reads the index only when asked; validateIndexAsync checks every shard', async () => {
    const dir = tempDir();
    assert(makeModel().save_sharded(dir, 'model', 40, ST.SaveFlags.NONE, null, null), 'save_sharded');
    const path = GLib.build_filenamev([dir, 'model.safetensors.index.json']);
    const reports = [];
    const index = await Safetensors.openIndexAsync(path, {validate: false, progress: (d, t) => reports.push([d, t])});
    assertEqual(reports.length, 0, 'no shard opened, so no progress');
    assertArrayEqual(index.dup_names_sorted(), ['a.weight', 'b.weight', 'c.bias'], 'names');

    assert(await Safetensors.validateIndexAsync(index, {progress: (d, t) => reports.push([d, t])}), 'validates');
    assertEqual(reports.length, index.n_shards + 1, 'one report to start, then one per shard');
    assertEqual(reports[0][0], 0, 'starts at 0');

    // A wrong total_size: reading the index still works, the check rejects.
    const text = new TextDecoder().decode(GLib.file_get_contents(path)[1]);
    assert(text.includes('"total_size": 72'), 'the index states 72 bytes');
    GLib.file_set_contents(path, text.replace('"total_size": 72', '"total_size": 71'));
    const wrong = await Safetensors.openIndexAsync(path, {validate: false});
    await assertRejects(Safetensors.validateIndexAsync(wrong), ST.Error, ST.Error.INVALID_INDEX, 'wrong total_size');
    await assertRejects(Safetensors.openIndexAsync(path), ST.Error, ST.Error.INVALID_INDEX, 'validated by default');
});

test('parse_size reads decimal and binary units', () => {
    const parse = text => {
        const result = ST.parse_size(text);
        return Array.isArray(result) ? result[result.length - 1] : result;
    };
    assertEqual(parse('1024'), 1024, 'plain bytes');
    assertEqual(parse('5GB'), 5e9, 'GB');
    assertEqual(parse('500MB'), 5e8, 'MB');
    assertEqual(parse('1.5 GiB'), 1.5 * 2 ** 30, 'GiB');
    assertGError(() => ST.parse_size('lots'), ST.Error, ST.Error.INVALID_SIZE,
        'not a size');
});

await run();
