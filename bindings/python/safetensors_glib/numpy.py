# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safetensors for numpy, a drop-in for Hugging Face's ``safetensors.numpy``.

Switch with one line::

    # from safetensors.numpy import load_file, save_file
    from safetensors_glib.numpy import load_file, save_file

Loaded arrays are writable views of the file's private copy-on-write mapping (writes never reach
the file; the mapping lives as long as any array from it). Saving reads C-contiguous
little-endian arrays in place; other arrays are converted first, as Hugging Face's does.
``Writer`` and ``save_file_iter`` write a file array by array, in bounded memory (doc/python.md).
"""

import numpy as np


from . import _core
from ._core import SafetensorError
from ._numpy_adapter import prepare as _prepare
from ._numpy_adapter import run_views as _run_views
from ._safe_open import safe_open
from . import _numpy_adapter
from . import _writer

__all__ = ["SafetensorError", "safe_open", "load_file", "load", "save_file", "save", "Writer", "save_file_iter"]


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
    return _core.load_path(filename, _run_views, backend)


def load(data):
    """Loads the arrays of a safetensors file given as bytes (copied once into a writable buffer).

    Returns:
        `Dict[str, np.ndarray]`: the arrays by name.
    """
    return _core.load_bytes(data, _run_views)


def save_file(tensor_dict, filename, metadata=None, max_shard_size=None, *, sync=False):
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
    _core.save_path(_prepare, tensor_dict, filename, metadata, max_shard_size, sync)


def save(tensor_dict, metadata=None):
    """Serializes a dict of numpy arrays to the bytes of a safetensors file.

    Returns:
        `bytes`: the content of a safetensors file.
    """
    return _core.save_to_bytes(_prepare, tensor_dict, metadata)


def _st_dtype(dtype):
    dtype = np.dtype(dtype)
    st_dtype = _numpy_adapter._ST_DTYPES.get(dtype.newbyteorder("<").str if dtype.byteorder in (">", "=")
                                             else dtype.str)
    if st_dtype is None:
        raise ValueError(f"dtype {dtype}, which safetensors cannot store")
    return st_dtype


class _Chunks:
    """What the streaming writer needs from numpy: the layout an entry declares, the memory of a chunk."""

    @staticmethod
    def spec(obj):
        if isinstance(obj, np.ndarray):
            return _st_dtype(obj.dtype), obj.shape
        if isinstance(obj, (tuple, list)) and len(obj) == 2:
            return _st_dtype(obj[0]), tuple(obj[1])
        raise TypeError(f"layout entries must be arrays or (dtype, shape) pairs, not {obj!r}")

    @staticmethod
    def chunk(array):
        if isinstance(array, np.generic):
            array = np.asarray(array)
        elif not isinstance(array, np.ndarray):
            raise ValueError(f"expected np.ndarray but received {type(array)}")
        st_dtype = _st_dtype(array.dtype)
        if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and _core.BIG_ENDIAN):
            array = array.astype(array.dtype.newbyteorder("<"))
        array = np.ascontiguousarray(array)
        return st_dtype, array.ctypes.data, array.nbytes, array


class Writer(_writer.Writer):
    """Writes a safetensors file array by array, in bounded memory: as `safetensors_glib.torch.Writer`,
    with @layout a dict of arrays or `(dtype, shape)` pairs."""

    def __init__(self, filename, layout, metadata=None, *, sync=False, header_size=0):
        super().__init__(filename, layout, metadata, sync=sync, header_size=header_size, _framework=_Chunks)


def save_file_iter(tensors, filename, metadata=None, *, layout, sync=False, header_size=0):
    """Saves the arrays an iterable yields, as `(name, array)` pairs, holding one at a time: as
    `safetensors_glib.torch.save_file_iter`."""
    _writer.save_file_iter(_Chunks, tensors, filename, metadata, layout, sync, header_size)
