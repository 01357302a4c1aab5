# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
# Type stubs of safetensors_glib.numpy, as Hugging Face's safetensors.numpy.
import os
from types import TracebackType
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Type, Union

import numpy as np

from . import SafetensorError as SafetensorError
from . import safe_open as safe_open

_Path = Union[str, "os.PathLike[str]"]

def load_file(filename: _Path, *, backend: str = ...) -> Dict[str, np.ndarray]: ...
def load(data: Union[bytes, bytearray, memoryview]) -> Dict[str, np.ndarray]: ...
def save_file(
    tensor_dict: Dict[str, np.ndarray],
    filename: _Path,
    metadata: Optional[Dict[str, str]] = ...,
    max_shard_size: Union[int, str, None] = ...,
    *,
    sync: bool = ...,
) -> None: ...
def save(tensor_dict: Dict[str, np.ndarray], metadata: Optional[Dict[str, str]] = ...) -> bytes: ...

# Additions: the streaming writer.
_LayoutEntry = Union[np.ndarray, Tuple[Any, Any]]

class Writer:
    def __init__(
        self,
        filename: _Path,
        layout: Mapping[str, _LayoutEntry],
        metadata: Optional[Dict[str, str]] = ...,
        *,
        sync: bool = ...,
        header_size: int = ...,
    ) -> None: ...
    def write(self, name: str, tensor: np.ndarray) -> None: ...
    def remaining(self, name: str) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def bytes_written(self) -> int: ...
    def finish(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Writer": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

def save_file_iter(
    tensors: Iterable[Tuple[str, np.ndarray]],
    filename: _Path,
    metadata: Optional[Dict[str, str]] = ...,
    *,
    layout: Mapping[str, _LayoutEntry],
    sync: bool = ...,
    header_size: int = ...,
) -> None: ...
