/* st-file-bulk.c: every tensor's name and layout in one buffer each, for bindings
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * st_file_dup_names_in_file_order() and st_file_dup_layout() give the same facts, but a binding
 * converts their arrays element by element: for a file of 20,000 tensors, a string object and an
 * integer object per element cost PyGObject more than the rest of a load. A buffer crosses into
 * such a language whole, where one split() of the names and a memoryview of the integers do the
 * rest at the language's C speed.
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
 * The names go with the records of [method@ST.File.dup_layout] and
 * [method@ST.File.dup_layout_bytes], in the same order. Safe from several threads at once, as
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

/**
 * st_file_dup_layout_bytes:
 * @self: a file
 *
 * Describes every tensor of the file as [method@ST.File.dup_layout] does, with the same
 * records in the same order, in one buffer of signed 64-bit integers in the host's byte order:
 * bindings that can read such a buffer in place (Python's `memoryview(...).cast("q")`, numpy's
 * `frombuffer`) skip converting every integer into an object of their own.
 *
 * Safe from several threads at once, as the other readers are (see [class@ST.File]).
 *
 * Returns: (transfer full): the records, 8 bytes per value; empty for a file without tensors
 *
 * Since: 1.2
 */
GBytes *
st_file_dup_layout_bytes (STFile *self)
{
  gsize n_values = 0;
  gint64 *values;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);

  values = st_file_dup_layout (self, &n_values);
  if (values == NULL)
    return g_bytes_new (NULL, 0);

  return g_bytes_new_take (values, n_values * sizeof (gint64));
}
