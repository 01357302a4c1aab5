# test_target_faults.py: what saves leave around their target (issue 20, items 8 and 9)
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# - Streaming writers killed (SIGKILL) at points counted in written chunks, on a bindfs (FUSE) mount,
#   which has no O_TMPFILE: the target stays old or new, and the hidden file a killed writer leaves is
#   removed by the next save to the same target.
# - Re-saved files keep their POSIX ACL and their mode exactly (a user the ACL let in keeps access), and
#   their "user." extended attributes; an in-place header edit and a whole rewrite keep the same, and a
#   file with other hard links is always rewritten (the other names keep the old file).
#
# ST_TARGET_HELPER is tests/fault/st-target-helper (built); the library comes from the build tree
# (tests/meson.build). FUSE mounts need root, or a user fusermount3 lets mount: otherwise the tests skip
# and say why.

import json
import os
import pathlib
import re
import shutil
import struct
import subprocess
import tempfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
BUILD = HERE.parents[1] / "_build"
HELPER = os.environ.get("ST_TARGET_HELPER") or str(
    pathlib.Path(os.environ.get("G_TEST_BUILDDIR") or BUILD / "tests") / "fault" / "st-target-helper")
HIDDEN = re.compile(r"^\.st-")
# The hidden name of a save to a path without O_TMPFILE: a hash of the target's name, 6 random characters.
RECOVERABLE = re.compile(r"^\.st-[0-9a-f]{8}-[A-Za-z0-9]{6}$")
CHUNKS = 48
IS_ROOT = os.geteuid() == 0
NOBODY = 65534


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


# ACLs, extended attributes, hard links

@pytest.fixture
def shared_dir():
    """A folder of /tmp that other users may enter (pytest's tmp_path is not: 0700)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="st-target-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def run(*args):
    return subprocess.run([*map(str, args)], capture_output=True, text=True, check=True).stdout


def acl_of(path):
    return run("getfacl", "--absolute-names", "--omit-header", "--numeric", path)


def metadata_of(path):
    """The __metadata__ of @path, read by hand from its header."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)).get("__metadata__", {})


def nobody_reads(path):
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--",
                           "cat", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


@pytest.mark.parametrize("way", ["writer", "save"])
def test_resave_keeps_acl_and_mode(shared_dir, way):
    for tool in ("setfacl", "getfacl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (Debian package acl) is not installed")
    target = shared_dir / "model.safetensors"
    helper(way, target, 1, 4)
    target.chmod(0o640)
    # The owning group may read; user nobody, through the ACL, may read and write: the mode's group
    # bits show the ACL's mask (rw), not the owning group's entry (r).
    result = subprocess.run(["setfacl", "-m", f"u:{NOBODY}:rw", str(target)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"this file system takes no ACL: {result.stderr.strip()}")
    acl = acl_of(target)
    mode = target.stat().st_mode
    assert f"user:{NOBODY}:rw-" in acl and "group::r--" in acl and "mask::rw-" in acl, acl
    assert oct(mode & 0o7777) == oct(0o660)
    if IS_ROOT:
        assert nobody_reads(target)

    helper(way, target, 2, 4)
    assert seed_of(target) == 2
    assert acl_of(target) == acl
    assert oct(target.stat().st_mode & 0o7777) == oct(mode & 0o7777)
    if IS_ROOT:
        assert nobody_reads(target)


def test_sharded_resave_keeps_acls(shared_dir):
    """Shards too, in both ways a sharded save commits: open files, and (past 64 files) parked ones."""
    for tool in ("setfacl", "getfacl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (Debian package acl) is not installed")
    for n in (3, 70):
        folder = shared_dir / f"n{n}"
        folder.mkdir()
        helper("shard", folder, 1, n)
        shards = sorted(folder.glob("model-*.safetensors"))
        assert len(shards) == n
        acls = {}
        for shard in (shards[0], shards[-1]):
            shard.chmod(0o640)
            result = subprocess.run(["setfacl", "-m", f"u:{NOBODY}:rw", str(shard)], capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"this file system takes no ACL: {result.stderr.strip()}")
            acls[shard] = acl_of(shard)
        helper("shard", folder, 2, n)
        for shard, acl in acls.items():
            assert metadata_of(shard) == {"seed": "2"}
            assert acl_of(shard) == acl, shard
            assert oct(shard.stat().st_mode & 0o7777) == oct(0o660)
            if IS_ROOT:
                assert nobody_reads(shard)


def test_resave_without_acl_drops_inherited_one(shared_dir):
    """A file that had no ACL has none after a re-save, even in a folder whose default ACL gives one."""
    for tool in ("setfacl", "getfacl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (Debian package acl) is not installed")
    target = shared_dir / "model.safetensors"
    helper("save", target, 1, 4)
    target.chmod(0o600)
    result = subprocess.run(["setfacl", "-d", "-m", f"u:{NOBODY}:r", str(shared_dir)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"this file system takes no ACL: {result.stderr.strip()}")
    acl = acl_of(target)
    assert f"user:{NOBODY}" not in acl

    helper("save", target, 2, 4)
    assert acl_of(target) == acl
    assert oct(target.stat().st_mode & 0o7777) == oct(0o600)
    if IS_ROOT:
        assert not nobody_reads(target)


def test_xattrs_and_hard_links_in_place_and_rewritten(shared_dir):
    for tool in ("setfattr", "getfattr"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (Debian package attr) is not installed")
    target = shared_dir / "model.safetensors"
    helper("save", target, 1, 4)
    helper("edit", target, "note", "aaaa")
    result = subprocess.run(["setfattr", "-n", "user.origin", "-v", "hub", str(target)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        pytest.skip(f"this file system takes no user extended attributes: {result.stderr.strip()}")

    def origin(path):
        return run("getfattr", "--absolute-names", "--only-values", "-n", "user.origin", path)

    # Same header length: edited in place, the same file.
    inode = target.stat().st_ino
    assert helper("edit", target, "note", "bbbb").stdout.strip() == "in-place"
    assert target.stat().st_ino == inode
    assert metadata_of(target) == {"seed": "1", "note": "bbbb"}
    assert origin(target) == "hub"

    # Another length: a new file, which keeps the attribute too.
    assert helper("edit", target, "note", "c" * 40).stdout.strip() == "rewritten"
    assert target.stat().st_ino != inode
    assert metadata_of(target) == {"seed": "1", "note": "c" * 40}
    assert origin(target) == "hub"

    # Another name for the file: even an edit of the same length rewrites, and the other name keeps the
    # old file, with its attribute.
    other = shared_dir / "snapshot.safetensors"
    os.link(target, other)
    assert helper("edit", target, "note", "d" * 40).stdout.strip() == "rewritten"
    assert metadata_of(target) == {"seed": "1", "note": "d" * 40}
    assert metadata_of(other) == {"seed": "1", "note": "c" * 40}
    assert target.stat().st_nlink == 1 and other.stat().st_nlink == 1
    assert origin(target) == "hub" and origin(other) == "hub"
    assert seed_of(target) == 1 and seed_of(other) == 1
