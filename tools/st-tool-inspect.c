/* st-tool-inspect.c: the info, list and validate subcommands
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "st-tool.h"

/* info */

typedef struct {
  guint   n_tensors;
  guint64 n_parameters;
  guint64 n_bytes;
} DTypeTotals;

typedef struct {
  const char *name;
  guint       n_tensors;
  guint64     n_bytes;
  guint64     header_size;
  guint64     file_size;
} ShardSummary;

static guint64
file_size_of (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE,
                                                 NULL, NULL);
  return info != NULL ? (guint64) g_file_info_get_size (info) : 0;
}

static gboolean
info_one (const char   *path,
          gboolean      json,
          JsonBuilder  *builder,
          GError      **error)
{
  g_autoptr(StToolSource) source = st_tool_source_open (path, error);
  if (source == NULL)
    return FALSE;
  g_autoptr(GArray) entries = st_tool_source_list (source, error);
  if (entries == NULL)
    return FALSE;

  DTypeTotals per_dtype[ST_DTYPE_U64 + 1] = { { 0 } };
  guint64 n_parameters = 0, n_bytes = 0;
  for (guint i = 0; i < entries->len; i++)
    {
      StToolEntry *entry = &g_array_index (entries, StToolEntry, i);
      STDType dtype = st_tensor_info_get_dtype (entry->info);
      guint64 elements = st_tensor_info_get_n_elements (entry->info);
      guint64 bytes = st_tensor_info_get_n_bytes (entry->info);
      per_dtype[dtype].n_tensors++;
      per_dtype[dtype].n_parameters += elements;
      per_dtype[dtype].n_bytes += bytes;
      n_parameters += elements;
      n_bytes += bytes;
    }

  g_autoptr(GArray) shards = g_array_new (FALSE, TRUE, sizeof (ShardSummary));
  g_auto(GStrv) names = NULL;   /* the shard names the summaries borrow */
  guint64 header_size = 0, file_size = 0;
  if (source->file != NULL)
    {
      header_size = st_file_get_header_size (source->file);
      file_size = st_file_is_remote (source->file) ? st_tool_file_size (source->file) : file_size_of (source->resolved);
    }
  else
    {
      names = st_index_dup_shard_names (source->index);
      file_size = file_size_of (source->resolved);
      for (guint i = 0; names[i] != NULL; i++)
        {
          g_autoptr(STFile) shard = st_index_open_shard (source->index, names[i], NULL, error);
          if (shard == NULL)
            return FALSE;
          g_autofree char *shard_path = g_build_filename (st_index_get_directory (source->index), names[i], NULL);
          ShardSummary summary = { names[i], st_file_get_n_tensors (shard),
                                   st_file_get_data_size (shard), st_file_get_header_size (shard),
                                   st_file_is_remote (shard) ? st_tool_file_size (shard) : file_size_of (shard_path) };
          header_size += summary.header_size;
          file_size += summary.file_size;
          g_array_append_val (shards, summary);
        }
    }
  g_autoptr(GHashTable) metadata = st_tool_source_metadata (source);

  if (json)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, source->resolved);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, source->file != NULL ? "file" : "index");
      json_builder_set_member_name (builder, "n_tensors");
      json_builder_add_int_value (builder, entries->len);
      json_builder_set_member_name (builder, "n_parameters");
      json_builder_add_int_value (builder, (gint64) n_parameters);
      json_builder_set_member_name (builder, "n_bytes");
      json_builder_add_int_value (builder, (gint64) n_bytes);
      json_builder_set_member_name (builder, "header_size");
      json_builder_add_int_value (builder, (gint64) header_size);
      json_builder_set_member_name (builder, "file_size");
      json_builder_add_int_value (builder, (gint64) file_size);
      json_builder_set_member_name (builder, "dtypes");
      json_builder_begin_object (builder);
      for (int d = ST_DTYPE_U64; d >= ST_DTYPE_BOOL; d--)
        {
          if (per_dtype[d].n_tensors == 0)
            continue;
          json_builder_set_member_name (builder, st_dtype_to_string (d));
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "n_tensors");
          json_builder_add_int_value (builder, per_dtype[d].n_tensors);
          json_builder_set_member_name (builder, "n_parameters");
          json_builder_add_int_value (builder, (gint64) per_dtype[d].n_parameters);
          json_builder_set_member_name (builder, "n_bytes");
          json_builder_add_int_value (builder, (gint64) per_dtype[d].n_bytes);
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
      json_builder_set_member_name (builder, "metadata");
      st_tool_json_add_metadata (builder, metadata);
      if (source->index != NULL)
        {
          json_builder_set_member_name (builder, "shards");
          json_builder_begin_array (builder);
          for (guint i = 0; i < shards->len; i++)
            {
              ShardSummary *summary = &g_array_index (shards, ShardSummary, i);
              json_builder_begin_object (builder);
              json_builder_set_member_name (builder, "name");
              json_builder_add_string_value (builder, summary->name);
              json_builder_set_member_name (builder, "n_tensors");
              json_builder_add_int_value (builder, summary->n_tensors);
              json_builder_set_member_name (builder, "n_bytes");
              json_builder_add_int_value (builder, (gint64) summary->n_bytes);
              json_builder_set_member_name (builder, "header_size");
              json_builder_add_int_value (builder, (gint64) summary->header_size);
              json_builder_end_object (builder);
            }
          json_builder_end_array (builder);
        }
      json_builder_end_object (builder);
      return TRUE;
    }

  g_autofree char *count = st_tool_format_count (entries->len);
  g_autofree char *parameters = st_tool_format_count (n_parameters);
  g_autofree char *data = st_tool_format_size (n_bytes);
  g_autofree char *file_text = st_tool_format_size (file_size);
  g_autofree char *header_text = st_tool_format_count (header_size);

  printf ("%s\n", source->resolved);
  g_autoptr(StToolTable) summary = st_tool_table_new_headless (2);
  if (source->index != NULL)
    {
      g_autofree char *kind = g_strdup_printf ("sharded checkpoint, %u shard%s", shards->len,
                                               shards->len == 1 ? "" : "s");
      st_tool_table_add (summary, "Kind:", kind);
    }
  else
    st_tool_table_add (summary, "Kind:", "safetensors file");
  st_tool_table_add (summary, "Tensors:", count);
  st_tool_table_add (summary, "Parameters:", parameters);
  st_tool_table_add (summary, "Tensor data:", data);
  g_autofree char *header_line = g_strdup_printf ("%s bytes%s", header_text, source->index != NULL ? " (all shards)" : "");
  st_tool_table_add (summary, "Header:", header_line);
  st_tool_table_add (summary, "File size:", file_text);
  st_tool_table_print (summary, stdout, "  ");

  printf ("\n");
  g_autoptr(StToolTable) dtypes = st_tool_table_new (4, "DTYPE", ">TENSORS", ">PARAMETERS", ">SIZE");
  for (int d = ST_DTYPE_U64; d >= ST_DTYPE_BOOL; d--)
    {
      if (per_dtype[d].n_tensors == 0)
        continue;
      g_autofree char *tensors_text = st_tool_format_count (per_dtype[d].n_tensors);
      g_autofree char *params_text = st_tool_format_count (per_dtype[d].n_parameters);
      g_autofree char *bytes_text = st_tool_format_size (per_dtype[d].n_bytes);
      st_tool_table_add (dtypes, st_dtype_to_string (d), tensors_text, params_text, bytes_text);
    }
  if (entries->len > 0)
    st_tool_table_print (dtypes, stdout, "  ");
  else
    printf ("  (no tensors)\n");

  if (shards->len > 0)
    {
      printf ("\n");
      g_autoptr(StToolTable) table = st_tool_table_new (4, "SHARD", ">TENSORS", ">SIZE", ">HEADER");
      for (guint i = 0; i < shards->len; i++)
        {
          ShardSummary *s = &g_array_index (shards, ShardSummary, i);
          g_autofree char *n = st_tool_format_count (s->n_tensors);
          g_autofree char *size = st_tool_format_size (s->n_bytes);
          g_autofree char *header = st_tool_format_count (s->header_size);
          st_tool_table_add (table, s->name, n, size, header);
        }
      st_tool_table_print (table, stdout, "  ");
    }

  printf ("\n");
  if (metadata == NULL || g_hash_table_size (metadata) == 0)
    printf ("  Metadata: none\n");
  else
    {
      printf ("  Metadata:\n");
      st_tool_print_metadata_table (metadata, "    ");
    }
  return TRUE;
}

