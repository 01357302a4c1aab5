/* st-writer.c: writing a safetensors file tensor by tensor, in bounded memory
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The tensors are declared first (names, dtypes, shapes) with the metadata: that fixes the header and
 * every tensor's offset, laid out by the same serializer a whole-file save uses, so that the output is
 * byte for byte what st_file_save_to_path() writes for the same tensors. Opening writes the header into
 * a new file beside the target (st-pending-file.c: no name until complete); each chunk of a tensor's
 * bytes is then written with pwrite() at its place, in whatever order the tensors come, and nothing is
 * buffered. Finishing checks every tensor is complete and renames the file over the target.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "st-error.h"
#include "st-dtype-private.h"
#include "st-file-source-private.h"
#include "st-io-private.h"
#include "st-pending-file-private.h"
#include "st-save-plan-private.h"
#include "st-tensor-name-private.h"
#include "st-writer.h"

/* Writes are cut in chunks of at most this size, with a look at the cancellable between them. */
#define WRITE_CHUNK_SIZE ((gsize) 64 * 1024 * 1024)

typedef enum {
  STATE_DECLARING,
  STATE_OPEN,
  STATE_FINISHED,
  STATE_CLOSED,
} WriterState;

typedef struct {
  char    *name;
  STDType  dtype;
  guint    n_dims;
  gint64  *shape;
  guint64  n_bytes;
  guint64  offset;   /* of the tensor's first byte in the file, once open */
  guint64  written;  /* bytes written so far, from the first */
} WriterTensor;

struct _STWriter
{
  GObject parent_instance;

  WriterState    state;
  GPtrArray     *tensors;      /* WriterTensor *, in the order they were added, owning */
  GHashTable    *by_name;      /* name -> WriterTensor *, borrowing */
  GHashTable    *metadata;     /* char * -> char *; NULL when no value was set */
  guint64        min_header_size;

  StPendingFile *pending;      /* while open */
  char          *target;       /* the file the pending file replaces, while open */
  STSaveFlags    flags;
  GCancellable  *cancellable;  /* nullable */
  guint64        size;         /* of the whole file, once open */
  guint64        written;      /* header and data bytes written */
  gboolean       no_kernel_copy;  /* set when a kernel copy failed in a way that will not change */
  gboolean       no_clone;        /* set when sharing extents failed once */
};

G_DEFINE_FINAL_TYPE (STWriter, st_writer, G_TYPE_OBJECT)

static void
writer_tensor_free (WriterTensor *tensor)
{
  g_free (tensor->name);
  g_free (tensor->shape);
  g_free (tensor);
}

static void
discard (STWriter *self)
{
  g_clear_pointer (&self->pending, st_pending_file_free);
  g_clear_pointer (&self->target, g_free);
  g_clear_object (&self->cancellable);
}

static void
st_writer_finalize (GObject *object)
{
  STWriter *self = ST_WRITER (object);

  discard (self);
  g_hash_table_unref (self->by_name);
  g_ptr_array_unref (self->tensors);
  g_clear_pointer (&self->metadata, g_hash_table_unref);

  G_OBJECT_CLASS (st_writer_parent_class)->finalize (object);
}

static void
st_writer_class_init (STWriterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = st_writer_finalize;
}

static void
st_writer_init (STWriter *self)
{
  self->tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) writer_tensor_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
}

