# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""safetensors_glib.distributed: groups of 2, 3 and 4 spawned ranks (gloo on 127.0.0.1) save and load
one checkpoint.

Expectations come from the full tensors the test makes itself (their bytes, torch's own tensor_split)
and from one process saving them with safetensors_glib.torch.save_file, whose bytes tests/python
checks against Hugging Face's (test_hf_torch.py, test_fixtures.py). Every group has a 10 s timeout on
its collectives, every test a deadline after which its processes are killed and reaped; nothing is
timed for pass or fail.
"""

import datetime
import json
import os
import queue
import signal
import socket
import struct
import time

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)

import torch.multiprocessing as mp  # noqa: E402

from safetensors_glib import distributed  # noqa: E402
from safetensors_glib.torch import load_file, save_file  # noqa: E402

GROUP_TIMEOUT = datetime.timedelta(seconds=10)
DEADLINE = 90  # seconds a whole group may take before its processes are killed


# ------------------------------------------------------------------------------------------
# the tensors


def full_tensors():
    """The logical tensors, the same in every process: every dtype torch 1.13 has a safetensors
    name for, odd shapes, a scalar and an empty tensor."""
    g = torch.Generator().manual_seed(1234)

    def values(shape, dtype):
        return (torch.randn(shape, generator=g) * 50).to(dtype)

    return {
        "embed.weight": values((6, 5), torch.float32),
        "w0": values((8, 6), torch.float32),          # slices along dim 0, 4 ranks: 2 rows each
        "w1": values((5, 7), torch.float16),          # slices along dim 1, uneven: 2 2 2 1
        "w2": values((3, 9), torch.bfloat16),         # slices along dim 1
        "w3": values((10, 2, 3), torch.float64),      # slices along dim 0, uneven
        "i64": torch.arange(-7, 5, dtype=torch.int64).reshape(3, 4),
        "i32": values((4, 3), torch.int32),
        "i16": values((2, 5), torch.int16),           # slices along dim 1
        "i8": values((9,), torch.int8),
        "u8": torch.arange(0, 250, 25, dtype=torch.uint8),
        "mask": torch.tensor([True, False, True, True, False]),
        "c64": torch.complex(values((3,), torch.float32), values((3,), torch.float32)),
        "scale": torch.tensor(0.125, dtype=torch.bfloat16),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
    }


SLICED = {"w0": 0, "w1": 1, "w2": 1, "w3": 0, "i16": 1}


def order_of_appearance(world):
    """The names in the order the ranks first give them, rank 0 first (what distributed.save keeps)."""
    names = []
    for rank in range(world):
        for name in held_by(rank, world):
            if name not in names:
                names.append(name)
    return names


def held_by(rank, world):
    """What rank @rank of @world holds: its slices of SLICED, and the whole tensors it owns (round robin)."""
    full = full_tensors()
    held = {}
    for name, dim in SLICED.items():
        tensor = full[name]
        parts = torch.tensor_split(tensor, world, dim=dim)
        offset = sum(part.shape[dim] for part in parts[:rank])
        held[name] = distributed.Part(parts[rank].clone(), shape=tensor.shape, dim=dim, offset=offset)
    whole = [name for name in full if name not in SLICED]
    for i, name in enumerate(whole):
        if i % world == rank:
            held[name] = full[name]
    return held


def raw(tensor):
    """A tensor's bytes, little-endian as in the file."""
    tensor = tensor.contiguous().reshape(-1)
    if tensor.numel() == 0:
        return b""
    return bytes(tensor.view(torch.uint8).numpy().tobytes())


def described(tensors):
    return {name: (str(t.dtype), list(t.shape), raw(t)) for name, t in tensors.items()}


def folder_bytes(folder):
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))}


def io_read_bytes():
    with open("/proc/self/io") as f:
        return int(dict(line.split(": ") for line in f.read().splitlines())["rchar"])


# ------------------------------------------------------------------------------------------
# the process groups


