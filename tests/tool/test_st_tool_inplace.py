# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""st-tool metadata --set in place: the header alone is written when it keeps its length, the whole
file otherwise; an interrupted rewrite is refused, and --repair completes it when the header is whole."""

import json
import os
import struct

from test_st_tool import run, f32, make_safetensors


def _tensors():
    # In the order a writer lays them out (by dtype, then name): only then is the data already in place.
    return [("b", "F32", [2], f32(5, 6)), ("w", "F32", [4], f32(1, 2, 3, 4))]


def _padded(tensors, metadata, header_size):
    """A file whose header JSON is padded with spaces to @header_size bytes."""
    data = make_safetensors(tensors, metadata)
    n = struct.unpack("<Q", data[:8])[0]
    text = data[8:8 + n].rstrip(b" ")
    text += b" " * (header_size - len(text))
    return struct.pack("<Q", header_size) + text + data[8 + n:]


def _metadata(path):
    return json.loads(run("metadata", "--json", path, check=0).stdout)


def test_same_length_rewrites_the_header_only(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(make_safetensors(_tensors(), {"k": "v1"}))
    inode = os.stat(path).st_ino
    run("metadata", "--set", "k=v2", "-o", tmp_path / "whole.safetensors", path, check=0)
    run("metadata", "--set", "k=v2", path, check=0)
    assert os.stat(path).st_ino == inode
    # The expected bytes come from the test's own writer (test_st_tool.make_safetensors), not st-tool's.
    expected = make_safetensors(_tensors(), {"k": "v2"})
    assert path.read_bytes() == expected
    assert (tmp_path / "whole.safetensors").read_bytes() == expected
    assert _metadata(path) == {"k": "v2"}
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors", "whole.safetensors"]


def test_reserved_room_takes_a_longer_value(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(_padded(_tensors(), {"k": "v"}, 4088))
    inode = os.stat(path).st_ino
    run("metadata", "--set", "k=a value much longer than the old one", "--set", "other=x", path, check=0)
    assert os.stat(path).st_ino == inode
    data = path.read_bytes()
    assert struct.unpack("<Q", data[:8])[0] == 4088
    assert data[4096:] == f32(5, 6) + f32(1, 2, 3, 4)
    assert _metadata(path) == {"k": "a value much longer than the old one", "other": "x"}


def test_longer_header_rewrites_the_whole_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(make_safetensors(_tensors(), {"k": "v"}))
    inode = os.stat(path).st_ino
    run("metadata", "--set", "k=a value much longer than the old one", path, check=0)
    assert os.stat(path).st_ino != inode
    assert _metadata(path) == {"k": "a value much longer than the old one"}
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_data_out_of_order_rewrites_the_whole_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(make_safetensors(list(reversed(_tensors())), {"k": "v1"}))
    inode = os.stat(path).st_ino
    run("metadata", "--set", "k=v2", path, check=0)
    assert os.stat(path).st_ino != inode
    assert _metadata(path) == {"k": "v2"}


def test_rewrite_option_forces_the_whole_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(make_safetensors(_tensors(), {"k": "v1"}))
    inode = os.stat(path).st_ino
    run("metadata", "--rewrite", "--set", "k=v2", path, check=0)
    assert os.stat(path).st_ino != inode
    assert _metadata(path) == {"k": "v2"}


def _mark(path):
    data = bytearray(path.read_bytes())
    data[7] |= 0x80
    path.write_bytes(bytes(data))


def test_interrupted_rewrite_is_refused_then_repaired(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(make_safetensors(_tensors(), {"k": "v1"}))
    whole = path.read_bytes()
    _mark(path)
    result = run("metadata", path, check=1)
    assert "--repair" in result.stderr
    assert run("info", path).returncode != 0
    result = run("metadata", "--repair", path, check=0)
    assert "completed an interrupted header rewrite" in result.stderr
    assert path.read_bytes() == whole
    # Nothing to repair: left alone.
    run("metadata", "--repair", path, check=0)
    assert path.read_bytes() == whole


def test_torn_header_is_not_repaired(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(make_safetensors(_tensors(), {"k": "v1"}))
    data = bytearray(path.read_bytes())
    data[7] |= 0x80
    data[20:24] = b"\x00\x01{["
    path.write_bytes(bytes(data))
    result = run("metadata", "--repair", path, check=1)
    assert "torn" in result.stderr
    assert path.read_bytes() == bytes(data)
