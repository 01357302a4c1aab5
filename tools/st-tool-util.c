/* st-tool-util.c: opening files and indexes, formatting, tables, JSON, progress
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "st-tool.h"

/* How the commands load and save: --no-mmap and --sync. */
STLoadFlags st_tool_load_flags = ST_LOAD_FLAGS_NONE;
STSaveFlags st_tool_save_flags = ST_SAVE_FLAGS_NONE;

static gboolean
set_no_mmap (const char  *option_name,
             const char  *value,
             gpointer     data,
             GError     **error)
{
  st_tool_load_flags |= ST_LOAD_FLAGS_NO_MMAP;
  return TRUE;
}

static gboolean
set_sync (const char  *option_name,
          const char  *value,
          gpointer     data,
          GError     **error)
{
  st_tool_save_flags |= ST_SAVE_FLAGS_SYNC;
  return TRUE;
}

const GOptionEntry st_tool_load_entries[] = {
  { "no-mmap", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, set_no_mmap,
    "Read files into memory instead of mapping them (immune to files truncated meanwhile)", NULL },
  G_OPTION_ENTRY_NULL
};

const GOptionEntry st_tool_save_entries[] = {
  { "sync", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, set_sync,
    "Flush what is written to disk (fsync) before exiting, to survive a power loss", NULL },
  G_OPTION_ENTRY_NULL
};

/* Sources */

void
st_tool_source_free (StToolSource *source)
{
  if (source == NULL)
    return;
  g_free (source->path);
  g_free (source->resolved);
  g_clear_object (&source->file);
  g_clear_object (&source->index);
  g_free (source);
}

gboolean
st_tool_is_index_path (const char *path)
{
  return g_str_has_suffix (path, ".json");
}

/* The one file in @dir whose name ends with @suffix, or NULL (none, or several). */
static char *
find_single_with_suffix (const char *dir,
                         const char *suffix)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  if (handle == NULL)
    return NULL;
  char *found = NULL;
  const char *entry;
  while ((entry = g_dir_read_name (handle)) != NULL)
    {
      if (!g_str_has_suffix (entry, suffix))
        continue;
      if (found != NULL)
        {
          g_free (found);
          return NULL;
        }
      found = g_strdup (entry);
    }
  return found;
}

gboolean
st_tool_is_address (const char *path)
{
  return g_str_has_prefix (path, "http://") || g_str_has_prefix (path, "https://") || g_str_has_prefix (path, "hf://");
}

guint64
st_tool_file_size (STFile *file)
{
  return 8 + st_file_get_header_size (file) + st_file_get_data_size (file);
}

char *
st_tool_resolve_path (const char  *path,
                      GError     **error)
{
  if (st_tool_is_address (path) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    return g_strdup (path);

  static const char *const preferred[] = { "model.safetensors.index.json", "model.safetensors" };
  for (gsize i = 0; i < G_N_ELEMENTS (preferred); i++)
    {
      g_autofree char *candidate = g_build_filename (path, preferred[i], NULL);
      if (g_file_test (candidate, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&candidate);
    }
  static const char *const suffixes[] = { ".safetensors.index.json", ".safetensors" };
  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *name = find_single_with_suffix (path, suffixes[i]);
      if (name != NULL)
        return g_build_filename (path, name, NULL);
    }

  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "a directory without a model.safetensors.index.json, a model.safetensors, or a single "
                       "index or safetensors file");
  return NULL;
}

StToolSource *
st_tool_source_open (const char  *path,
                     GError     **error)
{
  g_autoptr(StToolSource) source = g_new0 (StToolSource, 1);
  source->path = g_strdup (path);
  source->resolved = st_tool_resolve_path (path, error);
  if (source->resolved == NULL)
    return NULL;

  /* The library's errors say what a file that is not safetensors really is (a Git LFS pointer...). */
  if (st_tool_is_address (source->resolved) && st_tool_is_index_path (source->resolved))
    source->index = st_index_new_from_uri (source->resolved, NULL, error);
  else if (st_tool_is_address (source->resolved))
    source->file = st_file_new_from_uri (source->resolved, NULL, error);
  else if (st_tool_is_index_path (source->resolved))
    source->index = st_index_new_from_path (source->resolved, NULL, error);
  else
    source->file = st_file_new_from_path_full (source->resolved, st_tool_load_flags, NULL, error);
  if (source->index == NULL && source->file == NULL)
    return NULL;
  return g_steal_pointer (&source);
}

