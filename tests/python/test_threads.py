# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Threads, as Hugging Face's test_multithreaded.py and test_threadable.py check them (doc/python.md
says what is safe to share):

- saves and loads of separate files from several threads at once, with a thread switch forced every
  microsecond, give every thread its own tensors back, whether each thread saves tensors of its own
  or all of them save the same dict (test_multithreaded.py's case: one input read by every save);
- serialize_file of one TensorSpec dict from several threads at once (test_threadable.py's case)
  writes every file whole;
- one safe_open handle read from several threads gives each the same tensors; closing it under them
  makes their later reads raise SafetensorError, never crash;
- serialize_file releases the GIL while it writes: proved by events, not by clocks. It writes into a
  FIFO much larger than the pipe's buffer while the main thread, which needs the GIL between its
  reads, drains it; holding the GIL while blocked in write() would deadlock the two (a child
  process, so that a deadlock ends in a bounded wait instead of a hung suite).
"""

import os
import pathlib
import struct
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from conftest import requires_torch, torch
from safetensors_glib import SafetensorError, safe_open
from safetensors_glib import numpy as st_numpy

N_THREADS = 4
N_ITERATIONS = 10
BINDINGS = str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python")


def run_threads(worker, n=N_THREADS):
    errors = []
    barrier = threading.Barrier(n)

    def body(i):
        try:
            barrier.wait()
            worker(i)
        except BaseException as e:  # noqa: B902 (reported below, with the thread's number)
            errors.append((i, e))
            barrier.abort()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors


def test_numpy_saves_and_loads_from_many_threads(tmp_path):
    def worker(i):
        # Each thread its own values: a mix-up between threads shows as wrong numbers.
        arrays = {"a": np.full((876, 768, 2), i, dtype=np.float64), "b": np.array(i * 10, dtype=np.int32),
                  "c": np.arange(5000, dtype=np.float32) + i}
        for k in range(N_ITERATIONS):
            path = tmp_path / f"t{i}-{k}.safetensors"
            st_numpy.save_file(arrays, path)
            loaded = st_numpy.load_file(path)
            assert loaded["a"].shape == (876, 768, 2) and (loaded["a"] == i).all()
            assert loaded["b"] == i * 10 and loaded["c"][4999] == 4999 + i

    run_threads(worker)


@requires_torch
def test_torch_saves_and_loads_from_many_threads(tmp_path):
    from safetensors_glib import torch as st_torch

    def worker(i):
        tensors = {"a": torch.full((876, 768, 2), float(i)), "b": torch.tensor(i * 10, dtype=torch.int32),
                   "c": torch.arange(5000, dtype=torch.float32) + i}
        for k in range(N_ITERATIONS):
            path = tmp_path / f"t{i}-{k}.safetensors"
            st_torch.save_file(tensors, path)
            loaded = st_torch.load_file(path)
            assert torch.equal(loaded["a"], torch.full((876, 768, 2), float(i)))
            assert loaded["b"].item() == i * 10 and loaded["c"][4999].item() == 4999 + i

    run_threads(worker)


def shared_numpy_tensors():
    # Hugging Face's set (test_multithreaded.py): float64 of three ranks, 0-d float64 and int32.
    rng = np.random.default_rng(19)
    return {"1": rng.standard_normal((5, 25)), "2": rng.standard_normal((876, 768, 2)), "3": np.ones(5000),
            "4": np.array(5000.0), "5": np.array(768, dtype=np.int32)}


def test_numpy_one_dict_saved_from_many_threads(tmp_path):
    arrays = shared_numpy_tensors()

    def worker(i):
        for k in range(N_ITERATIONS):
            path = tmp_path / f"s{i}-{k}.safetensors"
            st_numpy.save_file(arrays, path)
            loaded = st_numpy.load_file(path)
            assert list(loaded) == ["1", "2", "3", "4", "5"]
            for name, array in arrays.items():
                assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
                assert np.array_equal(loaded[name], array), name
            path.unlink()  # 11 MB each: the mapping outlives the name

    run_threads(worker)


@requires_torch
def test_torch_one_dict_saved_from_many_threads(tmp_path):
    from safetensors_glib import torch as st_torch

    tensors = {name: torch.from_numpy(array) for name, array in shared_numpy_tensors().items()}
    tensors["1"] = tensors["1"].float()  # float32 beside the float64 ones

    def worker(i):
        for k in range(N_ITERATIONS):
            path = tmp_path / f"s{i}-{k}.safetensors"
            st_torch.save_file(tensors, path)
            loaded = st_torch.load_file(path)
            for name, tensor in tensors.items():
                assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor), name
            path.unlink()

    run_threads(worker)


def test_serialize_file_of_one_spec_from_many_threads(tmp_path):
    from safetensors_glib import TensorSpec, serialize_file

    rng = np.random.default_rng(7)
    a = rng.standard_normal((200, 2000)).astype(np.float32)
    b = rng.integers(0, 128, (2000, 200), dtype=np.int8)
    spec = {"tensor_a": TensorSpec(dtype=a.dtype.name, shape=a.shape, data_ptr=a.ctypes.data, data_len=a.nbytes),
            "tensor_b": TensorSpec(dtype=b.dtype.name, shape=b.shape, data_ptr=b.ctypes.data, data_len=b.nbytes)}

    def worker(i):
        for k in range(N_ITERATIONS):
            serialize_file(spec, tmp_path / f"spec{i}-{k}.safetensors")

    run_threads(worker)
    for i in range(N_THREADS):
        for k in range(N_ITERATIONS):
            loaded = st_numpy.load_file(tmp_path / f"spec{i}-{k}.safetensors")
            assert loaded["tensor_a"].dtype == np.float32 and np.array_equal(loaded["tensor_a"], a)
            assert loaded["tensor_b"].dtype == np.int8 and np.array_equal(loaded["tensor_b"], b)


def write_raw(path, n):
    # n tensors "t0".."t{n-1}", each 4 I32 values 4k..4k+3, header written by hand.
    header = ",".join(f'"t{k}":{{"dtype":"I32","shape":[4],"data_offsets":[{16 * k},{16 * k + 16}]}}'
                      for k in range(n))
    text = ("{" + header + "}").encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + struct.pack(f"<{4 * n}i", *range(4 * n)))
    return path


def test_one_handle_read_from_many_threads(tmp_path):
    path = write_raw(tmp_path / "shared.safetensors", 64)
    with safe_open(path, framework="np") as f:
        def worker(i):
            for k in range(64):
                name = f"t{(k + i) % 64}"
                assert f.get_tensor(name).tolist() == [4 * ((k + i) % 64) + j for j in range(4)]
                assert f.get_slice(name)[1:3].tolist() == [4 * ((k + i) % 64) + 1, 4 * ((k + i) % 64) + 2]
            everything = f.get_tensors()
            assert list(everything) == [f"t{k}" for k in range(64)] and everything["t63"][3] == 255

        run_threads(worker)


def test_closing_a_handle_under_its_readers(tmp_path):
    path = write_raw(tmp_path / "shared.safetensors", 8)
    f = safe_open(path, framework="np")
    kept = f.get_tensor("t7")
    closed = threading.Event()
    outcomes = []

    def reader():
        closed.wait()
        try:
            f.get_tensor("t1")
            outcomes.append("read")
        except SafetensorError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=reader) for _ in range(N_THREADS)]
    for thread in threads:
        thread.start()
    f.close()
    closed.set()
    for thread in threads:
        thread.join()
    assert outcomes == ["File is closed"] * N_THREADS
    assert kept.tolist() == [28, 29, 30, 31]  # what was read before stays valid


def test_serialize_file_releases_the_gil(tmp_path):
    fifo = tmp_path / "fifo"
    script = textwrap.dedent(f"""
        import os, struct, threading
        import numpy as np
        from safetensors_glib import TensorSpec, serialize_file
        a = np.arange(1 << 20, dtype=np.float32)  # 4 MiB, 64 times a pipe's buffer
        os.mkfifo({str(fifo)!r})
        spec = {{"a": TensorSpec(dtype="float32", shape=a.shape, data_ptr=a.ctypes.data, data_len=a.nbytes)}}
        writer = threading.Thread(target=serialize_file, args=(spec, {str(fifo)!r}))
        writer.start()
        data = bytearray()
        with open({str(fifo)!r}, "rb", buffering=0) as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    break
                data += chunk
        writer.join()
        header = b'{{"a":{{"dtype":"F32","shape":[1048576],"data_offsets":[0,4194304]}}}}      '
        print(bytes(data) == struct.pack("<Q", len(header)) + header + a.tobytes())
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([BINDINGS, os.environ.get("PYTHONPATH", "")]))
    try:
        # The bound only ends a deadlock (the failure this test looks for); it judges no speed.
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                                timeout=600)
    except subprocess.TimeoutExpired:
        pytest.fail("serialize_file held the GIL while blocked writing: the reader never ran")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]
