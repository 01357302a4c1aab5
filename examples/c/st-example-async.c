/* st-example-async.c: load a file asynchronously, and cancel a load
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Usage: st-example-async [PATH]   (default: a small file written to a temporary directory)
 *
 * Loads PATH in a worker thread while the main loop keeps running, then starts a second load and
 * cancels it: a cancelled operation ends with G_IO_ERROR_CANCELLED.
 */
#include <safetensors-glib/safetensors-glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  GMainLoop  *loop;
  const char *path;
  int         status;
} Example;

static void
cancelled_load_done (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Example *example = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_path_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    printf ("second load: cancelled, as asked (%s)\n", error->message);
  else if (file != NULL)
    printf ("second load: finished before the cancellation reached it\n");
  else
    {
      fprintf (stderr, "second load: unexpected error: %s\n", error->message);
      example->status = EXIT_FAILURE;
    }
  g_main_loop_quit (example->loop);
}

static void
load_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Example *example = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_path_finish (result, &error);
  g_auto(GStrv) names = NULL;
  g_autoptr(GCancellable) cancellable = NULL;

  if (file == NULL)
    {
      fprintf (stderr, "first load: %s\n", error->message);
      example->status = EXIT_FAILURE;
      g_main_loop_quit (example->loop);
      return;
    }

  names = st_file_dup_names_sorted (file);
  printf ("first load: %u tensors:", st_file_get_n_tensors (file));
  for (guint i = 0; names[i] != NULL; i++)
    printf (" %s", names[i]);
  printf ("\n");

  /* Start another load and cancel it straight away. */
  cancellable = g_cancellable_new ();
  st_file_new_from_path_async (example->path, cancellable, cancelled_load_done, example);
  g_cancellable_cancel (cancellable);
}

int
main (int   argc,
      char *argv[])
{
  Example example = { g_main_loop_new (NULL, FALSE), NULL, EXIT_SUCCESS };
  g_autoptr(GError) error = NULL;
  g_autofree char *tmpdir = NULL;
  g_autofree char *path = NULL;

  if (argc > 1)
    path = g_strdup (argv[1]);
  else
    {
      const double values[4] = { 1.0, 2.0, 3.0, 4.0 };
      guint64 values_le[4];   /* safetensors stores values little-endian, whatever the host */
      const gint64 shape[] = { 2, 2 };
      g_autoptr(GBytes) bytes = NULL;
      for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
        {
          memcpy (&values_le[i], &values[i], sizeof values[i]);
          values_le[i] = GUINT64_TO_LE (values_le[i]);
        }
      bytes = g_bytes_new (values_le, sizeof values_le);
      g_autoptr(STTensor) tensor = st_tensor_new (ST_DTYPE_F64, shape, 2, bytes, &error);
      g_autoptr(STFile) file = st_file_new ();

      tmpdir = g_dir_make_tmp ("st-example-XXXXXX", &error);
      path = tmpdir ? g_build_filename (tmpdir, "async.safetensors", NULL) : NULL;
      if (tensor == NULL || tmpdir == NULL ||
          !st_file_set_tensor (file, "matrix", tensor, &error) ||
          !st_file_save_to_path (file, path, NULL, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return EXIT_FAILURE;
        }
    }

  example.path = path;
  st_file_new_from_path_async (path, NULL, load_done, &example);
  g_main_loop_run (example.loop);
  g_main_loop_unref (example.loop);

  if (tmpdir != NULL)
    {
      g_unlink (path);
      g_rmdir (tmpdir);
    }
  return example.status;
}
