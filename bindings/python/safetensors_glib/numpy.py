# SPDX-License-Identifier: Apache-2.0
"""safetensors for numpy, a drop-in for Hugging Face's ``safetensors.numpy``.

Switch with one line::

    # from safetensors.numpy import load_file, save_file
    from safetensors_glib.numpy import load_file, save_file

Loaded arrays are writable views of the file's private copy-on-write mapping (writes never reach
the file; the mapping lives as long as any array from it). Saving reads C-contiguous
little-endian arrays in place; other arrays are converted first, as Hugging Face's does.
"""

import numpy as np

from . import _core
from ._core import SafetensorError
from ._safe_open import safe_open

__all__ = ["SafetensorError", "safe_open", "load_file", "load", "save_file", "save"]

# ST.DType <-> numpy dtype. numpy has no bfloat16, float8, F4 or F6: those raise a SafetensorError
# naming the dtype (load them with the torch module, or as raw bytes through ST.Tensor).
_NUMPY_DTYPES = {
    _core.dtype_from_name(st_name): np.dtype(np_name)
    for st_name, np_name in (
        ("BOOL", "bool"), ("U8", "<u1"), ("I8", "<i1"), ("I16", "<i2"), ("U16", "<u2"),
        ("F16", "<f2"), ("I32", "<i4"), ("U32", "<u4"), ("F32", "<f4"), ("C64", "<c8"),
        ("F64", "<f8"), ("I64", "<i8"), ("U64", "<u8"),
    )
}
# Keyed by dtype.str ("<f4", "|b1").
_ST_DTYPES = {np_dtype.str: st_dtype for st_dtype, np_dtype in _NUMPY_DTYPES.items()}
# Keyed by the dtype object itself: the fastest lookup from an array (array.dtype.str makes a new
# string each time), for the native little-endian dtypes; others go through _ST_DTYPES.
_ST_DTYPES_BY_DTYPE = {np_dtype: st_dtype for st_dtype, np_dtype in _NUMPY_DTYPES.items()}


def _numpy_dtype(st_dtype, name):
    np_dtype = _NUMPY_DTYPES.get(st_dtype)
    if np_dtype is None:
        raise SafetensorError(f"tensor {name!r} has dtype {_core.dtype_name(st_dtype)}, which numpy "
                              f"{np.__version__} has no dtype for")
    return np_dtype


def _device(device):
    if device != "cpu":
        raise SafetensorError(f"device {device!r} is invalid for numpy: arrays live on the CPU")
    return None


def _views(stfile, entries, out, view=None):
    """Adds to @out an array over the file's mapping for each entry, without copying.

    As in the torch module, consecutive same-dtype tensors are one np.frombuffer, and
    consecutive equal shapes within it one reshape whose rows are the arrays.
    """
    for i, j, begin, end in _core.runs(entries):
        name, dtype, shape = entries[i][:3]
        np_dtype = _numpy_dtype(dtype, name)
        if begin == end:
            out[name] = np.empty(shape, dtype=np_dtype)
            continue
        if view is None:
            view = _core.data_view(stfile)
        itemsize = np_dtype.itemsize
        run = np.frombuffer(view, np_dtype, (end - begin) // itemsize, begin)
        k = i
        start = 0
        while k < j:
            shape = entries[k][2]
            m = k + 1
            while m < j and entries[m][2] == shape:
                m += 1
            count = entries[k][4] // itemsize
            if m - k == 1 or not shape:
                # (Rows of a 1-D block would be numpy scalars, not 0-d arrays over the mapping.)
                for entry in entries[k:m]:
                    out[entry[0]] = run[start:start + count].reshape(shape)
                    start += count
                k = m
                continue
            block = run[start:start + count * (m - k)].reshape([m - k] + shape)
            for entry, array in zip(entries[k:m], block):
                out[entry[0]] = array
            start += count * (m - k)
            k = m
    return out


def load_file(filename, *, backend="mmap"):
    """Loads a safetensors file (or a sharded checkpoint's ``.index.json``) into numpy arrays.

    Args:
        filename (`str` or `os.PathLike`): the file to load.

        backend (`str`, defaults to `"mmap"`): `"pread"` reads the file into memory instead of mapping
            it, out of reach of SIGBUS when another program truncates the file.

    Returns:
        `Dict[str, np.ndarray]`: the arrays by name, in the order of their data in the file.

    Raises:
        FileNotFoundError: no such file. SafetensorError: the file is not valid safetensors.
    """
    return _core.load_path(filename, _views, backend)


def load(data):
    """Loads the arrays of a safetensors file given as bytes (copied once into a writable buffer).

    Returns:
        `Dict[str, np.ndarray]`: the arrays by name.
    """
    return _core.load_bytes(data, _views)


def _prepare(tensors, metadata):
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, np.ndarray] but received {type(tensors)}")
    entries = []
    keep_alive = [tensors]
    by_dtype = _ST_DTYPES_BY_DTYPE
    for name, array in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, not {type(name).__name__} ({name!r})")
        if isinstance(array, np.generic):
            array = np.asarray(array)
            keep_alive.append(array)
        elif not isinstance(array, np.ndarray):
            raise ValueError(f"Key `{name}` is invalid, expected np.ndarray but received {type(array)}")
        st_dtype = by_dtype.get(array.dtype)
        if st_dtype is None:
            st_dtype = _ST_DTYPES.get(array.dtype.str)
        if st_dtype is None:
            swapped = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else None
            st_dtype = _ST_DTYPES.get(swapped.str) if swapped is not None else None
            if st_dtype is None:
                raise ValueError(f"Key `{name}` has dtype {array.dtype}, which safetensors cannot store")
            array = array.astype(swapped)
            keep_alive.append(array)
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
            keep_alive.append(array)
        entries.append((name, st_dtype, array.shape, array.ctypes.data, array.nbytes))
    return _core.build_file(entries, metadata, keep_alive)


def save_file(tensors, filename, metadata=None, max_shard_size=None, *, sync=False):
    """Saves a dict of numpy arrays to a safetensors file, atomically.

    Args:
        tensors (`Dict[str, np.ndarray]`): the arrays.
        filename (`str` or `os.PathLike`): where to save.
        metadata (`Dict[str, str]`, optional): text metadata, stored in the header.
        max_shard_size (`int` or `str`, optional): write shards plus an index, as
            `safetensors_glib.torch.save_file` does.
        sync (`bool`, defaults to `False`): fsync the file(s) and the folder before returning.

    Returns:
        `None`
    """
    _core.save_path(_prepare, tensors, filename, metadata, max_shard_size, sync)


def save(tensors, metadata=None):
    """Serializes a dict of numpy arrays to the bytes of a safetensors file.

    Returns:
        `bytes`: the content of a safetensors file.
    """
    return _core.save_to_bytes(_prepare, tensors, metadata)


class _Framework:
    name = "np"
    dtype_of = staticmethod(_numpy_dtype)
    device = staticmethod(_device)

    @staticmethod
    def tensor(stfile, view, entry, device):
        return _views(stfile, [entry], {}, view)[entry[0]]

    @staticmethod
    def sliced(stfile, view, entry, index, device):
        full = _views(stfile, [entry], {}, view)[entry[0]]
        return np.array(full[index], copy=True, order="C")
