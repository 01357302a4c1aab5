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
import hashlib
import json
import os
import re
import secrets
import shutil
import string

import torch
import torch.distributed as dist

from . import _core, _turns
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
# A rank writes at most this many bytes of a file per turn (_turns.py), then lets a rank waiting for
# that file have it: a rank the scheduler takes off the CPU in its turn holds up the others of that
# file for no longer than this takes. On a loaded machine (bench: 4 ranks, 1 GiB, 2 CPUs, one of
# them busy elsewhere) 16 MiB and 4 MiB turns took 0.78 of the wall time of 64 MiB turns.
_TURN_BYTES = 16 * 1024 * 1024
# Turns for checkpoints of at most this many files: every rank keeps a FIFO of each open while it
# writes, and a checkpoint of thousands of small shards must not run the ranks out of descriptors.
_TURN_MAX_FILES = 64


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


def _failed_flag(failed, group, what, reduce):
    """One int32 collective (gloo moves CPU tensors): the MAX of every rank's @failed, or rank 0's."""
    flag = torch.tensor([1 if failed else 0], dtype=torch.int32)
    try:
        if reduce:
            dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=group)
        else:
            dist.broadcast(flag, src=0, group=group)
    except RuntimeError as e:
        raise DistributedError(f"the process group failed while {what} (a rank died or timed out): {e}") from e
    return bool(flag.item())


def _agree(outcome, group, world, what):
    """Raises on every rank alike when any rank's (error, value) @outcome holds an error, as
    _raise_failures(_gather(...)) does. With gloo, a success costs one all_reduce of a flag (a
    third of an all_gather_object) and the messages are gathered only when a rank failed."""
    if dist.get_backend(group) != "gloo" or _failed_flag(outcome[0] is not None, group, what, True):
        _raise_failures(_gather(outcome, group, world, what), "save")


def _broadcast_outcome(outcome, group, what):
    """Rank 0's error (None on success) on every rank: with gloo, a flag, then the message only on
    failure."""
    if dist.get_backend(group) != "gloo":
        return _broadcast(outcome, 0, group, what)[0]
    if not _failed_flag(outcome is not None and outcome[0] is not None, group, what, False):
        return None
    return _broadcast(outcome, 0, group, what)[0]


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
                                 f"before its size {shape[dims[0]]}")
        n_bytes = _product(shape) * _bits(dtype) // 8
        plan.append((name, dtype, shape, at, n_bytes, writers))
        at += n_bytes
    return plan


def _strides(shape, itemsize):
    strides = [itemsize] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    return strides


def _box_runs(src_shape, src_at, dst_shape, dst_at, box, itemsize):
    """The copies that move a box of @box elements at @src_at in a row-major @src_shape array to
    @dst_at in a row-major @dst_shape one, as (source byte offset, destination byte offset, length):
    one copy per row of the dimensions before the last one where the box is narrower than either
    array, so a slice along the first dimension is one copy and one along the second one per row."""
    if _product(box) == 0:
        return []
    n = len(box)
    split = -1
    for d in range(n - 1, -1, -1):
        if box[d] != src_shape[d] or box[d] != dst_shape[d]:
            split = d
            break
    if split < 0:
        return [(0, 0, _product(box) * itemsize)]
    src_strides = _strides(src_shape, itemsize)
    dst_strides = _strides(dst_shape, itemsize)
    length = box[split] * src_strides[split]
    src_base = sum(src_at[d] * src_strides[d] for d in range(split + 1))
    dst_base = sum(dst_at[d] * dst_strides[d] for d in range(split + 1))
    runs = [(src_base, dst_base, length)]
    for d in range(split - 1, -1, -1):
        runs = [(s + i * src_strides[d], t + i * dst_strides[d], length)
                for i in range(box[d]) for s, t, length in runs]
    return runs


def _part_box(shape, dim, offset, length):
    """The offsets and shape of the slice [offset, offset + length) along @dim of @shape."""
    at = [0] * len(shape)
    box = list(shape)
    if shape:
        at[dim] = offset
        box[dim] = length
    return at, box


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
        return path, fd
    raise FileExistsError(f"could not make a work folder in {directory!r}")


