"""One Python benchmark case, run in a fresh process by bench/run.

Usage: pycase.py CASE[,CASE...] WORKLOAD SCRATCH_DIR

Prints one JSON object per case (several cases in one process only in bench/run --quick, which checks that
they run and measures nothing): {"case": CASE, "seconds": time of the measured operation only (imports and preparing the
tensors to save are not counted), "rss_growth_kib": peak RSS during the operation minus RSS before it,
"bytes": bytes the operation reads or writes}.

Cases:
  st_torch_load        safetensors_glib.torch.load_file (lazy: maps the file, reads no tensor data)
  st_torch_load_read   the same, then reads every page of every tensor
  st_torch_save        safetensors_glib.torch.save_file of the workload's torch tensors
  st_np_load           safetensors_glib.numpy.load_file (lazy)
  st_np_load_read      the same, then reads every page of every array
  st_np_save           safetensors_glib.numpy.save_file of the workload's numpy arrays
  torch_load           torch.load of the same tensors saved by torch.save (reads all data)
  torch_save           torch.save of the workload's torch tensors
  floor_mmap_read      mmap the safetensors file (private, like the library) and read every page, tensor by
                       tensor with the same page walk as the numpy load cases
  floor_mmap_read_torch  the same through torch tensors (the floor of st_torch_load_read): one torch.frombuffer
                       of the mapping, one narrow() per tensor's byte range (the least torch work that gives a
                       tensor over each range), and the torch load cases' page walk
  floor_write          write the same bytes as the safetensors file with plain file writes, from numpy arrays
  floor_write_torch    the same from torch tensors' memory (the floor of st_torch_save)
  steady_read          st_torch_load_read, st_np_load_read, floor_mmap_read and floor_mmap_read_torch
                       alternating 5 times in one process: one line for each (steady_st_torch_load_read, ...),
                       with the medians
  steady_save          st_torch_save, st_np_save and floor_write alternating 5 times in one process, likewise
"""

import gc
import json
import mmap
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import workloads  # noqa: E402
from memwatch import PeakRss  # noqa: E402

PAGE = mmap.PAGESIZE


def touch_pages_np(array):
    """Reads one byte of every page @array spans (its first and last byte included)."""
    flat = array.reshape(-1).view(np.uint8)
    if flat.size == 0:
        return 0
    return int(flat[::PAGE].sum()) + int(flat[-1])


def touch_pages_torch(tensor):
    """The same page walk as touch_pages_np, through the tensor's zero-copy numpy view, so that every case
    reads its pages with the same code. The view costs a torch call per tensor (about 1 µs, 1.5 µs in a
    fresh process) that the numpy cases do not make: the torch cases' floor (map_and_walk_torch) makes it
    too."""
    return touch_pages_np(tensor.numpy())