/**
 * STWriter:
 *
 * Writes a safetensors file one tensor at a time, in chunks, in bounded memory: for files
 * larger than memory, and for tensors produced one after another (converted from another
 * format, quantized, received from another process).
 *
 * Declare every tensor first with [method@ST.Writer.add_tensor] (name, dtype, shape) and
 * the metadata with [method@ST.Writer.set_metadata_value]; then [method@ST.Writer.open]
 * the target; then give each tensor's bytes with [method@ST.Writer.write] (or
 * [method@ST.Writer.write_bytes], or copy them from another file with
 * [method@ST.Writer.write_from_fd]), in chunks of any size, each chunk following the
 * previous one of the same tensor, the tensors in any order; then
 * [method@ST.Writer.finish].
 *
 * The file is byte for byte what [method@ST.File.save_to_path] writes for the same tensors
 * and metadata, and is replaced as atomically: it is written beside the target with no name
 * (or a short hidden one) and renamed over the target only by a successful
 * [method@ST.Writer.finish]. A tensor missing or incomplete at that point, an I/O error, a
 * cancellation, [method@ST.Writer.close], or the last reference dropped before finishing
 * leave the target as it was and nothing behind. Each chunk is written at its place in the
 * file as it comes, and nothing is kept: the memory used is that of the caller's chunk.
 *
 * The target must be a regular file or a path that does not exist yet: tensors are written
 * at their offsets, which a device, a FIFO or a socket cannot take.
 *
 * A writer is used from one thread at a time.
 *
 * Since: 1.0
 */

/**
 * st_writer_new:
 *
 * Makes a writer with no tensors and no metadata.
 *
 * Returns: (transfer full): a new writer
 *
 * Since: 1.0
 */
STWriter *
st_writer_new (void)
{
  return g_object_new (ST_TYPE_WRITER, NULL);
}

static gboolean
check_declaring (STWriter    *self,
                 const char  *what,
                 GError     **error)
{
  if (self->state == STATE_DECLARING)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING,
               "Could not %s: the writer is already open; declare everything before st_writer_open()", what);
  return FALSE;
}

/**
 * st_writer_add_tensor:
 * @self: a writer
 * @name: the tensor name: UTF-8, not `__metadata__`
 * @dtype: the element type
 * @shape: (array length=n_dims) (nullable): the dimensions; %NULL only when @n_dims is 0
 * @n_dims: the number of dimensions (0 for a scalar)
 * @error: return location for a #GError
 *
 * Declares a tensor of the file, before [method@ST.Writer.open]. Its place in the file is
 * the one a whole-file save gives it (by dtype, then name), whatever the order of the
 * calls.
 *
 * Fails with %ST_ERROR_INVALID_NAME for a name that cannot be stored,
 * %ST_ERROR_DUPLICATE_NAME for a name already added, the errors of
 * [ctor@ST.Tensor.new] for a bad dtype or shape, and %G_IO_ERROR_PENDING once open.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_writer_add_tensor (STWriter      *self,
                      const char    *name,
                      STDType        dtype,
                      const gint64  *shape,
                      guint          n_dims,
                      GError       **error)
{
  WriterTensor *tensor;
  guint64 n_bytes = 0;

  g_return_val_if_fail (ST_IS_WRITER (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (shape != NULL || n_dims == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_declaring (self, "add a tensor", error) || !st_file_check_tensor_name (name, error))
    return FALSE;

  if (g_hash_table_contains (self->by_name, name))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_DUPLICATE_NAME, "The tensor “%s” was already added to the writer",
                   name);
      return FALSE;
    }

  if (!st_dtype_compute_n_bytes (dtype, shape, n_dims, &n_bytes, error))
    return FALSE;

  tensor = g_new0 (WriterTensor, 1);
  tensor->name = g_strdup (name);
  tensor->dtype = dtype;
  tensor->n_dims = n_dims;
  tensor->shape = n_dims > 0 ? g_memdup2 (shape, sizeof (gint64) * n_dims) : NULL;
  tensor->n_bytes = n_bytes;
  g_ptr_array_add (self->tensors, tensor);
  g_hash_table_insert (self->by_name, tensor->name, tensor);
  return TRUE;
}

/**
 * st_writer_set_metadata_value:
 * @self: a writer
 * @key: a metadata key, UTF-8
 * @value: (nullable): its value, UTF-8, or %NULL to remove the key
 *
 * Sets or removes one metadata entry, before [method@ST.Writer.open]. A writer on which no
 * value was ever set writes no `__metadata__`; one whose values were all removed writes
 * `"__metadata__":{}`, as [method@ST.File.set_metadata_value] does.
 *
 * Since: 1.0
 */
