/* st-file-load.c: loading a safetensors file from a path, memory, a GFile or a stream
 *
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
#include "st-tensor-private.h"
#include "st-file.h"

/* Reading a stream: buffers of up to this size are allocated at once; larger ones grow as bytes
 * arrive, so that a stream that only claims a size cannot make us allocate it. */
#define READ_TRUSTED_SIZE ((gsize) 16 * 1024 * 1024)

/* Loading */

/* Makes the file from a parsed header and the data buffer it describes. Takes @header and @data. */
static STFile *
file_new_loaded (StHeader *header,
                 guint64   header_size,
                 GBytes   *data)
{
  STFile *self = g_object_new (ST_TYPE_FILE, NULL);
  GPtrArray *header_entries = header->entries;

  self->header = header;
  self->header_size = header_size;
  self->data = data;
  self->metadata = g_steal_pointer (&header->metadata);

  for (guint i = 0; i < header_entries->len; i++)
    {
      const StHeaderEntry *loaded = g_ptr_array_index (header_entries, i);
      FileEntry *entry = g_new0 (FileEntry, 1);

      entry->name = loaded->name;
      entry->loaded = loaded;
      g_ptr_array_add (self->entries, entry);
      g_hash_table_insert (self->by_name, (gpointer) entry->name, entry);
    }

  return self;
}

static gboolean
check_data_size (const StHeader  *header,
                 guint64          data_size,
                 GError         **error)
{
  if (header->data_size == data_size)
    return TRUE;

  g_set_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER,
               "The tensors cover %" G_GUINT64_FORMAT " bytes but the data buffer has %" G_GUINT64_FORMAT,
               header->data_size, data_size);
  return FALSE;
}

/**
 * st_file_new_from_bytes:
 * @bytes: the whole content of a safetensors file
 *
 * Loads a safetensors file from memory, without copying it: the tensors are slices of
 * @bytes, and keep it alive.
 *
 * The input is checked against the whole format (see [error@ST.Error]); a data buffer
 * longer or shorter than the tensors cover fails with %ST_ERROR_INCOMPLETE_BUFFER.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 */
STFile *
st_file_new_from_bytes (GBytes  *bytes,
                        GError **error)
{
  g_autoptr(StHeader) header = NULL;
  const guint8 *input;
  gsize input_size;
  guint64 header_size;
  guint64 data_offset;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  input = g_bytes_get_data (bytes, &input_size);

  if (!st_header_read_size (input, input_size, input_size, &header_size, error))
    return NULL;

  header = st_header_parse ((const char *) input + 8, (gsize) header_size, error);
  if (header == NULL)
    return NULL;

  data_offset = 8 + header_size;
  if (!check_data_size (header, input_size - data_offset, error))
    return NULL;

  return file_new_loaded (g_steal_pointer (&header), header_size,
                          g_bytes_new_from_bytes (bytes, (gsize) data_offset, (gsize) (input_size - data_offset)));
}

/* Reads @size bytes, or up to the end of the stream if it comes first (*out_n_read says which). The
 * buffer grows as bytes arrive once past READ_TRUSTED_SIZE: a hostile stream claiming a terabyte gets
 * us to allocate about twice what it actually sends, never what it claims. */
static gboolean
read_up_to (GInputStream  *stream,
            guint64        size,
            guint8       **out_buffer,
            gsize         *out_n_read,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autofree guint8 *buffer = NULL;
  gsize capacity;
  gsize n_read = 0;

  if (size > G_MAXSIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "%" G_GUINT64_FORMAT " bytes do not fit in this address space", size);
      return FALSE;
    }

  capacity = MIN ((gsize) size, READ_TRUSTED_SIZE);
  buffer = g_try_malloc (MAX (capacity, 1));
  if (buffer == NULL)
    goto out_of_memory;

  for (;;)
    {
      gsize got = 0;

      /* Not every stream looks at the cancellable (memory streams do not): look between chunks. */
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (!g_input_stream_read_all (stream, buffer + n_read, capacity - n_read, &got, cancellable, error))
        return FALSE;
      n_read += got;

      if (n_read < capacity || capacity == size)
        break;  /* end of stream, or all of it */

      capacity = (capacity > (gsize) size / 2) ? (gsize) size : capacity * 2;
      {
        guint8 *grown = g_try_realloc (buffer, capacity);

        if (grown == NULL)
          goto out_of_memory;
        buffer = grown;
      }
    }

  *out_buffer = g_steal_pointer (&buffer);
  *out_n_read = n_read;
  return TRUE;

