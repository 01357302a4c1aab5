# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""What Hugging Face's main branch (commit 24b0b28) adds to the 0.8 API, and the argument values
its release already takes that libraries rely on:

- ``safe_open.get_tensors()`` (and on ``_safe_open_handle``): every tensor, in file order;
- ``backend=`` on ``_safe_open_handle``, and the pread backend's own checks (test_pread_backend.py);
- ``device=None`` meaning the CPU (huggingface_hub's load_state_dict_from_file passes it).

The files are written here byte by byte (header text and data by hand), so the expected values
come from this file and not from our writer.
"""

import json
import struct

import numpy as np
import pytest

from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)  # noqa: E402

from safetensors_glib import SafetensorError, _safe_open_handle, safe_open
from safetensors_glib import numpy as st_numpy
from safetensors_glib import torch as st_torch


def write_raw(path, header, data):
    """A safetensors file from a header dict and the data bytes, padded as the format asks."""
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


# In file order: "w" (2x2 F32 1..4), "b" (3 I64 7,8,9), "e" (empty 0x2 F32), "s" (F32 scalar 0.5).
W = [1.0, 2.0, 3.0, 4.0]
B = [7, 8, 9]


@pytest.fixture
def path(tmp_path):
    data = struct.pack("<4f", *W) + struct.pack("<3q", *B) + struct.pack("<f", 0.5)
    return write_raw(tmp_path / "m.safetensors", {
        "__metadata__": {"format": "pt"},
        "s": {"dtype": "F32", "shape": [], "data_offsets": [40, 44]},
        "b": {"dtype": "I64", "shape": [3], "data_offsets": [16, 40]},
        "e": {"dtype": "F32", "shape": [0, 2], "data_offsets": [40, 40]},
        "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    }, data)


def check_torch(tensors):
    assert list(tensors) == ["w", "b", "e", "s"]
    assert torch.equal(tensors["w"], torch.tensor(W).reshape(2, 2))
    assert torch.equal(tensors["b"], torch.tensor(B, dtype=torch.int64))
    assert tensors["e"].shape == (0, 2) and tensors["e"].dtype == torch.float32
    assert tensors["s"].shape == () and tensors["s"].item() == 0.5


@pytest.mark.parametrize("backend", ["mmap", "pread"])
def test_get_tensors_is_every_tensor_in_file_order(path, backend):
    with safe_open(path, framework="pt", device="cpu", backend=backend) as f:
        tensors = f.get_tensors()
        assert list(tensors) == f.offset_keys()
        for name, tensor in tensors.items():
            single = f.get_tensor(name)
            assert tensor.dtype == single.dtype and torch.equal(tensor, single)
    check_torch(tensors)


def test_get_tensors_views_the_handles_memory(path):
    # Zero-copy: get_tensors and get_tensor hand out views of the same private mapping.
    with safe_open(path, framework="pt") as f:
        tensors = f.get_tensors()
        single = f.get_tensor("b")
        tensors["b"][1] = 80
        assert single.tolist() == [7, 80, 9]
    # ... and never of the file itself.
    assert st_torch.load_file(path)["b"].tolist() == B


def test_get_tensors_numpy(path):
    with safe_open(path, framework="np", backend="pread") as f:
        arrays = f.get_tensors()
    assert list(arrays) == ["w", "b", "e", "s"]
    np.testing.assert_array_equal(arrays["w"], np.array(W, dtype=np.float32).reshape(2, 2))
    np.testing.assert_array_equal(arrays["b"], np.array(B, dtype=np.int64))
    assert arrays["e"].shape == (0, 2) and arrays["s"].shape == () and arrays["s"] == 0.5


def test_get_tensors_of_a_closed_handle(path):
    f = safe_open(path, framework="pt")
    f.close()
    with pytest.raises(SafetensorError, match="File is closed"):
        f.get_tensors()


def test_handle_takes_backend_and_get_tensors(path):
    with open(path, "rb") as fileobj:
        with _safe_open_handle(fileobj, framework="pt", backend="pread") as f:
            check_torch(f.get_tensors())
        with pytest.raises(SafetensorError, match='backend "nope" is invalid'):
            _safe_open_handle(fileobj, framework="pt", backend="nope")


def test_device_none_is_the_cpu(path, tmp_path):
    # huggingface_hub's load_state_dict_from_file calls load_file(path, device=None).
    check_torch(st_torch.load_file(path, device=None))
    with safe_open(path, framework="pt", device=None) as f:
        check_torch(f.get_tensors())
        assert f.get_tensor("w").device.type == "cpu"
    with safe_open(path, framework="np", device=None) as f:
        assert f.get_tensor("b").tolist() == B
    model = torch.nn.Linear(2, 2, bias=False)
    model_path = write_raw(tmp_path / "lin.safetensors",
                           {"weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}},
                           struct.pack("<4f", *W))
    # (missing, unexpected): a set and a list, as Hugging Face returns them.
    assert st_torch.load_model(model, model_path, device=None) == (set(), [])
    assert torch.equal(model.weight.detach(), torch.tensor(W).reshape(2, 2))


def test_load_file_pread_equals_mmap(path):
    check_torch(st_torch.load_file(path, backend="pread"))
    assert st_numpy.load_file(path, backend="pread")["b"].tolist() == B


def test_pread_rejects_a_truncated_header(path, tmp_path):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    bad = tmp_path / "truncated.safetensors"
    bad.write_bytes(raw[:8 + n // 2])
    with pytest.raises(SafetensorError, match="Error while deserializing header"):
        safe_open(bad, framework="pt", backend="pread")


def test_pread_rejects_data_offsets_past_the_buffer(tmp_path):
    # A header that claims 4 MiB of data over a 1-byte buffer (their test_data_offset_overflow).
    bad = tmp_path / "lying.safetensors"
    header = b'{"liar":{"dtype":"F32","shape":[1024,1024],"data_offsets":[0,4194304]}}'
    bad.write_bytes(struct.pack("<Q", len(header)) + header + b"\x00")
    for backend in ("mmap", "pread"):
        with pytest.raises(SafetensorError, match="Error while deserializing header"):
            safe_open(bad, framework="pt", backend=backend)
