# test_st_tool.py: st-tool, every subcommand, through its command line
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# Run by meson test (suite 'tool') with Debian's /usr/bin/python3 and the environment of tests/meson.build:
# ST_TOOL is the built st-tool, ST_FIXTURES_DIR the reference files.

import json
import math
import os
import pathlib
import pty
import re
import shutil
import struct
import subprocess
import threading

import pytest

TOOL = os.environ.get("ST_TOOL") or str(pathlib.Path(__file__).resolve().parents[2] / "_build" / "tools" / "st-tool")
FIXTURES = pathlib.Path(os.environ.get("ST_FIXTURES_DIR") or pathlib.Path(__file__).resolve().parents[1] / "fixtures")
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
VALID = sorted(MANIFEST["valid"])
INVALID = sorted(MANIFEST["invalid"])
CANONICAL = sorted(name for name, entry in MANIFEST["valid"].items() if entry.get("canonical"))
COMMANDS = ["info", "list", "validate", "dump", "diff", "metadata", "shard", "merge", "reshard", "consolidate", "split",
            "download"]


def run(*args, check=None, cwd=None):
    """Runs st-tool; asserts it did not crash; returns the CompletedProcess."""
    result = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert result.returncode >= 0, f"st-tool {args} died of signal {-result.returncode}: {result.stderr}"
    if check is not None:
        assert result.returncode == check, (
            f"st-tool {args}: exit {result.returncode}, expected {check}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def run_json(*args, check=0):
    result = run(*args, "--json", check=check)
    return json.loads(result.stdout)


def valid(name):
    return FIXTURES / "valid" / f"{name}.safetensors"


def invalid(name):
    return FIXTURES / MANIFEST["invalid"][name]["file"]


def canonical(name):
    return FIXTURES / MANIFEST["valid"][name]["canonical"]


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


def write(path, tensors, metadata=None):
    path.write_bytes(make_safetensors(tensors, metadata))
    return path


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


# The command line itself

def test_help_lists_every_command():
    result = run("--help", check=0)
    for command in COMMANDS + ["help"]:
        assert f"\n  {command} " in result.stdout
    assert run("-h", check=0).stdout == result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_each_command(command):
    result = run("help", command, check=0)
    assert f"st-tool {command}" in result.stdout
    assert "--help" in result.stdout
    assert run(command, "--help", check=0).stdout == result.stdout


def test_version():
    result = run("--version", check=0)
    assert result.stdout.startswith("st-tool 1.")


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["--frobnicate"],
    ["help", "frobnicate"],
    ["info"],
    ["info", "--no-such-option", "x"],
    ["list"],
    ["list", "a", "b"],
    ["validate"],
    ["dump", "a"],
    ["dump", "--limit", "-1", "a", "b"],
    ["dump", "--limit", "many", "a", "b"],
    ["diff", "a"],
    ["metadata"],
    ["metadata", "a", "--set", "novalue"],
    ["metadata", "a", "--set", "=value"],
    ["metadata", "a", "-o", "b"],
    ["shard", "a", "-o", "d"],
    ["shard", "a", "--max-shard-size", "5GB"],
    ["shard", "a", "--max-shard-size", "5Gb", "-o", "d"],
    ["shard", "a", "--max-shard-size", "lots", "-o", "d"],
    ["shard", "a", "--max-shard-size", "0", "-o", "d"],
    ["merge", "a"],
    ["merge", "-o", "x"],
])
def test_bad_command_lines_exit_2(args):
    result = run(*args, check=2)
    assert result.stderr.strip(), "a usage error explains itself"
    assert result.stdout == ""


# info

def test_info_human():
    result = run("info", valid("all_dtypes"), check=0)
    assert "Tensors:" in result.stdout and "22" in result.stdout
    assert "Parameters:" in result.stdout and "176" in result.stdout
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "DTYPE" in line)
    assert header.split() == ["DTYPE", "TENSORS", "PARAMETERS", "SIZE"]
    # aligned columns: the SIZE column ends at the same place on every dtype row
    rows = [line for line in lines if line.strip().split(" ")[0] in ("F32", "U64", "BOOL", "F8_E4M3")]
    assert len(rows) == 4 and len({len(row) for row in rows + [header]}) == 1
    assert "Metadata: none" in result.stdout


