# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Where this package's own C library and typelib are, when pip installed them beside it.

Installed with pip (pyproject.toml, meson-python), the package, the library and the ST typelib
all go into the environment's site-packages, where neither GObject Introspection nor the dynamic
linker look. meson writes _config.py at build time; for a pip-installed package it names the
folder of the library (relative to this package), and the search paths are prepended from there
before the typelib is first required: no GI_TYPELIB_PATH or LD_LIBRARY_PATH is needed. A system
install (meson install, Debian's package) and the source tree (the tests) use GI's own paths.

The package does not depend on the PyGObject override (gi/overrides/ST.py): it uses the
introspected API and its own binding layer (_binding.py), so whichever override PyGObject finds
first, this package behaves the same, and nothing here touches gi.overrides.
"""

import os

try:
    from ._config import BUNDLED_LIBDIR, VERSION
except ImportError:
    # The source tree (the test suite): no configured file; the typelib's version is used.
    BUNDLED_LIBDIR = ""
    VERSION = None

__all__ = ["use_bundled_library", "bundled_libdir", "VERSION"]


def bundled_libdir():
    """The folder holding the library and girepository-1.0/ST-1.0.typelib when pip installed
    them with this package, else None."""
    if not BUNDLED_LIBDIR:
        return None
    path = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), BUNDLED_LIBDIR))
    return path if os.path.isdir(path) else None


def use_bundled_library():
    """Prepends the bundled library's folder to GI's typelib and library search paths, once."""
    path = bundled_libdir()
    if path is None:
        return
    import gi

    gi.require_version("GIRepository", "2.0")
    from gi.repository import GIRepository

    typelib_dir = os.path.join(path, "girepository-1.0")
    if typelib_dir not in GIRepository.Repository.get_search_path():
        GIRepository.Repository.prepend_search_path(typelib_dir)
        GIRepository.Repository.prepend_library_path(path)
