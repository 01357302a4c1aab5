# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safe_open: lazy access to one file's tensors, as Hugging Face's ``safetensors.safe_open``.

The framework adapters (_torch_adapter, _numpy_adapter) are imported when a handle asks for
them: safe_open(framework="np") never imports torch, and nothing here imports the public
safetensors_glib.torch or safetensors_glib.numpy modules.
"""

import importlib

from . import _core
from ._core import SafetensorError

__all__ = ["safe_open", "_safe_open_handle"]

_ADAPTERS = {"pt": "_torch_adapter", "torch": "_torch_adapter", "pytorch": "_torch_adapter",
             "np": "_numpy_adapter", "numpy": "_numpy_adapter"}
_OTHER_FRAMEWORKS = ("tf", "tensorflow", "jax", "flax", "mlx", "paddle")


def _framework(framework):
    if not isinstance(framework, str):
        raise TypeError(f"framework must be a str such as \"pt\" or \"np\", not {type(framework).__name__}")
    module = _ADAPTERS.get(framework)
    if module is None:
        if framework in _OTHER_FRAMEWORKS:
            raise SafetensorError(f"framework {framework} is not supported by safetensors_glib: "
                                  "use \"pt\" (torch) or \"np\" (numpy)")
        raise SafetensorError(f"framework {framework} is invalid")
    return importlib.import_module("." + module, __package__).Framework


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
        opened = self._owner
        stfile = opened._stfile()
        return opened._framework.sliced(stfile, opened._data_view(), self._entry, index, opened._device)

    def __repr__(self):
        return f"<safe slice {self._entry.name!r} {self.get_dtype()} {self.get_shape()}>"


class safe_open:
    """Opens a safetensors lazily and returns tensors as asked; usable as a context manager.

    Args:
        filename (`str` or `os.PathLike`): the file.
        framework (`str`): "pt" for torch tensors, "np" for numpy arrays.
        device (`str`, `int`, `torch.device` or None, defaults to `"cpu"`): where tensors go (torch
            only; None is the CPU, as for Hugging Face).
        backend (`str`, defaults to `"mmap"`): `"mmap"` maps the file; `"pread"` reads it whole into
            memory the library owns, so that no later change to the file (another program truncating
            or rewriting it, a network file system going away) can reach the tensors. With `"mmap"`,
            reading a tensor of a file truncated since it was opened kills the process with SIGBUS.

    Opening maps the file and validates its header; no tensor data is read until asked for.
    ``get_tensor`` returns a writable view of the file's private mapping (on the CPU); slices
    are copies of only what they select.
    """

    def __init__(self, filename, framework, device="cpu", *, backend="mmap"):
        self._file = None
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

    def _layout(self):
        # The whole layout, once per handle (one call into the library), then dict lookups: reading
        # every tensor of a file one by one costs no introspected call per tensor. In file order.
        if self._entries is None:
            self._entries = _core.layout_by_name(self._stfile())
        else:
            self._stfile()
        return self._entries

    def _entry(self, name):
        entry = self._layout().get(name) if isinstance(name, str) else None
        if entry is None:
            raise SafetensorError(f"File does not contain tensor {name}")
        return entry

    def keys(self):
        """The tensor names, sorted."""
        return list(self._stfile().dup_names_sorted())

    def offset_keys(self):
        """The tensor names in the order of their data in the file."""
        return list(self._stfile().dup_names_in_file_order())

    def metadata(self):
        """The ``__metadata__`` strings as a dict, or None when the file has none."""
        return _core.file_metadata(self._stfile())

    def get_tensor(self, name):
        """The tensor @name: a view of the mapping on the CPU, a copy on another device."""
        entry = self._entry(name)
        return self._framework.tensor(self._stfile(), self._data_view(), entry, self._device)

    def get_tensors(self):
        """Every tensor of the file, as a dict of name -> tensor in the order of their data in the
        file (the order of ``offset_keys()``), as Hugging Face's ``safe_open.get_tensors()``.

        The same tensors as ``get_tensor`` on each name, made in bulk by the path ``load_file``
        takes (a file of equal rows in one framework call, tensors whose bytes follow each other
        in one call per run), so this is the fastest way to read a whole file through a handle.
        """
        stfile = self._stfile()
        with _core.gc_paused():
            return self._framework.tensors(stfile, self._data_view(), self._device)

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

    def __repr__(self):
        state = "closed" if self._file is None else f"{self._file.get_n_tensors()} tensors"
        return f"<safe_open {self._framework.name} {state}>"


class _safe_open_handle(safe_open):
    """safe_open on an open file object (anything with fileno() and name), as Hugging Face's
    ``safetensors._safe_open_handle``: the file named by its ``name`` is opened."""

    def __init__(self, f, framework, device="cpu", *, backend="mmap"):
        if not hasattr(f, "fileno"):
            raise AttributeError(f"'{type(f).__name__}' object has no attribute 'fileno'")
        super().__init__(f.name, framework, device, backend=backend)