@pytest.mark.parametrize("name", VALID)
def test_info_json_matches_manifest(name):
    path = valid(name)
    info = run_json("info", path)
    tensors = MANIFEST["valid"][name]["tensors"]
    assert info["kind"] == "file"
    assert info["n_tensors"] == len(tensors)
    assert info["n_bytes"] == sum(t["data_offsets"][1] - t["data_offsets"][0] for t in tensors.values())
    assert info["n_parameters"] == sum(math.prod(t["shape"]) for t in tensors.values())
    raw = path.read_bytes()
    assert info["header_size"] == struct.unpack("<Q", raw[:8])[0]
    assert info["file_size"] == len(raw)
    assert info["metadata"] == MANIFEST["valid"][name]["metadata"]
    per_dtype = {}
    for t in tensors.values():
        per_dtype[t["dtype"]] = per_dtype.get(t["dtype"], 0) + 1
    assert {k: v["n_tensors"] for k, v in info["dtypes"].items()} == per_dtype


def test_info_several_files_and_a_bad_one():
    result = run("info", "--json", valid("metadata_one"), valid("scalars"), check=0)
    infos = json.loads(result.stdout)
    assert [i["path"] for i in infos] == [str(valid("metadata_one")), str(valid("scalars"))]
    assert infos[0]["metadata"] == {"name": "ok"} or infos[0]["metadata"] == MANIFEST["valid"]["metadata_one"]["metadata"]

    result = run("info", valid("scalars"), invalid("offsets_hole"), check=1)
    assert "Tensors:" in result.stdout
    assert str(invalid("offsets_hole")) in result.stderr


# list

@pytest.mark.parametrize("name", VALID)
def test_list_json_matches_manifest(name):
    listed = run_json("list", valid(name))
    expected = MANIFEST["valid"][name]["tensors"]
    assert sorted(t["name"] for t in listed) == sorted(expected)
    for t in listed:
        assert t["dtype"] == expected[t["name"]]["dtype"]
        assert t["shape"] == expected[t["name"]]["shape"]
        assert t["data_offsets"] == expected[t["name"]]["data_offsets"]
        assert t["n_bytes"] == t["data_offsets"][1] - t["data_offsets"][0]
        assert "shard" not in t
    # in the order of the data
    assert [t["data_offsets"][0] for t in listed] == sorted(t["data_offsets"][0] for t in listed)


def test_list_human_and_sorted():
    result = run("list", valid("mixed_dtype_order"), check=0)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "DTYPE", "SHAPE", "BEGIN", "END", "SIZE"]
    assert len(lines) == 1 + len(MANIFEST["valid"]["mixed_dtype_order"]["tensors"])
    by_name = run("list", "--sort", valid("mixed_dtype_order"), check=0).stdout.splitlines()[1:]
    names = [line.split()[0] for line in by_name]
    assert names == sorted(names)
    assert run("list", valid("empty_file"), check=0).stdout == "(no tensors)\n"


# validate

@pytest.mark.parametrize("name", VALID)
def test_validate_valid(name):
    # The whole line: the tensor count and data size the manifest gives.
    tensors = MANIFEST["valid"][name]["tensors"]
    size = sum(t["data_offsets"][1] - t["data_offsets"][0] for t in tensors.values())
    result = run("validate", valid(name), check=0)
    match = re.fullmatch(rf"{re.escape(str(valid(name)))}: OK \((\d+) tensors?, ([^)]+)\)\n", result.stdout)
    assert match, result.stdout
    assert int(match.group(1)) == len(tensors)
    if size < 1000:
        assert match.group(2) == f"{size} byte{'' if size == 1 else 's'}"


def test_validate_invalid():
    # One test for all the invalid fixtures (it checks a status and the form of a line, not content of
    # its own per fixture): each is refused with one line naming the file and the problem.
    for name in INVALID:
        result = run("validate", invalid(name), check=1)
        lines = result.stdout.splitlines()
        assert len(lines) == 1, name
        assert lines[0].startswith(f"{invalid(name)}: "), name
        problem = lines[0][len(str(invalid(name))) + 2:]
        assert len(problem) > 10 and str(invalid(name)) not in problem, name


