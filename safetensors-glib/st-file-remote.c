/* st-file-remote.c: a safetensors file on an HTTP server or the Hub, its tensors fetched on demand
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A remote file is an STFile like any other, whose header was read from a byte source (st-source-private.h)
 * and whose data stays where it is: its entries are "loaded" with no data buffer, and the source is kept
 * with the file (as object data, so that STFile's struct does not change). A tensor's bytes are fetched
 * the first time they are asked for, into memory of their own, and kept: later calls give the same object.
 *
 * The open reads a prefix of 100 kB, as huggingface_hub's get_safetensors_metadata() does: most headers
 * fit, and a longer one costs exactly one more request, of exactly its length, which the header limit
 * bounds (ST_MAX_HEADER_SIZE), and which the server's size bounds too.
 */
#include <string.h>

#include "st-error.h"
#include "st-file-private.h"
#include "st-file-remote-private.h"
#include "st-file-remote.h"
#include "st-hub-private.h"
#include "st-progress-private.h"
#include "st-sniff-private.h"
#include "st-source-private.h"
#include "st-tensor-private.h"

#define REMOTE_PREFIX_SIZE ((gsize) 100000)

typedef struct {
  StSource *source;
  guint64   data_offset;  /* 8 + N: where the data buffer starts in the source */
} RemoteData;

static GQuark
remote_quark (void)
{
  return g_quark_from_static_string ("st-file-remote");
}

static void
remote_data_free (gpointer data)
{
  RemoteData *remote = data;

  st_source_unref (remote->source);
  g_free (remote);
}

static RemoteData *
get_remote (STFile *self)
{
  return g_object_get_qdata (G_OBJECT (self), remote_quark ());
}

/* Opening */

static void
set_format_error (GError       **error,
                  StSource      *source,
                  const guint8  *head,
                  gsize          head_len,
                  const GError  *parse_error)
{
  StSniffKind kind = st_sniff_bytes (head, head_len, st_source_get_size (source));

  if (kind == ST_SNIFF_UNKNOWN || kind == ST_SNIFF_TRUNCATED)
    g_set_error (error, ST_ERROR, parse_error->code, "“%s”: %s", st_source_get_name (source),
                 parse_error->message);
  else
    g_set_error (error, ST_ERROR, parse_error->code, "“%s”: it is %s, not a safetensors file",
                 st_source_get_name (source), st_sniff_describe (kind));
}

STFile *
st_file_new_from_source (StSource      *source,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autofree guint8 *prefix = g_malloc (REMOTE_PREFIX_SIZE);
  g_autofree guint8 *json_buffer = NULL;
  g_autoptr(StHeader) header = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *json;
  gsize got = 0;
  guint64 size, header_size, data_size;
  RemoteData *remote;
  STFile *self;

  if (!st_source_read_prefix (source, prefix, REMOTE_PREFIX_SIZE, &got, cancellable, error))
    return NULL;
  size = st_source_get_size (source);
  if (size == G_MAXUINT64)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "“%s”: the server does not say how long the file is", st_source_get_name (source));
      return NULL;
    }
  if (!st_header_read_size (prefix, got, size, &header_size, &local_error))
    {
      set_format_error (error, source, prefix, got, local_error);
      return NULL;
    }

  if (8 + header_size <= got)
    {
      json = (const char *) prefix + 8;
    }
  else
    {
      /* the rest of the header, exactly: header_size is at most ST_MAX_HEADER_SIZE and within the file */
      g_autoptr(StReadPlan) plan = st_read_plan_new ();

      json_buffer = g_malloc ((gsize) header_size);
      memcpy (json_buffer, prefix + 8, got - 8);
      st_read_plan_add (plan, got, 8 + header_size - got, json_buffer + (got - 8));
      if (!st_read_plan_execute (plan, source, NULL, NULL, cancellable, error))
        return NULL;
      json = (const char *) json_buffer;
    }

  header = st_header_parse (json, (gsize) header_size, &local_error);
  if (header == NULL)
    {
      set_format_error (error, source, prefix, got, local_error);
      return NULL;
    }
  data_size = size - 8 - header_size;
  if (header->data_size != data_size)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER,
                   "“%s”: the tensors cover %" G_GUINT64_FORMAT " bytes but the data buffer has %" G_GUINT64_FORMAT,
                   st_source_get_name (source), header->data_size, data_size);
      return NULL;
    }

  self = st_file_new_loaded (g_steal_pointer (&header), header_size, NULL);
  remote = g_new0 (RemoteData, 1);
  remote->source = st_source_ref (source);
  remote->data_offset = 8 + header_size;
  g_object_set_qdata_full (G_OBJECT (self), remote_quark (), remote, remote_data_free);
  return self;
}

