# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safetensors_glib.torch: Hugging Face's safetensors.torch API, zero-copy, on safetensors-glib."""

import gc
import json
import os
import pathlib
import threading
import warnings

import pytest

from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)  # noqa: E402

from gi.repository import GLib, ST

import safetensors_glib.torch as st_torch
from safetensors_glib import SafetensorError, safe_open
from safetensors_glib.torch import load, load_file, load_model, save, save_file, save_model

TORCH_DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.float16, torch.bfloat16,
                torch.int32, torch.float32, torch.complex64, torch.float64, torch.int64]
DTYPE_NAMES = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16",
               torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32", torch.float32: "F32",
               torch.complex64: "C64", torch.float64: "F64", torch.int64: "I64"}


def sample(dtype, shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=generator).bool()
    if dtype.is_floating_point or dtype.is_complex:
        return (torch.randn(shape, generator=generator, dtype=torch.float64) * 100).to(dtype)
    info = torch.iinfo(dtype)
    return torch.randint(info.min, info.max, shape, generator=generator, dtype=torch.int64).to(dtype)


def assert_same(a, b):
    assert a.dtype == b.dtype
    assert a.shape == b.shape
    assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=str)
def test_every_dtype_round_trips_through_file_and_bytes(dtype, tmp_path):
    tensors = {"matrix": sample(dtype, (3, 5)), "scalar": sample(dtype, ()), "empty": sample(dtype, (0, 4)),
               "cube": sample(dtype, (2, 3, 4), seed=1)}
    path = tmp_path / "t.safetensors"
    save_file(tensors, path)
    loaded = load_file(path)
    assert set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        assert_same(loaded[name], tensor)
    for name, tensor in load(save(tensors)).items():
        assert_same(tensor, tensors[name])
    with safe_open(path, framework="pt") as f:
        assert f.get_slice("matrix").get_dtype() == DTYPE_NAMES[dtype]


def test_empty_and_scalar_tensors(tmp_path):
    tensors = {"scalar": torch.tensor(2.5), "none": torch.zeros(0), "wide": torch.zeros(3, 0, 7),
               "int_scalar": torch.tensor(7, dtype=torch.int64)}
    save_file(tensors, tmp_path / "e.safetensors")
    loaded = load_file(tmp_path / "e.safetensors")
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2.5
    assert loaded["int_scalar"].item() == 7
    assert loaded["none"].shape == (0,)
    assert loaded["wide"].shape == (3, 0, 7)
    assert load(save({})) == {}
    save_file({}, tmp_path / "nothing.safetensors")
    assert load_file(tmp_path / "nothing.safetensors") == {}


def test_runs_of_equal_shapes_load_as_separate_tensors(tmp_path):
    tensors = {f"s{i}": torch.tensor(float(i)) for i in range(3)}
    tensors.update({f"v{i}": torch.full((2, 3), i, dtype=torch.int32) for i in range(3)})
    tensors["odd"] = torch.arange(5, dtype=torch.int32)
    save_file(tensors, tmp_path / "r.safetensors")
    loaded = load_file(tmp_path / "r.safetensors")
    for name, tensor in tensors.items():
        assert_same(loaded[name], tensor)
    loaded["v1"][0, 0] = 9
    loaded["s1"].fill_(7.0)
    assert loaded["v1"][0, 0] == 9 and loaded["v0"][0, 0] == 0 and loaded["v2"][0, 0] == 2
    assert loaded["s1"].item() == 7.0 and loaded["s0"].item() == 0.0


def test_output_matches_hugging_faces_layout(tmp_path):
    # Widest alignment first, then by name; compact JSON padded with spaces to 8 bytes.
    data = save({"b": torch.zeros(2, dtype=torch.uint8), "a": torch.zeros(1, dtype=torch.float64),
                 "c": torch.zeros(1, dtype=torch.float64)}, metadata={"z": "1", "format": "pt"})
    n = int.from_bytes(data[:8], "little")
    header = data[8:8 + n]
    assert n % 8 == 0
    assert header.rstrip(b" ") == (
        b'{"__metadata__":{"format":"pt","z":"1"},"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},'
        b'"c":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},'
        b'"b":{"dtype":"U8","shape":[2],"data_offsets":[16,18]}}')
    assert len(data) == 8 + n + 18