def _child(rank, world, port, scenario, args, results):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=GROUP_TIMEOUT)
    try:
        outcome = ("ok", globals()[scenario](rank, world, *args))
    except Exception as e:  # noqa: BLE001 - the parent checks it
        outcome = ("error", type(e).__name__, str(e))
    results.put((rank, outcome))
    if outcome[0] == "ok":
        dist.destroy_process_group()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_group(world, scenario, *args, expect_dead=()):
    """Runs globals()[scenario](rank, world, *args) in @world spawned ranks; returns {rank: outcome}
    and the exit codes. Every process is reaped, killed at the deadline if need be."""
    context = mp.get_context("spawn")
    results = context.Queue()
    port = free_port()
    processes = [context.Process(target=_child, args=(rank, world, port, scenario, args, results), daemon=True)
                 for rank in range(world)]
    for process in processes:
        process.start()
    outcomes = {}
    try:
        while len(outcomes) < world - len(expect_dead):
            rank, outcome = results.get(timeout=DEADLINE)
            outcomes[rank] = outcome
    except queue.Empty:
        pass
    finally:
        for process in processes:
            process.join(timeout=20)
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
    return outcomes, [process.exitcode for process in processes]


def assert_all_ok(outcomes, world):
    assert sorted(outcomes) == list(range(world)), outcomes
    for rank, outcome in outcomes.items():
        assert outcome[0] == "ok", (rank, outcome)
    return {rank: outcome[1] for rank, outcome in outcomes.items()}


# ------------------------------------------------------------------------------------------
# scenarios (run in the ranks)


def save_parts(rank, world, folder, max_shard_size):
    distributed.save(held_by(rank, world), folder, max_shard_size=max_shard_size, metadata={"format": "pt"})
    return sorted(os.listdir(folder))


def load_all(rank, world, folder):
    before = io_read_bytes()
    loaded = distributed.load(folder)
    return described(loaded), io_read_bytes() - before


def mapped_from(folder):
    """The address ranges this process maps from files of @folder (/proc/self/maps)."""
    ranges = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip().startswith(folder + os.sep):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                ranges.append((start, end))
    return ranges


def load_on_nodes(rank, world, folder, nodes):
    """load() with this rank on node @nodes[rank] (SAFETENSORS_GLIB_NODE); returns what it loaded,
    what it read (rchar), and the non-empty tensors that are views of the checkpoint's mappings."""
    os.environ[distributed.NODE_ENVIRONMENT_VARIABLE] = nodes[rank]
    before = io_read_bytes()
    loaded = distributed.load(folder)
    read = io_read_bytes() - before
    maps = mapped_from(folder)
    in_mapping = sorted(name for name, t in loaded.items()
                        if t.numel() and any(a <= t.data_ptr() < b for a, b in maps))
    return described(loaded), read, in_mapping


def load_by_three(rank, world, folder):
    """A filter per rank with load(), then this rank's parts with load_slices() and what it read for them."""
    names = sorted(full_tensors())
    some = described(distributed.load(folder, names=lambda name: names.index(name) % world == rank))
    parts = distributed.load_slices(folder, dim=dict(SLICED, **{"embed.weight": 1}))
    # what a part costs, on a tensor large enough to tell: 256 KiB, cut along its second dimension
    big = f"{folder}-big-{rank}.safetensors"
    save_file({"big": torch.arange(64 * 1024, dtype=torch.float32).reshape(64, 1024)}, big)
    before = io_read_bytes()
    part = distributed.load_slices(big, dim=1)["big"]
    read = io_read_bytes() - before
    os.unlink(big)
    return some, described(parts), (described({"big": part})["big"], read)


def save_and_die(rank, world, folder, victim):
    """Rank @victim is killed (SIGKILL) once the group has agreed on the tensors, before its writes."""
    if rank == victim:
        def die(*_args):
            os.kill(os.getpid(), signal.SIGKILL)
        distributed._write_parts = die
    distributed.save(held_by(rank, world), folder, max_shard_size=700)


class _WriteRanges:
    """distributed.ST, but for write_ranges(), which calls @write(fd, ranges, cancellable) instead."""

    def __init__(self, write):
        self._st = distributed.ST
        self._write = write

    def __getattr__(self, name):
        return getattr(self._st, name)

    def write_ranges(self, fd, ranges, cancellable):
        return self._write(fd, ranges, cancellable)


