# SPDX-License-Identifier: Apache-2.0
"""safe_open: lazy access to one file's tensors, as Hugging Face's ``safetensors.safe_open``."""

import operator

from . import _core
from ._core import SafetensorError

__all__ = ["safe_open"]

_FRAMEWORKS = {"pt": "torch", "torch": "torch", "pytorch": "torch", "np": "numpy", "numpy": "numpy"}


def _framework(framework):
    module = _FRAMEWORKS.get(framework) if isinstance(framework, str) else None
    if module is None:
        raise SafetensorError(f"framework {framework!r} is not supported: use \"pt\" (torch) or \"np\" (numpy)")
    if module == "torch":
        from . import torch as framework_module
    else:
        from . import numpy as framework_module
    return framework_module._Framework


def normalize_index(index, shape):
    """Checks an index (ints, negative ints, slices with a positive step, one Ellipsis) against a
    shape and returns it as a tuple that torch and numpy index the same way."""
    items = index if isinstance(index, tuple) else (index,)
    checked = []
    n_ellipsis = 0
    for item in items:
        if item is Ellipsis:
            n_ellipsis += 1
            if n_ellipsis > 1:
                raise IndexError("an index can only have a single ellipsis ('...')")
            checked.append(item)
        elif isinstance(item, slice):
            start = None if item.start is None else operator.index(item.start)
            stop = None if item.stop is None else operator.index(item.stop)
            step = None if item.step is None else operator.index(item.step)
            if step is not None and step <= 0:
                raise ValueError(f"slice step must be positive, not {step}")
            checked.append(slice(start, stop, step))
        elif isinstance(item, bool) or item is None:
            raise TypeError(f"invalid index {item!r}: expected an int, a slice or ...")
        else:
            try:
                checked.append(operator.index(item))
            except TypeError:
                raise TypeError(f"invalid index {item!r}: expected an int, a slice or ...") from None
    rank = len(shape)
    n_dims_indexed = len(checked) - n_ellipsis
    if n_dims_indexed > rank:
        raise IndexError(f"too many indices for a tensor of rank {rank}: {n_dims_indexed}")
    if n_ellipsis:
        at = checked.index(Ellipsis)
        checked[at:at + 1] = [slice(None)] * (rank - n_dims_indexed)
    for dim, item in enumerate(checked):
        if isinstance(item, int) and not -shape[dim] <= item < shape[dim]:
            raise IndexError(f"index {item} is out of bounds for dimension {dim} with size {shape[dim]}")
    return tuple(checked)


class _SafeSlice:
    """A tensor not read yet: its shape and dtype, and indexing that reads only what it selects."""

    def __init__(self, owner, entry):
        self._owner = owner
        self._entry = entry

    def get_shape(self):
        """The shape, as a list of ints."""
        return list(self._entry.shape)

    def get_dtype(self):
        """The dtype as safetensors names it: "F32", "BF16", ..."""
        return _core.dtype_name(self._entry.dtype)

    def __getitem__(self, index):
        index = normalize_index(index, self._entry.shape)
        opened = self._owner
        stfile = opened._stfile()
        return opened._framework.sliced(stfile, opened._data_view(), self._entry, index, opened._device)

    def __repr__(self):
        return f"<safe slice {self._entry.name!r} {self.get_dtype()} {self.get_shape()}>"


class safe_open:
    """Opens a safetensors file for lazy access; usable as a context manager.

    Args:
        filename (`str` or `os.PathLike`): the file.
        framework (`str`): "pt" for torch tensors, "np" for numpy arrays.
        device (`str`, `int` or `torch.device`, defaults to `"cpu"`): where tensors go (torch only).
        backend (`str`, defaults to `"mmap"`): `"mmap"` maps the file; `"pread"` reads it whole into
            memory the library owns, so that no later change to the file (another program truncating
            or rewriting it, a network file system going away) can reach the tensors. With `"mmap"`,
            reading a tensor of a file truncated since it was opened kills the process with SIGBUS.

    Opening maps the file and validates its header; no tensor data is read until asked for.
    ``get_tensor`` returns a writable view of the file's private mapping (on the CPU); slices
    are copies of only what they select.
    """

    def __init__(self, filename, framework, device="cpu", *, backend="mmap"):
        self._framework = _framework(framework)
        self._device = self._framework.device(device)
        self._file = _core.open_path(filename, backend)
        self._view = None
        self._entries = None

    def _data_view(self):
        # One memoryview of the data buffer for every tensor of this handle.
        if self._view is None:
            self._view = _core.data_view(self._stfile())
        return self._view

    def _stfile(self):
        if self._file is None:
            raise SafetensorError("File is closed")
        return self._file

    def _entry(self, name):
        # The whole layout, once per handle (one call into the library), then dict lookups: reading
        # every tensor of a file one by one costs no introspected call per tensor.
        if self._entries is None:
            self._entries = _core.layout_by_name(self._stfile())
        else:
            self._stfile()
        entry = self._entries.get(name) if isinstance(name, str) else None
        if entry is None:
            raise SafetensorError(f"File does not contain tensor {name}")
        return entry

    def keys(self):
        """The tensor names, sorted."""
        return list(self._stfile().dup_names())

    def offset_keys(self):
        """The tensor names in the order of their data in the file."""
        return list(self._stfile().dup_ordered_names())

    def metadata(self):
        """The ``__metadata__`` strings as a dict, or None when the file has none."""
        return _core.file_metadata(self._stfile())

    def get_tensor(self, name):
        """The tensor @name: a view of the mapping on the CPU, a copy on another device."""
        entry = self._entry(name)
        return self._framework.tensor(self._stfile(), self._data_view(), entry, self._device)

    def get_slice(self, name):
        """A lazy handle on the tensor @name: ``get_shape()``, ``get_dtype()`` and indexing."""
        return _SafeSlice(self, self._entry(name))

    def close(self):
        """Drops this handle on the file; tensors already returned stay valid."""
        self._file = None
        self._view = None
        self._entries = None

    def __enter__(self):
        self._stfile()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self._file is None else f"{self._file.get_n_tensors()} tensors"
        return f"<safe_open {self._framework.name} {state}>"
