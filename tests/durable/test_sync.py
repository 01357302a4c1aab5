# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Durable saves really reach the disk: with ST_SAVE_FLAGS_SYNC (Python's sync=True, st-tool's --sync)
every file a save names is fsync()ed (or fdatasync()ed) before the rename or link that gives it its
name, and its folder is fsync()ed after; without the flag nothing is synced.

Each save runs in a child process with LD_PRELOAD=st-sync-log.so, which logs every sync call with the
device and inode of the descriptor, and every rename and link (st-sync-log.c). Files are identified by
device and inode, which stay the same from the unnamed O_TMPFILE to the final name.
"""

import os
import subprocess
import sys
import textwrap

import pytest

PRELOAD = os.environ.get("ST_SYNC_LOG_LIBRARY") or \
    os.path.join(os.environ.get("G_TEST_BUILDDIR", ""), "durable", "st-sync-log.so")
ST_TOOL = os.environ.get("ST_TOOL")
FIXTURES = os.environ.get("ST_FIXTURES_DIR")

pytestmark = pytest.mark.skipif(not PRELOAD or not os.path.exists(PRELOAD),
                                reason="st-sync-log.so (the LD_PRELOAD logger) is not built")


def run_logged(tmp_path, argv):
    """Runs @argv with the sync logger; returns the log as a list of split lines."""
    log = tmp_path / "sync.log"
    if log.exists():
        log.unlink()
    env = dict(os.environ, LD_PRELOAD=PRELOAD, ST_SYNC_LOG=str(log))
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split(" ", 3) if line.split(" ", 1)[0] in ("fsync", "fdatasync", "syncfs")
            else line.split(" ", 1) for line in lines]


def python(code):
    return [sys.executable, "-c", textwrap.dedent(code)]


def identity(path):
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


def file_syncs(log, path):
    """Indices of the log lines that synced the file now at @path (fsync, fdatasync or syncfs)."""
    ident = identity(path)
    return [i for i, entry in enumerate(log) if len(entry) == 4 and entry[1] == "file" and entry[2] == ident]


def dir_syncs(log, folder):
    ident = identity(folder)
    return [i for i, entry in enumerate(log)
            if len(entry) == 4 and ((entry[1] == "dir" and entry[2] == ident) or entry[0] == "syncfs")]


def last_naming(log, path):
    """Index of the last rename or link that gave @path its name (None when the file was written in place)."""
    path = os.path.realpath(path)
    found = [i for i, entry in enumerate(log)
             if entry[0] in ("rename", "link") and os.path.realpath(entry[1]) == path]
    return found[-1] if found else None


def assert_durable(log, paths):
    """Each of @paths was synced before it was named, and its folder after the last naming."""
    assert paths, "nothing was saved"
    for path in paths:
        syncs = file_syncs(log, path)
        assert syncs, f"{path.name} was never synced; log: {log}"
        named = last_naming(log, path)
        folder_syncs = dir_syncs(log, path.parent)
        if named is not None:
            assert min(syncs) < named, f"{path.name} was synced only after it got its name; log: {log}"
            assert any(i > named for i in folder_syncs), \
                f"the folder of {path.name} was not synced after its rename; log: {log}"


def assert_nothing_synced(log):
    assert [e for e in log if e[0] in ("fsync", "fdatasync", "syncfs")] == [], log


ST_PRELUDE = """
    import gi
    gi.require_version("ST", "1.0")
    from gi.repository import ST, GLib
    def sample():
        f = ST.File.new()
        for i in range(6):
            f.set_tensor("t%d" % i, ST.Tensor.new(ST.DType.U8, [4096], GLib.Bytes.new(bytes([i]) * 4096)))
        f.set_metadata_value("format", "pt")
        return f