def test_metadata_round_trips_and_is_checked(tmp_path):
    path = tmp_path / "m.safetensors"
    save_file({"x": torch.ones(2)}, path, metadata={"format": "pt", "note": "é \"quoted\"\n"})
    with safe_open(path, "pt") as f:
        assert f.metadata() == {"format": "pt", "note": "é \"quoted\"\n"}
    save_file({"x": torch.ones(2)}, path)
    with safe_open(path, "pt") as f:
        assert f.metadata() is None
    with pytest.raises(TypeError):
        save_file({"x": torch.ones(2)}, path, metadata={"n": 1})
    with pytest.raises(TypeError):
        save({"x": torch.ones(2)}, metadata=["not", "a", "dict"])


def test_paths_may_be_pathlike_and_missing_files_raise_file_not_found(tmp_path):
    path = pathlib.Path(tmp_path) / "p.safetensors"
    save_file({"x": torch.arange(3)}, path)
    assert torch.equal(load_file(path)["x"], torch.arange(3))
    assert torch.equal(load_file(str(path))["x"], torch.arange(3))
    with pytest.raises(FileNotFoundError):
        load_file(tmp_path / "missing.safetensors")
    with pytest.raises(FileNotFoundError):
        safe_open(tmp_path / "missing.safetensors", framework="pt")
    with pytest.raises(TypeError):
        load_file(42)


def test_save_refuses_what_hugging_face_refuses(tmp_path):
    path = tmp_path / "r.safetensors"
    with pytest.raises(ValueError, match="Expected a dict"):
        save_file([torch.zeros(1)], path)
    with pytest.raises(ValueError, match="Key `x` is invalid, expected torch.Tensor"):
        save_file({"x": [1, 2]}, path)
    with pytest.raises(ValueError, match="sparse"):
        save_file({"s": torch.eye(3).to_sparse()}, path)
    with pytest.raises(ValueError, match="non contiguous tensor: `t`"):
        save_file({"t": torch.zeros(3, 4).t()}, path)
    with pytest.raises(SafetensorError, match='Unknown dtype "complex128"'):
        save_file({"c": torch.zeros(2, dtype=torch.complex128)}, path)
    with pytest.raises(TypeError):
        save_file({1: torch.zeros(1)}, path)
    assert not path.exists()


HF_SHARED = """
            Some tensors share memory, this will lead to duplicate memory on disk and potential differences when loading them again: {}.
            A potential way to correctly save your model is to use `save_model`.
            More information at https://huggingface.co/docs/safetensors/torch_shared_tensors
            """


def test_tensors_sharing_memory_are_refused_with_their_names():
    base = torch.zeros(10)
    # Hugging Face's message, which shows the groups as Python sets (in no fixed order).
    with pytest.raises(RuntimeError) as info:
        save({"a": base, "b": base})
    assert str(info.value).strip().startswith("Some tensors share memory")
    assert str(info.value) in (HF_SHARED.format("[{'a', 'b'}]"), HF_SHARED.format("[{'b', 'a'}]"))
    with pytest.raises(RuntimeError) as info:
        save({"first": base[:6], "second": base[4:], "alone": torch.ones(1)})
    assert "'first'" in str(info.value) and "'second'" in str(info.value) and "alone" not in str(info.value)
    # Disjoint slices of one storage share no memory: each is saved on its own.
    loaded = load(save({"low": base[:5], "high": base[5:]}))
    assert loaded["low"].shape == (5,) and loaded["high"].shape == (5,)
    # Empty tensors share nothing: both are saved, and load as the empty tensors they were.
    empties = load(save({"e1": torch.zeros(0), "e2": torch.zeros(0, 3, dtype=torch.int16)}))
    assert sorted(empties) == ["e1", "e2"]
    assert (empties["e1"].shape, empties["e1"].dtype) == ((0,), torch.float32)
    assert (empties["e2"].shape, empties["e2"].dtype) == ((0, 3), torch.int16)


