# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The glue between the ST typelib and the framework adapters.

Nothing here imports torch or numpy: safetensors_glib.numpy must work without torch, and the
other way round. The framework adapters (_torch_adapter, _numpy_adapter) turn the layouts and
memory views made here into arrays.

The binding layer (_binding.py: the dtype table, owner type, memory-view helper and fspath) is
shared with the PyGObject override (gi/overrides/ST.py); nothing here needs the override itself,
only the introspected API.

Zero-copy in both directions goes through integer addresses, because PyGObject copies every
GLib.Bytes and every array argument it converts:

- into Python: ST.File.get_data_address() and get_data_size() describe the file's whole data
  buffer (a private copy-on-write mapping for files loaded from a path). It is wrapped once in a
  ctypes array that holds a reference on the ST.File, and every tensor is a slice of that one
  memoryview, so any array made from it keeps the mapping alive.
- into C: ST.File.set_tensor_from_data() takes the address and length of an array's memory plus an
  owner GObject that keeps the Python objects alive for as long as C uses the bytes.

Per-tensor work goes through bulk calls, because each introspected call costs about a microsecond
or more, and each array element PyGObject converts tens of nanoseconds and memory: loading asks for
every name in one buffer (ST.File.dup_names_bytes()) and the tensors as runs of equal shapes
(ST.File.dup_runs(): one record for a file of equal rows), saving makes one
ST.File.set_tensor_from_data() call per tensor and no ST.Tensor.
"""

import contextlib
import ctypes
import errno
import gc
import os
import sys

import gi

from . import _paths
from ._binding import BIG_ENDIAN, DTYPES, Owner, fspath, memory_view, torch_byteswapped

_paths.use_bundled_library()
gi.require_version("GLib", "2.0")
gi.require_version("GObject", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("ST", "1.0")
from gi.repository import GLib, GObject, Gio, ST  # noqa: E402

# Classes the first load of a process would otherwise make, made with the module instead:
# - PyGObject makes the Python class of every GObject type an introspected function takes on the
#   function's first call, and each loader of ST.File takes a GCancellable: Gio.Cancellable's
#   class took about 0.2 ms, a third of a first load_file of gpt2;
# - GObject makes the GType class of ST.File (class_init) with the first file of a process:
#   about 50 µs.
_CANCELLABLE = Gio.Cancellable
GObject.type_class_ref(ST.File)

__all__ = [
    "ST",
    "SafetensorError",
    "Owner",
    "memory_view",
    "fspath",
    "DTYPES",
    "BIG_ENDIAN",
    "torch_byteswapped",
    "translate_error",
    "open_path",
    "open_bytes",
    "open_index",
    "is_index_path",
    "Entry",
    "layout",
    "file_names",
    "file_run_values",
    "file_runs",
    "entries_of_runs",
    "runs_of_entries",
    "file_views",
    "layout_by_name",
    "data_view",
    "load_path",
    "load_bytes",
    "build_file",
    "write_file",
    "save_path",
    "save_to_bytes",
    "save_bytes",
    "file_metadata",
    "dtype_name",
    "dtype_from_name",
    "parse_max_shard_size",
    "gc_paused",
]


class SafetensorError(Exception):
    """Custom Python Exception for Safetensor errors.

    Raised, as Hugging Face's, for a file that is not valid safetensors, a tensor that cannot be
    converted or sliced, and a save that fails. When the error comes from the library,
    :attr:`gerror` is the ``GLib.Error`` it reported (domain ``ST.Error`` or ``Gio.IOErrorEnum``;
    its code says which rule the file broke or which I/O failed) and :attr:`code` its code;
    otherwise both are ``None``.
    """

    gerror = None

    def __init__(self, *args, gerror=None):
        super().__init__(*args)
        self.gerror = gerror

    @property
    def code(self):
        return None if self.gerror is None else self.gerror.code


SafetensorError.__module__ = "safetensors_glib"

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


_IO_DOMAIN = GLib.quark_to_string(Gio.io_error_quark())

# The errno value behind each Gio.IOErrorEnum code that g_io_error_from_errno() makes, read from
# the error's code alone: the message is for people, in their language (g_strerror() follows the
# locale), and is never parsed. Where several errno values share a code, the one given is the
# usual one and the Python class is the same for all of them (PERMISSION_DENIED: EACCES and EPERM
# are both PermissionError). FAILED, the code of every errno value GIO has no name for (EIO among
# them), has no errno here: such errors are plain OSErrors without one.
_ERRNOS = {
    "NOT_FOUND": errno.ENOENT, "EXISTS": errno.EEXIST, "IS_DIRECTORY": errno.EISDIR,
    "NOT_DIRECTORY": errno.ENOTDIR, "NOT_EMPTY": errno.ENOTEMPTY,
    "FILENAME_TOO_LONG": errno.ENAMETOOLONG, "INVALID_FILENAME": errno.EINVAL,
    "TOO_MANY_LINKS": errno.ELOOP, "NO_SPACE": errno.ENOSPC, "INVALID_ARGUMENT": errno.EINVAL,
    "PERMISSION_DENIED": errno.EACCES, "NOT_SUPPORTED": errno.ENOTSUP, "CLOSED": errno.EBADF,
    "BUSY": errno.EBUSY, "WOULD_BLOCK": errno.EAGAIN, "TIMED_OUT": errno.ETIMEDOUT,
    "READ_ONLY": errno.EROFS, "TOO_MANY_OPEN_FILES": errno.EMFILE,
    "ADDRESS_IN_USE": errno.EADDRINUSE, "HOST_UNREACHABLE": errno.EHOSTUNREACH,
    "NETWORK_UNREACHABLE": errno.ENETUNREACH, "CONNECTION_REFUSED": errno.ECONNREFUSED,
    "BROKEN_PIPE": errno.EPIPE, "NOT_CONNECTED": errno.ENOTCONN,
    "MESSAGE_TOO_LARGE": errno.EMSGSIZE, "NO_SUCH_DEVICE": errno.ENODEV,
}
_ERRNOS = {int(getattr(Gio.IOErrorEnum, name)): code for name, code in _ERRNOS.items()
           if hasattr(Gio.IOErrorEnum, name)}

# What makes opening the path itself fail: Hugging Face raises FileNotFoundError for each.
_OPEN_FAILURES = frozenset({errno.ENOENT, errno.EACCES, errno.ENOTDIR, errno.ELOOP,
                            errno.ENAMETOOLONG, errno.EMFILE})


def io_errno(gerror):
    """The errno value behind a GLib.Error of the Gio.IOErrorEnum domain, from its code, or None
    when the code names no single errno value."""
    return _ERRNOS.get(int(gerror.code))


def _oserror_class(code):
    # OSError picks its subclass from the errno, as for any OSError Python raises itself.
    return type(OSError(code, "")) if code is not None else OSError


_COMBINED_CLASSES = {}


def _combined_class(first, second):
    """An exception class deriving from @first (what Hugging Face raises) and @second (the OSError
    subclass Python raises for the errno), whose str() is its message alone, as Hugging Face's is."""
    if issubclass(second, first):
        first, second = second, None
    bases = (first,) if second is None or issubclass(first, second) else (first, second)
    cls = _COMBINED_CLASSES.get(bases)
    if cls is None:
        cls = type(first.__name__, bases, {
            "__str__": lambda self: str(self.args[0]) if self.args else "",
            "__module__": first.__module__,
            "__doc__": f"{first.__name__} (as Hugging Face raises it) that is also an OSError with its errno.",
        })
        _COMBINED_CLASSES[bases] = cls
    return cls


