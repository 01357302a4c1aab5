# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Many ranks of a torch.distributed process group save and load one checkpoint together.

::

    from safetensors_glib import distributed

    # every rank: the tensors it owns, and its slices of the others
    distributed.save({"embed": embed, "w": distributed.Part(w_local, shape=(4096, 4096), dim=1,
                                                            offset=rank * 1024)},
                     "checkpoint/", max_shard_size="5GB")
    state = distributed.load("checkpoint/")                         # every rank, read once in total
    mine = distributed.load_slices("checkpoint/", dim=1)            # tensor parallel: only my bytes

What is saved is one checkpoint in Hugging Face's layout (``model.safetensors``, or
``model-XXXXX-of-XXXXX.safetensors`` and ``model.safetensors.index.json``), tensors whole,
byte for byte what one process calling ``safetensors_glib.torch.save_file`` with the full tensors
writes. The group agrees before anything is committed: when a rank fails, raises or dies, no rank
commits and every rank that is still alive raises :class:`DistributedError`. doc/distributed.md
describes the protocol, what a crash leaves, and a torchrun example.

Every collective runs with the process group's timeout (``init_process_group(timeout=...)``), so a
rank that dies makes the others fail, never hang. Data crosses the group as torch.uint8 tensors
(torch 1.13's gloo refuses bfloat16 and int16), so every dtype moves the same way.
"""

import fcntl
import mmap
import os
import secrets
import shutil
import string

import torch
import torch.distributed as dist

from . import _core
from ._core import ST, GLib, SafetensorError
from ._torch_adapter import BIG_ENDIAN, ITEMSIZES, ST_DTYPES, TORCH_DTYPES, byteswapped

__all__ = ["DistributedError", "Part", "save", "load", "load_slices"]

# Received tensors are views of batch buffers: each begins at a multiple of this, so that any
# dtype's view of the bytes is aligned.
_ALIGNMENT = 64
# A rank sends what it read in broadcasts of at most this many bytes (one tensor larger than this
# goes alone): the bound on the memory a receiver holds for tensors it did not ask for.
_BATCH_BYTES = 256 * 1024 * 1024
_WORK_DIR_PREFIX = ".st-save-"  # the library's name for a save's work folder (st-checkpoint.c)


class DistributedError(SafetensorError):
    """Raised on every rank still alive when a distributed save or load fails on any rank: a
    rank's own error (the message names the rank), ranks that disagree on a tensor, or a
    collective that failed because a rank died or the group's timeout passed."""


DistributedError.__module__ = "safetensors_glib.distributed"


def _bits(dtype_name):
    return ST.dtype_get_bits(_core.dtype_from_name(dtype_name))


class Part:
    """The part of a logical tensor that one rank holds, for :func:`save`.

    Args:
        tensor (`torch.Tensor`): this rank's values (any device, made contiguous on the CPU to save).
        shape (sequence of `int`, optional): the full shape of the logical tensor; omitted, @tensor
            is the whole tensor (useful with @dtype).
        dim (`int`, defaults to 0): the dimension along which @tensor is a slice.
        offset (`int`, defaults to 0): where the slice begins along @dim; along every other
            dimension it spans the whole tensor.
        dtype (`str`, optional): the safetensors dtype to record ("F8_E4M3", "U16", ...) for raw
            values this torch has no dtype for: @tensor then holds the bytes, with an element size
            equal to the dtype's (a torch.uint8 tensor of the same shape for the F8 types).
    """

    __slots__ = ("tensor", "shape", "dim", "offset", "dtype")

    def __init__(self, tensor, shape=None, *, dim=0, offset=0, dtype=None):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"Part takes a torch.Tensor, not {type(tensor).__name__}")
        self.tensor = tensor
        self.shape = tuple(int(n) for n in (tensor.shape if shape is None else shape))
        self.dim = int(dim)
        self.offset = int(offset)
        self.dtype = dtype

    def __repr__(self):
        return (f"Part(shape={list(self.tensor.shape)} of {list(self.shape)}, dim={self.dim}, "
                f"offset={self.offset}, dtype={self.dtype or self.tensor.dtype})")


def _group_rank(group):
    if not dist.is_available() or not dist.is_initialized():
        raise DistributedError("torch.distributed is not initialized: call init_process_group() first")
    return dist.get_rank(group), dist.get_world_size(group)


