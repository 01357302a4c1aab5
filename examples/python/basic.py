#!/usr/bin/python3
# basic.py: build a safetensors file, save it, load it back, read values, reject a hostile file
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# Run: python3 basic.py
# safetensors_glib.numpy has the API of Hugging Face's safetensors.numpy (and safetensors_glib.torch
# that of safetensors.torch): switching is one import line.

import os
import sys
import tempfile

import numpy as np

from safetensors_glib import SafetensorError, safe_open
from safetensors_glib.numpy import load_file, save_file


def main():
    directory = tempfile.mkdtemp(prefix="st-example-")
    path = os.path.join(directory, "model.safetensors")

    # Build from scratch: arrays by name, and text metadata.
    tensors = {
        "embedding": np.arange(12, dtype=np.float32).reshape(3, 4),
        "bias": np.array([0.5, -0.5], dtype=np.float64),
        "steps": np.array(1000, dtype=np.int64),  # a rank-0 scalar
    }
    save_file(tensors, path, metadata={"format": "np", "author": "example"})

    # Load it back: the arrays are views of the mapped file; nothing is read until used.
    loaded = load_file(path)
    print("loaded:", ", ".join(f"{name} {a.dtype}{list(a.shape)}" for name, a in loaded.items()))
    print("embedding row 1:", loaded["embedding"][1].tolist())
    assert np.array_equal(loaded["embedding"], tensors["embedding"])

    # Lazy access: metadata and one slice, reading only the bytes it needs.
    with safe_open(path, framework="np") as f:
        print("metadata:", f.metadata())
        print("embedding[:, -1]:", f.get_slice("embedding")[:, -1].tolist())

    # A hostile file: a header length pointing far past the end of the file.
    hostile = os.path.join(directory, "hostile.safetensors")
    with open(hostile, "wb") as out:
        out.write((1 << 40).to_bytes(8, "little") + b"{}")
    try:
        load_file(hostile)
    except SafetensorError as e:
        print("hostile file rejected:", e)
    else:
        print("the hostile file was accepted", file=sys.stderr)
        return 1

    for name in (path, hostile):
        os.unlink(name)
    os.rmdir(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
