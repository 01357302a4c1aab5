# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""load_file's bulk path for files that are one block of equal rows (same dtype, same shape, data
end to end: many same-shape layers, LoRA adapters): every tensor from one framework call, with
the same results as the general path. Files are written byte by byte here."""

import gc
import json
import struct

import numpy as np
import pytest

from conftest import requires_torch, torch
from safetensors_glib import _core
from safetensors_glib import numpy as st_numpy

F32, I32, I64 = (int(_core.dtype_from_name(name)) for name in ("F32", "I32", "I64"))


def write_raw(path, header, data):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def rows_file(path, n, shape, fmt="i", dtype="I32"):
    """n tensors "r0".."r{n-1}" of @shape, row k holding k*size .. k*size+size-1, in name order."""
    size = int(np.prod(shape)) if shape else 1
    width = struct.calcsize("<" + fmt)
    header = {f"r{k}": {"dtype": dtype, "shape": shape,
                        "data_offsets": [k * size * width, (k + 1) * size * width]} for k in range(n)}
    return write_raw(path, header, struct.pack(f"<{n * size}{fmt}", *range(n * size)))


@pytest.mark.parametrize("values,expected", [
    # dtype, begin, end, n_dims, dims... per record -> (count, dtype, begin, end, shape) per run
    ([I32, 0, 8, 1, 2, I32, 8, 16, 1, 2, I32, 16, 24, 1, 2], [(3, I32, 0, 24, [2])]),
    ([F32, 0, 4, 0, F32, 4, 8, 0], [(2, F32, 0, 8, [])]),
    ([F32, 0, 24, 2, 2, 3], [(1, F32, 0, 24, [2, 3])]),
    ([I32, 0, 8, 1, 2, I64, 8, 24, 1, 2], [(1, I32, 0, 8, [2]), (1, I64, 8, 24, [2])]),    # two dtypes
    ([I32, 0, 8, 1, 2, I32, 8, 20, 1, 3], [(1, I32, 0, 8, [2]), (1, I32, 8, 20, [3])]),    # two shapes
    ([I32, 0, 8, 1, 2, I32, 8, 24, 2, 2, 2], [(1, I32, 0, 8, [2]), (1, I32, 8, 24, [2, 2])]),  # two ranks
    ([I32, 0, 8, 2, 1, 2, I32, 8, 16, 1, 2, I32, 16, 24, 1, 2],
     [(1, I32, 0, 8, [1, 2]), (2, I32, 8, 24, [2])]),
    ([I32, 0, 0, 1, 0, I32, 0, 0, 1, 0], [(1, I32, 0, 0, [0]), (1, I32, 0, 0, [0])]),    # empty tensors
    ([I32, 0, 8, 1, 2, I32, -1, -1, 1, 2, I32, -1, -1, 1, 2],                             # set after loading
     [(1, I32, 0, 8, [2]), (1, I32, -1, -1, [2]), (1, I32, -1, -1, [2])]),
    ([], []),
])
def test_runs_of_a_1_0_librarys_records(values, expected):
    # What st_file_dup_runs() gives, from the per-tensor records of a library without it.
    assert _core.runs_of_layout(values) == expected


@pytest.mark.parametrize("names_buffer_min", [0, _core.NAMES_BUFFER_MIN])
def test_bulk_buffers_give_the_names_and_runs(tmp_path, monkeypatch, names_buffer_min):
    # The names through st_file_dup_names_bytes() (from NAMES_BUFFER_MIN tensors on) or the array.
    monkeypatch.setattr(_core, "NAMES_BUFFER_MIN", names_buffer_min)
    # Names that a split must not cut or change: non-ASCII, a newline, a space, JSON escapes.
    names = ["caf\u00e9", "a\nb", "\u65e5\u672c", "x y", 'q"\\']
    header = {name: {"dtype": "I32", "shape": [1, k + 1], "data_offsets": [4 * k * (k + 1) // 2, 4 * (k + 1) * (k + 2) // 2]}
              for k, name in enumerate(names)}
    path = write_raw(tmp_path / "names.safetensors", header, bytes(4 * 15))
    stfile = _core.open_path(path)
    assert _core.file_names(stfile) == names
    assert _core.file_runs(stfile) == [(1, I32, 4 * k * (k + 1) // 2, 4 * (k + 1) * (k + 2) // 2, [1, k + 1])
                                       for k in range(5)]
    assert _core.layout(stfile) == [(name, I32, [1, k + 1], 4 * k * (k + 1) // 2, 4 * (k + 1))
                                    for k, name in enumerate(names)]
    rows = _core.open_path(rows_file(tmp_path / "rows.safetensors", 5, [2, 3]))
    assert _core.file_runs(rows) == [(5, I32, 0, 120, [2, 3])]
    assert _core.layout(rows) == [(f"r{k}", I32, [2, 3], 24 * k, 24) for k in range(5)]
    empty = _core.ST.File.new()
    assert _core.file_names(empty) == [] and _core.file_runs(empty) == [] and _core.layout(empty) == []


def test_numpy_rows_are_views_of_one_block(tmp_path):
    path = rows_file(tmp_path / "rows.safetensors", 5, [2, 3])
    arrays = st_numpy.load_file(path)
    assert list(arrays) == [f"r{k}" for k in range(5)]
    for k in range(5):
        assert arrays[f"r{k}"].shape == (2, 3) and arrays[f"r{k}"].dtype == np.int32
        assert arrays[f"r{k}"].ravel().tolist() == list(range(6 * k, 6 * k + 6))
    # Zero-copy: one mapping, row after row, and writable without reaching the file.
    assert arrays["r1"].ctypes.data == arrays["r0"].ctypes.data + 24
    arrays["r4"][1, 2] = -1
    assert st_numpy.load_file(path)["r4"][1, 2] == 29


def test_numpy_scalars_stay_0_d_arrays(tmp_path):
    path = rows_file(tmp_path / "scalars.safetensors", 3, [], "f", "F32")
    arrays = st_numpy.load_file(path)
    for k in range(3):
        assert isinstance(arrays[f"r{k}"], np.ndarray) and arrays[f"r{k}"].shape == () and arrays[f"r{k}"] == k
    arrays["r1"][()] = 7.0  # a view, not a copy: it can be written
    assert arrays["r1"] == 7.0


@requires_torch
def test_torch_rows_are_views_of_one_block(tmp_path):
    from safetensors_glib import torch as st_torch

    path = rows_file(tmp_path / "rows.safetensors", 4, [3])
    tensors = st_torch.load_file(path)
    assert list(tensors) == ["r0", "r1", "r2", "r3"]
    for k in range(4):
        assert torch.equal(tensors[f"r{k}"], torch.arange(3 * k, 3 * k + 3, dtype=torch.int32))
    assert tensors["r2"].data_ptr() == tensors["r0"].data_ptr() + 24
    tensors["r3"][0] = 100
    assert tensors["r3"].tolist() == [100, 10, 11] and st_torch.load_file(path)["r3"].tolist() == [9, 10, 11]
    scalars = st_torch.load_file(rows_file(tmp_path / "s.safetensors", 2, [], "f", "F32"))
    assert [t.shape for t in scalars.values()] == [(), ()] and scalars["r1"].item() == 1.0
    with open(path, "rb") as f:
        assert torch.equal(st_torch.load(f.read())["r1"], torch.tensor([3, 4, 5], dtype=torch.int32))


@requires_torch
def test_torch_rows_are_independent_tensors_over_the_file(tmp_path):
    """The rows share the file's memory but are not autograd views of a hidden base (they come from
    unsafe_split): each has its own version counter, an in-place change to one touches no other, and
    any one of them keeps the mapping alive on its own. Hugging Face's tensors are not views either."""
    from safetensors_glib import torch as st_torch

    path = rows_file(tmp_path / "rows.safetensors", 4, [2, 2])
    tensors = st_torch.load_file(path)
    assert all(t._base is None and not t._is_view() for t in tensors.values())
    assert [t.shape for t in tensors.values()] == [(2, 2)] * 4 and all(t.is_contiguous() for t in tensors.values())
    tensors["r1"].add_(100)
    assert tensors["r1"]._version == 1 and [tensors[f"r{k}"]._version for k in (0, 2, 3)] == [0, 0, 0]
    assert tensors["r0"].tolist() == [[0, 1], [2, 3]] and tensors["r2"].tolist() == [[8, 9], [10, 11]]
    assert tensors["r1"].tolist() == [[104, 105], [106, 107]]
    last = tensors.pop("r3")
    del tensors
    gc.collect()
    assert last.tolist() == [[12, 13], [14, 15]]
    grad = last.float().requires_grad_()
    (grad * 2).sum().backward()
    assert grad.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]


