#!/usr/bin/python3
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""Many ranks and one checkpoint: safetensors_glib.distributed against every rank on its own.

    bench/distributed.py [--size-mb 2048] [--ranks 4] [--reps 3] [--scratch DIR]

Run with the library built and found (GI_TYPELIB_PATH, LD_LIBRARY_PATH, PYTHONPATH as in meson test).
Eight cases, in an order rotating every repetition, all run by one group of WORLD spawned ranks (gloo on
127.0.0.1), the page cache of the checkpoint dropped (fsync, then posix_fadvise DONTNEED) before each:

- load:      distributed.load on every rank (every tensor on every rank);
- baseline:  load_file(backend="pread") on every rank (each rank reads every byte itself);
- tp:        distributed.load_slices(dim=0) on every rank (its share of every tensor);
- save:      distributed.save of every rank's quarter of the rows (max_shard_size 1GB), and
- save_shards: the same save in shards of SHARDS_SIZE (more files than ranks),
- save_per_rank: the same save in torch's per-rank layout (a file per rank), against
- write:     each rank os.write()s the same bytes to a file of its own (the floor of the data's writes),
  and against
- write_same: each rank os.pwrite()s the same bytes to the places they take in a checkpoint of 1GB
  files (two files, as "save" writes), all ranks at once, with no coordination: what plain writes of
  the checkpoint's own files cost (every buffered write takes its file's inode lock, so the ranks
  writing one file run one at a time).

Every load case reads one byte of every page of every tensor it got before its closing barrier, so that
a load returning views of a mapping pays its page faults in the timing as a copying one does.

Per case: the wall time (the slowest rank, between two barriers), the CPU time of all the ranks (their
processes, every thread: waits on the group cost nothing there, so it is the steadier figure on a shared
machine; the kernel's writeback of dirty pages is not in it), and the bytes the ranks asked the file
system for (/proc/self/io rchar, summed over ranks) and that came from storage (read_bytes). Ratios are of
medians taken in one run. Prints a JSON line per measurement (what bench/run reads: the case "dist" there)
and a summary table.
"""

import argparse
import datetime
import json
import math
import os
import queue
import shutil
import socket
import statistics
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

# save_shards: the same save with shards of this size, so that the checkpoint has more files than ranks,
# as a model saved by many ranks usually has (5 GB shards of tens of GB). With the 1GB of "save", 93% of
# a 1 GiB checkpoint is one file, and a file takes one buffered writer at a time (its inode lock).
SHARDS_SIZE = "128MB"


def io_counters():
    with open("/proc/self/io") as f:
        fields = dict(line.split(": ") for line in f.read().splitlines())
    return int(fields["rchar"]), int(fields["read_bytes"])


def drop_cache(folder):
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def tensors(size_mb):
    """Layers of 1024-wide F32 (4 MiB each), plus BF16 ones: @size_mb in all."""
    out = {}
    n = max(1, size_mb // 4)
    for i in range(n):
        dtype = torch.bfloat16 if i % 4 == 3 else torch.float32
        rows = 1024 if dtype == torch.float32 else 2048
        out[f"layers.{i}.weight"] = torch.full((rows, 1024), float(i), dtype=dtype)
    return out


def touch_pages(loaded):
    """Reads one byte of every page of every tensor: a load that hands out views of a mapping pays its
    page faults here, inside the timing, as one that copies paid them while copying."""
    for tensor in loaded.values():
        if tensor.numel():
            tensor.reshape(-1).view(torch.uint8).numpy()[::4096].sum()


def same_places(parts, max_bytes=10**9):
    """Where each tensor's bytes go in a checkpoint of files of at most @max_bytes of data (a new file
    when the next tensor would not fit), as (file number, offset of its bytes in that file) by name:
    the split and the order of Hugging Face's sharding, the headers left out."""
    places = {}
    file, used = 0, 0
    for name, part in parts.items():
        n_bytes = part.tensor.element_size() * math.prod(part.shape)
        if used and used + n_bytes > max_bytes:
            file, used = file + 1, 0
        places[name] = (file, used)
        used += n_bytes
    return places