int
st_tool_cmd_info (int    argc,
                  char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON: an object per file (an array of them for several)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("info"), entries);
  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc < 2)
    return st_tool_usage_error ("info", "expected at least one file");

  int status = ST_TOOL_EXIT_OK;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  if (argc > 2)
    json_builder_begin_array (builder);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) error = NULL;
      if (!json && i > 1)
        printf ("\n");
      if (!info_one (argv[i], json, builder, &error))
        {
          st_tool_print_error (argv[i], error);
          status = ST_TOOL_EXIT_FAILURE;
        }
    }
  if (argc > 2)
    json_builder_end_array (builder);

  if (json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      if (root != NULL)
        st_tool_print_json (root);
    }
  return status;
}

/* list */

static int
compare_entries_by_name (gconstpointer a,
                         gconstpointer b)
{
  return strcmp (((const StToolEntry *) a)->name, ((const StToolEntry *) b)->name);
}

int
st_tool_cmd_list (int    argc,
                  char **argv)
{
  gboolean json = FALSE;
  gboolean by_name = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON: an array of tensor objects", NULL },
    { "sort", 's', 0, G_OPTION_ARG_NONE, &by_name, "Sort by name (default: the order of the data)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("list"), entries);
  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc != 2)
    return st_tool_usage_error ("list", "expected one file");

  g_autoptr(GError) error = NULL;
  g_autoptr(StToolSource) source = st_tool_source_open (argv[1], &error);
  g_autoptr(GArray) list = source != NULL ? st_tool_source_list (source, &error) : NULL;
  if (list == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }
  if (by_name)
    g_array_sort (list, compare_entries_by_name);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      json_builder_begin_array (builder);
      for (guint i = 0; i < list->len; i++)
        {
          StToolEntry *entry = &g_array_index (list, StToolEntry, i);
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, entry->name);
          json_builder_set_member_name (builder, "dtype");
          json_builder_add_string_value (builder, st_dtype_to_string (st_tensor_info_get_dtype (entry->info)));
          json_builder_set_member_name (builder, "shape");
          {
            guint n_dims = 0;
            const gint64 *shape = st_tensor_info_get_shape (entry->info, &n_dims);
            st_tool_json_add_dims (builder, shape, n_dims);
          }
          json_builder_set_member_name (builder, "data_offsets");
          json_builder_begin_array (builder);
          json_builder_add_int_value (builder, (gint64) entry->begin);
          json_builder_add_int_value (builder, (gint64) entry->end);
          json_builder_end_array (builder);
          json_builder_set_member_name (builder, "n_bytes");
          json_builder_add_int_value (builder, (gint64) st_tensor_info_get_n_bytes (entry->info));
          if (entry->shard != NULL)
            {
              json_builder_set_member_name (builder, "shard");
              json_builder_add_string_value (builder, entry->shard);
            }
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      st_tool_print_json (root);
      return ST_TOOL_EXIT_OK;
    }

  g_autoptr(StToolTable) table = source->index != NULL
    ? st_tool_table_new (7, "NAME", "DTYPE", "SHAPE", ">BEGIN", ">END", ">SIZE", "SHARD")
    : st_tool_table_new (6, "NAME", "DTYPE", "SHAPE", ">BEGIN", ">END", ">SIZE");
  for (guint i = 0; i < list->len; i++)
    {
      StToolEntry *entry = &g_array_index (list, StToolEntry, i);
      guint n_dims = 0;
      const gint64 *dims = st_tensor_info_get_shape (entry->info, &n_dims);
      g_autofree char *shape = st_tool_format_dims (dims, n_dims);
      g_autofree char *begin = g_strdup_printf ("%" G_GUINT64_FORMAT, entry->begin);
      g_autofree char *end = g_strdup_printf ("%" G_GUINT64_FORMAT, entry->end);
      g_autofree char *size = st_tool_format_size (st_tensor_info_get_n_bytes (entry->info));
      const char *dtype = st_dtype_to_string (st_tensor_info_get_dtype (entry->info));
      st_tool_table_add (table, entry->name, dtype, shape, begin, end, size, entry->shard);
    }
  if (list->len > 0)
    st_tool_table_print (table, stdout, "");
  else
    printf ("(no tensors)\n");
  return ST_TOOL_EXIT_OK;
}

