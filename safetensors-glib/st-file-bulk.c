/* st-file-bulk.c: every tensor's name in one buffer, and the tensors as runs, for bindings
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * st_file_dup_names_in_file_order() and st_file_dup_layout() give the same facts, but a binding
 * converts their arrays element by element: for a file of 20,000 tensors, a string object and an
 * integer object per element cost PyGObject more than the rest of a load. A buffer crosses into
 * such a language whole, where one split() of the names and a memoryview of the integers do the
 * rest at the language's C speed. The runs say in one record what the common case of many tensors
 * of one shape stored end to end (a LoRA adapter, same-shape layers) would take a record per tensor
 * to say, and a binding makes all of them with one framework call: an array of a few integers,
 * which needs no buffer.
 */
#include <string.h>

#include "st-file-bulk.h"
#include "st-file-private.h"

/**
 * st_file_dup_names_bytes:
 * @self: a file
 *
 * Lists the names of the tensors in file order, as [method@ST.File.dup_names_in_file_order]
 * does, in one buffer: each name's UTF-8 bytes followed by one NUL byte, the names end to end.
 * Bindings split it into their own strings in one call (Python:
 * `bytes.decode().split("\0")[:-1]`) instead of converting an array of strings one by one.
 *
 * The names go with the records of [method@ST.File.dup_layout] and the tensors of
 * [method@ST.File.dup_runs], in the same order. Safe from several threads at once, as
 * the other readers are (see [class@ST.File]).
 *
 * Returns: (transfer full): the names, each followed by a NUL byte; empty for a file without
 *   tensors
 *
 * Since: 1.2
 */
GBytes *
st_file_dup_names_bytes (STFile *self)
{
  gsize total = 0;
  gsize at = 0;
  gsize *lengths;
  char *names;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);

  if (self->entries->len == 0)
    return g_bytes_new (NULL, 0);

  lengths = g_new (gsize, self->entries->len);
  for (guint i = 0; i < self->entries->len; i++)
    {
      const FileEntry *entry = g_ptr_array_index (self->entries, i);

      lengths[i] = strlen (entry->name) + 1;
      total += lengths[i];
    }

  names = g_malloc (total);
  for (guint i = 0; i < self->entries->len; i++)
    {
      const FileEntry *entry = g_ptr_array_index (self->entries, i);

      memcpy (names + at, entry->name, lengths[i]);
      at += lengths[i];
    }
  g_free (lengths);

  return g_bytes_new_take (names, total);
}

/* Whether @entry continues the run whose last tensor is @last (of @dtype and @shape, ending at
 * @run_end): same dtype and shape, both loaded and not empty, its bytes right after. */
static gboolean
continues_run (FileEntry    *entry,
               STDType       dtype,
               const gint64 *shape,
               guint         n_dims,
               gint64        run_end)
{
  STDType entry_dtype;
  guint entry_n_dims;
  const gint64 *entry_shape = st_file_entry_get_layout (entry, &entry_dtype, &entry_n_dims);
  gint64 begin;
  gint64 end;

  if (entry_dtype != dtype || entry_n_dims != n_dims)
    return FALSE;
  if (n_dims > 0 && memcmp (entry_shape, shape, n_dims * sizeof (gint64)) != 0)
    return FALSE;
  st_file_entry_get_signed_offsets (entry, &begin, &end);
  return begin >= 0 && begin == run_end && end > begin;
}

/**
 * st_file_dup_runs:
 * @self: a file
 * @n_values: (out): return location for the number of values returned
 *
 * Describes every tensor of the file, in file order, as runs: a run is one tensor, or
 * consecutive tensors of one dtype and one shape, none empty, each loaded from the file and
 * stored right after the one before it. Bindings make the tensors of a run with one call of
 * their framework (one buffer cut into equal rows), and a file of equal rows (a LoRA adapter,
 * same-shape layers, any file whose tensors all match) is a single run.
 *
 * One record per run, records end to end, in one array of integers (as
 * [method@ST.File.dup_layout] gives one record per tensor):
 *
 * | index in the record  | value                                                          |
 * |----------------------|----------------------------------------------------------------|
 * | 0                    | the number of tensors in the run, at least 1                   |
 * | 1                    | the dtype, an [enum@ST.DType] value                             |
 * | 2                    | begin: the first byte of the run's first tensor in the loaded data buffer, or -1 |
 * | 3                    | end: one past the last byte of its last tensor, or -1          |
 * | 4                    | n_dims, the number of dimensions of each tensor (0 for a scalar) |
 * | 5 to 5 + n_dims - 1  | the dimensions, outermost first                                 |
 *
 * A run of n tensors holds (end - begin) / n bytes per tensor, the k-th (from 0) starting at
 * begin + k * (end - begin) / n. The names go with the tensors in the order of
 * [method@ST.File.dup_names_bytes]. begin and end are -1 for a tensor that is not the loaded
 * one (set or replaced since loading, or any tensor of a file that was not loaded): it is a run
 * of its own, as is every empty tensor.
 *
 * Safe from several threads at once, as the other readers are (see [class@ST.File]).
 *
 * Returns: (array length=n_values) (transfer full) (nullable): the records, or %NULL for a
 *   file without tensors
 *
 * Since: 1.2
 */
gint64 *
st_file_dup_runs (STFile *self,
                  gsize  *n_values)
{
  GArray *values;
  guint i = 0;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (n_values != NULL, NULL);

  *n_values = 0;
  if (self->entries->len == 0)
    return NULL;

  values = g_array_new (FALSE, FALSE, sizeof (gint64));
  while (i < self->entries->len)
    {
      STDType dtype;
      guint n_dims;
      const gint64 *shape = st_file_entry_get_layout (g_ptr_array_index (self->entries, i), &dtype, &n_dims);
      gint64 begin;
      gint64 end;
      guint j = i + 1;
      gint64 header[5];

      st_file_entry_get_signed_offsets (g_ptr_array_index (self->entries, i), &begin, &end);
      if (begin >= 0 && end > begin)
        {
          while (j < self->entries->len &&
                 continues_run (g_ptr_array_index (self->entries, j), dtype, shape, n_dims, end))
            {
              gint64 next_begin;

              st_file_entry_get_signed_offsets (g_ptr_array_index (self->entries, j), &next_begin, &end);
              j++;
            }
        }

      header[0] = j - i;
      header[1] = dtype;
      header[2] = begin;
      header[3] = end;
      header[4] = n_dims;
      g_array_append_vals (values, header, G_N_ELEMENTS (header));
      g_array_append_vals (values, shape, n_dims);
      i = j;
    }

  *n_values = values->len;
  return (gint64 *) (void *) g_array_free (values, FALSE);
}