out_of_memory:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
               "Could not allocate %" G_GSIZE_FORMAT " bytes for the input", capacity);
  return FALSE;
}

static STFile *
file_new_from_stream (GInputStream  *stream,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(StHeader) header = NULL;
  g_autofree guint8 *json = NULL;
  g_autofree guint8 *data = NULL;
  guint8 prefix[8];
  gsize n_read = 0;
  guint64 header_size;
  guint8 extra;
  gssize n_extra;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (!g_input_stream_read_all (stream, prefix, sizeof prefix, &n_read, cancellable, error))
    return NULL;
  if (!st_header_read_size (prefix, n_read, G_MAXUINT64, &header_size, error))
    return NULL;

  if (!read_up_to (stream, header_size, &json, &n_read, cancellable, error))
    return NULL;
  if (n_read < header_size)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_HEADER_TOO_LARGE,
                   "The header length %" G_GUINT64_FORMAT " goes past the end of the input "
                   "(%" G_GSIZE_FORMAT " bytes)", header_size, 8 + n_read);
      return NULL;
    }

  header = st_header_parse ((const char *) json, (gsize) header_size, error);
  if (header == NULL)
    return NULL;
  g_clear_pointer (&json, g_free);

  if (!read_up_to (stream, header->data_size, &data, &n_read, cancellable, error))
    return NULL;
  if (!check_data_size (header, n_read, error))
    return NULL;

  n_extra = g_input_stream_read (stream, &extra, 1, cancellable, error);
  if (n_extra < 0)
    return NULL;
  if (n_extra > 0)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER,
                   "The tensors cover %" G_GUINT64_FORMAT " bytes but the data buffer has trailing "
                   "bytes (at byte offset %" G_GUINT64_FORMAT " of the input)",
                   header->data_size, 8 + header_size + header->data_size);
      return NULL;
    }

  return file_new_loaded (g_steal_pointer (&header), header_size,
                          g_bytes_new_take (g_steal_pointer (&data), (gsize) n_read));
}

/**
 * st_file_new_from_stream:
 * @stream: a stream positioned at the start of a safetensors file
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Loads a safetensors file from a stream: reads the header, then exactly the data it
 * describes into one buffer, then checks that the stream is at its end (a byte more
 * fails with %ST_ERROR_INCOMPLETE_BUFFER). The stream is left open.
 *
 * Memory grows with the bytes that actually arrive: a stream that claims more data than it
 * sends fails with %ST_ERROR_INCOMPLETE_BUFFER once it ends, without allocating what it
 * claimed. I/O errors of the stream are passed through, %G_IO_ERROR_CANCELLED included.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 */
STFile *
st_file_new_from_stream (GInputStream  *stream,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return file_new_from_stream (stream, cancellable, error);
}

/**
 * st_file_new_from_path:
 * @path: (type filename): the path of a safetensors file
 * @error: return location for a #GError
 *
 * Loads a safetensors file by mapping it into memory. Only the header is read: opening
 * takes the same time whatever the size of the data, and a tensor's pages are read from
 * disk when its bytes are first used.
 *
 * The mapping is private and copy-on-write: the tensors' memory is writable, and writes
 * never reach the file. The file is opened read-only, so read-only files and file systems
 * load. Replace a loaded file only atomically (as [method@ST.File.save_to_path] does):
 * truncating it in place while it is mapped makes later reads of its pages fail.
 *
 * A path that is not a regular file (a pipe, a character device) is read as a stream, as
 * [ctor@ST.File.new_from_stream] does.
 *
 * Errors opening the path are reported in the `G_IO_ERROR` domain (for instance
 * %G_IO_ERROR_NOT_FOUND, %G_IO_ERROR_PERMISSION_DENIED, %G_IO_ERROR_IS_DIRECTORY), with
 * the path in the message; format errors in the [error@ST.Error] domain, with the path
 * before the message.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 */
