# test_target_faults.py: what saves leave around their target (issue 20, items 8 and 9)
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# - Streaming writers killed (SIGKILL) at points counted in written chunks, on a bindfs (FUSE) mount,
#   which has no O_TMPFILE: the target stays old or new, and the hidden file a killed writer leaves is
#   removed by the next save to the same target.
#
# ST_TARGET_HELPER is tests/fault/st-target-helper (built); the library comes from the build tree
# (tests/meson.build). FUSE mounts need root, or a user fusermount3 lets mount: otherwise the tests skip
# and say why.

import os
import pathlib
import re
import shutil
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent
BUILD = HERE.parents[1] / "_build"
HELPER = os.environ.get("ST_TARGET_HELPER") or str(
    pathlib.Path(os.environ.get("G_TEST_BUILDDIR") or BUILD / "tests") / "fault" / "st-target-helper")
HIDDEN = re.compile(r"^\.st-")
# The hidden name of a save to a path without O_TMPFILE: a hash of the target's name, 6 random characters.
RECOVERABLE = re.compile(r"^\.st-[0-9a-f]{8}-[A-Za-z0-9]{6}$")
CHUNKS = 48


def helper(*args, check=True):
    result = subprocess.run([HELPER, *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"st-target-helper {args}: status {result.returncode}: {result.stderr}")
    return result


def seed_of(path):
    result = helper("check", path, check=False)
    assert result.returncode == 0, f"{path} does not load whole: {result.stderr.strip()}"
    return int(result.stdout.split()[1])


def listing(directory):
    return sorted(p.name for p in pathlib.Path(directory).iterdir())


@pytest.fixture
def without_tmpfile(tmp_path):
    """A bindfs mount of a folder of @tmp_path: a FUSE file system, without O_TMPFILE."""
    bindfs = shutil.which("bindfs")
    if bindfs is None:
        pytest.skip("bindfs (Debian package bindfs) is not installed")
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse here: FUSE file systems cannot be mounted")
    backing = tmp_path / "backing"
    mounted = tmp_path / "mounted"
    backing.mkdir()
    mounted.mkdir()
    result = subprocess.run([bindfs, str(backing), str(mounted)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"bindfs does not mount here: {result.stderr.strip()}")
    try:
        with pytest.raises(OSError):
            os.close(os.open(mounted, os.O_TMPFILE | os.O_WRONLY, 0o600))
        yield mounted
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(mounted)], check=True)
        else:
            subprocess.run(["fusermount3", "-u", "-z", str(mounted)], check=True)


def kill_after(args, lines):
    """Starts st-target-helper @args, reads @lines lines of its progress, and kills it with SIGKILL."""
    process = subprocess.Popen([HELPER, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(lines):
        if not process.stdout.readline():
            break
    process.kill()
    _, stderr = process.communicate()
    assert process.returncode in (0, -9), stderr.decode()


def test_killed_writers_leave_nothing_on_fuse(without_tmpfile):
    target = without_tmpfile / "model.safetensors"
    helper("writer", target, 1, CHUNKS)
    whole = 1
    left, kills = 0, 60

    for i in range(kills):
        seed = i + 2
        # Killed after 0 to CHUNKS + 1 progress lines: before the open, while it writes, around finish().
        kill_after(("writer", target, seed, CHUNKS), i % (CHUNKS + 2))
        found = seed_of(target)
        assert found in (whole, seed), f"the target holds seed {found}, neither the old {whole} nor the new {seed}"
        whole = found
        hidden = [name for name in listing(without_tmpfile) if HIDDEN.match(name)]
        # At most the file of the writer just killed: each earlier one was removed by the save after it.
        assert len(hidden) <= 1, hidden
        assert all(RECOVERABLE.match(name) for name in hidden), hidden
        left += len(hidden)

    print(f"{kills} kills, {left} left a hidden file that the next save removed")
    # The scenario happened: kills during the writes left hidden files.
    assert left >= kills // 2
    helper("writer", target, 1000, CHUNKS)
    assert listing(without_tmpfile) == ["model.safetensors"]
    assert seed_of(target) == 1000