void
st_writer_set_metadata_value (STWriter   *self,
                              const char *key,
                              const char *value)
{
  g_return_if_fail (ST_IS_WRITER (self));
  g_return_if_fail (self->state == STATE_DECLARING);
  g_return_if_fail (key != NULL && g_utf8_validate (key, -1, NULL));
  g_return_if_fail (value == NULL || g_utf8_validate (value, -1, NULL));

  if (self->metadata == NULL)
    {
      if (value == NULL)
        return;
      self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    }
  if (value == NULL)
    g_hash_table_remove (self->metadata, key);
  else
    g_hash_table_replace (self->metadata, g_strdup (key), g_strdup (value));
}

/**
 * st_writer_set_min_header_size:
 * @self: a writer
 * @n_bytes: the least size of the JSON header, in bytes (0: as small as it can be)
 *
 * Reserves room in the header, before [method@ST.Writer.open]: the JSON is padded with
 * spaces to at least @n_bytes (rounded up to a multiple of 8, at most the 100,000,000 bytes
 * a reader accepts). Spaces after the JSON are whitespace to every reader, Hugging Face's
 * included. A later edit of the metadata that fits in that room rewrites the header only
 * (`st-tool metadata --set`), and a header padded to the file system's block size puts the
 * data at a block-aligned offset. With a value other than 0 the output differs from what
 * [method@ST.File.save_to_path] writes by those spaces.
 *
 * Since: 1.0
 */
void
st_writer_set_min_header_size (STWriter *self,
                               guint64   n_bytes)
{
  g_return_if_fail (ST_IS_WRITER (self));
  g_return_if_fail (self->state == STATE_DECLARING);

  self->min_header_size = n_bytes;
}

/* Writes @len bytes at @offset of the pending file, in chunks, looking at the cancellable between them. */
static gboolean
write_at (STWriter      *self,
          const guint8  *data,
          gsize          len,
          guint64        offset,
          GError       **error)
{
  int fd = st_pending_file_get_fd (self->pending);
  gsize written = st_pwrite_all (fd, data, len, offset, WRITE_CHUNK_SIZE, self->cancellable);

  self->written += (guint64) written;
  if (written == len)
    return TRUE;

  if (errno == ECANCELED && g_cancellable_set_error_if_cancelled (self->cancellable, error))
    return FALSE;
  st_set_io_error_from_errno (error, errno, "Could not write", self->target);
  return FALSE;
}

