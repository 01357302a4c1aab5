# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""torch tensors over a loaded file's memory, and ST.Files over torch tensors' memory.

Used by safetensors_glib.torch and by safe_open(framework="pt"); imports torch (and not numpy).

Byte order: the file is little-endian. On a little-endian host the tensors are views of the
file's memory; on a big-endian host torch has no byte-order-aware dtypes, so (as Hugging Face
does) the tensors are byte-swapped copies, and saving writes byte-swapped copies of the caller's
tensors.
"""

import torch

from . import _core
from ._core import SafetensorError

# True on hosts that must swap bytes between torch and the file (s390x, ppc64, ...).
BIG_ENDIAN = _core.BIG_ENDIAN

# ST.DType -> torch.dtype, for the types this torch has (torch 1.13 has no unsigned types wider
# than 8 bits and no float8; later versions add them, and then they work here too).
TORCH_DTYPES = {}
for _st_name, (_typestr, _torch_name) in _core.DTYPES.items():
    _torch_dtype = getattr(torch, _torch_name, None) if _torch_name else None
    if isinstance(_torch_dtype, torch.dtype):
        TORCH_DTYPES[_core.dtype_from_name(_st_name)] = _torch_dtype
del _st_name, _typestr, _torch_name, _torch_dtype

ST_DTYPES = {torch_dtype: st_dtype for st_dtype, torch_dtype in TORCH_DTYPES.items()}
ITEMSIZES = {torch_dtype: torch.empty(0, dtype=torch_dtype).element_size()
             for torch_dtype in TORCH_DTYPES.values()}


def torch_dtype(st_dtype, name):
    dtype = TORCH_DTYPES.get(st_dtype)
    if dtype is None:
        raise SafetensorError(f"tensor {name!r} has dtype {_core.dtype_name(st_dtype)}, which torch "
                              f"{torch.__version__} has no dtype for")
    return dtype


# The binding layer's byte swap (each element, or each part of a complex number).
byteswapped = _core.torch_byteswapped


def device(device):
    """The torch.device to move loaded tensors to, or None for the CPU (where they are mapped).

    None means the CPU, as Hugging Face's safe_open and load_file take it (huggingface_hub's
    load_state_dict_from_file passes device=None)."""
    if device is None:
        return None
    if isinstance(device, torch.device):
        target = device
    elif isinstance(device, int) and not isinstance(device, bool):
        if device < 0:
            raise SafetensorError(f"device {device} is invalid")
        target = torch.device("cuda", device)
    elif isinstance(device, str):
        try:
            target = torch.device(device)
        except RuntimeError:
            raise SafetensorError(f"device {device} is invalid") from None
    else:
        raise SafetensorError(f"device {device} is invalid")
    if target.type == "cpu":
        return None
    try:
        torch.empty(0, device=target)
    except (RuntimeError, AssertionError, AttributeError) as e:
        raise RuntimeError(f"device {str(target)!r} is not available: {e}") from None
    return target


def views(stfile, entries, out, view=None, block=None):
    """Adds to @out a tensor over the file's memory for each entry, without copying (a swapped
    copy on big-endian hosts).

    @view: the file's data_view() when the caller has it already.
    @block: instead of @entries, (names, dtype, shape, begin, end) of a file that is one block of
    equal rows (one run of _core.file_runs): one frombuffer and one split make every tensor.

    Per-tensor torch calls cost microseconds, so the work is batched: a run of consecutive
    same-dtype tensors (a whole file, when Hugging Face's or our writer grouped the data by dtype)
    is one torch.frombuffer, cut with one split; within it, consecutive tensors of the same shape
    (layers) come out of one split too (_rows).
    """
    if block is not None:
        names, dtype, shape, begin, end = block
        tdtype = torch_dtype(dtype, names[0])
        view = _core.data_view(stfile) if view is None else view
        run = torch.frombuffer(view, dtype=tdtype, count=(end - begin) // ITEMSIZES[tdtype], offset=begin)
        if BIG_ENDIAN:
            run = byteswapped(run)
        out.update(zip(names, _rows(run, len(names), shape)))
        return out
    for i, j, begin, end in _core.runs(entries):
        name, dtype, shape = entries[i][:3]
        tdtype = torch_dtype(dtype, name)
        if begin == end:
            # torch.frombuffer refuses empty buffers; there is nothing to share anyway.
            out[name] = torch.empty(shape, dtype=tdtype)
            continue
        if view is None:
            view = _core.data_view(stfile)
        itemsize = ITEMSIZES[tdtype]
        run = torch.frombuffer(view, dtype=tdtype, count=(end - begin) // itemsize, offset=begin)
        if BIG_ENDIAN:
            run = byteswapped(run)
        if j == i + 1:
            out[name] = run.view(shape)
        else:
            _cut(run, entries, i, j, itemsize, out)
    return out


def _rows(run, n, shape):
    """@n tensors of @shape (none empty) cut from the contiguous tensor @run, in order.

    With unsafe_split, not unbind or split: the tensors share @run's storage (which keeps the
    file's memory alive) without being autograd views of it. A view carries autograd's view
    metadata, which doubles what each tensor costs (in a fresh process, about 670 bytes and
    0.5 µs per tensor against 350 bytes and 0.35 µs); the tensors never overlap and @run is never
    handed out, so there is no in-place change through one alias that autograd would have to see
    through another, which is all that metadata is for. Hugging Face's tensors are not views of
    one another either. Rank-0 tensors, which split cannot make, come from unbind.
    """
    if not shape:
        return run.view(n).unbind(0)
    return run.view([n * shape[0]] + shape[1:]).unsafe_split(shape[0])


# The fewest equal shapes in a row that _cut makes with one _rows() call rather than one view each:
# a split is one more kind of torch operation, whose first call in a process costs about 50 µs.
ROWS_MIN = 8


def _cut(run, entries, i, j, itemsize, out):
    """Splits @run into the tensors entries[i:j]: one unsafe_split_with_sizes into the pieces, then
    a view of each piece in its shape, or _rows() for a piece of ROWS_MIN or more equal shapes."""
    pieces = []
    sizes = []
    k = i
    while k < j:
        shape = entries[k][2]
        m = k + 1
        while m < j and entries[m][2] == shape:
            m += 1
        count = entries[k][4] // itemsize
        if m - k >= ROWS_MIN:
            pieces.append((k, m))
            sizes.append(count * (m - k))
        else:
            for n in range(k, m):
                pieces.append((n, n + 1))
                sizes.append(count)
        k = m
    parts = run.unsafe_split_with_sizes(sizes) if len(pieces) > 1 else (run,)
    for (k, m), part in zip(pieces, parts):
        if m - k == 1:
            out[entries[k][0]] = part.view(entries[k][2])
        else:
            for entry, tensor in zip(entries[k:m], _rows(part, m - k, entries[k][2])):
                out[entry[0]] = tensor


class Framework:
    """What safe_open needs to make torch tensors."""

    name = "pytorch"

    device = staticmethod(device)

    @staticmethod
    def tensors(stfile, view, device):
        out = _core.file_views(stfile, lambda f, entries, out, block=None: views(f, entries, out, view, block), {})
        return out if device is None else {name: tensor.to(device) for name, tensor in out.items()}

    @staticmethod
    def tensor(stfile, view, entry, device):
        tensor = views(stfile, [entry], {}, view)[entry[0]]
        return tensor if device is None else tensor.to(device)

    @staticmethod
    def sliced(stfile, view, entry, index, device):
        # torch's own indexing, as Hugging Face's: its steps, lists and errors.
        full = views(stfile, [entry], {}, view)[entry[0]]
        part = full[index].clone(memory_format=torch.contiguous_format)
        return part if device is None else part.to(device)
