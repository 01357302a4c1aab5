# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safetensors_glib: safetensors files for Python through safetensors-glib (GI namespace ST).

A drop-in for Hugging Face's ``safetensors`` package::

    from safetensors_glib import safe_open, SafetensorError
    from safetensors_glib.torch import load_file, save_file      # or safetensors_glib.numpy

The modules ``safetensors_glib.torch`` and ``safetensors_glib.numpy`` import torch and numpy
only when imported themselves.
"""

from ._core import SafetensorError
from ._safe_open import safe_open

__version__ = "1.0.0"

__all__ = ["SafetensorError", "safe_open", "__version__"]
