# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
# Type stubs of safetensors_glib.torch, as Hugging Face's safetensors.torch.
import os
from types import TracebackType
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple, Type, Union

import torch

from . import SafetensorError as SafetensorError
from . import safe_open as safe_open

_Path = Union[str, "os.PathLike[str]"]
_Device = Union[str, int, torch.device, None]

def storage_ptr(tensor: torch.Tensor) -> int: ...
def storage_size(tensor: torch.Tensor) -> int: ...
def _end_ptr(tensor: torch.Tensor) -> int: ...
def _is_complete(tensor: torch.Tensor) -> bool: ...
def _find_shared_tensors(state_dict: Dict[str, torch.Tensor]) -> List[Set[str]]: ...
def _remove_duplicate_names(
    state_dict: Dict[str, torch.Tensor],
    *,
    preferred_names: Optional[List[str]] = ...,
    discard_names: Optional[List[str]] = ...,
) -> Dict[str, List[str]]: ...
def load_file(filename: _Path, device: _Device = ..., *, backend: str = ...) -> Dict[str, torch.Tensor]: ...
def load(data: Union[bytes, bytearray, memoryview]) -> Dict[str, torch.Tensor]: ...
def save_file(
    tensors: Dict[str, torch.Tensor],
    filename: _Path,
    metadata: Optional[Dict[str, str]] = ...,
    max_shard_size: Union[int, str, None] = ...,
    *,
    sync: bool = ...,
) -> None: ...
def save(tensors: Dict[str, torch.Tensor], metadata: Optional[Dict[str, str]] = ...) -> bytes: ...
def save_model(
    model: torch.nn.Module,
    filename: _Path,
    metadata: Optional[Dict[str, str]] = ...,
    force_contiguous: bool = ...,
    max_shard_size: Union[int, str, None] = ...,
    *,
    sync: bool = ...,
) -> None: ...
def load_model(
    model: torch.nn.Module, filename: _Path, strict: bool = ..., device: _Device = ..., *, backend: str = ...
) -> Tuple[Set[str], List[str]]: ...

# Additions: the streaming writer.
_LayoutEntry = Union[torch.Tensor, Tuple[Any, Any]]

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
    def write(self, name: str, tensor: torch.Tensor) -> None: ...
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
    tensors: Iterable[Tuple[str, torch.Tensor]],
    filename: _Path,
    metadata: Optional[Dict[str, str]] = ...,
    *,
    layout: Mapping[str, _LayoutEntry],
    sync: bool = ...,
    header_size: int = ...,
) -> None: ...