/**
 * st_writer_open:
 * @self: a writer
 * @path: (type filename): where to save
 * @flags: how to write
 * @cancellable: (nullable): a #GCancellable, looked at by every later call up to
 *   [method@ST.Writer.finish]
 * @error: return location for a #GError
 *
 * Starts writing the file to @path: checks the header against every limit the reader
 * enforces, creates the new file beside @path (the target is not touched until
 * [method@ST.Writer.finish]), reserves its blocks (a disk too small fails here) and writes
 * the header. After this, tensors and metadata can no longer be declared.
 *
 * A target that exists keeps its mode, owner and group, as with
 * [method@ST.File.save_to_path]; with %ST_SAVE_FLAGS_SYNC the file and its directory are
 * fsync()ed by [method@ST.Writer.finish].
 *
 * Fails with %G_IO_ERROR_NOT_REGULAR_FILE when @path exists and is not a regular file,
 * with the errors of [method@ST.File.save_to_path] otherwise, and with %G_IO_ERROR_PENDING
 * when the writer was already opened.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_writer_open (STWriter      *self,
                const char    *path,
                STSaveFlags    flags,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autofree StWriterEntry *entries = NULL;
  g_autoptr(GBytes) header = NULL;
  g_autoptr(StPendingFile) pending = NULL;
  g_autofree char *target = NULL;
  gsize n = self->tensors->len;
  guint64 data_size = 0;
  gsize header_len;
  gboolean special = FALSE;

  g_return_val_if_fail (ST_IS_WRITER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_declaring (self, "open the writer", error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  entries = g_new0 (StWriterEntry, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    {
      WriterTensor *tensor = g_ptr_array_index (self->tensors, i);

      entries[i].name = tensor->name;
      entries[i].dtype = tensor->dtype;
      entries[i].shape = tensor->shape;
      entries[i].n_dims = tensor->n_dims;
      entries[i].n_bytes = tensor->n_bytes;
      entries[i].user_data = tensor;
    }
  header = st_save_layout (entries, n, self->metadata, self->min_header_size, &data_size, error);
  if (header == NULL)
    return FALSE;
  header_len = g_bytes_get_size (header);
  for (gsize i = 0; i < n; i++)
    ((WriterTensor *) entries[i].user_data)->offset = header_len + entries[i].begin;

  pending = st_pending_file_new_for_path (path, &special, &target, error);
  if (pending == NULL)
    {
      if (special)
        {
          g_autofree char *shown = g_filename_display_name (path);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                       "Could not write to “%s”: the writer places each tensor at its offset, which needs a "
                       "regular file (save a whole ST.File to write to a device, a FIFO or a socket)", shown);
        }
      return FALSE;
    }

  if (!st_pending_file_reserve (pending, header_len + data_size, target, error))
    return FALSE;
  self->size = header_len + data_size;

  self->pending = g_steal_pointer (&pending);
  self->target = g_steal_pointer (&target);
  self->flags = flags;
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  self->state = STATE_OPEN;

  if (!write_at (self, g_bytes_get_data (header, NULL), header_len, 0, error))
    {
      discard (self);
      self->state = STATE_CLOSED;
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_open (STWriter    *self,
            const char  *what,
            GError     **error)
{
  switch (self->state)
    {
    case STATE_OPEN:
      return TRUE;
    case STATE_DECLARING:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "Could not %s: the writer is not open yet", what);
      return FALSE;
    case STATE_FINISHED:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "Could not %s: the writer has finished", what);
      return FALSE;
    case STATE_CLOSED:
    default:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                   "Could not %s: the writer was closed (after an error, a cancellation or st_writer_close()) "
                   "and its file discarded", what);
      return FALSE;
    }
}

/**
 * st_writer_write:
 * @self: a writer
 * @name: the tensor the bytes belong to
 * @data: (array length=len) (element-type guint8) (nullable): the next bytes of the tensor
 * @len: the length of @data
 * @error: return location for a #GError
 *
 * Writes the next @len bytes of the tensor @name (row-major, little-endian, packed, as
 * in the file), after those already written for it, straight into the file: nothing is
 * copied or kept. Chunks may be of any size; tensors may come in any order, and chunks of
 * different tensors may alternate.
 *
 * Fails with %ST_ERROR_NOT_FOUND for a tensor that was not declared and
 * %ST_ERROR_SIZE_MISMATCH for bytes past the tensor's end (nothing is written then, and
 * the writer stays usable); with %G_IO_ERROR_NOT_INITIALIZED before
 * [method@ST.Writer.open] and %G_IO_ERROR_CLOSED after [method@ST.Writer.finish] or
 * [method@ST.Writer.close]. An I/O error or a cancellation closes the writer and
 * discards the new file: the target stays as it was.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_writer_write (STWriter      *self,
                 const char    *name,
                 const guint8  *data,
                 gsize          len,
                 GError       **error)
{
  WriterTensor *tensor;

  g_return_val_if_fail (ST_IS_WRITER (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_open (self, "write", error))
    return FALSE;

  tensor = g_hash_table_lookup (self->by_name, name);
  if (tensor == NULL)
    {
      g_autofree char *shown = g_utf8_make_valid (name, -1);

      g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND, "No tensor “%s” was declared to the writer", shown);
      return FALSE;
    }

  if (len > tensor->n_bytes - tensor->written)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH,
                   "The tensor “%s” has %" G_GUINT64_FORMAT " bytes: %" G_GUINT64_FORMAT " are written, and "
                   "%" G_GSIZE_FORMAT " more do not fit", tensor->name, tensor->n_bytes, tensor->written, len);
      return FALSE;
    }

  if (!write_at (self, data, len, tensor->offset + tensor->written, error))
    {
      discard (self);
      self->state = STATE_CLOSED;
      return FALSE;
    }
  tensor->written += len;
  return TRUE;
}

/**
 * st_writer_write_bytes:
 * @self: a writer
 * @name: the tensor the bytes belong to
 * @bytes: the next bytes of the tensor
 * @error: return location for a #GError
 *
 * Writes @bytes as [method@ST.Writer.write] does: for bindings.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_writer_write_bytes (STWriter    *self,
                       const char  *name,
                       GBytes      *bytes,
                       GError     **error)
{
  gsize len = 0;
  const guint8 *data;

  g_return_val_if_fail (bytes != NULL, FALSE);

  data = g_bytes_get_data (bytes, &len);
  return st_writer_write (self, name, data, len, error);
}

/**
 * st_writer_write_from_address:
 * @self: a writer
 * @name: the tensor the bytes belong to
 * @data_address: the address of the bytes, as an integer
 * @n_bytes: how many bytes to write
 * @error: return location for a #GError
 *
 * Writes @n_bytes bytes at @data_address as [method@ST.Writer.write] does, without a
 * copy: for bindings that hold the memory of an array (Python passes
 * `tensor.data_ptr()`). The memory is read before this returns.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_writer_write_from_address (STWriter    *self,
                              const char  *name,
                              guint64      data_address,
                              guint64      n_bytes,
                              GError     **error)
{
  g_return_val_if_fail (ST_IS_WRITER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if ((data_address == 0 && n_bytes > 0) || data_address > G_MAXSIZE || n_bytes > G_MAXSIZE - data_address)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%" G_GUINT64_FORMAT " bytes at address 0x%" G_GINT64_MODIFIER "x cannot be read",
                   n_bytes, data_address);
      return FALSE;
    }
  return st_writer_write (self, name, (const guint8 *) (guintptr) data_address, (gsize) n_bytes, error);
}

/* The part of a copy from another file that the kernel could not do: read into a bounded buffer, then
 * written. */
