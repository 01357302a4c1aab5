# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safetensors for torch, a drop-in for Hugging Face's ``safetensors.torch``.

Switch with one line::

    # from safetensors.torch import load_file, save_file
    from safetensors_glib.torch import load_file, save_file

Loaded tensors are views of the file's private copy-on-write mapping: loading reads only the
header, the tensors are writable, writes never reach the file, and the mapping lives as long as
any tensor made from it. Saving reads the tensors' memory in place. (On a big-endian host both
directions make byte-swapped copies, as Hugging Face's does.)

Additions to Hugging Face's API: ``save_file`` and ``save_model`` accept ``max_shard_size=`` (an
int or a text such as ``"5GB"``) and then write shards plus a ``.safetensors.index.json`` index;
``load_file`` and ``load_model`` accept the path of such an index. ``Writer`` and
``save_file_iter`` write a file tensor by tensor, in the memory of one tensor (doc/python.md).
"""

import torch

from . import _core
from ._core import SafetensorError
from ._safe_open import safe_open
from ._torch_adapter import BIG_ENDIAN, ITEMSIZES, ST_DTYPES, byteswapped
from ._torch_adapter import device as _device
from ._torch_adapter import run_views as _run_views
from . import _writer

__all__ = [
    "SafetensorError",
    "safe_open",
    "load_file",
    "load",
    "save_file",
    "save",
    "load_model",
    "save_model",
    "storage_ptr",
    "storage_size",
    "Writer",
    "save_file_iter",
]


def _to_device(tensors, device):
    if device is None:
        return tensors
    return {name: tensor.to(device) for name, tensor in tensors.items()}


def load_file(filename, device="cpu", *, backend="mmap"):
    """Loads a safetensors file (or a sharded checkpoint's ``.index.json``) into torch tensors.

    Args:
        filename (`str` or `os.PathLike`): the file to load.
        device (`str`, `int`, `torch.device` or None (the CPU), defaults to `"cpu"`): where the
            tensors go. On the CPU they are writable views of the file's private mapping; elsewhere,
            copies.
        backend (`str`, defaults to `"mmap"`): `"pread"` reads the file into memory instead of mapping
            it, out of reach of SIGBUS when another program truncates the file (see `safe_open`).

    Returns:
        `Dict[str, torch.Tensor]`: the tensors by name, in the order of their data in the file.

    Raises:
        FileNotFoundError: no such file. SafetensorError: the file is not valid safetensors.
    """
    target = _device(device)
    return _to_device(_core.load_path(filename, _run_views, backend), target)


def load(data):
    """Loads the tensors of a safetensors file given as bytes.

    The bytes are copied once into a writable buffer that the tensors then share.

    Returns:
        `Dict[str, torch.Tensor]`: the tensors by name, on the CPU.
    """
    return _core.load_bytes(data, _run_views)


# Sharing, as Hugging Face's safetensors.torch defines it: tensors share when they are views of
# one storage (same device, start and size) whose elements overlap.

def storage_ptr(tensor):
    """The address of the storage @tensor is a view of (0 for storages without memory)."""
    try:
        return tensor.untyped_storage().data_ptr()
    except Exception:
        pass
    try:
        return tensor.storage().data_ptr()
    except NotImplementedError:
        return 0


def storage_size(tensor):
    """The size in bytes of the storage @tensor is a view of."""
    try:
        return tensor.untyped_storage().nbytes()
    except AttributeError:
        pass
    try:
        return tensor.storage().size() * tensor.element_size()
    except NotImplementedError:
        return tensor.nelement() * tensor.element_size()


def _end_ptr(tensor):
    """One past the last byte of @tensor's last element (its start when it is empty)."""
    start = tensor.data_ptr()
    if not tensor.nelement():
        return start
    last = sum((size - 1) * stride for size, stride in zip(tensor.shape, tensor.stride()))
    return start + (last + 1) * tensor.element_size()


def _is_complete(tensor):
    """Whether @tensor covers its whole storage, without holes (so that saving it saves the storage)."""
    return (tensor.data_ptr() == storage_ptr(tensor)
            and tensor.nelement() * tensor.element_size() == storage_size(tensor))


def _find_shared_tensors(state_dict):
    """The names of @state_dict grouped by the memory they share, as a list of sets.

    Tensors on the meta device, and tensors whose storage has no memory, are left out. The groups
    come in the order of their storages' first appearance in @state_dict; a storage's tensors
    are split where their elements do not overlap, in address order.
    """
    by_storage = {}
    for name, tensor in state_dict.items():
        if tensor.device.type == "meta":
            continue
        pointer = storage_ptr(tensor)
        size = storage_size(tensor)
        if pointer != 0 and size != 0:
            by_storage.setdefault((tensor.device, pointer, size), set()).add(name)
    groups = []
    for names in by_storage.values():
        if len(names) < 2:
            groups.append(names)
            continue
        areas = sorted((state_dict[name].data_ptr(), _end_ptr(state_dict[name]), name) for name in names)
        previous_stop = None
        for start, stop, name in areas:
            if previous_stop is None or start >= previous_stop:
                groups.append({name})
            else:
                groups[-1].add(name)
            previous_stop = stop
    return groups


def _remove_duplicate_names(state_dict, *, preferred_names=None, discard_names=None):
    """For each group of names sharing memory, the name to keep and the names to drop:
    ``{kept: [dropped, ...]}``.

    The kept name covers its whole storage; among those, the first in sorted order of
    @preferred_names (names in a file being loaded), else of the names not in @discard_names,
    else of all.

    Raises:
        RuntimeError: no name of a group covers the whole storage.
    """
    preferred_names = set(preferred_names or ())
    discard_names = set(discard_names or ())
    to_remove = {}
    for shared in _find_shared_tensors(state_dict):
        complete = {name for name in shared if _is_complete(state_dict[name])}
        if not complete:
            raise RuntimeError(
                "Error while trying to find names to remove to save state dict, but found no suitable name to keep"
                f" for saving amongst: {shared}. None is covering the entire storage.Refusing to save/load the model"
                " since you could be storing much more memory than needed. Please refer to"
                " https://huggingface.co/docs/safetensors/torch_shared_tensors for more information. Or open an"
                " issue.")
        candidates = (preferred_names & complete) or (complete - discard_names) or complete
        keep = min(candidates)
        dropped = sorted(shared - {keep})
        if dropped:
            to_remove[keep] = dropped
    return to_remove


def _may_share(spans):
    """False when no two of the contiguous tensors whose byte @spans ([start, end) addresses) are
    given can share memory (the usual case): sorted, none overlaps the one before."""
    spans.sort()
    previous_end = None
    for start, end in spans:
        if previous_end is not None and start < previous_end:
            return True
        previous_end = end
    return False


def _non_contiguous_error(name):
    return ValueError(
        f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It either means you"
        " are trying to save tensors which are reference of each other in which case it's recommended to save"
        " only the full tensors, and reslice at load time, or simply call `.contiguous()` on your tensor to"
        " pack it before saving.")


def _unknown_dtype_error(dtype):
    from ._serialize import unknown_dtype_error

    return unknown_dtype_error(str(dtype).split(".")[-1])


def _prepare(tensors, metadata):
    """Checks @tensors as Hugging Face does (same order, same exceptions and messages) and makes
    the ST.File over their memory, without copying CPU tensors.

    One pass collects everything; the errors are raised afterwards in Hugging Face's order: a
    non-dict, a non-tensor value, sparse tensors, tensors sharing memory, then per tensor a
    non-contiguous one, one that cannot be brought to the CPU, or a dtype safetensors has no name for.
    """
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    Tensor = torch.Tensor
    strided = torch.strided
    st_dtypes = ST_DTYPES
    itemsizes = ITEMSIZES
    entries = []
    sparse = []
    spans = []
    strided_views = False
    pending = []  # indices of entries that need more than a look: raised or converted below
    for name, tensor in tensors.items():
        if not isinstance(tensor, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected torch.Tensor but received {type(tensor)}")
        if tensor.layout is not strided:
            sparse.append(name)
            continue
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, not {type(name).__name__} ({name!r})")
        st_dtype = st_dtypes.get(tensor.dtype)
        address = tensor.data_ptr()
        n_bytes = tensor.numel() * tensor.element_size()
        if tensor.is_contiguous():
            spans.append((address, address + n_bytes))
            if st_dtype is None or not tensor.is_cpu or (BIG_ENDIAN and itemsizes[tensor.dtype] > 1):
                pending.append(len(entries))
        else:
            strided_views = True
            pending.append(len(entries))
        entries.append((name, st_dtype, tensor.shape, address, n_bytes, tensor))
    if sparse:
        raise ValueError(
            f"You are trying to save a sparse tensors: `{sparse}` which this library does not support."
            " You can make it a dense tensor before saving with `.to_dense()` but be aware this might"
            " make a much larger file than needed.")
    if strided_views or _may_share(spans):
        failing = [names for names in _find_shared_tensors(tensors) if len(names) > 1]
        if failing:
            raise RuntimeError(
                f"""
            Some tensors share memory, this will lead to duplicate memory on disk and potential differences when loading them again: {failing}.
            A potential way to correctly save your model is to use `save_model`.
            More information at https://huggingface.co/docs/safetensors/torch_shared_tensors
            """)
    keep_alive = [tensors]
    for i in pending:
        name, st_dtype, shape, _address, n_bytes, tensor = entries[i]
        if not tensor.is_contiguous():
            raise _non_contiguous_error(name)
        if not tensor.is_cpu:
            tensor = tensor.to("cpu")
        if st_dtype is None:
            raise _unknown_dtype_error(tensor.dtype)
        if BIG_ENDIAN:
            tensor = byteswapped(tensor)
        keep_alive.append(tensor)
        entries[i] = (name, st_dtype, shape, tensor.data_ptr(), n_bytes, tensor)
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


def save_model(model, filename, metadata=None, force_contiguous=True, max_shard_size=None, *, sync=False):
    """Saves a model's state dict, storing each group of tied (shared) tensors once.

    The name kept for a group is chosen by `_remove_duplicate_names`; each dropped name is
    recorded in the metadata as ``{dropped: kept}`` (keys already in @metadata are left alone),
    and `load_model` restores them.

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
        device (`str`, `int`, `torch.device` or None (the CPU), defaults to `"cpu"`): where to load
            the tensors first.
        backend (`str`, defaults to `"mmap"`): as in `load_file`.

    Returns:
        `(missing, unexpected)`: the names in the model but not the file (a set), and the names in
        the file that the model did not use (a list), as Hugging Face's.

    Raises:
        RuntimeError: with @strict, when either is not empty.
    """
    state_dict = load_file(filename, device=device, backend=backend)
    model_state_dict = model.state_dict()
    to_remove = _remove_duplicate_names(model_state_dict, preferred_names=state_dict.keys())
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    missing = set(missing)
    for dropped in to_remove.values():
        for name in dropped:
            if name in missing:
                missing.remove(name)
            else:
                unexpected.append(name)
    if strict and (missing or unexpected):
        error = f"Error(s) in loading state_dict for {model.__class__.__name__}:"
        if missing:
            error += "\n    Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in sorted(missing))
        if unexpected:
            error += "\n    Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in sorted(unexpected))
        raise RuntimeError(error)
    return missing, unexpected


class _Chunks:
    """What the streaming writer needs from torch: the layout an entry declares, the memory of a chunk."""

    @staticmethod
    def spec(obj):
        if isinstance(obj, torch.Tensor):
            dtype, shape = obj.dtype, obj.shape
        elif isinstance(obj, (tuple, list)) and len(obj) == 2 and isinstance(obj[0], torch.dtype):
            dtype, shape = obj
        else:
            raise TypeError(f"layout entries must be tensors (device=\"meta\" is enough) or (torch.dtype, shape) "
                            f"pairs, not {obj!r}")
        st_dtype = ST_DTYPES.get(dtype)
        if st_dtype is None:
            raise _unknown_dtype_error(dtype)
        return st_dtype, tuple(shape)

    @staticmethod
    def chunk(tensor):
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"expected a torch.Tensor, but received {type(tensor)}")
        if tensor.layout is not torch.strided:
            raise ValueError("cannot write a sparse tensor: make it dense with `.to_dense()` first")
        st_dtype = ST_DTYPES.get(tensor.dtype)
        if st_dtype is None:
            raise _unknown_dtype_error(tensor.dtype)
        if not tensor.is_cpu:
            tensor = tensor.to("cpu")
        tensor = tensor.contiguous()
        if BIG_ENDIAN:
            tensor = byteswapped(tensor)
        return st_dtype, tensor.data_ptr(), tensor.numel() * tensor.element_size(), tensor


class Writer(_writer.Writer):
    """Writes a safetensors file tensor by tensor, in bounded memory (an addition to Hugging Face's API).

    Args:
        filename (`str` or `os.PathLike`): where to save; replaced atomically by `finish()`.
        layout (`Dict[str, torch.Tensor or (torch.dtype, shape)]`): every tensor of the file, declared
            first (tensors on the "meta" device cost no memory).
        metadata (`Dict[str, str]`, optional): text metadata.
        sync (`bool`, defaults to `False`): fsync the file and the folder in `finish()`.
        header_size (`int`, defaults to 0): pad the header with spaces to at least this many bytes,
            room for later in-place metadata edits (`st-tool metadata --set`).

    Then `write(name, tensor)` for each tensor, whole or in consecutive parts (rows `t[i:j]`), in
    any order, and `finish()`; or use it as a context manager, which finishes on success and leaves
    @filename as it was on an exception. The output is byte for byte what `save_file` writes.
    """

    def __init__(self, filename, layout, metadata=None, *, sync=False, header_size=0):
        super().__init__(filename, layout, metadata, sync=sync, header_size=header_size, _framework=_Chunks)


def save_file_iter(tensors, filename, metadata=None, *, layout, sync=False, header_size=0):
    """Saves the tensors an iterable yields, as `(name, tensor)` pairs, holding one at a time: for
    files larger than memory (an addition to Hugging Face's API).

    Args:
        tensors (iterable of `(str, torch.Tensor)`): the tensors, or consecutive parts of them, in any
            order; a generator that makes each tensor when asked keeps memory to one tensor.
        filename, metadata, sync, header_size: as for `Writer`.
        layout (`Dict[str, torch.Tensor or (torch.dtype, shape)]`): every tensor the file holds.

    A tensor that the iterable leaves incomplete, or an exception raised by it, leaves @filename as it
    was.
    """
    _writer.save_file_iter(_Chunks, tensors, filename, metadata, layout, sync, header_size)
