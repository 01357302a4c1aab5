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
#include "st-tensor-private.h"
#include "st-file.h"

/* Writes are cut in chunks of at most this size, with a look at the cancellable between them. */
#define WRITE_CHUNK_SIZE ((gsize) 64 * 1024 * 1024)

/* How many buffers one writev() takes (POSIX guarantees at least 16; Linux takes 1024). */
#define WRITE_MAX_VECTORS 1024

/* Small tensors are gathered into one writev() until it carries at least this much; a large tensor then
 * goes out in a call of its own. Gathering whole 64 MiB chunks of large tensors into one call made saves
 * from torch's memory slower and far more erratic on the benchmark machine (bench/run, gpt2) than one
 * write per tensor. */
#define WRITE_GATHER_SIZE ((gsize) 1024 * 1024)

/* Saving
 *
 * A save starts with a plan, made in the caller's thread: the serialized header and the list of byte
 * ranges to write after it, in order, with references on everything they point into. The plan is a
 * snapshot: an async save does not look at the file again, and the tensors' memory is written as is,
 * with no intermediate copy. */

/* Pieces at least this large that are slices of a mapped file are copied in the kernel (st-file-copy.c);
 * below it, the system calls to set a copy up cost more than the copy. */
#define KERNEL_COPY_MIN_SIZE ((gsize) 256 * 1024)

/* Where a piece came from, when it is a large slice of a mapped file. */
typedef struct {
  StFileSource *source;  /* owned; NULL when the piece is only memory */
  guint64       offset;  /* of the piece in the source file */
} PieceOrigin;

struct _StSavePlan {
  GBytes        *header;       /* the 8-byte prefix and the padded JSON */
  GOutputVector *pieces;       /* the header, then each non-empty tensor's bytes, in file offset order */
  gsize          n_pieces;
  PieceOrigin   *origins;      /* one per piece; NULL when no piece comes from a mapped file */
  guint64        total_size;   /* header plus data */
  GPtrArray     *keep_alive;   /* the tensors and owners the pieces point into */
  GBytes        *source;       /* the loaded data the other pieces point into; nullable */
};

void
st_save_plan_free (StSavePlan *plan)
{
  g_bytes_unref (plan->header);
  if (plan->origins != NULL)
    {
      for (gsize i = 0; i < plan->n_pieces; i++)
        st_file_source_unref (plan->origins[i].source);
      g_free (plan->origins);
    }
  g_free (plan->pieces);
  g_ptr_array_unref (plan->keep_alive);
  g_clear_pointer (&plan->source, g_bytes_unref);
  g_free (plan);
}

/* The writer writes only what the reader reads. Names and metadata are checked as the reader checks
 * them when they are set (st_file_set_tensor, st_file_set_metadata), offsets are laid out here, and the
 * writer's JSON nests two levels deep: what is left to check is the size of the header. (Parsing it
 * back would cost as much as a load of the header, doubling the time of a save of many small tensors;
 * tests/c/test-file-safety.c checks, over random files, that what saves loads.) */
static gboolean
check_header_size (GBytes  *header,
                   GError **error)
{
  gsize header_len = g_bytes_get_size (header);

  if (header_len - 8 > ST_MAX_HEADER_SIZE)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_HEADER_TOO_LARGE,
                   "The header would take %" G_GSIZE_FORMAT " bytes, more than the %" G_GUINT64_FORMAT
                   " a reader accepts: the tensor names and metadata are too long; nothing was written",
                   header_len - 8, ST_MAX_HEADER_SIZE);
      return FALSE;
    }
  return TRUE;
}

/* Pads @header (the 8-byte prefix and the JSON) with spaces so that its JSON takes at least
 * @min_json_size bytes, rounded up to a multiple of 8 as every writer pads. Trailing spaces are JSON
 * whitespace: every reader, Hugging Face's included, reads the same header. */