static void
add_entries (GArray     *entries,
             STFile     *file,
             const char *shard)
{
  /* the list model's items, in file order: the layout without the data */
  guint n = g_list_model_get_n_items (G_LIST_MODEL (file));
  for (guint i = 0; i < n; i++)
    {
      StToolEntry entry = { 0 };
      entry.info = g_list_model_get_item (G_LIST_MODEL (file), i);
      entry.name = g_strdup (st_tensor_info_get_name (entry.info));
      st_file_get_tensor_offsets (file, entry.name, &entry.begin, &entry.end);
      entry.shard = g_strdup (shard);
      g_array_append_val (entries, entry);
    }
}

static void
clear_entry (gpointer data)
{
  StToolEntry *entry = data;
  g_free (entry->name);
  g_free (entry->shard);
  g_clear_object (&entry->info);
}

GArray *
st_tool_source_list (StToolSource  *source,
                     GError       **error)
{
  g_autoptr(GArray) entries = g_array_new (FALSE, TRUE, sizeof (StToolEntry));
  g_array_set_clear_func (entries, clear_entry);
  if (source->file != NULL)
    {
      add_entries (entries, source->file, NULL);
      return g_steal_pointer (&entries);
    }

  g_auto(GStrv) shards = st_index_dup_shard_names (source->index);
  for (guint i = 0; shards[i] != NULL; i++)
    {
      /* The index keeps the shard alive after this reference goes, and with it what add_entries keeps. */
      g_autoptr(STFile) shard = st_index_open_shard (source->index, shards[i], NULL, error);
      if (shard == NULL)
        return NULL;
      add_entries (entries, shard, shards[i]);
    }
  return g_steal_pointer (&entries);
}

STTensor *
st_tool_source_lookup (StToolSource  *source,
                       const char    *name,
                       GError       **error)
{
  if (source->index != NULL)
    return st_index_dup_tensor (source->index, name, NULL, error);

  /* on a remote file, this fetches the tensor, and says why when that fails */
  STTensor *tensor = st_file_lookup_tensor (source->file, name, error);
  return tensor != NULL ? g_object_ref (tensor) : NULL;
}

GHashTable *
st_tool_source_metadata (StToolSource *source)
{
  if (source->index != NULL)
    return st_index_dup_metadata (source->index);
  if (!st_file_has_metadata (source->file))
    return NULL;
  return st_file_dup_metadata (source->file);
}

STFile *
st_tool_open_as_file (const char  *path,
                      GError     **error)
{
  g_autoptr(StToolSource) source = st_tool_source_open (path, error);
  if (source == NULL)
    return NULL;
  if (source->file != NULL)
    return g_object_ref (source->file);
  return st_index_merge (source->index, NULL, error);
}

/* Formatting */

char *
st_tool_format_size (guint64 bytes)
{
  /* GLib puts a no-break space between number and unit: a plain one is friendlier to cut and awk. */
  g_autofree char *text = g_format_size (bytes);
  g_auto(GStrv) parts = g_strsplit (text, "\u00a0", -1);
  return g_strjoinv (" ", parts);
}

char *
st_tool_format_count (guint64 n)
{
  g_autofree char *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  gsize len = strlen (digits);
  GString *out = g_string_sized_new (len + len / 3);
  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, digits[i]);
    }
  return g_string_free (out, FALSE);
}

char *
st_tool_format_shape (STTensor *tensor)
{
  guint n_dims = 0;
  const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
  return st_tool_format_dims (shape, n_dims);
}

char *
st_tool_format_dims (const gint64 *shape,
                     guint         n_dims)
{
  GString *out = g_string_new ("[");
  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", shape[i]);
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

GPtrArray *
st_tool_sorted_keys (GHashTable *table)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  return keys;
}

