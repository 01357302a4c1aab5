# SPDX-License-Identifier: Apache-2.0
"""The glue between the ST typelib and the framework modules.

Nothing here imports torch or numpy: safetensors_glib.numpy must work without torch, and the
other way round. The framework modules turn the layouts and memory views made here into arrays.

Zero-copy in both directions goes through integer addresses, because PyGObject copies every
GLib.Bytes and every array argument it converts:

- into Python: ST.File.get_data_address() and get_data_size() describe the file's whole data
  buffer (a private copy-on-write mapping for files loaded from a path). It is wrapped once in a
  ctypes array that holds a reference on the ST.File, and every tensor is a slice of that one
  memoryview, so any array made from it keeps the mapping alive.
- into C: ST.File.set_tensor_from_data() takes the address and length of an array's memory plus an
  owner GObject that keeps the Python objects alive for as long as C uses the bytes.

Per-tensor work goes through bulk calls, because each introspected call costs about a microsecond
or more: loading asks for the whole layout with one ST.File.dup_layout(), saving makes one
ST.File.set_tensor_from_data() call per tensor and no ST.Tensor.
"""

import contextlib
import ctypes
import errno
import gc
import os

import gi

gi.require_version("GLib", "2.0")
gi.require_version("GObject", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("ST", "1.0")
from gi.repository import GLib, GObject, Gio, ST  # noqa: E402

__all__ = [
    "ST",
    "SafetensorError",
    "open_path",
    "open_bytes",
    "open_index",
    "is_index_path",
    "Entry",
    "layout",
    "layout_by_name",
    "data_view",
    "runs",
    "load_path",
    "load_bytes",
    "build_file",
    "write_file",
    "save_path",
    "save_to_bytes",
    "file_metadata",
    "dtype_name",
    "dtype_from_name",
    "parse_max_shard_size",
    "gc_paused",
]


class SafetensorError(Exception):
    """Raised for a file that is not valid safetensors, or a tensor that cannot be converted.

    When the error comes from the library, :attr:`gerror` is the ``GLib.Error`` it reported (domain
    ``ST.Error``, its code says which rule the file broke) and :attr:`code` its code; otherwise both
    are ``None``.
    """

    def __init__(self, message, gerror=None):
        super().__init__(message)
        self.gerror = gerror

    @property
    def code(self):
        return None if self.gerror is None else self.gerror.code


_ST_DOMAIN = GLib.quark_to_string(ST.error_quark())
_IO_DOMAIN = GLib.quark_to_string(Gio.io_error_quark())

_IO_ERRORS = {
    Gio.IOErrorEnum.NOT_FOUND: (FileNotFoundError, errno.ENOENT),
    Gio.IOErrorEnum.PERMISSION_DENIED: (PermissionError, errno.EACCES),
    Gio.IOErrorEnum.IS_DIRECTORY: (IsADirectoryError, errno.EISDIR),
    Gio.IOErrorEnum.NOT_DIRECTORY: (NotADirectoryError, errno.ENOTDIR),
    Gio.IOErrorEnum.EXISTS: (FileExistsError, errno.EEXIST),
    Gio.IOErrorEnum.NO_SPACE: (OSError, errno.ENOSPC),
    Gio.IOErrorEnum.READ_ONLY: (OSError, errno.EROFS),
    Gio.IOErrorEnum.FILENAME_TOO_LONG: (OSError, errno.ENAMETOOLONG),
    Gio.IOErrorEnum.TOO_MANY_LINKS: (OSError, errno.ELOOP),
    Gio.IOErrorEnum.INVALID_ARGUMENT: (OSError, errno.EINVAL),
    Gio.IOErrorEnum.NOT_SUPPORTED: (OSError, errno.ENOTSUP),
    Gio.IOErrorEnum.BUSY: (OSError, errno.EBUSY),
    Gio.IOErrorEnum.WOULD_BLOCK: (BlockingIOError, errno.EAGAIN),
    Gio.IOErrorEnum.BROKEN_PIPE: (BrokenPipeError, errno.EPIPE),
    Gio.IOErrorEnum.NOT_EMPTY: (OSError, errno.ENOTEMPTY),
    Gio.IOErrorEnum.TIMED_OUT: (TimeoutError, errno.ETIMEDOUT),
    Gio.IOErrorEnum.CONNECTION_REFUSED: (ConnectionRefusedError, errno.ECONNREFUSED),
}

# The load backends of safe_open(..., backend=) and load_file(..., backend=), as Hugging Face names them:
# "mmap" maps the file (a tensor of a file truncated meanwhile kills the process with SIGBUS when read),
# "pread" reads it into memory the library owns.
_BACKENDS = {"mmap": ST.LoadFlags.NONE, "pread": ST.LoadFlags.NO_MMAP}


def load_flags(backend):
    """The ST.LoadFlags of a backend name; SafetensorError, as Hugging Face raises, for another name."""
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str, not {type(backend).__name__}")
    try:
        return _BACKENDS[backend]
    except KeyError:
        raise SafetensorError(f'backend "{backend}" is invalid (expected one of: "mmap", "pread")') from None


def save_flags(sync):
    """The ST.SaveFlags of save_file(..., sync=)."""
    return ST.SaveFlags.SYNC if sync else ST.SaveFlags.NONE


@contextlib.contextmanager
def gc_paused():
    """Pauses the cyclic garbage collector while tens of thousands of objects are made.

    Making one tensor per entry allocates enough container objects to start several full
    collections, each scanning every object made so far: for 20,000 tensors that is half the time
    of a load. Nothing made here forms cycles, so collecting later loses nothing. A collector the
    caller disabled stays disabled.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def translate_error(gerror, path=None):
    """The Python exception for a GLib.Error from the library: I/O errors become the OSError
    subclass Python itself would raise (FileNotFoundError for a missing file), everything else a
    SafetensorError carrying the GLib.Error."""
    if gerror.domain == _IO_DOMAIN:
        if gerror.code == Gio.IOErrorEnum.CANCELLED:
            return SafetensorError(gerror.message, gerror)
        cls, code = _IO_ERRORS.get(gerror.code, (OSError, None))
        if code is None:
            exc = OSError(gerror.message)
        else:
            exc = cls(code, gerror.message, path) if path is not None else cls(code, gerror.message)
        exc.gerror = gerror
        return exc
    return SafetensorError(gerror.message, gerror)


def fspath(filename):
    """os.fspath() that rejects bytes paths with the same TypeError as a wrong type."""
    path = os.fspath(filename)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return path


def open_path(filename, backend="mmap"):
    """Maps (or with backend="pread", reads) and validates a safetensors file; the ST.File it returns
    owns the memory."""
    flags = load_flags(backend)
    path = fspath(filename)
    try:
        return ST.File.new_from_path_full(path, flags, None)
    except GLib.Error as e:
        raise translate_error(e, path) from None


def _owner_of(obj):
    owner = _Owner()
    owner.objects = obj
    return owner


class _Owner(GObject.Object):
    """Keeps Python objects alive while C holds the memory they own.

    PyGObject keeps the Python wrapper (and so its attributes) alive for as long as C holds a
    reference on the GObject: C unrefs it when the last GBytes over the memory goes away.
    """

    __gtype_name__ = "SafetensorsGlibPythonOwner"


def open_bytes(data):
    """Validates a safetensors file given as bytes-like object.

    The bytes are copied once into a writable buffer (tensors made from the result are writable,
    and an immutable bytes object must not be written through them); the library then reads that
    buffer in place, through a GBytes that keeps it alive.
    """
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"expected bytes, bytearray or memoryview, got {type(data).__name__}") from None
    view = view.cast("B") if view.ndim != 1 or view.format not in ("B", "b", "c") else view
    n_bytes = view.nbytes
    buffer = (ctypes.c_char * n_bytes).from_buffer_copy(view) if n_bytes else None
    address = ctypes.addressof(buffer) if n_bytes else 0
    try:
        whole = ST.Tensor.new_from_data(ST.DType.U8, [n_bytes], address, n_bytes, _owner_of(buffer))
        return ST.File.new_from_bytes(whole.get_bytes())
    except GLib.Error as e:
        raise translate_error(e) from None


def is_index_path(filename):
    """Whether @filename names a sharded checkpoint's index (model.safetensors.index.json)."""
    return fspath(filename).endswith(".json")


def open_index(filename):
    """Opens and validates an index and returns its shards, [(shard name, ST.File)], in order."""
    path = fspath(filename)
    try:
        index = ST.Index.new_from_path(path)
        index.validate(None)
        return index, [(shard, index.get_shard(shard)) for shard in index.dup_shard_names()]
    except GLib.Error as e:
        raise translate_error(e, path) from None


def file_metadata(stfile):
    """The __metadata__ of a file as a dict, or None when the file has none."""
    metadata = stfile.get_metadata()
    if metadata is None:
        return None
    return dict(metadata)


# The element types, by ST.DType value (plain ints from ST.File.dup_layout() find them too).
_DTYPE_NAMES = {}
_DTYPES_BY_NAME = {}
for _name in ("BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
              "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64",
              "F64", "I64", "U64"):
    _value = getattr(ST.DType, _name)
    _DTYPE_NAMES[_value] = _name
    _DTYPES_BY_NAME[_name] = _value
del _name, _value


def dtype_name(dtype):
    return _DTYPE_NAMES[dtype]


def dtype_from_name(name):
    return _DTYPES_BY_NAME[name]


class Entry(tuple):
    """One tensor of a loaded file: (name, dtype, shape, offset in the data buffer, n_bytes)."""

    __slots__ = ()

    name = property(lambda self: self[0])
    dtype = property(lambda self: self[1])
    shape = property(lambda self: self[2])
    offset = property(lambda self: self[3])
    n_bytes = property(lambda self: self[4])


def layout(stfile):
    """Lists the tensors of a loaded file in the order of their data, as (name, dtype, shape,
    offset, n_bytes) tuples.

    The offsets are relative to the start of the file's data buffer (data_view()).

    Two introspected calls whatever the tensor count: st_file_dup_layout() describes every tensor
    in one array of integers (records of dtype, begin, end, n_dims and the dimensions), in the
    order of st_file_dup_ordered_names(), without making an ST.Tensor.
    """
    values = stfile.dup_layout()
    entries = []
    append = entries.append
    at = 0
    for name in stfile.dup_ordered_names():
        begin = values[at + 1]
        shape_end = at + 4 + values[at + 3]
        if begin < 0:
            raise SafetensorError(f"tensor {name!r} was set after loading: it is not in the file's data")
        append((name, values[at], values[at + 4:shape_end], begin, values[at + 2] - begin))
        at = shape_end
    return entries


def runs(entries):
    """Cuts a layout into the runs one buffer call can cover, as (i, j, begin, end).

    entries[i:j] are consecutive tensors of one dtype whose bytes follow each other, from @begin
    to @end in the data buffer (a whole file, when the writer grouped the data by dtype). An empty
    tensor is a run of its own, with @begin == @end.
    """
    i = 0
    n = len(entries)
    while i < n:
        _name, dtype, _shape, begin, n_bytes = entries[i]
        end = begin + n_bytes
        j = i + 1
        if n_bytes:
            while j < n:
                entry = entries[j]
                if entry[1] != dtype or entry[3] != end or entry[4] == 0:
                    break
                end += entry[4]
                j += 1
        yield i, j, begin, end
        i = j


def load_path(filename, views, backend="mmap"):
    """Loads a file, or every shard of an index, into a dict through @views(stfile, entries, out)."""
    out = {}
    load_flags(backend)
    with gc_paused():
        if is_index_path(filename):
            index, shards = open_index(filename)
            for shard_name, stfile in shards:
                if backend != "mmap":
                    stfile = open_path(os.path.join(index.get_directory(), shard_name), backend)
                views(stfile, layout(stfile), out)
        else:
            stfile = open_path(filename, backend)
            views(stfile, layout(stfile), out)
    return out


def load_bytes(data, views):
    """Loads a file given as bytes into a dict through @views(stfile, entries, out)."""
    stfile = open_bytes(data)
    with gc_paused():
        return views(stfile, layout(stfile), {})


def layout_by_name(stfile):
    """The layout of every tensor of a loaded file as a dict, name -> Entry."""
    return {entry[0]: Entry(entry) for entry in layout(stfile)}


def data_view(stfile):
    """A writable memoryview of a loaded file's whole data buffer that keeps the file alive.

    The buffer of a file loaded from a path is its private copy-on-write mapping: writes through
    the view change the memory of this ST.File only, never the file on disk.
    """
    return _address_view(stfile.get_data_address(), stfile.get_data_size(), stfile)


def _address_view(address, n_bytes, owner):
    if n_bytes == 0:
        return memoryview(bytearray())
    array = (ctypes.c_char * n_bytes).from_address(address)
    # ctypes arrays accept attributes: the reference keeps the memory's owner alive for as long
    # as the array lives, and every memoryview, numpy array or torch tensor over it holds the array.
    array.st_owner = owner
    return memoryview(array).cast("B")


def build_file(entries, metadata, keep_alive):
    """Makes an ST.File over memory owned by Python, without copying it.

    @entries: (name, ST.DType, shape, address, n_bytes, ...) for each tensor;
    @keep_alive: the Python objects that own that memory.

    One introspected call per tensor (st_file_set_tensor_from_data(), which makes no ST.Tensor),
    all with the same owner: one GObject whose Python wrapper holds @keep_alive. The file and
    anything that uses the bytes later (a tensor made from them, a save in progress) hold a
    reference on it; the last to go lets @keep_alive go.
    """
    stfile = ST.File.new()
    owner = _owner_of(keep_alive)
    set_tensor_from_data = stfile.set_tensor_from_data
    try:
        for entry in entries:
            name = entry[0]
            if "\0" in name:
                raise ValueError(f"tensor name {name!r} contains a NUL character, which the library's "
                                 "names cannot hold")
            n_bytes = entry[4]
            set_tensor_from_data(name, entry[1], entry[2], entry[3] if n_bytes else 0, n_bytes, owner)
    except GLib.Error as e:
        raise translate_error(e) from None
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict of str to str, not {type(metadata).__name__}")
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"metadata must be a dict of str to str: the entry {key!r}: {value!r} is not")
            if "\0" in key or "\0" in value:
                raise ValueError(f"the metadata entry {key!r}: {value!r} contains a NUL character")
            stfile.set_metadata_value(key, value)
    return stfile