static GBytes *
pad_header (GBytes  *header,
            guint64  min_json_size)
{
  gsize len = g_bytes_get_size (header);
  guint64 json_len = len - 8;
  guint64 padded;
  guint8 *out;

  min_json_size = MIN (min_json_size, ST_MAX_HEADER_SIZE);
  if (min_json_size <= json_len)
    return header;

  padded = min_json_size + (8 - min_json_size % 8) % 8;
  out = g_malloc ((gsize) padded + 8);
  memcpy (out, g_bytes_get_data (header, NULL), len);
  memset (out + len, ' ', (gsize) (padded + 8 - len));
  for (guint i = 0; i < 8; i++)
    out[i] = (guint8) (padded >> (8 * i));
  g_bytes_unref (header);
  return g_bytes_new_take (out, (gsize) padded + 8);
}

GBytes *
st_save_layout (StWriterEntry  *entries,
                gsize           n_entries,
                GHashTable     *metadata,
                guint64         min_header_size,
                guint64        *out_data_size,
                GError        **error)
{
  g_autoptr(GBytes) header = st_header_serialize (entries, n_entries, metadata, out_data_size);

  if (!check_header_size (header, error))
    return NULL;
  return pad_header (g_steal_pointer (&header), min_header_size);
}

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
  g_autofree StWriterEntry *writer_entries = g_new0 (StWriterEntry, MAX (self->entries->len, 1));
  g_autoptr(StSavePlan) plan = g_new0 (StSavePlan, 1);
  gsize n = self->entries->len;
  guint64 data_size = 0;
  guint64 expected_begin = 0;
  gsize header_len;

  /* a remote file's tensors are written from memory: fetch what is not there yet */
  if (!st_file_remote_fetch_all (self, NULL, error))
    return NULL;
  plan->keep_alive = g_ptr_array_new_full (n, g_object_unref);

  for (gsize i = 0; i < n; i++)
    {
      FileEntry *entry = g_ptr_array_index (self->entries, i);
      STTensor *tensor = g_atomic_pointer_get (&entry->tensor);
      StWriterEntry *w = &writer_entries[i];

      w->name = entry->name;
      if (tensor == NULL && entry->external != NULL)
        {
          /* Memory set by a binding, with no object made for it: keep its owner instead. */
          const ExternalData *external = entry->external;

          w->dtype = external->dtype;
          w->shape = external->shape;
          w->n_dims = external->n_dims;
          w->n_bytes = external->n_bytes;
          w->user_data = (gpointer) external->data;
          if (external->owner != NULL)
            g_ptr_array_add (plan->keep_alive, g_object_ref (external->owner));
        }
      else if (tensor != NULL)
        {
          w->dtype = st_tensor_get_dtype (tensor);
          w->shape = st_tensor_get_shape (tensor, &w->n_dims);
          w->n_bytes = st_tensor_get_n_bytes (tensor);
          w->user_data = (gpointer) st_tensor_get_data (tensor, NULL);
          g_ptr_array_add (plan->keep_alive, g_object_ref (tensor));
        }
      else
        {
          /* A loaded tensor nobody asked for: write from the source without making an object. */
          const StHeaderEntry *loaded = entry->loaded;
          const guint8 *base = g_bytes_get_data (self->data, NULL);

          w->dtype = loaded->dtype;
          w->shape = loaded->shape;
          w->n_dims = loaded->n_dims;
          w->n_bytes = loaded->end - loaded->begin;
          w->user_data = (gpointer) (base + loaded->begin);
        }
    }

  /* An async save must not depend on the file: the plan holds what its pieces point into. The names
   * and shapes in writer_entries are only used by st_header_serialize, right now. */
  if (self->data != NULL)
    plan->source = g_bytes_ref (self->data);

  plan->header = st_save_layout (writer_entries, n, self->metadata, min_header_size, &data_size, error);
  if (plan->header == NULL)
    return NULL;
  header_len = g_bytes_get_size (plan->header);

  plan->pieces = g_new (GOutputVector, n + 1);
  plan->pieces[0].buffer = g_bytes_get_data (plan->header, NULL);
  plan->pieces[0].size = header_len;
  plan->n_pieces = 1;

  for (gsize i = 0; i < n; i++)
    {
      const StWriterEntry *w = &writer_entries[i];

      /* st_header_serialize sorted the entries and laid them out end to end in that order. */
      g_assert (w->begin == expected_begin && w->end - w->begin == w->n_bytes);
      expected_begin = w->end;

      if (w->n_bytes == 0)
        continue;
      plan->pieces[plan->n_pieces].buffer = w->user_data;
      plan->pieces[plan->n_pieces].size = (gsize) w->n_bytes;
      if (w->n_bytes >= KERNEL_COPY_MIN_SIZE)
        {
          guint64 offset = 0;
          StFileSource *origin = st_file_source_lookup (w->user_data, (gsize) w->n_bytes, &offset);

          if (origin != NULL)
            {
              if (plan->origins == NULL)
                plan->origins = g_new0 (PieceOrigin, n + 1);
              plan->origins[plan->n_pieces].source = origin;
              plan->origins[plan->n_pieces].offset = offset;
            }
        }
      plan->n_pieces++;
    }
  g_assert (expected_begin == data_size);

  plan->total_size = header_len + data_size;
  return g_steal_pointer (&plan);
}

