# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safetensors_glib.numpy: Hugging Face's safetensors.numpy API, zero-copy, on safetensors-glib."""

import gc
import pathlib

import numpy as np
import pytest

import safetensors_glib.numpy as st_numpy
from safetensors_glib import SafetensorError, safe_open
from safetensors_glib.numpy import load, load_file, save, save_file

from conftest import requires_torch

NUMPY_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.float16, np.int32, np.uint32,
                np.float32, np.complex64, np.float64, np.int64, np.uint64]


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "fc":
        return np.asarray((rng.standard_normal(shape) * 100).astype(dtype))
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("dtype", NUMPY_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_round_trips(dtype, tmp_path):
    arrays = {"m": sample(dtype, (4, 3)), "s": sample(dtype, ()), "e": sample(dtype, (2, 0))}
    save_file(arrays, tmp_path / "a.safetensors")
    for loaded in (load_file(tmp_path / "a.safetensors"), load(save(arrays))):
        assert set(loaded) == set(arrays)
        for name, array in arrays.items():
            assert loaded[name].dtype == array.dtype
            assert loaded[name].shape == array.shape
            np.testing.assert_array_equal(loaded[name], array)


def test_loaded_arrays_are_arrays_even_when_rank_0_or_alike(tmp_path):
    arrays = {f"s{i}": np.array(float(i), dtype=np.float32) for i in range(3)}
    arrays.update({f"v{i}": np.full((2, 3), i, dtype=np.int32) for i in range(3)})
    arrays["odd"] = np.arange(5, dtype=np.int32)
    save_file(arrays, tmp_path / "r.safetensors")
    loaded = load_file(tmp_path / "r.safetensors")
    for name, array in arrays.items():
        assert isinstance(loaded[name], np.ndarray), name
        assert loaded[name].shape == array.shape and loaded[name].flags.writeable
        np.testing.assert_array_equal(loaded[name], array)
    loaded["s1"][()] = 7.0
    loaded["v1"][0, 0] = 9
    assert loaded["s1"] == 7.0 and loaded["v1"][0, 0] == 9 and loaded["v2"][0, 0] == 2


def test_big_endian_and_strided_arrays_are_stored_little_endian_and_packed():
    values = np.arange(12, dtype=">i4").reshape(3, 4)
    loaded = load(save({"be": values, "strided": np.arange(20.0)[::2], "fortran": np.asfortranarray(values)}))
    assert loaded["be"].dtype == np.dtype("<i4")
    np.testing.assert_array_equal(loaded["be"], values)
    np.testing.assert_array_equal(loaded["strided"], np.arange(20.0)[::2])
    np.testing.assert_array_equal(loaded["fortran"], values)


def test_loaded_arrays_are_writable_views_that_keep_the_file_alive(tmp_path):
    path = tmp_path / "v.safetensors"
    save_file({"a": np.arange(100, dtype=np.float32), "b": np.ones(3)}, path)
    before = path.read_bytes()
    loaded = load_file(path)
    a = loaded["a"]
    assert a.flags.writeable and not a.flags.owndata
    a[:] = -1
    assert path.read_bytes() == before
    del loaded
    gc.collect()
    save_file({"other": np.zeros(1)}, path)
    gc.collect()
    assert (a == -1).all()


def test_numpy_scalars_are_saved_as_rank_0_tensors():
    loaded = load(save({"f": np.float32(1.5), "i": np.int64(-3)}))
    assert loaded["f"].shape == () and loaded["f"].dtype == np.float32 and loaded["f"] == 1.5
    assert loaded["i"].shape == () and loaded["i"] == -3


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="Expected a dict"):
        save([np.zeros(1)])
    with pytest.raises(ValueError, match="expected np.ndarray"):
        save({"x": [1.0]})
    with pytest.raises(ValueError, match="float128|longdouble|object"):
        save({"x": np.array([object()])})
    with pytest.raises(FileNotFoundError):
        load_file(tmp_path / "missing.safetensors")
    with pytest.raises(SafetensorError):
        load(b"\x00" * 8)
    assert st_numpy.SafetensorError is SafetensorError