def _io_exception(hf_class, message, code, path, gerror):
    exc = _combined_class(hf_class, _oserror_class(code))(message)
    exc.errno = code
    exc.strerror = os.strerror(code) if code is not None else None
    exc.filename = path
    exc.gerror = gerror
    return exc


_PREFIXES = {
    "open": "Error while deserializing header: ",
    "load": "Error while deserializing: ",
    "save": "Error while serializing: ",
}


def translate_error(gerror, path=None, action="open"):
    """The Python exception that Hugging Face's safetensors raises for the failure a GLib.Error
    from the library reports.

    @action says what failed:
    - "open" (safe_open, load_file): a path that cannot be opened raises FileNotFoundError (with
      Hugging Face's message when the file does not exist); another I/O failure the OSError
      subclass of its errno; an invalid file SafetensorError("Error while deserializing header: ...").
    - "load" (load and deserialize, from bytes): SafetensorError("Error while deserializing: ...").
    - "save" (save_file, save, serialize_file, serialize): SafetensorError("Error while
      serializing: ..."), for I/O failures too.
    Every exception an I/O failure causes is also an OSError, of the subclass Python raises for its
    errno, with errno, strerror and filename set: ``except PermissionError`` catches it as well as
    ``except SafetensorError``. Cancellation and format errors are SafetensorError only. The
    GLib.Error is kept as the exception's :attr:`gerror`.
    """
    if gerror.domain == _IO_DOMAIN and gerror.code != Gio.IOErrorEnum.CANCELLED:
        code = io_errno(gerror)
        if action == "save":
            return _io_exception(SafetensorError, _PREFIXES["save"] + "I/O error: " + gerror.message,
                                 code, path, gerror)
        if action == "open" and code in _OPEN_FAILURES:
            message = (f"No such file or directory: {path}" if code == errno.ENOENT
                       else f"{os.strerror(code)}: {path}")
            return _io_exception(FileNotFoundError, message, code, path, gerror)
        if code is None:
            exc = OSError(gerror.message)
            exc.filename = path
        else:
            exc = OSError(code, os.strerror(code), path)
        exc.gerror = gerror
        return exc
    return SafetensorError(_PREFIXES[action] + gerror.message, gerror=gerror)


