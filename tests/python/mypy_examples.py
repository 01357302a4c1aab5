#!/usr/bin/python3
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Type-checks the Python examples with mypy against the package's stubs (py.typed, .pyi).

The package is put on mypy's path alone (a temporary folder holding a link to it): the source
tree's bindings/python also holds gi/overrides, which mypy would take for the gi package.
Usage: mypy_examples.py PACKAGE_DIR EXAMPLE.py...
"""

import os
import sys
import tempfile

from mypy import api


def main():
    package, examples = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory(prefix="st-mypy-") as folder:
        os.symlink(os.path.abspath(package), os.path.join(folder, "safetensors_glib"))
        os.environ["MYPYPATH"] = folder
        stdout, stderr, status = api.run([
            "--ignore-missing-imports",  # gi, numpy and torch as the system has them
            "--cache-dir", os.path.join(folder, ".mypy_cache"),
            "--pretty",
            *examples,
        ])
    sys.stdout.write(stdout)
    sys.stderr.write(stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
