# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The bytes Hugging Face's safetensors writes, computed here from design.md's rules and nothing of
safetensors_glib: tests compare our writers with this, never with each other (issue 21).

Rules: compact JSON, ``__metadata__`` first with its keys sorted, tensors by dtype from the widest
alignment down (Hugging Face's dtype order, reversed) then by name, fields dtype, shape, data_offsets,
the JSON padded with spaces to a multiple of 8 bytes, raw UTF-8, then the data in that order.
"""

import json
import struct

# Hugging Face's dtype order (design.md); the writer lays tensors out in its reverse.
DTYPE_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
               "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32",
               "C64", "F64", "I64", "U64"]

# numpy's dtype.str -> header dtype (little-endian only: that is what the format stores).
NUMPY_DTYPES = {"|b1": "BOOL", "|u1": "U8", "|i1": "I8", "<i2": "I16", "<u2": "U16", "<f2": "F16",
                "<i4": "I32", "<u4": "U32", "<f4": "F32", "<c8": "C64", "<f8": "F64", "<i8": "I64",
                "<u8": "U64"}


def reference_bytes(tensors, metadata=None):
    """@tensors: name -> (header dtype, shape, data bytes). The whole file, as bytes."""
    order = sorted(tensors, key=lambda name: (-DTYPE_ORDER.index(tensors[name][0]), name.encode()))
    parts = []
    if metadata is not None:
        parts.append('"__metadata__":{' + ",".join(
            json.dumps(k, ensure_ascii=False) + ":" + json.dumps(metadata[k], ensure_ascii=False)
            for k in sorted(metadata, key=str.encode)) + "}")
    offset = 0
    for name in order:
        dtype, shape, data = tensors[name]
        parts.append(json.dumps(name, ensure_ascii=False) + ':{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}'
                     % (dtype, ",".join(str(int(d)) for d in shape), offset, offset + len(data)))
        offset += len(data)
    text = ("{" + ",".join(parts) + "}").encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(tensors[name][2] for name in order)


def reference_bytes_of_arrays(arrays, metadata=None):
    """The same for a dict of numpy arrays (their C-order bytes)."""
    return reference_bytes({name: (NUMPY_DTYPES[a.dtype.str], a.shape, a.tobytes(order="C"))
                            for name, a in arrays.items()}, metadata)
