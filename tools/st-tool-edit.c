/* st-tool-edit.c: the metadata, shard and merge subcommands
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-tool.h"

/* metadata */

static void
print_metadata (GHashTable *metadata,
                gboolean    json)
{
  if (json && metadata == NULL)
    {
      printf ("null\n");
      return;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      st_tool_json_add_metadata (builder, metadata);
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      st_tool_print_json (root);
      return;
    }
  if (metadata == NULL || g_hash_table_size (metadata) == 0)
    {
      printf ("(no metadata)\n");
      return;
    }

  st_tool_print_metadata_table (metadata, "");
}

int
st_tool_cmd_metadata (int    argc,
                      char **argv)
{
  g_auto(GStrv) sets = NULL;
  g_auto(GStrv) removes = NULL;
  g_autofree char *output = NULL;
  gboolean json = FALSE;
  gboolean repair = FALSE;
  gboolean rewrite = FALSE;
  const GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set KEY to VALUE (repeatable)", "KEY=VALUE" },
    { "repair", 0, 0, G_OPTION_ARG_NONE, &repair,
      "Complete an in-place header rewrite that was interrupted, when its header is whole", NULL },
    { "rewrite", 0, 0, G_OPTION_ARG_NONE, &rewrite,
      "Rewrite the whole file even when only its header needs writing", NULL },
    { "remove", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &removes, "Remove KEY (repeatable; before the --set)", "KEY" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to OUT instead of rewriting FILE in place", "OUT" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the metadata as a JSON object (null when there is none)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("metadata"), entries);
  g_option_context_add_main_entries (context, st_tool_save_entries, NULL);
  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc != 2)
    return st_tool_usage_error ("metadata", "expected one file");

  gboolean editing = sets != NULL || removes != NULL;
  if (!editing && output != NULL)
    return st_tool_usage_error ("metadata", "--output needs a --set or a --remove");
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      const char *equals = strchr (sets[i], '=');
      if (equals == NULL || equals == sets[i])
        return st_tool_usage_error ("metadata", "--set takes KEY=VALUE with a non-empty KEY, not “%s”", sets[i]);
      if (!g_utf8_validate (sets[i], -1, NULL))
        return st_tool_usage_error ("metadata", "--set “%s” is not UTF-8", sets[i]);
    }

  g_autoptr(GError) error = NULL;
  if (repair)
    {
      g_autofree char *resolved = st_tool_resolve_path (argv[1], &error);
      gboolean repaired = FALSE;

      if (resolved == NULL || !st_file_repair_header (resolved, st_tool_save_flags, &repaired, &error))
        {
          st_tool_print_error (argv[1], error);
          return ST_TOOL_EXIT_FAILURE;
        }
      if (repaired)
        fprintf (stderr, "st-tool metadata: %s: completed an interrupted header rewrite\n", argv[1]);
    }

  g_autoptr(StToolSource) source = st_tool_source_open (argv[1], &error);
  if (source == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }

  if (!editing)
    {
      g_autoptr(GHashTable) metadata = st_tool_source_metadata (source);
      print_metadata (metadata, json);
      return ST_TOOL_EXIT_OK;
    }
  if (source->index != NULL)
    {
      fprintf (stderr, "st-tool metadata: %s is a sharded checkpoint: rewrite the metadata of its shards one "
               "by one, or merge it first\n", argv[1]);
      return ST_TOOL_EXIT_FAILURE;
    }

  for (guint i = 0; removes != NULL && removes[i] != NULL; i++)
    {
      if (st_file_get_metadata_value (source->file, removes[i]) == NULL)
        fprintf (stderr, "st-tool metadata: %s has no metadata key “%s” to remove\n", argv[1], removes[i]);
      st_file_set_metadata_value (source->file, removes[i], NULL);
    }
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      g_autofree char *key = g_strdup (sets[i]);
      char *value = strchr (key, '=');
      *value++ = '\0';
      st_file_set_metadata_value (source->file, key, value);
    }

  const char *target = output != NULL ? output : source->resolved;
  /* In place, when only the header changes and keeps its length: write the header alone. */
  gboolean saved = FALSE;
  if (output == NULL && !rewrite && !(st_tool_load_flags & ST_LOAD_FLAGS_NO_MMAP))
    {
      saved = st_file_save_header_in_place (source->file, target, st_tool_save_flags, &error);
      if (!saved && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        {
          st_tool_print_error (target, error);
          return ST_TOOL_EXIT_FAILURE;
        }
      g_clear_error (&error);
    }
  if (!saved && !st_file_save_to_path (source->file, target, st_tool_save_flags, NULL, &error))
    {
      st_tool_print_error (target, error);
      return ST_TOOL_EXIT_FAILURE;
    }
  if (json)
    {
      g_autoptr(GHashTable) metadata = st_tool_source_metadata (source);
      print_metadata (metadata, TRUE);
    }
  return ST_TOOL_EXIT_OK;
}