def _gather(obj, group, world, what):
    """all_gather_object with the group's timeout; a failure (a rank died) becomes DistributedError."""
    out = [None] * world
    try:
        dist.all_gather_object(out, obj, group=group)
    except RuntimeError as e:
        raise DistributedError(f"the process group failed while {what} (a rank died or timed out): {e}") from e
    return out


def _broadcast(obj, src, group, what):
    box = [obj]
    try:
        dist.broadcast_object_list(box, src=src, group=group)
    except RuntimeError as e:
        raise DistributedError(f"the process group failed while {what} (a rank died or timed out): {e}") from e
    return box[0]


def _raise_failures(results, what):
    """Raises, on every rank alike, when any rank reported an error in its (error, value) pair."""
    failures = [(rank, error) for rank, (error, _value) in enumerate(results) if error is not None]
    if failures:
        listed = "; ".join(f"rank {rank}: {error}" for rank, error in failures)
        raise DistributedError(f"{what} failed on {len(failures)} rank(s): {listed}")
    return [value for _error, value in results]


def _attempt(function, *args):
    """(None, result), or (a message, None) when @function raised: what every rank tells the others."""
    try:
        return None, function(*args)
    except Exception as e:  # noqa: BLE001 - reported to every rank, then raised there
        return f"{type(e).__name__}: {e}", None


# ---------------------------------------------------------------------------------------------
# save