def write_same(parts, folder):
    """This rank's parts os.pwrite()n to their places (same_places()) in files of @folder that every
    rank opens, creating them, at once."""
    fds = {}
    try:
        for name, (file, base) in same_places(parts).items():
            part = parts[name]
            if file not in fds:
                fds[file] = os.open(os.path.join(folder, f"same-{file}.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
            row_bytes = part.tensor.element_size() * math.prod(part.shape[1:])
            os.pwrite(fds[file], memoryview(part.tensor.view(-1).view(torch.uint8).numpy()),
                      base + part.offset * row_bytes)
    finally:
        for fd in fds.values():
            os.close(fd)


def rank_main(rank, world, port, order, folder, out_folder, size_mb, results):
    """One rank of the group that runs every case of @order in turn, each between barriers, the
    page cache of the checkpoint dropped (by rank 0) before each."""
    from safetensors_glib import distributed
    from safetensors_glib.torch import load_file

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(minutes=10))
    full = tensors(size_mb)
    mine = {}
    for name, tensor in full.items():
        part = torch.tensor_split(tensor, world)[rank].clone()
        offset = sum(p.shape[0] for p in torch.tensor_split(tensor, world)[:rank])
        mine[name] = distributed.Part(part, shape=tensor.shape, offset=offset)
    del full
    for step, case in enumerate(order):
        dist.barrier()
        if rank == 0:
            shutil.rmtree(out_folder, ignore_errors=True)
            os.mkdir(out_folder)
            # no writeback of an earlier case's files may run during this one
            os.sync()
            drop_cache(folder)
        dist.barrier()
        r0, b0 = io_counters()
        cpu = time.process_time()
        start = time.monotonic()
        loaded = None
        if case == "load":
            loaded = distributed.load(folder)
        elif case == "baseline":
            index = os.path.join(folder, "model.safetensors.index.json")
            path = index if os.path.exists(index) else os.path.join(folder, "model.safetensors")
            loaded = load_file(path, backend="pread")
        elif case == "tp":
            loaded = distributed.load_slices(folder, dim=0)
        elif case == "save":
            distributed.save(mine, out_folder, max_shard_size="1GB")
        elif case == "save_shards":
            distributed.save(mine, out_folder, max_shard_size=SHARDS_SIZE)
        elif case == "save_per_rank":
            distributed.save(mine, out_folder, layout="per-rank")
        elif case == "write_same":
            write_same(mine, out_folder)
        elif case == "write":
            with open(os.path.join(out_folder, f"rank-{rank}.bin"), "wb", buffering=0) as f:
                for part in mine.values():
                    f.write(memoryview(part.tensor.view(-1).view(torch.uint8).numpy()))
        if loaded is not None:
            touch_pages(loaded)
        dist.barrier()
        seconds = time.monotonic() - start
        cpu = time.process_time() - cpu
        r1, b1 = io_counters()
        if loaded is not None:
            n_bytes = sum(t.numel() * t.element_size() for t in loaded.values())
        else:
            n_bytes = sum(p.tensor.numel() * p.tensor.element_size() for p in mine.values())
        del loaded
        results.put((step, rank, seconds, r1 - r0, b1 - b0, n_bytes, cpu))
    dist.barrier()
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(order, world, folder, out_folder, size_mb, checkpoint, reps):
    """Runs @order in one group of @world spawned ranks; yields a row per case run, as it ends."""
    context = mp.get_context("spawn")
    results = context.Queue()
    port = free_port()
    procs = [context.Process(target=rank_main, args=(r, world, port, order, folder, out_folder, size_mb, results))
             for r in range(world)]
    for p in procs:
        p.start()
    rows = {}
    done = 0
    try:
        while done < len(order):
            try:
                step, *row = results.get(timeout=5)
            except queue.Empty:
                failed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                if failed:
                    raise SystemExit(f"a rank exited with {failed[0]}") from None
                continue
            rows.setdefault(step, []).append(row)
            if len(rows[step]) == world:
                got = rows.pop(step)
                done += 1
                yield {"case": order[step], "seconds": max(r[1] for r in got), "rchar": sum(r[2] for r in got),
                       "read_bytes": sum(r[3] for r in got), "cpu_seconds": sum(r[5] for r in got),
                       "bytes": checkpoint,
                       "bytes_per_rank": [r[4] for r in got], "rep": step * reps // len(order)}
        for p in procs:
            p.join()
            if p.exitcode != 0:
                raise SystemExit(f"a rank exited with {p.exitcode}")
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--scratch")
    args = parser.parse_args()

    from safetensors_glib.torch import save_file

    scratch = tempfile.mkdtemp(prefix="st-bench-dist-", dir=args.scratch)
    try:
        folder = os.path.join(scratch, "ckpt")
        os.mkdir(folder)
        save_file(tensors(args.size_mb), os.path.join(folder, "model.safetensors"), max_shard_size="1GB")
        checkpoint = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))
        cases = ["load", "baseline", "tp", "save", "save_shards", "save_per_rank", "write", "write_same"]
        measured = {case: [] for case in cases}
        order = [case for rep in range(args.reps) for case in cases[rep % len(cases):] + cases[:rep % len(cases)]]
        out_folder = os.path.join(scratch, "out")
        for row in run(order, args.ranks, folder, out_folder, args.size_mb, checkpoint, args.reps):
            print(json.dumps(row), flush=True)
            measured[row["case"]].append(row)
        med = {case: {key: statistics.median(r[key] for r in rows)
                      for key in ("seconds", "cpu_seconds", "rchar", "read_bytes")}
               for case, rows in measured.items()}
        print(f"\ncheckpoint: {checkpoint / 1e6:.0f} MB in {len(os.listdir(folder))} files, {args.ranks} ranks, "
              f"{args.reps} reps, medians")
        for case in cases:
            m = med[case]
            print(f"{case:13} {m['seconds']:8.2f} s  CPU {m['cpu_seconds']:6.2f} s  rchar {m['rchar'] / checkpoint:5.2f}x  "
                  f"storage {m['read_bytes'] / checkpoint:5.2f}x")
        print(f"load / baseline wall: {med['load']['seconds'] / med['baseline']['seconds']:.2f}")
        print(f"save throughput / write() throughput: {med['write']['seconds'] / med['save']['seconds']:.2f} "
              f"(CPU time of all ranks: {med['write']['cpu_seconds'] / med['save']['cpu_seconds']:.2f})")
        print(f"save throughput / plain writes of the same files: "
              f"{med['write_same']['seconds'] / med['save']['seconds']:.2f}")
        print(f"load / baseline CPU time of all ranks: {med['load']['cpu_seconds'] / med['baseline']['cpu_seconds']:.2f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
