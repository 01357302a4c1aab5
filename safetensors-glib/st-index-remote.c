/* st-index-remote.c: a sharded checkpoint over HTTP or on the Hub, its shards' headers read in parallel
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The index file is read whole (it is bounded by ST_MAX_INDEX_SIZE), then every shard is opened as a
 * remote file (st-file-remote.c) by up to MAX_PARALLEL_SHARDS threads at once, all on the library's
 * one SoupSession. The connections the shards will use are opened while the index is read, so that
 * opening an 8-shard checkpoint costs one round trip more than opening one shard (the index's), not
 * eight, nor two. Shard names are plain file names (st-index.c checks), resolved against the index's
 * address.
 */
#include <string.h>

#include "st-error.h"
#include "st-file-remote.h"
#include "st-hub-private.h"
#include "st-index-json-private.h"
#include "st-index-remote.h"
#include "st-index-remote-private.h"
#include "st-parallel-private.h"
#include "st-progress-private.h"
#include "st-source-private.h"

#define MAX_PARALLEL_SHARDS 8
/* An index is read in one request when it is shorter than this (the indexes of the largest models
 * published are a few megabytes); a longer one takes a second request for the rest. */
#define INDEX_PREFIX_SIZE ((gsize) 4 * 1024 * 1024)

static GQuark
uri_quark (void)
{
  return g_quark_from_static_string ("st-index-uri");
}

STFile *
st_index_open_remote_shard (const char    *base_uri,
                            const char    *shard_name,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_autofree char *escaped = g_uri_escape_string (shard_name, NULL, FALSE);
  g_autofree char *uri = g_strconcat (base_uri, escaped, NULL);

  return st_file_new_from_uri (uri, cancellable, error);
}

/* The whole of @source, at most ST_MAX_INDEX_SIZE bytes: a prefix, and the rest when it is longer. */
static char *
read_all (StSource      *source,
          gsize         *out_len,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autofree char *contents = g_malloc (INDEX_PREFIX_SIZE);
  gsize got = 0;
  guint64 size;

  if (!st_source_read_prefix (source, contents, INDEX_PREFIX_SIZE, &got, cancellable, error))
    return NULL;
  size = st_source_get_size (source);
  if (size != G_MAXUINT64 && size > ST_MAX_INDEX_SIZE)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "“%s”: The index is %" G_GUINT64_FORMAT " bytes long, over the limit of %" G_GUINT64_FORMAT,
                   st_source_get_name (source), size, (guint64) ST_MAX_INDEX_SIZE);
      return NULL;
    }
  if (size != G_MAXUINT64 && size > got)
    {
      g_autoptr(StReadPlan) plan = st_read_plan_new ();

      contents = g_realloc (contents, (gsize) size);
      st_read_plan_add (plan, got, size - got, contents + got);
      if (!st_read_plan_execute (plan, source, NULL, NULL, cancellable, error))
        return NULL;
      got = (gsize) size;
    }
  *out_len = got;
  return g_steal_pointer (&contents);
}

/* The address shard names are resolved against: up to the last '/' of the path. */
static char *
base_of (const char *uri)
{
  g_autoptr(GUri) parsed = NULL;
  const char *slash;

  if (!g_str_has_prefix (uri, "hf://"))
    parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);
  if (parsed != NULL)
    {
      const char *path = g_uri_get_path (parsed);

      slash = strrchr (path, '/');
      if (slash != NULL)
        {
          g_autofree char *dir = g_strndup (path, (gsize) (slash - path + 1));

          return g_uri_join (G_URI_FLAGS_ENCODED, g_uri_get_scheme (parsed), g_uri_get_userinfo (parsed),
                             g_uri_get_host (parsed), g_uri_get_port (parsed), dir, NULL, NULL);
        }
    }
  slash = strrchr (uri, '/');
  return slash != NULL ? g_strndup (uri, (gsize) (slash - uri + 1)) : g_strdup (uri);
}

typedef struct {
  STIndex      *index;
  char        **shard_names;
  StProgress   *progress;
  gint          n_done;       /* atomic */
  guint         n_shards;
} OpenRun;

static gboolean
open_shard (guint          index,
            gpointer       data,
            GCancellable  *cancellable,
            GError       **error)
{
  OpenRun *run = data;
  g_autoptr(STFile) shard = st_index_open_remote_shard (st_index_get_base_uri (run->index),
                                                        run->shard_names[index], cancellable, error);

  if (shard == NULL || !st_index_adopt_shard (run->index, run->shard_names[index], shard, error))
    return FALSE;
  st_progress_report (run->progress, (guint64) g_atomic_int_add (&run->n_done, 1) + 1, run->n_shards);
  return TRUE;
}