@requires_torch
def test_torch_runs_of_several_shapes(tmp_path):
    # One dtype, data end to end, shapes changing along the file: one frombuffer, one split into
    # pieces, a view of each piece, and for 8 or more equal shapes in a row (t8..t15, and the scalars
    # t16..t23) one piece cut into rows.
    from safetensors_glib import torch as st_torch

    shapes = [[2], [2], [3], [], [], [1, 3], [1, 3], [4]] + [[2, 1]] * 8 + [[]] * 8 + [[5]]
    header, at = {}, 0
    for k, shape in enumerate(shapes):
        size = int(np.prod(shape)) if shape else 1
        header[f"t{k}"] = {"dtype": "I32", "shape": shape, "data_offsets": [4 * at, 4 * (at + size)]}
        at += size
    path = write_raw(tmp_path / "runs.safetensors", header, struct.pack(f"<{at}i", *range(at)))
    tensors = st_torch.load_file(path)
    expected, at = {}, 0
    for k, shape in enumerate(shapes):
        size = int(np.prod(shape)) if shape else 1
        expected[f"t{k}"] = torch.arange(at, at + size, dtype=torch.int32).reshape(shape)
        at += size
    assert list(tensors) == list(expected)
    for name, tensor in tensors.items():
        assert tensor.shape == expected[name].shape and torch.equal(tensor, expected[name]), name
    tensors["t6"].zero_()
    assert tensors["t5"].tolist() == [[9, 10, 11]] and tensors["t7"].tolist() == [15, 16, 17, 18]
    assert all(tensors[f"t{k}"]._base is None for k in range(8, 16))
    assert [tensors[f"t{k}"].dim() for k in range(16, 24)] == [0] * 8
    assert [tensors[f"t{k}"].data_ptr() for k in range(5, 25)] == [tensors["t5"].data_ptr() + 4 * n for n in
                                                                   [0, 3, 6, 10, 12, 14, 16, 18, 20, 22, 24,
                                                                    26, 27, 28, 29, 30, 31, 32, 33, 34]]


