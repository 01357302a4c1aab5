# SPDX-License-Identifier: Apache-2.0
"""safetensors for torch, a drop-in for Hugging Face's ``safetensors.torch``.

Switch with one line::

    # from safetensors.torch import load_file, save_file
    from safetensors_glib.torch import load_file, save_file

Loaded tensors are views of the file's private copy-on-write mapping: loading reads only the
header, the tensors are writable, writes never reach the file, and the mapping lives as long as
any tensor made from it. Saving reads the tensors' memory in place.

Additions to Hugging Face's API: ``save_file`` and ``save_model`` accept ``max_shard_size=`` (an
int or a text such as ``"5GB"``) and then write shards plus a ``.safetensors.index.json`` index;
``load_file`` and ``load_model`` accept the path of such an index.
"""

import torch

from . import _core
from ._core import SafetensorError
from ._safe_open import safe_open

__all__ = [
    "SafetensorError",
    "safe_open",
    "load_file",
    "load",
    "save_file",
    "save",
    "load_model",
    "save_model",
]

# ST.DType -> torch.dtype, for the types this torch has (torch 1.13 has no unsigned types wider
# than 8 bits and no float8; later versions add them, and then they work here too).
_TORCH_DTYPES = {}
for _st_name, _torch_name in (
    ("BOOL", "bool"), ("U8", "uint8"), ("I8", "int8"), ("I16", "int16"), ("U16", "uint16"),
    ("F16", "float16"), ("BF16", "bfloat16"), ("I32", "int32"), ("U32", "uint32"),
    ("F32", "float32"), ("C64", "complex64"), ("F64", "float64"), ("I64", "int64"),
    ("U64", "uint64"), ("F8_E5M2", "float8_e5m2"), ("F8_E4M3", "float8_e4m3fn"),
    ("F8_E8M0", "float8_e8m0fnu"), ("F8_E4M3FNUZ", "float8_e4m3fnuz"),
    ("F8_E5M2FNUZ", "float8_e5m2fnuz"),
):
    _torch_dtype = getattr(torch, _torch_name, None)
    if isinstance(_torch_dtype, torch.dtype):
        _TORCH_DTYPES[_core.dtype_from_name(_st_name)] = _torch_dtype
del _st_name, _torch_name, _torch_dtype

_ST_DTYPES = {torch_dtype: st_dtype for st_dtype, torch_dtype in _TORCH_DTYPES.items()}
_ITEMSIZES = {torch_dtype: torch.empty(0, dtype=torch_dtype).element_size()
              for torch_dtype in _TORCH_DTYPES.values()}


def _torch_dtype(st_dtype, name):
    torch_dtype = _TORCH_DTYPES.get(st_dtype)
    if torch_dtype is None:
        raise SafetensorError(f"tensor {name!r} has dtype {_core.dtype_name(st_dtype)}, which torch "
                              f"{torch.__version__} has no dtype for")
    return torch_dtype


def _device(device):
    """The torch.device to move loaded tensors to, or None for the CPU (where they are mapped)."""
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
            raise SafetensorError(f"device {device!r} is invalid") from None
    else:
        raise SafetensorError(f"device {device!r} is invalid: expected a str, an int or a torch.device")
    if target.type == "cpu":
        return None
    try:
        torch.empty(0, device=target)
    except (RuntimeError, AssertionError, AttributeError) as e:
        raise RuntimeError(f"device {str(target)!r} is not available: {e}") from None
    return target


