// test-gtk.js: what a GTK 4 application builds on, proven without a window: ST.File and ST.Index are
// Gio.ListModels whose ST.TensorInfo items Gtk.PropertyExpressions read with no glue, GTK's own list
// models follow them, BF16 values show, and an index opens asynchronously with progress reports.
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import Gtk from 'gi://Gtk?version=4.0';
import ST from 'gi://ST?version=1.0';
import {test, run, assert, assertEqual, assertArrayEqual, assertRejects, tempDir} from './harness.js';

const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);

// The expressions a GtkColumnView's cells would bind their labels to, one per column, with the
// GValue getter of each property's type (GJS 1.74 has no generic one).
const COLUMNS = {
    'name': 'get_string', 'dtype-name': 'get_string', 'shape-string': 'get_string', 'n-elements': 'get_uint64',
    'n-bytes': 'get_uint64', 'data-begin': 'get_int64', 'data-end': 'get_int64', 'shard': 'get_string',
};
const expression = property => Gtk.PropertyExpression.new(ST.TensorInfo, null, property);

function evaluate(property, item) {
    const value = new GObject.Value();
    assert(expression(property).evaluate(item, value), `${property} evaluates`);
    return value[COLUMNS[property]]();
}

function model() {
    const file = new ST.File();
    file.set_tensor('embed.weight',
        Safetensors.tensorFromTypedArray(new Float32Array([0.5, -1, 2, 3.25, 0, -0.125]), [2, 3]));
    // BF16 1, -2, 0.15625, 3.140625: raw bits, little-endian
    file.set_tensor('norm.bf16', Safetensors.tensorFromTypedArray(
        new Uint16Array([0x3f80, 0xc000, 0x3e20, 0x4049]), [4], ST.DType.BF16));
    file.set_tensor('steps', Safetensors.tensorFromTypedArray(new BigInt64Array([1000n]), []));
    file.set_metadata_value('format', 'pt');
    return file;
}

function rows(listModel) {
    const result = [];
    for (let i = 0; i < listModel.get_n_items(); i++) {
        const item = listModel.get_item(i);
        result.push(Object.fromEntries(Object.keys(COLUMNS).map(p => [p, evaluate(p, item)])));
    }
    return result;
}

test('ST.File is a Gio.ListModel of ST.TensorInfo that property expressions read', () => {
    const file = Safetensors.loadBytes(model().save_to_bytes());
    assert(file instanceof Gio.ListModel, 'ST.File implements Gio.ListModel');
    assertEqual(file.get_item_type(), ST.TensorInfo.$gtype, 'item type');
    assertEqual(file.n_tensors, 3, 'n-tensors property');
    assertEqual(file.header_size, file.get_header_size(), 'header-size property');
    assertEqual(file.data_size, 24 + 8 + 8, 'data-size property');

    const byName = Object.fromEntries(rows(file).map(r => [r.name, r]));
    assertArrayEqual(Object.keys(byName).sort(), ['embed.weight', 'norm.bf16', 'steps'], 'one row per tensor');
    for (const [name, row] of Object.entries(byName)) {
        const tensor = file.get_tensor(name);
        const [, begin, end] = file.get_tensor_offsets(name);
        assertEqual(row['dtype-name'], Safetensors.dtypeName(tensor.get_dtype()), `${name}: dtype`);
        assertEqual(row['shape-string'], `[${tensor.get_shape().join(', ')}]`, `${name}: shape`);
        assertEqual(row['n-elements'], tensor.get_n_elements(), `${name}: n-elements`);
        assertEqual(row['n-bytes'], tensor.get_n_bytes(), `${name}: n-bytes`);
        assertEqual(row['data-begin'], begin, `${name}: data-begin`);
        assertEqual(row['data-end'], end, `${name}: data-end`);
        assertEqual(row.shard, null, `${name}: no shard in a file`);
    }
    assertEqual(byName['embed.weight']['shape-string'], '[2, 3]', 'shape text');
    assertEqual(byName.steps['shape-string'], '[]', 'a scalar');
});