def test_device_argument():
    data = save({"x": torch.arange(4)})
    path = None
    for device in ("cpu", torch.device("cpu")):
        with safe_open_bytes(data) as p:
            path = p
            assert load_file(path, device=device)["x"].device.type == "cpu"
    with safe_open_bytes(data) as path:
        with pytest.raises(SafetensorError, match="invalid"):
            load_file(path, device="nonsense")
        with pytest.raises(SafetensorError, match="invalid"):
            load_file(path, device=[0])
        if not torch.cuda.is_available():
            for device in ("cuda", "cuda:1", 0):
                with pytest.raises(RuntimeError, match="not available"):
                    load_file(path, device=device)
            with pytest.raises(RuntimeError, match="not available"):
                safe_open(path, "pt", device="cuda:0")


class safe_open_bytes:
    """A temporary file holding @data, as a context manager giving its path."""

    def __init__(self, data):
        import tempfile
        fd, self.path = tempfile.mkstemp(suffix=".safetensors")
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        os.unlink(self.path)


def test_loaded_tensors_are_writable_views_that_never_write_the_file(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"a": torch.zeros(4), "b": torch.ones(2, 2)}, path)
    before = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_file(path)
    a, b = loaded["a"], loaded["b"]
    # Views of one buffer, in the file's order: "a" (16 bytes) then "b".
    assert b.data_ptr() - a.data_ptr() == 16
    a += 5
    b[0, 0] = 42
    assert path.read_bytes() == before
    again = load_file(path)
    assert torch.equal(again["a"], torch.zeros(4))
    assert torch.equal(loaded["a"], torch.full((4,), 5.0))


def test_views_keep_the_mapping_alive(tmp_path):
    path = tmp_path / "alive.safetensors"
    save_file({"a": torch.arange(1000, dtype=torch.float32), "b": torch.arange(10)}, path)
    kept = load_file(path)["a"]
    view_of_view = kept[10:20]
    gc.collect()
    # Replacing the file (atomically) and collecting leaves the old mapping readable.
    save_file({"a": torch.zeros(3)}, path)
    gc.collect()
    assert torch.equal(kept, torch.arange(1000, dtype=torch.float32))
    assert torch.equal(view_of_view, torch.arange(10, 20, dtype=torch.float32))
    del kept
    gc.collect()
    assert torch.equal(view_of_view, torch.arange(10, 20, dtype=torch.float32))


def test_saving_over_the_file_the_tensors_are_mapped_from(tmp_path):
    path = tmp_path / "same.safetensors"
    save_file({"w": torch.arange(6, dtype=torch.float32)}, path)
    loaded = load_file(path)
    loaded["w"] *= 2
    save_file(loaded, path)
    assert torch.equal(load_file(path)["w"], torch.arange(6, dtype=torch.float32) * 2)


def test_load_from_bytes_copies_into_writable_tensors():
    data = save({"x": torch.arange(5, dtype=torch.int32)})
    for source in (data, bytearray(data), memoryview(data)):
        loaded = load(source)["x"]
        loaded[0] = 99
        assert torch.equal(load(data)["x"], torch.arange(5, dtype=torch.int32))
    with pytest.raises(TypeError):
        load("not bytes")
    with pytest.raises(SafetensorError):
        load(b"\x01")


def test_files_cross_the_c_api_both_ways(tmp_path):
    path = tmp_path / "c.safetensors"
    tensors = {"w": torch.randn(3, 4), "i": torch.arange(5, dtype=torch.int64)}
    save_file(tensors, path, metadata={"from": "python"})
    stfile = ST.File.new_from_path(str(path))
    assert stfile.get_n_tensors() == 2
    assert stfile.get_metadata_value("from") == "python"
    w = stfile.get_tensor("w")
    assert w.get_dtype() == ST.DType.F32 and list(w.get_shape()) == [3, 4]
    assert bytes(w.get_bytes().get_data()) == tensors["w"].numpy().tobytes()

    made = ST.File.new()
    made.set_tensor("c", ST.Tensor.new(ST.DType.I16, [2], GLib.Bytes.new(b"\x01\x00\xff\xff")))
    made.set_metadata_value("from", "C")
    made.save_to_path(str(tmp_path / "from_c.safetensors"), ST.SaveFlags.NONE, None)
    loaded = load_file(tmp_path / "from_c.safetensors")
    assert torch.equal(loaded["c"], torch.tensor([1, -1], dtype=torch.int16))


class TiedModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 4)
        self.hidden = torch.nn.Linear(4, 4)
        self.lm_head = torch.nn.Linear(4, 10, bias=False)
        self.lm_head.weight = self.embed.weight


def test_save_model_stores_tied_weights_once_and_load_model_restores_them(tmp_path):
    path = tmp_path / "model.safetensors"
    torch.manual_seed(0)
    model = TiedModel()
    with pytest.raises(RuntimeError, match="share memory"):
        save_file(model.state_dict(), path)
    save_model(model, path, metadata={"format": "pt"})
    with safe_open(path, "pt") as f:
        assert "embed.weight" in f.keys() and "lm_head.weight" not in f.keys()
        assert f.metadata() == {"format": "pt", "lm_head.weight": "embed.weight"}

    fresh = TiedModel()
    assert not torch.equal(fresh.embed.weight, model.embed.weight)
    missing, unexpected = load_model(fresh, path)
    assert (missing, unexpected) == (set(), [])
    for name, tensor in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], tensor), name
    assert fresh.lm_head.weight.data_ptr() == fresh.embed.weight.data_ptr()


def test_save_model_keeps_user_metadata_keys(tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(TiedModel(), path, metadata={"lm_head.weight": "mine"})
    with safe_open(path, "pt") as f:
        assert f.metadata() == {"lm_head.weight": "mine"}


def test_load_model_reports_missing_and_unexpected_names(tmp_path):
    path = tmp_path / "partial.safetensors"
    save_file({"hidden.weight": torch.zeros(4, 4), "extra": torch.zeros(1)}, path)
    with pytest.raises(RuntimeError) as info:
        load_model(TiedModel(), path)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for TiedModel:")
    assert 'Missing key(s) in state_dict: "embed.weight", "hidden.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra"' in message
    model = TiedModel()
    missing, unexpected = load_model(model, path, strict=False)
    # As Hugging Face's: the missing names as a set, the unexpected ones as a list.
    assert missing == {"embed.weight", "hidden.bias"}
    assert unexpected == ["extra"]
    assert torch.equal(model.hidden.weight, torch.zeros(4, 4))


def test_save_model_makes_tensors_contiguous_unless_told_not_to(tmp_path):
    class Transposed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("t", torch.arange(6.0).reshape(2, 3).t())

    path = tmp_path / "t.safetensors"
    save_model(Transposed(), path)
    assert torch.equal(load_file(path)["t"], torch.arange(6.0).reshape(2, 3).t())
    with pytest.raises(ValueError, match="force_contiguous=True"):
        save_model(Transposed(), path, force_contiguous=False)


def test_save_model_refuses_aliases_when_no_name_covers_the_storage(tmp_path):
    class Overlapping(torch.nn.Module):
        def __init__(self):
            super().__init__()
            base = torch.zeros(10)
            self.register_buffer("a", base[:6])
            self.register_buffer("b", base[4:])

    with pytest.raises(RuntimeError, match="None is covering the entire storage"):
        save_model(Overlapping(), tmp_path / "o.safetensors")


def test_threads_load_and_save_concurrently(tmp_path):
    errors = []

    def work(index):
        try:
            tensors = {f"t{k}": torch.full((64, 64), float(index * 100 + k)) for k in range(20)}
            path = tmp_path / f"thread{index}.safetensors"
            for _ in range(5):
                save_file(tensors, path)
                loaded = load_file(path)
                for name, tensor in tensors.items():
                    assert torch.equal(loaded[name], tensor)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_sharded_save_and_load(tmp_path):
    tensors = {f"layer{i}.weight": torch.full((256,), float(i)) for i in range(10)}   # 1 KiB each
    path = tmp_path / "model.safetensors"
    save_file(tensors, path, metadata={"format": "pt"}, max_shard_size=3000)
    index_path = tmp_path / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    assert index["metadata"]["total_size"] in (10240, "10240")
    shards = sorted(set(index["weight_map"].values()))
    assert shards == [f"model-{k:05d}-of-00005.safetensors" for k in range(1, 6)]   # two per shard
    assert not path.exists()
    loaded = load_file(index_path)
    assert set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        assert torch.equal(loaded[name], tensor)

    save_file(tensors, tmp_path / "small.safetensors", max_shard_size="5GB")
    assert not (tmp_path / "small.safetensors.index.json").exists()
    assert set(load_file(tmp_path / "small.safetensors")) == set(tensors)

    with pytest.raises(ValueError):
        save_file(tensors, tmp_path / "bad.safetensors", max_shard_size="five gigs")
    with pytest.raises(ValueError):
        save_file(tensors, tmp_path / "bad.safetensors", max_shard_size=0)


def test_sharded_save_model_and_load_model(tmp_path):
    torch.manual_seed(1)
    model = TiedModel()
    save_model(model, tmp_path / "model.safetensors", max_shard_size=100)
    index_path = tmp_path / "model.safetensors.index.json"
    assert index_path.exists()
    fresh = TiedModel()
    assert load_model(fresh, index_path) == (set(), [])
    for name, tensor in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], tensor), name


