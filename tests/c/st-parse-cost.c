/* st-parse-cost.c: runs under callgrind for test-hostile-cost: what parsing and loading each input costs
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Usage: valgrind --tool=callgrind --collect-atstart=no st-parse-cost FILE...
 * For each FILE (a whole safetensors file), it parses the header with st_header_parse() and then loads
 * the file with st_file_new_from_bytes(), collecting instructions only inside those calls, and dumps
 * each count as its own callgrind profile named "parse FILE" and "load FILE". Run without valgrind, it
 * does the same work and prints each verdict (the client requests do nothing there).
 *
 * A FILE whose name ends in ".json" is the index of a sharded checkpoint instead: it is read with
 * st_index_new_from_path(), and the count is named "index FILE". The first index is read once before
 * any count, so that what GIO and GLib set up once per process is not counted against it.
 */
#include <stdio.h>
#include <string.h>
#include <valgrind/callgrind.h>
#include <safetensors-glib/safetensors-glib.h>

#include "st-header-private.h"

static void
measure (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *parse_label = g_strdup_printf ("parse %s", path);
  g_autofree char *load_label = g_strdup_printf ("load %s", path);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GError) load_error = NULL;
  StHeader *header = NULL;
  STFile *file = NULL;
  guint64 header_len = 0;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &error))
    g_error ("%s", error->message);
  if (len < 8)
    g_error ("%s: shorter than 8 bytes", path);
  memcpy (&header_len, contents, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > len - 8)
    g_error ("%s: the header length goes past the end", path);
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);

  CALLGRIND_TOGGLE_COLLECT;
  header = st_header_parse ((const char *) g_bytes_get_data (bytes, NULL) + 8, header_len, &parse_error);
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT (parse_label);
  g_clear_pointer (&header, st_header_free);

  CALLGRIND_TOGGLE_COLLECT;
  file = st_file_new_from_bytes (bytes, &load_error);
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT (load_label);
  g_clear_object (&file);

  printf ("%s: parse %s, load %s\n", path, parse_error != NULL ? parse_error->message : "OK",
          load_error != NULL ? load_error->message : "OK");
}

static void
measure_index (const char *path)
{
  static gboolean warmed_up = FALSE;
  g_autofree char *label = g_strdup_printf ("index %s", path);
  g_autoptr(GError) error = NULL;
  STIndex *index = NULL;

  if (!warmed_up)
    {
      index = st_index_new_from_path (path, NULL, NULL);
      g_clear_object (&index);
      warmed_up = TRUE;
    }

  CALLGRIND_TOGGLE_COLLECT;
  index = st_index_new_from_path (path, NULL, &error);
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT (label);
  g_clear_object (&index);

  printf ("%s: index %s\n", path, error != NULL ? error->message : "OK");
}

int
main (int    argc,
      char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (g_str_has_suffix (argv[i], ".json"))
        measure_index (argv[i]);
      else
        measure (argv[i]);
    }
  return 0;
}