def test_validate_many_at_once_and_json(tmp_path):
    files = [valid("scalars"), invalid("offsets_overlap"), valid("hf_simple_i32"), tmp_path / "missing.safetensors"]
    result = run("validate", *files, check=1)
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert lines[0].endswith(")") and ": OK (" in lines[0]
    assert lines[1].startswith(f"{invalid('offsets_overlap')}: ") and "overlap" in lines[1]
    assert lines[3] == f"{tmp_path / 'missing.safetensors'}: no such file"

    quiet = run("validate", "--quiet", *files, check=1)
    assert quiet.stdout.splitlines() == [lines[1], lines[3]]
    assert run("validate", "-q", valid("scalars"), check=0).stdout == ""

    report = run_json("validate", *files, check=1)
    assert [r["valid"] for r in report] == [True, False, True, False]
    assert report[0]["n_tensors"] == len(MANIFEST["valid"]["scalars"]["tensors"])
    assert len(report[1]["problems"]) == 1


def test_validate_lfs_pointer_and_html(tmp_path):
    lfs = tmp_path / "model.safetensors"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\n"
                   "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
                   "size 12345\n")
    html = tmp_path / "page.safetensors"
    html.write_text("\n  <!DOCTYPE html>\n<html><head><title>404</title></head></html>\n")
    html2 = tmp_path / "page2.safetensors"
    html2.write_text("<html><body>Bad gateway</body></html>")
    result = run("validate", lfs, html, html2, check=1)
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert "Git LFS pointer" in lines[0] and "git lfs pull" in lines[0]
    assert "HTML page" in lines[1]
    assert "HTML page" in lines[2]
    # the other commands say so too
    assert "Git LFS pointer" in run("info", lfs, check=1).stderr
    assert "HTML page" in run("list", html, check=1).stderr


def test_validate_directory(tmp_path):
    shutil.copy(valid("scalars"), tmp_path / "model.safetensors")
    assert ": OK (" in run("validate", tmp_path, check=0).stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("validate", empty, check=1)
    assert "directory" in result.stdout


# Sharded checkpoints through the tool

def sharded(tmp_path, name="many_small", size="30KB"):
    out = tmp_path / "sharded"
    result = run("shard", valid(name), "--max-shard-size", size, "-o", out, check=0)
    return out, result


def test_shard_writes_the_transformers_layout(tmp_path):
    out, result = sharded(tmp_path)
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"model-0000{i}-of-00004.safetensors" for i in range(1, 5)] + ["model.safetensors.index.json"]
    assert result.stdout.splitlines() == [str(out / "model.safetensors.index.json")] + \
        [str(out / f"model-0000{i}-of-00004.safetensors") for i in range(1, 5)]
    text = (out / "model.safetensors.index.json").read_text()
    index = json.loads(text)
    assert text == json.dumps(index, indent=2, sort_keys=True) + "\n"
    tensors = MANIFEST["valid"]["many_small"]["tensors"]
    assert set(index["weight_map"]) == set(tensors)
    assert index["metadata"]["total_size"] == sum(t["data_offsets"][1] - t["data_offsets"][0] for t in tensors.values())
    for shard in set(index["weight_map"].values()):
        listed = run_json("list", out / shard)
        assert sum(t["n_bytes"] for t in listed) <= 30000
        assert {t["name"] for t in listed} == {n for n, s in index["weight_map"].items() if s == shard}


def test_shard_one_shard_is_a_plain_file(tmp_path):
    out = tmp_path / "one"
    result = run("shard", valid("scalars"), "--max-shard-size", "5GB", "-o", out, "--prefix", "weights", check=0)
    assert result.stdout == f"{out / 'weights.safetensors'}\n"
    assert sorted(p.name for p in out.iterdir()) == ["weights.safetensors"]
    assert (out / "weights.safetensors").read_bytes() == canonical("scalars").read_bytes()


