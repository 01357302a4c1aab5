# test_fault.py: faults injected into saves and loads (issue 9: never lose a byte)
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# Each test interrupts or starves a save or a load, as a hostile world would: SIGKILL at random points,
# a full disk, read-only folders and files (as an unprivileged user too), special files, names of 255
# bytes, a file larger than RAM + swap, a file truncated during a load. Each asserts that the old data
# or the new data is whole, that nothing else is left, and that the error says what and where.
#
# ST_FAULT_HELPER is tests/fault/st-fault-helper (built), ST_TOOL st-tool; the library and typelib come
# from the build tree (tests/meson.build). Run as root, as CI does, the permission tests run as the
# user "nobody" through setpriv, and the disk-full tests on a small tmpfs; otherwise as the current
# user and with RLIMIT_FSIZE.

import errno
import json
import os
import pathlib
import random
import re
import resource
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
BUILD = HERE.parents[1] / "_build"
HELPER = os.environ.get("ST_FAULT_HELPER") or str(
    pathlib.Path(os.environ.get("G_TEST_BUILDDIR") or BUILD / "tests") / "fault" / "st-fault-helper")
TOOL = os.environ.get("ST_TOOL") or str(BUILD / "tools" / "st-tool")
PYTHON = "/usr/bin/python3"
IS_ROOT = os.geteuid() == 0
DEBRIS = re.compile(r"^\.st-[A-Za-z0-9]{6}$")
# How many SIGKILLs each kill loop deals (build-aux/test's long run sets more). A count, not a time window:
# on a loaded machine the loop takes longer, and proves as much.
KILLS = int(os.environ.get("ST_FAULT_KILLS", "20"))
# The LD_PRELOAD module that stops a process (SIGSTOP) at a counted point of its pread()s or pwrite()s, or
# fails a write: tests act there (truncate, kill), then let the process go on or not (st-fault-inject.c).
FAULT_INJECT = os.path.join(os.path.dirname(HELPER), "st-fault-inject.so")


def helper(*args, check=True, **kwargs):
    result = subprocess.run([HELPER, *map(str, args)], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"st-fault-helper {args}: status {result.returncode}: {result.stderr}")
    return result


def seed_of(path):
    """The seed of the whole checkpoint at @path (a file or an index), or the loader's error."""
    result = helper("check", path, check=False)
    if result.returncode != 0:
        return None, result.stderr.strip()
    return int(result.stdout.split()[1]), None


def listing(directory):
    return sorted(p.name for p in pathlib.Path(directory).iterdir())


def drop_debris(directory):
    """Removes and counts the hidden .st-XXXXXX files a kill between link and rename can leave."""
    found = [name for name in listing(directory) if DEBRIS.match(name)]
    for name in found:
        os.unlink(os.path.join(directory, name))
    return len(found)


def timed(args, cleanup):
    """The median time of three runs of st-fault-helper @args, calling @cleanup after each."""
    times = []
    for _ in range(3):
        start = time.monotonic()
        helper(*args)
        times.append(time.monotonic() - start)
        cleanup()
    return sorted(times)[1]