"""


@pytest.mark.parametrize("flags,durable", [("ST.SaveFlags.SYNC", True), ("ST.SaveFlags.NONE", False)])
def test_c_single_save(tmp_path, flags, durable):
    out = tmp_path / "out" / "model.safetensors"
    out.parent.mkdir()
    log = run_logged(tmp_path, python(ST_PRELUDE + f"""
    sample().save_to_path({str(out)!r}, {flags}, None)
    """))
    assert out.stat().st_size > 6 * 4096
    if durable:
        assert_durable(log, [out])
    else:
        assert_nothing_synced(log)


def test_c_single_save_over_existing(tmp_path):
    out = tmp_path / "model.safetensors"
    out.write_bytes(b"old")
    log = run_logged(tmp_path, python(ST_PRELUDE + f"""
    sample().save_to_path({str(out)!r}, ST.SaveFlags.SYNC, None)
    """))
    assert_durable(log, [out])


def test_c_sharded_save(tmp_path):
    out = tmp_path / "ckpt"
    out.mkdir()
    log = run_logged(tmp_path, python(ST_PRELUDE + f"""
    sample().save_sharded({str(out)!r}, "model", 8192, ST.SaveFlags.SYNC, None, None, None)
    """))
    files = sorted(out.iterdir())
    assert [p.name for p in files] == ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                                       "model-00003-of-00003.safetensors", "model.safetensors.index.json"]
    assert_durable(log, files)


def test_c_streaming_writer(tmp_path):
    out = tmp_path / "streamed.safetensors"
    log = run_logged(tmp_path, python(ST_PRELUDE + f"""
    w = ST.Writer.new()
    w.add_tensor("a", ST.DType.U8, [3])
    w.add_tensor("b", ST.DType.U8, [2])
    w.open({str(out)!r}, ST.SaveFlags.SYNC, None)
    w.write_bytes("a", GLib.Bytes.new(b"abc"))
    w.write_bytes("b", GLib.Bytes.new(b"de"))
    w.finish()
    """))
    assert out.read_bytes().endswith(b"abcde")
    assert_durable(log, [out])


NUMPY_PRELUDE = """
    import numpy as np
    from safetensors_glib import numpy as stn
    tensors = {"t%d" % i: np.full(4096, i, dtype=np.uint8) for i in range(6)}
"""


def test_python_save_file_sync(tmp_path):
    out = tmp_path / "py.safetensors"
    log = run_logged(tmp_path, python(NUMPY_PRELUDE + f"""
    stn.save_file(tensors, {str(out)!r}, sync=True)
    """))
    assert_durable(log, [out])


def test_python_save_file_without_sync(tmp_path):
    out = tmp_path / "py.safetensors"
    log = run_logged(tmp_path, python(NUMPY_PRELUDE + f"""
    stn.save_file(tensors, {str(out)!r})
    """))
    assert out.exists()
    assert_nothing_synced(log)


def test_python_sharded_sync(tmp_path):
    out = tmp_path / "ckpt"
    out.mkdir()
    log = run_logged(tmp_path, python(NUMPY_PRELUDE + f"""
    stn.save_file(tensors, {str(out / "model.safetensors")!r}, max_shard_size=8192, sync=True)
    """))
    files = sorted(out.iterdir())
    assert len(files) == 4, files
    assert_durable(log, files)


def test_python_save_file_iter_sync(tmp_path):
    out = tmp_path / "iter.safetensors"
    log = run_logged(tmp_path, python(NUMPY_PRELUDE + f"""
    layout = {{name: (a.dtype, a.shape) for name, a in tensors.items()}}
    stn.save_file_iter(iter(tensors.items()), {str(out)!r}, layout=layout, sync=True)
    """))
    assert out.stat().st_size > 6 * 4096
    assert_durable(log, [out])


@pytest.mark.skipif(not ST_TOOL, reason="ST_TOOL is not set")
def test_st_tool_shard_and_merge_sync(tmp_path):
    source = os.path.join(FIXTURES, "valid", "mixed_dtype_order.safetensors")
    out = tmp_path / "ckpt"
    log = run_logged(tmp_path, [ST_TOOL, "shard", "--sync", "-m", "24", "-o", str(out), source])
    files = sorted(out.iterdir())
    assert len(files) > 2 and any(p.name.endswith(".index.json") for p in files), files
    assert_durable(log, files)

    merged = tmp_path / "merged.safetensors"
    log = run_logged(tmp_path, [ST_TOOL, "merge", "--sync", "-o", str(merged), str(out)])
    assert_durable(log, [merged])


@pytest.mark.skipif(not ST_TOOL, reason="ST_TOOL is not set")
def test_st_tool_metadata_in_place_sync(tmp_path):
    target = tmp_path / "edit.safetensors"
    # A header with room to spare (extra padding): the new value fits and the edit stays in place.
    target.write_bytes(open(os.path.join(FIXTURES, "valid", "header_extra_padding.safetensors"), "rb").read())
    before = identity(target)
    log = run_logged(tmp_path, [ST_TOOL, "metadata", "--sync", "--set", "k=v", str(target)])
    if identity(target) == before:
        assert file_syncs(log, target), f"the in-place edit did not sync the file; log: {log}"
    else:
        assert_durable(log, [target])
