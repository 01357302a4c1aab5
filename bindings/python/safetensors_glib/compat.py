# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Opt-in: makes ``import safetensors`` (and ``safetensors.torch``, ``safetensors.numpy``) give
safetensors_glib, for the rest of the process::

    import safetensors_glib.compat    # first, before transformers, diffusers, accelerate...
    import transformers

or, without changing the program: ``python -m safetensors_glib.run script.py [args]``.

Nothing is installed under the name ``safetensors`` unless this module is imported. Limits:
- it must be imported before anything imports ``safetensors``: if Hugging Face's package is
  imported already, ImportError is raised rather than mixing the two in one process;
- only the modules safetensors_glib has are provided (``safetensors``, ``safetensors.torch``,
  ``safetensors.numpy``); ``safetensors.flax``, ``.tensorflow``, ``.mlx`` and ``.paddle`` raise
  ImportError;
- ``safetensors.__version__`` is safetensors_glib's version, and so is the version that
  ``importlib.metadata.version("safetensors")`` reports (libraries check it to find out whether
  safetensors is installed);
- the differences listed in doc/differences.md apply (stricter validation of hostile files,
  additions such as sharding).
"""

import importlib
import importlib.metadata
import importlib.util
import sys

__all__ = ["install", "ALIASES"]

# The names Hugging Face's package is imported under -> the module of this package that serves them.
ALIASES = {
    "safetensors": "safetensors_glib",
    "safetensors.torch": "safetensors_glib.torch",
    "safetensors.numpy": "safetensors_glib.numpy",
}


class _Distribution(importlib.metadata.Distribution):
    """The package metadata of the alias: name safetensors, safetensors_glib's version."""

    def read_text(self, filename):
        if filename != "METADATA":
            return None
        from . import __version__

        return f"Metadata-Version: 2.1\nName: safetensors\nVersion: {__version__}\n"

    def locate_file(self, path):
        return None


class _Finder:
    """Imports the aliased modules lazily (safetensors.torch imports torch only when asked for),
    and answers importlib.metadata's questions about the safetensors distribution."""

    def find_spec(self, fullname, path=None, target=None):
        target_name = ALIASES.get(fullname)
        if target_name is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Loader(target_name))

    def find_distributions(self, context=importlib.metadata.DistributionFinder.Context()):
        if context.name is None or context.name.replace("-", "_").lower() == "safetensors":
            yield _Distribution()


class _Loader:
    def __init__(self, target_name):
        self.target_name = target_name

    def create_module(self, spec):
        return importlib.import_module(self.target_name)

    def exec_module(self, module):
        # The module is safetensors_glib's own, executed already: nothing to run. It stays
        # registered under both names.
        pass


def install():
    """Installs safetensors_glib under the name ``safetensors`` for this process (idempotent)."""
    for name in ALIASES:
        module = sys.modules.get(name)
        if module is not None and not module.__name__.startswith("safetensors_glib"):
            raise ImportError(f"{name} is imported already ({getattr(module, '__file__', module)}): "
                              "import safetensors_glib.compat before anything imports safetensors")
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


install()
