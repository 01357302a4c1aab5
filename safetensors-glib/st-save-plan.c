/* st-save-plan.c: what a save writes, and writing it to a descriptor, a path or a stream
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A save starts with a plan, made in the caller's thread: the serialized header and the list of byte
 * ranges to write after it, in order, with references on everything they point into. The plan is a
 * snapshot: an async save does not look at the file again, and the tensors' memory is written as is,
 * with no intermediate copy. STFile makes its plans in st-file-save.c; this file knows nothing of
 * STFile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "st-error.h"
#include "st-file-source-private.h"
#include "st-header-private.h"
#include "st-io-private.h"
#include "st-pending-file-private.h"
#include "st-save-plan-private.h"

/* Writes are cut in chunks of at most this size, with a look at the cancellable between them. */
#define WRITE_CHUNK_SIZE ((gsize) 64 * 1024 * 1024)

/* How many buffers one writev() takes (POSIX guarantees at least 16; Linux takes 1024). */
#define WRITE_MAX_VECTORS 1024

/* Small tensors are gathered into one writev() until it carries at least this much; a large tensor then
 * goes out in a call of its own. Gathering whole 64 MiB chunks of large tensors into one call made saves
 * from torch's memory slower and far more erratic on the benchmark machine (bench/run, gpt2) than one
 * write per tensor. */
#define WRITE_GATHER_SIZE ((gsize) 1024 * 1024)

/* Pieces at least this large that are slices of a mapped file are copied in the kernel (st-file-source.c);
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
st_save_plan_new_for_entries (StWriterEntry  *writer_entries,
                              gsize           n,
                              GHashTable     *metadata,
                              guint64         min_header_size,
                              GPtrArray      *keep_alive,
                              GBytes         *source,
                              GError        **error)
{
  g_autoptr(StSavePlan) plan = g_new0 (StSavePlan, 1);
  guint64 data_size = 0;
  guint64 expected_begin = 0;
  gsize header_len;

  plan->keep_alive = keep_alive;
  if (source != NULL)
    plan->source = g_bytes_ref (source);

  plan->header = st_save_layout (writer_entries, n, metadata, min_header_size, &data_size, error);
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

/* writev() fails with EFAULT when memory it reads from is a mapping of a file that shrank since it was
 * mapped (a reader would get SIGBUS there): the fault is the source's, not the target's. Names the
 * source file of the first of @vectors that lies past its file's end now. */
static void
set_write_error (const GOutputVector  *vectors,
                 gsize                 n_vectors,
                 int                   errsv,
                 const char           *path,
                 GError              **error)
{
  for (gsize i = 0; errsv == EFAULT && i < n_vectors; i++)
    {
      guint64 offset = 0;
      g_autoptr(StFileSource) source = NULL;
      g_autofree char *display_source = NULL;
      g_autofree char *display_target = NULL;
      struct stat st;

      if (vectors[i].size == 0)
        continue;
      source = st_file_source_lookup (vectors[i].buffer, vectors[i].size, &offset);
      if (source == NULL ||
          (stat (st_file_source_get_path (source), &st) == 0 && (guint64) st.st_size >= offset + vectors[i].size))
        continue;

      display_source = g_filename_display_name (st_file_source_get_path (source));
      display_target = g_filename_display_name (path);
      g_set_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER,
                   "Could not read the tensor data of “%s” to write “%s”: the file is shorter than when it was "
                   "opened (another program truncated or replaced it in place)", display_source, display_target);
      return;
    }
  st_set_io_error_from_errno (error, errsv, "Could not write", path);
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
          set_write_error (vectors, n_vectors, errsv, path, error);
          ok = FALSE;
          break;
        }

      position += (guint64) written;
      plan_cursor_advance (&cursor, (gsize) written);
    }

  kernel_copy_clear (&copy);
  return ok;
}

gboolean
st_save_plan_write_to_stream (const StSavePlan  *plan,
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

/* Opens a target that is not a regular file for writing: a Unix socket is connected to, anything else
 * (a character or block device, a FIFO) opened. */
static int
open_special (const char        *path,
              const struct stat *st)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int fd;

  if (!S_ISSOCK (st->st_mode))
    return open (path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

  if (strlen (path) >= sizeof address.sun_path)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (address.sun_path, path);

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (const struct sockaddr *) &address, sizeof address) != 0)
    {
      int errsv = errno;

      close (fd);
      errno = errsv;
      return -1;
    }
  return fd;
}

static gboolean
write_plan_to_special (const StSavePlan   *plan,
                       const char         *path,
                       const struct stat  *st,
                       STSaveFlags         flags,
                       GCancellable       *cancellable,
                       GError            **error)
{
  int fd = open_special (path, st);
  gboolean ok;

  if (fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not open for writing", path);
      return FALSE;
    }

  ok = st_save_plan_write_to_fd (plan, fd, path, cancellable, error);
  /* Devices and pipes have nothing to sync, and say so with EINVAL (or EROFS, ENOTSUP). */
  if (ok && (flags & ST_SAVE_FLAGS_SYNC) && fsync (fd) != 0 &&
      errno != EINVAL && errno != EROFS && errno != ENOTSUP)
    {
      st_set_io_error_from_errno (error, errno, "Could not write to disk (fsync)", path);
      ok = FALSE;
    }
  if (close (fd) != 0 && ok)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", path);
      ok = FALSE;
    }
  return ok;
}

gboolean
st_save_plan_write_to_path (const StSavePlan  *plan,
                            const char        *path,
                            STSaveFlags        flags,
                            GCancellable      *cancellable,
                            GError           **error)
{
  g_autoptr(StPendingFile) pending = NULL;
  g_autofree char *target = NULL;
  gboolean special = FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  pending = st_pending_file_new_for_path (path, &special, &target, error);
  if (pending == NULL)
    {
      struct stat st;

      if (!special)
        return FALSE;
      if (stat (path, &st) != 0)
        {
          st_set_io_error_from_errno (error, errno, "Could not save to", path);
          return FALSE;
        }
      return write_plan_to_special (plan, path, &st, flags, cancellable, error);
    }

  if (!st_pending_file_reserve (pending, st_save_plan_get_size (plan), target, error) ||
      !st_save_plan_write_to_fd (plan, st_pending_file_get_fd (pending), target, cancellable, error))
    return FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  if (!st_pending_file_commit (pending, target, flags, error))
    return FALSE;

  return !(flags & ST_SAVE_FLAGS_SYNC) || st_sync_directory (st_pending_file_get_directory (pending), error);
}
