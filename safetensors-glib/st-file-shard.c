/* st-file-shard.c: saving a file as a sharded checkpoint (model.safetensors.index.json and its shards)
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "st-error.h"
#include "st-tensor.h"
#include "st-file.h"
#include "st-index-private.h"

/**
 * STProgressFunc:
 * @done: how many units of the operation are done
 * @total: how many units the whole operation has
 * @user_data: the data given with the callback
 *
 * Reports the progress of a long operation, such as
 * [method@ST.File.save_sharded]. The units are bytes of tensor data. The
 * callback runs in the thread that called the operation.
 */

/* Sharded writing */

/* JSON text the way Python's json.dumps (ensure_ascii=True) writes a string: what transformers and
 * huggingface_hub produce, so that the index we write is the index they write. */
static void
append_python_json_string (GString    *out,
                           const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default:
          if (c < 0x20 || (c > 0x7e && c < 0x10000))
            g_string_append_printf (out, "\\u%04x", c);
          else if (c >= 0x10000)
            {
              gunichar v = c - 0x10000;
              g_string_append_printf (out, "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
            }
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

/* json.dumps (index, indent=2, sort_keys=True) + "\n", as transformers writes the index. */
static char *
format_index_json (GHashTable *metadata,
                   guint64     total_size,
                   GPtrArray  *names,
                   GPtrArray  *name_shards)
{
  g_autoptr(GString) out = g_string_new ("{\n  \"metadata\": {");

  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  if (metadata != NULL)
    {
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (strcmp (key, ST_INDEX_TOTAL_SIZE_KEY) != 0)
          g_ptr_array_add (keys, key);
    }
  g_ptr_array_add (keys, (gpointer) ST_INDEX_TOTAL_SIZE_KEY);
  g_ptr_array_sort (keys, st_compare_strings);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);
      g_string_append (out, i > 0 ? ",\n    " : "\n    ");
      append_python_json_string (out, key);
      g_string_append (out, ": ");
      if (strcmp (key, ST_INDEX_TOTAL_SIZE_KEY) == 0)
        g_string_append_printf (out, "%" G_GUINT64_FORMAT, total_size);
      else
        append_python_json_string (out, g_hash_table_lookup (metadata, key));
    }
  g_string_append (out, "\n  },\n  \"weight_map\": {");

  /* @names is sorted; name_shards[i] is the shard of names[i]. */
  for (guint i = 0; i < names->len; i++)
    {
      g_string_append (out, i > 0 ? ",\n    " : "\n    ");
      append_python_json_string (out, g_ptr_array_index (names, i));
      g_string_append (out, ": ");
      append_python_json_string (out, g_ptr_array_index (name_shards, i));
    }
  g_string_append (out, names->len > 0 ? "\n  }\n}\n" : "}\n}\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct {
  const char *name;
  const char *shard;
} NameShard;

static int
compare_name_shards (gconstpointer a,
                     gconstpointer b)
{
  return strcmp (((const NameShard *) a)->name, ((const NameShard *) b)->name);
}

/* Matches PREFIX-NNNNN-of-NNNNN.safetensors, the shard names of an earlier save. */
static gboolean
is_shard_file_name (const char *file_name,
                    const char *prefix)
{
  gsize prefix_len = strlen (prefix);
  static const char pattern[] = "-#####-of-#####.safetensors";
  if (strncmp (file_name, prefix, prefix_len) != 0)
    return FALSE;
  const char *rest = file_name + prefix_len;
  if (strlen (rest) != sizeof pattern - 1)
    return FALSE;
  for (gsize i = 0; i < sizeof pattern - 1; i++)
    if (pattern[i] == '#' ? !g_ascii_isdigit (rest[i]) : rest[i] != pattern[i])
      return FALSE;
  return TRUE;
}

/* Removes what an earlier save with the same prefix left and this one did not write, so that no
 * loader picks up a stale index or stale shards, as huggingface_hub does. */
static gboolean
remove_stale_files (const char  *directory,
                    const char  *prefix,
                    GHashTable  *written,
                    GError     **error)
{
  g_autoptr(GDir) dir = g_dir_open (directory, 0, error);
  if (dir == NULL)
    return FALSE;

  g_autofree char *single_name = g_strconcat (prefix, ".safetensors", NULL);
  g_autofree char *index_name = g_strconcat (prefix, ".safetensors.index.json", NULL);
  const char *entry;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      if (g_hash_table_contains (written, entry))
        continue;
      if (strcmp (entry, single_name) != 0 && strcmp (entry, index_name) != 0 &&
          !is_shard_file_name (entry, prefix))
        continue;

      g_autofree char *path = g_build_filename (directory, entry, NULL);
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;
          g_autofree char *display = g_filename_display_name (path);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot remove the stale file %s: %s", display, g_strerror (saved_errno));
          return FALSE;
        }
    }
  return TRUE;
}

