# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safetensors_glib: safetensors files for Python through safetensors-glib (GI namespace ST).

A drop-in for Hugging Face's ``safetensors`` package (0.8)::

    from safetensors_glib import safe_open, SafetensorError
    from safetensors_glib.torch import load_file, save_file      # or safetensors_glib.numpy

The modules ``safetensors_glib.torch`` and ``safetensors_glib.numpy`` import torch and numpy
only when imported themselves. For libraries that import ``safetensors`` themselves
(transformers, diffusers, accelerate), ``import safetensors_glib.compat`` (or
``python -m safetensors_glib.run script.py``) installs this package under that name for the process.

The names below are imported on first use (PEP 562): the PyGObject override gi/overrides/ST.py
imports this package's binding layer (safetensors_glib._binding) while PyGObject is loading the
ST typelib, and that import must not require the typelib in turn.
"""

import importlib

from . import _paths

# Where pip installed the library and typelib into the package: made findable by the import of
# the package itself, so that code using gi.repository.ST directly needs only
# `import safetensors_glib` first (examples/python). It requires GIRepository, not ST.
_paths.use_bundled_library()

# Each public name -> the module of this package that defines it.
_NAMES = {
    "ST": "._core",
    "SafetensorError": "._core",
    "TensorSpec": "._serialize",
    "deserialize": "._serialize",
    "safe_open": "._safe_open",
    "_safe_open_handle": "._safe_open",
    "serialize": "._serialize",
    "serialize_file": "._serialize",
}

__all__ = [
    "SafetensorError",
    "TensorSpec",
    "__version__",
    "deserialize",
    "safe_open",
    "serialize",
    "serialize_file",
]


def __getattr__(name):
    if name == "__version__":
        if _paths.VERSION:
            value = _paths.VERSION
        else:
            from ._core import ST

            value = ST.VERSION_S
    elif name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_NAMES) | set(__all__))