test('GTK list models follow a file as tensors are set and removed', () => {
    const file = model();
    // Sorted by size, largest first, as a ColumnView column header would sort.
    const sorter = new Gtk.NumericSorter({expression: expression('n-bytes'), sort_order: Gtk.SortType.DESCENDING});
    const sorted = new Gtk.SortListModel({model: file, sorter});
    const filtered = new Gtk.FilterListModel({
        model: sorted,
        filter: new Gtk.StringFilter({expression: expression('name'), search: 'weight'}),
    });
    assertArrayEqual(rows(sorted).map(r => r.name), ['embed.weight', 'norm.bf16', 'steps'], 'sorted by size');
    assertEqual(filtered.get_n_items(), 1, 'filtered by name');

    let notified = 0;
    file.connect('notify::n-tensors', () => notified++);
    file.set_tensor('head.weight', Safetensors.tensorFromTypedArray(new Float32Array(16)));
    assertArrayEqual(rows(sorted).map(r => r.name), ['head.weight', 'embed.weight', 'norm.bf16', 'steps'],
        'a new tensor appears in place');
    assertEqual(filtered.get_n_items(), 2, 'and passes the filter');
    file.set_tensor('steps', Safetensors.tensorFromTypedArray(new Float64Array(3)));
    assertEqual(rows(sorted)[2].name, 'steps', 'a replaced tensor moves with its new size');
    assertEqual(rows(sorted)[2]['dtype-name'], 'F64', 'and shows its new dtype');
    file.remove_tensor('embed.weight');
    assertArrayEqual(rows(sorted).map(r => r.name), ['head.weight', 'steps', 'norm.bf16'], 'a removed tensor goes');
    assertEqual(notified, 2, 'n-tensors notified on add and remove, not on replace');
});

test('BF16 values show: converted by the library, formatted for a label', () => {
    const file = Safetensors.loadBytes(model().save_to_bytes());
    const values = Safetensors.typedArray(file.get_tensor('norm.bf16'));
    assertEqual(values.constructor, Float32Array, 'a Float32Array');
    assertArrayEqual(values, [1, -2, 0.15625, 3.140625], 'the BF16 values');
    assertEqual(Array.from(values, v => v.toPrecision(4)).join(' '), '1.000 -2.000 0.1563 3.141', 'as text');
});

test('an index opens asynchronously with progress, and its items carry the shards', async () => {
    const dir = tempDir();
    const file = model();
    for (let i = 0; i < 4; i++)
        file.set_tensor(`layer${i}.weight`, Safetensors.tensorFromTypedArray(new Float32Array(64).fill(i)));
    assert(file.save_sharded(dir, 'model', 300, ST.SaveFlags.NONE, null, null), 'save_sharded');

    const reports = [];
    let settled = false;
    const index = await Safetensors.openIndexAsync(GLib.build_filenamev([dir, 'model.safetensors.index.json']), {
        progress: (done, total) => {
            assert(!settled, 'progress before the Promise settles');
            reports.push([done, total]);
        },
    });
    settled = true;
    assert(index instanceof Gio.ListModel, 'ST.Index implements Gio.ListModel');
    assert(index.n_shards >= 3, `several shards: ${index.n_shards}`);
    assertEqual(reports.length, index.n_shards + 1, 'one report to start, then one per shard');
    assertEqual(reports[0][0], 0, 'starts at 0');
    const [lastDone, total] = reports[reports.length - 1];
    assertEqual(lastDone, total, 'ends complete');
    assert(reports.every(([d, t], i) => t === total && (i === 0 || d >= reports[i - 1][0])), 'monotonic');

    const indexRows = rows(index);
    assertEqual(indexRows.length, 7, 'one row per tensor');
    for (const row of indexRows) {
        assertEqual(row.shard, index.get_shard_name(row.name), `${row.name}: shard`);
        assertEqual(row['dtype-name'], Safetensors.dtypeName(file.get_tensor(row.name).get_dtype()), `${row.name}: dtype`);
    }
    assertEqual(indexRows.find(r => r.name === 'layer2.weight')['shape-string'], '[64]', 'shape from the shard');

    const merged = await Safetensors.mergeAsync(index, {progress: () => {}});
    assertArrayEqual(Safetensors.typedArray(merged.get_tensor('norm.bf16')), [1, -2, 0.15625, 3.140625],
        'BF16 values through the merged index');
});

test('a cancelled or broken index rejects the Promise', async () => {
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    await assertRejects(Safetensors.openIndexAsync('/nonexistent/model.safetensors.index.json', {cancellable}),
        Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'cancelled');
    const dir = tempDir();
    const path = GLib.build_filenamev([dir, 'model.safetensors.index.json']);
    GLib.file_set_contents(path, '{"weight_map": {"a": "missing.safetensors"}}');
    await assertRejects(Safetensors.openIndexAsync(path), Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'missing shard');
});

await run();
