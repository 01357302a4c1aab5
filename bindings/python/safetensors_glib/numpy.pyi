# SPDX-License-Identifier: Apache-2.0
# Type stubs of safetensors_glib.numpy, as Hugging Face's safetensors.numpy.
import os
from typing import Dict, Optional, Union

import numpy as np

from . import SafetensorError as SafetensorError
from . import safe_open as safe_open

_Path = Union[str, "os.PathLike[str]"]

def load_file(filename: _Path) -> Dict[str, np.ndarray]: ...
def load(data: Union[bytes, bytearray, memoryview]) -> Dict[str, np.ndarray]: ...
def save_file(
    tensor_dict: Dict[str, np.ndarray],
    filename: _Path,
    metadata: Optional[Dict[str, str]] = ...,
    max_shard_size: Union[int, str, None] = ...,
) -> None: ...
def save(tensor_dict: Dict[str, np.ndarray], metadata: Optional[Dict[str, str]] = ...) -> bytes: ...