guint64
st_save_plan_get_size (const StSavePlan *plan)
{
  return plan->total_size;
}

GBytes *
st_save_plan_get_header (const StSavePlan *plan)
{
  return plan->header;
}

gsize
st_save_plan_get_n_pieces (const StSavePlan *plan)
{
  return plan->n_pieces;
}

const GOutputVector *
st_save_plan_get_piece (const StSavePlan *plan,
                        gsize             i)
{
  return &plan->pieces[i];
}

/* Where a writer is in the plan's pieces. */
typedef struct {
  const StSavePlan *plan;
  gsize           piece;
  gsize           offset;  /* into the current piece */
} PlanCursor;

static gboolean
plan_cursor_done (const PlanCursor *cursor)
{
  return cursor->piece >= cursor->plan->n_pieces;
}

/* Fills @vectors with the next bytes to write: at most WRITE_MAX_VECTORS buffers and WRITE_CHUNK_SIZE bytes,
 * no more buffers once WRITE_GATHER_SIZE bytes are in. */
static gboolean
plan_piece_has_origin (const StSavePlan *plan,
                       gsize             piece)
{
  return plan->origins != NULL && plan->origins[piece].source != NULL;
}

/* Fills @vectors with the next bytes to write: at most WRITE_MAX_VECTORS buffers and WRITE_CHUNK_SIZE bytes,
 * no more buffers once WRITE_GATHER_SIZE bytes are in; with @stop_at_origins, none of a later piece that
 * could be copied in the kernel. */
static gsize
plan_cursor_fill_full (const PlanCursor *cursor,
                       gboolean          stop_at_origins,
                       GOutputVector    *vectors,
                       gsize            *out_n_bytes)
{
  gsize n_vectors = 0;
  gsize n_bytes = 0;
  gsize piece = cursor->piece;
  gsize offset = cursor->offset;

  while (piece < cursor->plan->n_pieces && n_vectors < WRITE_MAX_VECTORS && n_bytes < WRITE_GATHER_SIZE &&
         !(stop_at_origins && n_vectors > 0 && offset == 0 && plan_piece_has_origin (cursor->plan, piece)))
    {
      const GOutputVector *p = &cursor->plan->pieces[piece];
      gsize size = MIN (p->size - offset, WRITE_CHUNK_SIZE - n_bytes);

      vectors[n_vectors].buffer = (const guint8 *) p->buffer + offset;
      vectors[n_vectors].size = size;
      n_vectors++;
      n_bytes += size;

      offset += size;
      if (offset == p->size)
        {
          piece++;
          offset = 0;
        }
    }

  *out_n_bytes = n_bytes;
  return n_vectors;
}

static gsize
plan_cursor_fill (const PlanCursor *cursor,
                  GOutputVector    *vectors,
                  gsize            *out_n_bytes)
{
  return plan_cursor_fill_full (cursor, FALSE, vectors, out_n_bytes);
}