STFile *
st_file_new_from_path (const char  *path,
                       GError     **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  STFile *self;
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Not g_mapped_file_new (path, TRUE): it opens the file O_RDWR, which fails on read-only files. A
   * private mapping only needs a descriptor open for reading. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not open", path);
      return NULL;
    }

  if (fstat (fd, &st) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not read the attributes of", path);
      g_close (fd, NULL);
      return NULL;
    }

  if (S_ISDIR (st.st_mode))
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "“%s” is a directory", shown);
      g_close (fd, NULL);
      return NULL;
    }

  if (!S_ISREG (st.st_mode))
    {
      g_autoptr(GInputStream) stream = g_unix_input_stream_new (fd, TRUE);

      self = file_new_from_stream (stream, NULL, &local_error);
    }
  else
    {
      mapped = g_mapped_file_new_from_fd (fd, TRUE, &local_error);
      g_close (fd, NULL);
      if (mapped == NULL)
        {
          g_autofree char *shown = g_filename_display_name (path);
          int code = local_error->domain == G_FILE_ERROR ? g_io_error_from_file_error (local_error->code)
                                                         : G_IO_ERROR_FAILED;

          g_set_error (error, G_IO_ERROR, code, "Could not map “%s”: %s", shown, local_error->message);
          return NULL;
        }

      bytes = g_mapped_file_get_bytes (mapped);
      self = st_file_new_from_bytes (bytes, &local_error);
    }

  if (self == NULL)
    {
      if (local_error->domain == ST_ERROR)
        {
          g_autofree char *shown = g_filename_display_name (path);

          g_prefix_error (&local_error, "%s: ", shown);
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
    }

  return self;
}

/**
 * st_file_new_from_gfile:
 * @file: a #GFile
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Loads a safetensors file from a #GFile: a file with a local path is mapped as
 * [ctor@ST.File.new_from_path] does; any other is read as a stream from
 * g_file_read(), so every GIO backend works.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 */
STFile *
st_file_new_from_gfile (GFile         *file,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(GFileInputStream) stream = NULL;
  const char *path;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  path = g_file_peek_path (file);
  if (path != NULL)
    return st_file_new_from_path (path, error);

  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return NULL;

  return file_new_from_stream (G_INPUT_STREAM (stream), cancellable, error);
}

/* Both loads in a thread: the task data is the path of st_file_new_from_path_async(), or the stream of
 * st_file_new_from_stream_async(). */
static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  STFile *file;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (g_task_get_source_tag (task) == st_file_new_from_path_async)
    file = st_file_new_from_path (task_data, &error);
  else
    file = file_new_from_stream (task_data, cancellable, &error);

  if (file == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, file, g_object_unref);
}

static STFile *
load_finish (GAsyncResult  *result,
             gpointer       source_tag,
             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * st_file_new_from_path_async:
 * @path: (type filename): the path of a safetensors file
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the file is loaded
 * @user_data: (closure): data for @callback
 *
 * Loads a safetensors file as [ctor@ST.File.new_from_path] does, in a thread. Call
 * [ctor@ST.File.new_from_path_finish] from @callback, which runs in the thread-default
 * main context of the caller.
 */
void
st_file_new_from_path_async (const char          *path,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_file_new_from_path_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, load_thread);
}

/**
 * st_file_new_from_path_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@ST.File.new_from_path_async]. A load cancelled before it finished
 * fails with %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 */
STFile *
st_file_new_from_path_finish (GAsyncResult  *result,
                              GError       **error)
{
  return load_finish (result, st_file_new_from_path_async, error);
}

/**
 * st_file_new_from_stream_async:
 * @stream: a stream positioned at the start of a safetensors file
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the file is loaded
 * @user_data: (closure): data for @callback
 *
 * Loads a safetensors file as [ctor@ST.File.new_from_stream] does, reading the stream
 * with its blocking calls in a thread. Do not use @stream until @callback runs; call
 * [ctor@ST.File.new_from_stream_finish] from it.
 */
void
st_file_new_from_stream_async (GInputStream        *stream,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (G_IS_INPUT_STREAM (stream));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_file_new_from_stream_async);
  g_task_set_task_data (task, g_object_ref (stream), g_object_unref);
  g_task_run_in_thread (task, load_thread);
}

/**
 * st_file_new_from_stream_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@ST.File.new_from_stream_async]. A load cancelled before it finished
 * fails with %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 */
STFile *
st_file_new_from_stream_finish (GAsyncResult  *result,
                                GError       **error)
{
  return load_finish (result, st_file_new_from_stream_async, error);
}
