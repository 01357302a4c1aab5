# test_st_tool_reshard.py: st-tool reshard, consolidate and split, through the command line
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# The expected tensors are numpy arrays built here; the per-rank inputs are written here byte by byte in the
# layout torch.distributed.checkpoint writes with Hugging Face storage (torch 2.8, _hf_utils.py and
# hf_storage.py): shard-RRRRR-model-FFFFF-of-NNNNN.safetensors holding slices under the logical names with
# their own shapes, and __metadata__ "DCP_SHARDING_INFO" = json.dumps({name: {"saved_offsets": [...]}}).
# Outputs are read back with the small reader below, never with the library under test.

import json
import os
import pathlib
import struct
import subprocess
import sys

import numpy as np
import pytest

TOOL = os.environ.get("ST_TOOL") or str(pathlib.Path(__file__).resolve().parents[2] / "_build" / "tools" / "st-tool")

# Bits per element of every dtype of the format.
BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
        "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
        "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64}


def run(*args, check=None):
    result = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True)
    assert result.returncode >= 0, f"st-tool {args} died of signal {-result.returncode}: {result.stderr}"
    if check is not None:
        assert result.returncode == check, (
            f"st-tool {args}: exit {result.returncode}, expected {check}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def make_safetensors(tensors, metadata=None):
    """A safetensors file: tensors is a list of (name, dtype, shape, data bytes), stored in that order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors)


def read_safetensors(path):
    """{name: (dtype, shape, bytes)} and the metadata of a file, by the format's definition."""
    raw = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", None)
    data = raw[8 + n:]
    assert sum(e["data_offsets"][1] - e["data_offsets"][0] for e in header.values()) == len(data)
    return {name: (e["dtype"], e["shape"], data[e["data_offsets"][0]:e["data_offsets"][1]])
            for name, e in header.items()}, metadata


def read_checkpoint(directory):
    """Every tensor of a standard checkpoint in @directory: model.safetensors, or the index and its shards."""
    directory = pathlib.Path(directory)
    index = directory / "model.safetensors.index.json"
    if not index.exists():
        return read_safetensors(directory / "model.safetensors")[0]
    weight_map = json.loads(index.read_text())["weight_map"]
    tensors = {}
    for shard in sorted(set(weight_map.values())):
        held, _ = read_safetensors(directory / shard)
        assert sorted(held) == sorted(name for name, s in weight_map.items() if s == shard)
        tensors.update(held)
    return tensors


def rank_file(directory, rank, slices, metadata_extra=None):
    """Writes torch's per-rank file for @rank (from 1): @slices is [(name, dtype, logical array, offsets)]
    where the array is the slice's elements (as raw unsigned integers of the dtype's width)."""
    info = {name: {"saved_offsets": list(offsets)} for name, _dtype, _array, offsets in slices}
    metadata = {"DCP_SHARDING_INFO": json.dumps(info), "DCP_VERSION": "1.0", "format": "pt"}
    metadata.update(metadata_extra or {})
    path = pathlib.Path(directory) / f"shard-{rank:05d}-model-00001-of-00001.safetensors"
    path.write_bytes(make_safetensors([(name, dtype, array.shape, array.tobytes())
                                       for name, dtype, array, _ in slices], metadata))
    return path


def raw_array(dtype, shape, seed):
    """A tensor of @dtype as its raw little-endian elements: unsigned integers of its width (bytes for the
    8-bit and wider dtypes)."""
    rng = np.random.default_rng(seed)
    width = {8: "<u1", 16: "<u2", 32: "<u4", 64: "<u8"}[max(BITS[dtype], 8)]
    return rng.integers(0, 2 ** (8 * np.dtype(width).itemsize) - 1, size=shape, dtype=np.dtype(width))


def split_along(array, dim, sizes):
    """Slices of @array along @dim of the given sizes, with their offsets."""
    out, at = [], 0
    for size in sizes:
        index = [slice(None)] * array.ndim
        index[dim] = slice(at, at + size)
        offsets = [0] * array.ndim
        offsets[dim] = at
        out.append((np.ascontiguousarray(array[tuple(index)]), offsets))
        at += size
    return out


def consolidate(src, out, *options, check=0):
    return run("consolidate", src, "-o", out, *options, check=check)


# consolidate

def test_consolidate_uneven_slices_along_the_first_dimension(tmp_path):
    src = tmp_path / "ranks"
    src.mkdir()
    weight = np.arange(21, dtype="<f4").reshape(7, 3) * 0.5
    for rank, (part, offsets) in enumerate(split_along(weight, 0, [3, 2, 2]), start=1):
        rank_file(src, rank, [("weight", "F32", part, offsets)])
    result = consolidate(src, tmp_path / "out")
    assert result.stdout.strip() == str(tmp_path / "out" / "model.safetensors")
    tensors, metadata = read_safetensors(tmp_path / "out" / "model.safetensors")
    assert tensors == {"weight": ("F32", [7, 3], weight.tobytes())}
    assert metadata == {"format": "pt"}   # torch's sharding keys are dropped, the rest kept


def test_consolidate_slices_along_the_second_and_third_dimensions(tmp_path):
    src = tmp_path / "ranks"
    src.mkdir()
    columns = np.arange(20, dtype="<i2").reshape(4, 5) - 7
    cube = np.arange(30, dtype="<f8").reshape(2, 5, 3) / 3
    deep = np.arange(24, dtype="<i4").reshape(2, 3, 4)
    col_parts = split_along(columns, 1, [2, 3])
    cube_parts = split_along(cube, 1, [3, 2])
    deep_parts = split_along(deep, 2, [1, 3])
    for rank in (0, 1):
        rank_file(src, rank + 1, [("columns", "I16", *col_parts[rank]), ("cube", "F64", *cube_parts[rank]),
                                  ("deep", "I32", *deep_parts[rank])])
    consolidate(src, tmp_path / "out")
    tensors, _ = read_safetensors(tmp_path / "out" / "model.safetensors")
    assert tensors["columns"] == ("I16", [4, 5], columns.tobytes())
    assert tensors["cube"] == ("F64", [2, 5, 3], cube.tobytes())
    assert tensors["deep"] == ("I32", [2, 3, 4], deep.tobytes())


def test_consolidate_a_grid_of_slices_and_whole_tensors(tmp_path):
    """Slices along both dimensions at once (a 2 x 2 grid over four ranks), a tensor one rank holds
    whole, a scalar and an empty tensor."""
    src = tmp_path / "ranks"
    src.mkdir()
    grid = np.arange(35, dtype="<u4").reshape(5, 7)
    bias = np.arange(3, dtype="<f4")
    scalar = np.array(42, dtype="<i8")
    empty = np.zeros((0, 4), dtype="<f2")
    ranks = {1: [], 2: [], 3: [], 4: []}
    for r, (rows, cols) in enumerate([((0, 2), (0, 4)), ((0, 2), (4, 7)), ((2, 5), (0, 4)), ((2, 5), (4, 7))], 1):
        part = np.ascontiguousarray(grid[rows[0]:rows[1], cols[0]:cols[1]])
        ranks[r].append(("grid", "U32", part, [rows[0], cols[0]]))
    ranks[2].append(("bias", "F32", bias, [0]))
    ranks[3].append(("scalar", "I64", scalar, []))
    ranks[4].append(("empty", "F16", empty, [0, 0]))
    for r, slices in ranks.items():
        rank_file(src, r, slices)
    consolidate(src, tmp_path / "out")
    tensors, _ = read_safetensors(tmp_path / "out" / "model.safetensors")
    assert tensors == {"grid": ("U32", [5, 7], grid.tobytes()), "bias": ("F32", [3], bias.tobytes()),
                       "scalar": ("I64", [], scalar.tobytes()), "empty": ("F16", [0, 4], b"")}


@pytest.mark.parametrize("dtype", sorted(BITS))
def test_consolidate_every_dtype(tmp_path, dtype):
    """Every dtype as raw bytes (BF16 and the F8 types too): slices along dimension 0, and along
    dimension 1 where a row's slices are whole bytes."""
    src = tmp_path / "ranks"
    src.mkdir()
    bits = BITS[dtype]
    if bits >= 8:
        logical = raw_array(dtype, (6, 4), seed=bits)
        raw = logical.tobytes()
        by_rows = split_along(logical, 0, [4, 2])
        by_cols = split_along(logical, 1, [1, 3])
        for rank in (0, 1):
            rank_file(src, rank + 1, [("rows", dtype, *by_rows[rank]), ("cols", dtype, *by_cols[rank])])
        consolidate(src, tmp_path / "out")
        tensors, _ = read_safetensors(tmp_path / "out" / "model.safetensors")
        assert tensors == {"rows": (dtype, [6, 4], raw), "cols": (dtype, [6, 4], raw)}
    else:
        # Sub-byte dtypes: 8 elements a row are 4 or 6 whole bytes; rows are sliced by byte ranges.
        row_bytes = 8 * bits // 8
        raw = bytes(np.random.default_rng(bits).integers(0, 255, size=6 * row_bytes, dtype=np.uint8))
        parts = [(raw[:4 * row_bytes], [4, 8], [0, 0]), (raw[4 * row_bytes:], [2, 8], [4, 0])]
        for rank, (data, shape, offsets) in enumerate(parts, start=1):
            info = json.dumps({"packed": {"saved_offsets": offsets}})
            (src / f"shard-{rank:05d}-model-00001-of-00001.safetensors").write_bytes(
                make_safetensors([("packed", dtype, shape, data)], {"DCP_SHARDING_INFO": info}))
        consolidate(src, tmp_path / "out")
        tensors, _ = read_safetensors(tmp_path / "out" / "model.safetensors")
        assert tensors == {"packed": (dtype, [6, 8], raw)}


def test_consolidate_into_shards(tmp_path):
    src = tmp_path / "ranks"
    src.mkdir()
    arrays = {f"layer{i}.weight": np.arange(64, dtype="<f4").reshape(8, 8) + i for i in range(5)}
    for rank in (0, 1):
        rank_file(src, rank + 1, [(name, "F32", *split_along(array, 1, [5, 3])[rank])
                                  for name, array in arrays.items()])
    result = consolidate(src, tmp_path / "out", "--max-shard-size", "600")
    index = json.loads((tmp_path / "out" / "model.safetensors.index.json").read_text())
    assert index["metadata"]["total_size"] == 5 * 256
    assert len(set(index["weight_map"].values())) == 3          # 256 bytes a tensor, 600 a shard: 2 + 2 + 1
    assert str(tmp_path / "out" / "model.safetensors.index.json") in result.stdout
    tensors = read_checkpoint(tmp_path / "out")
    assert tensors == {name: ("F32", [8, 8], array.tobytes()) for name, array in arrays.items()}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["model.safetensors.index.json", *set(index["weight_map"].values())])   # nothing else left


