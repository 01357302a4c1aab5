/* st-header-serializer.c: the safetensors header written as Hugging Face's safetensors writes it
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The writer produces the bytes Hugging Face's safetensors writes: compact JSON, `__metadata__` first,
 * tensors by dtype from U64 down to BOOL and then by name, fields in the order dtype, shape,
 * data_offsets, strings escaped as serde_json escapes them, and the header padded with spaces to a
 * multiple of 8 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "st-header-serializer-private.h"
#include "st-json-string-private.h"

static inline void
write_u64 (GString *out,
           guint64  value)
{
  char digits[20];
  int n = 0;

  do
    {
      digits[sizeof digits - 1 - n++] = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value != 0);

  g_string_append_len (out, digits + sizeof digits - n, n);
}

static int
compare_writer_entries (const void *a,
                        const void *b)
{
  const StWriterEntry *ea = a;
  const StWriterEntry *eb = b;

  /* The widest alignment first: the dtypes from U64 down to BOOL. */
  if (ea->dtype != eb->dtype)
    return ea->dtype > eb->dtype ? -1 : 1;
  return strcmp (ea->name, eb->name);
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GBytes *
st_header_serialize (StWriterEntry *entries,
                     gsize          n_entries,
                     GHashTable    *metadata,
                     guint64       *out_data_size)
{
  GString *out;
  gboolean first = TRUE;
  guint64 offset = 0;
  guint64 header_len;

  g_return_val_if_fail (entries != NULL || n_entries == 0, NULL);

  out = g_string_sized_new (16 + n_entries * 96);
  g_string_append_len (out, "\0\0\0\0\0\0\0\0{", 9);

  if (metadata != NULL)
    {
      guint n_keys = 0;
      g_autofree const char **keys = (const char **) g_hash_table_get_keys_as_array (metadata, &n_keys);

      qsort (keys, n_keys, sizeof (char *), compare_strings);

      g_string_append (out, "\"__metadata__\":{");
      for (guint i = 0; i < n_keys; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          st_json_append_string (out, keys[i], FALSE);
          g_string_append_c (out, ':');
          st_json_append_string (out, g_hash_table_lookup (metadata, keys[i]), FALSE);
        }
      g_string_append_c (out, '}');
      first = FALSE;
    }

  if (n_entries > 1)
    qsort (entries, n_entries, sizeof (StWriterEntry), compare_writer_entries);

  for (gsize i = 0; i < n_entries; i++)
    {
      StWriterEntry *entry = &entries[i];

      entry->begin = offset;
      entry->end = offset + entry->n_bytes;
      offset = entry->end;

      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;

      st_json_append_string (out, entry->name, FALSE);
      g_string_append (out, ":{\"dtype\":\"");
      g_string_append (out, st_dtype_to_string (entry->dtype));
      g_string_append (out, "\",\"shape\":[");
      for (guint d = 0; d < entry->n_dims; d++)
        {
          if (d > 0)
            g_string_append_c (out, ',');
          write_u64 (out, (guint64) entry->shape[d]);
        }
      g_string_append (out, "],\"data_offsets\":[");
      write_u64 (out, entry->begin);
      g_string_append_c (out, ',');
      write_u64 (out, entry->end);
      g_string_append (out, "]}");
    }

  g_string_append_c (out, '}');

  /* Hugging Face pads the header with spaces to a multiple of 8 bytes; N counts the padding. */
  while ((out->len - 8) % 8 != 0)
    g_string_append_c (out, ' ');

  header_len = GUINT64_TO_LE ((guint64) (out->len - 8));
  memcpy (out->str, &header_len, sizeof header_len);

  if (out_data_size != NULL)
    *out_data_size = offset;

  return g_string_free_to_bytes (out);
}