def settle_writeback(n_bytes=0):
    """Before a save (not timed): writes back earlier cases' dirty pages, so that no case pays for its
    predecessor's writeback; then warms @n_bytes of free memory.

    The warming: on this VM, memory the guest freed is handed back to the host, and the first use of
    such a page costs a host fault, charged to the guest process as CPU time. A 0.5 GB save takes
    its page cache from the free lists, so without warming its CPU time followed how much of that
    memory the host had taken back (one fresh-process save spread from 57 ms to 1 s). Touching twice
    as much memory as the save will write (its page cache, and slack), then freeing it, puts
    host-backed pages at the head of the free lists for every case alike: the same save then spread
    from 58 to 66 ms over 12 runs."""
    os.sync()
    if n_bytes:
        warm = np.ones(n_bytes // 4 + 1, dtype=np.int64)  # twice the bytes: the page cache and slack
        del warm


def settle_gc():
    """Before every timed operation (not timed): moves every object made so far (imports, the workload's
    spec, the tensors to save) out of the collector's reach (gc.freeze()), so that a collection inside
    the timed operation is one the operation's own allocations started, over its own objects. Without
    it, whether the first allocations of the operation started a collection of the setup's objects
    followed the luck of the collector's counters: a torch load_file of gpt2 took 0.76 ms or 1.3 ms (a
    half-millisecond collection of objects it never made) depending on how many objects the process had
    made before.

    Not gc.collect(), which this did before fec1d20: with torch imported, a full collection walks every
    object torch made (about 48 ms) and leaves the CPU's caches full of them, a cold start no program
    has between its imports and its first load; it cost the case that runs the more code the more (a
    first numpy load_file of gpt2 0.43-0.52 ms after it, 0.24-0.27 ms after gc.freeze(); load + read
    against mmap + read 1.07 after it and 1.04 after gc.freeze(), torch 1.06 and 1.01: bench/README.md)."""
    gc.freeze()


def tensor_ranges(spec):
    """The [begin, end) byte range of every tensor in the workload's file, in data order."""
    header = workloads.header_bytes(spec)
    offset = len(header)
    shapes = dict(spec)
    ranges = []
    for name in workloads.data_order(spec):
        size = 4 * workloads.n_elements(shapes[name])
        ranges.append((offset, offset + size))
        offset += size
    return ranges


def map_and_walk(path, ranges):
    """The floor of load + read: maps the file (private, read-write, as the library does) and reads every page
    tensor by tensor, with the same page walk and the same number of numpy calls as the load cases make, so that
    the difference is the loader's own cost. Returns the mapping."""
    with open(path, "rb") as f:
        mapping = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    whole = np.frombuffer(mapping, dtype=np.uint8)
    for begin, end in ranges:
        touch_pages_np(whole[begin:end])
    return mapping


def map_and_walk_torch(path, ranges):
    """The floor of torch load + read: maps the file as map_and_walk does, makes a torch tensor over each
    tensor's byte range with the least torch work there is (one torch.frombuffer of the whole mapping, one
    narrow() per range) and reads every page through it with the torch cases' page walk. What torch costs
    any loader that hands out torch tensors (its operators' set-up on their first call in a process, a
    tensor object per range, the numpy view the walk reads through) is then in the floor as it is in ours,
    and the difference is the loader's own cost, as for numpy. Returns the mapping."""
    import torch

    with open(path, "rb") as f:
        mapping = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    whole = torch.frombuffer(mapping, dtype=torch.uint8)
    for begin, end in ranges:
        touch_pages_torch(whole.narrow(0, begin, end - begin))
    return mapping


def out_path(scratch, workload, suffix):
    path = os.path.join(scratch, f"out-{workload}{suffix}")
    if os.path.exists(path):
        os.unlink(path)
    return path


def run(case, workload, scratch):
    # Every case runs with torch loaded, the numpy ones and the floors too, so that all of them measure in
    # the same kind of process (torch's libraries and allocator make a process's memory map much larger).
    import torch  # noqa: F401

    st_path = os.path.join(scratch, workload + ".safetensors")
    pt_path = os.path.join(scratch, workload + ".pt")
    spec = workloads.load_spec(scratch, workload)
    file_size = os.path.getsize(st_path)
    keep = []

    if case in ("st_torch_load", "st_torch_load_read"):
        import safetensors_glib.torch as st_torch

        settle_gc()
        with PeakRss() as rss:
            c0 = time.process_time()
            t0 = time.perf_counter()
            tensors = st_torch.load_file(st_path)
            if case == "st_torch_load_read":
                for t in tensors.values():
                    touch_pages_torch(t)
            t1 = time.perf_counter()
            c1 = time.process_time()
        assert len(tensors) == len(spec), "load_file returned %d tensors, expected %d" % (len(tensors), len(spec))
        keep.append(tensors)
        nbytes = file_size
    elif case in ("st_np_load", "st_np_load_read"):
        import safetensors_glib.numpy as st_np

        settle_gc()
        with PeakRss() as rss:
            c0 = time.process_time()
            t0 = time.perf_counter()
            arrays = st_np.load_file(st_path)
            if case == "st_np_load_read":
                for a in arrays.values():
                    touch_pages_np(a)
            t1 = time.perf_counter()
            c1 = time.process_time()
        assert len(arrays) == len(spec)
        keep.append(arrays)
        nbytes = file_size
    elif case == "torch_load":
        import torch

        settle_gc()
        with PeakRss() as rss:
            c0 = time.process_time()
            t0 = time.perf_counter()
            tensors = torch.load(pt_path)
            t1 = time.perf_counter()
            c1 = time.process_time()
        assert len(tensors) == len(spec)
        keep.append(tensors)
        nbytes = os.path.getsize(pt_path)
    elif case in ("floor_mmap_read", "floor_mmap_read_torch"):
        ranges = tensor_ranges(spec)
        walk = map_and_walk_torch if case == "floor_mmap_read_torch" else map_and_walk
        settle_gc()
        with PeakRss() as rss:
            c0 = time.process_time()
            t0 = time.perf_counter()
            mapping = walk(st_path, ranges)
            t1 = time.perf_counter()
            c1 = time.process_time()
        keep.append(mapping)
        nbytes = file_size
    elif case == "st_torch_save":
        import safetensors_glib.torch as st_torch

        tensors = workloads.make_torch(spec)
        dest = out_path(scratch, workload, ".st-torch.safetensors")
        settle_writeback(file_size)
        settle_gc()
        with PeakRss() as rss:
            c0 = time.process_time()
            t0 = time.perf_counter()
            st_torch.save_file(tensors, dest)
            t1 = time.perf_counter()
            c1 = time.process_time()
        nbytes = check_written(dest, file_size)
    elif case == "st_np_save":
        import safetensors_glib.numpy as st_np

        arrays = workloads.make_numpy(spec)
        dest = out_path(scratch, workload, ".st-np.safetensors")
        settle_writeback(file_size)
        settle_gc()
        with PeakRss() as rss:
            c0 = time.process_time()
            t0 = time.perf_counter()
            st_np.save_file(arrays, dest)
            t1 = time.perf_counter()
            c1 = time.process_time()
        nbytes = check_written(dest, file_size)
    elif case == "torch_save":
        import torch

        tensors = workloads.make_torch(spec)
        dest = out_path(scratch, workload, ".torch.pt")
        settle_writeback(file_size)
        settle_gc()
        with PeakRss() as rss:
            c0 = time.process_time()
            t0 = time.perf_counter()
            torch.save(tensors, dest)
            t1 = time.perf_counter()
            c1 = time.process_time()
        nbytes = os.path.getsize(dest)
        os.unlink(dest)
    elif case in ("floor_write", "floor_write_torch"):
        # The same bytes from the same kind of memory as the save it is the floor of: numpy's allocations for
        # numpy.save_file, torch's (through zero-copy numpy views) for torch.save_file. Copying out of torch's
        # allocations costs the kernel measurably more on this machine (about 15% for gpt2).
        if case == "floor_write_torch":
            arrays = {name: t.numpy() for name, t in workloads.make_torch(spec).items()}
        else:
            arrays = workloads.make_numpy(spec)
        header = workloads.header_bytes(spec)
        order = workloads.data_order(spec)
        dest = out_path(scratch, workload, ".floor.safetensors")
        settle_writeback(file_size)
        settle_gc()
        with PeakRss() as rss:
            c0 = time.process_time()
            t0 = time.perf_counter()
            with open(dest, "wb") as f:
                f.write(header)
                for name in order:
                    f.write(memoryview(arrays[name]).cast("B"))
            t1 = time.perf_counter()
            c1 = time.process_time()
        nbytes = check_written(dest, file_size)
    else:
        raise SystemExit(f"unknown case {case!r}")

    return {"case": case, "seconds": t1 - t0, "cpu_seconds": c1 - c0, "rss_growth_kib": rss.growth_kib, "bytes": nbytes}


def check_written(dest, reference_size):
    """Checks that @dest is about as large as the workload's file (the header may differ by metadata)."""
    size = os.path.getsize(dest)
    if abs(size - reference_size) > 4096:
        raise SystemExit(f"{dest}: wrote {size} bytes, the workload's file has {reference_size}")
    os.unlink(dest)
    return size


STEADY_ROUNDS = 5


def steady_read(workload, scratch):
    """load_file + read every page (torch and numpy) and mmap + read (through numpy and through torch),
    alternating STEADY_ROUNDS times in one process with torch imported for all four: the steady state, without the first call's one-time costs.
    Every round maps the file afresh. Returns one result per case, with the medians over the rounds."""
    import statistics

    import safetensors_glib.numpy as st_np
    import safetensors_glib.torch as st_torch

    st_path = os.path.join(scratch, workload + ".safetensors")

    def torch_read():
        for t in st_torch.load_file(st_path).values():
            touch_pages_torch(t)

    def np_read():
        for a in st_np.load_file(st_path).values():
            touch_pages_np(a)

    ranges = tensor_ranges(workloads.load_spec(scratch, workload))

    def floor_read():
        map_and_walk(st_path, ranges)

    def floor_read_torch():
        map_and_walk_torch(st_path, ranges)

    cases = [("steady_st_torch_load_read", torch_read), ("steady_st_np_load_read", np_read),
             ("steady_floor_mmap_read", floor_read), ("steady_floor_mmap_read_torch", floor_read_torch)]
    times = {name: ([], []) for name, _ in cases}
    for r in range(STEADY_ROUNDS):
        k = r % len(cases)
        for name, fn in cases[k:] + cases[:k]:
            settle_gc()
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn()
            t1 = time.perf_counter()
            c1 = time.process_time()
            times[name][0].append(t1 - t0)
            times[name][1].append(c1 - c0)
    size = os.path.getsize(st_path)
    return [{"case": name, "seconds": statistics.median(times[name][0]),
             "cpu_seconds": statistics.median(times[name][1]), "rounds": STEADY_ROUNDS, "bytes": size}
            for name, _ in cases]


def steady_save(workload, scratch):
    """safetensors_glib.torch.save_file, safetensors_glib.numpy.save_file and the plain-write floor alternating
    STEADY_ROUNDS times in one process, from tensors made once: the steady state. Returns one result per case,
    with the medians over the rounds."""
    import statistics

    import safetensors_glib.numpy as st_np
    import safetensors_glib.torch as st_torch

    spec = workloads.load_spec(scratch, workload)
    tensors = workloads.make_torch(spec)
    torch_memory = {name: t.numpy() for name, t in tensors.items()}
    arrays = workloads.make_numpy(spec)
    header = workloads.header_bytes(spec)
    order = workloads.data_order(spec)
    dest = os.path.join(scratch, f"out-{workload}.steady.safetensors")

    def floor_write(source):
        with open(dest, "wb") as f:
            f.write(header)
            for name in order:
                f.write(memoryview(source[name]).cast("B"))

    cases = [("steady_st_torch_save", lambda: st_torch.save_file(tensors, dest)),
             ("steady_st_np_save", lambda: st_np.save_file(arrays, dest)),
             ("steady_floor_write", lambda: floor_write(arrays)),
             ("steady_floor_write_torch", lambda: floor_write(torch_memory))]
    times = {name: ([], []) for name, _ in cases}
    size = 0
    for r in range(STEADY_ROUNDS):
        k = r % len(cases)
        for name, fn in cases[k:] + cases[:k]:
            if os.path.exists(dest):
                os.unlink(dest)
            settle_writeback()
            settle_gc()
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn()
            t1 = time.perf_counter()
            c1 = time.process_time()
            size = os.path.getsize(dest)
            times[name][0].append(t1 - t0)
            times[name][1].append(c1 - c0)
    os.unlink(dest)
    return [{"case": name, "seconds": statistics.median(times[name][0]),
             "cpu_seconds": statistics.median(times[name][1]), "rounds": STEADY_ROUNDS, "bytes": size}
            for name, _ in cases]


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    for case in argv[1].split(","):
        if case == "steady_read":
            results = steady_read(argv[2], argv[3])
        elif case == "steady_save":
            results = steady_save(argv[2], argv[3])
        else:
            results = [run(case, argv[2], argv[3])]
        for result in results:
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
