// make-demo-model.js: writes a small model to inspect: DIR/demo.safetensors (F32, BF16, F16, F8,
// I64, with metadata) and the same tensors as a sharded checkpoint, DIR/sharded/model.safetensors.index.json
//
// SPDX-FileCopyrightText: 2026 The safetensors-glib authors
// SPDX-License-Identifier: Apache-2.0
//
//   gjs -m make-demo-model.js DIR

import GLib from 'gi://GLib';
import ST from 'gi://ST?version=1.0';

const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);

const [dir] = ARGV;
const file = new ST.File();
const embed = new Float32Array(64 * 16).map((_, i) => Math.sin(i / 7) * Math.exp(-(((i % 64) - 32) ** 2) / 300));
file.set_tensor('embed.weight', Safetensors.tensorFromTypedArray(embed, [64, 16]));
// BF16 1, -2, 0.15625, 3.140625, then a ramp: raw little-endian bits, the upper half of each F32
const bf16 = new Uint16Array(256);
const asF32 = new Float32Array(1), asBits = new Uint32Array(asF32.buffer);
[1, -2, 0.15625, 3.140625].forEach((v, i) => { asF32[0] = v; bf16[i] = asBits[0] >>> 16; });
// then a bell curve (Box-Muller over a fixed linear congruential sequence: the same file every run)
let seed = 12345;
const uniform = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 || 1e-9;
for (let i = 4; i < bf16.length; i++) {
    asF32[0] = 0.5 * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    bf16[i] = asBits[0] >>> 16;
}
file.set_tensor('norm.weight', Safetensors.tensorFromTypedArray(bf16, [256], ST.DType.BF16));
file.set_tensor('head.bias', Safetensors.tensorFromTypedArray(new Uint16Array([0x3c00, 0xbc00, 0x3800]), [3], ST.DType.F16));
file.set_tensor('scales', Safetensors.tensorFromTypedArray(new Uint8Array([0x38, 0x40, 0x30, 0xb8]), [2, 2], ST.DType.F8_E4M3));
file.set_tensor('step', Safetensors.tensorFromTypedArray(new BigInt64Array([1000n]), []));
file.set_metadata_value('format', 'pt');
file.set_metadata_value('source', 'make-demo-model.js');
file.save_to_path(GLib.build_filenamev([dir, 'demo.safetensors']), ST.SaveFlags.NONE, null);
const sharded = GLib.build_filenamev([dir, 'sharded']);
GLib.mkdir_with_parents(sharded, 0o755);
file.save_sharded(sharded, 'model', 1024, ST.SaveFlags.NONE, null, null);