/* Tables */

struct _StToolTable {
  guint      n_columns;
  GPtrArray *rows;   /* GStrv of n_columns; the first row holds the headers, if any */
  gboolean  *right;
};

StToolTable *
st_tool_table_new (guint n_columns,
                   ...)
{
  StToolTable *table = g_new0 (StToolTable, 1);
  table->n_columns = n_columns;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  table->right = g_new0 (gboolean, n_columns);

  va_list args;
  va_start (args, n_columns);
  char **header = g_new0 (char *, n_columns + 1);
  for (guint i = 0; i < n_columns; i++)
    {
      const char *text = va_arg (args, const char *);
      table->right[i] = text[0] == '>';
      header[i] = g_strdup (table->right[i] ? text + 1 : text);
    }
  va_end (args);
  g_ptr_array_add (table->rows, header);
  return table;
}

StToolTable *
st_tool_table_new_headless (guint n_columns)
{
  StToolTable *table = g_new0 (StToolTable, 1);
  table->n_columns = n_columns;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  table->right = g_new0 (gboolean, n_columns);
  return table;
}

void
st_tool_table_add (StToolTable *table,
                   ...)
{
  va_list args;
  va_start (args, table);
  char **row = g_new0 (char *, table->n_columns + 1);
  for (guint i = 0; i < table->n_columns; i++)
    row[i] = g_strdup (va_arg (args, const char *));
  va_end (args);
  g_ptr_array_add (table->rows, row);
}

static gsize
display_width (const char *text)
{
  return g_utf8_validate (text, -1, NULL) ? (gsize) g_utf8_strlen (text, -1) : strlen (text);
}

void
st_tool_table_print (StToolTable *table,
                     FILE        *out,
                     const char  *indent)
{
  g_autofree gsize *widths = g_new0 (gsize, table->n_columns);
  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], display_width (row[c]));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      g_autoptr(GString) line = g_string_new (indent);
      for (guint c = 0; c < table->n_columns; c++)
        {
          gsize pad = widths[c] - display_width (row[c]);
          gboolean last = c + 1 == table->n_columns;
          if (c > 0)
            g_string_append (line, "  ");
          if (table->right[c])
            {
              for (gsize i = 0; i < pad; i++)
                g_string_append_c (line, ' ');
              g_string_append (line, row[c]);
            }
          else
            {
              g_string_append (line, row[c]);
              if (!last)
                for (gsize i = 0; i < pad; i++)
                  g_string_append_c (line, ' ');
            }
        }
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      fprintf (out, "%s\n", line->str);
    }
}

void
st_tool_table_free (StToolTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table->right);
  g_free (table);
}

void
st_tool_print_metadata_table (GHashTable *metadata,
                              const char *indent)
{
  g_autoptr(GPtrArray) sorted = st_tool_sorted_keys (metadata);
  g_autoptr(StToolTable) table = st_tool_table_new (2, "KEY", "VALUE");
  for (guint i = 0; i < sorted->len; i++)
    {
      const char *key = g_ptr_array_index (sorted, i);
      /* One line per entry: a value with newlines is shown escaped. */
      g_autofree char *value = g_strescape (g_hash_table_lookup (metadata, key), "\"");
      st_tool_table_add (table, key, value);
    }
  st_tool_table_print (table, stdout, indent);
}

/* JSON */

void
st_tool_print_json (JsonNode *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  g_autofree char *text = json_generator_to_data (generator, NULL);
  /* json-glib writes some control characters (U+001F...) raw inside strings, which JSON forbids. The
   * generator's own layout uses only newlines and spaces, and it escapes newlines in strings: any
   * other control byte is inside a string. */
  for (const char *p = text; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 && *p != '\n')
        printf ("\\u%04x", (guint) (guchar) *p);
      else
        fputc (*p, stdout);
    }
  fputc ('\n', stdout);
}

void
st_tool_json_add_shape (JsonBuilder *builder,
                        STTensor    *tensor)
{
  guint n_dims = 0;
  const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
  st_tool_json_add_dims (builder, shape, n_dims);
}