def save_taking_turns(rank, world, folder):
    """Saves, logging each write of this rank: (file, start, end) on the monotonic clock, which every
    process of the machine shares. A turn is waited for as long as the group's timeout allows, so that
    no rank writes without one and the log shows the turns alone."""
    distributed._turns.TURN_TIMEOUT_SECONDS = GROUP_TIMEOUT.total_seconds()
    log = []
    st = distributed.ST

    def logged(fd, ranges, cancellable):
        start = time.monotonic()
        try:
            return st.write_ranges(fd, ranges, cancellable)
        finally:
            log.append((os.readlink(f"/proc/self/fd/{fd}"), start, time.monotonic()))
    distributed.ST = _WriteRanges(logged)
    held = {}
    for name, tensor in turn_tensors().items():
        parts = torch.tensor_split(tensor, world)
        held[name] = distributed.Part(parts[rank].clone(), shape=tensor.shape,
                                      offset=sum(part.shape[0] for part in parts[:rank]))
    distributed.save(held, folder, max_shard_size=TURN_SHARD)
    return log


TURN_SHARD = 4 * 1024 * 1024


def turn_tensors():
    """2 MiB each, 8 MiB in two files: large enough for the writes of ranks without turns to overlap."""
    return {f"layer.{i}": torch.arange(512 * 1024, dtype=torch.float32).reshape(512, 1024) + i for i in range(4)}


def save_and_die_in_turn(rank, world, folder, victim):
    """Rank @victim is killed (SIGKILL) in its first write, while it holds the turn at that file."""
    if rank == victim:
        def die(*_args):
            os.kill(os.getpid(), signal.SIGKILL)
        distributed.ST = _WriteRanges(die)
    distributed.save(held_by(rank, world), folder, max_shard_size=700)


MANY_FILES = 200


def many_small_tensors():
    return {f"t{i:03d}": torch.full((4,), float(i)) for i in range(MANY_FILES)}


def save_many_files_with_few_descriptors(rank, world, folder):
    """A checkpoint of 200 shards, saved with only 20 file descriptors to spare: a rank may not keep a
    file, or a turn FIFO, open per shard."""
    import resource
    held = {}
    for name, tensor in many_small_tensors().items():
        held[name] = distributed.Part(tensor[2 * rank:2 * rank + 2].clone(), shape=tensor.shape, offset=2 * rank)
    in_use = len(os.listdir("/proc/self/fd"))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 20, hard))
    distributed.save(held, folder, max_shard_size=1)
    return None


def raise_instead(rank, world, folder):
    """Rank 1's own code fails before it reaches save(): its process ends, the others must not hang."""
    if rank == 1:
        raise RuntimeError("the model of rank 1 failed")
    distributed.save(held_by(rank, world), folder, max_shard_size=700)


def save_and_fail(rank, world, folder, step):
    """A rank's write (rank 1) or rank 0's commit raises an OSError: a failure the rank reports."""
    def fail(*_args):
        raise OSError(f"no space left on rank {rank}'s disk")
    if step == "write" and rank == 1:
        distributed._write_parts = fail
    if step == "commit" and rank == 0:
        distributed._commit = fail
    distributed.save(held_by(rank, world), folder, max_shard_size=700)


def on_another_backend(rank, world, folder, fail):
    """A save (rank 1's write failing with @fail), then a load, with the group's backend named "mpi":
    the paths a group other than gloo takes (NCCL's among them: it moves no CPU tensors), where the
    ranks agree by exchanging objects instead of a flag tensor. gloo still carries the objects; a
    CPU flag's all_reduce, which NCCL would refuse, fails here."""
    def refuse(*_args, **_kwargs):
        raise RuntimeError("this backend reduces no CPU tensors")
    distributed.dist.get_backend = lambda group=None: "mpi"
    distributed.dist.all_reduce = refuse
    if fail and rank == 1:
        def failing(*_args):
            raise OSError(f"no space left on rank {rank}'s disk")
        distributed._write_parts = failing
    distributed.save(held_by(rank, world), folder, max_shard_size=700, metadata={"format": "pt"})
    return described(distributed.load(folder))