/**
 * st_file_new_from_uri:
 * @uri: the address of a safetensors file: `http://`, `https://` or `hf://ORG/NAME[@REVISION]/FILE`
 *   (`hf://datasets/ORG/NAME/FILE` and `hf://spaces/ORG/NAME/FILE` for datasets and Spaces)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Opens a safetensors file where it lives, reading its header only: in at most two requests after
 * the redirects (a first read of 100 kB, and a second only for a longer header), checked by the same
 * strict parser and limits as a local file's. The file's names, dtypes, shapes, metadata and list
 * model then work without further network I/O; the data of a tensor is fetched by a Range request
 * when it is first asked for (see [method@ST.File.fetch_tensors] and [method@ST.File.get_tensor]).
 *
 * `hf://` addresses and the Hub's `https://HOST/ORG/NAME/resolve/REVISION/FILE` addresses follow
 * the Hub's rules: the endpoint from `HF_ENDPOINT`, the token from `HF_TOKEN` or the token file,
 * sent to the endpoint's host only; with `HF_HUB_OFFLINE=1`, an `hf://` address is served from the
 * Hugging Face cache alone. A file found in the cache is mapped, as [ctor@ST.File.new_from_path]
 * does, and is not remote. doc/remote.md says more.
 *
 * This call does network I/O: it blocks until the header is read. Use
 * [func@ST.File.new_from_uri_async] from a user interface.
 *
 * Errors: %G_IO_ERROR_NOT_SUPPORTED in a build without HTTP support;
 * %G_IO_ERROR_INVALID_ARGUMENT for an address of another kind; %G_IO_ERROR_NOT_FOUND,
 * %G_IO_ERROR_PERMISSION_DENIED (a token is needed or was refused), %G_IO_ERROR_TIMED_OUT,
 * %G_IO_ERROR_INVALID_DATA (the server broke the protocol, or the file changed on it) and the
 * errors of the format ([error@ST.Error]).
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 1.2
 */
STFile *
st_file_new_from_uri (const char    *uri,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(StSource) source = NULL;
  g_autofree char *cached = NULL;

  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  source = st_hub_source_new (uri, &cached, error);
  if (cached != NULL)
    return st_file_new_from_path (cached, cancellable, error);
  if (source == NULL)
    return NULL;
  return st_file_new_from_source (source, cancellable, error);
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  STFile *file;

  if (g_task_return_error_if_cancelled (task))
    return;
  file = st_file_new_from_uri (task_data, cancellable, &error);
  if (file == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, file, g_object_unref);
}

/**
 * st_file_new_from_uri_async:
 * @uri: the address of a safetensors file (see [ctor@ST.File.new_from_uri])
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the header is read
 * @user_data: data for @callback
 *
 * Opens a safetensors file where it lives, as [ctor@ST.File.new_from_uri] does, in a worker
 * thread; @callback runs in the thread-default main context of the caller.
 *
 * Since: 1.2
 */
void
st_file_new_from_uri_async (const char          *uri,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (uri != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_file_new_from_uri_async);
  g_task_set_task_data (task, g_strdup (uri), g_free);
  g_task_run_in_thread (task, open_thread);
}

/**
 * st_file_new_from_uri_finish:
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@ST.File.new_from_uri_async].
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 1.2
 */
STFile *
st_file_new_from_uri_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_file_new_from_uri_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * st_file_is_remote:
 * @self: a file
 *
 * Whether the file was opened from an HTTP server or the Hub, with its data left there: its
 * tensors' bytes are fetched when first asked for.
 *
 * Returns: %TRUE for a remote file
 *
 * Since: 1.2
 */
gboolean
st_file_is_remote (STFile *self)
{
  g_return_val_if_fail (ST_IS_FILE (self), FALSE);

  return get_remote (self) != NULL;
}

