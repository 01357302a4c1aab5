/* st-file-save.c: saving a safetensors file to a path, memory, a stream or a GFile
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>

#include "st-error.h"
#include "st-file-private.h"
#include "st-file-remote-private.h"
#include "st-save-plan-private.h"
#include "st-tensor-private.h"
#include "st-file.h"

/* STFile's plans: its entries as the plan's pieces, without making a tensor for a loaded one. */

StSavePlan *
st_save_plan_new (STFile  *self,
                  GError **error)
{
  return st_save_plan_new_full (self, 0, error);
}

StSavePlan *
st_save_plan_new_full (STFile   *self,
                       guint64   min_header_size,
                       GError  **error)
{
  gsize n = self->entries->len;
  g_autofree StWriterEntry *writer_entries = g_new0 (StWriterEntry, MAX (n, 1));
  g_autoptr(GPtrArray) keep_alive = g_ptr_array_new_full (n, g_object_unref);

  /* a remote file's tensors are written from memory: fetch what is not there yet */
  if (!st_file_remote_fetch_all (self, NULL, error))
    return NULL;
  for (gsize i = 0; i < n; i++)
    {
      GObject *owner = st_file_entry_describe (g_ptr_array_index (self->entries, i), self->data,
                                               &writer_entries[i]);

      if (owner != NULL)
        g_ptr_array_add (keep_alive, g_object_ref (owner));
    }

  /* An async save must not depend on the file: the plan holds what its pieces point into. The names
   * and shapes in writer_entries are only used by st_header_serialize, right now. */
  return st_save_plan_new_for_entries (writer_entries, n, self->metadata, min_header_size,
                                       g_steal_pointer (&keep_alive), self->data, error);
}

/**
 * st_file_save_to_path:
 * @self: a file
 * @path: (type filename): where to save
 * @flags: how to write
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Saves the file in the safetensors format.
 *
 * A regular file (or a path that does not exist yet) is replaced atomically: the bytes go
 * to a new file in the directory of @path that has no name while it is written
 * (`O_TMPFILE`; on file systems without it, a short hidden name `.st-XXXXXX`), which then
 * replaces @path with rename(). On any failure, on cancellation, and when the process is
 * killed, @path is left as it was and nothing else is left behind (with the hidden name, a
 * killed save leaves that file). A new file gets the mode a plain create would give it (0666
 * less the umask); an existing one keeps its mode, and its owner and group where the
 * process may set them. Saving over a file that the caller could not open for writing fails
 * with %G_IO_ERROR_PERMISSION_DENIED, as a plain open would. When @path is a symbolic link,
 * the file it points to is replaced.
 *
 * Anything else (a character device such as `/dev/null`, a FIFO, a Unix socket, or a
 * symbolic link to one) is written to as a stream, and never replaced; a failure may then
 * leave part of the file written.
 *
 * Before anything is written, the header is checked against every limit the reader
 * enforces (its size above all): a file that saves also loads.
 *
 * Saving over the very file the tensors were loaded from is safe: the old mapping keeps
 * the old content alive until the last tensor of it goes.
 *
 * The output is exactly what Hugging Face's safetensors writes for the same tensors and
 * metadata (metadata keys sorted). The tensors' bytes are written straight from their
 * memory, without copies. Like Hugging Face's writer, this does not fsync() unless @flags
 * has %ST_SAVE_FLAGS_SYNC: without it, after a crash of the system (not of the process)
 * the file may be incomplete.
 *
 * Errors are in the `G_IO_ERROR` domain, with the path in the message, or in the
 * [error@ST.Error] domain for a header the reader would refuse.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_save_to_path (STFile        *self,
                      const char    *path,
                      STSaveFlags    flags,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(StSavePlan) plan = NULL;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  plan = st_save_plan_new (self, error);
  if (plan == NULL)
    return FALSE;
  return st_save_plan_write_to_path (plan, path, flags, cancellable, error);
}

typedef struct {
  StSavePlan    *plan;
  char          *path;    /* for a save to a path */
  STSaveFlags    flags;
  GOutputStream *stream;  /* for a save to a stream */
} SaveJob;

static void
save_job_free (SaveJob *job)
{
  g_clear_pointer (&job->plan, st_save_plan_free);
  g_free (job->path);
  g_clear_object (&job->stream);
  g_free (job);
}

static void
save_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SaveJob *job = task_data;
  GError *error = NULL;
  gboolean ok;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (job->path != NULL)
    ok = st_save_plan_write_to_path (job->plan, job->path, job->flags, cancellable, &error);
  else
    ok = st_save_plan_write_to_stream (job->plan, job->stream, cancellable, &error);

  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
save_async (STFile              *self,
            const char          *path,
            STSaveFlags          flags,
            GOutputStream       *stream,
            gpointer             source_tag,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  SaveJob *job;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  job = g_new0 (SaveJob, 1);
  job->plan = st_save_plan_new (self, &error);
  job->path = g_strdup (path);
  job->flags = flags;
  job->stream = stream != NULL ? g_object_ref (stream) : NULL;
  g_task_set_task_data (task, job, (GDestroyNotify) save_job_free);
  if (job->plan == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The thread looks at the cancellable itself, up to the rename: a cancellation that comes after the
   * target was replaced must not turn the finished save into an error ("the target is untouched"). */
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, save_thread);
}

