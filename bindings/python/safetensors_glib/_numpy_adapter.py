# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""numpy arrays over a loaded file's memory, and ST.Files over numpy arrays' memory.

Used by safetensors_glib.numpy and by safe_open(framework="np"); imports numpy and never torch.
The dtypes are the binding layer's, explicitly little-endian ("<f4"), as the file is: on a
big-endian host the arrays read the file's bytes correctly, without a copy.
"""

import numpy as np

from . import _core
from ._core import SafetensorError

# ST.DType <-> numpy dtype. numpy has no bfloat16, float8, F4 or F6: those raise a SafetensorError
# naming the dtype (load them with the torch module, or as raw bytes through ST.Tensor).
NUMPY_DTYPES = {
    _core.dtype_from_name(st_name): np.dtype(typestr)
    for st_name, (typestr, _torch_name) in _core.DTYPES.items()
    if typestr is not None
}
# Keyed by dtype.str ("<f4", "|b1").
_ST_DTYPES = {np_dtype.str: st_dtype for st_dtype, np_dtype in NUMPY_DTYPES.items()}
# Keyed by the dtype object itself: the fastest lookup from an array (array.dtype.str makes a new
# string each time); other byte orders go through _ST_DTYPES.
_ST_DTYPES_BY_DTYPE = {np_dtype: st_dtype for st_dtype, np_dtype in NUMPY_DTYPES.items()}


def numpy_dtype(st_dtype, name):
    np_dtype = NUMPY_DTYPES.get(st_dtype)
    if np_dtype is None:
        raise SafetensorError(f"tensor {name!r} has dtype {_core.dtype_name(st_dtype)}, which numpy "
                              f"{np.__version__} has no dtype for")
    return np_dtype


def device(device):
    """numpy arrays live on the CPU: any other device is refused, as Hugging Face does (None
    means the CPU there too)."""
    if device is not None and device != "cpu":
        if isinstance(device, (str, int)) and not isinstance(device, bool):
            raise SafetensorError(f"Device {device} is not supported for framework numpy")
        raise SafetensorError(f"device {device} is invalid")
    return None


def views(stfile, entries, out, view=None):
    """Adds to @out an array over the file's memory for each of the layout() @entries (run_views()).

    @view: the file's data_view() when the caller has it already.
    """
    names, values = _core.runs_of_entries(entries)
    return run_views(stfile, names, values, out, view)


def run_views(stfile, names, values, out, view=None):
    """Adds to @out an array over the file's memory for each tensor the runs @values describe
    (_core.file_run_values(): the records of st_file_dup_runs()), named by @names in the same
    order, without copying.

    @view: the file's data_view() when the caller has it already.

    One numpy call per run: np.ndarray over the data buffer at the run's offset, the cheapest
    constructor of an array over a buffer (no intermediate array to slice and reshape); a run of
    equal rows is one array whose rows are the arrays.
    """
    ndarray = np.ndarray
    numpy_dtypes = NUMPY_DTYPES
    at = k = 0
    n_values = len(values)
    while at < n_values:
        count, dtype, begin, end, n_dims = values[at:at + 5]
        at += 5 + n_dims
        shape = values[at - n_dims:at]
        np_dtype = numpy_dtypes.get(dtype)
        if np_dtype is None:
            numpy_dtype(dtype, names[k])
        if begin < 0:
            raise SafetensorError(f"tensor {names[k]!r} was set after loading: it is not in the file's data")
        if end == begin:
            # Nothing to share: an empty array of its own, as for any empty tensor.
            for name in names[k:k + count]:
                out[name] = np.empty(shape, dtype=np_dtype)
        else:
            if view is None:
                view = _core.data_view(stfile)
            if count == 1:
                out[names[k]] = ndarray(shape, np_dtype, view, begin)
            elif shape:
                # (A file of equal rows is one run: its names as they are, not a copy.)
                rows = names if count == len(names) else names[k:k + count]
                out.update(zip(rows, ndarray([count] + shape, np_dtype, view, begin)))
            else:
                # Rows of a 1-D array would be numpy scalars, not 0-d arrays over the mapping.
                size = np_dtype.itemsize
                for name in names[k:k + count]:
                    out[name] = ndarray((), np_dtype, view, begin)
                    begin += size
        k += count
    return out


def prepare(tensors, metadata):
    """An ST.File over the arrays' memory: C-contiguous little-endian arrays are read in place;
    others are converted first (big-endian ones to little-endian values), as Hugging Face does."""
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
            little = array.dtype.newbyteorder("<") if array.dtype.byteorder in (">", "=") else None
            st_dtype = _ST_DTYPES.get(little.str) if little is not None else None
            if st_dtype is None:
                raise ValueError(f"Key `{name}` has dtype {array.dtype}, which safetensors cannot store")
            array = array.astype(little)
            keep_alive.append(array)
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
            keep_alive.append(array)
        entries.append((name, st_dtype, array.shape, array.ctypes.data, array.nbytes))
    return _core.build_file(entries, metadata, keep_alive)


class Framework:
    """What safe_open needs to make numpy arrays."""

    name = "numpy"

    device = staticmethod(device)

    @staticmethod
    def tensors(stfile, view, device):
        return _core.file_views(stfile, lambda f, names, values, out: run_views(f, names, values, out, view), {})

    @staticmethod
    def tensor(stfile, view, entry, device):
        return views(stfile, [entry], {}, view)[entry[0]]

    @staticmethod
    def sliced(stfile, view, entry, index, device):
        from ._slicing import numpy_index

        index = numpy_index(index, entry.shape)
        full = views(stfile, [entry], {}, view)[entry[0]]
        return np.array(full[index], copy=True, order="C")
