/* inspect.vala: print what a safetensors file holds, with the first values of each tensor
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Build: valac --pkg safetensors-glib-1.0 inspect.vala
 * Run:   ./inspect model.safetensors
 */

const int MAX_SHOWN = 4;

string shape_text (ST.Tensor tensor) {
    var text = new StringBuilder ("[");
    foreach (var dim in tensor.get_shape ())
        text.append_printf ("%s%" + int64.FORMAT, text.len > 1 ? ", " : "", dim);
    return text.append_c (']').str;
}

/* safetensors stores every value little-endian: read_le assembles one from its bytes, whatever the byte order
 * of the host (on a big-endian machine, such as s390x, copying the bytes into a variable would give other
 * numbers). Data offsets need not be aligned, so nothing is read through a cast pointer. */
uint64 read_le (uint8[] data, uint64 at, int n_bytes) {
    uint64 v = 0;
    for (int b = n_bytes - 1; b >= 0; b--)
        v = (v << 8) | data[at + b];
    return v;
}

/* The first values of the dtypes Vala has a type for, read in place from the mapping. */
string first_values (ST.Tensor tensor) {
    unowned uint8[] data = tensor.get_data ();
    var n = uint64.min (tensor.get_n_elements (), MAX_SHOWN);
    var text = new StringBuilder ();

    for (uint64 i = 0; i < n; i++) {
        if (i > 0)
            text.append (", ");
        switch (tensor.get_dtype ()) {
        case ST.DType.F32:
            uint32 bits = (uint32) read_le (data, i * 4, 4);
            float v = 0;
            Memory.copy (&v, &bits, sizeof (float));
            text.append_printf ("%g", v);
            break;
        case ST.DType.F64:
            uint64 bits = read_le (data, i * 8, 8);
            double v = 0;
            Memory.copy (&v, &bits, sizeof (double));
            text.append_printf ("%g", v);
            break;
        case ST.DType.I32:
            text.append_printf ("%" + int32.FORMAT, (int32) read_le (data, i * 4, 4));
            break;
        case ST.DType.I64:
            text.append_printf ("%" + int64.FORMAT, (int64) read_le (data, i * 8, 8));
            break;
        case ST.DType.U8:
        case ST.DType.BOOL:
            text.append_printf ("%u", data[i]);
            break;
        default:
            return "(raw)";
        }
    }
    if (tensor.get_n_elements () > MAX_SHOWN)
        text.append (", ...");
    return text.str;
}

int main (string[] args) {
    if (args.length != 2) {
        stderr.printf ("usage: %s FILE.safetensors\n", args[0]);
        return 2;
    }
    try {
        var file = new ST.File.from_path (args[1]);
        stdout.printf ("%s: %u tensors\n", args[1], file.get_n_tensors ());

        var metadata = file.dup_metadata ();
        if (metadata.size () > 0) {
            var keys = metadata.get_keys ();
            keys.sort (strcmp);
            foreach (unowned string key in keys)
                stdout.printf ("  metadata %s = %s\n", key, metadata[key]);
        }

        foreach (unowned string name in file.dup_names_sorted ()) {
            var tensor = file.get_tensor (name);
            stdout.printf ("  %-12s %-5s %-10s %s\n", name, tensor.get_dtype ().to_string (),
                           shape_text (tensor), first_values (tensor));
        }
    } catch (GLib.Error e) {
        stderr.printf ("%s\n", e.message);
        return 1;
    }
    return 0;
}
