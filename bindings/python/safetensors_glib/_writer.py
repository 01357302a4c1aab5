# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The streaming writer (ST.Writer) for Python: a file written tensor by tensor, in bounded memory.

Framework-free: the torch and numpy modules give it two functions, ``spec(obj)`` (the ST.DType and
shape a layout entry declares) and ``chunk(tensor)`` (the ST.DType, address, byte count and the
object that owns that memory, for bytes to write), and export ``Writer`` and ``save_file_iter``.
"""

from collections.abc import Mapping

from . import _core
from ._core import GLib, ST, SafetensorError, fspath, translate_error

__all__ = ["Writer", "save_file_iter"]


class Writer:
    """Writes a safetensors file one tensor (or one part of a tensor) at a time.

    The file is byte for byte what ``save_file`` writes for the same tensors and metadata, and is
    replaced atomically: nothing appears at @filename before :meth:`finish`, and an error, an
    exception inside a ``with`` block, or :meth:`close` leave it as it was. Only the tensor being
    written is in memory.
    """

    def __init__(self, filename, layout, metadata=None, *, sync=False, header_size=0, _framework):
        self._framework = framework = _framework
        self._path = fspath(filename)
        self._dtypes = {}
        writer = ST.Writer.new()
        if not isinstance(layout, Mapping):
            raise TypeError(f"layout must be a dict of tensor names to tensors or (dtype, shape) pairs, not "
                            f"{type(layout).__name__}")
        try:
            for name, obj in layout.items():
                if not isinstance(name, str):
                    raise TypeError(f"tensor names must be str, not {type(name).__name__} ({name!r})")
                if "\0" in name:
                    raise ValueError(f"tensor name {name!r} contains a NUL character")
                st_dtype, shape = framework.spec(obj)
                writer.add_tensor(name, st_dtype, [int(dim) for dim in shape])
                self._dtypes[name] = st_dtype
            if metadata is not None:
                if not isinstance(metadata, dict):
                    raise TypeError(f"metadata must be a dict of str to str, not {type(metadata).__name__}")
                for key, value in metadata.items():
                    if not isinstance(key, str) or not isinstance(value, str):
                        raise TypeError(f"metadata must be a dict of str to str: the entry {key!r}: {value!r} "
                                        "is not")
                    if "\0" in key or "\0" in value:
                        raise ValueError(f"the metadata entry {key!r}: {value!r} contains a NUL character")
                    writer.set_metadata_value(key, value)
            writer.set_min_header_size(int(header_size))
            writer.open(self._path, _core.save_flags(sync), None)
        except GLib.Error as e:
            raise translate_error(e, self._path, "save") from None
        self._writer = writer

    def write(self, name, tensor):
        """Writes @tensor as the next bytes of the tensor @name: the whole tensor, or the next part of it
        (rows ``t[i:j]`` of a tensor, for one), of the dtype declared for @name."""
        expected = self._dtypes.get(name)
        st_dtype, address, n_bytes, owner = self._framework.chunk(tensor)
        if expected is not None and st_dtype != expected:
            raise SafetensorError(f"Error while serializing: the tensor {name!r} was declared as "
                                  f"{_core.dtype_name(expected)}, and is given {_core.dtype_name(st_dtype)} data")
        try:
            self._writer.write_from_address(name, address if n_bytes else 0, n_bytes)
        except GLib.Error as e:
            raise translate_error(e, self._path, "save") from None
        finally:
            del owner

    def remaining(self, name):
        """How many bytes of the tensor @name are still to be written."""
        return self._writer.get_tensor_remaining(name)

    @property
    def size(self):
        """The size of the whole file, in bytes."""
        return self._writer.get_size()

    @property
    def bytes_written(self):
        """How many bytes of the file are written so far (for progress reports)."""
        return self._writer.get_bytes_written()

    def finish(self):
        """Checks that every tensor is complete and replaces @filename with the new file."""
        try:
            self._writer.finish()
        except GLib.Error as e:
            raise translate_error(e, self._path, "save") from None

    def close(self):
        """Abandons an unfinished file: @filename stays as it was, and nothing is left behind."""
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.finish()
        else:
            self.close()
        return False


def save_file_iter(framework, tensors, filename, metadata, layout, sync, header_size):
    """Writes the (name, tensor) pairs @tensors yields, as they come (a generator holds one tensor at a
    time), into @filename whose tensors @layout declares."""
    with Writer(filename, layout, metadata, sync=sync, header_size=header_size, _framework=framework) as writer:
        for item in tensors:
            try:
                name, tensor = item
            except (TypeError, ValueError):
                raise TypeError(f"tensors must yield (name, tensor) pairs, not {item!r}") from None
            writer.write(name, tensor)
            del item, tensor