static STFile *
new_shard_file (STFile     *source,
                GPtrArray  *names,
                guint       first,
                guint       last,
                GError    **error)
{
  g_autoptr(STFile) shard = st_file_new ();
  for (guint i = first; i < last; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      if (!st_file_set_tensor (shard, name, st_file_get_tensor (source, name), error))
        return NULL;
    }

  GHashTable *metadata = st_file_get_metadata (source);
  if (metadata != NULL)
    st_file_set_metadata (shard, metadata);
  return g_steal_pointer (&shard);
}

/**
 * st_file_save_sharded:
 * @self: a file
 * @directory: (type filename): the directory to write into; it must exist
 * @prefix: the name the files begin with, usually `model`
 * @max_shard_size: the largest sum of tensor bytes a shard may hold, unless
 *   it holds a single tensor larger than that
 * @cancellable: (nullable): a #GCancellable
 * @progress_callback: (nullable) (scope call) (closure progress_data): called
 *   after each shard is written, with the bytes of tensor data written so far
 *   and in all
 * @progress_data: data for @progress_callback
 * @error: return location for a #GError
 *
 * Saves the file as a sharded checkpoint, the way transformers and
 * huggingface_hub do: the tensors are taken in the order of
 * [method@ST.File.dup_ordered_names] and put in the current shard until the
 * next one would take it over @max_shard_size bytes of tensor data, then a new
 * shard begins; a tensor larger than @max_shard_size goes into a shard of its
 * own at once (so it may come before the shard being filled).
 *
 * With two shards or more, the shards are written as
 * `@prefix-00001-of-0000N.safetensors` and so on, then the index
 * `@prefix.safetensors.index.json`: `{"metadata": {"total_size": N, ...},
 * "weight_map": {...}}`, with two-space indentation and sorted keys, as
 * transformers writes it. The file's `__metadata__` goes into every shard
 * (transformers requires `"format": "pt"` in each shard it loads) and into
 * the index metadata, where `total_size`, the sum of all the tensors' byte
 * sizes, takes precedence over a `total_size` key of the file's metadata.
 *
 * With one shard (or no tensors at all) the file is written as a plain
 * `@prefix.safetensors` and no index.
 *
 * Every file is written atomically (see [method@ST.File.save_to_path]) and
 * the index after all the shards. Once all is written, files that an earlier
 * save with the same @prefix left behind and this one did not write (an
 * index, `@prefix.safetensors`, `@prefix-NNNNN-of-NNNNN.safetensors`) are
 * removed, so that no reader picks them up.
 *
 * Returns: %TRUE on success; otherwise %FALSE with @error set:
 *   `G_IO_ERROR_INVALID_ARGUMENT` for a @max_shard_size of 0 or a @prefix
 *   that is not a plain file name, or any error of
 *   [method@ST.File.save_to_path]
 */
