# test_shard_faults.py: sharded saves against concurrent saves, concurrent readers and a failed commit
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# Issue 20, items 4 and 6 (and 7 with concurrency): two processes saving one checkpoint at once; a reader
# loading a checkpoint in a loop while another process re-saves it with the same layout; a commit that
# fails halfway. Every loop is bounded by counts; processes are synchronised on their output, never on
# sleeps. ST_SHARD_HELPER is tests/fault/st-shard-helper (built); the library comes from the build tree.

import os
import pathlib
import re
import shutil
import signal
import subprocess
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
BUILD = HERE.parents[1] / "_build"
HELPER = os.environ.get("ST_SHARD_HELPER") or str(
    pathlib.Path(os.environ.get("G_TEST_BUILDDIR") or BUILD / "tests") / "fault" / "st-shard-helper")
FAULT_INJECT = os.environ.get("ST_FAULT_INJECT") or str(
    pathlib.Path(os.environ.get("G_TEST_BUILDDIR") or BUILD / "tests") / "fault" / "st-fault-inject.so")
IS_ROOT = os.geteuid() == 0
# The hidden name of a new file between its linkat() and its rename() (doc/durability.md).
DEBRIS = re.compile(r"^\.st-[A-Za-z0-9]{6}$")
# What a bounded run may take at most on a loaded machine: a hang fails the test instead of blocking CI.
HANG_LIMIT = 600


def helper(*args, check=True):
    result = subprocess.run([HELPER, *map(str, args)], capture_output=True, text=True, timeout=HANG_LIMIT)
    if check and result.returncode != 0:
        raise AssertionError(f"st-shard-helper {args}: status {result.returncode}: {result.stderr}")
    return result