def kill_at_random(args, duration, rng):
    """Starts st-fault-helper @args and kills it with SIGKILL at a random point of its run."""
    process = subprocess.Popen([HELPER, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(rng.uniform(0, duration * 1.1))
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    assert process.returncode in (0, -signal.SIGKILL), stderr.decode()
    return process.returncode == 0


# Kills

def test_sigkill_during_single_saves_leaves_old_or_new(tmp_path):
    rng = random.Random(9)
    target = tmp_path / "model.safetensors"
    helper("save", target, 32, 1)
    probe = tmp_path / "probe.safetensors"
    duration = timed(("save", probe, 32, 2), probe.unlink)

    whole, seed, debris, iterations, finished = 1, 2, 0, 0, 0
    while iterations < KILLS:
        finished += kill_at_random(("save", target, 32, seed), duration, rng)
        found, error = seed_of(target)
        assert error is None, f"after a kill, the target does not load: {error}"
        assert found in (whole, seed), f"the target holds seed {found}, neither the old {whole} nor the new {seed}"
        whole = found
        debris += drop_debris(tmp_path)
        assert listing(tmp_path) == ["model.safetensors"]
        seed += 1
        iterations += 1
    print(f"{iterations} kills, {finished} saves finished first, {debris} left a hidden file")
    # A kill between link() and rename() (two consecutive system calls) leaves one hidden file.
    assert debris <= 1 + iterations // 100


def test_sigkill_during_sharded_saves_leaves_old_or_new(tmp_path):
    # Seeds of different parity have different tensor names: shards of two saves beside one index
    # then disagree with it, and the loader names the shard (doc/durability.md).
    rng = random.Random(11)
    index = tmp_path / "model.safetensors.index.json"
    helper("shard", tmp_path, 32, 1, 4)
    expected = ["model-0000%d-of-00004.safetensors" % k for k in range(1, 5)] + [index.name]
    assert listing(tmp_path) == expected
    (tmp_path / "probe").mkdir()
    probe = tmp_path / "probe"
    duration = timed(("shard", probe, 32, 2, 4), lambda: (shutil.rmtree(probe), probe.mkdir()))
    probe.rmdir()

    whole, seed, debris, mixed, iterations = 1, 2, 0, 0, 0
    while iterations < max(KILLS * 3 // 4, 1):
        kill_at_random(("shard", tmp_path, 32, seed, 4), duration, rng)
        found, error = seed_of(index)
        if error is not None:
            # Killed during the renames of the commit: the loader must say which shard disagrees.
            assert re.search(r"[Ss]hard “model-0000[1-4]-of-00004\.safetensors”", error), error
            mixed += 1
            helper("shard", tmp_path, 32, seed, 4)
            found = seed
        assert found in (whole, seed), f"the checkpoint holds seed {found}, neither {whole} nor {seed}"
        whole = found
        debris += drop_debris(tmp_path)
        assert listing(tmp_path) == expected
        # The next save has the other layout than the checkpoint on disk, whichever that is.
        seed += 1 if (seed + 1) % 2 != whole % 2 else 2
        iterations += 1
    print(f"{iterations} kills, {mixed} in the commit's renames, {debris} left a hidden file")
    # How many random kills land in the commit's renames depends on the machine's load, not on the
    # library: each of them was refused above with the shard named, which is the guarantee. Every step of
    # the commit is killed deterministically in test_shard_faults.py
    # (test_a_kill_at_each_step_of_the_commit_never_gives_a_mix).
    assert debris <= 1 + iterations // 50


def test_failed_sharded_save_removes_nothing_and_a_new_count_replaces_the_old(tmp_path):
    helper("shard", tmp_path, 4, 1, 2)
    old = listing(tmp_path)
    assert old == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                   "model.safetensors.index.json"]
    # A save that cannot replace one of its targets (a directory) fails before it writes anything.
    (tmp_path / "model-00003-of-00004.safetensors").mkdir()
    result = helper("shard", tmp_path, 4, 2, 4, check=False)
    assert result.returncode == 1
    assert "model-00003-of-00004.safetensors" in result.stderr and "directory" in result.stderr, result.stderr
    assert listing(tmp_path) == sorted(old + ["model-00003-of-00004.safetensors"])
    assert seed_of(tmp_path / "model.safetensors.index.json") == (1, None)
    (tmp_path / "model-00003-of-00004.safetensors").rmdir()
    # Another shard count: new names, the old shards removed only after the new index is in place.
    helper("shard", tmp_path, 4, 3, 4)
    assert listing(tmp_path) == ["model-0000%d-of-00004.safetensors" % k for k in range(1, 5)] + \
        ["model.safetensors.index.json"]
    assert seed_of(tmp_path / "model.safetensors.index.json") == (3, None)


# A full disk

@pytest.fixture
def small_disk(tmp_path):
    """A directory with 6 MiB of room: a tmpfs where mount works, else RLIMIT_FSIZE for the helper."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = IS_ROOT and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)],
                                         capture_output=True).returncode == 0
    try:
        yield mount_point, mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(mount_point)], check=True)


def limited(mounted):
    if mounted:
        return {}

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (6 << 20, 6 << 20))
    return {"preexec_fn": limit}


def test_disk_full_leaves_the_old_file_and_no_debris(small_disk):
    directory, mounted = small_disk
    target = directory / "model.safetensors"
    helper("save", target, 2, 1)
    result = helper("save", target, 16, 2, check=False, **limited(mounted))
    assert result.returncode == 1
    assert str(target) in result.stderr
    assert ("No space left on device" if mounted else "File too large") in result.stderr
    assert seed_of(target) == (1, None)
    assert listing(directory) == ["model.safetensors"]


def test_disk_full_during_a_sharded_save_leaves_the_old_checkpoint(small_disk):
    directory, mounted = small_disk
    helper("shard", directory, 2, 1, 4)
    old = listing(directory)
    result = helper("shard", directory, 16, 2, 4, check=False, **limited(mounted))
    assert result.returncode == 1
    assert re.search(r"model-0000[1-4]-of-00004\.safetensors", result.stderr), result.stderr
    assert listing(directory) == old
    assert seed_of(directory / "model.safetensors.index.json") == (1, None)


# Read-only folders and files, as an unprivileged user

def as_nobody(args):
    """@args as the user nobody when we are root (setpriv), else as ourselves."""
    if IS_ROOT:
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *map(str, args)]
    return list(map(str, args))


def unprivileged_helper(directory):
    """A copy of st-fault-helper and of the library it links to, in @directory (readable by anyone), and
    the LD_LIBRARY_PATH that finds that library. The build tree may sit in a folder other users cannot
    read (a package build in a mktemp -d folder, issue 20.13): nobody could not run it from there."""
    directory = pathlib.Path(directory)
    lib_dir = directory / "lib"
    lib_dir.mkdir(mode=0o755)
    helper_copy = directory / "st-fault-helper"
    shutil.copy(HELPER, helper_copy)
    os.chmod(helper_copy, 0o755)
    ldd = subprocess.run(["ldd", HELPER], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        match = re.match(r"\s*(libsafetensors-glib[^ ]*) => (/[^ ]+)", line)
        if match:
            shutil.copy(match.group(2), lib_dir / match.group(1))
            os.chmod(lib_dir / match.group(1), 0o755)
    assert list(lib_dir.iterdir()), f"st-fault-helper links to no libsafetensors-glib: {ldd}"
    return str(helper_copy), str(lib_dir)


def run_unprivileged(shared, *args):
    helper_copy, lib_dir = shared.helper
    env = dict(os.environ, LD_LIBRARY_PATH=lib_dir)
    return subprocess.run(as_nobody([helper_copy, *args]), capture_output=True, text=True, env=env)


class SharedDir(type(pathlib.Path())):
    """A pathlib.Path with the unprivileged helper copied beside it (.helper)."""


@pytest.fixture
def shared_dir():
    """A directory the unprivileged user can reach (tmp_path's parents may be private to root): a new one
    under /tmp (not $TMPDIR, which may be closed to others), with the helper that user runs."""
    top = tempfile.mkdtemp(prefix="st-fault-", dir="/tmp")
    os.chmod(top, 0o755)
    directory = SharedDir(top) / "work"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    tools = pathlib.Path(top) / "helper"
    tools.mkdir(mode=0o755)
    directory.helper = unprivileged_helper(tools)
    try:
        # The unprivileged user really can run the copy (else every test below would fail for that).
        check = subprocess.run(as_nobody([directory.helper[0]]), capture_output=True, text=True,
                               env=dict(os.environ, LD_LIBRARY_PATH=directory.helper[1]))
        assert check.returncode == 2 and "usage" in check.stderr, check.stderr
        yield directory
    finally:
        for root, dirs, _files in os.walk(top):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        shutil.rmtree(top)


def test_read_only_folder_refuses_the_save_and_keeps_the_file(shared_dir):
    folder = shared_dir / "ro"
    folder.mkdir()
    target = folder / "model.safetensors"
    helper("save", target, 1, 1)
    os.chmod(target, 0o666)
    os.chmod(folder, 0o555)
    if IS_ROOT:
        os.chown(folder, 0, 0)
    elif os.access(folder, os.W_OK):
        pytest.skip("this user can write into a folder of mode 0555")
    result = run_unprivileged(shared_dir, "save", target, 1, 2)
    assert result.returncode == 1
    assert "Permission denied" in result.stderr and str(target) in result.stderr, result.stderr
    assert seed_of(target) == (1, None)
    assert listing(folder) == ["model.safetensors"]


def test_read_only_file_in_a_writable_folder_is_not_replaced(shared_dir):
    folder = shared_dir / "rw"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    target = folder / "model.safetensors"
    helper("save", target, 1, 1)
    os.chmod(target, 0o444)
    if IS_ROOT:
        os.chown(target, 65534, 65534)
    result = run_unprivileged(shared_dir, "save", target, 1, 2)
    assert result.returncode == 1
    assert "Permission denied" in result.stderr and str(target) in result.stderr, result.stderr
    assert seed_of(target) == (1, None)
    assert listing(folder) == ["model.safetensors"]
    # Made writable again, it is replaced, and keeps its mode.
    os.chmod(target, 0o640)
    assert run_unprivileged(shared_dir, "save", target, 1, 3).returncode == 0
    assert seed_of(target) == (3, None)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another user")
def test_root_keeps_owner_group_and_mode(tmp_path):
    target = tmp_path / "model.safetensors"
    helper("save", target, 1, 1)
    os.chown(target, 65534, 65534)
    os.chmod(target, 0o604)
    helper("save", target, 1, 2)
    info = os.stat(target)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (65534, 65534, 0o604)
    assert seed_of(target) == (2, None)


@pytest.mark.skipif(not IS_ROOT, reason="needs a read-only mount")
def test_read_only_file_system_says_so(tmp_path):
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount_point)]).returncode != 0:
        pytest.skip("mount is not permitted here")
    try:
        result = helper("save", mount_point / "model.safetensors", 1, 1, check=False)
        assert result.returncode == 1
        assert "Read-only file system" in result.stderr and str(mount_point) in result.stderr, result.stderr
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


# Special targets

def expected_bytes(tmp_path, mib, seed):
    reference = tmp_path / f"reference-{seed}.safetensors"
    helper("save", reference, mib, seed)
    data = reference.read_bytes()
    reference.unlink()
    return data


def test_dev_null_is_a_sink_and_stays_a_device(tmp_path):
    before = os.stat("/dev/null")
    helper("save", "/dev/null", 1, 1)
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


def read_all_in_thread(opener):
    received = {}

    def reader():
        with opener() as stream:
            chunks = []
            while True:
                chunk = stream.read(1 << 20) if hasattr(stream, "read") else stream.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            received["data"] = b"".join(chunks)
    thread = threading.Thread(target=reader)
    thread.start()
    return thread, received


@pytest.mark.parametrize("through_symlink", [False, True])
def test_fifo_receives_the_bytes_and_stays_a_fifo(tmp_path, through_symlink):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = fifo
    if through_symlink:
        target = tmp_path / "link.safetensors"
        target.symlink_to(fifo)
    thread, received = read_all_in_thread(lambda: open(fifo, "rb"))
    helper("save", target, 2, 5)
    thread.join(30)
    assert received["data"] == expected_bytes(tmp_path, 2, 5)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert not through_symlink or os.path.islink(target)


def test_unix_socket_receives_the_bytes(tmp_path):
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    class Accepted:
        def __enter__(self):
            self.connection, _ = server.accept()
            return self.connection

        def __exit__(self, *exc):
            self.connection.close()
    thread, received = read_all_in_thread(Accepted)
    helper("save", path, 1, 6)
    thread.join(30)
    server.close()
    assert received["data"] == expected_bytes(tmp_path, 1, 6)
    assert stat.S_ISSOCK(os.stat(path).st_mode)


# Names of 255 bytes

def test_names_of_255_bytes_save_replace_and_leave_nothing(tmp_path):
    name = "n" * (255 - len(".safetensors")) + ".safetensors"
    target = tmp_path / name
    helper("save", target, 1, 1)
    helper("save", target, 1, 2)
    assert seed_of(target) == (2, None)
    assert listing(tmp_path) == [name]
    subprocess.run([TOOL, "metadata", str(target), "--set", "k=v"], check=True, capture_output=True)
    assert listing(tmp_path) == [name]


# A file larger than RAM + swap

def meminfo_kib(key):
    for line in open("/proc/meminfo"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


@pytest.fixture(scope="module")
def huge_file(tmp_path_factory):
    """A sparse file of 1 GiB U8 tensors, larger in all than RAM + swap."""
    if open("/proc/sys/vm/overcommit_memory").read().strip() == "2":
        pytest.skip("strict overcommit (mode 2) charges every private writable mapping")
    total = (meminfo_kib("MemTotal") + meminfo_kib("SwapTotal")) * 1024
    n_tensors = total // (1 << 30) + 2
    header = {f"t{i:03d}": {"dtype": "U8", "shape": [1 << 30], "data_offsets": [i << 30, (i + 1) << 30]}
              for i in range(n_tensors)}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path = tmp_path_factory.mktemp("huge") / "huge.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        f.truncate(8 + len(text) + (n_tensors << 30))
    assert os.stat(path).st_size > total
    if os.stat(path).st_blocks * 512 > 1 << 20:
        pytest.skip("this file system does not keep files sparse")
    return path, n_tensors


RSS_LIMIT_KIB = 300 * 1024


def test_huge_file_opens_in_st_tool(huge_file):
    path, n_tensors = huge_file
    # Not --no-mmap: it reads every byte into memory, which a file larger than RAM + swap cannot fit.
    for command in (["info"], ["list"], ["validate"]):
        result = subprocess.run([TOOL, *command, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"st-tool {command}: {result.stderr}"
    listed = json.loads(subprocess.run([TOOL, "list", "--json", str(path)], capture_output=True, text=True,
                                       check=True).stdout)
    assert len(listed) == n_tensors


def test_huge_file_opens_in_c_and_rss_stays_small(huge_file):
    path, _ = huge_file
    result = helper("read", path)
    hwm = int(result.stdout.split()[1])
    assert hwm < RSS_LIMIT_KIB, f"peak RSS {hwm} KiB"


PYTHON_HUGE = r"""
import sys
from safetensors_glib.numpy import load_file
from safetensors_glib import safe_open
tensors = load_file(sys.argv[1])
total = sum(int(a[0]) + int(a[-1]) for a in tensors.values())
with safe_open(sys.argv[1], framework="np") as f:
    t = f.get_tensor("t000")
    total += int(t[4096 * 3])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(len(tensors), total, hwm)
"""


def test_huge_file_opens_in_python_and_rss_stays_small(huge_file):
    path, n_tensors = huge_file
    result = subprocess.run([PYTHON, "-c", PYTHON_HUGE, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    count, total, hwm = map(int, result.stdout.split())
    assert count == n_tensors and total == 0
    assert hwm < RSS_LIMIT_KIB, f"peak RSS {hwm} KiB"


GJS_HUGE = r"""
import GLib from 'gi://GLib';
import ST from 'gi://ST?version=1.0';
const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);
const file = ST.File.new_from_path(ARGV[0], null);
let total = 0;
for (const name of file.dup_names_sorted()) {
    const array = Safetensors.typedArray(file.get_tensor(name));
    total += array[0] + array[array.length - 1];
}
const status = new TextDecoder().decode(GLib.file_get_contents('/proc/self/status')[1]);
print(file.get_n_tensors(), total, status.match(/VmHWM:\s+(\d+)/)[1]);
"""


def test_huge_file_opens_in_gjs_and_rss_stays_small(huge_file, tmp_path):
    path, n_tensors = huge_file
    gjs = shutil.which("gjs")
    module_dir = os.environ.get("ST_GJS_MODULE_DIR")
    if gjs is None or module_dir is None:
        pytest.skip("gjs or the GJS module is not available")
    script = tmp_path / "huge.js"
    script.write_text(GJS_HUGE)
    result = subprocess.run([gjs, "-m", str(script), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    count, total, hwm = map(int, result.stdout.split())
    assert count == n_tensors and total == 0
    assert hwm < RSS_LIMIT_KIB, f"peak RSS {hwm} KiB"


# Truncation during a load

@pytest.mark.skipif(not os.path.exists(FAULT_INJECT), reason="st-fault-inject.so is not built")
def test_truncation_during_a_pread_load_is_an_error_not_a_crash(tmp_path):
    # The loader stops itself (SIGSTOP, from st-fault-inject.so) once it has read a given number of bytes,
    # at random points of the data; the file is truncated to 1 MiB while it stands still, then it goes on.
    rng = random.Random(5)
    path = tmp_path / "big.safetensors"
    helper("save", path, 64, 7)
    size = os.stat(path).st_size
    for attempt in range(8):
        # Short of the last 20 MiB: the loader reads in blocks (16 MiB), and one more must follow.
        after = rng.randrange(2 << 20, size - (20 << 20))
        env = dict(os.environ, LD_PRELOAD=FAULT_INJECT, ST_FAULT_AT=f"read-bytes:{after}", ST_FAULT_DO="stop")
        process = subprocess.Popen([HELPER, "read", str(path), "no-mmap"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env)
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), f"the loader ended before reading {after} of {size} bytes: {status}"
        os.truncate(path, 1 << 20)
        os.kill(process.pid, signal.SIGCONT)
        stdout, stderr = process.communicate()
        assert process.returncode == 1, f"status {process.returncode} after a truncation at byte {after}: {stderr}"
        assert str(path) in stderr and "truncated during the load" in stderr, stderr
        helper("save", path, 64, 7)
        assert os.stat(path).st_size == size


def file_with_value(value):
    """A file of one tensor whose metadata "k" is @value, typed out (not written by our writer)."""
    text = ('{"__metadata__":{"k":"%s"},"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}' % value).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes([1, 2, 3, 4])


def kill_an_in_place_edit_after_each_write(tmp_path, check):
    """st-tool rewrites the header of a file in place (same length), with its writes made short (half of
    what is asked, so that the new JSON goes in several pieces) and a SIGKILL after the N-th, for every N
    until the edit finishes first; check(path, n, old, new) looks at the file after each kill."""
    old, new = "a" * 48, "b" * 48
    path = tmp_path / "m.safetensors"
    original = file_with_value(old)
    kills = 0
    for n in range(1, 200):
        path.write_bytes(original)
        env = dict(os.environ, LD_PRELOAD=FAULT_INJECT, ST_FAULT_SHORT_WRITES="1", ST_FAULT_AT=f"write-done:{n}",
                   ST_FAULT_DO="stop")
        process = subprocess.Popen([TOOL, "metadata", "--set", f"k={new}", str(path)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            # It finished before its N-th write: every write point was tried.
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
            process.returncode = 0
            assert path.read_bytes() == file_with_value(new)
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        check(path, n, old, new)
    else:
        raise AssertionError("the edit never finished")
    print(f"{kills} kills, one after each write of the edit")
    assert kills >= 3


def assert_refused_or_old_or_new(path, n, old, new, when):
    shown = tool("metadata", "--json", path)
    if shown.returncode == 0:
        assert json.loads(shown.stdout) in ({"k": old}, {"k": new}), \
            f"killed after write {n}, {when}: a reader got {shown.stdout.strip()}"
    else:
        assert str(path) in shown.stderr, shown.stderr


@pytest.mark.skipif(not os.path.exists(FAULT_INJECT), reason="st-fault-inject.so is not built")
def test_a_kill_between_the_writes_of_an_in_place_edit_never_shows_a_torn_header(tmp_path):
    # After each kill, any reader either refuses the file (its header is marked as being rewritten) or
    # reads the old value or the new one, never a mix.
    kill_an_in_place_edit_after_each_write(
        tmp_path, lambda path, n, old, new: assert_refused_or_old_or_new(path, n, old, new, "after the kill"))


@pytest.mark.skipif(not os.path.exists(FAULT_INJECT), reason="st-fault-inject.so is not built")
def test_repair_after_a_kill_in_an_in_place_edit_gives_old_or_new(tmp_path):
    # --repair may refuse (the file stays refused) or complete the edit, to the old value or the new one.
    def check(path, n, old, new):
        tool("metadata", "--repair", path)
        assert_refused_or_old_or_new(path, n, old, new, "after --repair")

    kill_an_in_place_edit_after_each_write(tmp_path, check)


def count_the_writes_of_an_in_place_edit(tmp_path, original, new):
    """How many writes (short ones, as ST_FAULT_SHORT_WRITES makes them) an in-place edit of @original makes
    when none fails: the edit is stopped after its N-th write, for every N until it finishes first."""
    path = tmp_path / "counted.safetensors"
    for n in range(1, 200):
        path.write_bytes(original)
        env = dict(os.environ, LD_PRELOAD=FAULT_INJECT, ST_FAULT_SHORT_WRITES="1", ST_FAULT_AT=f"write-done:{n}",
                   ST_FAULT_DO="stop")
        process = subprocess.Popen([TOOL, "metadata", "--set", f"k={new}", str(path)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
            process.returncode = 0
            return n - 1
        process.send_signal(signal.SIGKILL)
        process.wait()
    raise AssertionError("the edit never finished")


@pytest.mark.skipif(not os.path.exists(FAULT_INJECT), reason="st-fault-inject.so is not built")
@pytest.mark.parametrize("in_a_row", [1, 4])
def test_a_failed_write_in_an_in_place_edit_puts_the_old_header_back(tmp_path, in_a_row):
    # The N-th write of the edit fails (ENOSPC), for each N up to the number of writes an edit makes, the
    # others succeed. The edit either fails, leaving the file readable with its old value (the old JSON
    # written back, the mark cleared) or, when the failed write was the last one (the unmarking), saying
    # what happened; or it completes: a rewrite of the header tries an ENOSPC again once space is given
    # back or the file system has committed (copy-on-write file systems, st-file-edit.c's overwrite()),
    # and the file then holds exactly the new value. Two failures in a row outlast that second try: the
    # old JSON must then be put back over the half-written new one.
    old, new = "a" * 48, "b" * 48
    path = tmp_path / "m.safetensors"
    original = file_with_value(old)
    n_writes = count_the_writes_of_an_in_place_edit(tmp_path, original, new)
    assert n_writes >= 3, n_writes
    failures = retried = 0
    for n in range(1, n_writes + 1):
        path.write_bytes(original)
        env = dict(os.environ, LD_PRELOAD=FAULT_INJECT, ST_FAULT_SHORT_WRITES="1", ST_FAULT_AT=f"write-call:{n}",
                   ST_FAULT_DO="enospc", ST_FAULT_TIMES=str(in_a_row))
        done = subprocess.run([TOOL, "metadata", "--set", f"k={new}", str(path)], env=env,
                              capture_output=True, text=True)
        if done.returncode == 0:
            assert path.read_bytes() == file_with_value(new), f"write {n} failed and was tried again"
            retried += 1
            continue
        failures += 1
        assert "No space left on device" in done.stderr and str(path) in done.stderr, done.stderr
        shown = tool("metadata", "--json", path)
        if shown.returncode == 0:
            assert json.loads(shown.stdout) in ({"k": old}, {"k": new}), f"write {n} failed: {shown.stdout}"
        else:
            # Marked. With one failure, only a failure of the final unmarking leaves it so, the new header
            # whole: --repair completes it. With failures in a row, the marking or the journal may fail and
            # its undoing too, and --repair then gives the old value; but a failed write of the header
            # itself leaves the mark only at the final unmarking (a failure while the new JSON is written
            # puts the old JSON back at once), so after "Could not write the header" it is the new one.
            assert tool("metadata", "--repair", path).returncode == 0
            value = json.loads(tool("metadata", "--json", path).stdout)
            if in_a_row == 1 or "Could not write the header of" in done.stderr:
                assert value == {"k": new}, f"write {n} failed: {done.stderr}"
            else:
                assert value in ({"k": old}, {"k": new}), f"write {n} failed: {done.stderr}"
    print(f"{n_writes} writes: {failures} failed edits, {retried} writes tried again")
    # The journal's writes are never tried again: a failure there fails the edit.
    assert failures >= 3


def test_a_mapped_load_of_a_truncated_file_fails_cleanly_when_opened_after(tmp_path):
    path = tmp_path / "model.safetensors"
    helper("save", path, 1, 1)
    os.truncate(path, os.stat(path).st_size - 1)
    result = helper("read", path, check=False)
    assert result.returncode == 1 and str(path) in result.stderr and "data buffer" in result.stderr


# st-tool: one writer, inputs read once, JSON that is JSON

def tool(*args, **kwargs):
    return subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, **kwargs)


def write_with_header_length(path, length):
    """A valid file of one U8 tensor whose header is padded to @length bytes."""
    text = json.dumps({"x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}, separators=(",", ":"))
    text = text.encode() + b" " * (length - len(text))
    path.write_bytes(struct.pack("<Q", length) + text + b"\x01\x02\x03\x04")


@pytest.mark.parametrize("length", [123, 379, 31520 + 123 - 31520 % 256])
def test_validate_accepts_headers_whose_length_starts_with_a_brace(tmp_path, length):
    path = tmp_path / "brace.safetensors"
    write_with_header_length(path, length)
    assert path.read_bytes()[0:1] == b"{"
    result = tool("validate", path)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr


def test_validate_reads_pipes_fifos_and_stdin_once(tmp_path):
    path = tmp_path / "brace.safetensors"
    write_with_header_length(path, 123)
    data = path.read_bytes()
    result = subprocess.run([TOOL, "validate", "/dev/stdin"], input=data, capture_output=True)
    assert result.returncode == 0 and b"OK (1 tensor" in result.stdout, result
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as f:
            f.write(data)
    thread = threading.Thread(target=feed)
    thread.start()
    result = tool("validate", fifo, timeout=30)
    thread.join(30)
    assert result.returncode == 0 and "OK (1 tensor" in result.stdout, result.stdout + result.stderr


def test_validate_names_a_symlink_loop(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = tool("validate", tmp_path / "a")
    assert result.returncode == 1 and "loop of symbolic links" in result.stdout, result.stdout


def test_validate_still_explains_what_a_bad_file_is(tmp_path):
    path = tmp_path / "page.safetensors"
    path.write_text("<!DOCTYPE html><html>Not found</html>")
    result = tool("validate", path)
    assert result.returncode == 1 and "HTML page" in result.stdout


def test_list_json_escapes_control_characters(tmp_path):
    path = tmp_path / "control.safetensors"
    text = json.dumps({"a\u001fb": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                       "__metadata__": {"k\u0001": "v\u001f"}}).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"\x00")
    for command in (["list", "--json"], ["info", "--json"], ["metadata", "--json"]):
        result = tool(*command, path)
        assert result.returncode == 0, result.stderr
        assert not re.search(r"[\x00-\x09\x0b-\x1f]", result.stdout), repr(result.stdout)
        json.loads(result.stdout)
    assert json.loads(tool("list", "--json", path).stdout)[0]["name"] == "a\u001fb"


def test_merge_writes_through_the_library_writer(tmp_path):
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    helper("shard", checkpoint, 1, 4, 3)
    # merge -o keeps the mode of what it replaces, and follows a symlink instead of replacing it.
    real = tmp_path / "real.safetensors"
    helper("save", real, 1, 1)
    os.chmod(real, 0o600)
    link = tmp_path / "link.safetensors"
    link.symlink_to(real)
    result = tool("merge", checkpoint, "-o", link, "--sync")
    assert result.returncode == 0, result.stderr
    assert os.path.islink(link) and stat.S_IMODE(os.stat(real).st_mode) == 0o600
    assert seed_of(real) == (4, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "link.safetensors", "real.safetensors"]
    # and to a device, as a stream
    assert tool("merge", checkpoint, "-o", "/dev/null").returncode == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_no_mmap_and_sync_options(tmp_path):
    path = tmp_path / "model.safetensors"
    helper("save", path, 1, 3)
    for command in (["info"], ["list"], ["validate"], ["dump", "layer0.odd"]):
        result = tool(command[0], "--no-mmap", path, *command[1:])
        assert result.returncode == 0, f"{command}: {result.stderr}"
    assert tool("metadata", "--sync", path, "--set", "seed=3").returncode == 0
    out = tmp_path / "shards"
    out.mkdir()
    assert tool("shard", "--sync", path, "--max-shard-size", "300KB", "-o", out).returncode == 0
    assert seed_of(out / "model.safetensors.index.json") == (3, None)


# The writer writes only what the reader reads

def test_header_limit_is_checked_before_the_target_is_touched(tmp_path):
    path = tmp_path / "model.safetensors"
    helper("save", path, 1, 1)
    before = path.read_bytes()
    overhead = len('{"__metadata__":{"k":"') + len('"}}')
    # A header of exactly 100,000,000 bytes saves and loads back.
    fits = helper("metadata", tmp_path / "fits.safetensors", 100_000_000 - overhead)
    assert fits.stdout.split() == ["header", "100000000"]
    os.unlink(tmp_path / "fits.safetensors")
    # One byte more (padded to 100,000,008) is refused before the target is touched.
    result = helper("metadata", path, 100_000_000 - overhead + 1, check=False)
    assert result.returncode == 1
    assert "100000008" in result.stderr and "100000000" in result.stderr and "nothing was written" in result.stderr
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["model.safetensors"]


# Python: Hugging Face's backend= keyword, and sync=

PYTHON_KEYWORDS = r"""
import errno, os, sys
import numpy as np
from safetensors_glib import SafetensorError, safe_open
from safetensors_glib.numpy import load_file, save_file
path = sys.argv[1]
arrays = {"a": np.arange(10, dtype=np.float32), "b": np.ones((2, 3), dtype=np.int64)}
save_file(arrays, path, sync=True)
save_file(arrays, path.replace(".safetensors", "-sharded.safetensors"), max_shard_size=50, sync=True)
for backend in ("mmap", "pread"):
    loaded = load_file(path, backend=backend)
    assert all((loaded[k] == v).all() for k, v in arrays.items()), backend
    sharded = load_file(path.replace(".safetensors", "-sharded.safetensors.index.json"), backend=backend)
    assert sorted(sharded) == ["a", "b"], backend
    with safe_open(path, framework="np", backend=backend) as f:
        assert (f.get_tensor("a") == arrays["a"]).all()
try:
    load_file(path, backend="nope")
    raise AssertionError("an unknown backend was accepted")
except SafetensorError as e:
    assert str(e) == 'backend "nope" is invalid (expected one of: "mmap", "pread")', str(e)
os.symlink("loop", os.path.join(os.path.dirname(path), "loop"))
try:
    load_file(os.path.join(os.path.dirname(path), "loop"))
except OSError as e:
    assert e.errno == errno.ELOOP, e
else:
    raise AssertionError("loading a loop of symbolic links succeeded")
print("ok")
"""


def test_python_backend_and_sync_keywords(tmp_path):
    result = subprocess.run([PYTHON, "-c", PYTHON_KEYWORDS, str(tmp_path / "np.safetensors")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
