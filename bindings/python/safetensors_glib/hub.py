# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Safetensors files where they live: on HTTP servers and the Hugging Face Hub.

    from safetensors_glib import hub

    with hub.safe_open("hf://org/name/model.safetensors", framework="pt") as f:
        f.keys()                         # the header only: one request
        w = f.get_tensor("lm_head.weight")   # one Range request, for this tensor's bytes
        rows = f.get_slice("embed.weight")[:16]  # the first 16 rows only

    state = hub.load("hf://org/name/model.safetensors")          # every tensor, neighbours per request
    path = hub.download("hf://org/name/model.safetensors.index.json")  # into the Hugging Face cache
    path = hub.hf_hub_download("org/data", "train.safetensors", repo_type="dataset")

Addresses are ``http://``, ``https://``, ``hf://[datasets/|spaces/]ORG/NAME[@REVISION]/FILE`` and
the Hub's ``ENDPOINT/[datasets/|spaces/]ORG/NAME/resolve/REVISION/FILE``; the environment is read
as huggingface_hub reads it (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE...). A file found in
the cache is mapped, as a local file. The Hugging Face-compatible functions of safetensors_glib.torch and .numpy are not
changed: they take paths. Errors are SafetensorError (and OSError for network failures, with the
GLib.Error as ``gerror``); no message ever holds the token.
"""

from urllib.parse import quote

from . import _core
from ._core import GLib, ST, SafetensorError
from ._safe_open import _framework, safe_open as _local_safe_open

__all__ = ["address", "download", "hf_hub_download", "load", "open_file", "safe_open"]

# huggingface_hub's repo_type values (constants.REPO_TYPES) and their hf:// prefixes
_REPO_TYPE_PREFIXES = {None: "", "model": "", "dataset": "datasets/", "space": "spaces/"}


def _raise(gerror, address):
    """Raises what a failure of the library means, with its own message (which names the address,
    says which repository, revision or file is missing, whether a token is needed: never the token).

    A network or I/O failure is an OSError of its errno's subclass (FileNotFoundError for a missing
    repository or file, PermissionError for a gated one, TimeoutError...); a cancellation or a file
    that is not valid safetensors is SafetensorError, as the local functions raise."""
    if gerror.domain == _core.GLib.quark_to_string(_core.Gio.io_error_quark()) and \
            gerror.code != _core.Gio.IOErrorEnum.CANCELLED:
        code = _core.io_errno(gerror)
        raise _core._io_exception(OSError, gerror.message, code, address, gerror) from None
    raise SafetensorError(gerror.message, gerror=gerror) from None


def open_file(address):
    """The ST.File of @address, its header read (a remote file, unless it came from the cache)."""
    if not isinstance(address, str):
        raise TypeError(f"address must be a str, not {type(address).__name__}")
    try:
        return ST.File.new_from_uri(address, None)
    except GLib.Error as e:
        _raise(e, address)


def _tensor_view(tensor):
    """A writable memoryview of an ST.Tensor's bytes that keeps the tensor alive."""
    return _core.memory_view(tensor.get_data_address(), tensor.get_n_bytes(), tensor)


class _RemoteSlice:
    """A tensor not fetched yet: indexing the first dimension with a slice fetches those rows only."""

    def __init__(self, owner, entry):
        self._owner = owner
        self._entry = entry

    def get_shape(self):
        return list(self._entry.shape)

    def get_dtype(self):
        return _core.dtype_name(self._entry.dtype)

    def __getitem__(self, index):
        opened = self._owner
        entry = self._entry
        items = index if isinstance(index, tuple) else (index,)
        first = items[0] if items else slice(None)
        if entry.shape and isinstance(first, slice) and first.step in (None, 1):
            start, stop, _step = first.indices(entry.shape[0])
            stop = max(start, stop)
            try:
                rows = opened._stfile().fetch_slice(entry.name, start, stop, None)
            except GLib.Error as e:
                _raise(e, opened._address)
            shape = [stop - start] + list(entry.shape[1:])
            part = _core.Entry((entry.name, entry.dtype, shape, 0, rows.get_n_bytes()))
            rest = (slice(None),) + tuple(items[1:])
            return opened._framework.sliced(opened._stfile(), _tensor_view(rows), part, rest, opened._device)
        tensor = opened._fetch(entry.name)
        whole = _core.Entry((entry.name, entry.dtype, list(entry.shape), 0, tensor.get_n_bytes()))
        return opened._framework.sliced(opened._stfile(), _tensor_view(tensor), whole, index, opened._device)

    def __repr__(self):
        return f"<remote slice {self._entry.name!r} {self.get_dtype()} {self.get_shape()}>"


