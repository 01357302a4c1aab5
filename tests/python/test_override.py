# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The PyGObject override gi/overrides/ST.py: arrays sharing tensor memory, a dict-like ST.File,
os.PathLike paths."""

import gc
import pathlib

import numpy as np
import pytest

from gi.repository import GLib, ST

from conftest import requires_torch, torch


@pytest.fixture
def stfile(tmp_path):
    made = ST.File.new()
    made["f"] = ST.Tensor.new(ST.DType.F32, [2, 2], GLib.Bytes.new(np.arange(4, dtype="<f4").tobytes()))
    made["h"] = ST.Tensor.new(ST.DType.BF16, [2], GLib.Bytes.new(b"\x80\x3f\x00\x40"))
    made["e"] = ST.Tensor.new(ST.DType.I64, [0, 3], GLib.Bytes.new(b""))
    path = pathlib.Path(tmp_path, "o.safetensors")
    made.save_to_path(path)
    return ST.File.new_from_path(path)


def test_the_override_is_the_one_loaded():
    assert ST.File.__module__ == "gi.overrides.ST"
    assert ST.Tensor.__module__ == "gi.overrides.ST"


def test_numpy_asarray_shares_the_tensor_memory(stfile):
    tensor = stfile["f"]
    array = np.asarray(tensor)
    assert array.dtype == np.float32 and array.shape == (2, 2)
    assert array.ctypes.data == tensor.get_data_address()
    np.testing.assert_array_equal(array, [[0, 1], [2, 3]])
    array[0, 0] = 7
    assert tensor.numpy()[0, 0] == 7
    assert np.asarray(stfile["e"]).shape == (0, 3)
    with pytest.raises(TypeError, match="BF16"):
        np.asarray(stfile["h"])


@requires_torch
def test_numpy_and_torch_methods(stfile):
    f = stfile["f"].numpy()
    assert f.ctypes.data == stfile["f"].get_data_address()
    t = stfile["f"].torch()
    assert t.data_ptr() == stfile["f"].get_data_address()
    assert torch.equal(stfile["h"].torch(), torch.tensor([1.0, 2.0], dtype=torch.bfloat16))
    assert stfile["e"].torch().shape == (0, 3)
    assert stfile["h"].dtype_name == "BF16" and stfile["f"].shape == (2, 2)


def test_arrays_keep_the_tensor_and_file_alive(tmp_path):
    path = tmp_path / "k.safetensors"
    made = ST.File.new()
    made["x"] = ST.Tensor.new(ST.DType.I32, [3], GLib.Bytes.new(np.array([5, 6, 7], "<i4").tobytes()))
    made.save_to_path(path)
    loaded = ST.File.new_from_path(path)
    array = loaded["x"].numpy()
    tensor = loaded["x"].torch() if torch is not None else array
    via_interface = np.asarray(loaded["x"])
    del loaded, made
    gc.collect()
    path.unlink()
    gc.collect()
    assert array.tolist() == [5, 6, 7]
    assert tensor.tolist() == [5, 6, 7]
    assert via_interface.tolist() == [5, 6, 7]


def test_file_is_a_mapping(stfile):
    assert len(stfile) == 3
    assert "f" in stfile and "nope" not in stfile and 3 not in stfile
    assert list(stfile) == ["e", "f", "h"]
    assert stfile.keys() == ["e", "f", "h"]
    assert [name for name, _ in stfile.items()] == ["e", "f", "h"]
    assert len(stfile.values()) == 3
    assert stfile.get("nope") is None and stfile.get("nope", 1) == 1
    assert "f\0trailing" not in stfile and stfile.get("f\0trailing") is None
    with pytest.raises(ValueError):
        stfile["x\0y"] = stfile["f"]
    with pytest.raises(KeyError):
        stfile["nope"]
    del stfile["e"]
    assert "e" not in stfile
    with pytest.raises(KeyError):
        del stfile["e"]
    empty = ST.File.new()
    assert len(empty) == 0 and bool(empty)


def test_paths_may_be_pathlike(tmp_path, stfile):
    path = pathlib.Path(tmp_path) / "copy.safetensors"
    stfile.save_to_path(path)
    again = ST.File.new_from_path(path)
    assert again.keys() == stfile.keys()
    with pytest.raises(GLib.Error):
        ST.File.new_from_path(pathlib.Path(tmp_path) / "missing")


def test_async_save_and_load_take_pathlike(tmp_path, stfile):
    from gi.repository import Gio

    loop = GLib.MainLoop()
    path = pathlib.Path(tmp_path) / "async.safetensors"
    results = {}

    def on_saved(source, result):
        results["saved"] = source.save_to_path_finish(result)
        ST.File.new_from_path_async(path, None, on_loaded)

    def on_loaded(_source, result):
        results["loaded"] = ST.File.new_from_path_finish(result)
        cancellable = Gio.Cancellable()
        cancellable.cancel()
        ST.File.new_from_path_async(path, cancellable, on_cancelled)

    def on_cancelled(_source, result):
        try:
            ST.File.new_from_path_finish(result)
            results["cancelled"] = False
        except GLib.Error as e:
            results["cancelled"] = e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
        loop.quit()

    stfile.save_to_path_async(path, None, on_saved)
    GLib.timeout_add_seconds(30, loop.quit)
    loop.run()
    assert results["saved"] is True
    assert results["loaded"].keys() == stfile.keys()
    assert results["cancelled"] is True


@requires_torch
def test_index_is_a_mapping(tmp_path):
    import safetensors_glib.torch as st_torch

    tensors = {f"t{i}": torch.full((100,), float(i)) for i in range(4)}
    st_torch.save_file(tensors, tmp_path / "m.safetensors", max_shard_size=500)
    index = ST.Index.new_from_path(pathlib.Path(tmp_path) / "m.safetensors.index.json")
    assert len(index) == 4 and "t2" in index and "nope" not in index
    assert list(index) == ["t0", "t1", "t2", "t3"]
    assert torch.equal(index["t3"].torch(), torch.full((100,), 3.0))
    with pytest.raises(KeyError):
        index["nope"]


def test_tensors_share_numpy_and_torch_memory_without_copies():
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    tensor = ST.Tensor.new_from_array(array)
    assert tensor.get_dtype() == ST.DType.I16 and tensor.shape == (2, 3)
    assert tensor.get_data_address() == array.ctypes.data
    array[0, 0] = 42
    assert tensor.numpy()[0, 0] == 42
    del array
    gc.collect()
    assert tensor.numpy().tolist() == [[42, 1, 2], [3, 4, 5]]

    if torch is not None:
        t = torch.ones(4, dtype=torch.bfloat16)
        from_torch = ST.Tensor.new_from_array(t)
        assert from_torch.dtype_name == "BF16" and from_torch.get_data_address() == t.data_ptr()
    assert ST.Tensor.new_from_array(np.zeros((0, 2), dtype=np.float32)).shape == (0, 2)
    assert ST.Tensor.new_from_array(np.array(1.5)).shape == ()
    with pytest.raises(TypeError):
        ST.Tensor.new_from_array(np.float64(1.5))
    with pytest.raises(ValueError):
        ST.Tensor.new_from_array(np.zeros((3, 4))[:, ::2])
    with pytest.raises(TypeError):
        ST.Tensor.new_from_array(np.zeros(2, dtype=np.float128))
    with pytest.raises(TypeError):
        ST.Tensor.new_from_array([1, 2])