def _describe(state_dict):
    """What this rank holds, as plain data every rank can check: name -> (dtype, full shape, dim,
    offset, length along dim); and the CPU tensors holding the bytes."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"expected a dict of str to torch.Tensor or Part, not {type(state_dict).__name__}")
    described = {}
    local = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, not {type(name).__name__} ({name!r})")
        part = value if isinstance(value, Part) else Part(value) if isinstance(value, torch.Tensor) else None
        if part is None:
            raise TypeError(f"{name!r}: expected a torch.Tensor or a Part, not {type(value).__name__}")
        tensor = part.tensor
        if tensor.layout is not torch.strided:
            raise ValueError(f"{name!r} is a sparse tensor: make it dense with .to_dense() first")
        if part.dtype is None:
            st_dtype = ST_DTYPES.get(tensor.dtype)
            if st_dtype is None:
                raise ValueError(f"{name!r} has dtype {tensor.dtype}, which safetensors has no name for")
            dtype = _core.dtype_name(st_dtype)
        else:
            dtype = part.dtype
            try:
                bits = _bits(dtype)
            except KeyError:
                raise ValueError(f"{name!r}: unknown safetensors dtype {dtype!r}") from None
            if bits != 8 * tensor.element_size():
                raise ValueError(f"{name!r}: dtype {dtype} has {bits} bits per element, but the tensor's "
                                 f"elements ({tensor.dtype}) have {8 * tensor.element_size()}")
        if _bits(dtype) % 8:
            raise ValueError(f"{name!r}: dtype {dtype} packs elements below a byte; save it whole with save_file")
        shape, dim, offset = part.shape, part.dim, part.offset
        local_shape = tuple(tensor.shape)
        if len(local_shape) != len(shape):
            raise ValueError(f"{name!r}: the part has {len(local_shape)} dimensions, the tensor {len(shape)}")
        if shape and not 0 <= dim < len(shape):
            raise ValueError(f"{name!r}: dimension {dim} is out of range for shape {list(shape)}")
        if not shape:
            dim = 0
        length = local_shape[dim] if shape else 1
        for d, (n_local, n_full) in enumerate(zip(local_shape, shape)):
            if d != dim and n_local != n_full:
                raise ValueError(f"{name!r}: the part's shape {list(local_shape)} differs from {list(shape)} "
                                 f"along dimension {d}, which is not the slice's dimension {dim}")
        if shape and (offset < 0 or offset + length > shape[dim]):
            raise ValueError(f"{name!r}: the slice [{offset}, {offset + length}) along dimension {dim} lies "
                             f"outside the tensor's {shape[dim]}")
        tensor = tensor.detach()
        if not tensor.is_cpu:
            tensor = tensor.to("cpu")
        tensor = tensor.contiguous()
        if BIG_ENDIAN and tensor.element_size() > 1:
            tensor = byteswapped(tensor)
        described[name] = (dtype, shape, dim, offset, length)
        local[name] = tensor
    return described, local


def _product(values):
    result = 1
    for value in values:
        result *= value
    return result


def _plan_save(descriptions):
    """The checkpoint the ranks' descriptions make, computed alike on every rank.

    Returns [(name, dtype, shape, offset in the data file, n_bytes, writers)] in the order of first
    appearance, rank by rank; writers is [(rank, dim, offset, length)], one per distinct part (a
    part several ranks hold is written by the lowest of them). Raises ValueError, with the same
    message on every rank, for ranks that disagree.
    """
    order = []
    parts = {}
    for rank, described in enumerate(descriptions):
        for name, (dtype, shape, dim, offset, length) in described.items():
            if name not in parts:
                order.append(name)
                parts[name] = []
            parts[name].append((rank, dtype, tuple(shape), dim, offset, length))
    plan = []
    at = 0
    for name in order:
        held = parts[name]
        _rank0, dtype, shape, _dim, _offset, _length = held[0]
        for rank, other_dtype, other_shape, _d, _o, _l in held[1:]:
            if (other_dtype, other_shape) != (dtype, shape):
                raise ValueError(f"ranks disagree on {name!r}: rank {held[0][0]} gives {dtype} {list(shape)}, "
                                 f"rank {rank} gives {other_dtype} {list(other_shape)}")
        whole = [p for p in held if not shape or (p[4] == 0 and p[5] == shape[p[3]])]
        if whole:
            slices = [p[0] for p in held if p not in whole]
            if slices:
                raise ValueError(f"{name!r} is given whole by rank {whole[0][0]} and as a slice by rank(s) "
                                 f"{', '.join(map(str, slices))}")
            writers = [(whole[0][0], 0, 0, shape[0] if shape else 1)]
        else:
            dims = sorted({p[3] for p in held})
            if len(dims) > 1:
                raise ValueError(f"ranks slice {name!r} along different dimensions: {dims}")
            distinct = {}
            for rank, _dtype, _shape, dim, offset, length in held:
                distinct.setdefault((offset, length), (rank, dim, offset, length))
            writers = sorted(distinct.values(), key=lambda w: w[2])
            covered = 0
            for rank, dim, offset, length in writers:
                if offset != covered:
                    what = "overlaps the previous one" if offset < covered else f"leaves [{covered}, {offset}) out"
                    raise ValueError(f"the slices of {name!r} along dimension {dim} do not tile it: rank {rank}'s "
                                     f"[{offset}, {offset + length}) {what}")
                covered = offset + length
            if covered != shape[dims[0]]:
                raise ValueError(f"the slices of {name!r} along dimension {dims[0]} end at {covered}, "
                                 f"before its size {extent}")
        n_bytes = _product(shape) * _bits(dtype) // 8
        plan.append((name, dtype, shape, at, n_bytes, writers))
        at += n_bytes
    return plan


def _slice_ranges(shape, itemsize, dim, offset, length, base, address):
    """(file offset, length, address) triples, flat, that place a slice [offset, offset + length)
    along @dim of a row-major tensor at @base, from contiguous memory at @address."""
    outer = _product(shape[:dim])
    inner = _product(shape[dim + 1:]) * itemsize
    extent = shape[dim] if shape else 1
    run = length * inner
    if run == 0:
        return []
    if length == extent:
        return [base, run * outer, address]
    if outer == 1:
        return [base + offset * inner, run, address]
    ranges = []
    stride = extent * inner
    first = base + offset * inner
    for i in range(outer):
        ranges += (first + i * stride, run, address + i * run)
    return ranges


def _new_work_dir(directory):
    """A work folder the library recognises (".st-save-" and six letters or digits), locked for as
    long as this process lives: if this rank dies, the next save in @directory removes it."""
    alphabet = string.ascii_letters + string.digits
    for _attempt_number in range(100):
        path = os.path.join(directory, _WORK_DIR_PREFIX + "".join(secrets.choice(alphabet) for _ in range(6)))
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = os.path.join(path, ".st-" + "".join(secrets.choice(alphabet) for _ in range(6)))
        return path, fd, data
    raise FileExistsError(f"could not make a work folder in {directory!r}")


def _output_path(directory, prefix):
    return os.path.join(directory, prefix + ".safetensors")


def _write_parts(data_path, plan, rank, local):
    """pwrite()s every part this rank writes at its place in the data file."""
    ranges = []
    for name, dtype, shape, base, _n_bytes, writers in plan:
        for writer, dim, offset, length in writers:
            if writer == rank:
                tensor = local[name]
                ranges += _slice_ranges(shape, _bits(dtype) // 8, dim, offset, length, base, tensor.data_ptr())
    if not ranges:
        return None
    fd = os.open(data_path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        ST.write_ranges(fd, ranges, None)
    except GLib.Error as e:
        raise _core.translate_error(e, data_path, "save") from None
    finally:
        os.close(fd)
    return None


def _commit(data_path, plan, metadata, directory, prefix, max_shard_size, sync, total):
    """Rank 0: the library saves the whole tensors from the mapped data file, with its own
    atomicity (one file renamed into place, or shards and index with the commit mark)."""
    fd = os.open(data_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        mapping = mmap.mmap(fd, total, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE) if total else None
    finally:
        os.close(fd)
    base = _core.memory_address(mapping) if mapping is not None else 0
    entries = [(name, _core.dtype_from_name(dtype), list(shape), base + at, n_bytes)
               for name, dtype, shape, at, n_bytes, _writers in plan]
    stfile = _core.build_file(entries, metadata, [mapping])
    _core.write_file(stfile, _output_path(directory, prefix), max_shard_size, sync)


def save(state_dict, directory, group=None, *, max_shard_size=None, metadata=None, prefix="model", sync=False):
    """Saves, from every rank of @group, one checkpoint of whole tensors in @directory.

    Every rank of the group calls it, with the tensors it owns whole (`torch.Tensor`) and its
    slices of the others (:class:`Part`). A tensor several ranks hold whole (replicas) is written
    by the lowest of them; slices of a tensor must all be along the same dimension and tile it.

    Args:
        state_dict (`Dict[str, torch.Tensor or Part]`): what this rank holds.
        directory (`str` or `os.PathLike`): the checkpoint's folder (it must exist; a shared file
            system when the ranks run on several machines).
        group (`ProcessGroup`, optional): the group (default: the world).
        max_shard_size (`int` or `str`, optional): write shards of at most this many bytes and an
            index, as `safetensors_glib.torch.save_file` does; without it, one file.
        metadata (`Dict[str, str]`, optional): the ``__metadata__``; the ranks that pass one must
            pass the same.
        prefix (`str`, defaults to "model"): the files are @prefix.safetensors, or
            @prefix-XXXXX-of-XXXXX.safetensors and @prefix.safetensors.index.json.
        sync (`bool`, defaults to `False`): fsync the files and the folder before returning.

    The file is what `save_file` writes for a dict of the full tensors in order of first appearance,
    rank 0's first (for a single file the order does not matter).

    Raises:
        DistributedError: on every rank still alive, when any rank failed; nothing is committed.
    """
    rank, world = _group_rank(group)
    directory = _core.fspath(directory)
    if max_shard_size is not None:
        max_shard_size = _core.parse_max_shard_size(max_shard_size)
    held = _attempt(_describe, state_dict)
    local = held[1][1] if held[0] is None else {}
    if metadata is not None and not isinstance(metadata, dict):
        held = (f"TypeError: metadata must be a dict of str to str, not {type(metadata).__name__}", None)
    reported = (held[0], None if held[0] else (held[1][0], metadata))
    described = _raise_failures(_gather(reported, group, world, "describing the tensors"), "save")
    chosen = None
    for other_rank, (_described, other_metadata) in enumerate(described):
        if other_metadata is None:
            continue
        if chosen is not None and other_metadata != chosen[1]:
            raise DistributedError(f"ranks {chosen[0]} and {other_rank} pass different metadata")
        chosen = (other_rank, other_metadata)
    metadata = chosen[1] if chosen else None
    try:
        plan = _plan_save([d for d, _m in described])
    except ValueError as e:
        raise DistributedError(f"save: {e}") from None
    total = sum(entry[4] for entry in plan)

    work = None
    if rank == 0:
        def prepare():
            path, lock, data = _new_work_dir(directory)
            with open(data, "wb") as f:
                f.truncate(total)
            return path, lock, data
        error, work = _attempt(prepare)
        shared = (error, None if error else (work[0], work[2]))
    else:
        shared = None
    work_path = None
    try:
        error, paths = _broadcast(shared, 0, group, "making the work folder")
        if error:
            raise DistributedError(f"save failed on rank 0: {error}")
        work_path, data_path = paths
        results = _gather(_attempt(_write_parts, data_path, plan, rank, local), group, world, "writing")
        _raise_failures(results, "save")
        if rank == 0:
            outcome = _attempt(_commit, data_path, plan, metadata, directory, prefix, max_shard_size, sync, total)
            _remove_work_dir(work)
            work = None
        else:
            outcome = None
        error, _value = _broadcast(outcome, 0, group, "committing")
        if error:
            raise DistributedError(f"save failed on rank 0 while committing: {error}")
    finally:
        if work is not None:
            _remove_work_dir(work)
        elif work_path is not None and rank != 0:
            # rank 0 removes it; when rank 0 died, the survivors do (nothing else writes there)
            shutil.rmtree(work_path, ignore_errors=True)


def _remove_work_dir(work):
    path, lock, _data = work
    shutil.rmtree(path, ignore_errors=True)
    os.close(lock)


# ---------------------------------------------------------------------------------------------
# load


def _checkpoint_files(path, prefix="model"):
    """[(shard path, ST.File)] of a checkpoint: a folder (@prefix.safetensors.index.json or
    @prefix.safetensors in it), an index, or one file. Opening reads the headers only."""
    path = _core.fspath(path)
    if os.path.isdir(path):
        index = os.path.join(path, prefix + ".safetensors.index.json")
        path = index if os.path.exists(index) else os.path.join(path, prefix + ".safetensors")
    if _core.is_index_path(path):
        _index, shards = _core.open_index(path)
        folder = os.path.dirname(path)
        return [(os.path.join(folder, name), stfile) for name, stfile in shards]
    return [(path, _core.open_path(path))]


class _Entry:
    __slots__ = ("name", "dtype", "shape", "path", "offset", "n_bytes")

    def __init__(self, name, dtype, shape, path, offset, n_bytes):
        self.name, self.dtype, self.shape = name, dtype, shape
        self.path, self.offset, self.n_bytes = path, offset, n_bytes


def _entries(path, prefix):
    """Every tensor of the checkpoint, in file order, with its absolute offset in its file."""
    entries = []
    for shard_path, stfile in _checkpoint_files(path, prefix):
        start = 8 + stfile.get_header_size()
        for name, dtype, shape, begin, n_bytes in _core.layout(stfile):
            entries.append(_Entry(name, dtype, list(shape), shard_path, start + begin, n_bytes))
    return entries


def _choose(entries, names):
    if names is None:
        return [entry.name for entry in entries]
    if callable(names):
        return [entry.name for entry in entries if names(entry.name)]
    if isinstance(names, str):
        names = [names]
    known = {entry.name for entry in entries}
    wanted = list(dict.fromkeys(names))
    missing = [name for name in wanted if name not in known]
    if missing:
        raise KeyError(f"not in the checkpoint: {', '.join(map(repr, missing))}")
    return wanted


def _read_into(reads):
    """Reads [(entry, destination address)] with one st_read_ranges() call per file."""
    by_path = {}
    for entry, address in reads:
        by_path.setdefault(entry.path, []).extend((entry.offset, entry.n_bytes, address))
    for path, ranges in by_path.items():
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            ST.read_ranges(fd, ranges, None)
        except GLib.Error as e:
            raise _core.translate_error(e, path, "open") from None
        finally:
            os.close(fd)


def _aligned(n):
    return (n + _ALIGNMENT - 1) // _ALIGNMENT * _ALIGNMENT


def _batches(assigned):
    """Cuts one reader's tensors into batches of at most _BATCH_BYTES: [(entries, offsets, size)]."""
    batches = []
    current, offsets, size = [], [], 0
    for entry in assigned:
        if current and size + entry.n_bytes > _BATCH_BYTES:
            batches.append((current, offsets, size))
            current, offsets, size = [], [], 0
        current.append(entry)
        offsets.append(size)
        size = _aligned(size + entry.n_bytes)
    if current:
        batches.append((current, offsets, size))
    return batches


