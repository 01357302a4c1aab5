#!/usr/bin/python3
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Checks the package's type stubs (.pyi) against the code with mypy's stubtest (Debian:
python3-mypy): every public function, method and argument of safetensors_glib,
safetensors_glib.torch and safetensors_glib.numpy must be in the stubs as the code has it, and
nothing the code lacks may be in them.

As in mypy_examples.py, the package is put on mypy's path alone (a temporary folder holding a
link to it): the source tree's bindings/python also holds gi/overrides, which mypy would take
for the gi package. The private modules (no stubs of their own) are imported, not judged.
stubtest imports the package, so the environment must find the typelib (GI_TYPELIB_PATH).
Usage: stubtest.py PACKAGE_DIR
"""

import os
import subprocess
import sys
import tempfile

MODULES = ("safetensors_glib", "safetensors_glib.torch", "safetensors_glib.numpy")


def main():
    package = os.path.abspath(sys.argv[1])
    private = sorted("safetensors_glib." + name[:-3] for name in os.listdir(package)
                     if name.startswith("_") and name.endswith(".py") and name != "__init__.py")
    status = 0
    with tempfile.TemporaryDirectory(prefix="st-stubtest-") as folder:
        os.symlink(package, os.path.join(folder, "safetensors_glib"))
        config = os.path.join(folder, "mypy.ini")
        with open(config, "w") as f:
            # torch and numpy are not analysed (their types are Any here): stubtest compares names,
            # arguments and their kinds, and analysing torch would take minutes.
            f.write("[mypy]\nignore_missing_imports = True\ncache_dir = " + os.path.join(folder, ".cache") +
                    "\n[mypy-" + ",".join(private) + "]\nignore_errors = True\n"
                    "[mypy-torch.*,numpy.*,torch,numpy]\nfollow_imports = skip\n")
        # The private modules are imported, not part of the stubs (stubtest walks into them).
        allowlist = os.path.join(folder, "allowlist")
        with open(allowlist, "w") as f:
            f.write("safetensors_glib\\._.*\n")
        env = dict(os.environ, MYPYPATH=folder)
        # One module per run: mypy 1.0 counts a submodule twice when it is named beside its package.
        for module in MODULES:
            result = subprocess.run([sys.executable, "-m", "mypy.stubtest", "--mypy-config-file", config,
                                     "--allowlist", allowlist, "--ignore-unused-allowlist", module],
                                    cwd=folder, env=env)
            status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