void
st_tool_json_add_dims (JsonBuilder  *builder,
                       const gint64 *shape,
                       guint         n_dims)
{
  json_builder_begin_array (builder);
  for (guint i = 0; i < n_dims; i++)
    json_builder_add_int_value (builder, shape[i]);
  json_builder_end_array (builder);
}

void
st_tool_json_add_metadata (JsonBuilder *builder,
                           GHashTable  *metadata)
{
  if (metadata == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  g_autoptr(GPtrArray) keys = st_tool_sorted_keys (metadata);
  json_builder_begin_object (builder);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);
      json_builder_set_member_name (builder, key);
      json_builder_add_string_value (builder, g_hash_table_lookup (metadata, key));
    }
  json_builder_end_object (builder);
}

/* Progress */

struct _StToolProgress {
  char    *label;
  guint64  total;
  gboolean bytes;
  gboolean enabled;
  gboolean drawn;
  gint64   last_draw;
  guint64  last_done;
};

StToolProgress *
st_tool_progress_new (const char *label,
                      guint64     total,
                      gboolean    bytes)
{
  StToolProgress *progress = g_new0 (StToolProgress, 1);
  const char *term = g_getenv ("TERM");
  progress->label = g_strdup (label);
  progress->total = total;
  progress->bytes = bytes;
  progress->enabled = isatty (STDERR_FILENO) && g_strcmp0 (term, "dumb") != 0;
  return progress;
}