/* Fetching */

typedef struct {
  FileEntry *entry;
  guint8    *buffer;
} Fetch;

/* Fetches the entries of @entries that have no tensor yet, in one plan: neighbours in one request. */
static gboolean
fetch_entries (STFile               *self,
               GPtrArray            *entries,
               StSourceAdvanceFunc   advance,
               gpointer              advance_data,
               guint64              *out_total,
               GCancellable         *cancellable,
               GError              **error)
{
  RemoteData *remote = get_remote (self);
  g_autoptr(StReadPlan) plan = st_read_plan_new ();
  g_autoptr(GArray) fetches = g_array_new (FALSE, FALSE, sizeof (Fetch));
  gboolean ok;

  for (guint i = 0; i < entries->len; i++)
    {
      FileEntry *entry = entries->pdata[i];
      const StHeaderEntry *loaded = st_file_entry_get_loaded (entry);
      guint64 n_bytes;
      Fetch fetch;

      if (remote == NULL || loaded == NULL || g_atomic_pointer_get (&entry->tensor) != NULL)
        continue;
      n_bytes = st_header_entry_get_end (loaded) - loaded->begin;
      fetch.entry = entry;
      fetch.buffer = g_try_malloc (MAX (n_bytes, 1));
      if (fetch.buffer == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "Not enough memory for the %" G_GUINT64_FORMAT
                       " bytes of tensor “%s”", n_bytes, loaded->name);
          ok = FALSE;
          goto out;
        }
      g_array_append_val (fetches, fetch);
      st_read_plan_add (plan, remote->data_offset + loaded->begin, n_bytes, fetch.buffer);
    }
  if (out_total != NULL)
    *out_total = st_read_plan_get_n_bytes (plan);

  ok = fetches->len == 0 || st_read_plan_execute (plan, remote->source, advance, advance_data, cancellable, error);

out:
  for (guint i = 0; i < fetches->len; i++)
    {
      Fetch *fetch = &g_array_index (fetches, Fetch, i);
      const StHeaderEntry *loaded = st_file_entry_get_loaded (fetch->entry);
      g_autoptr(GBytes) bytes = NULL;
      STTensor *tensor;

      if (!ok)
        {
          g_free (fetch->buffer);
          continue;
        }
      bytes = g_bytes_new_take (fetch->buffer, st_header_entry_get_end (loaded) - loaded->begin);
      tensor = st_tensor_new_slice (loaded->dtype, loaded->shape, loaded->n_dims, bytes, 0,
                                    st_header_entry_get_end (loaded) - loaded->begin);
      /* another thread may have fetched it meanwhile: the first one set stays */
      if (!g_atomic_pointer_compare_and_exchange (&fetch->entry->tensor, NULL, tensor))
        g_object_unref (tensor);
    }
  return ok;
}

STTensor *
st_file_remote_fetch_entry (STFile     *self,
                            FileEntry  *entry,
                            GError    **error)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();

  g_ptr_array_add (entries, entry);
  if (!fetch_entries (self, entries, NULL, NULL, NULL, NULL, error))
    return NULL;
  return g_atomic_pointer_get (&entry->tensor);
}

gboolean
st_file_remote_fetch_all (STFile        *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  if (get_remote (self) == NULL)
    return TRUE;
  return fetch_entries (self, self->entries, NULL, NULL, NULL, cancellable, error);
}

/* The entries named in @names (all when NULL), or an error naming the first unknown one. */
static GPtrArray *
lookup_entries (STFile              *self,
                const char * const  *names,
                GError             **error)
{
  g_autoptr(GPtrArray) entries = NULL;

  if (names == NULL)
    return g_ptr_array_ref (self->entries);
  entries = g_ptr_array_new ();
  for (guint i = 0; names[i] != NULL; i++)
    {
      FileEntry *entry = st_file_lookup_entry (self, names[i]);

      if (entry == NULL)
        {
          g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND, "No tensor named “%s”", names[i]);
          return NULL;
        }
      g_ptr_array_add (entries, entry);
    }
  return g_steal_pointer (&entries);
}

