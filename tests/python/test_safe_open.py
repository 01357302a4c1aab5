# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safe_open: lazy access, metadata, slices checked against torch's own indexing."""

import random

import numpy as np
import pytest

from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)  # noqa: E402

from safetensors_glib import SafetensorError, safe_open
from safetensors_glib.torch import save_file


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "s.safetensors"
    save_file({"z": torch.arange(24, dtype=torch.float32).reshape(2, 3, 4),
               "a": torch.arange(10, dtype=torch.int64),
               "scalar": torch.tensor(1.5),
               "empty": torch.zeros(0, 3),
               "h": torch.arange(6, dtype=torch.bfloat16)}, path, metadata={"k": "v"})
    return path


def test_keys_metadata_and_tensors(path):
    with safe_open(path, framework="pt", device="cpu") as f:
        assert f.keys() == ["a", "empty", "h", "scalar", "z"]
        # Hugging Face's order: widest dtype first, then by name; "empty" takes no bytes at offset 80.
        assert f.offset_keys() == ["a", "empty", "scalar", "z", "h"]
        assert f.metadata() == {"k": "v"}
        assert torch.equal(f.get_tensor("z"), torch.arange(24, dtype=torch.float32).reshape(2, 3, 4))
        assert f.get_tensor("scalar").item() == 1.5
        assert f.get_tensor("empty").shape == (0, 3)
        assert f.get_slice("z").get_shape() == [2, 3, 4]
        assert f.get_slice("h").get_dtype() == "BF16"
        with pytest.raises(SafetensorError, match="does not contain tensor nope"):
            f.get_tensor("nope")
        with pytest.raises(SafetensorError):
            f.get_slice("nope")
        with pytest.raises(SafetensorError):
            f.get_tensor("z\0")
    with pytest.raises(SafetensorError, match="closed"):
        f.keys()


def test_frameworks(path):
    with safe_open(path, framework="np") as f:
        array = f.get_tensor("z")
        assert isinstance(array, np.ndarray) and array.shape == (2, 3, 4)
        np.testing.assert_array_equal(f.get_slice("a")[2:5], np.arange(2, 5))
        with pytest.raises(SafetensorError, match="BF16"):
            f.get_tensor("h")
    for name in ("torch", "pytorch", "numpy"):
        safe_open(path, framework=name)
    with pytest.raises(SafetensorError, match="framework"):
        safe_open(path, framework="tf")
    with pytest.raises(SafetensorError):
        safe_open(path, framework="np", device="cuda")


def random_index(shape, rng):
    items = []
    for size in shape:
        kind = rng.choice(["int", "neg", "slice", "step", "open", "full"])
        if kind == "int":
            items.append(rng.randrange(size))
        elif kind == "neg":
            items.append(-rng.randrange(1, size + 1))
        elif kind == "slice":
            start, stop = rng.randrange(-size - 2, size + 2), rng.randrange(-size - 2, size + 2)
            items.append(slice(start, stop))
        elif kind == "step":
            items.append(slice(rng.choice([None, rng.randrange(size)]), None, rng.randrange(1, 4)))
        elif kind == "open":
            items.append(slice(rng.randrange(size), None))
        else:
            items.append(slice(None))
    cut = rng.randrange(len(items) + 1)
    items = items[:cut]
    if items and rng.random() < 0.3:
        at = rng.randrange(len(items) + 1)
        items.insert(at, Ellipsis)
        del items[at + 1:at + 2]
    return tuple(items) if len(items) != 1 or rng.random() < 0.5 else items[0]


def test_random_slices_match_torch_indexing(tmp_path):
    rng = random.Random(1234)
    tensors = {"t1": torch.randn(7), "t2": torch.randn(5, 6), "t3": torch.randn(3, 4, 5),
               "t4": torch.randint(0, 100, (2, 3, 4, 5)), "b": torch.randn(4, 6).to(torch.bfloat16)}
    path = tmp_path / "r.safetensors"
    save_file(tensors, path)
    with safe_open(path, "pt") as pt, safe_open(path, "np") as np_file:
        for _ in range(400):
            name = rng.choice(list(tensors))
            index = random_index(tensors[name].shape, rng)
            expected = tensors[name][index]
            got = pt.get_slice(name)[index]
            assert got.dtype == expected.dtype
            assert got.shape == expected.shape, (name, index)
            assert torch.equal(got, expected), (name, index)
            assert got.is_contiguous()
            if name == "b":
                continue
            if hf_refuses(index, tensors[name].shape):
                with pytest.raises(SafetensorError, match="out of bounds for tensor dimension"):
                    np_file.get_slice(name)[index]
            else:
                np.testing.assert_array_equal(np_file.get_slice(name)[index], expected.numpy())


def hf_refuses(index, shape):
    """Whether Hugging Face's rule for numpy slices refuses @index: a slice bound (counted from
    the end when negative) that starts at or past the end of its dimension, or stops past it."""
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at:at + 1] = [slice(None)] * (len(shape) - len(items) + 1)
    for item, dim in zip(items, shape):
        if not isinstance(item, slice) or (item.start is None and item.stop is None):
            continue
        start = 0 if item.start is None else item.start
        stop = dim if item.stop is None else item.stop
        start = max(start + dim, 0) if start < 0 else start
        stop = max(stop + dim, 0) if stop < 0 else stop
        if start >= dim or stop > dim:
            return True
    return False


def test_slices_are_copies_and_bad_indices_raise(path):
    with safe_open(path, "pt") as f:
        sliced = f.get_slice("z")
        part = sliced[0, 1:]
        part += 100
        assert torch.equal(f.get_slice("z")[0, 1:], torch.arange(4, 12, dtype=torch.float32).reshape(2, 4))
        assert sliced[...].shape == (2, 3, 4)
        assert sliced[..., 1].shape == (2, 3)
        assert sliced[1, ..., -1].tolist() == [15.0, 19.0, 23.0]
        assert f.get_slice("scalar")[()].item() == 1.5
        assert f.get_slice("scalar")[...].item() == 1.5
        # torch's own indexing and errors, as Hugging Face's safe_open(framework="pt") has.
        with pytest.raises(IndexError):
            sliced[2]
        with pytest.raises(IndexError):
            sliced[0, -4]
        with pytest.raises(IndexError):
            sliced[0, 0, 0, 0]
        with pytest.raises(ValueError):
            sliced[::-1]
        assert sliced[[]].shape == (0, 3, 4)
        assert sliced[None].shape == (1, 2, 3, 4)


def test_tensors_outlive_the_handle(path):
    f = safe_open(path, "pt")
    z = f.get_tensor("z")
    f.close()
    del f
    import gc
    gc.collect()
    assert torch.equal(z, torch.arange(24, dtype=torch.float32).reshape(2, 3, 4))