def parse_max_shard_size(max_shard_size):
    """Bytes from an int or a text such as "5GB" (decimal) or "500MiB" (binary)."""
    if isinstance(max_shard_size, bool):
        raise TypeError("max_shard_size must be an int or a str such as \"5GB\"")
    if isinstance(max_shard_size, int):
        if max_shard_size <= 0:
            raise ValueError(f"max_shard_size must be positive, not {max_shard_size}")
        return max_shard_size
    if isinstance(max_shard_size, str):
        try:
            ok, n_bytes = ST.parse_size(max_shard_size)
        except GLib.Error as e:
            raise ValueError(f"invalid max_shard_size {max_shard_size!r}: {e.message}") from None
        if n_bytes <= 0:
            raise ValueError(f"max_shard_size must be positive, not {max_shard_size!r}")
        return n_bytes
    raise TypeError(f"max_shard_size must be an int or a str such as \"5GB\", not {type(max_shard_size).__name__}")


def write_file(stfile, filename, max_shard_size=None, sync=False):
    """Saves atomically to @filename, or as shards plus an index when @max_shard_size is given.

    Sharded: @filename "dir/model.safetensors" gives dir/model-00001-of-0000N.safetensors ... and
    dir/model.safetensors.index.json, or dir/model.safetensors alone when everything fits in one
    shard.
    """
    path = fspath(filename)
    try:
        if max_shard_size is None:
            stfile.save_to_path(path, save_flags(sync), None)
            return
        limit = parse_max_shard_size(max_shard_size)
        directory, base = os.path.split(path)
        prefix = base[: -len(".safetensors")] if base.endswith(".safetensors") else base
        if not prefix:
            raise ValueError(f"cannot derive shard names from {path!r}")
        stfile.save_sharded(directory or ".", prefix, limit, save_flags(sync), None, None, None)
    except GLib.Error as e:
        raise translate_error(e, path) from None


def save_path(prepare, tensors, filename, metadata, max_shard_size, sync=False):
    """Saves @tensors to @filename through the ST.File @prepare(tensors, metadata) makes."""
    with gc_paused():
        stfile = prepare(tensors, metadata)
    write_file(stfile, filename, max_shard_size, sync)


def save_to_bytes(prepare, tensors, metadata):
    """The bytes of a file holding @tensors, through the ST.File @prepare(tensors, metadata) makes."""
    with gc_paused():
        stfile = prepare(tensors, metadata)
    return save_bytes(stfile)


def save_bytes(stfile):
    """The serialized file as bytes (one copy, from the GBytes the library writes)."""
    try:
        return stfile.save_to_bytes().get_data()
    except GLib.Error as e:
        raise translate_error(e) from None