def disagree(rank, world, folder):
    """Calls that the ranks get wrong in turn; each must fail on both ranks alike, and the group stays usable."""
    row = torch.ones((2, 3))
    calls = [
        # a value that is not a tensor, on rank 1 only
        {"t": row} if rank == 0 else {"t": "not a tensor"},
        # dtypes that differ
        {"t": distributed.Part(row if rank == 0 else row.half(), shape=(4, 3), offset=2 * rank)},
        # full shapes that differ
        {"t": distributed.Part(row, shape=(4, 3), offset=0)} if rank == 0
        else {"t": distributed.Part(torch.ones((2, 4)), shape=(4, 4), offset=2)},
        # slices that overlap
        {"t": distributed.Part(row, shape=(4, 3), offset=rank)},
        # slices that leave a gap
        {"t": distributed.Part(row if rank == 0 else row[:1], shape=(4, 3), offset=0 if rank == 0 else 3)},
        # whole on one rank, a slice on the other
        {"t": torch.ones((4, 3))} if rank == 0 else {"t": distributed.Part(row, shape=(4, 3), offset=2)},
        # slices along different dimensions
        {"t": distributed.Part(row, shape=(4, 3), offset=0)} if rank == 0
        else {"t": distributed.Part(torch.ones((4, 1)), shape=(4, 3), dim=1, offset=2)},
    ]
    messages = []
    for call in calls:
        try:
            distributed.save(call, folder)
            messages.append(None)
        except distributed.DistributedError as e:
            messages.append(str(e))
    # still usable: a correct call succeeds
    distributed.save({"t": distributed.Part(row, shape=(4, 3), offset=2 * rank)}, folder)
    listing = sorted(os.listdir(folder))

    other = f"{folder}-other-rank-{rank}.safetensors"  # outside the folder the other rank lists
    save_file({"u": row}, other)
    loads = [
        {"path": folder if rank == 0 else os.path.join(folder, "missing.safetensors")},
        {"path": folder, "names": ["t"] if rank == 0 else ["t", "nope"]},
        {"path": folder if rank == 0 else other},
    ]
    for call in loads:
        try:
            distributed.load(call.pop("path"), **call)
            messages.append(None)
        except distributed.DistributedError as e:
            messages.append(str(e))
    os.unlink(other)
    return messages, listing


def f8_parts(rank, world):
    g = torch.Generator().manual_seed(99)
    full = {
        "f8a": torch.randint(0, 256, (6, 4), generator=g, dtype=torch.uint8),
        "f8b": torch.randint(0, 256, (5,), generator=g, dtype=torch.uint8),
        "bf": (torch.randn((4, 6), generator=g) * 9).to(torch.bfloat16),
        # the other types torch 1.13 has no dtype for, as raw values of the same width
        "e8m0": torch.randint(0, 256, (3, 3), generator=g, dtype=torch.uint8),
        "fnuz": torch.randint(0, 256, (7,), generator=g, dtype=torch.uint8),
        "u16": torch.randint(-2**15, 2**15, (3, 4), generator=g, dtype=torch.int16),
        "u32": torch.randint(-2**31, 2**31, (4, 2), generator=g, dtype=torch.int32),
        "u64": torch.randint(-2**62, 2**62, (3,), generator=g, dtype=torch.int64),
    }
    dims = {"f8a": 1, "f8b": 0, "bf": 1, "e8m0": 1, "fnuz": 0, "u16": 1, "u32": 0, "u64": 0}
    dtypes = {"f8a": "F8_E4M3", "f8b": "F8_E5M2", "bf": None, "e8m0": "F8_E8M0", "fnuz": "F8_E4M3FNUZ",
              "u16": "U16", "u32": "U32", "u64": "U64"}
    held = {}
    for name, tensor in full.items():
        parts = torch.tensor_split(tensor, world, dim=dims[name])
        offset = sum(part.shape[dims[name]] for part in parts[:rank])
        held[name] = distributed.Part(parts[rank].clone(), shape=tensor.shape, dim=dims[name], offset=offset,
                                      dtype=dtypes[name])
    return full, held


def save_f8(rank, world, folder):
    distributed.save(f8_parts(rank, world)[1], folder, sync=True)


def load_f8(rank, world, folder):
    return described(distributed.load(folder))