@pytest.mark.parametrize("name", CANONICAL)
def test_shard_then_merge_gives_the_canonical_bytes(tmp_path, name):
    info = run_json("info", valid(name))
    size = max(info["n_bytes"] // 3, 1)
    out = tmp_path / "out"
    run("shard", valid(name), "--max-shard-size", size, "-o", out, check=0)
    index = out / "model.safetensors.index.json"
    merged = tmp_path / "merged.safetensors"
    if index.exists():
        assert ": OK (" in run("validate", index, check=0).stdout
        run("merge", index, "-o", merged, check=0)
    else:
        shutil.copy(out / "model.safetensors", merged)
    assert merged.read_bytes() == canonical(name).read_bytes()
    # and no temporary file is left beside the result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged.safetensors", "out"]


def test_index_commands(tmp_path):
    out, _ = sharded(tmp_path)
    index = out / "model.safetensors.index.json"
    info = run_json("info", index)
    assert info["kind"] == "index" and info["n_tensors"] == 3000 and len(info["shards"]) == 4
    assert info["metadata"]["total_size"] == str(info["n_bytes"])
    assert "sharded checkpoint, 4 shards" in run("info", out, check=0).stdout

    listed = run_json("list", index)
    assert len(listed) == 3000 and all(t["shard"].startswith("model-0000") for t in listed)
    assert run("list", out, check=0).stdout.splitlines()[0].split()[-1] == "SHARD"

    first = listed[0]["name"]
    assert run_json("dump", index, first) == run_json("dump", valid("many_small"), first)
    assert run("diff", valid("many_small"), index, check=0).stdout.startswith("The files hold the same 3000 tensors")
    assert run_json("metadata", index) == {"format": "pt", "total_size": str(info["n_bytes"])}
    result = run("metadata", index, "--set", "a=b", check=1)
    assert "sharded checkpoint" in result.stderr


def break_index(out, edit):
    path = out / "model.safetensors.index.json"
    index = json.loads(path.read_text())
    edit(index)
    path.write_text(json.dumps(index, indent=2))
    return path


def test_validate_catches_a_missing_shard_a_wrong_total_and_a_misplaced_tensor(tmp_path):
    out, _ = sharded(tmp_path)
    (out / "model-00002-of-00004.safetensors").unlink()

    def edit(index):
        index["metadata"]["total_size"] += 1
        moved = next(n for n, s in index["weight_map"].items() if s == "model-00003-of-00004.safetensors")
        index["weight_map"][moved] = "model-00004-of-00004.safetensors"

    path = break_index(out, edit)
    result = run("validate", path, check=1)
    lines = result.stdout.splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert any("model-00002-of-00004.safetensors" in line for line in lines)
    assert any("model-00003-of-00004.safetensors" in line and "another shard" in line for line in lines)
    assert any("model-00004-of-00004.safetensors" in line and "lacks" in line for line in lines)
    report = run_json("validate", path, check=1)
    assert report[0]["kind"] == "index" and not report[0]["valid"] and len(report[0]["problems"]) == 3
    assert run("merge", path, "-o", tmp_path / "merged.safetensors", check=1).stderr
    assert not (tmp_path / "merged.safetensors").exists()


def test_validate_catches_a_wrong_total_size(tmp_path):
    out, _ = sharded(tmp_path)
    path = break_index(out, lambda index: index["metadata"].update(total_size=1))
    result = run("validate", path, check=1)
    assert result.stdout.splitlines() == [f"{path}: the index states a total_size of 1 bytes, but its tensors hold 96000 bytes"]


def test_validate_shard_that_is_an_lfs_pointer(tmp_path):
    out, _ = sharded(tmp_path)
    (out / "model-00001-of-00004.safetensors").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n")
    result = run("validate", out, check=1)
    assert "model-00001-of-00004.safetensors" in result.stdout and "Git LFS pointer" in result.stdout


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"weight_map": {"a": "../../etc/passwd"}}', '{"metadata": {"total_size": -4}, "weight_map": {}}',
    '{"weight_map": {}, "x": ' + "[" * 1000000 + "]" * 1000000 + "}",
], ids=["not-json", "array", "path-traversal", "negative-total", "deep-nesting"])
def test_hostile_index(tmp_path, text):
    path = tmp_path / "model.safetensors.index.json"
    path.write_text(text)
    assert run("validate", path, check=1).stdout.startswith(f"{path}: ")
    assert run("info", path, check=1).stderr
    assert run("merge", path, "-o", tmp_path / "out.safetensors", check=1).stderr