def _views(stfile, entries, out, view=None):
    """Adds to @out a tensor over the file's mapping for each entry, without copying.

    @view: the file's data_view() when the caller has it already.

    Per-tensor torch calls cost microseconds, so the work is batched: a run of consecutive
    same-dtype tensors (a whole file, when Hugging Face's or our writer grouped the data by dtype)
    is one torch.frombuffer, cut with one split(); within it, consecutive tensors of the same shape
    (layers) come out of one unbind().
    """
    for i, j, begin, end in _core.runs(entries):
        name, dtype, shape = entries[i][:3]
        torch_dtype = _torch_dtype(dtype, name)
        if begin == end:
            # torch.frombuffer refuses empty buffers; there is nothing to share anyway.
            out[name] = torch.empty(shape, dtype=torch_dtype)
            continue
        if view is None:
            view = _core.data_view(stfile)
        itemsize = _ITEMSIZES[torch_dtype]
        run = torch.frombuffer(view, dtype=torch_dtype, count=(end - begin) // itemsize, offset=begin)
        if j == i + 1:
            out[name] = run.view(shape)
        else:
            _cut(run, entries, i, j, itemsize, out)
    return out


def _cut(run, entries, i, j, itemsize, out):
    """Splits @run into the tensors entries[i:j], grouping consecutive equal shapes."""
    groups = []
    sizes = []
    k = i
    while k < j:
        shape = entries[k][2]
        m = k + 1
        while m < j and entries[m][2] == shape:
            m += 1
        groups.append((k, m))
        sizes.append((entries[k][4] // itemsize) * (m - k))
        k = m
    parts = run.split(sizes) if len(groups) > 1 else (run,)
    for (k, m), part in zip(groups, parts):
        shape = entries[k][2]
        if m - k == 1:
            out[entries[k][0]] = part.view(shape)
        else:
            for entry, tensor in zip(entries[k:m], part.view([m - k] + shape).unbind(0)):
                out[entry[0]] = tensor


def _to_device(tensors, device):
    if device is None:
        return tensors
    return {name: tensor.to(device) for name, tensor in tensors.items()}


def load_file(filename, device="cpu", *, backend="mmap"):
    """Loads a safetensors file (or a sharded checkpoint's ``.index.json``) into torch tensors.

    Args:
        filename (`str` or `os.PathLike`): the file to load.
        device (`str`, `int` or `torch.device`, defaults to `"cpu"`): where the tensors go. On the CPU
            they are writable views of the file's private mapping; elsewhere, copies.
        backend (`str`, defaults to `"mmap"`): `"pread"` reads the file into memory instead of mapping
            it, out of reach of SIGBUS when another program truncates the file (see `safe_open`).

    Returns:
        `Dict[str, torch.Tensor]`: the tensors by name, in the order of their data in the file.

    Raises:
        FileNotFoundError: no such file. SafetensorError: the file is not valid safetensors.
    """
    target = _device(device)
    return _to_device(_core.load_path(filename, _views, backend), target)


def load(data):
    """Loads the tensors of a safetensors file given as bytes.

    The bytes are copied once into a writable buffer that the tensors then share.

    Returns:
        `Dict[str, torch.Tensor]`: the tensors by name, on the CPU.
    """
    return _core.load_bytes(data, _views)


def _span(tensor):
    """The byte range [start, end) a tensor's elements cover in memory."""
    n_elements = tensor.numel()
    if n_elements == 0:
        return None
    start = tensor.data_ptr()
    if tensor.is_contiguous():
        return start, start + n_elements * tensor.element_size()
    extent = 1 + sum((size - 1) * abs(stride) for size, stride in zip(tensor.shape, tensor.stride()))
    low = sum((size - 1) * stride for size, stride in zip(tensor.shape, tensor.stride()) if stride < 0)
    return start + low * tensor.element_size(), start + (low + extent) * tensor.element_size()


def _find_shared_tensors(tensors):
    """Groups the names whose tensors overlap in memory, as a list of sets (singletons included).

    Tensors in the same storage that do not overlap (disjoint slices) do not share memory: each
    can be saved on its own.
    """
    spans = []
    groups = []
    for name, tensor in tensors.items():
        if tensor.layout is not torch.strided:
            groups.append({name})
            continue
        span = _span(tensor)
        if span is None:
            groups.append({name})
        else:
            spans.append((str(tensor.device), span[0], span[1], name))
    spans.sort()
    group_device = group_end = None
    for device, start, end, name in spans:
        if device == group_device and start < group_end:
            groups[-1].add(name)
            group_end = max(group_end, end)
        else:
            groups.append({name})
            group_device, group_end = device, end
    return groups


def _shared_error(shared):
    described = ", ".join("{" + ", ".join(repr(n) for n in sorted(names)) + "}"
                          for names in sorted(shared, key=sorted))
    return RuntimeError(
        f"Some tensors share memory, this will lead to duplicate memory on disk and potential "
        f"differences when loading them again: [{described}].\n"
        "A potential way to correctly save your model is to use `save_model`.\n"
        "More information at https://huggingface.co/docs/safetensors/torch_shared_tensors")


def _non_contiguous_error(name):
    return ValueError(
        f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It either "
        "means you are trying to save tensors which are reference of each other in which case it's "
        "recommended to save only the full tensors, and reslice at load time, or simply call "
        "`.contiguous()` on your tensor to pack it before saving.")


def _prepare(tensors, metadata):
    """Checks @tensors as Hugging Face does (same order, same exception types) and makes the
    ST.File over their memory, without copying CPU tensors.

    One pass over the tensors collects everything; the errors are raised afterwards in Hugging
    Face's order: a non-dict, a non-tensor value, sparse tensors, tensors sharing memory, then a
    non-contiguous tensor or a dtype safetensors has no name for.
    """
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    Tensor = torch.Tensor
    strided = torch.strided
    st_dtypes = _ST_DTYPES
    entries = []
    spans = []
    sparse = []
    elsewhere = []
    late_error = None
    overlap_possible = False
    for name, tensor in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, not {type(name).__name__} ({name!r})")
        if not isinstance(tensor, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected torch.Tensor but received {type(tensor)}")
        if tensor.layout is not strided:
            sparse.append(name)
            continue
        n_bytes = tensor.numel() * tensor.element_size()
        address = tensor.data_ptr()
        if tensor.is_contiguous():
            if n_bytes:
                spans.append((address, address + n_bytes))
        else:
            overlap_possible = True
            if late_error is None:
                late_error = _non_contiguous_error(name)
        st_dtype = st_dtypes.get(tensor.dtype)
        if st_dtype is None and late_error is None:
            late_error = ValueError(f"Key `{name}` has dtype {tensor.dtype}, which safetensors cannot store")
        if not tensor.is_cpu:
            elsewhere.append(len(entries))
        entries.append((name, st_dtype, tensor.shape, address, n_bytes, tensor))
    if sparse:
        raise ValueError(
            f"You are trying to save a sparse tensor: `{', '.join(sparse)}` which this library does not "
            "support. You can make it a dense tensor before saving with `.to_dense()` but be aware this "
            "might make a much larger file than needed.")
    # Sharing needs overlapping memory: sorted by address, contiguous tensors that share have an
    # overlap with a neighbour; only then (or with strided tensors around) is the full grouping run.
    spans.sort()
    previous_end = 0
    for start, end in spans:
        if start < previous_end:
            overlap_possible = True
            break
        previous_end = end
    if overlap_possible:
        shared = [names for names in _find_shared_tensors(tensors) if len(names) > 1]
        if shared:
            raise _shared_error(shared)
    if late_error is not None:
        raise late_error
    keep_alive = [tensors]
    for i in elsewhere:
        entry = entries[i]
        tensor = entry[5].to("cpu")
        keep_alive.append(tensor)
        entries[i] = (entry[0], entry[1], entry[2], tensor.data_ptr(), entry[4], tensor)
    # The caller's tensors stay alive through the dict; the owner keeps CPU copies (and the dict)
    # alive for as long as the library holds their bytes.
    return _core.build_file(entries, metadata, keep_alive)


def save_file(tensors, filename, metadata=None, max_shard_size=None, *, sync=False):
    """Saves a dict of tensors to a safetensors file, atomically.

    Args:
        tensors (`Dict[str, torch.Tensor]`): the tensors; they must be dense and contiguous and must
            not share memory (use `save_model` for models with tied weights).
        filename (`str` or `os.PathLike`): where to save.
        metadata (`Dict[str, str]`, optional): text metadata, stored in the header.
        max_shard_size (`int` or `str`, optional): write shards of at most this many bytes
            ("5GB", "500MB") and a ``.safetensors.index.json`` index; one shard is written as a plain file.
        sync (`bool`, defaults to `False`): fsync the file(s) and the folder before returning, so that the
            save survives a power loss (Hugging Face's writer never does).

    Returns:
        `None`
    """
    _core.save_path(_prepare, tensors, filename, metadata, max_shard_size, sync)


def save(tensors, metadata=None):
    """Serializes a dict of tensors to the bytes of a safetensors file.

    Returns:
        `bytes`: the content of a safetensors file.
    """
    return _core.save_to_bytes(_prepare, tensors, metadata)


def _storage_span(tensor):
    storage = tensor.untyped_storage() if hasattr(tensor, "untyped_storage") else tensor.storage()
    return storage.data_ptr(), storage.nbytes()


def _is_complete(tensor):
    """Whether @tensor covers its whole storage (so that saving it saves the storage)."""
    start, n_bytes = _storage_span(tensor)
    return tensor.data_ptr() == start and tensor.numel() * tensor.element_size() == n_bytes


def _remove_duplicate_names(state_dict, preferred_names=None):
    """For each group of names sharing memory: {kept name: [the other names]}.

    The kept name is the first in sorted order that covers the whole storage, preferring the
    names in @preferred_names (those present in a file being loaded).
    """
    preferred = set(preferred_names) if preferred_names is not None else set()
    to_remove = {}
    for names in _find_shared_tensors(state_dict):
        if len(names) < 2:
            continue
        complete = {name for name in names if _is_complete(state_dict[name])}
        if not complete:
            raise RuntimeError(
                "Error while trying to find names to remove to save state dict, but found no suitable name "
                f"to keep for saving amongst: {sorted(names)}. None is covering the entire storage. Refusing "
                "to save/load the model since you could be storing much more memory than needed. Please "
                "refer to https://huggingface.co/docs/safetensors/torch_shared_tensors for more information.")
        candidates = (complete & preferred) or complete
        keep = sorted(candidates)[0]
        to_remove[keep] = sorted(names - {keep})
    return to_remove


def save_model(model, filename, metadata=None, force_contiguous=True, max_shard_size=None, *, sync=False):
    """Saves a model's state dict, storing each group of tied (shared) tensors once.

    The name kept for a group is the first in sorted order that covers its whole storage; each
    dropped name is recorded in the metadata as ``{dropped: kept}`` (keys already in @metadata are
    left alone), and `load_model` restores them.

    Args:
        model (`torch.nn.Module`): the model to save.
        filename (`str` or `os.PathLike`): where to save.
        metadata (`Dict[str, str]`, optional): text metadata.
        force_contiguous (`bool`, defaults to `True`): make non-contiguous tensors contiguous
            (a copy) instead of refusing them.
        max_shard_size (`int` or `str`, optional): as in `save_file`.
        sync (`bool`, defaults to `False`): as in `save_file`.
    """
    state_dict = model.state_dict()
    to_remove = _remove_duplicate_names(state_dict)
    if metadata is not None:
        metadata = dict(metadata)
    for kept, dropped in to_remove.items():
        for name in dropped:
            if metadata is None:
                metadata = {}
            metadata.setdefault(name, kept)
            del state_dict[name]
    if force_contiguous:
        state_dict = {name: tensor.contiguous() for name, tensor in state_dict.items()}
    try:
        save_file(state_dict, filename, metadata=metadata, max_shard_size=max_shard_size, sync=sync)
    except ValueError as e:
        raise ValueError(f"{e} Or use save_model(..., force_contiguous=True), read the docs for potential "
                         "caveats.") from None


def load_model(model, filename, strict=True, device="cpu", *, backend="mmap"):
    """Loads a file written by `save_model` (or any safetensors file) into a model.

    Tied tensors stored once are restored through the model's own sharing.

    Args:
        model (`torch.nn.Module`): the model to load into.
        filename (`str` or `os.PathLike`): a safetensors file or a sharded checkpoint's index.
        strict (`bool`, defaults to `True`): raise on missing or unexpected names.
        device (`str`, `int` or `torch.device`, defaults to `"cpu"`): where to load the tensors first.
        backend (`str`, defaults to `"mmap"`): as in `load_file`.

    Returns:
        `(missing, unexpected)`: two sorted lists of names: in the model but not the file, and in the
        file but not the model.

    Raises:
        RuntimeError: with @strict, when either list is not empty.
    """
    state_dict = load_file(filename, device=device, backend=backend)
    model_state_dict = model.state_dict()
    to_remove = _remove_duplicate_names(model_state_dict, preferred_names=state_dict.keys())
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    missing = set(missing)
    unexpected = list(unexpected)
    for dropped in to_remove.values():
        for name in dropped:
            if name in missing:
                missing.remove(name)
            elif name in state_dict:
                unexpected.append(name)
    missing = sorted(missing)
    unexpected = sorted(set(unexpected))
    if strict and (missing or unexpected):
        error = f"Error(s) in loading state_dict for {model.__class__.__name__}:"
        if missing:
            error += "\n    Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing)
        if unexpected:
            error += "\n    Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
        raise RuntimeError(error)
    return missing, unexpected


# The interface safe_open uses to make framework objects.
class _Framework:
    name = "pt"
    dtype_of = staticmethod(_torch_dtype)
    device = staticmethod(_device)

    @staticmethod
    def tensor(stfile, view, entry, device):
        tensor = _views(stfile, [entry], {}, view)[entry[0]]
        return tensor if device is None else tensor.to(device)

    @staticmethod
    def sliced(stfile, view, entry, index, device):
        full = _views(stfile, [entry], {}, view)[entry[0]]
        part = full[index].clone(memory_format=torch.contiguous_format)
        return part if device is None else part.to(device)