def test_mixed_files_take_the_general_path(tmp_path):
    path = write_raw(tmp_path / "mixed.safetensors", {
        "a": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "I32", "shape": [1, 2], "data_offsets": [8, 16]},
        "c": {"dtype": "I32", "shape": [0], "data_offsets": [16, 16]},
    }, struct.pack("<4i", 1, 2, 3, 4))
    arrays = st_numpy.load_file(path)
    assert arrays["a"].tolist() == [1, 2] and arrays["b"].tolist() == [[3, 4]] and arrays["c"].shape == (0,)


def test_get_tensors_takes_the_bulk_path_too(tmp_path):
    from safetensors_glib import safe_open

    path = rows_file(tmp_path / "rows.safetensors", 6, [2])
    with safe_open(path, framework="np") as f:
        arrays = f.get_tensors()
        assert list(arrays) == f.offset_keys() == [f"r{k}" for k in range(6)]
        single = f.get_tensor("r5")
    assert [a.tolist() for a in arrays.values()] == [[2 * k, 2 * k + 1] for k in range(6)]
    arrays["r5"][0] = 99  # the same private mapping as get_tensor's view
    assert single.tolist() == [99, 11]
    if torch is not None:
        with safe_open(path, framework="pt", device=None) as f:
            tensors = f.get_tensors()
        assert [t.tolist() for t in tensors.values()] == [[2 * k, 2 * k + 1] for k in range(6)]


@pytest.mark.parametrize("bulk", [True, False])
def test_a_1_0_library_loads_the_same(tmp_path, monkeypatch, bulk):
    # Without the 1.2 buffers (a 1.0 library), the per-tensor arrays give the same runs and tensors.
    monkeypatch.setattr(_core, "_BULK_CALLS", bulk)
    rows = st_numpy.load_file(rows_file(tmp_path / "rows.safetensors", 4, [3]))
    assert {name: array.tolist() for name, array in rows.items()} == {f"r{k}": [3 * k, 3 * k + 1, 3 * k + 2]
                                                                       for k in range(4)}
    mixed = write_raw(tmp_path / "mixed.safetensors", {
        "a": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "I32", "shape": [2], "data_offsets": [8, 16]},
        "c": {"dtype": "I64", "shape": [], "data_offsets": [16, 24]},
    }, struct.pack("<4iq", 1, 2, 3, 4, 5))
    arrays = st_numpy.load_file(mixed)
    assert [(name, a.dtype.str, a.tolist()) for name, a in arrays.items()] == [
        ("a", "<i4", [1, 2]), ("b", "<i4", [3, 4]), ("c", "<i8", 5)]
    if torch is not None:
        from safetensors_glib import torch as st_torch

        tensors = st_torch.load_file(mixed)
        assert [(name, t.tolist()) for name, t in tensors.items()] == [("a", [1, 2]), ("b", [3, 4]), ("c", 5)]


def test_a_tensor_set_after_loading_is_not_in_the_layout(tmp_path):
    stfile = _core.open_path(rows_file(tmp_path / "rows.safetensors", 3, [2]))
    added = _core.ST.Tensor.new(_core.ST.DType.I32, [2], _core.GLib.Bytes.new(bytes(8)))
    stfile.set_tensor("r1", added)  # replaced in place: the run of three falls apart
    assert _core.file_runs(stfile) == [(1, I32, 0, 8, [2]), (1, I32, -1, -1, [2]), (1, I32, 16, 24, [2])]
    with pytest.raises(_core.SafetensorError, match="tensor 'r1' was set after loading"):
        _core.layout(stfile)