def save_per_rank(rank, world, folder):
    distributed.save(held_by(rank, world), folder, layout="per-rank")


def load_per_rank(rank, world, folder):
    dims = dict(SLICED, **{"embed.weight": 1, "w0": 1, "w1": 0})  # across the chunks' cuts
    return described(distributed.load(folder)), described(distributed.load_slices(folder, dim=dims))


# ------------------------------------------------------------------------------------------
# tests


@pytest.fixture(scope="module")
def saved_by_four(tmp_path_factory):
    """A sharded checkpoint saved by 4 ranks, and the same tensors saved by one process."""
    group = tmp_path_factory.mktemp("group")
    single = tmp_path_factory.mktemp("single")
    outcomes, _codes = run_group(4, "save_parts", str(group), 700)
    listings = assert_all_ok(outcomes, 4)
    full = full_tensors()
    save_file({name: full[name] for name in order_of_appearance(4)}, str(single / "model.safetensors"),
              metadata={"format": "pt"}, max_shard_size=700)
    return group, single, listings


def test_save_by_four_is_byte_identical_to_one_process(saved_by_four):
    group, single, listings = saved_by_four
    expected = folder_bytes(single)
    assert len(expected) > 3  # several shards and the index
    assert "model.safetensors.index.json" in expected
    assert folder_bytes(group) == expected
    # no work folder or pending file left, seen from every rank after its save returned
    for listing in listings.values():
        assert listing == sorted(expected)


def test_save_by_four_holds_the_full_tensors(saved_by_four):
    group, _single, _listings = saved_by_four
    index = json.loads((group / "model.safetensors.index.json").read_text())
    assert sorted(index["weight_map"]) == sorted(full_tensors())
    loaded = load_file(str(group / "model.safetensors.index.json"))
    assert described(loaded) == described(full_tensors())


def test_load_by_two_reads_each_byte_once(saved_by_four):
    group, _single, _listings = saved_by_four
    outcomes, _codes = run_group(2, "load_all", str(group))
    results = assert_all_ok(outcomes, 2)
    expected = described(full_tensors())
    data_bytes = sum(len(t[2]) for t in expected.values())
    for loaded, _read in results.values():
        assert loaded == expected
    # /proc/self/io rchar: the reads of both ranks together (planned reads and the index; the
    # headers come from mappings) cover the data once, not once per rank
    index_size = (group / "model.safetensors.index.json").stat().st_size
    total_read = sum(read for _loaded, read in results.values())
    assert data_bytes <= total_read <= data_bytes + 2 * (index_size + 4096)


def test_load_on_one_node_maps_what_the_ranks_read_once(saved_by_four):
    """Four ranks of one node: each reads a quarter of the data into the page cache they share, then
    maps the files: every tensor is a view of a mapping of the checkpoint, and the reads of all the
    ranks together cover the data once."""
    group, _single, _listings = saved_by_four
    outcomes, _codes = run_group(4, "load_on_nodes", str(group), ["one"] * 4)
    results = assert_all_ok(outcomes, 4)
    expected = described(full_tensors())
    data_bytes = sum(len(t[2]) for t in expected.values())
    non_empty = sorted(name for name, t in full_tensors().items() if t.numel())
    for loaded, _read, in_mapping in results.values():
        assert loaded == expected
        assert in_mapping == non_empty
    index_size = (group / "model.safetensors.index.json").stat().st_size
    total_read = sum(read for _loaded, read, _mapped in results.values())
    assert data_bytes <= total_read <= data_bytes + 4 * (index_size + 4096)


def test_load_on_two_nodes_reads_once_and_sends_between_them(saved_by_four):
    """Two simulated nodes of two ranks each: the data is read once in all and the tensors cross the
    process group (they are not mappings of the files)."""
    group, _single, _listings = saved_by_four
    outcomes, _codes = run_group(4, "load_on_nodes", str(group), ["a", "a", "b", "b"])
    results = assert_all_ok(outcomes, 4)
    expected = described(full_tensors())
    data_bytes = sum(len(t[2]) for t in expected.values())
    for loaded, _read, in_mapping in results.values():
        assert loaded == expected
        assert in_mapping == []
    index_size = (group / "model.safetensors.index.json").stat().st_size
    total_read = sum(read for _loaded, read, _mapped in results.values())
    assert data_bytes <= total_read <= data_bytes + 4 * (index_size + 4096)


