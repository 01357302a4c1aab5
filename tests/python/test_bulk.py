# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The bulk calls the Python package is built on: ST.File.dup_layout() and
ST.File.set_tensor_from_data(), through the typelib and through safetensors_glib."""

import ctypes
import gc
import threading
import weakref

import numpy as np
import pytest

from gi.repository import GLib, ST

import safetensors_glib.numpy as st_numpy
from safetensors_glib import _numpy_adapter
from safetensors_glib import SafetensorError, _core, safe_open

from conftest import ANY_FRAMEWORK, requires_torch, torch
from reference_layout import reference_bytes_of_arrays


def records(values):
    """Splits the flat dup_layout() array into (dtype, begin, end, shape) records."""
    out = []
    at = 0
    while at < len(values):
        n_dims = values[at + 3]
        out.append((values[at], values[at + 1], values[at + 2], list(values[at + 4:at + 4 + n_dims])))
        at += 4 + n_dims
    assert at == len(values)
    return out


def mixed_arrays():
    return {
        "weight": np.arange(6, dtype="<f4").reshape(2, 3),
        "bias": np.arange(3, dtype="<f2"),
        "step": np.array(7, dtype="<i8"),
        "empty": np.zeros((0, 4), dtype="<u2"),
        "flags": np.array([True, False, True]),
        "cube": np.arange(24, dtype="<i4").reshape(2, 3, 4),
    }


def test_layout_describes_a_loaded_file_without_tensors(tmp_path):
    path = tmp_path / "mixed.safetensors"
    st_numpy.save_file(mixed_arrays(), path)
    stfile = ST.File.new_from_path(str(path))

    layout = records(stfile.dup_layout())
    names = stfile.dup_names_in_file_order()
    assert len(layout) == len(names) == 6

    previous_end = 0
    for name, (dtype, begin, end, shape) in zip(names, layout):
        assert (begin, end) == (previous_end, end)
        previous_end = end
        ok, file_begin, file_end = stfile.get_tensor_offsets(name)
        assert ok and (file_begin, file_end) == (begin, end)
        tensor = stfile.get_tensor(name)
        assert dtype == tensor.get_dtype()
        assert shape == list(tensor.get_shape())
        assert end - begin == tensor.get_n_bytes()
    assert previous_end == stfile.get_data_size()
    # The scalar's record has no dimensions.
    assert layout[names.index("step")][3] == []


def test_layout_of_edited_and_empty_files():
    assert ST.File.new().dup_layout() == []

    stfile = ST.File.new_from_bytes(GLib.Bytes.new(st_numpy.save(mixed_arrays())))
    offsets = {name: stfile.get_tensor_offsets(name)[1:] for name in stfile.dup_names_sorted()}
    memory = np.arange(4, dtype="<f8")
    stfile.set_tensor_from_data("bias", ST.DType.F64, [2, 2], memory.ctypes.data, memory.nbytes, None)
    stfile.remove_tensor("weight")
    stfile.set_tensor_from_data("added", ST.DType.F64, [4], memory.ctypes.data, memory.nbytes, None)

    layout = dict(zip(stfile.dup_names_in_file_order(), records(stfile.dup_layout())))
    assert list(layout)[-1] == "added"
    assert layout["bias"] == (ST.DType.F64, -1, -1, [2, 2])
    assert layout["added"] == (ST.DType.F64, -1, -1, [4])
    assert layout["cube"][1:3] == offsets["cube"]
    assert "weight" not in layout
    # The package only reads files as loaded: an edited one is refused, not misread.
    with pytest.raises(SafetensorError, match="bias"):
        _core.layout(stfile)


def test_set_tensor_from_data_matches_tensors_and_keeps_the_owner_alive():
    arrays = mixed_arrays()
    class Holder:
        pass

    holder = Holder()
    holder.arrays = arrays
    watch = weakref.ref(holder)
    owner = _core.Owner(holder)
    owner_watch = weakref.ref(owner)
    stfile = ST.File.new()
    for name, array in arrays.items():
        address = array.ctypes.data if array.nbytes else 0
        stfile.set_tensor_from_data(name, _numpy_adapter._ST_DTYPES[array.dtype.str], list(array.shape), address,
                                    array.nbytes, owner)
    del holder, owner, arrays
    gc.collect()
    assert watch() is not None  # the file holds the owner, the owner the arrays

    expected = reference_bytes_of_arrays(mixed_arrays())
    assert stfile.save_to_bytes().get_data() == expected
    # A tensor made on demand is the arrays' memory, and outlives the file with its owner.
    tensor = stfile.get_tensor("cube")
    assert tensor.numpy().tolist() == np.arange(24).reshape(2, 3, 4).tolist()
    del stfile
    gc.collect()
    assert watch() is not None
    del tensor
    gc.collect()
    assert watch() is None
    assert owner_watch() is None


def test_set_tensor_from_data_errors_name_the_tensor():
    stfile = ST.File.new()
    memory = (ctypes.c_char * 8)()
    address = ctypes.addressof(memory)
    with pytest.raises(GLib.Error) as info:
        stfile.set_tensor_from_data("wrong.size", ST.DType.F32, [3], address, 8, None)
    assert info.value.matches(ST.error_quark(), ST.Error.SIZE_MISMATCH)
    assert "wrong.size" in info.value.message
    with pytest.raises(GLib.Error) as info:
        stfile.set_tensor_from_data("neg", ST.DType.F32, [-2], address, 8, None)
    assert info.value.matches(ST.error_quark(), ST.Error.INVALID_SHAPE)
    with pytest.raises(GLib.Error) as info:
        stfile.set_tensor_from_data("__metadata__", ST.DType.F32, [2], address, 8, None)
    assert info.value.matches(ST.error_quark(), ST.Error.INVALID_NAME)
    with pytest.raises(GLib.Error) as info:
        stfile.set_tensor_from_data("null", ST.DType.U8, [8], 0, 8, None)
    assert "null" in info.value.message
    assert stfile.get_n_tensors() == 0
    # A scalar needs no shape array.
    stfile.set_tensor_from_data("scalar", ST.DType.I64, [], address, 8, None)
    assert list(stfile.get_tensor("scalar").get_shape()) == []


@requires_torch
def test_saving_shares_one_owner_that_keeps_the_dict_alive(tmp_path):
    import safetensors_glib.torch as st_torch

    tensors = {f"t{i}": torch.full((4,), float(i)) for i in range(50)}
    stfile = st_torch._prepare(tensors, None)
    watch = weakref.ref(tensors["t7"])
    del tensors
    gc.collect()
    assert watch() is not None
    path = tmp_path / "owned.safetensors"
    _core.write_file(stfile, path)
    del stfile
    gc.collect()
    assert watch() is None
    loaded = st_torch.load_file(path)
    assert [loaded[f"t{i}"].tolist() for i in range(50)] == [[float(i)] * 4 for i in range(50)]


def test_many_tensors_round_trip(tmp_path):
    arrays = {f"layer.{i}.{kind}": np.full((i % 7 + 1, 3), i, dtype=dtype)
              for i in range(3000) for kind, dtype in (("w", "<f4"), ("b", "<i2"))}
    path = tmp_path / "many.safetensors"
    st_numpy.save_file(arrays, path)

    for loaded in (st_numpy.load_file(path), st_numpy.load(path.read_bytes())):
        assert sorted(loaded) == sorted(arrays)
        for name, array in arrays.items():
            assert loaded[name].dtype == array.dtype
            np.testing.assert_array_equal(loaded[name], array)

    with safe_open(path, ANY_FRAMEWORK) as opened:
        names = opened.keys()
        assert names == sorted(arrays)
        for name in names[::97]:
            assert opened.get_tensor(name).tolist() == arrays[name].tolist()
            part = opened.get_slice(name)
            assert part.get_shape() == list(arrays[name].shape)
            assert part.get_dtype() == ("F32" if name.endswith("w") else "I16")
        with pytest.raises(SafetensorError, match="does not contain tensor nope"):
            opened.get_tensor("nope")
        with pytest.raises(SafetensorError, match="does not contain tensor"):
            opened.get_tensor("layer.1.w\0")


def test_layout_from_threads(tmp_path):
    path = tmp_path / "threads.safetensors"
    st_numpy.save_file({f"x{i}": np.full((i % 5 + 1,), i, dtype="<f4") for i in range(500)}, path)
    stfile = ST.File.new_from_path(str(path))
    expected = stfile.dup_layout()
    names = stfile.dup_names_in_file_order()
    failures = []

    def reader(seed):
        try:
            for round_ in range(20):
                assert stfile.dup_layout() == expected
                for name in names[(seed + round_) % 3::3]:
                    assert stfile.get_tensor(name) is not None
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