def _as_tensor(buffer, at, entry):
    """The tensor @entry over @buffer's bytes at @at (no copy): its torch dtype, or torch.uint8
    bytes for a dtype this torch lacks (F8: same shape; wider ones: the last dimension times the
    element size)."""
    shape = entry.shape
    dtype = TORCH_DTYPES.get(entry.dtype)
    if dtype is None:
        dtype = torch.uint8
        itemsize = ST.dtype_get_bits(entry.dtype) // 8
        if itemsize == 0:
            raise SafetensorError(f"tensor {entry.name!r}: dtype {_core.dtype_name(entry.dtype)} packs elements "
                                  "below a byte; load it with safe_open")
        shape = shape[:-1] + [shape[-1] * itemsize] if shape else [itemsize]
    if entry.n_bytes == 0:
        return torch.empty(shape, dtype=dtype)
    tensor = buffer[at:at + entry.n_bytes].view(dtype).view(shape)
    if BIG_ENDIAN and ITEMSIZES[dtype] > 1:
        tensor = byteswapped(tensor)
    return tensor


def load(path, group=None, *, names=None, prefix="model", device="cpu"):
    """Loads a checkpoint on every rank of @group, reading each wanted byte from storage once in total.

    Every rank of the group calls it. The tensors are shared out among the ranks that want them
    (by bytes); each reads its share with planned reads (st_read_ranges(): one preadv() per run of
    adjacent tensors, straight into the memory that is sent) and broadcasts it through the group
    in batches of up to 256 MiB. Ranks may ask for different tensors; every rank takes part in
    every broadcast, and keeps what it asked for.

    Args:
        path (`str` or `os.PathLike`): the checkpoint's folder, its index, or one safetensors file.
        group (`ProcessGroup`, optional): the group (default: the world).
        names (iterable of `str`, or a callable `name -> bool`, optional): what this rank wants;
            all the tensors by default.
        prefix (`str`, defaults to "model"): the file names looked for in a folder.
        device (`str` or `torch.device`, defaults to "cpu"): where the tensors go.

    Returns:
        `Dict[str, torch.Tensor]`: in file order. Dtypes this torch has no type for (the F8
        types, U16/U32/U64 in torch 1.13) come as torch.uint8 tensors of the raw bytes.

    Raises:
        DistributedError: on every rank, when any rank failed (a missing name, an invalid file,
            a rank that died).
    """
    rank, world = _group_rank(group)
    opened = _attempt(lambda: _entries(path, prefix))
    entries = opened[1] or []
    chosen = _attempt(_choose, entries, names) if opened[0] is None else opened
    wants = _raise_failures(_gather(chosen, group, world, "choosing the tensors"), "load")
    by_name = {entry.name: entry for entry in entries}
    wanted_by = {}
    for other_rank, wanted in enumerate(wants):
        for name in wanted:
            wanted_by.setdefault(name, []).append(other_rank)

    # The share-out, alike on every rank: each tensor to the rank that wants it with the fewest
    # bytes so far; file order keeps each rank's reads adjacent where they can be.
    load_bytes = [0] * world
    assigned = [[] for _ in range(world)]
    for entry in entries:
        ranks = wanted_by.get(entry.name)
        if not ranks:
            continue
        reader = min(ranks, key=lambda r: (load_bytes[r], r))
        load_bytes[reader] += entry.n_bytes
        assigned[reader].append(entry)

    # Every rank reads its share at once (in parallel with the others), then the group learns of
    # any failure in one collective, then each batch another rank wants is broadcast.
    mine = set(wants[rank])
    batches = [_batches(assigned[reader]) for reader in range(world)]
    buffers = []
    for batch, offsets, size in batches[rank]:
        buffer = torch.empty(size, dtype=torch.uint8)
        buffers.append(buffer)
    status = _attempt(_read_into, [(e, buffer.data_ptr() + at) for (batch, offsets, _size), buffer
                                   in zip(batches[rank], buffers) for e, at in zip(batch, offsets)])
    _raise_failures(_gather((status[0], None), group, world, "reading"), "load")
    out = {}
    for reader in range(world):
        for number, (batch, offsets, size) in enumerate(batches[reader]):
            shared = any(r != reader for e in batch for r in wanted_by[e.name])
            if reader == rank:
                buffer = buffers[number]
            elif shared:
                buffer = torch.empty(size, dtype=torch.uint8)
            else:
                continue
            if shared and size:
                try:
                    dist.broadcast(buffer, src=reader, group=group)
                except RuntimeError as e:
                    raise DistributedError(f"the process group failed while sending tensors (a rank died "
                                           f"or timed out): {e}") from e
            for e, at in zip(batch, offsets):
                if e.name in mine:
                    out[e.name] = _as_tensor(buffer, at, e)
    ordered = {e.name: out[e.name] for e in entries if e.name in out}
    target = _torch_device(device)
    if target is not None:
        ordered = {name: tensor.to(target) for name, tensor in ordered.items()}
    return ordered


