/* st-index-validate.c: checking a sharded checkpoint: each shard against the weight map, the total size
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include "st-error.h"
#include "st-file.h"
#include "st-index.h"
#include "st-index-json-private.h"
#include "st-index-private.h"
#include "st-progress-private.h"
#include "st-tensor.h"

/**
 * st_index_validate_shard:
 * @self: an index
 * @shard_name: the file name of a shard, as the weight map gives it
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Checks one shard: that it exists, that it is a valid safetensors file (see
 * [ctor@ST.File.new_from_path]: only its header is read) and that it holds
 * exactly the tensors the weight map assigns to it. The shard stays open.
 *
 * Returns: %TRUE when the shard is right; otherwise %FALSE with @error set:
 *   the error of opening it (a Git LFS pointer or an HTML page in place of the
 *   shard is named as such), or %ST_ERROR_INVALID_INDEX for a tensor the
 *   weight map assigns to it that it lacks, or that it holds and the weight map
 *   does not assign to it
 *
 * Since: 1.0
 */
gboolean
st_index_validate_shard (STIndex       *self,
                         const char    *shard_name,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(STFile) shard = NULL;

  g_return_val_if_fail (ST_IS_INDEX (self), FALSE);
  g_return_val_if_fail (shard_name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* Opening a shard checks what it holds. */
  shard = st_index_open_shard (self, shard_name, cancellable, error);
  return shard != NULL;
}

/* Sum of the byte sizes of the tensors the weight map assigns to @shard (already validated). */
static guint64
shard_tensor_bytes (STIndex    *self,
                    STFile     *shard,
                    const char *shard_name)
{
  g_auto(GStrv) members = st_index_dup_shard_tensor_names (self, shard_name);
  guint64 total = 0;

  for (guint i = 0; members[i] != NULL; i++)
    total += st_tensor_get_n_bytes (st_file_get_tensor (shard, members[i]));
  return total;
}

static gboolean validate_shards (STIndex       *self,
                                 GCancellable  *cancellable,
                                 StProgress    *progress,
                                 GError       **error);

/**
 * st_index_validate:
 * @self: an index
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Checks the whole checkpoint: every shard with
 * [method@ST.Index.validate_shard], in order, then that the `total_size` of
 * the index metadata, when it has one, is the sum of the byte sizes of all the
 * tensors. Only the shards' headers are read, never their tensor data. The
 * shards stay open, so that the items of the index's list model carry every
 * tensor's dtype, shape and offsets from then on without I/O;
 * [method@ST.Index.validate_async] does this in a worker thread.
 *
 * Returns: %TRUE when the checkpoint is consistent; otherwise %FALSE with
 *   @error set to the first problem found: see
 *   [method@ST.Index.validate_shard], and %ST_ERROR_INVALID_INDEX for a wrong
 *   `total_size`
 *
 * Since: 1.0
 */
gboolean
st_index_validate (STIndex       *self,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return validate_shards (self, cancellable, NULL, error);
}

/* What st_index_validate() does, reporting the bytes of the shards checked so far. */
static gboolean
validate_shards (STIndex       *self,
                 GCancellable  *cancellable,
                 StProgress    *progress,
                 GError       **error)
{
  g_autoptr(GArray) sizes = st_index_dup_shard_file_sizes (self);
  g_auto(GStrv) shard_names = st_index_dup_shard_names (self);
  guint64 total_bytes = g_array_index (sizes, guint64, sizes->len - 1);
  guint64 done = 0;
  guint64 total = 0;
  gboolean has_total_size;

  st_progress_report (progress, 0, total_bytes);
  for (guint i = 0; shard_names[i] != NULL; i++)
    {
      g_autoptr(STFile) shard = NULL;

      /* Opening a shard checks it as st_index_validate_shard() does. */
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      shard = st_index_open_shard (self, shard_names[i], cancellable, error);
      if (shard == NULL)
        return FALSE;
      total += shard_tensor_bytes (self, shard, shard_names[i]);
      done += g_array_index (sizes, guint64, i);
      st_progress_report (progress, done, total_bytes);
    }

  has_total_size = st_index_get_metadata_value (self, ST_INDEX_TOTAL_SIZE_KEY) != NULL;
  if (has_total_size && total != st_index_get_total_size (self))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "The index states a total_size of %" G_GUINT64_FORMAT " bytes, but its tensors "
                   "hold %" G_GUINT64_FORMAT " bytes", st_index_get_total_size (self), total);
      return FALSE;
    }
  return TRUE;
}

/* Checking in a worker thread, with progress on the caller's main context */

typedef struct {
  StProgress *progress;
} ValidateJob;

static void
validate_job_free (gpointer data)
{
  ValidateJob *job = data;

  st_progress_free (job->progress);
  g_free (job);
}

static void
validate_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  ValidateJob *job = task_data;
  GError *error = NULL;
  gboolean ok = validate_shards (ST_INDEX (source_object), cancellable, job->progress, &error);

  /* No report follows: the caller's progress data is released before the result reaches it. */
  g_clear_pointer (&job->progress, st_progress_free);
  if (!ok)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * st_index_validate_async:
 * @self: an index
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called on the thread-default main context of the caller as the shards are
 *   checked, with the bytes of the shard files checked so far and in all
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data, on the same main context,
 *   after the last report
 * @callback: (scope async) (closure user_data): called when the check is done
 * @user_data: data for @callback
 *
 * Does what [method@ST.Index.validate] does, in a worker thread: opens and
 * checks every shard (their headers only: the tensor data is mapped, not
 * read), then the `total_size`. The shards stay open, so that afterwards the
 * items of the index's list model carry every tensor's dtype, shape and
 * offsets without I/O in the caller's thread.
 *
 * Progress is reported on the caller's main context, never from the worker:
 * first 0 of the total, then after each shard; every report comes before
 * @callback runs. A progress bar is driven with `done / total` (the total is
 * 0 for an index without shards).
 *
 * Since: 1.0
 */
void
st_index_validate_async (STIndex             *self,
                         GCancellable        *cancellable,
                         STProgressFunc       progress,
                         gpointer             progress_data,
                         GDestroyNotify       progress_notify,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ValidateJob *job;

  g_return_if_fail (ST_IS_INDEX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_index_validate_async);
  job = g_new0 (ValidateJob, 1);
  job->progress = st_progress_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, job, validate_job_free);
  g_task_run_in_thread (task, validate_thread);
}

/**
 * st_index_validate_finish:
 * @self: an index
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.Index.validate_async].
 *
 * Returns: %TRUE when the checkpoint is consistent; otherwise %FALSE with
 *   @error set as [method@ST.Index.validate] sets it, or to
 *   `G_IO_ERROR_CANCELLED`
 *
 * Since: 1.0
 */
gboolean
st_index_validate_finish (STIndex       *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_index_validate_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