/* validate */

typedef struct {
  char       *path;       /* as given */
  char       *resolved;   /* NULL when it cannot be resolved: problems[0] says why */
  STIndex    *index;
  GPtrArray  *problems;
  guint       n_tensors;
  guint64     n_bytes;
} Check;

static void
check_free (Check *check)
{
  g_free (check->path);
  g_free (check->resolved);
  g_clear_object (&check->index);
  g_ptr_array_unref (check->problems);
  g_free (check);
}

static void
add_problem (Check        *check,
             const GError *error)
{
  g_ptr_array_add (check->problems, g_strdup (error->message));
}

/* Each input is read once, by the loader, so that pipes and FIFOs (/dev/stdin, <(…)) validate. */
static void
validate_file (Check *check)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_tool_is_address (check->resolved)
                            ? st_file_new_from_uri (check->resolved, NULL, &error)
                            : st_file_new_from_path_full (check->resolved, st_tool_load_flags, NULL, &error);
  if (file == NULL)
    {
      add_problem (check, error);
      return;
    }
  check->n_tensors = st_file_get_n_tensors (file);
  check->n_bytes = st_file_get_data_size (file);
}

static void
validate_index (Check          *check,
                StToolProgress *progress,
                guint64        *done)
{
  g_auto(GStrv) shards = st_index_dup_shard_names (check->index);
  gboolean all_valid = TRUE;
  guint64 total = 0;
  for (guint i = 0; shards[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      if (!st_index_validate_shard (check->index, shards[i], NULL, &error))
        {
          add_problem (check, error);
          all_valid = FALSE;
        }
      else
        {
          g_autoptr(STFile) shard = st_index_open_shard (check->index, shards[i], NULL, NULL);
          check->n_tensors += st_file_get_n_tensors (shard);
          total += st_file_get_data_size (shard);
        }
      st_tool_progress_update (progress, ++*done);
    }
  check->n_bytes = total;

  /* total_size is checked when every shard could be read: otherwise the sum means nothing. */
  if (all_valid && st_index_get_metadata_value (check->index, "total_size") != NULL && st_index_get_total_size (check->index) != total)
    g_ptr_array_add (check->problems,
                     g_strdup_printf ("the index states a total_size of %" G_GUINT64_FORMAT " bytes, but "
                                      "its tensors hold %" G_GUINT64_FORMAT " bytes",
                                      st_index_get_total_size (check->index), total));
}

int
st_tool_cmd_validate (int    argc,
                      char **argv)
{
  gboolean json = FALSE;
  gboolean quiet = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON: an array of {path, valid, problems}", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only the problems", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("validate"), entries);
  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc < 2)
    return st_tool_usage_error ("validate", "expected at least one file");

  /* First the indexes (small JSON files), to know how many shards the progress bar counts. */
  g_autoptr(GPtrArray) checks = g_ptr_array_new_with_free_func ((GDestroyNotify) check_free);
  guint64 n_units = 0;
  for (int i = 1; i < argc; i++)
    {
      Check *check = g_new0 (Check, 1);
      check->path = g_strdup (argv[i]);
      check->problems = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (checks, check);

      g_autoptr(GError) error = NULL;
      check->resolved = st_tool_resolve_path (argv[i], &error);
      if (check->resolved == NULL)
        {
          add_problem (check, error);
          continue;
        }
      if (st_tool_is_address (check->resolved) && st_tool_is_index_path (check->resolved))
        {
          check->index = st_index_new_from_uri (check->resolved, NULL, &error);
          if (check->index == NULL)
            add_problem (check, error);
          else
            {
              g_auto(GStrv) shards = st_index_dup_shard_names (check->index);
              n_units += g_strv_length (shards);
            }
          continue;
        }
      GStatBuf st;
      if (!st_tool_is_address (check->resolved) && g_stat (check->resolved, &st) != 0)
        {
          int saved_errno = errno;
          g_ptr_array_add (check->problems,
                           saved_errno == ENOENT ? g_strdup ("no such file")
                           : saved_errno == ELOOP ? g_strdup ("a loop of symbolic links (too many levels of "
                                                              "symbolic links)")
                           : g_strdup (g_strerror (saved_errno)));
          continue;
        }
      if (st_tool_is_index_path (check->resolved))
        {
          check->index = st_index_new_from_path (check->resolved, NULL, &error);
          if (check->index == NULL)
            add_problem (check, error);
          else
            {
              g_auto(GStrv) shards = st_index_dup_shard_names (check->index);
              n_units += g_strv_length (shards);
            }
          continue;
        }
      n_units++;
    }

  g_autoptr(StToolProgress) progress = n_units > 1 ? st_tool_progress_new ("Validating", n_units, FALSE) : NULL;
  guint64 done = 0;
  for (guint i = 0; i < checks->len; i++)
    {
      Check *check = g_ptr_array_index (checks, i);
      if (check->problems->len > 0)
        continue;
      if (check->index != NULL)
        validate_index (check, progress, &done);
      else
        {
          validate_file (check);
          st_tool_progress_update (progress, ++done);
        }
    }
  g_clear_pointer (&progress, st_tool_progress_free);

  int status = ST_TOOL_EXIT_OK;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (guint i = 0; i < checks->len; i++)
    {
      Check *check = g_ptr_array_index (checks, i);
      gboolean valid = check->problems->len == 0;
      if (!valid)
        status = ST_TOOL_EXIT_FAILURE;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, check->path);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, check->resolved != NULL && st_tool_is_index_path (check->resolved)
                                                ? "index" : "file");
      json_builder_set_member_name (builder, "valid");
      json_builder_add_boolean_value (builder, valid);
      json_builder_set_member_name (builder, "problems");
      json_builder_begin_array (builder);
      for (guint j = 0; j < check->problems->len; j++)
        json_builder_add_string_value (builder, g_ptr_array_index (check->problems, j));
      json_builder_end_array (builder);
      if (valid)
        {
          json_builder_set_member_name (builder, "n_tensors");
          json_builder_add_int_value (builder, check->n_tensors);
          json_builder_set_member_name (builder, "n_bytes");
          json_builder_add_int_value (builder, (gint64) check->n_bytes);
        }
      json_builder_end_object (builder);

      if (json)
        continue;
      for (guint j = 0; j < check->problems->len; j++)
        {
          const char *problem = g_ptr_array_index (check->problems, j);

          /* The library's messages begin with the path of the file they are about. */
          if (strstr (problem, check->path) != NULL)
            printf ("%s\n", problem);
          else
            printf ("%s: %s\n", check->path, problem);
        }
      if (valid && !quiet)
        {
          g_autofree char *size = st_tool_format_size (check->n_bytes);
          printf ("%s: OK (%u tensor%s, %s)\n", check->path, check->n_tensors, check->n_tensors == 1 ? "" : "s",
                  size);
        }
    }
  json_builder_end_array (builder);

  if (json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      st_tool_print_json (root);
    }
  return status;
}