def test_shard_reshards_a_checkpoint_and_removes_stale_files(tmp_path):
    out, _ = sharded(tmp_path)
    again = run("shard", out, "--max-shard-size", "50KB", "-o", out, check=0)
    assert len(again.stdout.splitlines()) == 3
    assert sorted(p.name for p in out.iterdir()) == [
        "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"]
    merged = tmp_path / "m.safetensors"
    run("merge", out, "-o", merged, check=0)
    assert merged.read_bytes() == canonical("many_small").read_bytes()


def test_merge_of_a_plain_file_is_refused(tmp_path):
    result = run("merge", valid("scalars"), "-o", tmp_path / "x.safetensors", check=1)
    assert "not a sharded checkpoint" in result.stderr


# dump

def special_file(tmp_path):
    inf, nan = float("inf"), float("nan")
    tensors = [
        ("f16", "F16", [5], struct.pack("<5e", 1.0, -2.5, inf, nan, 0.1)),
        ("bf16", "BF16", [3], bytes.fromhex("803f" "c0c0" "807f")),          # 1, -6, inf
        ("f32", "F32", [2, 2], f32(0.1, -3.0, 1e-30, 80.0)),
        ("f64", "F64", [2], struct.pack("<2d", 0.1, -1e300)),
        ("e4m3", "F8_E4M3", [5], bytes([0x7E, 0x01, 0x7F, 0x80, 0x38])),     # 448, 2^-9, nan, -0, 1
        ("e5m2", "F8_E5M2", [4], bytes([0x7B, 0x7C, 0x7D, 0xFC])),           # 57344, inf, nan, -inf
        ("e4m3fnuz", "F8_E4M3FNUZ", [3], bytes([0x7F, 0x80, 0x01])),         # 240, nan, 2^-10
        ("e5m2fnuz", "F8_E5M2FNUZ", [3], bytes([0x7F, 0x80, 0x01])),         # 57344, nan, 2^-17
        ("e8m0", "F8_E8M0", [4], bytes([0x7F, 0x80, 0x00, 0xFF])),           # 1, 2, 2^-127, nan
        ("f4", "F4", [4], bytes([0x71, 0xF9])),                              # 0.5, 6, -0.5, -6
        ("f6", "F6_E2M3", [4], bytes([1, 2, 3])),
        ("bool", "BOOL", [2], bytes([0, 1])),
        ("i8", "I8", [2], bytes([0xFF, 0x7F])),
        ("u16", "U16", [1], struct.pack("<H", 65535)),
        ("i64", "I64", [1], struct.pack("<q", -2**63)),
        ("u64", "U64", [2], struct.pack("<2Q", 2**64 - 1, 5)),
        ("c64", "C64", [1], f32(1.5, -2.0)),
        ("scalar", "I32", [], struct.pack("<i", -7)),
        ("big", "U8", [300], bytes(range(256)) + bytes(44)),
    ]
    return write(tmp_path / "special.safetensors", tensors)


EXPECTED_VALUES = {
    "f16": ["1", "-2.5", "inf", "nan", "0.1"],
    "bf16": ["1", "-6", "inf"],
    "f32": ["0.1", "-3", "1e-30", "80"],
    "f64": ["0.1", "-1e+300"],
    # the small floats print as the shortest text nearer to their value than to any other of their format
    "e4m3": ["448", "0.002", "nan", "-0", "1"],
    "e5m2": ["57344", "inf", "nan", "-inf"],
    "e4m3fnuz": ["240", "nan", "0.001"],
    "e5m2fnuz": ["57344", "nan", "8e-06"],
    "e8m0": ["1", "2", "6e-39", "nan"],
    "f4": ["0.5", "6", "-0.5", "-6"],
    "bool": ["false", "true"],
    "i8": ["-1", "127"],
    "u16": ["65535"],
    "i64": [str(-2**63)],
    "u64": [str(2**64 - 1), "5"],
    "c64": ["1.5-2j"],
    "scalar": ["-7"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_VALUES))
