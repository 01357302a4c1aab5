# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""In-place header edits under faults (issue 20, items 1 to 3, and the error of item 12).

- A process killed at any point of an edit (at exact bytes and calls, counted by tests/fault/st-fault-inject.c,
  not raced against a clock) leaves the old file, the new one, or a file marked so that no reader takes
  it; a repair then gives exactly the old file or the new one, byte for byte.
- Two editors of one file: the second gets G_IO_ERROR_BUSY while the first holds the file, a repair too,
  and a kill of the first still leaves a marked file, never an unmarked torn header.
- On a full btrfs and a full XFS (loop images, as root), an edit either succeeds, or fails and leaves the
  old file loadable, or leaves it marked; once space is freed, the repair gives the old file or the new one.
  Without the room the edit needs, it fails before its first write.

Every expected file is built here by hand from the format's definition (design.md: compact JSON, metadata
first, header padded with spaces to a multiple of 8), never by the library's writer.
"""

import errno
import json
import os
import pathlib
import shutil
import signal
import struct
import subprocess
import tempfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
BUILD = pathlib.Path(os.environ.get("G_TEST_BUILDDIR") or HERE.parents[1] / "_build" / "tests") / "fault"
HELPER = str(BUILD / "st-edit-helper")
FAULT_INJECT = str(BUILD / "st-fault-inject.so")
IS_ROOT = os.geteuid() == 0
MIB = 1024 * 1024
TRAILER = 120          # the journal's trailer (safetensors-glib/st-edit-journal.c)
MARK = 1 << 63

# The codes of the two errors the tests expect (st-error.h, gio/gioenums.h).
ST_ERROR_INTERRUPTED_EDIT = 15
G_IO_ERROR_NO_SPACE = 12
G_IO_ERROR_BUSY = 26

DATA = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)


def file_bytes(value):
    """A file of one F32 tensor "w" of shape [4] and the metadata {"k": value}."""
    header = {"__metadata__": {"k": value}, "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, len(DATA)]}}
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + DATA


def header_length(data):
    return struct.unpack("<Q", data[:8])[0]


def helper(*args, env=None, check=None):
    result = subprocess.run([HELPER, *map(str, args)], capture_output=True, text=True, env=env)
    if check is not None:
        assert result.returncode == check, f"st-edit-helper {args}: status {result.returncode}: {result.stdout}"
    return result


def error_of(result):
    """(domain, code, message) of a helper's "error DOMAIN CODE: MESSAGE" line."""
    line = result.stdout.strip()
    assert line.startswith("error "), line
    domain, code, message = line[len("error "):].split(" ", 2)
    return domain, int(code.rstrip(":")), message


def stop_env(after_bytes=None, at_call=None, pause=False):
    """The environment of a process that st-fault-inject stops at byte @after_bytes of its pwrite()s or
    before its @at_call-th pwrite(), ftruncate(), fdatasync() or fsync(): killed there, or with @pause
    paused until a line comes on its stdin."""
    assert (after_bytes is None) != (at_call is None)
    env = dict(os.environ)
    env["LD_PRELOAD"] = FAULT_INJECT
    env["ST_FAULT_AT"] = f"write-bytes:{after_bytes}" if after_bytes is not None else f"file-call:{at_call}"
    env["ST_FAULT_DO"] = "pause" if pause else "kill"
    return env


def check_marked_state(path, old, new):
    """What every reader must see of @path after a stopped edit: the old file, the new one, or a mark that
    loads as ST_ERROR_INTERRUPTED_EDIT with the repair in its message. Returns whether it is marked."""
    data = path.read_bytes()
    if not header_length(data) & MARK:
        assert data in (old, new), "an unmarked file that is neither the old one nor the new one"
        return False
    assert header_length(data) & ~MARK == header_length(old)
    domain, code, message = error_of(helper("load", path, check=1))
    assert (domain, code) == ("st", ST_ERROR_INTERRUPTED_EDIT)
    assert f"st-tool metadata --repair {path}" in message
    return True


