# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""PyGObject override for safetensors-glib (GI namespace ST).

A thin face of gi.repository.ST: Pythonic additions on top of the introspected API, over the
helpers of the safetensors_glib package (safetensors_glib._binding) installed with it:

- ``ST.Tensor.numpy()`` and ``ST.Tensor.torch()``: arrays sharing the tensor's memory (no copy);
  ``__array_interface__``, so ``numpy.asarray(tensor)`` shares it too. The arrays keep the tensor
  (and so the file's mapping) alive. They are writable: a tensor loaded from a path is a slice of
  a private copy-on-write mapping, and writes never reach the file on disk. They are visible to
  anyone else using the same ST.Tensor.
- ``ST.Tensor.new_from_array(array)``: a tensor sharing the memory of a numpy array or a CPU torch
  tensor (no copy; the tensor keeps the array alive).
- ``ST.File`` behaves as a mapping of names to tensors: ``len(f)``, ``name in f``, ``f[name]``
  (KeyError when absent), ``f[name] = tensor``, ``del f[name]``, iteration over the sorted names,
  ``keys()``, ``values()``, ``items()``, ``get()``.
- Paths may be any os.PathLike (pathlib.Path, ...) wherever the API takes a file name.

numpy and torch are imported only by the methods that need them.
"""

import ctypes
import sys

# The binding layer (one dtype table, owner type, memory-view helper, byte swap and fspath) is the
# safetensors_glib package's, installed with this override; these names are module-level, outside
# __all__, so they are not added to gi.repository.ST. Importing it imports no more of the package.
from safetensors_glib._binding import BIG_ENDIAN, DTYPES, Owner, fspath, memory_view, torch_byteswapped

from ..module import get_introspection_module
from ..overrides import override

ST = get_introspection_module("ST")

__all__ = []

_TYPESTRS = {name: typestr for name, (typestr, _torch) in DTYPES.items() if typestr is not None}
_TORCH_NAMES = {name: torch_name for name, (_typestr, torch_name) in DTYPES.items() if torch_name is not None}


def _is_name(name):
    # A NUL would cut the name short on its way to C: no stored name holds one.
    return isinstance(name, str) and "\0" not in name


def _memory(tensor):
    """A writable memoryview of the tensor's bytes that holds the tensor."""
    return memory_view(tensor.get_data_address(), tensor.get_n_bytes(), tensor)


_DTYPES_BY_TYPESTR = {typestr: name for name, typestr in _TYPESTRS.items()}
_DTYPES_BY_TORCH_NAME = {torch_name: name for name, torch_name in _TORCH_NAMES.items()}


class Tensor(ST.Tensor):

    @classmethod
    def new_from_array(cls, array):
        """A tensor sharing the memory of a C-contiguous numpy array or CPU torch tensor, without
        copying it; the tensor keeps the array alive. Writes to the array show in the tensor."""
        # Whichever of the two is in use is imported already: no need to import the other.
        numpy = sys.modules.get("numpy")
        torch = sys.modules.get("torch")
        if numpy is not None and isinstance(array, numpy.ndarray):
            name = _DTYPES_BY_TYPESTR.get(array.dtype.str)
            if name is None:
                raise TypeError(f"numpy dtype {array.dtype} has no safetensors equivalent")
            if not array.flags.c_contiguous:
                raise ValueError("the array is not C-contiguous: use numpy.ascontiguousarray() first")
            address, n_bytes, shape = array.ctypes.data, array.nbytes, list(array.shape)
        elif torch is not None and isinstance(array, torch.Tensor):
            name = _DTYPES_BY_TORCH_NAME.get(str(array.dtype).replace("torch.", ""))
            if name is None:
                raise TypeError(f"torch dtype {array.dtype} has no safetensors equivalent")
            if not array.is_contiguous() or array.device.type != "cpu":
                raise ValueError("the tensor is not contiguous on the CPU: use .contiguous().cpu() first")
            address, n_bytes, shape = array.data_ptr(), array.numel() * array.element_size(), list(array.shape)
        else:
            raise TypeError(f"expected a numpy array or a torch tensor, not {type(array).__name__}")
        owner = Owner(array)
        return cls.new_from_data(getattr(ST.DType, name), shape, address if n_bytes else 0, n_bytes, owner)

    @property
    def dtype_name(self):
        """The dtype as safetensors names it: "F32", "BF16", ..."""
        return ST.dtype_to_string(self.get_dtype())

    @property
    def shape(self):
        """The shape as a tuple of ints."""
        return tuple(self.get_shape())

    def _typestr(self):
        name = self.dtype_name
        typestr = _TYPESTRS.get(name)
        if typestr is None:
            raise TypeError(f"numpy has no dtype for {name}: use tensor.torch(), or tensor.get_bytes() "
                            "for the raw bytes")
        return typestr

    @property
    def __array_interface__(self):
        typestr = self._typestr()
        address = self.get_data_address()
        if self.get_n_bytes() == 0:
            # numpy needs some address even for no elements; it never reads it.
            address = ctypes.addressof(_EMPTY)
        return {"version": 3, "shape": self.shape, "typestr": typestr, "data": (address, False)}

    def numpy(self):
        """A numpy array sharing this tensor's memory (writable; keeps the tensor alive)."""
        import numpy

        dtype = numpy.dtype(self._typestr())
        if self.get_n_bytes() == 0:
            return numpy.empty(self.shape, dtype=dtype)
        return numpy.frombuffer(_memory(self), dtype=dtype).reshape(self.shape)

    def torch(self):
        """A torch tensor sharing this tensor's memory (writable; keeps the tensor alive); on a
        big-endian host, a byte-swapped copy."""
        import torch

        name = self.dtype_name
        dtype = getattr(torch, _TORCH_NAMES.get(name, ""), None)
        if not isinstance(dtype, torch.dtype):
            raise TypeError(f"torch {torch.__version__} has no dtype for {name}: use tensor.get_bytes() "
                            "for the raw bytes")
        if self.get_n_bytes() == 0:
            return torch.empty(self.shape, dtype=dtype)
        view = torch.frombuffer(_memory(self), dtype=dtype).view(self.shape)
        return torch_byteswapped(view) if BIG_ENDIAN else view

    def __repr__(self):
        return f"<ST.Tensor {self.dtype_name} {list(self.get_shape())}>"


_EMPTY = ctypes.c_char()

Tensor = override(Tensor)
__all__.append("Tensor")


class File(ST.File):

    @classmethod
    def new_from_path(cls, path, cancellable=None):
        return super(File, cls).new_from_path(fspath(path), cancellable)

    @classmethod
    def new_from_path_full(cls, path, flags=ST.LoadFlags.NONE, cancellable=None):
        return super(File, cls).new_from_path_full(fspath(path), flags, cancellable)

    @classmethod
    def new_from_path_async(cls, path, flags=ST.LoadFlags.NONE, cancellable=None, callback=None, *user_data):
        return super(File, cls).new_from_path_async(fspath(path), flags, cancellable, callback, *user_data)

    def save_to_path(self, path, flags=ST.SaveFlags.NONE, cancellable=None):
        return super().save_to_path(fspath(path), flags, cancellable)

    def save_to_path_async(self, path, flags=ST.SaveFlags.NONE, cancellable=None, callback=None, *user_data):
        return super().save_to_path_async(fspath(path), flags, cancellable, callback, *user_data)

    def save_sharded(self, directory, prefix, max_shard_size, flags=ST.SaveFlags.NONE, cancellable=None,
                     progress=None, *data):
        return super().save_sharded(fspath(directory), prefix, max_shard_size, flags, cancellable, progress,
                                    *data)

    # The mapping protocol: names to tensors.

    def __len__(self):
        return self.get_n_tensors()

    def __contains__(self, name):
        return _is_name(name) and self.contains(name)

    def __getitem__(self, name):
        tensor = self.get_tensor(name) if _is_name(name) else None
        if tensor is None:
            raise KeyError(name)
        return tensor

    def __setitem__(self, name, tensor):
        if not _is_name(name):
            raise ValueError(f"invalid tensor name {name!r}: a str without NUL characters is needed")
        self.set_tensor(name, tensor)

    def __delitem__(self, name):
        if not (_is_name(name) and self.remove_tensor(name)):
            raise KeyError(name)

    def __iter__(self):
        return iter(self.dup_names_sorted())

    def keys(self):
        """The tensor names, sorted."""
        return list(self.dup_names_sorted())

    def values(self):
        """The tensors, in the order of keys()."""
        return [self.get_tensor(name) for name in self.dup_names_sorted()]

    def items(self):
        """(name, tensor) pairs, in the order of keys()."""
        return [(name, self.get_tensor(name)) for name in self.dup_names_sorted()]

    def get(self, name, default=None):
        tensor = self.get_tensor(name) if _is_name(name) else None
        return default if tensor is None else tensor

    def __bool__(self):
        # A File is an object first: an empty one is still true, as GObjects are.
        return True

    def __repr__(self):
        return f"<ST.File {self.get_n_tensors()} tensors>"


File = override(File)
__all__.append("File")


if hasattr(ST, "Index"):
    class Index(ST.Index):

        @classmethod
        def new_from_path(cls, path, cancellable=None):
            return super(Index, cls).new_from_path(fspath(path), cancellable)

        def __len__(self):
            return self.get_n_tensors()

        def __contains__(self, name):
            return _is_name(name) and self.contains(name)

        def __getitem__(self, name):
            if not (_is_name(name) and self.contains(name)):
                raise KeyError(name)
            return self.dup_tensor(name)

        def __iter__(self):
            return iter(self.dup_names_sorted())

        def keys(self):
            return list(self.dup_names_sorted())

    Index = override(Index)
    __all__.append("Index")

