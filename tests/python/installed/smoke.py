#!/usr/bin/python3
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of an installed safetensors_glib (run by build-aux/test with a venv's python, from
outside the source tree, without GI_TYPELIB_PATH, LD_LIBRARY_PATH or PYTHONPATH).

Checks that the package, the typelib and the library all come from the environment it was
installed into, and that the drop-in works end to end (numpy, torch when present, the alias).
Usage: smoke.py PREFIX   (the environment's sys.prefix, that every file must be under)
"""

import os
import sys
import tempfile


def check(condition, what):
    if not condition:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def main():
    prefix = os.path.realpath(sys.argv[1])
    for name in ("GI_TYPELIB_PATH", "LD_LIBRARY_PATH", "PYTHONPATH"):
        check(name not in os.environ, f"{name} is not set")

    import numpy as np

    import safetensors_glib
    from safetensors_glib import SafetensorError, safe_open
    from safetensors_glib.numpy import load, load_file, save, save_file

    def inside(path):
        return os.path.realpath(path).startswith(prefix + os.sep)

    check(inside(safetensors_glib.__file__), f"the package is the installed one ({safetensors_glib.__file__})")
    check(safetensors_glib.__version__.count(".") == 2, f"__version__ is {safetensors_glib.__version__}")

    import gi

    gi.require_version("GIRepository", "2.0")
    from gi.repository import GIRepository, ST

    typelib = GIRepository.Repository.get_default().get_typelib_path("ST")
    check(inside(typelib), f"the typelib is the installed one ({typelib})")
    with open("/proc/self/maps") as maps:
        libraries = {line.split()[-1] for line in maps if "libsafetensors-glib" in line}
    check(len(libraries) == 1 and all(inside(path) for path in libraries),
          f"the library is the installed one ({', '.join(sorted(libraries))})")
    override = sys.modules["gi.overrides.ST"].__file__
    check(ST.File.__module__ == "gi.overrides.ST" and inside(override),
          f"the PyGObject override is the installed one ({override})")

    # Removed afterwards, whatever happens: the smoke test runs on users' machines too.
    with tempfile.TemporaryDirectory(prefix="st-smoke-") as directory:
        path = os.path.join(directory, "model.safetensors")
        arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(7, dtype=np.int64)}
        save_file(arrays, path, metadata={"k": "v"})
        loaded = load_file(path)
        check(list(loaded) == ["n", "w"] and (loaded["w"] == arrays["w"]).all(), "numpy save_file/load_file")
        check(load(save(arrays))["n"] == 7, "numpy save/load")
        with safe_open(path, framework="np") as f:
            check(f.metadata() == {"k": "v"} and f.get_slice("w")[1, 1:].tolist() == [4.0, 5.0], "safe_open")
        try:
            load(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
            check(False, "a truncated file is refused")
        except SafetensorError as e:
            check(str(e).startswith("Error while deserializing: "), "a truncated file is refused")
        try:
            safe_open(os.path.join(directory, "missing.safetensors"), framework="np")
            check(False, "a missing file raises")
        except FileNotFoundError as e:
            check(e.errno == 2, "a missing file raises FileNotFoundError with its errno")

        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            from safetensors_glib.torch import load_file as load_pt
            from safetensors_glib.torch import save_file as save_pt

            save_pt({"t": torch.ones(2, 2, dtype=torch.bfloat16)}, path)
            check(torch.equal(load_pt(path)["t"], torch.ones(2, 2, dtype=torch.bfloat16)), "torch save_file/load_file")

    import safetensors_glib.compat  # noqa: F401
    import safetensors
    import safetensors.numpy

    check(safetensors.numpy.load_file is load_file, "import safetensors gives safetensors_glib after the opt-in")
    print("smoke test passed")


if __name__ == "__main__":
    main()