def test_consolidate_into_shards_removes_a_dead_runs_staging_file(tmp_path):
    src = tmp_path / "ranks"
    src.mkdir()
    arrays = {f"t{i}": np.arange(16, dtype="<i4") + i for i in range(3)}
    rank_file(src, 1, [(name, "I32", array, [0]) for name, array in arrays.items()])
    out = tmp_path / "out"
    out.mkdir()
    # A pid no process has (above the kernel's largest, 2^22), and a file that is someone else's.
    (out / ".model.consolidating-99999999.safetensors").write_bytes(b"left by a killed run")
    (out / ".other.consolidating-99999999.safetensors").write_bytes(b"not ours")
    consolidate(src, out, "--max-shard-size", "100")
    index = json.loads((out / "model.safetensors.index.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".other.consolidating-99999999.safetensors", "model.safetensors.index.json",
         *set(index["weight_map"].values())])
    assert read_checkpoint(out) == {name: ("I32", [16], a.tobytes()) for name, a in arrays.items()}


def test_a_failed_write_leaves_the_old_output_whole(tmp_path):
    """A file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes the new file fail to grow: the
    command fails, the old model.safetensors keeps its bytes and nothing is left beside it."""
    import resource
    import signal

    src = tmp_path / "ranks"
    src.mkdir()
    big = np.arange(64 * 1024, dtype="<f4")
    rank_file(src, 1, [("big", "F32", big, [0])])
    out = tmp_path / "out"
    out.mkdir()
    old = make_safetensors([("old", "U8", [4], b"keep")])
    (out / "model.safetensors").write_bytes(old)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    result = subprocess.run([TOOL, "consolidate", str(src), "-o", str(out)], capture_output=True, text=True,
                            preexec_fn=limit)
    assert result.returncode == 1, result.stderr
    assert (out / "model.safetensors").read_bytes() == old
    assert [p.name for p in out.iterdir()] == ["model.safetensors"]