/* shard */

int
st_tool_cmd_shard (int    argc,
                   char **argv)
{
  g_auto(StToolLayoutOptions) options = { 0 };
  int status;
  if (!st_tool_parse_layout_options ("shard", TRUE, "file", &argc, &argv, &options, &status))
    return status;

  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_tool_open_as_file (argv[1], &error);
  if (file == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }
  if (!st_tool_make_directory ("shard", options.output))
    return ST_TOOL_EXIT_FAILURE;
  if (!st_tool_save_standard (file, options.output, options.prefix, options.max_shard_size, &error))
    {
      st_tool_print_error (options.output, error);
      return ST_TOOL_EXIT_FAILURE;
    }
  return ST_TOOL_EXIT_OK;
}

/* merge: written by the library's one writer (atomic, keeps the target's mode, writes through to
 * special files), as every other command. That writer reports no progress within a file: the bar
 * says that writing began, and when it is done. */

static gboolean
save_with_progress (STFile      *file,
                    const char  *path,
                    GError     **error)
{
  guint64 total = 0;
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  for (guint i = 0; names[i] != NULL; i++)
    total += st_tensor_get_n_bytes (st_file_get_tensor (file, names[i]));

  g_autoptr(StToolProgress) progress = st_tool_progress_new ("Writing", total, TRUE);
  st_tool_progress_update (progress, 0);
  if (!st_file_save_to_path (file, path, st_tool_save_flags, NULL, error))
    return FALSE;
  st_tool_progress_update (progress, total);
  return TRUE;
}

int
st_tool_cmd_merge (int    argc,
                   char **argv)
{
  g_autofree char *output = NULL;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The file to write (required)", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("merge"), entries);
  g_option_context_add_main_entries (context, st_tool_save_entries, NULL);
  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc != 2)
    return st_tool_usage_error ("merge", "expected one index");
  if (output == NULL)
    return st_tool_usage_error ("merge", "--output is required");

  g_autoptr(GError) error = NULL;
  g_autoptr(StToolSource) source = st_tool_source_open (argv[1], &error);
  if (source == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }
  if (source->index == NULL)
    {
      fprintf (stderr, "st-tool merge: %s is a single safetensors file, not a sharded checkpoint\n", argv[1]);
      return ST_TOOL_EXIT_FAILURE;
    }

  /* Check the shards first (headers only), with progress, so that a bad checkpoint fails early. */
  g_auto(GStrv) shards = st_index_dup_shard_names (source->index);
  g_autoptr(StToolProgress) checking = st_tool_progress_new ("Opening shards", g_strv_length (shards), FALSE);
  for (guint i = 0; shards[i] != NULL; i++)
    {
      if (!st_index_validate_shard (source->index, shards[i], NULL, &error))
        {
          g_clear_pointer (&checking, st_tool_progress_free);
          st_tool_print_error (argv[1], error);
          return ST_TOOL_EXIT_FAILURE;
        }
      st_tool_progress_update (checking, i + 1);
    }
  g_clear_pointer (&checking, st_tool_progress_free);

  g_autoptr(STFile) merged = st_index_merge (source->index, NULL, &error);
  if (merged == NULL || !save_with_progress (merged, output, &error))
    {
      st_tool_print_error (merged == NULL ? argv[1] : output, error);
      return ST_TOOL_EXIT_FAILURE;
    }
  return ST_TOOL_EXIT_OK;
}
