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
"""

from . import _paths
from ._core import ST, SafetensorError
from ._safe_open import _safe_open_handle, safe_open
from ._serialize import TensorSpec, deserialize, serialize, serialize_file

__version__ = _paths.VERSION or ST.VERSION_S

__all__ = [
    "SafetensorError",
    "TensorSpec",
    "__version__",
    "deserialize",
    "safe_open",
    "serialize",
    "serialize_file",
]