# consolidate: what it refuses

def two_ranks(tmp_path, first, second):
    src = tmp_path / "ranks"
    src.mkdir()
    rank_file(src, 1, first)
    rank_file(src, 2, second)
    return src


def refused(tmp_path, src):
    result = consolidate(src, tmp_path / "out", check=1)
    assert not (tmp_path / "out" / "model.safetensors").exists()
    return result.stderr


def test_consolidate_refuses_overlapping_slices(tmp_path):
    a = np.zeros((3, 2), dtype="<f4")
    src = two_ranks(tmp_path, [("w", "F32", a, [0, 0])], [("w", "F32", a, [2, 0])])
    message = refused(tmp_path, src)
    assert "“w”" in message and "overlap" in message
    assert "shard-00001-model-00001-of-00001.safetensors" in message
    assert "shard-00002-model-00001-of-00001.safetensors" in message


def test_consolidate_refuses_a_missing_slice(tmp_path):
    a = np.zeros((2, 2), dtype="<f4")
    # Rows 0-1 and 3-4: the logical tensor is 5 rows, row 2 is in no file.
    src = two_ranks(tmp_path, [("w", "F32", a, [0, 0])], [("w", "F32", a, [3, 0])])
    message = refused(tmp_path, src)
    assert "“w”" in message and "missing" in message and "8 of its 10 elements" in message
    assert "shard-00001" in message and "shard-00002" in message