#define FD_COPY_BUFFER_SIZE ((gsize) 1024 * 1024)

static gboolean
copy_through_memory (STWriter      *self,
                     int            fd,
                     guint64        offset,
                     guint64        n_bytes,
                     guint64        position,
                     GError       **error)
{
  g_autofree guint8 *buffer = g_malloc (MIN (n_bytes, FD_COPY_BUFFER_SIZE));
  guint64 done = 0;

  while (done < n_bytes)
    {
      gsize len = (gsize) MIN (n_bytes - done, FD_COPY_BUFFER_SIZE);
      gsize got = st_pread_all (fd, buffer, len, offset + done, len, self->cancellable);

      if (got < len)
        {
          if (errno == ECANCELED && g_cancellable_set_error_if_cancelled (self->cancellable, error))
            return FALSE;
          if (errno == 0)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                         "Could not read %" G_GUINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT " of the "
                         "source file: it ends first", n_bytes, offset);
          else
            st_set_io_error_from_errno (error, errno, "Could not read from the source of", self->target);
          return FALSE;
        }
      if (!write_at (self, buffer, len, position + done, error))
        return FALSE;
      done += len;
    }
  return TRUE;
}

/**
 * st_writer_write_from_fd:
 * @self: a writer
 * @name: the tensor the bytes belong to
 * @fd: a file descriptor open for reading, on a regular file
 * @offset: where the bytes begin in @fd
 * @n_bytes: how many bytes to copy
 * @error: return location for a #GError
 *
 * Writes the next @n_bytes bytes of the tensor @name, as [method@ST.Writer.write] does,
 * taking them from the file @fd at @offset: the kernel copies them (copy_file_range()), or
 * shares their extents where the file system can (XFS with reflink, btrfs), so that they
 * pass through no memory of the process. Where the kernel cannot copy between the two
 * files (another file system on an older kernel), the bytes are read and written through
 * a buffer of 1 MiB. @fd is only read with positioned reads: its file offset is not moved.
 *
 * This is how a tool assembles a tensor from parts that other files hold, contiguous
 * slices in one call each, strided ones row by row, in memory that does not grow with the
 * tensor.
 *
 * Fails as [method@ST.Writer.write] does, and with %G_IO_ERROR_PARTIAL_INPUT when @fd ends
 * before @offset + @n_bytes (the writer is closed then, as after an I/O error).
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.2
 */