/**
 * st_file_fetch_tensor:
 * @self: a file
 * @name: a tensor name
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Gives the tensor named @name, fetching its bytes with one Range request when the file is remote
 * and they were not fetched yet; on any other file, the same as [method@ST.File.lookup_tensor].
 * Fetched bytes are kept: later calls give the same tensor without network I/O.
 *
 * Returns: (transfer none): the tensor, or %NULL with @error set
 *
 * Since: 1.2
 */
STTensor *
st_file_fetch_tensor (STFile        *self,
                      const char    *name,
                      GCancellable  *cancellable,
                      GError       **error)
{
  const char *names[] = { name, NULL };

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!st_file_fetch_tensors (self, names, cancellable, error))
    return NULL;
  return st_file_lookup_tensor (self, name, error);
}

/**
 * st_file_fetch_tensors:
 * @self: a file
 * @names: (array zero-terminated=1) (nullable): the names of the tensors to fetch, or %NULL for all
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Fetches the bytes of the tensors named in @names, when the file is remote: the tensors whose
 * data lie side by side (or nearly: less than 1 MiB apart) in one Range request, several requests
 * at once. Tensors fetched before are not fetched again; on a file that is not remote, nothing is
 * done. Afterwards [method@ST.File.get_tensor] gives these tensors without network I/O.
 *
 * This call does network I/O and blocks until the bytes are in: use
 * [method@ST.File.fetch_tensors_async] from a user interface, for its progress too.
 *
 * Returns: %TRUE when every tensor is there; %FALSE with @error set (%ST_ERROR_NOT_FOUND for a
 *   name that is not in the file, and the errors of [ctor@ST.File.new_from_uri])
 *
 * Since: 1.2
 */
gboolean
st_file_fetch_tensors (STFile              *self,
                       const char * const  *names,
                       GCancellable        *cancellable,
                       GError             **error)
{
  g_autoptr(GPtrArray) entries = NULL;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  entries = lookup_entries (self, names, error);
  if (entries == NULL)
    return FALSE;
  return fetch_entries (self, entries, NULL, NULL, NULL, cancellable, error);
}

/* An async fetch: its progress counts bytes received, reported from the reading threads to the
 * caller's main context (st-progress.c). */
typedef struct {
  GPtrArray  *entries;
  char       *name;      /* a slice's tensor */
  gint64      start;
  gint64      stop;
  StProgress *progress;
  guint64     done;      /* atomic, by the reading threads */
  guint64     total;
} FetchJob;

static void
fetch_job_free (gpointer data)
{
  FetchJob *job = data;

  g_clear_pointer (&job->entries, g_ptr_array_unref);
  g_free (job->name);
  st_progress_free (job->progress);
  g_free (job);
}

static void
job_advance (guint64  n_bytes,
             gpointer data)
{
  FetchJob *job = data;
  guint64 done;

  /* no 64-bit atomics in GLib: the count is only read for reports, a lock is cheap next to a read */
  G_LOCK_DEFINE_STATIC (progress);
  G_LOCK (progress);
  job->done += n_bytes;
  done = job->done;
  G_UNLOCK (progress);
  st_progress_report (job->progress, done, job->total);
}