def test_consolidate_refuses_inconsistent_dtypes_and_ranks(tmp_path):
    src = two_ranks(tmp_path, [("w", "F32", np.zeros((2, 2), dtype="<f4"), [0, 0])],
                    [("w", "F16", np.zeros((2, 2), dtype="<f2"), [2, 0])])
    message = refused(tmp_path, src)
    assert "“w”" in message and "F32" in message and "F16" in message and "shard-00002" in message

    other = tmp_path / "rank-mismatch"
    other.mkdir()
    src = two_ranks(other, [("w", "F32", np.zeros((2, 2), dtype="<f4"), [0, 0])],
                    [("w", "F32", np.zeros((2, 2, 1), dtype="<f4"), [2, 0, 0])])
    message = refused(other, src)
    assert "“w”" in message and "2 dimensions" in message and "shard-00002" in message


def test_consolidate_refuses_files_without_sharding_info(tmp_path):
    src = tmp_path / "ranks"
    src.mkdir()
    (src / "shard-00001-model-00001-of-00001.safetensors").write_bytes(
        make_safetensors([("w", "F32", [1], b"\0" * 4)], {"format": "pt"}))
    message = refused(tmp_path, src)
    assert "DCP_SHARDING_INFO" in message and "shard-00001-model-00001-of-00001.safetensors" in message

    offsets = tmp_path / "offsets"
    offsets.mkdir()
    (offsets / "src").mkdir()
    (offsets / "src" / "shard-00001-model-00001-of-00001.safetensors").write_bytes(
        make_safetensors([("w", "F32", [1, 1], b"\0" * 4)], {"DCP_SHARDING_INFO": json.dumps({"w": {"saved_offsets": [0]}})}))
    message = refused(offsets, offsets / "src")
    assert "“w”" in message and "saved_offsets" in message


