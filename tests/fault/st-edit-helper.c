/* st-edit-helper.c: the in-place header edits that tests/fault/test_edit_faults.py interrupts and checks
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 *   st-edit-helper edit PATH KEY CHAR LENGTH [wait] [sync]
 *       loads PATH (mapped), sets the metadata value KEY to LENGTH times CHAR (a value longer than a
 *       command line may be), and saves it with st_file_save_header_in_place(); with "wait", prints
 *       "loaded" once the file is loaded and reads a line from stdin before it saves
 *   st-edit-helper repair PATH
 *       st_file_repair_header(); prints "repaired" or "clean"
 *   st-edit-helper load PATH
 *       st_file_new_from_path(); prints "ok"
 *
 * Exit status 0 on success; 1 with "error DOMAIN CODE: MESSAGE" on stdout (DOMAIN is "st" or "io").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <safetensors-glib/safetensors-glib.h>

static int
fail (const GError *error)
{
  printf ("error %s %d: %s\n", error->domain == ST_ERROR ? "st" : error->domain == G_IO_ERROR ? "io" : "other",
          error->code, error->message);
  return 1;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;

  setvbuf (stdout, NULL, _IONBF, 0);
  if (argc >= 6 && strcmp (argv[1], "edit") == 0)
    {
      g_autoptr(STFile) file = st_file_new_from_path (argv[2], NULL, &error);
      gsize length = (gsize) g_ascii_strtoull (argv[5], NULL, 10);
      STSaveFlags flags = ST_SAVE_FLAGS_NONE;
      gboolean wait = FALSE;
      g_autofree char *value = NULL;

      for (int i = 6; i < argc; i++)
        {
          if (strcmp (argv[i], "wait") == 0)
            wait = TRUE;
          else if (strcmp (argv[i], "sync") == 0)
            flags |= ST_SAVE_FLAGS_SYNC;
        }
      if (file == NULL)
        return fail (error);
      if (wait)
        {
          char line[16];

          printf ("loaded\n");
          if (fgets (line, sizeof line, stdin) == NULL)
            return 2;
        }
      value = g_malloc (length + 1);
      memset (value, argv[4][0], length);
      value[length] = '\0';
      st_file_set_metadata_value (file, argv[3], value);
      if (!st_file_save_header_in_place (file, argv[2], flags, &error))
        return fail (error);
      printf ("ok\n");
      return 0;
    }
  if (argc == 3 && strcmp (argv[1], "repair") == 0)
    {
      gboolean repaired = FALSE;

      if (!st_file_repair_header (argv[2], ST_SAVE_FLAGS_NONE, &repaired, &error))
        return fail (error);
      printf ("%s\n", repaired ? "repaired" : "clean");
      return 0;
    }
  if (argc == 3 && strcmp (argv[1], "load") == 0)
    {
      g_autoptr(STFile) file = st_file_new_from_path (argv[2], NULL, &error);

      if (file == NULL)
        return fail (error);
      printf ("ok\n");
      return 0;
    }
  fprintf (stderr, "usage: st-edit-helper edit PATH KEY CHAR LENGTH [wait] [sync] | repair PATH | load PATH\n");
  return 2;
}