def test_dump_values(tmp_path, name):
    path = special_file(tmp_path)
    result = run("dump", path, name, check=0)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{name}: ")
    assert lines[1].split() == ["INDEX", "VALUE"]
    values = [line.rsplit(" ", 1)[-1] for line in lines[2:]]
    assert values == EXPECTED_VALUES[name]


EXACT_VALUES = {
    "e4m3": [448, 2**-9, "nan", -0.0, 1],
    "e5m2": [57344, "inf", "nan", "-inf"],
    "e4m3fnuz": [240, "nan", 2**-10],
    "e5m2fnuz": [57344, "nan", 2**-17],
    "e8m0": [1, 2, 2**-127, "nan"],
    "f4": [0.5, 6, -0.5, -6],
    "bf16": [1, -6, "inf"],
}


@pytest.mark.parametrize("name", sorted(EXACT_VALUES))
def test_dump_json_values_are_exact(tmp_path, name):
    values = run_json("dump", special_file(tmp_path), name)["values"]
    assert values == EXACT_VALUES[name]
    if name == "e4m3":
        assert math.copysign(1, values[3]) == -1


def test_dump_indexes_limit_and_json(tmp_path):
    path = special_file(tmp_path)
    lines = run("dump", path, "f32", check=0).stdout.splitlines()
    assert lines[0] == "f32: F32 [2, 2], 4 elements"
    assert [line.split("]")[0] + "]" for line in lines[2:]] == ["[0, 0]", "[0, 1]", "[1, 0]", "[1, 1]"]
    scalar = run("dump", path, "scalar", check=0).stdout.splitlines()
    assert scalar[0] == "scalar: I32 [], 1 element" and scalar[2].split() == ["[]", "-7"]

    big = run("dump", path, "big", check=0).stdout.splitlines()
    assert len(big) == 2 + 100 + 1 and big[-1].startswith("… 200 more values")
    assert len(run("dump", "--limit", "0", path, "big", check=0).stdout.splitlines()) == 2 + 300
    assert len(run("dump", "-n", "3", path, "big", check=0).stdout.splitlines()) == 2 + 3 + 1

    data = run_json("dump", path, "f16")
    assert data["dtype"] == "F16" and data["shape"] == [5] and data["n_elements"] == 5
    assert data["values"][:3] == [1.0, -2.5, "inf"] and data["values"][3] == "nan"
    assert abs(data["values"][4] - 0.1) < 1e-4 and data["truncated"] is False
    assert run_json("dump", path, "u64")["values"] == [str(2**64 - 1), 5]
    assert run_json("dump", path, "bool")["values"] == [False, True]
    assert run_json("dump", path, "c64")["values"] == [[1.5, -2.0]]
    assert run_json("dump", "--limit", "2", path, "big")["truncated"] is True


def test_dump_f6_shows_packed_bytes(tmp_path):
    path = special_file(tmp_path)
    result = run("dump", path, "f6", check=0)
    assert "layout" in result.stdout and "01 02 03" in result.stdout
    assert run_json("dump", path, "f6")["packed_bytes"] == [1, 2, 3]


def test_dump_errors(tmp_path):
    path = special_file(tmp_path)
    result = run("dump", path, "nope", check=1)
    assert "nope" in result.stderr
    assert run("dump", tmp_path / "missing.safetensors", "x", check=1).stderr


# The little-endian struct codes of the dtypes whose values dump prints as the numbers themselves.
STRUCT_CODES = {"BOOL": "?", "U8": "B", "I8": "b", "I16": "h", "U16": "H", "I32": "i", "U32": "I",
                "I64": "q", "U64": "Q", "F16": "e", "F32": "f", "F64": "d"}


