# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The binding layer under safetensors_glib and the PyGObject override gi/overrides/ST.py.

One dtype table, one owner type, one memory-view helper, one byte swap and one fspath, used by
the package's modules and by the override's Pythonic methods (ST.Tensor.numpy(), ...). It needs
GObject only, not the ST typelib: the override imports it while PyGObject is loading ST, and the
package never reaches into the override (it uses the introspected API and these helpers).
"""

import ctypes
import os
import sys

import gi

gi.require_version("GObject", "2.0")
from gi.repository import GObject  # noqa: E402

__all__ = ["DTYPES", "fspath", "Owner", "memory_view", "torch_byteswapped", "BIG_ENDIAN"]

# Each dtype as safetensors names it: (numpy typestr, torch dtype name). The typestrs are
# explicitly little-endian ("<"), as the file is: on a big-endian host numpy then reads the file's
# bytes correctly without a copy. None: numpy (or torch) has no such dtype.
DTYPES = {
    "BOOL": ("|b1", "bool"), "F4": (None, None), "F6_E2M3": (None, None), "F6_E3M2": (None, None),
    "U8": ("|u1", "uint8"), "I8": ("|i1", "int8"), "F8_E5M2": (None, "float8_e5m2"),
    "F8_E4M3": (None, "float8_e4m3fn"), "F8_E8M0": (None, "float8_e8m0fnu"),
    "F8_E4M3FNUZ": (None, "float8_e4m3fnuz"), "F8_E5M2FNUZ": (None, "float8_e5m2fnuz"),
    "I16": ("<i2", "int16"), "U16": ("<u2", "uint16"), "F16": ("<f2", "float16"),
    "BF16": (None, "bfloat16"), "I32": ("<i4", "int32"), "U32": ("<u4", "uint32"),
    "F32": ("<f4", "float32"), "C64": ("<c8", "complex64"), "F64": ("<f8", "float64"),
    "I64": ("<i8", "int64"), "U64": ("<u8", "uint64"),
}


def fspath(path):
    """os.fspath() as a str: bytes paths are decoded with the file system encoding."""
    path = os.fspath(path)
    return os.fsdecode(path) if isinstance(path, bytes) else path


class Owner(GObject.Object):
    """Keeps Python objects alive while C holds the memory they own.

    PyGObject keeps the Python wrapper (and so its attributes) alive for as long as C holds a
    reference on the GObject: C drops it when the last GBytes over the memory goes away.
    """

    # (Not 1.0's "STPythonOwner", which 1.0's override registered itself: a venv's package beside
    # a system's 1.0 override must not register one type name twice.)
    __gtype_name__ = "STPythonKeepAlive"

    def __init__(self, objects=None):
        super().__init__()
        self.objects = objects


def memory_view(address, n_bytes, owner):
    """A writable memoryview of @n_bytes at @address that keeps @owner alive.

    ctypes arrays accept attributes: the reference keeps the memory's owner alive for as long as
    the array lives, and every memoryview, numpy array or torch tensor made from it holds the array.
    """
    if n_bytes == 0:
        return memoryview(bytearray())
    array = (ctypes.c_char * n_bytes).from_address(address)
    array.st_owner = owner
    return memoryview(array).cast("B")


def torch_byteswapped(tensor):
    """A contiguous copy of the torch tensor @tensor with the bytes of each unit reversed (each
    element, or each part of a complex number); tensors of 1-byte units are returned as they are.

    torch has no byte-order-aware dtypes: on a big-endian host, tensors over the file's
    little-endian bytes are made of swapped copies, and so are the bytes saved from torch memory,
    as Hugging Face's safetensors does."""
    import torch

    unit = tensor.element_size() // (2 if tensor.dtype.is_complex else 1)
    if unit == 1 or tensor.numel() == 0:
        return tensor
    raw = tensor.contiguous().view(torch.uint8).view(-1, unit).flip(1)
    return raw.contiguous().view(-1).view(tensor.dtype).view(tensor.shape)


# True on hosts whose torch tensors need torch_byteswapped() copies of the file's bytes.
BIG_ENDIAN = sys.byteorder == "big"
