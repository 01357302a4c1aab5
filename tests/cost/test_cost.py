# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Rejecting a hostile header costs at most a small constant times accepting a valid header of the same
size, and no case grows faster than linearly: counted in instructions under callgrind, not in seconds,
so that a loaded or slow machine (or valgrind itself) changes nothing (issue 21; issue 20.10 is the bug
class this guards against).

st-parse-cost builds each input and loads it with st_file_new_from_bytes(); callgrind counts only that
call (--instr-atstart=no and the client requests around it).
"""

import os
import re
import shutil
import subprocess

import pytest

PROGRAM = os.path.join(os.environ.get("G_TEST_BUILDDIR", ""), "cost", "st-parse-cost")
VALGRIND = shutil.which("valgrind")
SIZE = 2_000_000
# Rejecting may cost this many times what accepting a valid header of the same size and shape costs.
FACTOR = 3
# Doubling the input may at most multiply the cost by this (linear, with room for noise): quadratic is 4.
GROWTH = 2.4

pytestmark = pytest.mark.skipif(VALGRIND is None or not os.path.exists(PROGRAM),
                                reason="valgrind (Debian: valgrind) or st-parse-cost is missing")

# Each hostile case, and the valid case of the same shape it is measured against.
HOSTILE = {
    "brackets-in-field": "valid-metadata",
    "brackets-at-top": "valid-metadata",
    "brackets-in-metadata": "valid-metadata",
    "brackets-in-shape": "valid-metadata",
    "spaces": "valid-spaces-object",
    "same-offset-tensors": "valid-empty-tensors",
    "continuation-run": "valid-metadata",
}
# Hostile cases whose fix is not in this tree yet: expected to fail, strictly (once the fix is merged they
# pass, and strict=True makes that a failure until the case is taken off this list).
OPEN = {
    "continuation-run": "issue 20.10: 46 times a valid header's cost at 2 MB (the validator walks a 64 KiB "
                        "block of continuation bytes once per later member)",
}
VALID = sorted(set(HOSTILE.values()))


def instructions(tmp_path, case, size):
    """The instructions st_file_new_from_bytes() takes on @case of @size bytes, and whether it accepted."""
    out = tmp_path / f"callgrind.{case}.{size}"
    done = subprocess.run([VALGRIND, "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                           PROGRAM, case, str(size)], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    totals = re.search(r"^totals: (\d+)", out.read_text(), re.M)
    assert totals, out.read_text()[:500]
    return int(totals.group(1)), done.returncode == 0, done.stdout.strip()


@pytest.fixture(scope="module")
def costs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("cost")
    return {(case, size): instructions(tmp_path, case, size)
            for case in [*HOSTILE, *VALID] for size in (SIZE, 2 * SIZE)}


@pytest.mark.parametrize("case", VALID)
def test_valid_inputs_are_accepted_in_linear_cost(costs, case):
    small, accepted, said = costs[(case, SIZE)]
    large, accepted_large, _ = costs[(case, 2 * SIZE)]
    assert accepted and accepted_large, said
    print(f"{case}: {small} instructions for {SIZE} bytes, {large} for {2 * SIZE}")
    assert large <= GROWTH * small


@pytest.mark.parametrize("case", [pytest.param(case, marks=pytest.mark.xfail(reason=OPEN[case], strict=True))
                                  if case in OPEN else case for case in sorted(HOSTILE)])
def test_hostile_inputs_are_rejected_at_the_cost_of_a_valid_one(costs, case):
    cost, accepted, said = costs[(case, SIZE)]
    valid_cost = costs[(HOSTILE[case], SIZE)][0]
    large = costs[(case, 2 * SIZE)][0]
    assert not accepted, said
    print(f"{case}: {cost} instructions to reject {SIZE} bytes ({cost / valid_cost:.2f} times "
          f"{HOSTILE[case]}), {large} for {2 * SIZE}: {said}")
    assert cost <= FACTOR * valid_cost
    assert large <= GROWTH * max(cost, 1)
