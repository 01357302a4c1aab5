# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Values, list models and the asynchronous index through GObject Introspection alone (gi.repository.ST)."""

import math
import struct

import gi
import pytest

gi.require_version("ST", "1.0")
from gi.repository import Gio, GLib, ST  # noqa: E402


def tensor(dtype, raw, shape):
    return ST.Tensor.new(dtype, shape, GLib.Bytes.new(raw))


def test_dup_values_as_double_reads_every_small_float():
    # BF16 1, -2, 3.140625; F16 65504, 2^-24, -0, inf, NaN
    bf16 = tensor(ST.DType.BF16, struct.pack("<3H", 0x3F80, 0xC000, 0x4049), [3])
    assert bf16.dup_values_as_double(0, 2**64 - 1) == [1.0, -2.0, 3.140625]
    f16 = tensor(ST.DType.F16, struct.pack("<5H", 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x7E00), [5])
    values = f16.dup_values_as_double(0, 5)
    assert values[:2] == [65504.0, 2.0**-24]
    assert values[2] == 0 and math.copysign(1, values[2]) == -1
    assert values[3] == math.inf and math.isnan(values[4])
    # F8_E8M0: 2^(e-127), 0xff NaN; F8_E4M3FNUZ: 0x80 is NaN, 0x7f is 240
    e8m0 = tensor(ST.DType.F8_E8M0, bytes([127, 0, 254, 255]), [4])
    got = e8m0.dup_values_as_double(0, 4)
    assert got[:3] == [1.0, 2.0**-127, 2.0**127] and math.isnan(got[3])
    fnuz = tensor(ST.DType.F8_E4M3FNUZ, bytes([0x7F, 0x80]), [2])
    got = fnuz.dup_values_as_double(0, 2)
    assert got[0] == 240.0 and math.isnan(got[1])
    # F4, two per byte, the low nibble first
    f4 = tensor(ST.DType.F4, bytes([0x21, 0xF7]), [4])
    assert f4.dup_values_as_double(0, 4) == [0.5, 1.0, 6.0, -6.0]


def test_dup_values_as_float_rounds_and_ranges():
    i64 = tensor(ST.DType.I64, struct.pack("<q", 2**60 + 2**36 + 1), [1])
    assert i64.dup_values_as_float(0, 1) == [2.0**60 + 2.0**37]  # rounded once, not through a double
    u8 = tensor(ST.DType.U8, bytes([1, 2, 3, 4, 5]), [5])
    assert u8.dup_values_as_float(1, 2) == [2.0, 3.0]
    assert u8.dup_values_as_float(3, 100) == [4.0, 5.0]
    assert u8.dup_values_as_float(5, 1) == []
    with pytest.raises(GLib.Error) as info:
        u8.dup_values_as_float(6, 1)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT)
    raw = u8.dup_values_as_float_bytes(0, 5).get_data()
    assert struct.unpack("=5f", raw) == (1.0, 2.0, 3.0, 4.0, 5.0)


@pytest.mark.parametrize("dtype", [ST.DType.C64, ST.DType.F6_E2M3, ST.DType.F6_E3M2])
def test_unconvertible_dtypes_raise_not_supported(dtype):
    t = tensor(dtype, bytes(8 if dtype == ST.DType.C64 else 3), [1 if dtype == ST.DType.C64 else 4])
    with pytest.raises(GLib.Error) as info:
        t.dup_values_as_double(0, 1)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_SUPPORTED)
    assert ST.dtype_to_string(dtype) in info.value.message


def test_file_is_a_list_model_of_tensor_infos():
    f = ST.File.new()
    changes = []
    f.connect("items-changed", lambda model, pos, removed, added: changes.append((pos, removed, added)))
    f.set_tensor("a", tensor(ST.DType.BF16, bytes(12), [2, 3]))
    f.set_tensor("b", tensor(ST.DType.U8, bytes(1), []))
    assert changes == [(0, 0, 1), (1, 0, 1)]
    assert isinstance(f, Gio.ListModel)
    assert f.get_n_items() == 2 and f.props.n_tensors == 2
    item = f.get_item(0)
    assert isinstance(item, ST.TensorInfo)
    assert (item.props.name, item.props.dtype_name, item.props.shape_string) == ("a", "BF16", "[2, 3]")
    assert (item.props.n_elements, item.props.n_bytes, item.props.data_begin) == (6, 12, -1)
    assert item.get_shape() == [2, 3] and item.props.shard is None
    f.remove_tensor("a")
    assert changes[-1] == (0, 1, 0)


def test_index_opens_asynchronously_with_progress(tmp_path):
    f = ST.File.new()
    for i in range(3):
        f.set_tensor(f"w{i}", tensor(ST.DType.F32, struct.pack("<8f", *([float(i)] * 8)), [8]))
    assert f.save_sharded(str(tmp_path), "model", 40, ST.SaveFlags.NONE, None, None)
    loop = GLib.MainLoop()
    reports, result = [], {}

    def opened(_source, res):
        result["index"] = ST.Index.new_from_path_finish(res)
        loop.quit()

    def validated(index, res):
        result["valid"] = index.validate_finish(res)
        loop.quit()

    def give_up():
        loop.quit()
        return GLib.SOURCE_REMOVE

    timeout = GLib.timeout_add_seconds(60, give_up)
    ST.Index.new_from_path_async(str(tmp_path / "model.safetensors.index.json"), None, opened)
    loop.run()
    assert "index" in result, "the callback ran"
    index = result["index"]
    # Two callbacks, each with its data argument: by keyword.
    index.validate_async(cancellable=None, progress=lambda d, t, *_data: reports.append((d, t)), callback=validated)
    loop.run()
    GLib.source_remove(timeout)
    assert result.get("valid") is True, "the shards were checked"
    assert index.props.n_shards == 3 and index.get_n_items() == 3
    assert reports[0][0] == 0 and reports[-1][0] == reports[-1][1] > 0 and len(reports) == 4
    items = [index.get_item(i) for i in range(3)]
    assert [i.props.name for i in items] == ["w0", "w1", "w2"]
    assert all(i.props.shard == index.get_shard_name(i.props.name) for i in items)
