/* st-index-merge.c: all the tensors of a sharded checkpoint gathered into one STFile
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "st-file.h"
#include "st-file-peer-private.h"
#include "st-index.h"
#include "st-index-private.h"
#include "st-name-index-private.h"
#include "st-progress-private.h"

static STFile *merge_shards (STIndex       *self,
                             GCancellable  *cancellable,
                             StProgress    *progress,
                             GError       **error);

/**
 * st_index_merge:
 * @self: an index
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Gathers every tensor of the checkpoint into one new [class@ST.File],
 * without copying tensor data: the tensors are views of the shards' mappings,
 * which they keep alive. Each shard is checked as
 * [method@ST.Index.validate_shard] does. The tensors come in shard order,
 * then in the order of the data in each shard.
 *
 * The metadata of the result is the union of the shards' `__metadata__`
 * (the first shard wins where they differ) and the string values of the
 * index metadata, which the shards' metadata takes precedence over.
 * [method@ST.File.save_sharded] writes the file's metadata into every shard
 * and into the index, so a checkpoint it wrote merges back to the file it
 * split.
 *
 * Returns: (transfer full): a new file with all the tensors, or %NULL with
 *   @error set (see [method@ST.Index.validate_shard])
 *
 * Since: 1.0
 */
STFile *
st_index_merge (STIndex       *self,
                GCancellable  *cancellable,
                GError       **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return merge_shards (self, cancellable, NULL, error);
}

static STFile *
merge_shards (STIndex       *self,
              GCancellable  *cancellable,
              StProgress    *progress,
              GError       **error)
{
  g_autoptr(STFile) merged = NULL;
  g_autoptr(GHashTable) metadata = NULL;
  g_autoptr(GArray) sizes = st_index_dup_shard_file_sizes (self);
  g_auto(GStrv) shard_names = st_index_dup_shard_names (self);
  GHashTable *string_metadata = st_index_peek_string_metadata (self);
  gboolean any_metadata;
  GHashTableIter iter;
  gpointer key, value;
  guint64 done = 0;

  merged = st_file_new ();
  metadata = g_hash_table_new (st_name_hash, g_str_equal);
  any_metadata = g_hash_table_size (string_metadata) > 0;
  for (guint i = 0; shard_names[i] != NULL; i++)
    {
      g_auto(GStrv) ordered = NULL;
      g_autoptr(STFile) shard = NULL;
      GHashTable *shard_metadata;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      /* Opening a shard checks it as st_index_validate_shard() does. */
      shard = st_index_open_shard (self, shard_names[i], cancellable, error);
      if (shard == NULL)
        return NULL;

      ordered = st_file_dup_names_in_file_order (shard);
      for (guint j = 0; ordered[j] != NULL; j++)
        if (!st_file_set_tensor (merged, ordered[j], st_file_get_tensor (shard, ordered[j]), error))
          return NULL;

      done += g_array_index (sizes, guint64, i);
      st_progress_report (progress, done, g_array_index (sizes, guint64, sizes->len - 1));

      shard_metadata = st_file_peek_metadata (shard);
      if (shard_metadata != NULL)
        {
          any_metadata = TRUE;
          g_hash_table_iter_init (&iter, shard_metadata);
          while (g_hash_table_iter_next (&iter, &key, &value))
            if (!g_hash_table_contains (metadata, key))
              g_hash_table_insert (metadata, key, value);
        }
    }

  g_hash_table_iter_init (&iter, string_metadata);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (metadata, key))
      g_hash_table_insert (metadata, key, value);

  /* The index keeps its shards, which own the strings, as long as itself. */
  if (any_metadata)
    {
      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        st_file_set_metadata_value (merged, key, value);
    }

  return g_steal_pointer (&merged);
}

/* Merging in a worker thread, with progress on the caller's main context */

typedef struct {
  StProgress *progress;
} MergeJob;

static void
merge_job_free (gpointer data)
{
  MergeJob *job = data;

  st_progress_free (job->progress);
  g_free (job);
}

static void
merge_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  MergeJob *job = task_data;
  GError *error = NULL;
  STFile *merged = merge_shards (ST_INDEX (source_object), cancellable, job->progress, &error);

  g_clear_pointer (&job->progress, st_progress_free);
  if (merged == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, merged, g_object_unref);
}

/**
 * st_index_merge_async:
 * @self: an index
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called on the thread-default main context of the caller after each shard,
 *   with the bytes of the shard files merged so far and in all
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data, on the same main context,
 *   after the last report
 * @callback: (scope async) (closure user_data): called when the merge is done
 * @user_data: data for @callback
 *
 * Does what [method@ST.Index.merge] does, in a worker thread, reporting
 * progress as [method@ST.Index.validate_async] does.
 *
 * Since: 1.0
 */
void
st_index_merge_async (STIndex             *self,
                      GCancellable        *cancellable,
                      STProgressFunc       progress,
                      gpointer             progress_data,
                      GDestroyNotify       progress_notify,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  MergeJob *job;

  g_return_if_fail (ST_IS_INDEX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_index_merge_async);
  job = g_new0 (MergeJob, 1);
  job->progress = st_progress_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, job, merge_job_free);
  g_task_run_in_thread (task, merge_thread);
}

/**
 * st_index_merge_finish:
 * @self: an index
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.Index.merge_async].
 *
 * Returns: (transfer full): a new file with all the tensors, or %NULL with
 *   @error set as [method@ST.Index.merge] sets it, or `G_IO_ERROR_CANCELLED`
 *
 * Since: 1.0
 */
STFile *
st_index_merge_finish (STIndex       *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_index_merge_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