class safe_open(_local_safe_open):
    """safe_open on an address: the header when opened, each tensor's bytes when asked for.

    Args:
        address (`str`): ``http(s)://...`` or ``hf://ORG/NAME[@REVISION]/FILE``.
        framework (`str`): "pt" for torch tensors, "np" for numpy arrays.
        device: where tensors go (torch only), as for safetensors_glib.torch's safe_open.

    ``get_tensor`` fetches the tensor with one Range request (and keeps it: asking again costs
    nothing); ``get_slice(name)[a:b]`` fetches rows a to b of the first dimension only. A file
    found in the cache (HF_HUB_OFFLINE=1) is mapped, as the local safe_open maps it.
    """

    def __init__(self, address, framework, device="cpu"):
        self._file = None
        self._framework = _framework(framework)
        self._device = self._framework.device(device)
        self._address = address
        self._file = open_file(address)
        self._view = None
        self._entries = None

    def _remote(self):
        return self._stfile().is_remote()

    def _fetch(self, name):
        try:
            return self._stfile().fetch_tensor(name, None)
        except GLib.Error as e:
            _raise(e, self._address)

    def get_tensor(self, name):
        """The tensor @name, fetched now if it was not."""
        entry = self._entry(name)
        if not self._remote():
            return super().get_tensor(name)
        tensor = self._fetch(name)
        whole = _core.Entry((entry.name, entry.dtype, list(entry.shape), 0, tensor.get_n_bytes()))
        return self._framework.tensor(self._stfile(), _tensor_view(tensor), whole, self._device)

    def get_slice(self, name):
        """A lazy handle on the tensor @name: ``get_shape()``, ``get_dtype()`` and indexing, which
        fetches only the rows a leading slice selects."""
        entry = self._entry(name)
        if not self._remote():
            return super().get_slice(name)
        return _RemoteSlice(self, entry)

    def fetch(self, names=None):
        """Fetches the tensors @names (all when None): neighbours in one request, several at once."""
        try:
            self._stfile().fetch_tensors(list(names) if names is not None else None, None)
        except GLib.Error as e:
            _raise(e, self._address)

    def __repr__(self):
        state = "closed" if self._file is None else f"{self._file.get_n_tensors()} tensors"
        return f"<hub.safe_open {self._address!r} {self._framework.name} {state}>"


def load(address, framework="pt", device="cpu"):
    """Every tensor of the file at @address, as a dict: fetched with as few requests as the layout
    allows (neighbouring tensors share one), several at once."""
    with safe_open(address, framework, device) as f:
        if f._remote():
            f.fetch()
        return {name: f.get_tensor(name) for name in f.offset_keys()}


def address(repo_id, filename, *, subfolder=None, repo_type=None, revision=None):
    """The ``hf://`` address of a file named as huggingface_hub's hf_hub_download() names it:
    ``repo_id`` ("ORG/NAME"), ``filename``, an optional ``subfolder``, ``repo_type`` (None or
    "model", "dataset", "space") and ``revision`` (a branch, tag or commit; None is "main")."""
    if repo_type not in _REPO_TYPE_PREFIXES:
        raise ValueError(f"Invalid repo type: {repo_type}. Accepted repo types are: "
                         f"{list(_REPO_TYPE_PREFIXES)}")
    for name, value in (("repo_id", repo_id), ("filename", filename)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if subfolder:
        filename = f"{subfolder}/{filename}"
    at = "" if revision is None else "@" + quote(revision, safe="")
    return f"hf://{_REPO_TYPE_PREFIXES[repo_type]}{repo_id}{at}/{filename}"


def hf_hub_download(repo_id, filename, *, subfolder=None, repo_type=None, revision=None):
    """Downloads a file into the Hugging Face cache, named as huggingface_hub's hf_hub_download()
    names it (see address()), and returns its path there (a str): download() of its address."""
    return download(address(repo_id, filename, subfolder=subfolder, repo_type=repo_type, revision=revision))


def download(address):
    """Downloads the file at the Hub address @address (an index brings its shards) into the Hugging
    Face cache, as huggingface_hub lays it out, and returns its path there (a str)."""
    if not isinstance(address, str):
        raise TypeError(f"address must be a str, not {type(address).__name__}")
    try:
        return ST.hub_download(address, None)
    except GLib.Error as e:
        _raise(e, address)

