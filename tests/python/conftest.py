# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the Python suite: the reference files and their manifest."""

import json
import os
import pathlib

import gi
import pytest

gi.require_version("ST", "1.0")

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