static STIndex *
index_new_from_uri (const char     *uri,
                    GCancellable   *cancellable,
                    StProgress     *progress,
                    GError        **error)
{
  g_autoptr(StSource) source = NULL;
  g_autofree char *cached = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *base = NULL;
  g_autoptr(STIndex) self = NULL;
  OpenRun run = { 0 };
  StPreconnect *preconnect = NULL;
  gboolean opened;
  gsize len = 0;

  source = st_hub_source_new (uri, &cached, error);
  if (cached != NULL)
    {
      /* offline, from the cache: a local index whose shards are beside it in the snapshot */
      self = st_index_new_from_path (cached, cancellable, error);
      if (self != NULL)
        g_object_set_qdata_full (G_OBJECT (self), uri_quark (), g_strdup (uri), g_free);
      return g_steal_pointer (&self);
    }
  if (source == NULL)
    return NULL;
  /* while the index is on its way, the connections its shards will want on its host (the source's
   * name is its http(s) address, an hf:// one resolved) */
  preconnect = st_http_preconnect (st_source_get_name (source), MAX_PARALLEL_SHARDS - 1);
  contents = read_all (source, &len, cancellable, error);
  g_clear_pointer (&preconnect, st_http_preconnect_finish);
  if (contents == NULL)
    return NULL;
  self = st_index_new_from_contents (contents, len, st_source_get_name (source), error);
  if (self == NULL)
    return NULL;
  base = base_of (uri);
  st_index_set_base_uri (self, base);
  g_object_set_qdata_full (G_OBJECT (self), uri_quark (), g_strdup (uri), g_free);

  run.index = self;
  run.shard_names = st_index_dup_shard_names (self);
  run.n_shards = g_strv_length (run.shard_names);
  run.progress = progress;
  st_progress_report (progress, 0, run.n_shards);
  opened = st_parallel_run (run.n_shards, MAX_PARALLEL_SHARDS, "st-index-open", open_shard, &run, cancellable,
                            error);
  g_strfreev (run.shard_names);
  if (!opened)
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * st_index_new_from_uri:
 * @uri: the address of the index file of a sharded checkpoint
 *   (`model.safetensors.index.json`): `http://`, `https://` or `hf://[datasets/|spaces/]ORG/NAME[@REVISION]/FILE`
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Opens a sharded checkpoint where it lives: reads its index, then the header of every shard
 * (named in the index, beside it at the same address), up to eight at once on one HTTP session, so
 * that opening many shards costs about as much as opening one. The index's list model then carries
 * every tensor's dtype, shape and offsets; its shards are remote files
 * ([method@ST.File.is_remote]), whose tensors are fetched when first asked for.
 *
 * With `HF_HUB_OFFLINE=1`, an address of the Hub is served from the Hugging Face cache, as a
 * local index ([ctor@ST.Index.new_from_path]).
 *
 * This call does network I/O and blocks: use [func@ST.Index.new_from_uri_async] from a user
 * interface.
 *
 * Returns: (transfer full): the index, or %NULL with @error set: the errors of
 *   [ctor@ST.File.new_from_uri] (the first shard that fails names itself), and those of
 *   [ctor@ST.Index.new_from_path] for the index's contents
 *
 * Since: 1.2
 */
STIndex *
st_index_new_from_uri (const char    *uri,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return index_new_from_uri (uri, cancellable, NULL, error);
}

typedef struct {
  char       *uri;
  StProgress *progress;
} OpenJob;

static void
open_job_free (gpointer data)
{
  OpenJob *job = data;

  g_free (job->uri);
  st_progress_free (job->progress);
  g_free (job);
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenJob *job = task_data;
  GError *error = NULL;
  STIndex *index;

  if (g_task_return_error_if_cancelled (task))
    return;
  index = index_new_from_uri (job->uri, cancellable, job->progress, &error);
  /* the last report is queued before the completion */
  g_clear_pointer (&job->progress, st_progress_free);
  if (index == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, index, g_object_unref);
}

/**
 * st_index_new_from_uri_async:
 * @uri: the address of the index file of a sharded checkpoint (see [ctor@ST.Index.new_from_uri])
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called with the number of shards opened so far and in all
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data once @progress will not be called again
 * @callback: (scope async) (closure user_data): called when the index and its shards are open
 * @user_data: data for @callback
 *
 * Opens a sharded checkpoint as [ctor@ST.Index.new_from_uri] does, in worker threads. @progress,
 * @progress_notify and @callback run in the thread-default main context of the caller, every
 * report before @callback.
 *
 * Since: 1.2
 */
void
st_index_new_from_uri_async (const char          *uri,
                             GCancellable        *cancellable,
                             STProgressFunc       progress,
                             gpointer             progress_data,
                             GDestroyNotify       progress_notify,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpenJob *job;

  g_return_if_fail (uri != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_index_new_from_uri_async);
  job = g_new0 (OpenJob, 1);
  job->uri = g_strdup (uri);
  job->progress = st_progress_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, job, open_job_free);
  g_task_run_in_thread (task, open_thread);
}

/**
 * st_index_new_from_uri_finish:
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@ST.Index.new_from_uri_async].
 *
 * Returns: (transfer full): the index, or %NULL with @error set
 *
 * Since: 1.2
 */
STIndex *
st_index_new_from_uri_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_index_new_from_uri_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * st_index_get_uri:
 * @self: an index
 *
 * Gives the address an index was opened from with [ctor@ST.Index.new_from_uri].
 *
 * Returns: (nullable): the address, or %NULL for an index opened from a path
 *
 * Since: 1.2
 */
const char *
st_index_get_uri (STIndex *self)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);

  return g_object_get_qdata (G_OBJECT (self), uri_quark ());
}