def start(*args, **kwargs):
    return subprocess.Popen([HELPER, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def listing(directory):
    return sorted(p.name for p in pathlib.Path(directory).iterdir())


def checkpoint_names(n_shards):
    return [f"model-{k:05d}-of-{n_shards:05d}.safetensors" for k in range(1, n_shards + 1)] + \
        ["model.safetensors.index.json"]


def seed_of(directory):
    result = helper("check", pathlib.Path(directory) / "model.safetensors.index.json", check=False)
    assert result.returncode == 0, f"the checkpoint does not load whole: {result.stderr}"
    return int(result.stdout.split()[1])


@pytest.mark.parametrize("counts", [(3, 4), (70, 66)], ids=["few-shards", "parked-shards"])
def test_concurrent_saves_leave_one_whole_checkpoint(tmp_path, counts):
    """Two processes save into one folder at once, with other shard counts and seeds, round after round:
    the folder always ends with one whole checkpoint, one of the two, and nothing else. With more than
    64 files, both saves park their shards in work folders, which neither may take from the other."""
    rounds = 30 if counts[0] < 64 else 10
    seed = 1
    for _ in range(rounds):
        seeds = (seed, seed + 1)
        saves = [start("save", tmp_path, count, s) for count, s in zip(counts, seeds)]
        for save in saves:
            _, stderr = save.communicate(timeout=HANG_LIMIT)
            assert save.returncode == 0, stderr
        found = listing(tmp_path)
        winner = [i for i, count in enumerate(counts) if found == checkpoint_names(count)]
        assert winner, f"the folder holds no single whole checkpoint: {found}"
        assert seed_of(tmp_path) == seeds[winner[0]]
        seed += 2


def held_folder_lock(pid, directory):
    """The file id ("maj:min:inode", as /proc/locks writes it) of the exclusive flock() process @pid holds on
    @directory, read from the lock lines of its descriptor's /proc/PID/fdinfo; None when it holds none. The
    kernel's own id, not one computed from stat(), which differs from it on overlayfs."""
    wanted = os.stat(directory)
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if not os.path.samestat(os.stat(f"/proc/{pid}/fd/{fd}"), wanted):
                continue
            lines = pathlib.Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines()
        except OSError:
            continue  # a descriptor closed meanwhile
        for line in lines:
            fields = line.split()
            # lock:  1: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF
            if fields[:1] == ["lock:"] and fields[2] == "FLOCK" and fields[4] == "WRITE" and int(fields[5]) == pid:
                return fields[6]
    return None


def waits_for_lock(pid, file_id):
    """Whether process @pid is blocked in flock() on the file @file_id (a "->" line of /proc/locks)."""
    for line in pathlib.Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if fields[1:3] == ["->", "FLOCK"] and int(fields[5]) == pid and fields[6] == file_id:
            return True
    return False


def test_a_save_waits_for_the_commit_of_another(tmp_path):
    """A save paused inside its commit (st-fault-inject: at its first rename(), linkat() or unlink(), a
    counted point) holds the folder's lock; a second save started then waits for it, blocked in flock()
    (seen in /proc/locks, not timed), and commits after it: the folder ends with the second checkpoint."""
    helper("save", tmp_path, 3, 2)
    env = dict(os.environ, LD_PRELOAD=FAULT_INJECT, ST_FAULT_AT="name-call:1", ST_FAULT_DO="pause",
               ASAN_OPTIONS="verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", ""))
    first = start("save", tmp_path, 4, 4, env=env, stdin=subprocess.PIPE)
    second = None
    try:
        assert first.stdout.readline() == "paused\n"
        lock = held_folder_lock(first.pid, tmp_path)
        assert lock is not None, "the commit does not hold the folder's lock"
        second = start("save", tmp_path, 5, 6)
        for _ in range(HANG_LIMIT * 100):
            if second.poll() is not None or waits_for_lock(second.pid, lock):
                break
            time.sleep(0.01)
        assert second.poll() is None, "a second save committed while the first one held the folder's lock"
        assert waits_for_lock(second.pid, lock), "the second save is not waiting for the folder's lock"
        for save, line in ((first, "go\n"), (second, None)):
            _, stderr = save.communicate(line, timeout=HANG_LIMIT)
            assert save.returncode == 0, stderr
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert listing(tmp_path) == checkpoint_names(5)
    assert seed_of(tmp_path) == 6


def test_readers_never_get_shards_of_two_saves(tmp_path):
    """A reader loads the checkpoint in a loop while another process re-saves it 40 times under the same
    names and layout: every load the library accepts holds one save's bytes throughout."""
    index = tmp_path / "model.safetensors.index.json"
    stop = tmp_path.parent / (tmp_path.name + ".stop")
    helper("save", tmp_path, 6, 2)
    reader = start("read-loop", index, stop, 1_000_000)
    try:
        assert reader.stdout.readline() == "ready\n"
        for seed in range(4, 84, 2):
            helper("save", tmp_path, 6, seed)
    finally:
        stop.touch()
    stdout, stderr = reader.communicate(timeout=HANG_LIMIT)
    stop.unlink()
    counts = dict(zip(*[iter(stdout.split())] * 2))
    loads, whole, refused, mixed = (int(counts[key]) for key in ("loads", "whole", "refused", "mixed"))
    print(f"{loads} loads during 40 saves: {whole} whole, {refused} refused, {mixed} mixed")
    assert mixed == 0, f"{mixed} of {loads} loads mixed the shards of two saves without an error"
    assert whole + refused == loads and whole >= 1
    # A refusal says which shard and why, and nothing else is refused.
    for line in stderr.splitlines():
        assert re.search(r"Shard “model-0000[1-6]-of-00006\.safetensors” (may )?comes? from another save", line), line
    assert listing(tmp_path) == checkpoint_names(6)
    assert seed_of(tmp_path) == 82


@pytest.mark.skipif(not IS_ROOT, reason="a bind mount (the commit's rename then fails halfway) needs root")
def test_a_commit_failed_halfway_is_refused_until_the_next_save(tmp_path):
    """A shard that cannot be replaced (a mount point: rename() says EBUSY) stops the commit after the
    shards before it were replaced. The readers refuse the mix, naming a shard; the next save cleans up."""
    helper("save", tmp_path, 4, 2)
    third = tmp_path / "model-00003-of-00004.safetensors"
    subprocess.run(["mount", "--bind", third, third], check=True)
    try:
        result = helper("save", tmp_path, 4, 4, check=False)
        assert result.returncode == 1 and "model-00003-of-00004.safetensors" in result.stderr, result.stderr
        refused = helper("check", tmp_path / "model.safetensors.index.json", check=False)
        assert refused.returncode == 1
        assert re.search(r"Shard “model-0000[1-4]-of-00004\.safetensors” may come from another save.*interrupted",
                         refused.stderr), refused.stderr
        marks = [name for name in listing(tmp_path) if name.startswith(".st-commit-")]
        assert len(marks) == 1, listing(tmp_path)
    finally:
        subprocess.run(["umount", third], check=True)
    helper("save", tmp_path, 4, 6)
    assert listing(tmp_path) == checkpoint_names(4)
    assert seed_of(tmp_path) == 6


@pytest.fixture
def without_tmpfile(tmp_path):
    """A folder on a FUSE mount (bindfs), where open(O_TMPFILE) fails: new files need names there."""
    source, mounted = tmp_path / "source", tmp_path / "mounted"
    source.mkdir()
    mounted.mkdir()
    if shutil.which("bindfs") is None:
        pytest.skip("bindfs is not installed (build-aux/install-deps installs it)")
    result = subprocess.run(["bindfs", source, mounted], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"bindfs cannot mount here: {result.stderr.strip()}")
    try:
        probe = None
        try:
            probe = os.open(mounted, os.O_TMPFILE | os.O_WRONLY, 0o600)
        except OSError:
            pass
        if probe is not None:
            os.close(probe)
            pytest.skip("this FUSE mount has O_TMPFILE")
        yield mounted
    finally:
        subprocess.run(["fusermount3", "-u", mounted] if shutil.which("fusermount3") else ["umount", mounted],
                       check=False)


@pytest.mark.parametrize("n_shards", [4, 70])
def test_killed_saves_without_tmpfile_leave_nothing_after_the_next_save(without_tmpfile, n_shards):
    """Without O_TMPFILE every new file has a hidden name until the commit: saves killed (at counted
    shards) leave the old checkpoint whole and their files in work folders, which the next save removes;
    with more than 64 files too."""
    folder = without_tmpfile
    helper("save", folder, n_shards, 2)
    for kills, kill_after in enumerate((1, n_shards - 1), start=1):
        result = helper("save-killed", folder, n_shards, 4, kill_after, check=False)
        assert result.returncode == -signal.SIGKILL, result.stderr
        assert seed_of(folder) == 2
        work = [name for name in listing(folder) if name.startswith(".st-save-")]
        assert len(work) == kills, listing(folder)
        assert listing(folder) == sorted(checkpoint_names(n_shards) + work)
        assert any(listing(folder / name) for name in work), "the killed save left no file to clean"
    helper("save", folder, n_shards, 6)
    assert listing(folder) == checkpoint_names(n_shards)
    assert seed_of(folder) == 6


@pytest.mark.parametrize("counts", [(4, 4), (4, 3)], ids=["same-layout", "new-count"])
def test_a_kill_at_each_step_of_the_commit_never_gives_a_mix(tmp_path, counts):
    """A save killed just before its 1st, 2nd, ... rename(), linkat() or unlink() (st-fault-inject: counted,
    not timed) until one finishes: after each kill, a reader gets the old checkpoint or the new one
    whole, or refuses naming a shard; never shards of two saves. The next save leaves the new
    checkpoint and nothing else but, for a kill between a link and its rename, one hidden file."""
    old_count, new_count = counts
    kills, refused = 0, 0
    while True:
        folder = tmp_path / f"kill-{kills + 1}"
        folder.mkdir()
        helper("save", folder, old_count, 2)
        env = dict(os.environ, LD_PRELOAD=FAULT_INJECT, ST_FAULT_AT=f"name-call:{kills + 1}", ST_FAULT_DO="kill",
                   ASAN_OPTIONS="verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", ""))
        result = subprocess.run([HELPER, "save", str(folder), str(new_count), "4"], env=env, capture_output=True, text=True,
                                timeout=HANG_LIMIT)
        if result.returncode == 0:
            break
        assert result.returncode == -signal.SIGKILL, result.stderr
        kills += 1

        loaded = helper("check", folder / "model.safetensors.index.json", check=False)
        if loaded.returncode == 0:
            assert int(loaded.stdout.split()[1]) in (2, 4)
        else:
            refused += 1
            assert re.search(r"Shard “model-0000[1-4]-of-0000[34]\.safetensors” may come from another save",
                             loaded.stderr), loaded.stderr
        hidden = [name for name in listing(folder) if DEBRIS.match(name)]
        assert len(hidden) <= 1, listing(folder)

        helper("save", folder, new_count, 6)
        assert listing(folder) == sorted(checkpoint_names(new_count) + hidden)
        assert seed_of(folder) == 6
    print(f"{kills} kills, one before each call of the commit; {refused} refused")
    # Each shard and the index take a link (and a rename when they replace a file), and the mark an unlink.
    assert kills >= new_count + 2