void
st_tool_progress_update (StToolProgress *progress,
                         guint64         done)
{
  if (progress == NULL || !progress->enabled)
    return;

  /* At most twenty redraws a second, and the last one once. A caller may count a little more than
   * it announced (merge counts the header it writes too): the bar stops at 100%. */
  done = MIN (done, progress->total);
  gint64 now = g_get_monotonic_time ();
  if (progress->drawn && done == progress->last_done)
    return;
  if (progress->drawn && done < progress->total && now - progress->last_draw < G_USEC_PER_SEC / 20)
    return;
  progress->last_draw = now;
  progress->last_done = done;
  progress->drawn = TRUE;

  const int width = 30;
  double fraction = progress->total > 0 ? (double) done / (double) progress->total : 1.0;
  fraction = CLAMP (fraction, 0.0, 1.0);
  int filled = (int) (fraction * width);
  char bar[32];
  for (int i = 0; i < width; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[width] = '\0';

  g_autofree char *done_text = progress->bytes ? st_tool_format_size (done)
                                               : g_strdup_printf ("%" G_GUINT64_FORMAT, done);
  g_autofree char *total_text = progress->bytes ? st_tool_format_size (progress->total)
                                                : g_strdup_printf ("%" G_GUINT64_FORMAT, progress->total);
  fprintf (stderr, "\r\033[K%s [%s] %3d%% %s/%s", progress->label, bar, (int) (fraction * 100.0),
           done_text, total_text);
  fflush (stderr);
}

void
st_tool_progress_free (StToolProgress *progress)
{
  if (progress == NULL)
    return;
  if (progress->drawn)
    {
      fputs ("\r\033[K", stderr);
      fflush (stderr);
    }
  g_free (progress->label);
  g_free (progress);
}

void
st_tool_progress_callback (guint64  done,
                           guint64  total,
                           gpointer user_data)
{
  st_tool_progress_update (user_data, done);
}

/* Sharded saves (shard, reshard, consolidate) */

gboolean
st_tool_make_directory (const char  *command,
                        const char  *output)
{
  if (g_mkdir_with_parents (output, 0777) == 0)
    return TRUE;
  int saved_errno = errno;
  fprintf (stderr, "st-tool %s: cannot make the directory %s: %s\n", command, output, g_strerror (saved_errno));
  return FALSE;
}

/* Prints what a sharded save wrote into @output: the index and its shards, or the one file. */
static gboolean
print_written (const char  *output,
               const char  *prefix,
               GError     **error)
{
  g_autofree char *index_name = g_strconcat (prefix, ".safetensors.index.json", NULL);
  g_autofree char *index_path = g_build_filename (output, index_name, NULL);
  if (!g_file_test (index_path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *single = g_strconcat (prefix, ".safetensors", NULL);
      g_autofree char *path = g_build_filename (output, single, NULL);
      printf ("%s\n", path);
      return TRUE;
    }
  g_autoptr(STIndex) index = st_index_new_from_path (index_path, NULL, error);
  if (index == NULL)
    return FALSE;
  g_auto(GStrv) shards = st_index_dup_shard_names (index);
  printf ("%s\n", index_path);
  for (guint i = 0; shards[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (output, shards[i], NULL);
      printf ("%s\n", path);
    }
  return TRUE;
}

/* Saves @file (whose tensors are views of mapped files: the library copies them in the kernel) as the
 * standard layout in @output: shards of @max_shard_size with an index, or one file. */
gboolean
st_tool_save_standard (STFile      *file,
                       const char  *output,
                       const char  *prefix,
                       guint64      max_shard_size,
                       GError     **error)
{
  guint64 total = 0;
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  for (guint i = 0; names[i] != NULL; i++)
    total += st_tensor_get_n_bytes (st_file_get_tensor (file, names[i]));

  g_autoptr(StToolProgress) progress = st_tool_progress_new ("Writing shards", total, TRUE);
  if (!st_file_save_sharded (file, output, prefix, max_shard_size, st_tool_save_flags, NULL,
                             st_tool_progress_callback, progress, error))
    return FALSE;
  g_clear_pointer (&progress, st_tool_progress_free);
  return print_written (output, prefix, error);
}

/* Parses --max-shard-size @text (NULL: G_MAXUINT64, one file); on a usage error sets *@out_status. */
static gboolean
parse_max_shard_size (const char *command,
                      const char *text,
                      guint64    *out_size,
                      int        *out_status)
{
  g_autoptr(GError) error = NULL;
  *out_size = G_MAXUINT64;
  if (text == NULL)
    return TRUE;
  if (!st_parse_size (text, out_size, &error))
    {
      *out_status = st_tool_usage_error (command, "%s", error->message);
      return FALSE;
    }
  if (*out_size == 0)
    {
      *out_status = st_tool_usage_error (command, "--max-shard-size must be at least one byte");
      return FALSE;
    }
  return TRUE;
}

void
st_tool_layout_options_clear (StToolLayoutOptions *options)
{
  g_clear_pointer (&options->output, g_free);
  g_clear_pointer (&options->prefix, g_free);
}

gboolean
st_tool_parse_layout_options (const char           *command,
                              gboolean              size_required,
                              const char           *operand,
                              int                  *argc,
                              char               ***argv,
                              StToolLayoutOptions  *options,
                              int                  *out_status)
{
  g_autofree char *size_text = NULL;
  const GOptionEntry entries[] = {
    { "max-shard-size", 'm', 0, G_OPTION_ARG_STRING, &size_text,
      size_required ? "The largest amount of tensor data per shard: 5GB, 500MB, 2GiB, or bytes (required)"
                    : "The largest amount of tensor data per shard: 5GB, 500MB, 2GiB, or bytes (default: one file)",
      "SIZE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &options->output,
      "The directory to write into, made if needed (required)", "DIR" },
    { "prefix", 'p', 0, G_OPTION_ARG_STRING, &options->prefix, "The name of the files (default: model)", "PREFIX" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command (command), entries);

  g_option_context_add_main_entries (context, st_tool_save_entries, NULL);
  if (!st_tool_parse_options (context, argc, argv))
    {
      *out_status = ST_TOOL_EXIT_USAGE;
      return FALSE;
    }
  if (*argc != 2)
    *out_status = st_tool_usage_error (command, "expected one %s", operand);
  else if (size_required && size_text == NULL)
    *out_status = st_tool_usage_error (command, "--max-shard-size is required");
  else if (options->output == NULL)
    *out_status = st_tool_usage_error (command, "--output is required");
  else if (!parse_max_shard_size (command, size_text, &options->max_shard_size, out_status))
    return FALSE;
  else
    {
      if (options->prefix == NULL)
        options->prefix = g_strdup ("model");
      return TRUE;
    }
  return FALSE;
}
