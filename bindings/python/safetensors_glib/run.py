# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Runs a Python program with safetensors_glib installed under the name ``safetensors``::

    python -m safetensors_glib.run script.py [args...]
    python -m safetensors_glib.run -m package.module [args...]

The program itself is unchanged; see safetensors_glib.compat for what the alias covers.
"""

import runpy
import sys

USAGE = "usage: python -m safetensors_glib.run (script.py | -m module) [args...]"


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if not argv or (argv[0] == "-m" and len(argv) < 2):
        print(USAGE, file=sys.stderr)
        return 2
    from . import compat

    compat.install()
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