@pytest.mark.parametrize("name", VALID)
def test_dump_every_tensor_of_the_fixtures(name):
    # The values too, where the fixture's raw bytes decode with struct (read here, not by st-tool).
    raw = valid(name).read_bytes()
    base = 8 + struct.unpack("<Q", raw[:8])[0]
    for tensor in MANIFEST["valid"][name]["tensors"]:
        data = run_json("dump", valid(name), tensor)
        expected = MANIFEST["valid"][name]["tensors"][tensor]
        assert data["dtype"] == expected["dtype"] and data["shape"] == expected["shape"]
        assert data["n_elements"] == math.prod(expected["shape"])
        code = STRUCT_CODES.get(expected["dtype"])
        if code is None or data["truncated"]:
            continue
        begin, end = expected["data_offsets"]
        values = list(struct.unpack(f"<{data['n_elements']}{code}", raw[base + begin:base + end]))
        if expected["dtype"] == "BOOL":
            values = [int(v) for v in values]
            data["values"] = [int(v) for v in data["values"]]
        for got, want in zip(data["values"], values, strict=True):
            if isinstance(got, str):  # 64-bit integers beyond 2^53, and NaN and the infinities, come as strings
                got = int(got) if isinstance(want, int) else float(got)
            assert got == want or (isinstance(want, float) and math.isnan(want) and math.isnan(got)), \
                f"{name}/{tensor}: {got} != {want}"


# diff

def test_diff_same_files():
    result = run("diff", valid("all_dtypes"), canonical("all_dtypes"), check=0)
    assert result.stdout == "The files hold the same 22 tensors and metadata.\n"
    assert run_json("diff", valid("scalars"), valid("scalars"))["identical"] is True


def test_diff_reports_each_kind_of_change(tmp_path):
    a = write(tmp_path / "a.safetensors", [
        ("same", "F32", [2], f32(1, 2)),
        ("values", "F32", [3], f32(1, 2, 3)),
        ("retyped", "F32", [2], f32(1, 2)),
        ("reshaped", "F32", [2], f32(1, 2)),
        ("gone", "U8", [1], b"\x01"),
        ("nan", "F32", [2], f32(float("nan"), 1)),
    ], metadata={"format": "pt", "old": "x", "changed": "1"})
    b = write(tmp_path / "b.safetensors", [
        ("same", "F32", [2], f32(1, 2)),
        ("values", "F32", [3], f32(1, 2.5, 2.75)),
        ("retyped", "F64", [2], struct.pack("<2d", 1, 2.25)),
        ("reshaped", "F32", [1, 2], f32(1, 2)),
        ("new", "U8", [1], b"\x01"),
        ("nan", "F32", [2], f32(float("nan"), 2)),
    ], metadata={"format": "pt", "changed": "2", "added": "y"})
    result = run("diff", a, b, check=1)
    lines = result.stdout.splitlines()
    assert f"- gone: only in {a}" in lines
    assert f"+ new: only in {b}" in lines
    assert "~ values: max abs difference 0.5" in lines
    assert "~ retyped: dtype F32 → F64, max abs difference 0.25" in lines
    assert "~ reshaped: shape [2] → [1, 2]" in lines
    assert "~ nan: max abs difference 1" in lines
    assert "~ __metadata__[changed]: “1” → “2”" in lines
    assert any(line.startswith("- __metadata__[old]") for line in lines)
    assert any(line.startswith("+ __metadata__[added]") for line in lines)
    assert not any("same" in line for line in lines[:-1])
    assert lines[-1].startswith("1 only in")

    report = run_json("diff", a, b, check=1)
    assert report["identical"] is False and report["n_identical"] == 1
    assert report["only_in_a"] == ["gone"] and report["only_in_b"] == ["new"]
    changed = {c["name"]: c for c in report["changed"]}
    assert changed["values"]["max_abs_diff"] == 0.5
    assert changed["retyped"]["dtype"] == ["F32", "F64"]
    assert changed["reshaped"]["shape"] == [[2], [1, 2]]
    assert report["metadata"] == {"added": [None, "y"], "changed": ["1", "2"], "old": ["x", None]}
    assert run("diff", "-q", a, b, check=1).stdout == ""