static void
plan_cursor_advance (PlanCursor *cursor,
                     gsize       n_bytes)
{
  while (n_bytes > 0)
    {
      gsize left = cursor->plan->pieces[cursor->piece].size - cursor->offset;

      if (n_bytes < left)
        {
          cursor->offset += n_bytes;
          return;
        }
      n_bytes -= left;
      cursor->piece++;
      cursor->offset = 0;
    }
}

/* GOutputVector and struct iovec are the same pair of pointer and size: GIO relies on it as well. */
G_STATIC_ASSERT (sizeof (GOutputVector) == sizeof (struct iovec));
G_STATIC_ASSERT (G_STRUCT_OFFSET (GOutputVector, buffer) == G_STRUCT_OFFSET (struct iovec, iov_base));
G_STATIC_ASSERT (G_STRUCT_OFFSET (GOutputVector, size) == G_STRUCT_OFFSET (struct iovec, iov_len));

/* The kernel-side copies of one save: the sources opened so far, and whether copies still work. */
typedef struct {
  gboolean     enabled;     /* FALSE once the kernel refused a copy in a way that would repeat */
  gboolean     clone_ok;    /* FALSE once sharing extents failed */
  guint64      block_size;  /* of the target */
  GHashTable  *fds;         /* StFileSource * -> fd + 1 (0: could not open), borrowing the sources */
} KernelCopy;

static void
kernel_copy_clear (KernelCopy *copy)
{
  GHashTableIter iter;
  gpointer fd_plus_one;

  if (copy->fds == NULL)
    return;
  g_hash_table_iter_init (&iter, copy->fds);
  while (g_hash_table_iter_next (&iter, NULL, &fd_plus_one))
    if (GPOINTER_TO_INT (fd_plus_one) > 0)
      close (GPOINTER_TO_INT (fd_plus_one) - 1);
  g_clear_pointer (&copy->fds, g_hash_table_unref);
}

/* ST_NO_KERNEL_COPY=1 in the environment makes saves write every byte from memory, as before kernel
 * copies existed: the baseline of the benchmarks (bench/run), and a way around a file system whose
 * copy_file_range() misbehaves. */
static gboolean
kernel_copy_disabled (void)
{
  static gsize disabled = 0;

  if (g_once_init_enter (&disabled))
    {
      const char *value = g_getenv ("ST_NO_KERNEL_COPY");

      g_once_init_leave (&disabled, value != NULL && value[0] != '\0' && strcmp (value, "0") != 0 ? 2 : 1);
    }
  return disabled == 2;
}

/* Copies the piece @piece in the kernel to @fd at @position: the number of bytes copied (0 when the piece
 * must be written from memory). */
static guint64
kernel_copy_piece (const StSavePlan *plan,
                   gsize             piece,
                   int               fd,
                   guint64           position,
                   KernelCopy       *copy)
{
  const PieceOrigin *origin = &plan->origins[piece];
  gsize size = plan->pieces[piece].size;
  gpointer fd_plus_one;
  guint64 copied;
  int src_fd;

  if (!g_hash_table_lookup_extended (copy->fds, origin->source, NULL, &fd_plus_one))
    {
      fd_plus_one = GINT_TO_POINTER (st_file_source_open (origin->source) + 1);
      g_hash_table_insert (copy->fds, origin->source, fd_plus_one);
    }
  src_fd = GPOINTER_TO_INT (fd_plus_one) - 1;
  if (src_fd < 0 || !st_file_source_is_unmodified (origin->source, origin->offset, size))
    return 0;

  copied = st_copy_file_range (src_fd, origin->offset, fd, position, size, copy->block_size, &copy->clone_ok);
  if (copied < size && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOTSUP || errno == EINVAL ||
                        errno == ENOSYS || errno == EBADF || errno == EPERM))
    copy->enabled = FALSE;
  return copied;
}