gboolean
st_writer_write_from_fd (STWriter    *self,
                         const char  *name,
                         int          fd,
                         guint64      offset,
                         guint64      n_bytes,
                         GError     **error)
{
  WriterTensor *tensor;
  guint64 position;
  guint64 copied = 0;
  int dst_fd;

  g_return_val_if_fail (ST_IS_WRITER (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_open (self, "write", error))
    return FALSE;

  tensor = g_hash_table_lookup (self->by_name, name);
  if (tensor == NULL)
    {
      g_autofree char *shown = g_utf8_make_valid (name, -1);

      g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND, "No tensor “%s” was declared to the writer", shown);
      return FALSE;
    }
  if (n_bytes > tensor->n_bytes - tensor->written)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH,
                   "The tensor “%s” has %" G_GUINT64_FORMAT " bytes: %" G_GUINT64_FORMAT " are written, and "
                   "%" G_GUINT64_FORMAT " more do not fit", tensor->name, tensor->n_bytes, tensor->written,
                   n_bytes);
      return FALSE;
    }
  if (n_bytes > G_MAXINT64 - offset)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%" G_GUINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT " are past any file's end",
                   n_bytes, offset);
      return FALSE;
    }

  position = tensor->offset + tensor->written;
  dst_fd = st_pending_file_get_fd (self->pending);
  /* The kernel copies in slices, so that a cancellation is seen between them. */
  while (copied < n_bytes && !self->no_kernel_copy)
    {
      guint64 len = MIN (n_bytes - copied, (guint64) WRITE_CHUNK_SIZE);
      gboolean clone_ok = !self->no_clone;
      guint64 done;

      if (g_cancellable_set_error_if_cancelled (self->cancellable, error))
        goto failed;
      errno = 0;
      /* Extents are shared on 4 KiB blocks, the common size; a file system with larger ones refuses
       * the clone, and the copy goes on without it. */
      done = st_copy_file_range (fd, offset + copied, dst_fd, position + copied, len, 4096, &clone_ok);
      self->no_clone = !clone_ok;
      copied += done;
      self->written += done;
      if (done == len)
        continue;
      /* Not between these files (another file system on an older kernel, a file system without it):
       * never again in this writer. Any other failure goes through memory too, once, which names it
       * precisely (a source that ended, a full disk). */
      if (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOTSUP || errno == EINVAL || errno == ENOSYS ||
          errno == EPERM || errno == EBADF)
        self->no_kernel_copy = TRUE;
      break;
    }
  if (copied < n_bytes && !copy_through_memory (self, fd, offset + copied, n_bytes - copied,
                                                position + copied, error))
    goto failed;

  tensor->written += n_bytes;
  return TRUE;

failed:
  discard (self);
  self->state = STATE_CLOSED;
  return FALSE;
}

