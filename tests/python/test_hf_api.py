# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The framework-free surface of Hugging Face's safetensors 0.8 (top level, numpy slicing, the
exceptions of I/O failures) and the opt-in alias: what needs no torch."""

import errno
import os
import subprocess
import sys

import numpy as np
import pytest

from gi.repository import Gio, GLib

import safetensors_glib
from safetensors_glib import SafetensorError, TensorSpec, deserialize, safe_open, serialize, serialize_file
from safetensors_glib._core import translate_error
from safetensors_glib.numpy import load, load_file, save, save_file


def test_the_top_level_has_hugging_faces_names():
    for name in ("safe_open", "SafetensorError", "serialize", "serialize_file", "deserialize",
                 "TensorSpec", "__version__", "_safe_open_handle"):
        assert hasattr(safetensors_glib, name), name
    assert safetensors_glib.__version__ == safetensors_glib.ST.VERSION_S
    assert issubclass(SafetensorError, Exception)


def test_tensor_spec_checks_its_dtype_and_counts_f4_elements():
    data = np.arange(6, dtype=np.float32)
    spec = TensorSpec(dtype="float32", shape=(2, 3), data_ptr=data.ctypes.data, data_len=data.nbytes)
    assert (spec.dtype, spec.shape, spec.data_ptr, spec.data_len) == ("F32", [2, 3], data.ctypes.data, 24)
    assert repr(spec).startswith("TensorSpec(dtype='F32', shape=[2, 3]")
    with pytest.raises(AttributeError):
        spec.dtype = "I8"
    assert TensorSpec(dtype="float4_e2m1fn_x2", shape=[2, 2], data_ptr=0, data_len=4).shape == [2, 4]
    with pytest.raises(SafetensorError, match='Unknown dtype "nonsense"'):
        TensorSpec(dtype="nonsense", shape=[1], data_ptr=0, data_len=0)
    with pytest.raises(TypeError):
        TensorSpec("float32", [1], 0, 4)  # keywords only


def padded_header(text):
    """A header as Hugging Face writes it: the length, then the JSON padded with spaces to 8 bytes."""
    text += " " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text.encode()


def test_serialize_gives_hugging_faces_bytes(tmp_path):
    arrays = {"b": np.arange(4, dtype=np.int16), "a": np.ones((2, 2), dtype=np.float64)}
    specs = {name: TensorSpec(dtype=array.dtype.name, shape=array.shape, data_ptr=array.ctypes.data,
                              data_len=array.nbytes) for name, array in arrays.items()}
    # Typed out: F64 before I16 (widest alignment first), 1.0 as a little-endian double.
    expected = (padded_header('{"__metadata__":{"k":"v"},'
                              '"a":{"dtype":"F64","shape":[2,2],"data_offsets":[0,32]},'
                              '"b":{"dtype":"I16","shape":[4],"data_offsets":[32,40]}}')
                + bytes.fromhex("000000000000f03f") * 4 + bytes.fromhex("0000010002000300"))
    assert serialize(specs, metadata={"k": "v"}) == expected
    assert save(arrays, metadata={"k": "v"}) == expected
    serialize_file(specs, tmp_path / "s.safetensors", metadata={"k": "v"})
    assert (tmp_path / "s.safetensors").read_bytes() == expected
    with pytest.raises(TypeError):
        serialize({"a": {"dtype": "float32", "shape": [1], "data_ptr": 0, "data_len": 0}})
    wrong = TensorSpec(dtype="float32", shape=[3], data_ptr=arrays["a"].ctypes.data, data_len=8)
    with pytest.raises(SafetensorError, match="^Error while serializing: "):
        serialize({"a": wrong})


# Hugging Face's TensorSpec takes torch's dtype names; the header names, typed out (design.md).
SPEC_DTYPES = [
    ("bool", "BOOL", 1), ("uint8", "U8", 1), ("int8", "I8", 1), ("float8_e5m2", "F8_E5M2", 1),
    ("float8_e4m3fn", "F8_E4M3", 1), ("float8_e8m0fnu", "F8_E8M0", 1), ("float8_e4m3fnuz", "F8_E4M3FNUZ", 1),
    ("float8_e5m2fnuz", "F8_E5M2FNUZ", 1), ("int16", "I16", 2), ("uint16", "U16", 2), ("float16", "F16", 2),
    ("bfloat16", "BF16", 2), ("int32", "I32", 4), ("uint32", "U32", 4), ("float32", "F32", 4),
    ("complex64", "C64", 8), ("float64", "F64", 8), ("int64", "I64", 8), ("uint64", "U64", 8),
]


@pytest.mark.parametrize("torch_name,header_name,size", SPEC_DTYPES)
def test_tensor_spec_writes_each_dtype_under_its_header_name(torch_name, header_name, size):
    data = bytes(range(1, 2 * size + 1))
    buffer = np.frombuffer(data, dtype=np.uint8)
    spec = TensorSpec(dtype=torch_name, shape=[2], data_ptr=buffer.ctypes.data, data_len=len(data))
    assert spec.dtype == header_name
    expected = padded_header('{"x":{"dtype":"%s","shape":[2],"data_offsets":[0,%d]}}' % (header_name, 2 * size))
    assert serialize({"x": spec}) == expected + data


def test_deserialize_lists_the_tensors_in_data_order():
    data = save({"z": np.array([1, 2], dtype=np.int32), "a": np.array([3.5], dtype=np.float64)})
    items = deserialize(data)
    assert [name for name, _ in items] == ["a", "z"]
    name, info = items[1]
    assert info["dtype"] == "I32" and info["shape"] == [2]
    assert isinstance(info["data"], bytearray) and bytes(info["data"]) == b"\x01\0\0\0\x02\0\0\0"
    with pytest.raises(SafetensorError, match="^Error while deserializing: "):
        deserialize(data[:-1])


@pytest.fixture
def sliced(tmp_path):
    path = tmp_path / "slice.safetensors"
    save_file({"a": np.arange(50, dtype=np.float64).reshape(10, 5)}, path)
    with safe_open(path, framework="np") as f:
        yield f.get_slice("a"), np.arange(50, dtype=np.float64).reshape(10, 5)


def test_numpy_slices_take_what_hugging_face_takes(sliced):
    part, full = sliced
    for index in [slice(None), (), slice(None, 2), (slice(None), slice(None, 2)), (0, slice(None, 2)),
                  (slice(2, None), 0), (slice(2, None), -1), (slice(2, None), -5), 3, (9, 4)]:
        np.testing.assert_array_equal(part[index], full[index])
    assert part[[]].shape == (0, 5)
    assert part[0:0].shape == (0, 5)


def test_numpy_slices_refuse_with_hugging_faces_messages(sliced):
    part, _full = sliced
    cases = [
        ((slice(2, None), -6), "Invalid index -6 for dimension 1 of size 5"),
        ("list", "Non empty lists are not implemented"),
        ((slice(2, None), 20), "Error during slicing [2:, 20] with shape [10, 5]: "
                               "index 20 out of bounds for tensor dimension #1 of size 5"),
        (slice(None, 20), "Error during slicing [:20] with shape [10, 5]: "
                          "index 19 out of bounds for tensor dimension #0 of size 10"),
        ((slice(None), slice(None, 20)), "Error during slicing [:, :20] with shape [10, 5]: "
                                         "index 19 out of bounds for tensor dimension #1 of size 5"),
        # Checked from the last dimension to the first, as Hugging Face's core does.
        ((slice(None, 20), slice(None, 20)), "Error during slicing [:20, :20] with shape [10, 5]: "
                                             "index 19 out of bounds for tensor dimension #1 of size 5"),
        (slice(10, None), "Error during slicing [10:] with shape [10, 5]: "
                          "index 10 out of bounds for tensor dimension #0 of size 10"),
        ((-1, -7), "Invalid index -7 for dimension 1 of size 5"),
    ]
    for index, message in cases:
        with pytest.raises(SafetensorError) as info:
            part[[0, 1] if index == "list" else index]
        assert str(info.value) == message


def test_numpy_slices_beyond_hugging_face(sliced):
    """Extras, listed in doc/differences.md: steps, `...`, negative slice bounds, and a clear error
    for too many indices (Hugging Face drops them)."""
    part, full = sliced
    for index in [slice(None, None, 2), (slice(1, 9, 3), slice(None, None, 2)), Ellipsis, (Ellipsis, 1),
                  (2, Ellipsis), slice(-3, None), (slice(-4, -1), slice(None, -2))]:
        np.testing.assert_array_equal(part[index], full[index])
        assert part[index].flags.c_contiguous
    assert part[3:1].shape == (0, 5)
    with pytest.raises(SafetensorError, match="more slicing indexes than dimensions in tensor"):
        part[0, 0, 0]
    with pytest.raises(SafetensorError, match="positive slice steps"):
        part[::-1]
    with pytest.raises(TypeError):
        part["x"]
    with pytest.raises(TypeError):
        part[0.5]


def test_framework_and_device_errors(tmp_path):
    path = tmp_path / "f.safetensors"
    save_file({"a": np.zeros(1)}, path)
    with pytest.raises(SafetensorError, match="^framework nope is invalid$"):
        safe_open(path, framework="nope")
    with pytest.raises(SafetensorError, match="^Device cuda is not supported for framework numpy$"):
        safe_open(path, framework="np", device="cuda")
    with open(path, "rb") as handle:
        with safetensors_glib._safe_open_handle(handle, "np") as f:
            assert f.keys() == ["a"]
    closed = safe_open(path, "np")
    with closed:
        pass
    with pytest.raises(SafetensorError, match="^File is closed$"):
        closed.keys()


def test_a_missing_file_raises_hugging_faces_file_not_found_error(tmp_path):
    missing = str(tmp_path / "missing.safetensors")
    for opener in (lambda: safe_open(missing, framework="np"), lambda: load_file(missing)):
        with pytest.raises(FileNotFoundError) as info:
            opener()
        assert str(info.value) == f"No such file or directory: {missing}"
        assert info.value.errno == errno.ENOENT and info.value.filename == missing
        assert info.value.gerror.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)


def test_open_failures_carry_their_errno(tmp_path):
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    long_name = str(tmp_path / ("n" * 300))
    for path, code in ((str(loop), errno.ELOOP), (long_name, errno.ENAMETOOLONG)):
        with pytest.raises(FileNotFoundError) as info:
            load_file(path)
        assert info.value.errno == code, path
        assert str(info.value) == f"{os.strerror(code)}: {path}"
    with pytest.raises(IsADirectoryError) as info:
        load_file(tmp_path)
    assert info.value.errno == errno.EISDIR


def test_invalid_files_raise_safetensor_error_with_hugging_faces_prefixes(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x10\0\0\0\0\0\0\0{}")
    with pytest.raises(SafetensorError, match="^Error while deserializing header: ") as info:
        load_file(path)
    assert info.value.gerror is not None and not isinstance(info.value, OSError)
    with pytest.raises(SafetensorError, match="^Error while deserializing: "):
        load(path.read_bytes())


def test_a_failed_save_raises_safetensor_error_that_is_also_the_oserror_of_its_errno(tmp_path):
    target = tmp_path / "no" / "such" / "dir.safetensors"
    with pytest.raises(SafetensorError) as info:
        save_file({"a": np.zeros(1)}, target)
    assert isinstance(info.value, FileNotFoundError) and info.value.errno == errno.ENOENT
    assert str(info.value).startswith("Error while serializing: I/O error: ")
    assert info.value.filename == str(target)


@pytest.mark.parametrize("code,message,expected", [
    ("READ_ONLY", "Could not create “x”: Read-only file system", errno.EROFS),
    ("FILENAME_TOO_LONG", "Could not open “x”: File name too long", errno.ENAMETOOLONG),
    ("TOO_MANY_LINKS", "Could not open “x”: Too many levels of symbolic links", errno.ELOOP),
    ("PERMISSION_DENIED", "Could not open “x”: Permission denied", errno.EACCES),
    # From the code alone, never the message (whose words follow the locale): EPERM shares
    # PERMISSION_DENIED with EACCES, and FAILED names no single errno value.
    ("PERMISSION_DENIED", "Could not open “x”: Operation not permitted", errno.EACCES),
    ("NO_SPACE", "Could not write “x”: No space left on device", errno.ENOSPC),
    ("NO_SPACE", "„x“ konnte nicht geschrieben werden: Auf dem Gerät ist kein Speicherplatz mehr "
                 "verfügbar", errno.ENOSPC),
    ("NO_SPACE", "Could not write “x”: Permission denied", errno.ENOSPC),
    ("FAILED", "Could not write “x”: Input/output error", None),
    ("READ_ONLY", "a message without the system's words", errno.EROFS),
])
def test_every_io_error_carries_its_errno(code, message, expected):
    gerror = GLib.Error.new_literal(Gio.io_error_quark(), message, getattr(Gio.IOErrorEnum, code))
    for action in ("open", "save"):
        exc = translate_error(gerror, "x", action)
        assert isinstance(exc, OSError) and exc.errno == expected and exc.filename == "x"
        assert type(exc) is not OSError or expected in (errno.EROFS, errno.ENOSPC, None,
                                                         errno.ENAMETOOLONG, errno.ELOOP)
        assert isinstance(exc, SafetensorError) == (action == "save")
    assert isinstance(translate_error(gerror, "x", "save"), type(OSError(expected, "")))


def test_cancellation_is_a_safetensor_error_only():
    gerror = GLib.Error.new_literal(Gio.io_error_quark(), "Operation was cancelled", Gio.IOErrorEnum.CANCELLED)
    exc = translate_error(gerror, "x", "save")
    assert type(exc) is SafetensorError and exc.gerror is gerror


def run_python(code, *args):
    env = dict(os.environ)
    return subprocess.run([sys.executable, *args] if not code else [sys.executable, "-c", code, *args],
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_alias_is_opt_in_only():
    result = run_python("import safetensors_glib, safetensors_glib.numpy\n"
                        "import importlib.util, sys\n"
                        "assert 'safetensors' not in sys.modules\n"
                        "import safetensors_glib.compat\n"
                        "import safetensors, safetensors.numpy\n"
                        "assert safetensors is safetensors_glib and safetensors.numpy is safetensors_glib.numpy\n"
                        "from safetensors import safe_open, SafetensorError, serialize\n"
                        "assert 'torch' not in sys.modules\n"
                        "import importlib.metadata\n"
                        "assert importlib.metadata.version('safetensors') == safetensors_glib.__version__\n"
                        "try:\n    import safetensors.flax\nexcept ImportError:\n    print('no flax')\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no flax"


def test_the_alias_refuses_to_mix_with_hugging_faces_package():
    result = run_python("import sys, types\n"
                        "sys.modules['safetensors'] = types.ModuleType('safetensors')\n"
                        "import safetensors_glib.compat\n")
    assert result.returncode != 0 and "is imported already" in result.stderr


def test_run_executes_a_program_under_the_alias(tmp_path):
    script = tmp_path / "program.py"
    script.write_text("import sys\nimport safetensors.numpy\nprint(safetensors.numpy.__name__, sys.argv[1:])\n")
    result = run_python(None, "-m", "safetensors_glib.run", str(script), "one", "two")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "safetensors_glib.numpy ['one', 'two']"
    result = run_python(None, "-m", "safetensors_glib.run")
    assert result.returncode == 2 and "usage" in result.stderr
