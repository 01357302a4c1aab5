# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safetensors for numpy, a drop-in for Hugging Face's ``safetensors.numpy``.

Switch with one line::

    # from safetensors.numpy import load_file, save_file
    from safetensors_glib.numpy import load_file, save_file

Loaded arrays are writable views of the file's private copy-on-write mapping (writes never reach
the file; the mapping lives as long as any array from it). Saving reads C-contiguous
little-endian arrays in place; other arrays are converted first, as Hugging Face's does.
"""

from . import _core
from ._core import SafetensorError
from ._numpy_adapter import prepare as _prepare
from ._numpy_adapter import views as _views
from ._safe_open import safe_open

__all__ = ["SafetensorError", "safe_open", "load_file", "load", "save_file", "save"]


def load_file(filename):
    """Loads a safetensors file (or a sharded checkpoint's ``.index.json``) into numpy arrays.

    Args:
        filename (`str` or `os.PathLike`): the file to load.

    Returns:
        `Dict[str, np.ndarray]`: the arrays by name, in the order of their data in the file.

    Raises:
        FileNotFoundError: no such file. SafetensorError: the file is not valid safetensors.
    """
    return _core.load_path(filename, _views)


def load(data):
    """Loads the arrays of a safetensors file given as bytes (copied once into a writable buffer).

    Returns:
        `Dict[str, np.ndarray]`: the arrays by name.
    """
    return _core.load_bytes(data, _views)


def save_file(tensor_dict, filename, metadata=None, max_shard_size=None):
    """Saves a dict of numpy arrays to a safetensors file, atomically.

    Args:
        tensors (`Dict[str, np.ndarray]`): the arrays.
        filename (`str` or `os.PathLike`): where to save.
        metadata (`Dict[str, str]`, optional): text metadata, stored in the header.
        max_shard_size (`int` or `str`, optional): write shards plus an index, as
            `safetensors_glib.torch.save_file` does.

    Returns:
        `None`
    """
    _core.save_path(_prepare, tensor_dict, filename, metadata, max_shard_size)


def save(tensor_dict, metadata=None):
    """Serializes a dict of numpy arrays to the bytes of a safetensors file.

    Returns:
        `bytes`: the content of a safetensors file.
    """
    return _core.save_to_bytes(_prepare, tensor_dict, metadata)
