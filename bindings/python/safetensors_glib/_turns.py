# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Turns: the ranks of a distributed save take turns at the checkpoint's files.

A buffered write() takes its file's inode lock exclusively (ext4, XFS and most local file systems),
so two processes writing one file run one after the other. The waiting one does not just sleep: the
kernel lets it spin on the lock as long as the holder is running on another CPU, on the bet that the
lock comes free soon. When the ranks of a save all write every file (each holds slices of every
tensor), that spinning takes a CPU away from a rank that could write another file in the meantime.

So each file has a turn token: one byte in a FIFO in the save's work folder. A rank writes a file
only while it holds that file's token, and when none of the files it still has to write is free, it
sleeps in poll() until one is. At any moment as many ranks write as there are files, each its own
file, and the others sleep instead of spinning.

The turns are a hint, never a condition of correctness: the ranks write disjoint bytes, and a rank
that writes without a turn only meets the inode lock again. So every wait is bounded
(TURN_TIMEOUT_SECONDS): a rank that does not get a turn in time stops taking turns and writes
whatever it has left, as it would without turns. That covers a rank killed while it held a token
(the byte dies with it), a token that was never put in (the rank that seeds it failed), and ranks
that cannot open the FIFO at all (a file system without them): nothing waits on a turn for longer
than the timeout, once, and the collectives that follow report the failure as usual.

A FIFO's bytes are those of its node: on a file system several machines share, each machine opening
the FIFO gets a pipe of its own. The lowest rank of each node therefore puts in the tokens of its
node (seed=True), and every rank keeps its FIFOs open until every rank of the group is done writing
(a pipe whose last opener closed loses its byte). Ranks of different nodes do not take turns with
each other, and their writes do not meet the same inode lock either.
"""

import os
import select
import time

# How long a rank waits for a turn before it writes without one (and stops taking turns): far
# longer than a turn takes (a rank's part of one file, written at memory speed), far shorter than
# the group's timeout.
TURN_TIMEOUT_SECONDS = 1.0

# The name of file k's FIFO in the work folder: a name the library removes from the work folder of
# a dead save (st-checkpoint.c: ".st-" and six letters or digits).
_FIFO_NAME = ".st-t{:05d}"


def make(work_folder, n_files):
    """Makes the FIFOs of @n_files files in @work_folder (rank 0, while it prepares the files).
    Returns their paths, or None when the file system has no FIFOs: the save then goes without turns."""
    paths = []
    try:
        for k in range(n_files):
            path = os.path.join(work_folder, _FIFO_NAME.format(k))
            os.mkfifo(path, 0o600)
            paths.append(path)
    except OSError:
        remove(paths)
        return None
    return paths


def remove(paths):
    """Removes the FIFOs make() made (before the work folder is committed or discarded)."""
    for path in paths or ():
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class Turns:
    """One rank's side of the turns at the files whose FIFOs are @paths (None: no turns)."""

    def __init__(self, paths, seed, timeout=None):
        self._tokens = {}
        self._held = set()
        self._timeout = TURN_TIMEOUT_SECONDS if timeout is None else timeout
        self._taking = False
        if not paths:
            return
        try:
            for k, path in enumerate(paths):
                # O_RDWR: a FIFO opened so never blocks in open() and never reads end-of-file
                self._tokens[k] = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
            if seed:
                for fd in self._tokens.values():
                    os.write(fd, b"t")
        except OSError:
            self.close()
            return
        self._taking = True

    def take(self, files):
        """Waits for the turn at one of @files (in order of preference) and returns (file, held):
        held is False when this rank writes that file without a turn (no turns, or none came in
        time: from then on this rank takes none)."""
        if not self._taking:
            return files[0], False
        deadline = time.monotonic() + self._timeout
        poller = None
        while True:
            for file in files:
                if self._take_now(file):
                    return file, True
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if poller is None:
                poller = select.poll()
                for file in files:
                    poller.register(self._tokens[file], select.POLLIN)
            poller.poll(left * 1000)
        # a token lost with a rank that died, or never put in: the rest without turns
        self._taking = False
        return files[0], False

    def give(self, file):
        """Gives back the turn at @file, taken with take(); nothing when the write had no turn."""
        if file in self._held:
            self._held.discard(file)
            os.write(self._tokens[file], b"t")

    def close(self):
        """Gives back what this rank holds and closes its FIFOs: once every rank of the group is
        done writing (before, a pipe could lose its token with its last opener)."""
        for file in list(self._held):
            self.give(file)
        for fd in self._tokens.values():
            os.close(fd)
        self._tokens = {}
        self._taking = False

    def _take_now(self, file):
        try:
            taken = os.read(self._tokens[file], 1)
        except BlockingIOError:
            return False
        if not taken:
            return False
        self._held.add(file)
        return True