# Kills at exact points

def test_kills_at_every_step_of_a_32_mib_value_repair_to_old_or_new(tmp_path):
    path = tmp_path / "m.safetensors"
    length = 32 * MIB
    old, new = file_bytes("a" * length), file_bytes("b" * length)
    n = header_length(old)
    assert len(old) == len(new) and header_length(new) == n

    # The bytes an edit writes, in order: the mark (8), the journal (n + TRAILER), the JSON (n), the
    # prefix (8). Stop at each boundary, inside each piece, and at 16 places inside the JSON: there, a
    # mix of a's and b's is a valid header, the one a repair that only parses would keep.
    journal_end = 8 + n + TRAILER
    points = [0, 4, 8, 8 + n // 2, 8 + n, 8 + n + TRAILER // 2, journal_end]
    points += [journal_end + n * i // 16 for i in range(1, 16)]
    points += [journal_end + n, journal_end + n + 4]
    stops = [{"after_bytes": b} for b in points] + [{"at_call": k} for k in range(1, 9)]

    outcomes = {"old": 0, "new": 0}
    killed = marked = 0
    for stop in stops:
        path.write_bytes(old)
        result = helper("edit", path, "k", "b", length, env=stop_env(**stop))
        assert result.returncode in (0, -signal.SIGKILL), result.stdout + result.stderr
        killed += result.returncode == -signal.SIGKILL
        if check_marked_state(path, old, new):
            marked += 1
            assert helper("repair", path, check=0).stdout.strip() == "repaired"
        else:
            assert helper("repair", path, check=0).stdout.strip() == "clean"
        data = path.read_bytes()
        assert data in (old, new), f"after a stop at {stop} and a repair, neither the old file nor the new one"
        if "after_bytes" in stop and journal_end < stop["after_bytes"] < journal_end + n:
            assert data == old, f"a header torn at {stop} was not put back to the old one"
        outcomes["old" if data == old else "new"] += 1
    print(f"{len(stops)} stops, {killed} kills, {marked} left marked, repaired to {outcomes}")
    assert killed >= len(stops) - 2
    assert marked >= 20
    assert outcomes["old"] > 0 and outcomes["new"] > 0


def test_kills_of_a_synced_edit_repair_to_old_or_new(tmp_path):
    # With ST_SAVE_FLAGS_SYNC every step ends with a sync: stop before each write, truncation and sync
    # (about 13 calls; the last stops come after the edit is done).
    path = tmp_path / "m.safetensors"
    length = MIB
    old, new = file_bytes("a" * length), file_bytes("b" * length)
    n = header_length(old)
    stops = [{"at_call": k} for k in range(1, 17)]
    stops += [{"after_bytes": 8 + n + TRAILER + n * i // 4} for i in range(1, 4)]
    finished = 0
    for stop in stops:
        path.write_bytes(old)
        result = helper("edit", path, "k", "b", length, "sync", env=stop_env(**stop))
        assert result.returncode in (0, -signal.SIGKILL), result.stdout + result.stderr
        finished += result.returncode == 0
        if check_marked_state(path, old, new):
            assert helper("repair", path, check=0).stdout.strip() == "repaired"
        assert path.read_bytes() in (old, new), f"after a stop at {stop} and a repair, neither old nor new"
    print(f"{len(stops)} stops of a synced edit, {finished} edits finished first")
    assert 1 <= finished <= 4


def test_a_torn_header_that_parses_without_a_journal_is_still_repaired_only_if_it_is_whole(tmp_path):
    # A file marked by an editor before 1.1 has no journal: the JSON there must parse, or nothing is done.
    path = tmp_path / "m.safetensors"
    old = file_bytes("a" * 64)
    data = bytearray(old)
    data[7] |= 0x80
    data[20:22] = b"\x00{"
    path.write_bytes(bytes(data))
    domain, code, message = error_of(helper("repair", path, check=1))
    assert domain == "st" and "torn" in message
    assert path.read_bytes() == bytes(data)


# Two editors

@pytest.mark.parametrize("stop_after", ["mark", "journal", "json", "before-prefix"])
def test_a_second_editor_is_refused_and_a_killed_first_leaves_a_mark(tmp_path, stop_after):
    path = tmp_path / "m.safetensors"
    length = MIB
    old, new = file_bytes("a" * length), file_bytes("b" * length)
    n = header_length(old)
    at = {"mark": 8, "journal": 8 + n + TRAILER, "json": 8 + n + TRAILER + n // 2,
          "before-prefix": 8 + n + TRAILER + n}[stop_after]
    path.write_bytes(old)

    # The second editor loads the file before the first starts, then edits while the first is stopped.
    second = subprocess.Popen([HELPER, "edit", path, "k", "c", str(length), "wait"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert second.stdout.readline() == "loaded\n"
    first = subprocess.Popen([HELPER, "edit", path, "k", "b", str(length)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=stop_env(after_bytes=at, pause=1))
    try:
        assert first.stdout.readline() == "paused\n"
        assert header_length(path.read_bytes()) & MARK
        second_out, _ = second.communicate("go\n")
        assert second.returncode == 1
        domain, code, message = error_of(subprocess.CompletedProcess([], 1, second_out, ""))
        assert (domain, code) == ("io", G_IO_ERROR_BUSY), message
        assert "another process" in message
        # Neither the second editor nor a repair touched the first one's mark.
        domain, code, _ = error_of(helper("repair", path, check=1))
        assert (domain, code) == ("io", G_IO_ERROR_BUSY)
        assert header_length(path.read_bytes()) & MARK
    finally:
        first.kill()
        first.communicate()
        if second.poll() is None:
            second.kill()
            second.communicate()
    assert check_marked_state(path, old, new)
    assert helper("repair", path, check=0).stdout.strip() == "repaired"
    assert path.read_bytes() in (old, new)
    if stop_after in ("mark", "journal", "json"):
        assert path.read_bytes() == old


def test_a_second_editor_after_the_first_finishes_edits(tmp_path):
    path = tmp_path / "m.safetensors"
    length = MIB
    old, new, third = file_bytes("a" * length), file_bytes("b" * length), file_bytes("c" * length)
    path.write_bytes(old)
    first = subprocess.Popen([HELPER, "edit", path, "k", "b", str(length)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             env=stop_env(after_bytes=8 + header_length(old) + TRAILER + 100, pause=1))
    assert first.stdout.readline() == "paused\n"
    out, _ = first.communicate("go\n")
    assert first.returncode == 0 and out == "ok\n"
    assert path.read_bytes() == new
    assert helper("edit", path, "k", "c", length, check=0).stdout == "ok\n"
    assert path.read_bytes() == third


# Full file systems

def _loop_skip_reason(mkfs):
    if not IS_ROOT:
        return "mounting a loop image needs root"
    if shutil.which(mkfs) is None:
        return f"{mkfs} is not installed"
    if not os.path.exists("/dev/loop-control"):
        return "no loop device (/dev/loop-control)"
    if subprocess.run(["losetup", "-f"], capture_output=True).returncode != 0:
        return "no free loop device"
    return None


@pytest.fixture(params=["btrfs", "xfs"])
def full_fs(request):
    kind = request.param
    mkfs = {"btrfs": "mkfs.btrfs", "xfs": "mkfs.xfs"}[kind]
    reason = _loop_skip_reason(mkfs)
    if reason:
        pytest.skip(reason)
    work = pathlib.Path(tempfile.mkdtemp(prefix="st-edit-fs-"))
    image, mount = work / "image", work / "mnt"
    mount.mkdir()
    # XFS refuses file systems under 300 MB; btrfs takes less. Sparse images: they cost what is written.
    with open(image, "wb") as f:
        f.truncate((300 if kind == "xfs" else 160) * MIB)
    try:
        made = subprocess.run([mkfs, "-q", "-f", image] if kind == "xfs" else [mkfs, "-q", image],
                              capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"{mkfs} failed: {made.stderr.strip()}")
        mounted = subprocess.run(["mount", "-o", "loop", image, mount], capture_output=True, text=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a {kind} loop image: {mounted.stderr.strip()}")
        try:
            yield kind, mount
        finally:
            subprocess.run(["umount", mount], check=True)
    finally:
        shutil.rmtree(work)


CHUNK = 64 * 1024


def _fill(mount):
    """Takes all the free space of @mount with preallocated files: one large, then CHUNK-sized ones until
    the file system says it is full. Returns the chunk files, to free space CHUNK at a time."""
    st = os.statvfs(mount)
    large = max(st.f_bavail * st.f_frsize - 16 * MIB, 0)
    fd = os.open(mount / "fill", os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        os.posix_fallocate(fd, 0, large)
    except OSError as e:
        assert e.errno in (errno.ENOSPC, errno.EDQUOT), e
    finally:
        os.close(fd)
    chunks = []
    while True:
        chunk = mount / f"fill-{len(chunks)}"
        try:
            fd = os.open(chunk, os.O_CREAT | os.O_WRONLY, 0o600)
        except OSError as e:
            assert e.errno in (errno.ENOSPC, errno.EDQUOT), e
            return chunks
        try:
            os.posix_fallocate(fd, 0, CHUNK)
        except OSError as e:
            assert e.errno in (errno.ENOSPC, errno.EDQUOT), e
            os.close(fd)
            os.unlink(chunk)
            return chunks
        os.close(fd)
        chunks.append(chunk)
        assert len(chunks) < 100_000


def _free_all(mount):
    for name in os.listdir(mount):
        if name.startswith("fill"):
            os.unlink(mount / name)
    subprocess.run(["sync", "-f", mount], check=True)


def test_edits_on_a_full_file_system_never_lose_the_file(full_fs):
    kind, mount = full_fs
    path = mount / "m.safetensors"
    length = MIB
    old, new = file_bytes("a" * length), file_bytes("b" * length)
    # Chunks freed before each edit, from none to more than the edit needs: it sets aside 1 MiB for the
    # journal and two pieces of 1 MiB + 128 KiB of ballast (54 chunks); on btrfs the new JSON takes 1 MiB
    # more, which it finds by giving a piece of the ballast back (from 54 to about 70 chunks).
    schedule = [0, 1, 4, 8, 16, 17, 24, 32, 40, 48, 52, 54, 55, 56, 58, 60, 62, 64, 66, 68, 70, 72, 80, 96]
    outcomes = {"ok": 0, "no space, unchanged": 0, "left marked": 0}
    for freed in schedule:
        _free_all(mount)
        path.write_bytes(old)
        subprocess.run(["sync", "-f", mount], check=True)
        chunks = _fill(mount)
        assert len(chunks) >= freed, f"the {kind} image filled with only {len(chunks)} chunks"
        for chunk in chunks[:freed]:
            os.unlink(chunk)
        subprocess.run(["sync", "-f", mount], check=True)

        result = helper("edit", path, "k", "b", length)
        if result.returncode == 0:
            assert path.read_bytes() == new
            outcomes["ok"] += 1
        else:
            domain, code, message = error_of(result)
            if domain == "io":
                # Undone: the old file, loadable at once, with nothing left behind.
                assert code == G_IO_ERROR_NO_SPACE, message
                assert path.read_bytes() == old
                assert helper("load", path).returncode == 0
                outcomes["no space, unchanged"] += 1
            else:
                assert (domain, code) == ("st", ST_ERROR_INTERRUPTED_EDIT), message
                assert "--repair" in message and "No space" in message
                assert check_marked_state(path, old, new)
                outcomes["left marked"] += 1
                print(f"{kind}, {freed} chunks free: {message}")

        _free_all(mount)
        repaired = helper("repair", path, check=0).stdout.strip()
        assert repaired in ("repaired", "clean")
        assert path.read_bytes() in (old, new), f"{kind}, {freed} chunks free: the file is lost"
        assert helper("load", path).returncode == 0
    print(f"{kind}: {len(schedule)} edits on a full file system: {outcomes}")
    assert outcomes["no space, unchanged"] + outcomes["left marked"] > 0
    assert outcomes["ok"] > 0


def test_an_edit_without_room_fails_before_its_first_write(full_fs):
    # The edit sets aside all the space its later steps need before it writes anything (issue 20.1):
    # on a full file system it fails there, and the file is never touched, not even marked and unmarked.
    # st-fault-inject kills the process at the first byte it writes with pwrite(): an edit that reserves first
    # never gets there. (Its calls are not counted: a failed reservation truncates the file to its own
    # length, which frees what it had allocated and changes no byte.)
    kind, mount = full_fs
    path = mount / "m.safetensors"
    length = MIB
    old = file_bytes("a" * length)
    path.write_bytes(old)
    subprocess.run(["sync", "-f", mount], check=True)
    _fill(mount)
    subprocess.run(["sync", "-f", mount], check=True)
    result = helper("edit", path, "k", "b", length, env=stop_env(after_bytes=1))
    assert result.returncode == 1, f"{kind}: the edit wrote before it failed (status {result.returncode})"
    domain, code, message = error_of(result)
    assert (domain, code) == ("io", G_IO_ERROR_NO_SPACE), message
    assert path.read_bytes() == old
    _free_all(mount)


# What every reader says of a marked file

GJS_LOAD = """
import GLib from 'gi://GLib';
import ST from 'gi://ST?version=1.0';
import System from 'system';

try {
    ST.File.new_from_path(ARGV[0], null);
    print('loaded');
    System.exit(1);
} catch (e) {
    if (!(e instanceof GLib.Error) || !e.matches(ST.Error, ST.Error.INTERRUPTED_EDIT)) {
        printerr(`${e}`);
        System.exit(1);
    }
    print(e.message);
}
"""


@pytest.fixture
def marked_file(tmp_path):
    path = tmp_path / "m.safetensors"
    data = bytearray(file_bytes("v1"))
    data[7] |= 0x80
    path.write_bytes(bytes(data))
    return path


def _says_repair(message, path):
    assert f"st-tool metadata --repair {path}" in message, message
    assert "over the limit" not in message, message


def test_st_tool_says_to_repair(marked_file):
    tool = os.environ.get("ST_TOOL") or str(HERE.parents[1] / "_build" / "tools" / "st-tool")
    for command in (["validate"], ["info"], ["metadata", "--set", "k=v2"]):
        result = subprocess.run([tool, *command, marked_file], capture_output=True, text=True)
        assert result.returncode == 1, result.stderr
        _says_repair(result.stdout + result.stderr, marked_file)


def test_python_raises_safetensor_error_that_says_to_repair(marked_file):
    code = ("import sys\n"
            "from safetensors_glib import SafetensorError, safe_open\n"
            "from safetensors_glib.numpy import load_file\n"
            "for load in (load_file, lambda p: safe_open(p, 'np')):\n"
            "    try:\n"
            "        load(sys.argv[1])\n"
            "    except SafetensorError as e:\n"
            "        print(type(e).__name__, e)\n"
            "    else:\n"
            "        sys.exit('loaded')\n")
    result = subprocess.run(["/usr/bin/python3", "-c", code, str(marked_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line.startswith("SafetensorError Error while deserializing header: ")
        _says_repair(line, marked_file)


def test_gjs_gets_the_error_code_and_the_repair(marked_file, tmp_path):
    gjs = shutil.which("gjs")
    if gjs is None:
        pytest.skip("gjs is not installed")
    script = tmp_path / "load.js"
    script.write_text(GJS_LOAD)
    result = subprocess.run([gjs, "-m", script, marked_file], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    _says_repair(result.stdout, marked_file)
