# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Type-checked (not run) by python-mypy-examples: the streaming writer as the stubs declare it."""

import numpy as np
import torch
from safetensors_glib.numpy import Writer as NpWriter, save_file_iter as np_iter
from safetensors_glib.torch import Writer, save_file_iter

layout = {"a": torch.empty(2, device="meta")}
save_file_iter(iter([("a", torch.zeros(2))]), "x.safetensors", {"k": "v"}, layout=layout, sync=False)
with Writer("x.safetensors", layout, header_size=4088) as w:
    w.write("a", torch.zeros(2))
    n: int = w.bytes_written + w.size + w.remaining("a")
np_iter([("a", np.zeros(2))], "y.safetensors", layout={"a": (np.float32, (2,))})
with NpWriter("y.safetensors", {"a": np.zeros(2)}) as nw:
    nw.write("a", np.zeros(2))
