# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The torch side of Hugging Face's safetensors 0.8: the sharing helpers with its results and
order, its save checks and messages, torch indexing for slices, and the byte order on big-endian
hosts (simulated here: the swap is forced on this little-endian host)."""

import sys

import pytest

from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)  # noqa: E402

import numpy as np  # noqa: E402

import safetensors_glib.torch as st_torch  # noqa: E402
from safetensors_glib import SafetensorError, _torch_adapter, safe_open  # noqa: E402
from safetensors_glib.torch import (  # noqa: E402
    _end_ptr,
    _find_shared_tensors,
    _is_complete,
    _remove_duplicate_names,
    load_file,
    save,
    save_file,
    storage_ptr,
    storage_size,
)


def test_storage_ptr_and_size_describe_the_storage_not_the_view():
    base = torch.zeros(10)
    view = base[3:5]
    assert storage_ptr(view) == storage_ptr(base) == base.data_ptr()
    assert storage_size(view) == storage_size(base) == 40
    smaller = torch.empty([], dtype=base.dtype)
    storage = base.untyped_storage() if hasattr(base, "untyped_storage") else base.storage().untyped()
    smaller.set_(source=storage[:16])
    assert storage_ptr(smaller) == storage_ptr(base) and storage_size(smaller) == 16
    # Same start, other size: another storage, so nothing shared.
    assert _find_shared_tensors({"base": base, "smaller": smaller}) == [{"base"}, {"smaller"}]


def test_end_ptr_and_is_complete():
    strided = torch.zeros(16)[::4]
    assert _end_ptr(strided) - strided.data_ptr() == 16 * 3 + 4
    empty = torch.zeros(0)
    assert _end_ptr(empty) == empty.data_ptr()
    half = torch.zeros(16, dtype=torch.float16)[::4]
    assert _end_ptr(half) - half.data_ptr() == 8 * 3 + 2
    grid = torch.zeros(3, 4).t()
    assert _end_ptr(grid) - grid.data_ptr() == 12 * 4
    full = torch.zeros(3, 3)
    assert _is_complete(full) and not _is_complete(full[:1]) and not _is_complete(full[::2])
    assert _is_complete(torch.zeros(2, 2, device="meta"))


def test_find_shared_tensors_groups_in_order_of_first_appearance():
    base = torch.zeros(4)
    assert _find_shared_tensors({"B": base[:2], "C": base[2:]}) == [{"B"}, {"C"}]
    assert _find_shared_tensors({"B": base[:2], "C": base[1:]}) == [{"B", "C"}]
    assert _find_shared_tensors({"B": base[:2], "C": base[2:], "D": base[:1]}) == [{"B", "D"}, {"C"}]
    others = {name: torch.zeros(2) for name in ("z", "a", "m")}
    assert _find_shared_tensors(others) == [{"z"}, {"a"}, {"m"}]
    meta = torch.zeros(2, 2, device="meta")
    assert _find_shared_tensors({"C": meta, "D": meta[:1]}) == []


def test_remove_duplicate_names_keeps_a_complete_name():
    full = torch.zeros(3, 3)
    part = full[:1]
    assert _remove_duplicate_names({"A": full, "B": part}) == {"A": ["B"]}
    assert _remove_duplicate_names({"A": full, "B": part, "C": full}) == {"A": ["B", "C"]}
    assert _remove_duplicate_names({"A": full, "C": full}, preferred_names=["C"]) == {"C": ["A"]}
    assert _remove_duplicate_names({"A": full, "C": full}, discard_names=["A"]) == {"C": ["A"]}
    with pytest.raises(RuntimeError, match="None is covering the entire storage"):
        _remove_duplicate_names({"B": part})


def test_save_checks_and_messages_are_hugging_faces(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(ValueError) as info:
        save_file({"s": torch.sparse_coo_tensor(size=(2, 3)), "t": torch.zeros(1)}, path)
    assert str(info.value) == (
        "You are trying to save a sparse tensors: `['s']` which this library does not support. You can make it"
        " a dense tensor before saving with `.to_dense()` but be aware this might make a much larger file than"
        " needed.")
    with pytest.raises(SafetensorError, match='^Unknown dtype "complex128"'):
        save({"c": torch.zeros(1, dtype=torch.complex128)})
    with pytest.raises(RuntimeError, match="Cannot copy out of meta tensor"):
        save_file({"m": torch.zeros(2, device="meta")}, path)
    # Non-contiguous comes before an unknown dtype when it comes first, as in Hugging Face's loop.
    with pytest.raises(ValueError, match="non contiguous tensor: `t`"):
        save({"t": torch.zeros(2, 2).t(), "c": torch.zeros(1, dtype=torch.complex128)})
    assert not path.exists()


def test_torch_slices_index_as_torch_does(tmp_path):
    path = tmp_path / "s.safetensors"
    full = torch.randn(10, 5)
    save_file({"a": full}, path)
    with safe_open(path, framework="pt") as f:
        part = f.get_slice("a")
        assert part[[]].shape == (0, 5)
        assert torch.equal(part[[0, 3]], full[[0, 3]])
        assert torch.equal(part[2:, -1], full[2:, -1])
        assert part[()].shape == (10, 5)
        with pytest.raises(IndexError):
            part[10]


def test_byteswapped_reverses_the_bytes_of_each_unit():
    values = torch.tensor([1.0, -2.5, 3.25], dtype=torch.float32)
    swapped = _torch_adapter.byteswapped(values)
    assert swapped.numpy().tobytes() == values.numpy().astype(">f4").tobytes()
    assert torch.equal(_torch_adapter.byteswapped(swapped), values)
    pairs = torch.tensor([1 + 2j, -3 + 0.5j], dtype=torch.complex64)
    # A complex number swaps its two parts separately, as numpy's byteswap does.
    assert _torch_adapter.byteswapped(pairs).numpy().tobytes() == pairs.numpy().byteswap().tobytes()
    halves = torch.tensor([1.0, 2.0], dtype=torch.bfloat16)
    assert _torch_adapter.byteswapped(halves).view(torch.uint8).tolist() == [0x3f, 0x80, 0x40, 0x00]
    small = torch.tensor([1, 2], dtype=torch.uint8)
    assert _torch_adapter.byteswapped(small) is small
    assert _torch_adapter.byteswapped(torch.zeros(0, 3)).shape == (0, 3)


def test_on_big_endian_hosts_loading_and_saving_swap_bytes(tmp_path, monkeypatch):
    """What a big-endian host does, forced here: loaded tensors are swapped copies of the file's
    little-endian bytes, and saving writes swapped copies of the host's memory."""
    path = tmp_path / "le.safetensors"
    values = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    save_file({"f": values, "b": torch.tensor([7], dtype=torch.uint8)}, path)
    little_endian_bytes = path.read_bytes()[-17:-1]
    monkeypatch.setattr(_torch_adapter, "BIG_ENDIAN", True)
    monkeypatch.setattr(st_torch, "BIG_ENDIAN", True)
    loaded = load_file(path)
    assert loaded["f"].numpy().tobytes() == np.frombuffer(little_endian_bytes, "<f4").astype(">f4").tobytes()
    assert loaded["b"].tolist() == [7]
    with safe_open(path, framework="pt") as f:
        assert f.get_tensor("f").numpy().tobytes() == loaded["f"].numpy().tobytes()
        assert f.get_slice("f")[1].numpy().tobytes() == loaded["f"][1].numpy().tobytes()
    from gi.repository import ST

    monkeypatch.setattr(sys.modules["gi.overrides.ST"], "BIG_ENDIAN", True)
    assert ST.File.new_from_path(str(path))["f"].torch().numpy().tobytes() == loaded["f"].numpy().tobytes()
    written = save({"f": values})
    assert written[-16:] == values.numpy().astype(">f4").tobytes()
    assert values.tolist() == [[1.0, 2.0], [3.0, 4.0]]  # the caller's tensor is left alone


def test_numpy_dtypes_are_explicitly_little_endian():
    from safetensors_glib import _numpy_adapter

    for dtype in _numpy_adapter.NUMPY_DTYPES.values():
        assert dtype.str[0] in "<|", dtype