@pytest.fixture(scope="module")
def loaded_by_three(saved_by_four):
    group, _single, _listings = saved_by_four
    outcomes, _codes = run_group(3, "load_by_three", str(group))
    return assert_all_ok(outcomes, 3)


def test_load_by_three_with_a_filter_per_rank(loaded_by_three):
    expected = described(full_tensors())
    names = sorted(expected)
    for rank, (loaded, _parts, _read) in loaded_by_three.items():
        assert sorted(loaded) == [name for i, name in enumerate(names) if i % 3 == rank]
        for name, value in loaded.items():
            assert value == expected[name], name


def test_tensor_parallel_load_by_three_reads_only_its_part(loaded_by_three):
    full = full_tensors()
    dims = dict(SLICED, **{"embed.weight": 1})
    big = torch.arange(64 * 1024, dtype=torch.float32).reshape(64, 1024)
    for rank, (_loaded, parts, (big_part, read)) in loaded_by_three.items():
        assert sorted(parts) == sorted(full)
        for name, tensor in full.items():
            part = torch.tensor_split(tensor, 3, dim=dims[name])[rank] if name in dims else tensor
            assert parts[name] == described({name: part})[name], (rank, name)
        expected = described({"big": torch.tensor_split(big, 3, dim=1)[rank]})["big"]
        assert big_part == expected
        # /proc/self/io rchar: the part's bytes (a third of the tensor) and a few hundred of reading the
        # counter itself; the header comes from a mapping
        assert len(expected[2]) <= read <= len(expected[2]) + 1024, (rank, read)


def read_safetensors(path):
    """The header and the data of a file, parsed here by the format's definition."""
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def test_f8_unsigned_and_bfloat16_slices_by_three_then_loaded_by_two(tmp_path):
    outcomes, _codes = run_group(3, "save_f8", str(tmp_path))
    assert_all_ok(outcomes, 3)
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]
    header, data = read_safetensors(tmp_path / "model.safetensors")
    header.pop("__metadata__", None)
    full, _held = f8_parts(0, 1)
    expected_dtypes = {"f8a": "F8_E4M3", "f8b": "F8_E5M2", "bf": "BF16", "e8m0": "F8_E8M0", "fnuz": "F8_E4M3FNUZ",
                       "u16": "U16", "u32": "U32", "u64": "U64"}
    assert sorted(header) == sorted(full)
    for name, tensor in full.items():
        entry = header[name]
        assert entry["dtype"] == expected_dtypes[name]
        assert entry["shape"] == list(tensor.shape)
        begin, end = entry["data_offsets"]
        assert data[begin:end] == raw(tensor), name

    outcomes, _codes = run_group(2, "load_f8", str(tmp_path))
    for loaded in assert_all_ok(outcomes, 2).values():
        # torch 1.13 has no float8: the F8 tensors come as their bytes
        assert loaded["f8a"] == ("torch.uint8", [6, 4], raw(full["f8a"]))
        assert loaded["f8b"] == ("torch.uint8", [5], raw(full["f8b"]))
        assert loaded["bf"] == described({"bf": full["bf"]})["bf"]
        assert loaded["e8m0"] == ("torch.uint8", [3, 3], raw(full["e8m0"]))
        assert loaded["fnuz"] == ("torch.uint8", [7], raw(full["fnuz"]))
        # wider ones: their bytes, the last dimension times the element size
        assert loaded["u16"] == ("torch.uint8", [3, 8], raw(full["u16"]))
        assert loaded["u32"] == ("torch.uint8", [4, 8], raw(full["u32"]))
        assert loaded["u64"] == ("torch.uint8", [24], raw(full["u64"]))


def previous_checkpoint(folder):
    full = full_tensors()
    save_file({name: full[name] * 0 for name in order_of_appearance(3)}, str(folder / "model.safetensors"),
              max_shard_size=700)
    return folder_bytes(folder)


