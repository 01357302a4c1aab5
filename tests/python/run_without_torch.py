#!/usr/bin/python3
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Runs the Python suite as on a machine without torch: ``import torch`` raises ImportError.

The numpy API, safe_open(framework="np") and the override must work without torch; the torch
tests must skip with a reason. Afterwards, torch must not have been imported by anything.
Usage: run_without_torch.py [pytest arguments]
"""

import sys

import pytest

sys.modules["torch"] = None  # what importing a missing module gives

status = pytest.main(["-p", "no:cacheprovider", "-rs", *sys.argv[1:]])
if sys.modules.get("torch", None) is not None:
    print("torch was imported although hidden", file=sys.stderr)
    status = 1
sys.exit(status)