gboolean
st_file_save_sharded (STFile          *self,
                      const char      *directory,
                      const char      *prefix,
                      guint64          max_shard_size,
                      GCancellable    *cancellable,
                      STProgressFunc   progress_callback,
                      gpointer         progress_data,
                      GError         **error)
{
  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (directory != NULL, FALSE);
  g_return_val_if_fail (prefix != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (max_shard_size == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "The maximum shard size must be at least one byte");
      return FALSE;
    }
  if (!st_is_plain_file_name (prefix))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The shard prefix “%s” is not a plain file name", prefix);
      return FALSE;
    }

  /* Plan: HF's greedy split. Each shard is a run of names in @plan_names, [starts[k], starts[k+1]). */
  g_auto(GStrv) ordered = st_file_dup_ordered_names (self);
  g_autoptr(GPtrArray) plan_names = g_ptr_array_new ();
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GPtrArray) current = g_ptr_array_new ();
  guint64 current_size = 0;
  guint64 total_size = 0;
  for (guint i = 0; ordered[i] != NULL; i++)
    {
      guint64 size = st_tensor_get_n_bytes (st_file_get_tensor (self, ordered[i]));
      total_size += size;
      if (size > max_shard_size)
        {
          guint start = plan_names->len;
          g_array_append_val (starts, start);
          g_ptr_array_add (plan_names, ordered[i]);
          continue;
        }
      if (current_size + size > max_shard_size)
        {
          guint start = plan_names->len;
          g_array_append_val (starts, start);
          g_ptr_array_extend (plan_names, current, NULL, NULL);
          g_ptr_array_set_size (current, 0);
          current_size = 0;
        }
      g_ptr_array_add (current, ordered[i]);
      current_size += size;
    }
  if (current->len > 0)
    {
      guint start = plan_names->len;
      g_array_append_val (starts, start);
      g_ptr_array_extend (plan_names, current, NULL, NULL);
    }
  guint n_shards = starts->len;
  guint end = plan_names->len;
  g_array_append_val (starts, end);

  g_autoptr(GHashTable) written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (n_shards <= 1)
    {
      g_autofree char *file_name = g_strconcat (prefix, ".safetensors", NULL);
      g_autofree char *path = g_build_filename (directory, file_name, NULL);
      if (!st_file_save_to_path (self, path, cancellable, error))
        return FALSE;
      if (progress_callback != NULL)
        progress_callback (total_size, total_size, progress_data);
      g_hash_table_add (written, g_steal_pointer (&file_name));
      return remove_stale_files (directory, prefix, written, error);
    }

  if (n_shards > 99999)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%u shards would not fit the five-digit shard names; use a larger maximum shard size",
                   n_shards);
      return FALSE;
    }

  g_autoptr(GArray) name_shards = g_array_sized_new (FALSE, FALSE, sizeof (NameShard), plan_names->len);
  g_autoptr(GPtrArray) shard_file_names = g_ptr_array_new_with_free_func (g_free);
  guint64 done = 0;
  for (guint k = 0; k < n_shards; k++)
    {
      guint first = g_array_index (starts, guint, k);
      guint last = g_array_index (starts, guint, k + 1);
      char *file_name = g_strdup_printf ("%s-%05u-of-%05u.safetensors", prefix, k + 1, n_shards);
      g_ptr_array_add (shard_file_names, file_name);

      g_autoptr(STFile) shard = new_shard_file (self, plan_names, first, last, error);
      if (shard == NULL)
        return FALSE;
      g_autofree char *path = g_build_filename (directory, file_name, NULL);
      if (!st_file_save_to_path (shard, path, cancellable, error))
        return FALSE;
      g_hash_table_add (written, g_strdup (file_name));

      for (guint i = first; i < last; i++)
        {
          NameShard entry = { g_ptr_array_index (plan_names, i), file_name };
          g_array_append_val (name_shards, entry);
          done += st_tensor_get_n_bytes (st_file_get_tensor (self, entry.name));
        }
      if (progress_callback != NULL)
        progress_callback (done, total_size, progress_data);
    }

  g_array_sort (name_shards, compare_name_shards);
  g_autoptr(GPtrArray) sorted_names = g_ptr_array_sized_new (name_shards->len);
  g_autoptr(GPtrArray) sorted_shards = g_ptr_array_sized_new (name_shards->len);
  for (guint i = 0; i < name_shards->len; i++)
    {
      NameShard *entry = &g_array_index (name_shards, NameShard, i);
      g_ptr_array_add (sorted_names, (gpointer) entry->name);
      g_ptr_array_add (sorted_shards, (gpointer) entry->shard);
    }

  g_autofree char *json = format_index_json (st_file_get_metadata (self), total_size,
                                             sorted_names, sorted_shards);
  g_autofree char *index_name = g_strconcat (prefix, ".safetensors.index.json", NULL);
  g_autofree char *index_path = g_build_filename (directory, index_name, NULL);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!g_file_set_contents_full (index_path, json, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_ONLY_EXISTING,
                                 0666, error))
    return FALSE;
  g_hash_table_add (written, g_steal_pointer (&index_name));

  return remove_stale_files (directory, prefix, written, error);
}