def _torch_device(device):
    from ._torch_adapter import device as parse_device
    return parse_device(device)


def _split(extent, index, count):
    """The [begin, end) of part @index of @count of @extent, as torch.tensor_split cuts: the first
    extent % count parts one longer."""
    base, extra = divmod(extent, count)
    begin = index * base + min(index, extra)
    return begin, begin + base + (1 if index < extra else 0)


def load_slices(path, dim=0, *, names=None, rank=None, world_size=None, group=None, prefix="model", device="cpu"):
    """Loads this rank's part of chosen tensors for tensor parallelism, reading only its bytes.

    Tensor part @rank of @world_size along @dim is cut as `torch.tensor_split` cuts (the first
    `size % world_size` parts one longer). A slice along the first dimension is one read; along a
    later one, one range per row, joined into one preadv() where the rows follow each other. No
    collective is made: the ranks read independently.

    Args:
        path: as for :func:`load`.
        dim (`int`, or a dict of name to `int` or `None`, defaults to 0): the dimension to split;
            per tensor, `None` loads that tensor whole (replicated), and a name missing from the
            dict too.
        names (iterable of `str`, or a callable `name -> bool`, optional): the tensors; all by default.
        rank, world_size (`int`, optional): the part to load; default: the rank and size of @group.
        group (`ProcessGroup`, optional): where @rank and @world_size come from when not given.
        prefix, device: as for :func:`load`.

    Returns:
        `Dict[str, torch.Tensor]`: the parts, in file order.
    """
    if rank is None or world_size is None:
        group_rank, group_size = _group_rank(group)
        rank = group_rank if rank is None else rank
        world_size = group_size if world_size is None else world_size
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in [0, {world_size})")
    entries = _entries(path, prefix)
    chosen = set(_choose(entries, names))
    parts = []
    reads = []
    for entry in entries:
        if entry.name not in chosen:
            continue
        split_dim = dim.get(entry.name) if isinstance(dim, dict) else dim
        shape = entry.shape
        if split_dim is None:
            parts.append((entry, shape, None))
            continue
        if not 0 <= split_dim < len(shape):
            raise SafetensorError(f"tensor {entry.name!r} of shape {shape} has no dimension {split_dim} to split")
        itemsize = ST.dtype_get_bits(entry.dtype) // 8
        if itemsize == 0:
            raise SafetensorError(f"tensor {entry.name!r}: dtype {_core.dtype_name(entry.dtype)} packs elements "
                                  "below a byte and cannot be split")
        begin, end = _split(shape[split_dim], rank, world_size)
        part_shape = shape[:split_dim] + [end - begin] + shape[split_dim + 1:]
        parts.append((entry, part_shape, (split_dim, begin, end - begin, itemsize)))

    out = {}
    for entry, part_shape, cut in parts:
        n_bytes = entry.n_bytes if cut is None else _product(part_shape) * cut[3]
        buffer = torch.empty(_aligned(n_bytes), dtype=torch.uint8)
        view = _Entry(entry.name, entry.dtype, part_shape, entry.path, entry.offset, n_bytes)
        if n_bytes:
            if cut is None:
                reads.append((entry.path, [entry.offset, n_bytes, buffer.data_ptr()]))
            else:
                split_dim, begin, length, itemsize = cut
                reads.append((entry.path, _slice_ranges(entry.shape, itemsize, split_dim, begin, length, entry.offset,
                                                        buffer.data_ptr())))
        out[entry.name] = _as_tensor(buffer, 0, view)
    by_path = {}
    for file_path, ranges in reads:
        by_path.setdefault(file_path, []).extend(ranges)
    for file_path, ranges in by_path.items():
        fd = os.open(file_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            ST.read_ranges(fd, ranges, None)
        except GLib.Error as e:
            raise _core.translate_error(e, file_path, "open") from None
        finally:
            os.close(fd)
    target = _torch_device(device)
    if target is not None:
        out = {name: tensor.to(target) for name, tensor in out.items()}
    return out