static void
fetch_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  STFile *self = source_object;
  FetchJob *job = task_data;
  RemoteData *remote = get_remote (self);
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (remote != NULL)
    {
      job->total = 0;
      for (guint i = 0; i < job->entries->len; i++)
        {
          FileEntry *entry = job->entries->pdata[i];
          const StHeaderEntry *loaded = st_file_entry_get_loaded (entry);

          if (loaded != NULL && g_atomic_pointer_get (&entry->tensor) == NULL)
            job->total += st_header_entry_get_end (loaded) - loaded->begin;
        }
    }
  st_progress_report (job->progress, 0, job->total);
  if (!fetch_entries (self, job->entries, job->progress != NULL ? job_advance : NULL, job, NULL, cancellable,
                      &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* the last report is queued before the completion (st-progress.c) */
  g_clear_pointer (&job->progress, st_progress_free);
  g_task_return_boolean (task, TRUE);
}

/**
 * st_file_fetch_tensors_async:
 * @self: a file
 * @names: (array zero-terminated=1) (nullable): the names of the tensors to fetch, or %NULL for all
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called with the bytes received and the bytes to fetch
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data once @progress will not be called again
 * @callback: (scope async): called when the bytes are in
 * @user_data: data for @callback
 *
 * Fetches tensors as [method@ST.File.fetch_tensors] does, in worker threads. @progress,
 * @progress_notify and @callback run in the thread-default main context of the caller.
 *
 * Since: 1.2
 */
void
st_file_fetch_tensors_async (STFile              *self,
                             const char * const  *names,
                             GCancellable        *cancellable,
                             STProgressFunc       progress,
                             gpointer             progress_data,
                             GDestroyNotify       progress_notify,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  FetchJob *job;

  g_return_if_fail (ST_IS_FILE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_file_fetch_tensors_async);
  job = g_new0 (FetchJob, 1);
  job->progress = st_progress_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, job, fetch_job_free);
  job->entries = lookup_entries (self, names, &error);
  if (job->entries == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_run_in_thread (task, fetch_thread);
}

/**
 * st_file_fetch_tensors_finish:
 * @self: a file
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.File.fetch_tensors_async].
 *
 * Returns: %TRUE when every tensor is there; %FALSE with @error set
 *
 * Since: 1.2
 */
gboolean
st_file_fetch_tensors_finish (STFile        *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_file_fetch_tensors_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Slices */

/* Where rows [@start, @stop) of @entry's tensor lie in its data: *@out_offset and *@out_len bytes. */
static gboolean
slice_layout (FileEntry  *entry,
              STDType    *out_dtype,
              const gint64 **out_shape,
              guint      *out_n_dims,
              guint64     n_bytes,
              gint64      start,
              gint64      stop,
              guint64    *out_offset,
              guint64    *out_len,
              GError    **error)
{
  const gint64 *shape = *out_shape;
  guint64 rows, row_bits;

  if (*out_n_dims == 0)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE, "Tensor “%s” is a scalar: it has no rows to slice",
                   entry->name);
      return FALSE;
    }
  rows = (guint64) shape[0];
  if (start < 0 || stop < start || (guint64) stop > rows)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                   "Rows %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " are not within the %" G_GUINT64_FORMAT
                   " rows of tensor “%s”", start, stop, rows, entry->name);
      return FALSE;
    }
  /* n_bytes * 8 cannot overflow: the parser checked the bit count of every tensor */
  row_bits = rows > 0 ? n_bytes * 8 / rows : 0;
  if (rows > 0 && row_bits % 8 != 0 && start != stop)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE,
                   "A row of tensor “%s” (%s) is not a whole number of bytes: it cannot be sliced by rows",
                   entry->name, st_dtype_to_string (*out_dtype));
      return FALSE;
    }
  *out_offset = (guint64) start * (row_bits / 8);
  *out_len = (guint64) (stop - start) * (row_bits / 8);
  return TRUE;
}

static STTensor *
fetch_slice (STFile         *self,
             const char     *name,
             gint64          start,
             gint64          stop,
             FetchJob       *job,
             GCancellable   *cancellable,
             GError        **error)
{
  FileEntry *entry = st_file_lookup_entry (self, name);
  RemoteData *remote = get_remote (self);
  const StHeaderEntry *loaded;
  STTensor *whole;
  STDType dtype;
  const gint64 *shape;
  guint n_dims;
  guint64 n_bytes, offset, len;
  g_autofree gint64 *slice_shape = NULL;
  g_autoptr(StReadPlan) plan = NULL;
  guint8 *buffer;
  g_autoptr(GBytes) bytes = NULL;

  if (entry == NULL)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND, "No tensor named “%s”", name);
      return NULL;
    }
  whole = g_atomic_pointer_get (&entry->tensor);
  loaded = st_file_entry_get_loaded (entry);
  if (remote == NULL || loaded == NULL || whole != NULL)
    {
      /* the bytes are here: a slice of them */
      whole = st_file_lookup_tensor (self, name, error);
      if (whole == NULL)
        return NULL;
      dtype = st_tensor_get_dtype (whole);
      shape = st_tensor_get_shape (whole, &n_dims);
      n_bytes = st_tensor_get_n_bytes (whole);
    }
  else
    {
      dtype = loaded->dtype;
      shape = loaded->shape;
      n_dims = loaded->n_dims;
      n_bytes = st_header_entry_get_end (loaded) - loaded->begin;
    }
  if (!slice_layout (entry, &dtype, &shape, &n_dims, n_bytes, start, stop, &offset, &len, error))
    return NULL;
  slice_shape = g_memdup2 (shape, sizeof (gint64) * n_dims);
  slice_shape[0] = stop - start;

  if (whole != NULL)
    return st_tensor_new_slice (dtype, slice_shape, n_dims, st_tensor_get_bytes (whole), offset, len);

  buffer = g_try_malloc (MAX (len, 1));
  if (buffer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "Not enough memory for %" G_GUINT64_FORMAT
                   " bytes of tensor “%s”", len, name);
      return NULL;
    }
  bytes = g_bytes_new_take (buffer, len);
  plan = st_read_plan_new ();
  st_read_plan_add (plan, remote->data_offset + loaded->begin + offset, len, buffer);
  if (job != NULL)
    {
      job->total = len;
      st_progress_report (job->progress, 0, len);
    }
  if (!st_read_plan_execute (plan, remote->source, job != NULL && job->progress != NULL ? job_advance : NULL, job,
                             cancellable, error))
    return NULL;
  return st_tensor_new_slice (dtype, slice_shape, n_dims, bytes, 0, len);
}