def _plan_files(directory, plan, metadata, prefix, max_shard_size):
    """Rank 0: the library lays the checkpoint out (the files st_file_save_to_path or
    st_file_save_sharded would write for these tensors: split, names, headers) and makes its files,
    headers written, in a locked work folder, with a turn FIFO per file beside them (_turns.py).
    Returns the planned save (to commit or discard), the files' work paths, per tensor in @plan's
    order (file number, offset of its bytes), and the FIFOs' paths (None: no turns)."""
    planned = ST.PlannedSave.new(prefix, max_shard_size or 0)
    if metadata is not None:
        planned.set_metadata(metadata)
    try:
        for name, dtype, shape, _at, _n_bytes, _writers in plan:
            if "\0" in name:
                raise ValueError(f"tensor name {name!r} contains a NUL character, which the library's "
                                 "names cannot hold")
            planned.add_tensor(name, _core.dtype_from_name(dtype), list(shape))
        planned.prepare(directory)
        paths = [planned.get_work_path(k) for k in range(planned.get_n_files())]
        places = []
        for name, *_rest in plan:
            _found, file, offset = planned.locate(name)
            places.append((file, offset))
    except GLib.Error as e:
        planned.discard()
        raise _core.translate_error(e, directory, "save") from None
    except BaseException:
        planned.discard()
        raise
    # the work folder: where the files are (a file whose name is a symbolic link waits beside the
    # file the link points to)
    folders = [os.path.dirname(path) for path in paths
               if os.path.basename(os.path.dirname(path)).startswith(_WORK_DIR_PREFIX)]
    fifos = _turns.make(folders[0], len(paths)) if folders and 0 < len(paths) <= _TURN_MAX_FILES else None
    return planned, paths, places, fifos


def _turn_batches(ranges):
    """@ranges, (file offset, length, address) triples in file order, cut into flat lists of about
    _TURN_BYTES each (a range is not cut): what a rank writes of one file per turn."""
    batches = [[]]
    size = 0
    for offset, length, address in ranges:
        if size >= _TURN_BYTES:
            batches.append([])
            size = 0
        batches[-1] += (offset, length, address)
        size += length
    return batches


