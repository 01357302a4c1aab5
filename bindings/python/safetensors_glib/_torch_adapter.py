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


def views(stfile, entries, out, view=None):
    """Adds to @out a tensor over the file's memory for each of the layout() @entries (run_views()).

    @view: the file's data_view() when the caller has it already.
    """
    names, values = _core.runs_of_entries(entries)
    return run_views(stfile, names, values, out, view)


def run_views(stfile, names, values, out, view=None):
    """Adds to @out a tensor over the file's memory for each tensor the runs @values describe
    (_core.file_run_values(): the records of st_file_dup_runs()), named by @names in the same
    order, without copying (a swapped copy on big-endian hosts).

    @view: the file's data_view() when the caller has it already.

    Per-tensor torch calls cost about a microsecond, so the work is batched: a segment of
    consecutive runs of one dtype whose bytes follow each other (a whole file, when Hugging Face's
    or our writer grouped the data by dtype) is one torch.frombuffer, cut with one
    unsafe_split_with_sizes into a piece per tensor, or per run of ROWS_MIN or more equal shapes
    (layers; a file of equal rows is one such run), which _rows() cuts in one more call. A piece of
    one tensor gets its shape with resize_(), which keeps its storage and offset (the element
    count is the same) and, unlike view(), makes no autograd view of the piece (see _rows()).
    """
    torch_dtypes = TORCH_DTYPES
    segment = None  # the torch dtype of the open segment, whose bytes go from @first to @last
    first = last = itemsize = 0
    pieces = sizes = None  # (name or names, shape) and element count of its tensors or rows
    at = k = 0
    n_values = len(values)
    while at < n_values:
        count, dtype, begin, end, n_dims = values[at:at + 5]
        at += 5 + n_dims
        shape = values[at - n_dims:at]
        tdtype = torch_dtypes.get(dtype)
        if tdtype is None:
            torch_dtype(dtype, names[k])
        if begin < 0:
            raise SafetensorError(f"tensor {names[k]!r} was set after loading: it is not in the file's data")
        if tdtype is not segment or begin != last or end == begin:
            if segment is not None:
                view = _cut(stfile, view, segment, first, last, pieces, sizes, out)
                segment = None
            if end == begin:
                # torch.frombuffer refuses empty buffers; there is nothing to share anyway.
                for name in names[k:k + count]:
                    out[name] = torch.empty(shape, dtype=tdtype)
                k += count
                continue
            segment = tdtype
            first = begin
            itemsize = ITEMSIZES[tdtype]
            pieces = []
            sizes = []
        last = end
        if count == 1:
            pieces.append((names[k], shape))
            sizes.append((end - begin) // itemsize)
        elif count >= ROWS_MIN:
            # (A file of equal rows is one run: its names as they are, not a copy.)
            pieces.append((names if count == len(names) else names[k:k + count], shape))
            sizes.append((end - begin) // itemsize)
        else:
            n_elements = (end - begin) // itemsize // count
            for name in names[k:k + count]:
                pieces.append((name, shape))
                sizes.append(n_elements)
        k += count
    if segment is not None:
        _cut(stfile, view, segment, first, last, pieces, sizes, out)
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


# The fewest equal shapes in a row that run_views() cuts with one _rows() call rather than one piece
# each: a split into rows is two more kinds of torch operation, whose first calls in a process
# cost about 50 µs each.
ROWS_MIN = 8


def _cut(stfile, view, tdtype, begin, end, pieces, sizes, out):
    """Makes the tensors of one segment of run_views() (of torch dtype @tdtype, from @begin to @end
    in the data buffer; @pieces: (name, shape) of a tensor or (names, shape) of a run of rows, whose
    element counts are @sizes): one frombuffer, one split, a resize_() of each single tensor of
    other than one dimension.
    Returns the file's data view, made here when @view is None."""
    if view is None:
        view = _core.data_view(stfile)
    run = torch.frombuffer(view, dtype=tdtype, count=(end - begin) // ITEMSIZES[tdtype], offset=begin)
    if BIG_ENDIAN:
        run = byteswapped(run)
    parts = run.unsafe_split_with_sizes(sizes) if len(pieces) > 1 else (run,)
    resize = torch.Tensor.resize_
    for (name, shape), part in zip(pieces, parts):
        if type(name) is not str:
            out.update(zip(name, _rows(part, len(name), shape)))
        elif len(shape) == 1:
            out[name] = part  # already of its one dimension
        else:
            out[name] = resize(part, shape)
    return view


class Framework:
    """What safe_open needs to make torch tensors."""

    name = "pytorch"

    device = staticmethod(device)

    @staticmethod
    def tensors(stfile, view, device):
        out = _core.file_views(stfile, lambda f, names, values, out: run_views(f, names, values, out, view), {})
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