/**
 * st_parse_size:
 * @text: a size, such as `5GB`, `500MB`, `1.5 GiB` or `1024`
 * @out_bytes: (out): return location for the number of bytes
 * @error: return location for a #GError
 *
 * Reads a size as transformers and huggingface_hub accept it for
 * `max_shard_size`: a number, optionally with a fractional part, then
 * optional spaces and a unit. Decimal units are powers of 1000 (`B`, `KB`,
 * `MB`, `GB`, `TB`, `PB`; `kB` also), binary units powers of 1024 (`KiB`,
 * `MiB`, `GiB`, `TiB`, `PiB`); no unit means bytes. Unit letters other than
 * the final `B` may be of either case; a final lowercase `b` (bits, in
 * transformers) is refused rather than guessed at. Up to nine digits of
 * fraction count (`1.5GB` is 1500000000); a fractional number of bytes is
 * rounded down.
 *
 * Returns: %TRUE with *@out_bytes set, or %FALSE with @error set to
 *   `G_IO_ERROR_INVALID_ARGUMENT` when @text is not such a size or does not
 *   fit in 64 bits
 */
gboolean
st_parse_size (const char  *text,
               guint64     *out_bytes,
               GError     **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  static const struct { const char *unit; guint64 factor; } units[] = {
    { "", 1 }, { "B", 1 },
    { "KB", G_GUINT64_CONSTANT (1000) },
    { "MB", G_GUINT64_CONSTANT (1000000) },
    { "GB", G_GUINT64_CONSTANT (1000000000) },
    { "TB", G_GUINT64_CONSTANT (1000000000000) },
    { "PB", G_GUINT64_CONSTANT (1000000000000000) },
    { "KIB", G_GUINT64_CONSTANT (1) << 10 },
    { "MIB", G_GUINT64_CONSTANT (1) << 20 },
    { "GIB", G_GUINT64_CONSTANT (1) << 30 },
    { "TIB", G_GUINT64_CONSTANT (1) << 40 },
    { "PIB", G_GUINT64_CONSTANT (1) << 50 },
  };

  const char *p = text;
  while (g_ascii_isspace (*p))
    p++;

  /* The integer part and up to nine digits of fraction, in exact integer arithmetic. */
  guint64 whole = 0;
  guint64 fraction = 0, fraction_scale = 1;
  gboolean any_digit = FALSE, overflow = FALSE;
  for (; g_ascii_isdigit (*p); p++)
    {
      any_digit = TRUE;
      guint digit = (guint) (*p - '0');
      if (whole > (G_MAXUINT64 - digit) / 10)
        overflow = TRUE;
      else
        whole = whole * 10 + digit;
    }
  if (*p == '.')
    {
      for (p++; g_ascii_isdigit (*p); p++)
        {
          any_digit = TRUE;
          if (fraction_scale < G_GUINT64_CONSTANT (1000000000))
            {
              fraction = fraction * 10 + (guint) (*p - '0');
              fraction_scale *= 10;
            }
        }
    }
  if (!any_digit)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a size: it must begin with a number (such as 5GB, 500MB or 1024)", text);
      return FALSE;
    }

  while (*p == ' ')
    p++;
  g_autofree char *unit = g_strchomp (g_strdup (p));

  /* A final lowercase b means bits in transformers' reading of "5Gb": refuse it. */
  gsize unit_len = strlen (unit);
  if (unit_len > 0 && unit[unit_len - 1] == 'b')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s”: the unit “%s” is ambiguous (bits or bytes?); write it with a capital B", text, unit);
      return FALSE;
    }

  g_autofree char *upper = g_ascii_strup (unit, -1);
  guint64 factor = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (upper, units[i].unit) == 0)
      factor = units[i].factor;
  if (factor == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a size: unknown unit “%s” (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)",
                   text, unit);
      return FALSE;
    }

  /* fraction / fraction_scale * factor, rounded down: with factor = a * scale + b, this is
   * fraction * a + fraction * b / scale, and both products fit in 64 bits (scale <= 10^9). */
  guint64 a = factor / fraction_scale, b = factor % fraction_scale;
  guint64 extra = fraction * a + fraction * b / fraction_scale;
  if (overflow || (whole != 0 && whole > G_MAXUINT64 / factor) || whole * factor > G_MAXUINT64 - extra)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is too large a size: it does not fit in 64 bits", text);
      return FALSE;
    }

  *out_bytes = whole * factor + extra;
  return TRUE;
}
