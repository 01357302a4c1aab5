# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the Python suite: the reference files and their manifest."""

import json
import os
import pathlib

import gi
import pytest

# First: it makes PyGObject load the source tree's override (not one a system install may have).
import safetensors_glib  # noqa: E402,F401

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
