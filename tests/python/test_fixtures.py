# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Every reference file of tests/fixtures through the Python API: valid files load with the
expected tensors and metadata, saving them again gives Hugging Face's bytes, invalid files raise
SafetensorError carrying the library's GLib.Error."""

import hashlib

import pytest
import numpy as np

from gi.repository import ST

import safetensors_glib
import safetensors_glib.numpy as st_numpy
from safetensors_glib import SafetensorError, safe_open

from conftest import ANY_FRAMEWORK, FIXTURES_DIR, invalid_cases, torch, valid_cases

if torch is not None:
    import safetensors_glib.torch as st_torch

NUMPY_DTYPES = {"BOOL", "U8", "I8", "I16", "U16", "F16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"}
TORCH_DTYPES = {"BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32", "C64", "F64", "I64"}


def sha256_of(tensor):
    if torch is not None and isinstance(tensor, torch.Tensor):
        flat = tensor.reshape(-1).contiguous()
        data = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    else:
        data = np.ascontiguousarray(tensor).tobytes()
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("name,case", valid_cases(), ids=[n for n, _ in valid_cases()])
def test_valid_file_loads_with_expected_tensors(name, case):
    path = FIXTURES_DIR / case["file"]
    expected = case["tensors"]
    with safe_open(path, framework=ANY_FRAMEWORK) as f:
        assert f.keys() == sorted(expected)
        assert f.offset_keys() == sorted(expected, key=lambda n: tuple(expected[n]["data_offsets"]))
        assert f.metadata() == case["metadata"]
        for tensor_name, info in expected.items():
            sliced = f.get_slice(tensor_name)
            assert sliced.get_dtype() == info["dtype"]
            assert sliced.get_shape() == info["shape"]

    torch_ok = torch is not None and all(info["dtype"] in TORCH_DTYPES for info in expected.values())
    numpy_ok = all(info["dtype"] in NUMPY_DTYPES for info in expected.values())
    if torch_ok:
        loaded = st_torch.load_file(path)
        assert set(loaded) == set(expected)
        for tensor_name, info in expected.items():
            assert list(loaded[tensor_name].shape) == info["shape"]
            assert sha256_of(loaded[tensor_name]) == info["sha256"], tensor_name
    if numpy_ok:
        loaded = st_numpy.load_file(path)
        for tensor_name, info in expected.items():
            assert list(loaded[tensor_name].shape) == info["shape"]
            assert sha256_of(loaded[tensor_name]) == info["sha256"], tensor_name
    # Every tensor's bytes, whatever its dtype, through the override.
    stfile = ST.File.new_from_path(path)
    for tensor_name, info in expected.items():
        tensor = stfile[tensor_name]
        raw = bytes(tensor.get_bytes().get_data() or b"")
        assert hashlib.sha256(raw).hexdigest() == info["sha256"], tensor_name


@pytest.mark.parametrize("name,case", [c for c in valid_cases() if c[1].get("canonical")],
                         ids=[n for n, c in valid_cases() if c.get("canonical")])
def test_saving_a_loaded_file_gives_hugging_faces_bytes(name, case, tmp_path):
    path = FIXTURES_DIR / case["file"]
    canonical = (FIXTURES_DIR / case["canonical"]).read_bytes()
    dtypes = {info["dtype"] for info in case["tensors"].values()}
    metadata = case["metadata"]
    if torch is not None and dtypes <= TORCH_DTYPES:
        tensors = st_torch.load_file(path)
        assert st_torch.save(tensors, metadata=metadata) == canonical
        st_torch.save_file(tensors, tmp_path / "torch.safetensors", metadata=metadata)
        assert (tmp_path / "torch.safetensors").read_bytes() == canonical
    if dtypes <= NUMPY_DTYPES:
        arrays = st_numpy.load_file(path)
        assert st_numpy.save(arrays, metadata=metadata) == canonical
        st_numpy.save_file(arrays, tmp_path / "numpy.safetensors", metadata=metadata)
        assert (tmp_path / "numpy.safetensors").read_bytes() == canonical
    if not ((torch is not None and dtypes <= TORCH_DTYPES) or dtypes <= NUMPY_DTYPES):
        # No framework has every dtype of this file: the library's own writer, through the override.
        stfile = ST.File.new_from_path(path)
        assert bytes(stfile.save_to_bytes().get_data()) == canonical


@pytest.mark.parametrize("name,case", invalid_cases(), ids=[n for n, _ in invalid_cases()])
def test_invalid_file_raises_safetensor_error(name, case):
    path = FIXTURES_DIR / case["file"]
    loaders = [st_numpy.load_file, lambda p: safe_open(p, "np"), lambda p: st_numpy.load(p.read_bytes())]
    if torch is not None:
        loaders += [st_torch.load_file, lambda p: safe_open(p, "pt"), lambda p: st_torch.load(p.read_bytes())]
    for load in loaders:
        with pytest.raises(SafetensorError) as info:
            load(path)
        assert info.value.gerror is not None
        assert info.value.gerror.domain == "st-error-quark"
        assert info.value.code == info.value.gerror.code
        assert str(info.value)
    if torch is not None:
        assert st_torch.SafetensorError is safetensors_glib.SafetensorError
    assert st_numpy.SafetensorError is safetensors_glib.SafetensorError
