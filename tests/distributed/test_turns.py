# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The turns the ranks of a distributed save take at the checkpoint's files (safetensors_glib/_turns.py),
seen from one process holding several ranks' sides, and from a process killed while it held a turn.

Nothing here is timed for pass or fail: a rank that must not get a turn is given a wait of 0 (it
gives up at once, which is the outcome checked), one that must get it a wait far longer than the test.
"""

import os
import signal
import subprocess
import sys
import threading

import pytest

from safetensors_glib import _turns

LONG = 600  # seconds: a wait that the test never sees end by timing out


@pytest.fixture
def fifos(tmp_path):
    paths = _turns.make(str(tmp_path), 2)
    assert paths == [str(tmp_path / ".st-t00000"), str(tmp_path / ".st-t00001")]
    yield paths
    _turns.remove(paths)
    assert os.listdir(tmp_path) == []


def test_one_rank_at_a_time_per_file(fifos):
    first = _turns.Turns(fifos, seed=True)
    second = _turns.Turns(fifos, seed=False, timeout=LONG)
    late = _turns.Turns(fifos, seed=False, timeout=0)
    try:
        assert first.take([0, 1]) == (0, True)
        # file 0 is taken: the next rank gets its other file, and a third nothing it waits for
        assert second.take([0, 1]) == (1, True)
        assert late.take([0]) == (0, False)
        first.give(0)
        second.give(1)
        assert first.take([1, 0]) == (1, True)
        assert second.take([1, 0]) == (0, True)
    finally:
        first.close()
        second.close()
        late.close()


def test_a_rank_that_got_no_turn_in_time_takes_none_after(fifos):
    seeder = _turns.Turns(fifos, seed=True)
    late = _turns.Turns(fifos, seed=False, timeout=0)
    try:
        assert seeder.take([0]) == (0, True)
        assert late.take([0]) == (0, False)
        # file 1's token is there, but this rank writes the rest of its files without turns
        assert late.take([1]) == (1, False)
        late.give(1)  # nothing to give back: the token stays where it is
        assert seeder.take([1]) == (1, True)
    finally:
        seeder.close()
        late.close()


def test_a_turn_given_back_wakes_the_rank_waiting_for_it(fifos):
    holder = _turns.Turns(fifos, seed=True)
    waiter = _turns.Turns(fifos, seed=False, timeout=LONG)
    got = []
    try:
        assert holder.take([0]) == (0, True)
        assert holder.take([1]) == (1, True)
        thread = threading.Thread(target=lambda: got.append(waiter.take([0, 1])))
        thread.start()
        holder.give(1)
        thread.join(LONG)
        assert got == [(1, True)]
    finally:
        holder.close()
        waiter.close()


def test_close_gives_back_what_a_rank_holds(fifos):
    holder = _turns.Turns(fifos, seed=True)
    other = _turns.Turns(fifos, seed=False, timeout=LONG)
    try:
        assert holder.take([0]) == (0, True)
        holder.close()
        assert other.take([0]) == (0, True)
    finally:
        other.close()


def test_a_token_dies_with_the_rank_killed_while_holding_it(fifos):
    """The others then write without turns, after their wait, instead of waiting for ever."""
    keeper = _turns.Turns(fifos, seed=True)  # keeps the FIFOs' pipes, as every rank does until all wrote
    code = ("import os, sys\n"
            "from safetensors_glib import _turns\n"
            f"turns = _turns.Turns({fifos!r}, seed=False, timeout={LONG})\n"
            "assert turns.take([0]) == (0, True)\n"
            "sys.stdout.write('holding\\n'); sys.stdout.flush()\n"
            "os.kill(os.getpid(), 9)\n")
    child = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, timeout=LONG)
    survivor = _turns.Turns(fifos, seed=False, timeout=0)
    try:
        assert child.returncode == -signal.SIGKILL
        assert child.stdout == "holding\n"
        assert survivor.take([0]) == (0, False)
        assert keeper.take([1]) == (1, True)  # the token of file 1 was never taken: still there
    finally:
        survivor.close()
        keeper.close()


def test_without_fifos_every_write_goes_without_a_turn(tmp_path):
    (tmp_path / ".st-t00001").write_bytes(b"")  # the name of file 1's FIFO, taken
    assert _turns.make(str(tmp_path), 2) is None
    assert sorted(os.listdir(tmp_path)) == [".st-t00001"]  # file 0's FIFO, made, was removed again
    turns = _turns.Turns(None, seed=True)
    assert turns.take([3, 4]) == (3, False)
    turns.give(3)
    turns.close()


def test_an_unopenable_fifo_means_no_turns(tmp_path):
    turns = _turns.Turns([str(tmp_path / "missing")], seed=True, timeout=LONG)
    assert turns.take([0]) == (0, False)
    turns.close()