@pytest.mark.parametrize("victim", [0, 2])
@pytest.mark.parametrize("when", ["save_and_die", "save_and_die_in_turn"], ids=["mid-save", "in-its-turn"])
def test_a_rank_killed_leaves_the_previous_checkpoint(tmp_path, when, victim):
    """A rank killed mid-save, or while it holds its turn at a file (the turn token dies with it: the others
    wait for it no longer than the turns' bound): the others see the group fail; nothing committed, no work
    folder, no pending file, no FIFO."""
    before = previous_checkpoint(tmp_path)
    outcomes, codes = run_group(3, when, str(tmp_path), victim, expect_dead=(victim,))
    assert codes[victim] == -signal.SIGKILL
    assert sorted(outcomes) == [rank for rank in range(3) if rank != victim]
    for outcome in outcomes.values():
        assert outcome[:2] == ("error", "DistributedError"), outcome
        assert "a rank died or timed out" in outcome[2]
    # the old checkpoint whole, and nothing else
    assert folder_bytes(tmp_path) == before


def test_ranks_take_turns_at_each_file(tmp_path):
    """Two ranks never write one file at the same time (a file's writes would wait for its inode's
    lock, spinning): each waits for its turn, or writes another file meanwhile (doc/distributed.md)."""
    saved, expected = tmp_path / "saved", tmp_path / "expected"
    saved.mkdir()
    expected.mkdir()
    outcomes, _codes = run_group(4, "save_taking_turns", str(saved))
    logs = assert_all_ok(outcomes, 4)
    writes = {}
    for rank, log in logs.items():
        for path, start, end in log:
            writes.setdefault(path, []).append((start, end, rank))
    shared = [path for path, spans in writes.items() if len({rank for *_span, rank in spans}) > 1]
    assert len(shared) == 2, writes  # files several ranks write: where turns matter
    for path, spans in writes.items():
        spans.sort()
        for (_start, end, rank), (next_start, _end, next_rank) in zip(spans, spans[1:]):
            assert end <= next_start, (path, rank, next_rank)
    # and the same bytes as one process writes
    save_file(turn_tensors(), str(expected / "model.safetensors"), max_shard_size=TURN_SHARD)
    assert folder_bytes(saved) == folder_bytes(expected)
    assert len(folder_bytes(saved)) == 3  # two files and the index


def test_a_checkpoint_of_many_files_needs_few_descriptors(tmp_path):
    saved, expected = tmp_path / "saved", tmp_path / "expected"
    saved.mkdir()
    expected.mkdir()
    outcomes, _codes = run_group(2, "save_many_files_with_few_descriptors", str(saved))
    assert_all_ok(outcomes, 2)
    save_file(many_small_tensors(), str(expected / "model.safetensors"), max_shard_size=1)
    written = folder_bytes(saved)
    assert len(written) == MANY_FILES + 1  # the shards and the index
    assert written == folder_bytes(expected)


def test_a_rank_that_raises_before_saving(tmp_path):
    before = previous_checkpoint(tmp_path)
    outcomes, _codes = run_group(2, "raise_instead", str(tmp_path))
    assert outcomes[1] == ("error", "RuntimeError", "the model of rank 1 failed")
    assert outcomes[0][:2] == ("error", "DistributedError")
    assert folder_bytes(tmp_path) == before


@pytest.mark.parametrize("step", ["write", "commit"])
def test_a_failed_write_or_commit_reaches_every_rank(tmp_path, step):
    """The error of the rank that failed, with its message, on every rank; nothing committed, no debris."""
    before = previous_checkpoint(tmp_path)
    outcomes, _codes = run_group(3, "save_and_fail", str(tmp_path), step)
    assert sorted(outcomes) == [0, 1, 2]
    failed = 1 if step == "write" else 0
    for outcome in outcomes.values():
        assert outcome[:2] == ("error", "DistributedError"), outcome
        assert f"no space left on rank {failed}'s disk" in outcome[2], outcome
    assert folder_bytes(tmp_path) == before