/**
 * st_file_save_to_path_async:
 * @self: a file
 * @path: (type filename): where to save
 * @flags: how to write
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the file is saved
 * @user_data: (closure): data for @callback
 *
 * Saves the file as [method@ST.File.save_to_path] does, in a thread. Call
 * [method@ST.File.save_to_path_finish] from @callback.
 *
 * What is saved is the file as it is when this function is called: its tensors and
 * metadata are captured then, and changing the file afterwards does not change the
 * output. The tensors' memory itself is read while the save runs: do not write into it
 * meanwhile.
 *
 * Since: 1.0
 */
void
st_file_save_to_path_async (STFile              *self,
                            const char          *path,
                            STSaveFlags          flags,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (ST_IS_FILE (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  save_async (self, path, flags, NULL, st_file_save_to_path_async, cancellable, callback, user_data);
}

/**
 * st_file_save_to_path_finish:
 * @self: a file
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.File.save_to_path_async]. A save cancelled before it finished fails
 * with %G_IO_ERROR_CANCELLED and leaves the target as it was.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_save_to_path_finish (STFile        *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_file_save_to_path_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * st_file_save_to_bytes:
 * @self: a file
 * @error: return location for a #GError
 *
 * Saves the file in the safetensors format into memory: one buffer of exactly the size
 * of the output. The bytes are those [method@ST.File.save_to_path] writes.
 *
 * Fails with %G_IO_ERROR_NO_SPACE when the buffer cannot be allocated.
 *
 * Returns: (transfer full): the content of the file, or %NULL with @error set
 *
 * Since: 1.0
 */
GBytes *
st_file_save_to_bytes (STFile  *self,
                       GError **error)
{
  g_autoptr(StSavePlan) plan = NULL;
  guint64 total_size;
  guint8 *buffer;
  gsize offset = 0;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  plan = st_save_plan_new (self, error);
  if (plan == NULL)
    return NULL;

  total_size = st_save_plan_get_size (plan);
  buffer = total_size <= G_MAXSIZE ? g_try_malloc ((gsize) total_size) : NULL;
  if (buffer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "Could not allocate %" G_GUINT64_FORMAT " bytes for the file", total_size);
      return NULL;
    }

  for (gsize i = 0; i < st_save_plan_get_n_pieces (plan); i++)
    {
      const GOutputVector *piece = st_save_plan_get_piece (plan, i);

      memcpy (buffer + offset, piece->buffer, piece->size);
      offset += piece->size;
    }

  return g_bytes_new_take (buffer, offset);
}

/**
 * st_file_save_to_stream:
 * @self: a file
 * @stream: where to write
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes the file in the safetensors format to @stream, from the tensors' memory, in
 * vectored writes. The stream is neither flushed nor closed. On failure, part of the file
 * may have been written.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_save_to_stream (STFile         *self,
                        GOutputStream  *stream,
                        GCancellable   *cancellable,
                        GError        **error)
{
  g_autoptr(StSavePlan) plan = NULL;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  plan = st_save_plan_new (self, error);
  if (plan == NULL)
    return FALSE;
  return st_save_plan_write_to_stream (plan, stream, cancellable, error);
}

/**
 * st_file_save_to_stream_async:
 * @self: a file
 * @stream: where to write
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the file is written
 * @user_data: (closure): data for @callback
 *
 * Writes the file as [method@ST.File.save_to_stream] does, with the stream's blocking
 * calls in a thread. Do not use @stream until @callback runs; call
 * [method@ST.File.save_to_stream_finish] from it.
 *
 * As with [method@ST.File.save_to_path_async], the file is captured when this function is
 * called; do not write into the tensors' memory while the save runs.
 *
 * Since: 1.0
 */
void
st_file_save_to_stream_async (STFile              *self,
                              GOutputStream       *stream,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (ST_IS_FILE (self));
  g_return_if_fail (G_IS_OUTPUT_STREAM (stream));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  save_async (self, NULL, ST_SAVE_FLAGS_NONE, stream, st_file_save_to_stream_async, cancellable, callback, user_data);
}

/**
 * st_file_save_to_stream_finish:
 * @self: a file
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.File.save_to_stream_async].
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_save_to_stream_finish (STFile        *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_file_save_to_stream_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * st_file_save_to_gfile:
 * @self: a file
 * @file: where to save
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Saves the file to a #GFile, atomically: a file with a local path is saved as
 * [method@ST.File.save_to_path] does; any other through g_file_replace(), which GIO's
 * backends make atomic. On failure or cancellation the destination is left as it was
 * (as far as the backend allows).
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_save_to_gfile (STFile        *self,
                       GFile         *file,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(GFileOutputStream) stream = NULL;
  g_autoptr(StSavePlan) plan = NULL;
  const char *path;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  path = g_file_peek_path (file);
  if (path != NULL)
    return st_file_save_to_path (self, path, ST_SAVE_FLAGS_NONE, cancellable, error);

  plan = st_save_plan_new (self, error);
  if (plan == NULL)
    return FALSE;

  stream = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, cancellable, error);
  if (stream == NULL)
    return FALSE;
  if (!st_save_plan_write_to_stream (plan, G_OUTPUT_STREAM (stream), cancellable, error))
    {
      /* Closing with a cancelled cancellable makes GIO drop the new content and keep the old. */
      g_autoptr(GCancellable) abandon = g_cancellable_new ();

      g_cancellable_cancel (abandon);
      g_output_stream_close (G_OUTPUT_STREAM (stream), abandon, NULL);
      return FALSE;
    }

  return g_output_stream_close (G_OUTPUT_STREAM (stream), cancellable, error);
}
