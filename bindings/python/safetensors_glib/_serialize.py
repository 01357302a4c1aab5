# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The framework-free API of Hugging Face's ``safetensors`` 0.8: TensorSpec, serialize,
serialize_file and deserialize (raw addresses and bytes in, bytes and bytearrays out)."""


from . import _core
from ._core import SafetensorError

__all__ = ["TensorSpec", "serialize", "serialize_file", "deserialize"]

# The dtype names TensorSpec takes (torch's spelling, from the binding layer's table) -> the
# safetensors dtype; F4 goes by torch's packed type, two values per byte.
_SPEC_DTYPES = {torch_name: st_name for st_name, (_typestr, torch_name) in _core.DTYPES.items() if torch_name}
_SPEC_DTYPES["float4_e2m1fn_x2"] = "F4"


def unknown_dtype_error(name):
    return SafetensorError(f'Unknown dtype "{name}". Supported dtypes: {", ".join(_SPEC_DTYPES)}')


def _unsigned(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = value.__index__()
        except AttributeError:
            raise TypeError(f"{what} must be an int, not {type(value).__name__}") from None
    if value < 0:
        raise OverflowError(f"{what} must not be negative: {value}")
    return int(value)


class TensorSpec:
    """Describes a single tensor passed to `serialize` / `serialize_file`.

    Constructed as ``TensorSpec(dtype=..., shape=..., data_ptr=..., data_len=...)`` (keywords
    only). @dtype is torch's spelling ("float32", "bfloat16", "float4_e2m1fn_x2", ...): an
    unknown one raises SafetensorError at once. For "float4_e2m1fn_x2" (two F4 values per byte)
    the last dimension of @shape is doubled, so that :attr:`shape` counts elements.

    @data_ptr is a raw memory address: the caller keeps the buffer alive for as long as any
    `serialize` / `serialize_file` call uses this spec.
    """

    __slots__ = ("_dtype", "_shape", "_data_ptr", "_data_len")

    def __init__(self, *, dtype, shape, data_ptr, data_len):
        if not isinstance(dtype, str):
            raise TypeError(f"dtype must be a str, not {type(dtype).__name__}")
        st_name = _SPEC_DTYPES.get(dtype)
        if st_name is None:
            raise unknown_dtype_error(dtype)
        shape = [_unsigned(dim, "shape entries") for dim in shape]
        if st_name == "F4" and shape:
            shape[-1] *= 2
        object.__setattr__(self, "_dtype", st_name)
        object.__setattr__(self, "_shape", shape)
        object.__setattr__(self, "_data_ptr", _unsigned(data_ptr, "data_ptr"))
        object.__setattr__(self, "_data_len", _unsigned(data_len, "data_len"))

    def __setattr__(self, name, value):
        raise AttributeError(f"TensorSpec is immutable: cannot set {name}")

    @property
    def dtype(self):
        """The safetensors dtype name ("F32", "BF16", ...), as written in the header."""
        return self._dtype

    @property
    def shape(self):
        """The shape as the header records it, in elements."""
        return list(self._shape)

    @property
    def data_ptr(self):
        """The address of the tensor's contiguous bytes."""
        return self._data_ptr

    @property
    def data_len(self):
        """The length of the tensor's bytes."""
        return self._data_len

    def __repr__(self):
        return (f"TensorSpec(dtype='{self._dtype}', shape={self._shape}, data_ptr={self._data_ptr}, "
                f"data_len={self._data_len})")


def _build(tensor_dict, metadata):
    if not isinstance(tensor_dict, dict):
        raise TypeError(f"argument 'tensor_dict': expected a dict of str to TensorSpec, not "
                        f"{type(tensor_dict).__name__}")
    entries = []
    for name, spec in tensor_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"argument 'tensor_dict': tensor names must be str, not {type(name).__name__}")
        if not isinstance(spec, TensorSpec):
            raise TypeError(f"argument 'tensor_dict': '{type(spec).__name__}' object cannot be converted "
                            "to 'TensorSpec'")
        entries.append((name, _core.dtype_from_name(spec.dtype), spec.shape, spec.data_ptr, spec.data_len))
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"argument 'metadata': expected a dict of str to str, not {type(metadata).__name__}")
    # The caller keeps the memory alive (as Hugging Face requires): the owner holds the specs only.
    return _core.build_file(entries, metadata, list(tensor_dict.values()))


def serialize(tensor_dict, metadata=None):
    """Serializes raw data: the bytes of a safetensors file holding the tensors @tensor_dict
    (``Dict[str, TensorSpec]``) describes, with the text @metadata (``Dict[str, str]``)."""
    return _core.save_bytes(_build(tensor_dict, metadata))


def serialize_file(tensor_dict, filename, metadata=None):
    """Serializes raw data into the file @filename (``str`` or ``os.PathLike``), atomically."""
    _core.write_file(_build(tensor_dict, metadata), filename)


def deserialize(bytes):
    """The tensors of a safetensors file given as bytes, in the order of their data:
    ``[(name, {"shape": [2, 3], "dtype": "F32", "data": bytearray(...)}), ...]``."""
    stfile = _core.open_bytes(bytes)
    view = _core.data_view(stfile)
    out = []
    for name, dtype, shape, offset, n_bytes in _core.layout(stfile):
        out.append((name, {"shape": list(shape), "dtype": _core.dtype_name(dtype),
                           "data": bytearray(view[offset:offset + n_bytes])}))
    return out