/**
 * st_writer_finish:
 * @self: a writer
 * @error: return location for a #GError
 *
 * Completes the file: checks that every declared tensor got all its bytes, then gives the
 * new file its name, replacing the target atomically (with %ST_SAVE_FLAGS_SYNC, after an
 * fsync() of the file, and with one of the directory after).
 *
 * Fails with %ST_ERROR_SIZE_MISMATCH naming the first tensor (in file order) that is
 * incomplete, with %G_IO_ERROR_CANCELLED when the cancellable given to
 * [method@ST.Writer.open] was cancelled, or with an I/O error. On any failure the new file
 * is discarded and the target left as it was. The writer is closed either way.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_writer_finish (STWriter  *self,
                  GError   **error)
{
  WriterTensor *incomplete = NULL;
  gboolean ok;

  g_return_val_if_fail (ST_IS_WRITER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_open (self, "finish", error))
    return FALSE;

  for (guint i = 0; i < self->tensors->len; i++)
    {
      WriterTensor *tensor = g_ptr_array_index (self->tensors, i);

      if (tensor->written != tensor->n_bytes && (incomplete == NULL || tensor->offset < incomplete->offset))
        incomplete = tensor;
    }

  if (incomplete != NULL)
    {
      g_autofree char *shown = g_filename_display_name (self->target);

      g_set_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH,
                   "The tensor “%s” got %" G_GUINT64_FORMAT " of its %" G_GUINT64_FORMAT " bytes: “%s” was "
                   "left as it was", incomplete->name, incomplete->written, incomplete->n_bytes, shown);
      ok = FALSE;
    }
  else
    {
      ok = !g_cancellable_set_error_if_cancelled (self->cancellable, error) &&
           st_pending_file_commit (self->pending, self->target, self->flags, error);
      if (ok && (self->flags & ST_SAVE_FLAGS_SYNC))
        ok = st_sync_directory (st_pending_file_get_directory (self->pending), error);
    }

  /* Once committed the file is the target's: a failed directory sync does not undo that. */
  self->state = ok || st_pending_file_is_committed (self->pending) ? STATE_FINISHED : STATE_CLOSED;
  discard (self);
  return ok;
}

/**
 * st_writer_close:
 * @self: a writer
 *
 * Abandons an unfinished file: the new file is discarded, the target stays as it was, and
 * later writes fail with %G_IO_ERROR_CLOSED. Does nothing on a writer that finished or
 * was never opened. Dropping the last reference on an unfinished writer does the same.
 *
 * Since: 1.0
 */
void
st_writer_close (STWriter *self)
{
  g_return_if_fail (ST_IS_WRITER (self));

  if (self->state != STATE_OPEN)
    return;
  discard (self);
  self->state = STATE_CLOSED;
}

/**
 * st_writer_get_size:
 * @self: a writer
 *
 * The size of the whole file, header included, once [method@ST.Writer.open] has laid it
 * out: for progress reports, with [method@ST.Writer.get_bytes_written].
 *
 * Returns: the size in bytes, or 0 before [method@ST.Writer.open]
 *
 * Since: 1.0
 */
guint64
st_writer_get_size (STWriter *self)
{
  g_return_val_if_fail (ST_IS_WRITER (self), 0);

  return self->size;
}

/**
 * st_writer_get_bytes_written:
 * @self: a writer
 *
 * How many bytes of the file were written so far, header included.
 *
 * Returns: the number of bytes written
 *
 * Since: 1.0
 */
guint64
st_writer_get_bytes_written (STWriter *self)
{
  g_return_val_if_fail (ST_IS_WRITER (self), 0);

  return self->written;
}

/**
 * st_writer_get_tensor_remaining:
 * @self: a writer
 * @name: a declared tensor
 *
 * How many bytes of the tensor @name are still to be written.
 *
 * Returns: the number of bytes, or 0 for a name that was not declared
 *
 * Since: 1.0
 */
guint64
st_writer_get_tensor_remaining (STWriter   *self,
                                const char *name)
{
  WriterTensor *tensor;

  g_return_val_if_fail (ST_IS_WRITER (self), 0);
  g_return_val_if_fail (name != NULL, 0);

  tensor = g_hash_table_lookup (self->by_name, name);
  return tensor != NULL ? tensor->n_bytes - tensor->written : 0;
}
