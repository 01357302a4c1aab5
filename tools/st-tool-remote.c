/* st-tool-remote.c: st-tool download
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The other commands take addresses where they take paths (st-tool-util.c opens them); this one fetches
 * files of the Hub into the Hugging Face cache, with a progress bar on a terminal.
 */
#include <stdio.h>
#include <unistd.h>

#include "st-tool.h"

typedef struct {
  GMainLoop      *loop;
  StToolProgress *progress;
  char           *path;
  GError         *error;
} Download;

static void
on_progress (guint64  done,
             guint64  total,
             gpointer user_data)
{
  Download *download = user_data;

  /* the total is known once the Hub has answered: the bar starts then */
  if (download->progress == NULL && total > 0)
    download->progress = st_tool_progress_new ("Downloading", total, TRUE);
  st_tool_progress_update (download->progress, done);
}

/* Each file as it completes, above the bar (on a terminal) */
static void
on_file (const char *filename,
         guint64     done,
         guint64     total,
         gpointer    user_data)
{
  g_autofree char *size = NULL;

  if (done < total || !isatty (STDERR_FILENO))
    return;
  size = st_tool_format_size (total);
  fprintf (stderr, "\r\033[K%s (%s)\n", filename, size);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Download *download = user_data;

  download->path = st_hub_download_finish (result, &download->error);
  g_main_loop_quit (download->loop);
}

int
st_tool_cmd_download (int    argc,
                      char **argv)
{
  GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("download"), entries);
  int status = ST_TOOL_EXIT_OK;

  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc < 2)
    return st_tool_usage_error ("download", "expected at least one address");

  for (int i = 1; i < argc; i++)
    {
      Download download = { g_main_loop_new (NULL, FALSE), NULL, NULL, NULL };

      st_hub_download_async (argv[i], NULL, on_progress, &download, NULL, on_file, NULL, NULL, on_done, &download);
      g_main_loop_run (download.loop);
      g_clear_pointer (&download.progress, st_tool_progress_free);
      g_main_loop_unref (download.loop);
      if (download.path == NULL)
        {
          st_tool_print_error (argv[i], download.error);
          g_clear_error (&download.error);
          status = ST_TOOL_EXIT_FAILURE;
          continue;
        }
      /* the path in the cache, for scripts: st-tool info "$(st-tool download hf://…)" */
      g_print ("%s\n", download.path);
      g_free (download.path);
    }
  return status;
}