def open_path(filename, backend="mmap"):
    """Maps (or with backend="pread", reads) and validates a safetensors file; the ST.File it returns
    owns the memory."""
    flags = load_flags(backend)
    path = fspath(filename)
    try:
        return ST.File.new_from_path_full(path, flags, None)
    except GLib.Error as e:
        raise translate_error(e, path, "open") from None


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
    buffer = bytearray(view)
    try:
        whole = ST.Tensor.new_from_data(ST.DType.U8, [n_bytes], memory_address(buffer), n_bytes, Owner(buffer))
        return ST.File.new_from_bytes(whole.get_bytes())
    except GLib.Error as e:
        raise translate_error(e, None, "load") from None


def memory_address(buffer):
    """The address of a writable buffer's first byte (0 for an empty one)."""
    if not len(buffer):
        return 0
    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))


def is_index_path(filename):
    """Whether @filename names a sharded checkpoint's index (model.safetensors.index.json)."""
    return fspath(filename).endswith(".json")


def open_index(filename):
    """Opens and validates an index and returns its shards, [(shard name, ST.File)], in order."""
    path = fspath(filename)
    try:
        index = ST.Index.new_from_path(path)
        index.validate(None)
        return index, [(shard, index.open_shard(shard, None)) for shard in index.dup_shard_names()]
    except GLib.Error as e:
        raise translate_error(e, path, "open") from None


def file_metadata(stfile):
    """The __metadata__ of a file as a dict, or None when the file has none."""
    if not stfile.has_metadata():
        return None
    return dict(stfile.dup_metadata())


# The element types, by ST.DType value (plain ints from ST.File.dup_layout() find them too), from
# the binding layer's one table.
_DTYPE_NAMES = {getattr(ST.DType, name): name for name in DTYPES}
_DTYPES_BY_NAME = {name: value for value, name in _DTYPE_NAMES.items()}


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


# st_file_dup_names_bytes() and st_file_dup_runs() (library 1.2): the names in one buffer, read
# with one split(), and the tensors as runs of equal shapes, one record for a file of equal rows. A
# 1.0 library has only the per-tensor arrays, which PyGObject converts element by element.
_BULK_CALLS = hasattr(ST.File, "dup_runs")

# From how many tensors on the names come in one buffer. PyGObject converts an array of strings
# one by one (about 70 ns each in a fresh process), and sets up GLib.Bytes on its first use in a
# process (about 0.25 million instructions, some 80 µs): a buffer pays off from about a thousand.
NAMES_BUFFER_MIN = 1000


def file_names(stfile):
    """The names of the tensors of @stfile in file order, as a list of str."""
    if not _BULK_CALLS or stfile.get_n_tensors() < NAMES_BUFFER_MIN:
        return stfile.dup_names_in_file_order()
    names = stfile.dup_names_bytes().get_data().decode("utf-8").split("\0")
    names.pop()  # each name ends with a NUL: the text after the last one is empty
    return names


def file_run_values(stfile):
    """The st_file_dup_runs() records of @stfile, end to end, as a list: per run its tensor count,
    dtype, begin, end (-1 and -1 for a tensor set since loading), n_dims and dimensions. From a
    1.0 library, the same grouping of its per-tensor records."""
    if not _BULK_CALLS:
        return [value for run in runs_of_layout(stfile.dup_layout())
                for value in (*run[:4], len(run[4]), *run[4])]
    return stfile.dup_runs()


def file_runs(stfile):
    """The runs of @stfile (file_run_values()) as [(count, dtype, begin, end, shape)]: @count
    tensors of one dtype and @shape whose bytes follow each other from @begin to @end in the data
    buffer."""
    values = file_run_values(stfile)
    runs = []
    at = 0
    while at < len(values):
        shape_end = at + 5 + values[at + 4]
        runs.append((values[at], values[at + 1], values[at + 2], values[at + 3], list(values[at + 5:shape_end])))
        at = shape_end
    return runs