def test_diff_cannot_read_exits_2(tmp_path):
    assert run("diff", valid("scalars"), tmp_path / "missing", check=2).stderr
    assert run("diff", invalid("offsets_hole"), valid("scalars"), check=2).stderr


# metadata

def test_metadata_print():
    assert run("metadata", valid("scalars"), check=0).stdout == "(no metadata)\n"
    assert run_json("metadata", valid("scalars")) is None
    expected = MANIFEST["valid"]["metadata_one"]["metadata"]
    assert run_json("metadata", valid("metadata_one")) == expected
    lines = run("metadata", valid("metadata_one"), check=0).stdout.splitlines()
    assert lines[0].split() == ["KEY", "VALUE"] and len(lines) == 1 + len(expected)


def test_metadata_edit_in_place(tmp_path):
    path = tmp_path / "model.safetensors"
    shutil.copy(valid("all_dtypes"), path)
    run("metadata", path, "--set", "format=pt", "--set", "note=a=b", "--set", "empty=", check=0)
    assert run_json("metadata", path) == {"format": "pt", "note": "a=b", "empty": ""}
    run("metadata", path, "--remove", "note", "-s", "format=np", check=0)
    assert run_json("metadata", path) == {"format": "np", "empty": ""}
    # the tensors are untouched, the file is valid and canonical
    assert run("diff", valid("all_dtypes"), path, check=1).stdout.count("__metadata__") == 2
    assert run_json("validate", path)[0]["valid"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    result = run("metadata", path, "--remove", "absent", check=0)
    assert "absent" in result.stderr


def test_metadata_to_another_file(tmp_path):
    out = tmp_path / "out.safetensors"
    before = valid("metadata_one").read_bytes()
    run("metadata", valid("metadata_one"), "--set", "k=v", "-o", out, check=0)
    assert valid("metadata_one").read_bytes() == before
    assert run_json("metadata", out)["k"] == "v"


# Hostile files through every reading command

def test_hostile_files_fail_cleanly(tmp_path):
    # One test for all the invalid fixtures (statuses and empty outputs: nothing per fixture of its own).
    for name in INVALID:
        path = invalid(name)
        for args, status in [(["info", path], 1), (["list", path], 1), (["dump", path, "a"], 1),
                             (["metadata", path], 1), (["diff", path, valid("scalars")], 2),
                             (["shard", path, "--max-shard-size", "1KB", "-o", tmp_path / "o"], 1)]:
            result = run(*args, check=status)
            assert result.stderr.strip() and result.stdout == "", (name, args)


# Progress: on a terminal only

def run_with_terminal_stderr(*args):
    """Runs st-tool with a pseudo-terminal as its stderr; returns (returncode, what it wrote there)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([TOOL, *map(str, args)], stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    chunks = []

    def drain():
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: every end of the terminal is closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    returncode = process.wait(timeout=120)
    reader.join(timeout=30)
    os.close(controller)
    return returncode, b"".join(chunks).decode(errors="replace")


def test_progress_only_on_a_terminal(tmp_path):
    out = tmp_path / "out"
    piped = run("shard", valid("many_small"), "--max-shard-size", "30KB", "-o", out, check=0)
    assert piped.stderr == ""
    assert run("merge", out, "-o", tmp_path / "m.safetensors", check=0).stderr == ""
    assert run("validate", out, check=0).stderr == ""

    status, stderr = run_with_terminal_stderr("shard", valid("many_small"), "--max-shard-size", "30KB", "-o",
                                              tmp_path / "tty")
    assert status == 0
    assert "Writing shards [" in stderr and "100%" in stderr and "\r" in stderr
    assert stderr.endswith("\r\x1b[K"), "the bar is cleared at the end"
    status, stderr = run_with_terminal_stderr("merge", tmp_path / "tty", "-o", tmp_path / "tty.safetensors")
    assert status == 0 and "Opening shards [" in stderr and stderr.count("Writing [" + "#" * 30 + "] 100%") == 1
    assert (tmp_path / "tty.safetensors").read_bytes() == canonical("many_small").read_bytes()
    status, stderr = run_with_terminal_stderr("validate", tmp_path / "tty")
    assert status == 0 and "Validating [" in stderr
