# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the Python suite: the reference files and their manifest."""

import json
import os
import pathlib

import gi
import gi.overrides
import pytest

# The suite tests the source tree's override: PyGObject searches its own overrides folder first,
# where an installed package of another version may have put one, so the source tree's folder is
# put first here, before ST is loaded (the package itself never touches gi.overrides).
_OVERRIDES = str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python" / "gi" / "overrides")
gi.overrides.__path__[:] = [_OVERRIDES] + [p for p in gi.overrides.__path__
                                           if os.path.realpath(p) != os.path.realpath(_OVERRIDES)]

gi.require_version("ST", "1.0")

# torch is optional: the numpy API and the override need none of it (hide_torch.py proves it).
try:
    import torch
except ImportError:
    torch = None

NO_TORCH = "torch is not installed: the torch API is not tested"
requires_torch = pytest.mark.skipif(torch is None, reason=NO_TORCH)
# For tests of what every framework shares (keys, metadata, shapes): torch's where it is installed.
ANY_FRAMEWORK = "pt" if torch is not None else "np"

FIXTURES_DIR = pathlib.Path(os.environ.get("ST_FIXTURES_DIR",
                                           pathlib.Path(__file__).resolve().parents[1] / "fixtures"))
MANIFEST = json.loads((FIXTURES_DIR / "manifest.json").read_text())


def valid_cases():
    return sorted(MANIFEST["valid"].items())


def invalid_cases():
    return sorted(MANIFEST["invalid"].items())


@pytest.fixture
def fixtures_dir():
    return FIXTURES_DIR
