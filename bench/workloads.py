"""The benchmark workloads: their tensors, and the files every case reads.

The safetensors files are written here by a minimal writer of our own (compact JSON, tensors sorted by name,
header padded with spaces to a multiple of 8: the bytes Hugging Face's writer gives for all-F32 tensors), so
that generating the workloads does not depend on the library being measured.

Usage (run by bench/run): workloads.py gen SCRATCH_DIR [--quick]
"""

import json
import os
import struct
import sys

import numpy as np

# GPT-2 small: 12 blocks of 12 tensors, the embeddings, the final norm, and one causal mask shared by the
# blocks: 149 tensors, 0.50 GB of F32. Quick mode keeps the shapes' structure but shrinks vocabulary, context
# and depth.
GPT2_FULL = dict(n_layers=12, vocab=50257, n_ctx=1024, d=768)
GPT2_QUICK = dict(n_layers=2, vocab=2048, n_ctx=256, d=256)

# Tensor counts for the open-time sweep (each tensor 16 F32, like the "many" workload).
COUNTS_FULL = [10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000]
COUNTS_QUICK = [10, 100, 1000, 10000]


def gpt2_spec(n_layers, vocab, n_ctx, d):
    spec = [("wte", [vocab, d]), ("wpe", [n_ctx, d]), ("attn_mask", [1, 1, n_ctx, n_ctx])]
    for i in range(n_layers):
        p = f"h.{i}."
        spec += [
            (p + "ln_1.weight", [d]),
            (p + "ln_1.bias", [d]),
            (p + "attn.c_attn.weight", [d, 3 * d]),
            (p + "attn.c_attn.bias", [3 * d]),
            (p + "attn.c_proj.weight", [d, d]),
            (p + "attn.c_proj.bias", [d]),
            (p + "ln_2.weight", [d]),
            (p + "ln_2.bias", [d]),
            (p + "mlp.c_fc.weight", [d, 4 * d]),
            (p + "mlp.c_fc.bias", [4 * d]),
            (p + "mlp.c_proj.weight", [4 * d, d]),
            (p + "mlp.c_proj.bias", [d]),
        ]
    spec += [("ln_f.weight", [d]), ("ln_f.bias", [d])]
    return spec


def lora_spec(n):
    return [(f"lora.{i // 2}.{'up' if i % 2 == 0 else 'down'}.weight", [32, 32]) for i in range(n)]


def many_spec(n):
    return [(f"w.{i}", [16]) for i in range(n)]


def workload_specs(quick):
    return {
        "gpt2": gpt2_spec(**(GPT2_QUICK if quick else GPT2_FULL)),
        "lora": lora_spec(200 if quick else 1000),
        "many": many_spec(2000 if quick else 20000),
    }


def n_elements(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def fill_value(index):
    """A non-zero value per tensor, so that every page of every tensor is really written."""
    return 0.25 + (index % 97) / 128.0


def make_numpy(spec):
    """The workload as a dict of numpy arrays (what the numpy save cases and the floors write)."""
    return {name: np.full(shape, fill_value(i), dtype=np.float32) for i, (name, shape) in enumerate(spec)}


def make_torch(spec):
    """The workload as a dict of torch tensors, each in its own torch-allocated storage."""
    import torch

    return {name: torch.full(shape, fill_value(i), dtype=torch.float32) for i, (name, shape) in enumerate(spec)}


def header_bytes(spec):
    """The 8-byte length and the padded header of a safetensors file holding @spec's F32 tensors."""
    header = {}
    offset = 0
    for name, shape in sorted(spec, key=lambda e: e[0].encode()):
        size = 4 * n_elements(shape)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def data_order(spec):
    """The tensor names in the order their bytes follow the header."""
    return [name for name, _ in sorted(spec, key=lambda e: e[0].encode())]


def write_safetensors(path, spec, arrays):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header_bytes(spec))
        for name in data_order(spec):
            f.write(memoryview(arrays[name]).cast("B"))
    os.replace(tmp, path)


def load_spec(scratch, workload):
    with open(os.path.join(scratch, workload + ".json")) as f:
        return [(name, shape) for name, shape in json.load(f)]


def generate(scratch, quick):
    import torch

    os.makedirs(scratch, exist_ok=True)
    for workload, spec in workload_specs(quick).items():
        with open(os.path.join(scratch, workload + ".json"), "w") as f:
            json.dump(spec, f)
        arrays = make_numpy(spec)
        write_safetensors(os.path.join(scratch, workload + ".safetensors"), spec, arrays)
        # torch.load's input: the same tensors saved by torch.save.
        torch.save({k: torch.from_numpy(v) for k, v in arrays.items()}, os.path.join(scratch, workload + ".pt"))
        del arrays
    # A file with gpt2's tensor count but almost no data: opening it and opening gpt2 should cost the same.
    gpt2 = workload_specs(quick)["gpt2"]
    small = [(name, [1] * len(shape)) for name, shape in gpt2]
    write_safetensors(os.path.join(scratch, "gpt2-nodata.safetensors"), small, make_numpy(small))
    for count in COUNTS_QUICK if quick else COUNTS_FULL:
        spec = many_spec(count)
        write_safetensors(os.path.join(scratch, f"count-{count}.safetensors"), spec, make_numpy(spec))


def main(argv):
    if len(argv) < 3 or argv[1] != "gen":
        print(__doc__, file=sys.stderr)
        return 2
    generate(argv[2], "--quick" in argv[3:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