@requires_torch
def test_dtypes_numpy_lacks_raise_a_clear_error():
    import torch
    import safetensors_glib.torch as st_torch

    data = st_torch.save({"h": torch.ones(2, dtype=torch.bfloat16)})
    with pytest.raises(SafetensorError, match="BF16"):
        load(data)


def test_pathlike_and_metadata(tmp_path):
    path = pathlib.Path(tmp_path, "m.safetensors")
    save_file({"x": np.arange(3)}, path, metadata={"format": "np"})
    with safe_open(path, framework="np") as f:
        assert f.metadata() == {"format": "np"}
        np.testing.assert_array_equal(f.get_tensor("x"), np.arange(3))


def test_sharded(tmp_path):
    arrays = {f"a{i}": np.full(100, i, dtype=np.int64) for i in range(6)}
    save_file(arrays, tmp_path / "np.safetensors", max_shard_size=1700)
    loaded = load_file(tmp_path / "np.safetensors.index.json")
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)


def test_arrays_of_a_mixed_file_are_arrays_over_the_mapping(tmp_path):
    """Arrays of several shapes and dtypes from a file written by hand: each has the file's shape,
    dtype and values, sits at its place in the one mapping, is writable without touching the
    others or the file, and keeps the mapping alive on its own."""
    import json
    import struct

    values = {"w": np.arange(0, 6, dtype="<f4").reshape(2, 3), "s": np.array(6.0, dtype="<f4"),
              "e": np.zeros((0, 3), dtype="<f4"), "i": np.array([7, 8], dtype="<i8")}
    values.update({f"r{k}": np.array([9 + k], dtype="<u2") for k in range(3)})
    header, data = {}, b""
    for name, array in values.items():
        chunk = struct.pack("<%d%s" % (array.size, {"f": "f", "i": "q", "u": "H"}[array.dtype.kind]),
                            *array.reshape(-1).tolist())
        dtype = {"f": "F32", "i": "I64", "u": "U16"}[array.dtype.kind]
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(chunk)]}
        data += chunk
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path = tmp_path / "mixed.safetensors"
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)
    before = path.read_bytes()
    loaded = load_file(path)
    assert list(loaded) == list(values)
    for name, array in loaded.items():
        assert isinstance(array, np.ndarray) and array.dtype == values[name].dtype, name
        assert array.shape == values[name].shape and np.array_equal(array, values[name]), name
    address = {name: array.__array_interface__["data"][0] for name, array in loaded.items()}
    assert address["i"] - address["w"] == 28 and address["r2"] - address["r0"] == 4
    assert all(array.flags.writeable for array in loaded.values())
    loaded["w"][1, 2] = 50
    assert loaded["w"].tolist() == [[0, 1, 2], [3, 4, 50]] and loaded["s"] == 6 and loaded["i"].tolist() == [7, 8]
    assert path.read_bytes() == before
    last = loaded.pop("r2")
    del loaded
    gc.collect()
    assert last.tolist() == [11]


def test_the_data_view_is_the_data_buffer_and_nothing_more(tmp_path):
    # The bytes after the header, as written by hand here; the view covers them and no byte more,
    # keeps the file alive on its own, and writes to it reach the mapping only.
    from safetensors_glib import _core

    text = b'{"a":{"dtype":"U8","shape":[5],"data_offsets":[0,5]}}'
    text += b" " * (-len(text) % 8)
    path = tmp_path / "v.safetensors"
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"\x01\x02\x03\x04\x05")
    view = _core.data_view(_core.open_path(path))
    gc.collect()
    assert view.nbytes == len(view) == 5 and view.format == "B" and not view.readonly
    assert bytes(view) == b"\x01\x02\x03\x04\x05"
    with pytest.raises(IndexError):
        view[5]
    assert np.frombuffer(view, np.uint8).tolist() == [1, 2, 3, 4, 5]
    view[4] = 9
    assert bytes(view) == b"\x01\x02\x03\x04\x09" and path.read_bytes()[-1] == 5