def test_module_exports_hugging_faces_names():
    for name in ("load_file", "load", "save_file", "save", "load_model", "save_model", "safe_open",
                 "SafetensorError"):
        assert hasattr(st_torch, name), name
    assert issubclass(SafetensorError, Exception)


def test_io_errors_become_the_matching_oserror(tmp_path):
    with pytest.raises(IsADirectoryError):
        load_file(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        save_file({"x": torch.zeros(1)}, tmp_path / "no" / "such" / "dir.safetensors")
    assert info.value.gerror.domain == "g-io-error-quark"


def test_saving_reads_tensor_memory_in_place():
    tensors = {"w": torch.randn(64, 64), "b": torch.arange(10), "empty": torch.zeros(0)}
    stfile = st_torch._prepare(tensors, None)
    for name in ("w", "b"):
        assert stfile.get_tensor(name).get_data_address() == tensors[name].data_ptr()
    # The library holds the tensors through the owner: dropping ours leaves its bytes valid.
    expected = tensors["w"].clone()
    del tensors
    gc.collect()
    assert bytes(stfile.get_tensor("w").get_bytes().get_data()) == expected.numpy().tobytes()


def test_loaded_tensors_are_slices_of_the_file_mapping(tmp_path):
    path = tmp_path / "map.safetensors"
    save_file({"a": torch.ones(3), "b": torch.zeros(2, 2, dtype=torch.float64)}, path)
    stfile = ST.File.new_from_path(str(path))
    begins = {name: stfile.get_tensor_offsets(name)[1] for name in ("a", "b")}
    # Each tensor sits at its data offset in one buffer: the distance between two is that of
    # their offsets in the file.
    loaded = load_file(path)
    assert loaded["a"].data_ptr() - loaded["b"].data_ptr() == begins["a"] - begins["b"]
    with safe_open(path, "pt") as f:
        assert f.get_tensor("a").data_ptr() - f.get_tensor("b").data_ptr() == begins["a"] - begins["b"]


def test_dtypes_torch_lacks_raise_an_error_naming_them():
    import numpy as np
    import safetensors_glib.numpy as st_numpy
    from conftest import FIXTURES_DIR

    data = st_numpy.save({"u": np.arange(3, dtype=np.uint16)})
    if not hasattr(torch, "uint16"):
        with pytest.raises(SafetensorError, match="U16"):
            load(data)
    else:
        # A torch that has uint16 loads it, values and all.
        loaded = load(data)["u"]
        assert loaded.dtype == torch.uint16 and loaded.to(torch.int32).tolist() == [0, 1, 2]
    all_dtypes = FIXTURES_DIR / "valid" / "all_dtypes.safetensors"
    with pytest.raises(SafetensorError):
        load_file(all_dtypes)
    with safe_open(all_dtypes, framework="pt") as f:
        assert f.get_tensor("t_f32").dtype == torch.float32
        assert f.get_tensor("t_bf16").dtype == torch.bfloat16
        for name, dtype in (("t_f4", "F4"), ("t_f6_e2m3", "F6_E2M3"), ("t_f8_e8m0", "F8_E8M0")):
            with pytest.raises(SafetensorError, match=dtype):
                f.get_tensor(name)
        if not hasattr(torch, "float8_e4m3fn"):
            with pytest.raises(SafetensorError, match="F8_E4M3"):
                f.get_tensor("t_f8_e4m3")
        else:
            # A torch that has float8 loads the fixture's bytes as they are (the manifest's sha256).
            import hashlib
            import json
            manifest = json.loads((FIXTURES_DIR / "manifest.json").read_text())
            expected = manifest["valid"]["all_dtypes"]["tensors"]["t_f8_e4m3"]["sha256"]
            tensor = f.get_tensor("t_f8_e4m3")
            assert tensor.dtype == torch.float8_e4m3fn
            assert hashlib.sha256(tensor.view(torch.uint8).numpy().tobytes()).hexdigest() == expected


def test_names_and_metadata_the_format_cannot_hold_are_refused():
    with pytest.raises(SafetensorError, match="__metadata__"):
        save({"__metadata__": torch.zeros(1)})
    with pytest.raises(ValueError, match="NUL"):
        save({"a\0b": torch.zeros(1)})
    with pytest.raises(ValueError, match="NUL"):
        save({"a": torch.zeros(1)}, metadata={"k\0": "v"})
    with pytest.raises(ValueError):
        save({"a\udc80": torch.zeros(1)})
    assert list(load(save({"": torch.zeros(1), "é ü 🙂": torch.ones(1)}))) == ["", "é ü 🙂"]


def write_mixed(path):
    """A file written by hand (not by our writer): in data order "w" (2x3 F32 0..5), "s" (F32
    scalar 6), "v" (4 F32 7..10), "e" (empty 0x3 F32), "i" (2 I64 11, 12), "r0".."r8" (nine 2-element
    F32 rows, 13..30: a run of equal shapes), "t" (1x2 F32 31, 32)."""
    import struct

    header = {}
    data = b""
    tensors = [("w", "F32", [2, 3], range(0, 6)), ("s", "F32", [], [6]), ("v", "F32", [4], range(7, 11)),
               ("e", "F32", [0, 3], []), ("i", "I64", [2], [11, 12])]
    tensors += [(f"r{k}", "F32", [2], [13 + 2 * k, 14 + 2 * k]) for k in range(9)]
    tensors += [("t", "F32", [1, 2], [31, 32])]
    for name, dtype, shape, values in tensors:
        code = "<%dq" if dtype == "I64" else "<%df"
        chunk = struct.pack(code % len(values), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(chunk)]}
        data += chunk
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)
    return path