def test_a_group_of_another_backend_saves_and_loads_through_objects(saved_by_four, tmp_path):
    """Where the backend is not gloo, the ranks agree through all_gather_object and
    broadcast_object_list: the same checkpoint, the same tensors, a failure on every rank."""
    _group, single, _listings = saved_by_four
    (tmp_path / "ok").mkdir()
    outcomes, _codes = run_group(4, "on_another_backend", str(tmp_path / "ok"), False)
    results = assert_all_ok(outcomes, 4)
    assert folder_bytes(tmp_path / "ok") == folder_bytes(single)
    for loaded in results.values():
        assert loaded == described(full_tensors())
    failed = tmp_path / "failed"
    failed.mkdir()
    before = previous_checkpoint(failed)
    outcomes, _codes = run_group(3, "on_another_backend", str(failed), True)
    assert sorted(outcomes) == [0, 1, 2]
    for outcome in outcomes.values():
        assert outcome[:2] == ("error", "DistributedError"), outcome
        assert "no space left on rank 1's disk" in outcome[2], outcome
    assert folder_bytes(failed) == before


def test_ranks_that_disagree_get_the_same_clear_error(tmp_path):
    outcomes, _codes = run_group(2, "disagree", str(tmp_path))
    results = assert_all_ok(outcomes, 2)
    assert results[0] == results[1]
    messages, listing = results[0]
    expected = [
        "rank 1: TypeError: 't': expected a torch.Tensor or a Part, not str",
        "ranks disagree on 't': rank 0 gives F32 [4, 3], rank 1 gives F16 [4, 3]",
        "ranks disagree on 't': rank 0 gives F32 [4, 3], rank 1 gives F32 [4, 4]",
        "the slices of 't' along dimension 0 do not tile it: rank 1's [1, 3) overlaps the previous one",
        "the slices of 't' along dimension 0 do not tile it: rank 1's [3, 4) leaves [2, 3) out",
        "'t' is given whole by rank 0 and as a slice by rank(s) 1",
        "ranks slice 't' along different dimensions: [0, 1]",
        # loads
        "load failed on 1 rank(s): rank 1: FileNotFoundError: No such file or directory",
        "load failed on 1 rank(s): rank 1: KeyError: \"not in the checkpoint: 'nope'\"",
        "load: rank(s) 1 opened a checkpoint with other tensors than rank 0's",
    ]
    assert len(messages) == len(expected)
    for message, fragment in zip(messages, expected):
        assert message is not None and fragment in message, (message, fragment)
    assert listing == ["model.safetensors"]


def test_per_rank_layout_by_four_then_loaded_by_three(tmp_path):
    """torch 2.8's layout (torch/distributed/checkpoint/_hf_utils.py, filesystem.py): one file per rank,
    its chunks under the tensors' names, their offsets in DCP_SHARDING_INFO."""
    outcomes, _codes = run_group(4, "save_per_rank", str(tmp_path))
    assert_all_ok(outcomes, 4)
    assert sorted(os.listdir(tmp_path)) == [f"shard-0000{r}-model-00001-of-00001.safetensors" for r in range(1, 5)]
    full = full_tensors()
    seen = {}
    for rank in range(4):
        header, data = read_safetensors(tmp_path / f"shard-0000{rank + 1}-model-00001-of-00001.safetensors")
        metadata = header.pop("__metadata__")
        assert metadata["DCP_VERSION"] == "1.0" and metadata["format"] == "pt"
        info = json.loads(metadata["DCP_SHARDING_INFO"])
        assert sorted(info) == sorted(header)
        for name, entry in header.items():
            offsets = info[name]["saved_offsets"]
            index = tuple(slice(o, o + n) for o, n in zip(offsets, entry["shape"]))
            begin, end = entry["data_offsets"]
            assert data[begin:end] == raw(full[name][index]), (rank, name)
            seen.setdefault(name, []).append(rank)
    # each slice once, each whole tensor once (by its owner)
    assert all(len(ranks) == (4 if name in SLICED else 1) for name, ranks in seen.items())

    outcomes, _codes = run_group(3, "load_per_rank", str(tmp_path))
    dims = dict(SLICED, **{"embed.weight": 1, "w0": 1, "w1": 0})
    for rank, (whole, parts) in assert_all_ok(outcomes, 3).items():
        assert whole == described(full)
        for name, tensor in full.items():
            part = torch.tensor_split(tensor, 3, dim=dims[name])[rank] if name in dims else tensor
            assert parts[name] == described({name: part})[name], (rank, name)