def _write_parts(paths, places, plan, rank, local, turns=None):
    """pwrite()s every part this rank writes at its place in its file of the checkpoint, a file at
    a time while this rank has its turn there (@turns, a _turns.Turns; None: no turns)."""
    by_file = {}
    for (name, dtype, shape, _at, _n_bytes, writers), (file, base) in zip(plan, places):
        for writer, dim, offset, length in writers:
            if writer == rank:
                address = local[name].data_ptr()
                at, box = _part_box(shape, dim, offset, length)
                ranges = by_file.setdefault(file, [])
                for src, dst, n in _box_runs(box, [0] * len(box), shape, at, box, _bits(dtype) // 8):
                    ranges.append((base + dst, n, address + src))
    if turns is None:
        turns = _turns.Turns(None, False)
    # Rank r prefers the r-th of its files first, and after a turn a file it has not just written:
    # the ranks spread over the files from the start.
    files = sorted(by_file)
    start = rank % len(files) if files else 0
    files = files[start:] + files[:start]
    batches = {file: _turn_batches(by_file[file]) for file in files}
    while files:
        file, held = turns.take(files)
        try:
            if held:
                todo = [batches[file].pop(0)]
            else:
                # without a turn: the whole rest of the file at once
                todo, batches[file] = batches[file], []
            # one descriptor at a time, however many files the checkpoint has
            fd = os.open(paths[file], os.O_WRONLY | os.O_CLOEXEC)
            try:
                for ranges in todo:
                    ST.write_ranges(fd, ranges, None)
            finally:
                os.close(fd)
        except GLib.Error as e:
            raise _core.translate_error(e, paths[file], "save") from None
        finally:
            turns.give(file)
        files.remove(file)
        if batches[file]:
            files.append(file)
    return None


def _commit(planned, sync):
    """Rank 0, once every rank wrote its parts: the library renames the files into place with its
    own atomicity (one file, or shards and index with the commit mark)."""
    try:
        planned.commit(_core.save_flags(sync))
    except GLib.Error as e:
        raise _core.translate_error(e, None, "save") from None


def _per_rank_work_name(rank):
    # a name the library removes from a dead save's work folder: ".st-" and six letters or digits
    return f".st-r{rank + 1:05d}"


def _write_own_file(work_path, plan, rank, local, metadata):
    """The per-rank layout: this rank's chunks into a file of its own, with torch's sharding info."""
    entries = []
    info = {}
    keep = []
    for name, dtype, shape, _base, _n_bytes, writers in plan:
        for writer, dim, offset, length in writers:
            if writer == rank:
                tensor = local[name]
                at, box = _part_box(shape, dim, offset, length)
                entries.append((name, _core.dtype_from_name(dtype), box, tensor.data_ptr(),
                                _product(box) * _bits(dtype) // 8))
                keep.append(tensor)
                info[name] = {"saved_offsets": at}
    if not entries:
        return None
    metadata = dict(metadata or {})
    metadata.update({_SHARDING_INFO_KEY: json.dumps(info), "DCP_VERSION": "1.0", "format": "pt"})
    stfile = _core.build_file(entries, metadata, keep)
    _core.write_file(stfile, os.path.join(work_path, _per_rank_work_name(rank)))
    return None


def _commit_per_rank(work_path, plan, directory, sync):
    """Rank 0: renames every rank's file into place, then removes per-rank files of an earlier save
    that this one did not write (a larger group's), which torch's reader would take as chunks."""
    writers = sorted({writer for *_head, writers in plan for writer, *_rest in writers})
    names = set()
    for writer in writers:
        name = _per_rank_name(writer)
        os.rename(os.path.join(work_path, _per_rank_work_name(writer)), os.path.join(directory, name))
        names.add(name)
    for name in _per_rank_files(directory):
        if name not in names:
            os.unlink(os.path.join(directory, name))
    if sync:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save(state_dict, directory, group=None, *, max_shard_size=None, metadata=None, prefix="model", sync=False,
         layout="hf"):
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
        layout (`str`, defaults to "hf"): "hf" for Hugging Face's layout, whole tensors; "per-rank"
            for torch.distributed.checkpoint's (torch 2.8, HuggingFaceStorageWriter(save_sharded=True)):
            every rank that writes a chunk writes shard-<rank + 1>-model-00001-of-00001.safetensors,
            its chunks under the tensors' names and their offsets in ``DCP_SHARDING_INFO``
            (:func:`load` and :func:`load_slices` read it too). @max_shard_size and @prefix do not apply.

    In Hugging Face's layout the file is what `save_file` writes for a dict of the full tensors in order of first appearance,
    rank 0's first (for a single file the order does not matter).

    Raises:
        DistributedError: on every rank still alive, when any rank failed; nothing is committed.
    """
    rank, world = _group_rank(group)
    directory = _core.fspath(directory)
    if layout not in ("hf", "per-rank"):
        raise ValueError(f'layout must be "hf" or "per-rank", not {layout!r}')
    if layout == "per-rank" and max_shard_size is not None:
        raise ValueError("max_shard_size does not apply to the per-rank layout: one file per rank")
    if max_shard_size is not None:
        max_shard_size = _core.parse_max_shard_size(max_shard_size)
    held = _attempt(_describe, state_dict)
    local = held[1][1] if held[0] is None else {}
    if metadata is not None and not isinstance(metadata, dict):
        held = (f"TypeError: metadata must be a dict of str to str, not {type(metadata).__name__}", None)
    reported = (held[0], None if held[0] else (held[1][0], metadata, node_id()))
    described = _raise_failures(_gather(reported, group, world, "describing the tensors"), "save")
    nodes = [node for _described, _metadata, node in described]
    # the lowest rank of each node puts in the turn tokens of its node (_turns.py)
    seeds_turns = nodes.index(nodes[rank]) == rank
    chosen = None
    for other_rank, (_described, other_metadata, _node) in enumerate(described):
        if other_metadata is None:
            continue
        if chosen is not None and other_metadata != chosen[1]:
            raise DistributedError(f"ranks {chosen[0]} and {other_rank} pass different metadata")
        chosen = (other_rank, other_metadata)
    metadata = chosen[1] if chosen else None
    try:
        plan = _plan_save([d for d, _m, _n in described])
    except ValueError as e:
        raise DistributedError(f"save: {e}") from None

    # Rank 0 prepares: the checkpoint's files, or a work folder for the per-rank files; every rank
    # learns where to write (or rank 0's error).
    planned = work = fifos = turns = None
    if rank == 0:
        if layout == "hf":
            error, made = _attempt(_plan_files, directory, plan, metadata, prefix, max_shard_size)
            if error is None:
                planned, paths, places, fifos = made
                made = (paths, places, fifos)
        else:
            error, work = _attempt(_new_work_dir, directory)
            made = None if error else work[0]
        shared = (error, made)
    else:
        shared = None
    where = None
    try:
        error, where = _broadcast(shared, 0, group, "preparing the files")
        if error:
            where = None
            raise DistributedError(f"save failed on rank 0: {error}")
        if layout == "hf":
            turns = _turns.Turns(where[2], seeds_turns)
            written = _attempt(_write_parts, where[0], where[1], plan, rank, local, turns)
        else:
            written = _attempt(_write_own_file, where, plan, rank, local, metadata)
        _agree(written, group, world, "writing")
        if turns is not None:
            # every rank is done writing: the FIFOs may go
            turns.close()
            _turns.remove(fifos)
            fifos = None
        outcome = None
        if rank == 0 and layout == "hf":
            # a failed commit discards the files itself; the finally clause's discard() is then,
            # as after a success, a no-op, unless the failure came before the library's commit
            outcome = _attempt(_commit, planned, sync)
        elif rank == 0:
            outcome = _attempt(_commit_per_rank, work[0], plan, directory, sync)
            _remove_work_dir(work)
            work = None
        error = _broadcast_outcome(outcome, group, "committing")
        if error:
            raise DistributedError(f"save failed on rank 0 while committing: {error}")
    finally:
        if turns is not None:
            turns.close()
        _turns.remove(fifos)
        if planned is not None:
            planned.discard()
        if work is not None:
            _remove_work_dir(work)
        if rank != 0 and where is not None:
            # rank 0 removes its work folder; when rank 0 died, the survivors do (nothing else
            # writes there)
            _remove_dead_work_dir(where, layout)


def _remove_dead_work_dir(where, layout):
    """The work folder of rank 0's save, when it is still there once the save is over on this rank."""
    folder = os.path.dirname(where[0][0]) if layout == "hf" else where
    if os.path.basename(folder).startswith(_WORK_DIR_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def _remove_work_dir(work):
    path, lock = work
    shutil.rmtree(path, ignore_errors=True)
    os.close(lock)


# ---------------------------------------------------------------------------------------------
# load


# torch.distributed.checkpoint's per-rank layout with Hugging Face's storage (torch 2.8,
# HuggingFaceStorageWriter(save_sharded=True)): each rank writes
# shard-<rank + 1>-model-<file>-of-<files>.safetensors, numbers on five digits, holding its chunks
# under the full tensors' names with their own shapes; __metadata__ has "DCP_SHARDING_INFO", the
# JSON text of {name: {"saved_offsets": [offset per dimension]}}, "DCP_VERSION": "1.0" and
# "format": "pt". torch's reader takes every .safetensors file of the folder and makes each
# tensor's shape the largest offset + shape of its chunks.
_PER_RANK_PATTERN = re.compile(r"shard-(\d{5})-model-(\d{5})-of-(\d{5})\.safetensors\Z")
_SHARDING_INFO_KEY = "DCP_SHARDING_INFO"


def _per_rank_name(rank):
    return f"shard-{rank + 1:05d}-model-00001-of-00001.safetensors"


def _per_rank_files(folder):
    return sorted(name for name in os.listdir(folder) if _PER_RANK_PATTERN.match(name))


def _checkpoint_files(path, prefix="model"):
    """[(file path, ST.File)] of a checkpoint: a folder (@prefix.safetensors.index.json or
    @prefix.safetensors in it, else torch's per-rank files), an index, or one file. Opening reads
    the headers only."""
    path = _core.fspath(path)
    if os.path.isdir(path):
        index = os.path.join(path, prefix + ".safetensors.index.json")
        single = os.path.join(path, prefix + ".safetensors")
        per_rank = _per_rank_files(path) if not os.path.exists(index) and not os.path.exists(single) else []
        if per_rank:
            return [(os.path.join(path, name), _core.open_path(os.path.join(path, name))) for name in per_rank]
        path = index if os.path.exists(index) else single
    if _core.is_index_path(path):
        _index, shards = _core.open_index(path)
        folder = os.path.dirname(path)
        return [(os.path.join(folder, name), stfile) for name, stfile in shards]
    return [(path, _core.open_path(path))]


class _Entry:
    """A logical tensor of a checkpoint and the chunks that hold it: (file path, byte offset of the
    chunk's data in the file, the chunk's offsets in the tensor, the chunk's shape). A tensor of
    Hugging Face's layout is one chunk, the whole tensor."""

    __slots__ = ("name", "dtype", "shape", "n_bytes", "chunks")

    def __init__(self, name, dtype, shape, n_bytes, chunks):
        self.name, self.dtype, self.shape, self.n_bytes, self.chunks = name, dtype, shape, n_bytes, chunks

    def itemsize(self):
        itemsize = ST.dtype_get_bits(self.dtype) // 8
        if itemsize * 8 != ST.dtype_get_bits(self.dtype):
            raise SafetensorError(f"tensor {self.name!r}: dtype {_core.dtype_name(self.dtype)} packs elements "
                                  "below a byte; load it with safe_open")
        return itemsize

    def pieces(self, at, box):
        """The reads that fill a buffer holding the box @box at @at of this tensor:
        [(path, file offset, buffer offset, length)]."""
        pieces = []
        if len(self.chunks) == 1 and list(self.chunks[0][3]) == list(self.shape) and box == list(self.shape):
            path, start, _offsets, _shape = self.chunks[0]
            return [(path, start, 0, self.n_bytes)] if self.n_bytes else []
        itemsize = self.itemsize()
        for path, start, offsets, shape in self.chunks:
            low = [max(a, o) for a, o in zip(at, offsets)]
            high = [min(a + n, o + m) for a, n, o, m in zip(at, box, offsets, shape)]
            if any(h <= lo for lo, h in zip(low, high)) and self.shape:
                continue
            inter = [h - lo for lo, h in zip(low, high)]
            for src, dst, n in _box_runs(shape, [lo - o for lo, o in zip(low, offsets)],
                                         box, [lo - a for lo, a in zip(low, at)], inter, itemsize):
                pieces.append((path, start + src, dst, n))
        return pieces


def _entries(path, prefix):
    """Every tensor of the checkpoint, in file order, with its chunks."""
    entries = {}
    for file_path, stfile in _checkpoint_files(path, prefix):
        start = 8 + stfile.get_header_size()
        info = stfile.get_metadata_value(_SHARDING_INFO_KEY) if stfile.has_metadata() else None
        try:
            info = json.loads(info) if info is not None else {}
        except ValueError:
            raise SafetensorError(f"{file_path}: {_SHARDING_INFO_KEY} is not valid JSON") from None
        for name, dtype, shape, begin, n_bytes in _core.layout(stfile):
            shape = list(shape)
            offsets = info.get(name, {}).get("saved_offsets", [0] * len(shape)) if info else [0] * len(shape)
            if len(offsets) != len(shape) or not all(isinstance(o, int) and o >= 0 for o in offsets):
                raise SafetensorError(f"{file_path}: the saved offsets of {name!r} do not fit its shape {shape}")
            entry = entries.get(name)
            if entry is None:
                entries[name] = _Entry(name, dtype, shape, 0, [(file_path, start + begin, offsets, shape)])
            elif entry.dtype != dtype or len(entry.shape) != len(shape):
                raise SafetensorError(f"{file_path}: the chunk of {name!r} does not match its other chunks")
            else:
                entry.chunks.append((file_path, start + begin, offsets, shape))
    for entry in entries.values():
        full = [max(o + n for _p, _s, offsets, shape in entry.chunks for o, n in [(offsets[d], shape[d])])
                for d in range(len(entry.shape))]
        entry.shape = full
        entry.n_bytes = _product(full) * ST.dtype_get_bits(entry.dtype) // 8
        if len(entry.chunks) > 1:
            _check_tiling(entry)
    return list(entries.values())


def _check_tiling(entry):
    """Chunks that overlap or leave holes make no tensor: their volumes must add up to it, and no
    two may overlap."""
    volume = sum(_product(chunk[3]) for chunk in entry.chunks)
    boxes = [(chunk[2], chunk[3]) for chunk in entry.chunks]
    for i, (a_at, a_box) in enumerate(boxes):
        for b_at, b_box in boxes[i + 1:]:
            if all(max(a, b) < min(a + m, b + n) for a, m, b, n in zip(a_at, a_box, b_at, b_box)):
                raise SafetensorError(f"the chunks of {entry.name!r} overlap")
    if volume != _product(entry.shape):
        raise SafetensorError(f"the chunks of {entry.name!r} do not cover its shape {entry.shape}")


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


def _read_ranges_by_path(by_path):
    """Reads {path: st_read_ranges() triples} with one st_read_ranges() call per file."""
    for path, ranges in by_path.items():
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            ST.read_ranges(fd, ranges, None)
        except GLib.Error as e:
            raise _core.translate_error(e, path, "open") from None
        finally:
            os.close(fd)


def _read_pieces(reads):
    """Reads [(pieces, destination address)] with one st_read_ranges() call per file."""
    by_path = {}
    for pieces, address in reads:
        for path, offset, at, n in pieces:
            by_path.setdefault(path, []).extend((offset, n, address + at))
    _read_ranges_by_path(by_path)


def _read_into(reads):
    """Reads whole tensors: [(entry, destination address)]."""
    _read_pieces([(entry.pieces([0] * len(entry.shape), list(entry.shape)), address) for entry, address in reads])


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


def _as_tensor(buffer, at, entry, shape=None):
    """The tensor @entry (or its part of @shape) over @buffer's bytes at @at (no copy): its torch
    dtype, or torch.uint8 bytes for a dtype this torch lacks (F8: same shape; wider ones: the last
    dimension times the element size)."""
    shape = list(entry.shape if shape is None else shape)
    itemsize = entry.itemsize()
    n_bytes = _product(shape) * itemsize
    dtype = TORCH_DTYPES.get(entry.dtype)
    if dtype is None:
        dtype = torch.uint8
        shape = shape[:-1] + [shape[-1] * itemsize] if shape else [itemsize]
    if n_bytes == 0:
        return torch.empty(shape, dtype=dtype)
    tensor = buffer[at:at + n_bytes].view(dtype).view(shape)
    if BIG_ENDIAN and ITEMSIZES[dtype] > 1:
        tensor = byteswapped(tensor)
    return tensor


# The environment variable that names the node a rank runs on, for tests that make one machine two
# nodes; by default the node is the machine: its boot id and host name.
NODE_ENVIRONMENT_VARIABLE = "SAFETENSORS_GLIB_NODE"

# A rank that warms its share of the page cache reads it in pieces of this size into one scratch
# buffer: the bytes stay in the page cache, the buffer is reused.
_WARM_PIECE = 8 * 1024 * 1024


def node_id():
    """What names this rank's node: ranks with the same one share a page cache (and storage).

    $SAFETENSORS_GLIB_NODE when set, else the kernel's boot id and the host name: two containers
    of one machine with separate file systems have the same boot id but, as a rule, not the same
    host name."""
    override = os.environ.get(NODE_ENVIRONMENT_VARIABLE)
    if override:
        return "env:" + override
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = ""
    return f"{boot}/{os.uname().nodename}"


def _warm_shares(entries, wanted_by, world):
    """The wanted bytes of the checkpoint's files, as runs of adjacent chunks, cut into @world
    shares of about equal size: [[(path, offset, length)]] per rank."""
    chunks = sorted((path, start, _product(shape) * entry.itemsize())
                    for entry in entries if entry.name in wanted_by
                    for path, start, _offsets, shape in entry.chunks)
    runs = []
    for path, start, n in chunks:
        if runs and runs[-1][0] == path and runs[-1][1] + runs[-1][2] == start:
            runs[-1][2] += n
        elif n:
            runs.append([path, start, n])
    total = sum(n for _path, _start, n in runs)
    share = -(-total // world) if total else 0
    shares = [[] for _ in range(world)]
    reader, room = 0, share
    for path, start, n in runs:
        while n:
            take = min(n, room)
            shares[reader].append((path, start, take))
            start, n, room = start + take, n - take, room - take
            if room == 0 and reader < world - 1:
                reader, room = reader + 1, share
    return shares


def _warm(share):
    """Reads @share from storage into the page cache (through a scratch buffer: the bytes are
    kept by the cache, which every rank of the node maps afterwards)."""
    if not share:
        return None
    scratch = torch.empty(min(_WARM_PIECE, max(n for _p, _s, n in share)), dtype=torch.uint8)
    address = scratch.data_ptr()
    by_path = {}
    for path, start, n in share:
        ranges = by_path.setdefault(path, [])
        for at in range(0, n, _WARM_PIECE):
            ranges += (start + at, min(_WARM_PIECE, n - at), address)
    _read_ranges_by_path(by_path)
    return None


def _map_wanted(entries, mine):
    """The tensors this rank wants, as views of the files' mappings (no copy: the page cache the
    node's ranks filled is their memory), or, for a tensor of the per-rank layout made of several
    chunks, read from that cache into memory of its own."""
    mapped = {}
    out = {}
    assembled = []
    for entry in entries:
        if entry.name not in mine:
            continue
        if len(entry.chunks) == 1 and list(entry.chunks[0][3]) == list(entry.shape):
            path, start, _offsets, _shape = entry.chunks[0]
            if path not in mapped:
                stfile = _core.open_path(path)
                size = stfile.get_data_size()
                view = torch.frombuffer(_core.data_view(stfile), dtype=torch.uint8) if size else None
                mapped[path] = (view, 8 + stfile.get_header_size())
            view, data_start = mapped[path]
            out[entry.name] = _as_tensor(view, start - data_start, entry)
        else:
            buffer = torch.empty(_aligned(entry.n_bytes), dtype=torch.uint8)
            assembled.append((entry, buffer.data_ptr()))
            out[entry.name] = _as_tensor(buffer, 0, entry)
    _read_into(assembled)
    return out


def _load_on_one_node(entries, wanted_by, mine, rank, world, group, device):
    """Every rank of the group on one node: the ranks split the reading of the wanted bytes from
    storage into the page cache they share (each its share, at once, in parallel), agree that
    every share was read, then each maps what it wants. Nothing crosses the process group but the
    outcomes: on one machine the page cache moves the bytes for free."""
    status = _attempt(_warm, _warm_shares(entries, wanted_by, world)[rank])
    _raise_failures(_gather((status[0], None), group, world, "reading"), "load")
    mapped = _attempt(_map_wanted, entries, mine)
    _raise_failures(_gather((mapped[0], None), group, world, "mapping"), "load")
    ordered = {e.name: mapped[1][e.name] for e in entries if e.name in mapped[1]}
    target = _torch_device(device)
    if target is not None:
        ordered = {name: tensor.to(target) for name, tensor in ordered.items()}
    return ordered


def load(path, group=None, *, names=None, prefix="model", device="cpu"):
    """Loads a checkpoint on every rank of @group, reading each wanted byte from storage once in total.

    Every rank of the group calls it. When every rank runs on one node (:func:`node_id`), the
    ranks read one share each of the wanted bytes into the page cache they share, at once, then
    each maps the files: its tensors are views of the mapping, and nothing crosses the group but
    the outcomes. Across nodes, the tensors are shared out among the ranks that want them (by
    bytes); each reads its share with planned reads (st_read_ranges(): one preadv() per run of
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
    # what each rank opened, so that ranks given different checkpoints fail alike instead of
    # making collectives that do not match
    layout = hashlib.sha256(repr([(e.name, e.dtype, e.shape, e.n_bytes) for e in entries]).encode()).hexdigest()
    reported = _raise_failures(_gather((chosen[0], (chosen[1], layout, node_id())), group, world,
                                       "choosing the tensors"), "load")
    wants = [wanted for wanted, _layout, _node in reported]
    differing = [other for other, (_wanted, other_layout, _node) in enumerate(reported)
                 if other_layout != reported[0][1]]
    if differing:
        raise DistributedError(f"load: rank(s) {', '.join(map(str, differing))} opened a checkpoint with other "
                               "tensors than rank 0's")
    wanted_by = {}
    for other_rank, wanted in enumerate(wants):
        for name in wanted:
            wanted_by.setdefault(name, []).append(other_rank)
    if len({node for _wanted, _layout, node in reported}) == 1:
        return _load_on_one_node(entries, wanted_by, set(wants[rank]), rank, world, group, device)

    # The share-out, alike on every rank: the wanted tensors, in file order, cut into one run of
    # about equal bytes per rank, so that each rank's reads are adjacent (one preadv() per file and
    # run); a tensor whose run's rank does not want it goes to the rank that wants it with the
    # fewest bytes so far.
    load_bytes = [0] * world
    assigned = [[] for _ in range(world)]
    total = sum(entry.n_bytes for entry in entries if entry.name in wanted_by) or 1
    position = 0
    for entry in entries:
        ranks = wanted_by.get(entry.name)
        if not ranks:
            continue
        reader = min(world - 1, (2 * position + entry.n_bytes) * world // (2 * total))
        position += entry.n_bytes
        if reader not in ranks:
            reader = min(ranks, key=lambda r: (load_bytes[r], r))
        load_bytes[reader] += entry.n_bytes
        assigned[reader].append(entry)

    # Every rank reads its share at once (in parallel with the others), then the group learns of
    # any failure in one collective, then each batch another rank wants is broadcast.
    mine = set(wants[rank])
    # NCCL moves CUDA tensors only: the batches cross on the rank's current device (not tested here:
    # no GPU; gloo moves CPU tensors)
    transport = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend(group) == "nccl" else None
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
                buffer = buffers[number] if transport is None else buffers[number].to(transport)
            elif shared:
                buffer = torch.empty(size, dtype=torch.uint8, device=transport)
            else:
                continue
            if shared and size:
                try:
                    dist.broadcast(buffer, src=reader, group=group)
                except RuntimeError as failure:
                    raise DistributedError(f"the process group failed while sending tensors (a rank died "
                                           f"or timed out): {failure}") from failure
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
    out = {}
    reads = []
    for entry in entries:
        if entry.name not in chosen:
            continue
        split_dim = dim.get(entry.name) if isinstance(dim, dict) else dim
        shape = list(entry.shape)
        at, box = [0] * len(shape), shape
        if split_dim is not None:
            if not 0 <= split_dim < len(shape):
                raise SafetensorError(f"tensor {entry.name!r} of shape {shape} has no dimension {split_dim} to split")
            begin, end = _split(shape[split_dim], rank, world_size)
            at, box = _part_box(shape, split_dim, begin, end - begin)
        buffer = torch.empty(_aligned(_product(box) * entry.itemsize()), dtype=torch.uint8)
        reads.append((entry.pieces(at, box), buffer.data_ptr()))
        out[entry.name] = _as_tensor(buffer, 0, entry, box)
    _read_pieces(reads)
    target = _torch_device(device)
    if target is not None:
        out = {name: tensor.to(target) for name, tensor in out.items()}
    return out
