# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Index checking for safe_open(framework="np").get_slice(name)[...], as Hugging Face does it.

Hugging Face's numpy slices go through its Rust core, with its own rules and messages (which this
module reproduces): an index is an int, a slice, an empty list (selecting nothing of the first
dimension), or a tuple of ints and slices; a non-empty list raises "Non empty lists are not
implemented"; a negative int counts from the end, and one beyond the start raises "Invalid index
-6 for dimension 1 of size 5"; bounds are then checked from the last dimension to the first, and
a start at or past the end, or a stop past it, raises "Error during slicing [2:, 20] with shape
[10, 5]: index 20 out of bounds for tensor dimension #1 of size 5".

Beyond Hugging Face (which ignores steps, and refuses negative bounds and Ellipsis): positive
steps, negative slice bounds (counted from the end, as in Python) and one ``...``. Too many
indices raise a SafetensorError (Hugging Face drops the extra ones silently); a start past its
stop selects nothing (Hugging Face's core computes a wrong size).

safe_open(framework="pt") indexes with torch itself, as Hugging Face does.
"""

import operator

from ._core import SafetensorError

__all__ = ["numpy_index"]


def _bound(value):
    return "" if value is None else str(value)


def _display(items):
    parts = []
    for item in items:
        if isinstance(item, int):
            parts.append(str(item))
        else:
            text = f"{_bound(item.start)}:{_bound(item.stop)}"
            if item.step is not None:
                text += f":{item.step}"
            parts.append(text)
    return "[" + ", ".join(parts) + "]"


def _shape(shape):
    return "[" + ", ".join(str(dim) for dim in shape) + "]"


def _item(item):
    if isinstance(item, slice):
        fields = []
        for value in (item.start, item.stop, item.step):
            if value is None or isinstance(value, bool):
                fields.append(None if value is None else int(value))
                continue
            try:
                fields.append(operator.index(value))
            except TypeError:
                raise TypeError(f"slice indices must be integers or None, not {type(value).__name__}") from None
        if fields[2] is not None and fields[2] <= 0:
            raise SafetensorError(f"Invalid step {fields[2]}: only positive slice steps are supported")
        return slice(*fields)
    if item is Ellipsis:
        return item
    if isinstance(item, bool) or item is None:
        raise TypeError(f"Invalid index {item!r}: an index is an int, a slice, or a tuple of them")
    try:
        return operator.index(item)
    except TypeError:
        raise TypeError(f"Invalid index {item!r}: an index is an int, a slice, or a tuple of them") from None


def numpy_index(index, shape):
    """Checks @index against @shape as Hugging Face's core does and returns the tuple of ints and
    slices that numpy indexes the same way."""
    if isinstance(index, list):
        if index:
            raise SafetensorError("Non empty lists are not implemented")
        items = [slice(0, 0)]
    elif isinstance(index, tuple):
        items = [_item(item) for item in index]
    else:
        items = [_item(index)]

    if items.count(Ellipsis) > 1:
        raise SafetensorError("An index can only have a single ellipsis ('...')")
    rank = len(shape)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at:at + 1] = [slice(None)] * max(rank - (len(items) - 1), 0)

    # Negative ints first, in order, as Hugging Face converts them before slicing.
    for dim_index, (item, dim) in enumerate(zip(items, shape)):
        if isinstance(item, int) and item < 0:
            if item + dim < 0:
                raise SafetensorError(f"Invalid index {item} for dimension {dim_index} of size {dim}")
            items[dim_index] = item + dim
    if len(items) > rank:
        raise SafetensorError(f"Error during slicing {_display(items)} with shape {_shape(shape)}: "
                              "more slicing indexes than dimensions in tensor")

    resolved = list(items)
    for dim_index in reversed(range(len(items))):
        item = items[dim_index]
        dim = shape[dim_index]
        if isinstance(item, int):
            start, stop = item, item + 1
        else:
            if item.start is None and item.stop is None:
                continue  # the whole dimension, even an empty one
            start = 0 if item.start is None else item.start
            stop = dim if item.stop is None else item.stop
            # Negative bounds count from the end, as in Python.
            start = max(start + dim, 0) if start < 0 else start
            stop = max(stop + dim, 0) if stop < 0 else stop
            resolved[dim_index] = slice(start, max(start, stop), item.step)
        if start >= dim or stop > dim:
            asked = start if start >= dim else max(stop - 1, 0)
            raise SafetensorError(f"Error during slicing {_display(items)} with shape {_shape(shape)}: "
                                  f"index {asked} out of bounds for tensor dimension #{dim_index} of size {dim}")
    return tuple(resolved)
