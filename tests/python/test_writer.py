# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The streaming writer from Python: Writer and save_file_iter, for numpy and torch."""

import os

import numpy as np
import pytest

import safetensors_glib.numpy as stnp
from safetensors_glib import SafetensorError

from conftest import requires_torch, torch
from reference_layout import reference_bytes, reference_bytes_of_arrays


def _arrays():
    rng = np.random.default_rng(7)
    return {
        "w.big": rng.standard_normal((64, 33)).astype(np.float32),
        "b": np.arange(10, dtype=np.int64),
        "flag": np.array([True, False, True]),
        "empty": np.zeros((0, 4), dtype=np.float16),
        "scalar": np.array(3.5, dtype=np.float64),
    }


def test_numpy_generator_writes_hugging_faces_bytes(tmp_path):
    arrays = _arrays()
    metadata = {"format": "np", "note": "streamed"}
    path = tmp_path / "streamed.safetensors"
    layout = {name: (a.dtype, a.shape) for name, a in arrays.items()}

    def generate():
        # Out of order, and the big one in parts of 5 rows.
        for name in reversed(list(arrays)):
            a = arrays[name]
            if name == "w.big":
                for i in range(0, a.shape[0], 5):
                    yield name, a[i:i + 5]
            else:
                yield name, a

    stnp.save_file_iter(generate(), path, metadata, layout=layout)
    assert path.read_bytes() == reference_bytes_of_arrays(arrays, metadata)
    assert os.listdir(tmp_path) == ["streamed.safetensors"]


def test_numpy_writer_incomplete_leaves_target(tmp_path):
    path = tmp_path / "target.safetensors"
    path.write_bytes(b"old")
    arrays = _arrays()
    with pytest.raises(SafetensorError, match="“b” got 40 of its 80 bytes"):
        with stnp.Writer(path, arrays) as writer:
            for name, a in arrays.items():
                writer.write(name, a[:5] if name == "b" else a)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["target.safetensors"]


def test_numpy_writer_exception_in_block_leaves_target(tmp_path):
    path = tmp_path / "target.safetensors"
    path.write_bytes(b"old")
    arrays = _arrays()

    def generate():
        yield "b", arrays["b"]
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError, match="producer failed"):
        stnp.save_file_iter(generate(), path, layout=arrays)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["target.safetensors"]


def test_numpy_writer_errors(tmp_path):
    arrays = _arrays()
    path = tmp_path / "x.safetensors"
    with stnp.Writer(path, arrays) as writer:
        with pytest.raises(SafetensorError, match="declared as I64"):
            writer.write("b", arrays["b"].astype(np.int32))
        with pytest.raises(SafetensorError, match="do not fit"):
            writer.write("b", np.arange(11, dtype=np.int64))
        with pytest.raises(SafetensorError, match="No tensor “nope”"):
            writer.write("nope", arrays["b"])
        assert writer.remaining("b") == 80
        for name, a in arrays.items():
            writer.write(name, a)
        assert writer.bytes_written == writer.size
    assert stnp.load_file(path)["b"].tolist() == list(range(10))
    with pytest.raises(TypeError):
        stnp.Writer(path, {"a": "not a layout"})
    with pytest.raises(TypeError):
        stnp.save_file_iter([("b",)], path, layout=arrays)


def test_numpy_header_size_reserves_room(tmp_path):
    path = tmp_path / "padded.safetensors"
    arrays = {"a": np.arange(4, dtype=np.uint8)}
    stnp.save_file_iter(arrays.items(), path, {"k": "v"}, layout=arrays, header_size=4096 - 8)
    data = path.read_bytes()
    assert int.from_bytes(data[:8], "little") == 4096 - 8
    assert data[8:4096].rstrip(b" ").endswith(b"}")
    assert stnp.load_file(path)["a"].tolist() == [0, 1, 2, 3]


@requires_torch
def test_torch_generator_writes_hugging_faces_bytes(tmp_path):
    import safetensors_glib.torch as stt

    tensors = {
        "layer.0.weight": torch.randn(32, 16, dtype=torch.bfloat16),
        "layer.0.bias": torch.randn(16),
        "ids": torch.arange(7, dtype=torch.int32),
        "t": torch.randn(4, 4).t(),  # not contiguous: written as its contiguous copy
    }
    layout = {name: torch.empty(t.shape, dtype=t.dtype, device="meta") for name, t in tensors.items()}
    path = tmp_path / "model.safetensors"

    def generate():
        for name, t in tensors.items():
            # Each tensor made when asked, as a converter would.
            yield name, t.clone()

    stt.save_file_iter(generate(), path, {"format": "pt"}, layout=layout)
    torch_names = {torch.bfloat16: "BF16", torch.float32: "F32", torch.int32: "I32"}
    expected = reference_bytes({name: (torch_names[t.dtype], list(t.shape),
                                       t.contiguous().view(torch.uint8).numpy().tobytes())
                                for name, t in tensors.items()}, {"format": "pt"})
    assert path.read_bytes() == expected
    loaded = stt.load_file(path)
    assert torch.equal(loaded["layer.0.weight"], tensors["layer.0.weight"])


@requires_torch
def test_torch_writer_dtype_pairs_and_chunks(tmp_path):
    import safetensors_glib.torch as stt

    weight = torch.randn(10, 3)
    path = tmp_path / "w.safetensors"
    with stt.Writer(path, {"weight": (torch.float32, (10, 3))}) as writer:
        for i in range(0, 10, 3):
            writer.write("weight", weight[i:i + 3])
    assert torch.equal(stt.load_file(path)["weight"], weight)
    with pytest.raises(SafetensorError):
        with stt.Writer(path, {"weight": (torch.float32, (10, 3))}) as writer:
            writer.write("weight", weight.double())