def test_tensors_of_a_mixed_file_are_independent_tensors_over_the_mapping(tmp_path):
    """Tensors of several shapes and dtypes stored end to end: each is a contiguous tensor with
    the file's shape and values at its place in the one mapping, and none is an autograd view of
    a hidden base (Hugging Face's are not either): each has its own version counter, and an
    in-place change to one touches no other."""
    loaded = load_file(write_mixed(tmp_path / "mixed.safetensors"))
    expected = {"w": torch.arange(0, 6, dtype=torch.float32).reshape(2, 3), "s": torch.tensor(6.0),
                "v": torch.arange(7, 11, dtype=torch.float32), "e": torch.zeros(0, 3),
                "i": torch.tensor([11, 12])}
    expected.update({f"r{k}": torch.tensor([13.0 + 2 * k, 14.0 + 2 * k]) for k in range(9)})
    expected["t"] = torch.tensor([[31.0, 32.0]])
    assert list(loaded) == list(expected)
    for name, tensor in loaded.items():
        assert_same(tensor, expected[name])
        assert tensor.is_contiguous() and tensor._base is None and not tensor._is_view(), name
    # One mapping: "v" starts 28 bytes after "w", "r8" 32 bytes after "r4", "t" right after "r8".
    assert loaded["v"].data_ptr() - loaded["w"].data_ptr() == 28
    assert loaded["r8"].data_ptr() - loaded["r4"].data_ptr() == 32
    assert loaded["t"].data_ptr() - loaded["r8"].data_ptr() == 8
    loaded["v"].mul_(2)
    assert loaded["v"]._version == 1
    assert [loaded[name]._version for name in ("w", "s", "r0", "t")] == [0, 0, 0, 0]
    assert loaded["v"].tolist() == [14.0, 16.0, 18.0, 20.0]
    assert loaded["s"].item() == 6.0 and loaded["r0"].tolist() == [13.0, 14.0]
    last = loaded.pop("t")
    del loaded
    gc.collect()
    assert last.tolist() == [[31.0, 32.0]]