def runs_of_layout(values):
    """The runs, as file_runs() gives them, from the st_file_dup_layout() records of a 1.0 library
    (which has no st_file_dup_runs()): the library's grouping."""
    runs = []
    at = 0
    while at < len(values):
        dtype, begin, end, n_dims = values[at:at + 4]
        shape = list(values[at + 4:at + 4 + n_dims])
        at += 4 + n_dims
        last = runs[-1] if runs else None
        if (last is not None and begin >= 0 and end > begin and last[2] >= 0 and last[3] == begin
                and last[3] > last[2] and last[1] == dtype and last[4] == shape):
            runs[-1] = (last[0] + 1, dtype, last[2], end, shape)
        else:
            runs.append((1, dtype, begin, end, shape))
    return runs


def file_views(stfile, run_views, out):
    """Adds every tensor of a loaded file to @out through the adapter's
    @run_views(stfile, names, values, out), from the file's names and run records
    (file_run_values()), without a Python object per tensor in between."""
    return run_views(stfile, file_names(stfile), file_run_values(stfile) or [], out)


def layout(stfile):
    """Lists the tensors of a loaded file in the order of their data, as (name, dtype, shape,
    offset, n_bytes) tuples.

    The offsets are relative to the start of the file's data buffer (data_view()).

    A few introspected calls whatever the tensor count (file_names(), st_file_dup_runs()),
    without making an ST.Tensor.
    """
    return entries_of_runs(file_names(stfile), file_run_values(stfile))


def runs_of_entries(entries):
    """The names and file_run_values() records of layout() @entries, a run of one tensor each: what
    an adapter's run_views() takes."""
    values = []
    for _name, dtype, shape, begin, n_bytes in entries:
        values += (1, dtype, begin, begin + n_bytes, len(shape), *shape)
    return [entry[0] for entry in entries], values


def entries_of_runs(names, values):
    """The layout() entries of the tensors @names, from their file_run_values() @values."""
    entries = []
    append = entries.append
    at = 0
    k = 0
    n_values = len(values)
    while at < n_values:
        count, dtype, begin, end = values[at:at + 4]
        shape_end = at + 5 + values[at + 4]
        if begin < 0:
            raise SafetensorError(f"tensor {names[k]!r} was set after loading: it is not in the file's data")
        if count == 1:
            append((names[k], dtype, values[at + 5:shape_end], begin, end - begin))
        else:
            size = (end - begin) // count
            for name in names[k:k + count]:
                append((name, dtype, values[at + 5:shape_end], begin, size))
                begin += size
        k += count
        at = shape_end
    return entries


def load_path(filename, run_views, backend="mmap"):
    """Loads a file, or every shard of an index, into a dict through the adapter's
    @run_views(stfile, names, values, out) (file_views())."""
    out = {}
    load_flags(backend)
    with gc_paused():
        if is_index_path(filename):
            index, shards = open_index(filename)
            for shard_name, stfile in shards:
                if backend != "mmap":
                    stfile = open_path(os.path.join(index.get_directory(), shard_name), backend)
                file_views(stfile, run_views, out)
        else:
            file_views(open_path(filename, backend), run_views, out)
    return out


def load_bytes(data, run_views):
    """Loads a file given as bytes into a dict through the adapter's
    @run_views(stfile, names, values, out) (file_views())."""
    stfile = open_bytes(data)
    with gc_paused():
        return file_views(stfile, run_views, {})


def layout_by_name(stfile):
    """The layout of every tensor of a loaded file as a dict, name -> Entry."""
    return {entry[0]: Entry(entry) for entry in layout(stfile)}


def data_view(stfile):
    """A writable memoryview of a loaded file's whole data buffer that keeps the file alive.

    The buffer of a file loaded from a path is its private copy-on-write mapping: writes through
    the view change the memory of this ST.File only, never the file on disk.
    """
    n_bytes = stfile.get_data_size()
    if n_bytes == 0:
        return memoryview(bytearray())
    array = _ANY_LENGTH.from_address(stfile.get_data_address())
    array.st_owner = stfile
    return memoryview(array).cast("B")[:n_bytes]


# The ctypes array type of every data_view(): ctypes makes a new array type for each length it is
# asked for (about 50 µs in a process that has imported torch, a tenth of a first load_file of
# gpt2) and keeps it for the life of the process, one more for each file size loaded. This one
# type, made with the module, has a length no buffer reaches; each view is the array at the
# buffer's address cut to the buffer's size by the memoryview, so that no view reaches past it.
_ANY_LENGTH = ctypes.c_char * sys.maxsize


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
    owner = Owner(keep_alive)
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
        raise translate_error(e, None, "save") from None
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
        raise translate_error(e, path, "save") from None


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
        raise translate_error(e, None, "save") from None