gboolean
st_save_plan_write_to_fd (const StSavePlan  *plan,
                          int                fd,
                          const char        *path,
                          GCancellable      *cancellable,
                          GError           **error)
{
  g_autofree GOutputVector *vectors = g_new (GOutputVector, WRITE_MAX_VECTORS);
  PlanCursor cursor = { plan, 0, 0 };
  KernelCopy copy = { FALSE, TRUE, 0, NULL };
  guint64 position = 0;
  gboolean ok = TRUE;
  struct stat st;

  /* Kernel copies write at explicit offsets: only into a regular file written from its start. */
  if (plan->origins != NULL && !kernel_copy_disabled () && fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && lseek (fd, 0, SEEK_CUR) == 0)
    {
      copy.enabled = TRUE;
      copy.block_size = st.st_blksize > 0 ? (guint64) st.st_blksize : 4096;
      copy.fds = g_hash_table_new (NULL, NULL);
    }

  while (!plan_cursor_done (&cursor))
    {
      gsize n_bytes;
      gsize n_vectors;
      gssize written;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }

      if (copy.enabled && cursor.offset == 0 && plan_piece_has_origin (plan, cursor.piece))
        {
          guint64 copied = kernel_copy_piece (plan, cursor.piece, fd, position, &copy);

          if (copied > 0)
            {
              position += copied;
              plan_cursor_advance (&cursor, (gsize) copied);
              if (lseek (fd, (off_t) position, SEEK_SET) < 0)
                {
                  st_set_io_error_from_errno (error, errno, "Could not write", path);
                  ok = FALSE;
                  break;
                }
              continue;
            }
        }

      n_vectors = plan_cursor_fill_full (&cursor, copy.enabled, vectors, &n_bytes);
      written = writev (fd, (const struct iovec *) vectors, (int) n_vectors);
      if (written < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          st_set_io_error_from_errno (error, errsv, "Could not write", path);
          ok = FALSE;
          break;
        }

      position += (guint64) written;
      plan_cursor_advance (&cursor, (gsize) written);
    }

  kernel_copy_clear (&copy);
  return ok;
}

static gboolean
write_plan_to_stream (const StSavePlan  *plan,
                      GOutputStream     *stream,
                      GCancellable      *cancellable,
                      GError           **error)
{
  g_autofree GOutputVector *vectors = g_new (GOutputVector, WRITE_MAX_VECTORS);
  PlanCursor cursor = { plan, 0, 0 };

  while (!plan_cursor_done (&cursor))
    {
      gsize n_bytes;
      gsize n_vectors;

      /* Not every stream looks at the cancellable (memory streams do not): look between chunks. */
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      n_vectors = plan_cursor_fill (&cursor, vectors, &n_bytes);
      if (!g_output_stream_writev_all (stream, vectors, n_vectors, NULL, cancellable, error))
        return FALSE;

      plan_cursor_advance (&cursor, n_bytes);
    }

  return TRUE;
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
    ok = write_plan_to_stream (job->plan, job->stream, cancellable, &error);

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
  guint8 *buffer;
  gsize offset = 0;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  plan = st_save_plan_new (self, error);
  if (plan == NULL)
    return NULL;

  buffer = plan->total_size <= G_MAXSIZE ? g_try_malloc ((gsize) plan->total_size) : NULL;
  if (buffer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "Could not allocate %" G_GUINT64_FORMAT " bytes for the file", plan->total_size);
      return NULL;
    }

  for (gsize i = 0; i < plan->n_pieces; i++)
    {
      memcpy (buffer + offset, plan->pieces[i].buffer, plan->pieces[i].size);
      offset += plan->pieces[i].size;
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
  return write_plan_to_stream (plan, stream, cancellable, error);
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
  if (!write_plan_to_stream (plan, G_OUTPUT_STREAM (stream), cancellable, error))
    {
      /* Closing with a cancelled cancellable makes GIO drop the new content and keep the old. */
      g_autoptr(GCancellable) abandon = g_cancellable_new ();

      g_cancellable_cancel (abandon);
      g_output_stream_close (G_OUTPUT_STREAM (stream), abandon, NULL);
      return FALSE;
    }

  return g_output_stream_close (G_OUTPUT_STREAM (stream), cancellable, error);
}