def test_consolidate_refuses_malformed_saved_offsets(tmp_path):
    for case, offsets in enumerate([[{"x": 1}, 0], [-1, 0], "0", None]):
        src = tmp_path / f"case{case}"
        src.mkdir(parents=True)
        info = json.dumps({"w": {"saved_offsets": offsets}} if offsets is not None else {"w": 3})
        (src / "shard-00001-model-00001-of-00001.safetensors").write_bytes(
            make_safetensors([("w", "F32", [1, 1], b"\0" * 4)], {"DCP_SHARDING_INFO": info}))
        result = consolidate(src, src / "out", check=1)
        assert "“w”" in result.stderr and "saved_offsets" in result.stderr and "CRITICAL" not in result.stderr
        assert not (src / "out").exists()


def test_consolidate_refuses_sub_byte_slices_inside_a_byte(tmp_path):
    # F4, 3 columns: the slice of columns 1-2 of each row starts half way into a byte.
    src = tmp_path / "ranks"
    src.mkdir()
    for rank, (shape, offsets) in enumerate([([2, 1], [0, 0]), ([2, 2], [0, 1])], start=1):
        info = json.dumps({"q": {"saved_offsets": offsets}})
        (src / f"shard-{rank:05d}-model-00001-of-00001.safetensors").write_bytes(
            make_safetensors([("q", "F4", shape, b"\x11" * (shape[0] * shape[1] // 2))], {"DCP_SHARDING_INFO": info}))
    message = refused(tmp_path, src)
    assert "“q”" in message and "inside a byte" in message


def test_consolidate_refuses_a_folder_without_per_rank_files(tmp_path):
    (tmp_path / "empty").mkdir()
    message = refused(tmp_path, tmp_path / "empty")
    assert "no per-rank files" in message


# split, and back

def test_split_writes_torchs_layout(tmp_path):
    weight = np.arange(70, dtype="<f4").reshape(7, 10)
    columns = np.arange(12, dtype="<i8").reshape(3, 4)
    bias = np.arange(2, dtype="<f2")
    scalar = np.array(1.5, dtype="<f8")
    src = tmp_path / "model.safetensors"
    src.write_bytes(make_safetensors([("weight", "F32", [7, 10], weight.tobytes()),
                                      ("columns", "I64", [3, 4], columns.tobytes()),
                                      ("bias", "F16", [2], bias.tobytes()),
                                      ("scalar", "F64", [], scalar.tobytes())], {"format": "pt", "note": "x"}))
    out = tmp_path / "ranks"
    run("split", src, "--ranks", "3", "--tensor-dim", "columns=1", "--tensor-dim", "bias=none", "-o", out, check=0)
    assert sorted(p.name for p in out.iterdir()) == [f"shard-0000{r}-model-00001-of-00001.safetensors" for r in (1, 2, 3)]
    expected_rows = split_along(weight, 0, [3, 2, 2])
    expected_cols = split_along(columns, 1, [2, 1, 1])
    for rank in (1, 2, 3):
        tensors, metadata = read_safetensors(out / f"shard-0000{rank}-model-00001-of-00001.safetensors")
        info = json.loads(metadata.pop("DCP_SHARDING_INFO"))
        assert metadata == {"DCP_VERSION": "1.0", "format": "pt", "note": "x"}
        rows, row_offsets = expected_rows[rank - 1]
        cols, col_offsets = expected_cols[rank - 1]
        assert tensors["weight"] == ("F32", list(rows.shape), rows.tobytes())
        assert tensors["columns"] == ("I64", list(cols.shape), cols.tobytes())
        assert info["weight"] == {"saved_offsets": row_offsets}
        assert info["columns"] == {"saved_offsets": col_offsets}
        if rank == 1:
            assert tensors["bias"] == ("F16", [2], bias.tobytes()) and info["bias"] == {"saved_offsets": [0]}
            assert tensors["scalar"] == ("F64", [], scalar.tobytes()) and info["scalar"] == {"saved_offsets": []}
        else:
            assert "bias" not in tensors and "scalar" not in tensors
        assert sorted(info) == sorted(tensors)

    consolidate(out, tmp_path / "back")
    tensors, _ = read_safetensors(tmp_path / "back" / "model.safetensors")
    assert tensors == {"weight": ("F32", [7, 10], weight.tobytes()), "columns": ("I64", [3, 4], columns.tobytes()),
                       "bias": ("F16", [2], bias.tobytes()), "scalar": ("F64", [], scalar.tobytes())}


def test_split_a_sharded_checkpoint_along_the_second_dimension_and_back(tmp_path):
    arrays = {f"h.{i}": raw_array("BF16", (4, 9), seed=i) for i in range(4)}
    src = tmp_path / "standard"
    src.mkdir()
    for shard in (1, 2):
        names = [f"h.{i}" for i in range(4) if i % 2 == shard - 1]
        (src / f"model-0000{shard}-of-00002.safetensors").write_bytes(
            make_safetensors([(n, "BF16", [4, 9], arrays[n].tobytes()) for n in names], {"format": "pt"}))
    (src / "model.safetensors.index.json").write_text(json.dumps({
        "metadata": {"total_size": 4 * 72},
        "weight_map": {f"h.{i}": f"model-0000{i % 2 + 1}-of-00002.safetensors" for i in range(4)}}))
    run("split", src, "--ranks", "4", "--dim", "1", "-o", tmp_path / "ranks", check=0)
    for rank in range(1, 5):
        tensors, metadata = read_safetensors(tmp_path / "ranks" / f"shard-0000{rank}-model-00001-of-00001.safetensors")
        part, offsets = split_along(arrays["h.0"], 1, [3, 2, 2, 2])[rank - 1]
        assert tensors["h.0"] == ("BF16", list(part.shape), part.tobytes())
        assert json.loads(metadata["DCP_SHARDING_INFO"])["h.0"] == {"saved_offsets": offsets}
    consolidate(tmp_path / "ranks", tmp_path / "back", "--max-shard-size", "100")
    assert read_checkpoint(tmp_path / "back") == {n: ("BF16", [4, 9], a.tobytes()) for n, a in arrays.items()}


def test_split_refuses_sub_byte_slices_inside_a_byte_before_writing(tmp_path):
    src = tmp_path / "model.safetensors"
    # F4 [2, 6]: three ranks along dimension 1 get 2 columns, one byte a row each; four ranks would cut
    # inside bytes.
    data = bytes(range(6))
    src.write_bytes(make_safetensors([("q", "F4", [2, 6], data)]))
    run("split", src, "--ranks", "3", "--dim", "1", "-o", tmp_path / "three", check=0)
    for rank in (1, 2, 3):
        tensors, _ = read_safetensors(tmp_path / "three" / f"shard-0000{rank}-model-00001-of-00001.safetensors")
        assert tensors["q"] == ("F4", [2, 2], bytes([rank - 1, rank + 2]))
    result = run("split", src, "--ranks", "4", "--dim", "1", "-o", tmp_path / "four", check=1)
    assert "“q”" in result.stderr and "inside a byte" in result.stderr
    assert not (tmp_path / "four").exists()


def test_split_refuses_an_unknown_tensor_and_bad_options(tmp_path):
    src = tmp_path / "model.safetensors"
    src.write_bytes(make_safetensors([("w", "F32", [2], b"\0" * 8)]))
    result = run("split", src, "--ranks", "2", "--tensor-dim", "nope=0", "-o", tmp_path / "out", check=1)
    assert "“nope”" in result.stderr
    run("split", src, "--ranks", "0", "-o", tmp_path / "out", check=2)
    run("split", src, "--ranks", "2", "--tensor-dim", "w", "-o", tmp_path / "out", check=2)
    run("split", src, "--ranks", "2", check=2)


# reshard

def standard_single(tmp_path):
    arrays = {f"block.{i}.weight": raw_array("F32", (16, 16), seed=i) for i in range(6)}
    arrays["embed"] = raw_array("F8_E4M3", (40, 8), seed=9)
    dtypes = {name: ("F8_E4M3" if name == "embed" else "F32") for name in arrays}
    src = tmp_path / "single.safetensors"
    src.write_bytes(make_safetensors([(n, dtypes[n], list(a.shape), a.tobytes()) for n, a in arrays.items()],
                                     {"format": "pt"}))
    return src, {n: (dtypes[n], list(a.shape), a.tobytes()) for n, a in arrays.items()}


def test_reshard_round_trip(tmp_path):
    src, expected = standard_single(tmp_path)
    result = run("reshard", src, "--max-shard-size", "2500", "-o", tmp_path / "small", check=0)
    index = json.loads((tmp_path / "small" / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) == 3          # 1024 bytes a block: 2 + 2 + (2 + embedding)
    assert index["metadata"]["total_size"] == 6 * 1024 + 320
    assert result.stdout.splitlines()[0] == str(tmp_path / "small" / "model.safetensors.index.json")
    assert read_checkpoint(tmp_path / "small") == expected

    run("reshard", tmp_path / "small", "--max-shard-size", "5000", "-o", tmp_path / "larger", check=0)
    assert len(set(json.loads((tmp_path / "larger" / "model.safetensors.index.json").read_text())
                   ["weight_map"].values())) == 2
    assert read_checkpoint(tmp_path / "larger") == expected

    run("reshard", tmp_path / "larger", "-o", tmp_path / "one", check=0)
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["model.safetensors"]
    tensors, metadata = read_safetensors(tmp_path / "one" / "model.safetensors")
    assert tensors == expected and metadata == {"format": "pt"}


def test_reshard_in_place_replaces_the_old_shards(tmp_path):
    src, expected = standard_single(tmp_path)
    folder = tmp_path / "ckpt"
    run("reshard", src, "--max-shard-size", "1100", "-o", folder, check=0)
    run("reshard", folder, "--max-shard-size", "3000", "-o", folder, check=0)
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["model.safetensors.index.json", *set(index["weight_map"].values())])
    assert read_checkpoint(folder) == expected


# Streaming: memory does not grow with the checkpoint

# ru_maxrss of a child counts the pages of the process that forked it (they are its own until exec), so the
# tool is started by a small Python without numpy, which reports the tool's peak.
PEAK_RSS = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_kib(*args):
    result = subprocess.run([sys.executable, "-I", "-S", "-c", PEAK_RSS, TOOL, *map(str, args)],
                            capture_output=True, text=True, check=True)
    status, peak = map(int, result.stdout.split()[-2:])
    assert status == 0, result.stderr
    return peak


def test_memory_stays_bounded_on_a_checkpoint_larger_than_the_bound(tmp_path):
    """A 192 MiB tensor sliced along dimension 1 over two ranks: consolidate (strided, one run per row and
    slice), split along dimension 1 again, and reshard (whole tensors, contiguous) each stay under 32 MiB
    of resident memory."""
    bound_kib = 32 * 1024
    rows, cols = 4096, 6144          # F64: 192 MiB
    src = tmp_path / "ranks"
    src.mkdir()
    for rank, (col_start, width) in enumerate([(0, 2048), (2048, 4096)], start=1):
        path = src / f"shard-{rank:05d}-model-00001-of-00001.safetensors"
        info = {"big": {"saved_offsets": [0, col_start]}}
        header = {"__metadata__": {"DCP_SHARDING_INFO": json.dumps(info)},
                  "big": {"dtype": "F64", "shape": [rows, width], "data_offsets": [0, rows * width * 8]}}
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text)
            for block in range(0, rows, 512):
                r = np.arange(block, block + 512, dtype="<f8")[:, None]
                c = np.arange(col_start, col_start + width, dtype="<f8")[None, :]
                f.write(np.ascontiguousarray(r * cols + c).tobytes())
    assert peak_rss_kib("consolidate", src, "-o", tmp_path / "one") < bound_kib
    # The consolidated tensor is element i * cols + j at (i, j): checked in blocks.
    with open(tmp_path / "one" / "model.safetensors", "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        assert json.loads(f.read(n))["big"] == {"dtype": "F64", "shape": [rows, cols], "data_offsets": [0, rows * cols * 8]}
        for block in range(0, rows, 1024):
            got = np.frombuffer(f.read(1024 * cols * 8), dtype="<f8")
            assert np.array_equal(got, np.arange(block * cols, (block + 1024) * cols, dtype="<f8"))
    for path in src.iterdir():
        path.unlink()

    assert peak_rss_kib("split", tmp_path / "one" / "model.safetensors", "--ranks", "3", "--dim", "1",
                        "-o", tmp_path / "split") < bound_kib
    tensors, _ = read_safetensors(tmp_path / "split" / "shard-00002-model-00001-of-00001.safetensors")
    dtype, shape, data = tensors["big"]
    assert shape == [rows, 2048]
    assert np.array_equal(np.frombuffer(data, dtype="<f8").reshape(rows, 2048)[rows - 1],
                          np.arange(2048, 4096, dtype="<f8") + (rows - 1) * cols)
    del tensors, data
    for path in (tmp_path / "split").iterdir():
        path.unlink()

    assert peak_rss_kib("reshard", tmp_path / "one", "--max-shard-size", "100MB", "-o", tmp_path / "one") < bound_kib


# With safetensors_glib.distributed (the dist branch): its per-rank save and st-tool agree both ways.

def _interop_rank(rank, world, port, folder, split_folder, queue):
    import datetime

    import torch
    import torch.distributed as dist
    from safetensors_glib import distributed

    try:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=60))
        w, c, b = _interop_tensors()
        rows = [4, 3]
        at = sum(rows[:rank])
        state = {"w": distributed.Part(w[at:at + rows[rank]].contiguous(), w.shape, dim=0, offset=at),
                 "c": distributed.Part(c[:, 4 * rank:4 * rank + 4].contiguous(), c.shape, dim=1, offset=4 * rank)}
        if rank == 0:
            state["b"] = b
        distributed.save(state, folder, layout="per-rank")
        got = distributed.load(split_folder)
        queue.put((rank, torch.equal(got["w"], w) and torch.equal(got["c"], c) and torch.equal(got["b"], b)))
        dist.destroy_process_group()
    except BaseException as e:  # reported to the test, which fails with it
        queue.put((rank, repr(e)))


def _interop_tensors():
    import torch

    return (torch.arange(70, dtype=torch.float32).reshape(7, 10), torch.arange(24, dtype=torch.int32).reshape(3, 8),
            torch.arange(5, dtype=torch.float16))


def test_agrees_with_safetensors_glib_distributed(tmp_path):
    """What safetensors_glib.distributed saves with layout="per-rank" (two ranks, slices along dimensions
    0 and 1, a whole tensor) consolidates into the full tensors; what split writes for three ranks, two
    ranks load whole with distributed.load."""
    pytest.importorskip("torch.distributed")
    try:
        from safetensors_glib import distributed  # noqa: F401
    except ImportError as e:
        pytest.skip(f"safetensors_glib.distributed is not there: {e}")
    import socket

    import torch.multiprocessing as mp

    w, c, b = _interop_tensors()
    full = tmp_path / "full.safetensors"
    full.write_bytes(make_safetensors([("w", "F32", [7, 10], w.numpy().tobytes()),
                                       ("c", "I32", [3, 8], c.numpy().tobytes()),
                                       ("b", "F16", [5], b.numpy().tobytes())]))
    run("split", full, "--ranks", "3", "--tensor-dim", "c=1", "-o", tmp_path / "split", check=0)
    (tmp_path / "ranks").mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = mp.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_interop_rank,
                                 args=(rank, 2, port, str(tmp_path / "ranks"), str(tmp_path / "split"), queue))
                 for rank in range(2)]
    for process in processes:
        process.start()
    try:
        results = dict(queue.get(timeout=150) for _ in processes)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    assert results == {0: True, 1: True}

    consolidate(tmp_path / "ranks", tmp_path / "out")
    tensors, _ = read_safetensors(tmp_path / "out" / "model.safetensors")
    assert tensors == {"w": ("F32", [7, 10], w.numpy().tobytes()), "c": ("I32", [3, 8], c.numpy().tobytes()),
                       "b": ("F16", [5], b.numpy().tobytes())}