/**
 * st_file_fetch_slice:
 * @self: a file
 * @name: a tensor name
 * @start: the first row
 * @stop: one past the last row
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Gives rows @start to @stop (excluded) of the first dimension of the tensor named @name, as a
 * tensor of their own: what `get_slice()[start:stop]` reads. On a remote file whose tensor was not
 * fetched, only these rows are fetched, with one Range request, and not kept by the file; otherwise
 * the result is a zero-copy slice of the tensor's bytes.
 *
 * This call may do network I/O: use [method@ST.File.fetch_slice_async] from a user interface.
 *
 * Returns: (transfer full): the rows, or %NULL with @error set: %ST_ERROR_NOT_FOUND,
 *   %ST_ERROR_INVALID_SHAPE (a scalar, or rows out of range), %ST_ERROR_MISALIGNED_SUB_BYTE (rows of
 *   a sub-byte dtype that are not whole bytes), and the errors of [ctor@ST.File.new_from_uri]
 *
 * Since: 1.2
 */
STTensor *
st_file_fetch_slice (STFile        *self,
                     const char    *name,
                     gint64         start,
                     gint64         stop,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return fetch_slice (self, name, start, stop, NULL, cancellable, error);
}

static void
slice_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  FetchJob *job = task_data;
  GError *error = NULL;
  STTensor *tensor;

  if (g_task_return_error_if_cancelled (task))
    return;
  tensor = fetch_slice (source_object, job->name, job->start, job->stop, job, cancellable, &error);
  if (tensor == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_clear_pointer (&job->progress, st_progress_free);
  g_task_return_pointer (task, tensor, g_object_unref);
}

/**
 * st_file_fetch_slice_async:
 * @self: a file
 * @name: a tensor name
 * @start: the first row
 * @stop: one past the last row
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called with the bytes received and the bytes to fetch
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data once @progress will not be called again
 * @callback: (scope async): called when the rows are in
 * @user_data: data for @callback
 *
 * Gives rows of a tensor as [method@ST.File.fetch_slice] does, in a worker thread. @progress,
 * @progress_notify and @callback run in the thread-default main context of the caller.
 *
 * Since: 1.2
 */
void
st_file_fetch_slice_async (STFile              *self,
                           const char          *name,
                           gint64               start,
                           gint64               stop,
                           GCancellable        *cancellable,
                           STProgressFunc       progress,
                           gpointer             progress_data,
                           GDestroyNotify       progress_notify,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  FetchJob *job;

  g_return_if_fail (ST_IS_FILE (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_file_fetch_slice_async);
  job = g_new0 (FetchJob, 1);
  job->name = g_strdup (name);
  job->start = start;
  job->stop = stop;
  job->progress = st_progress_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, job, fetch_job_free);
  g_task_run_in_thread (task, slice_thread);
}

/**
 * st_file_fetch_slice_finish:
 * @self: a file
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.File.fetch_slice_async].
 *
 * Returns: (transfer full): the rows, or %NULL with @error set
 *
 * Since: 1.2
 */
STTensor *
st_file_fetch_slice_finish (STFile        *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_file_fetch_slice_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
