/* st-file-load.c: loading a safetensors file from a path, memory, a GFile or a stream
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>

#include "st-error.h"
#include "st-file-private.h"
#include "st-io-private.h"
#include "st-file-source-private.h"
#include "st-tensor-private.h"
#include "st-file.h"
#include "st-sniff-private.h"

/* Reading a stream: buffers of up to this size are allocated at once; larger ones grow as bytes
 * arrive, so that a stream that only claims a size cannot make us allocate it. */
#define READ_TRUSTED_SIZE ((gsize) 16 * 1024 * 1024)

/* ST_LOAD_FLAGS_NO_MMAP reads a file in blocks of this size, with a look at the cancellable between them. */
#define READ_BLOCK_SIZE ((gsize) 16 * 1024 * 1024)

/* Loading */

/* The data of a loaded file, which owns the memory of its header (entries, names, shapes) too: a tensor
 * keeps the data it is a view of alive, and so the shape it borrows from the header
 * (st_tensor_new_view()), after the file is gone. */
typedef struct {
  GBytes       *bytes;  /* the data buffer: a slice of the input */
  StArenaChunk *arena;  /* the header's */
} LoadedData;

static void
loaded_data_free (gpointer data)
{
  LoadedData *loaded = data;

  st_arena_chunks_free (loaded->arena);
  g_bytes_unref (loaded->bytes);
  g_free (loaded);
}

/* Makes the file from a parsed header and the data buffer it describes. Takes @header and @data. */
STFile *
st_file_new_loaded (StHeader *header,
                    guint64   header_size,
                    GBytes   *data)
{
  STFile *self = g_object_new (ST_TYPE_FILE, NULL);

  self->header = header;
  self->header_size = header_size;
  self->metadata = g_steal_pointer (&header->metadata);

  /* One block for the entries, and the parser's list of entries (StHeaderEntry *, in file order) becomes
   * the file's list (FileEntry *) in place. Each entry is written whole, so the block is not zeroed
   * first (a second pass over its memory, 48 kB for 1,000 tensors). */
  self->loaded_entries = st_header_alloc (header, sizeof (FileEntry) * MAX (header->entries->len, 1));
  g_ptr_array_unref (self->entries);
  self->entries = g_steal_pointer (&header->entries);
  self->n_loaded = self->entries->len;
  g_ptr_array_set_free_func (self->entries, st_file_entry_free);
  for (guint i = 0; i < self->entries->len; i++)
    {
      const StHeaderEntry *loaded = self->entries->pdata[i];
      FileEntry *entry = &self->loaded_entries[i];

      *entry = (FileEntry) { .name = loaded->name, .of.loaded = loaded, .form = FILE_ENTRY_LOADED, .in_block = TRUE };
      self->entries->pdata[i] = entry;
    }

  /* The file's name index is made on first use (st_file_get_index()): a caller that takes the tensors in
   * file order needs none. The parser's, made when its names were out of order, goes now, for the
   * tensors and names the caller asks for next to reuse its memory. A remote file's lookups
   * (st-file-remote.c) go through st_file_lookup_entry() too. */
  g_clear_pointer (&self->by_name, st_name_index_free);
  g_clear_pointer (&header->by_name, st_name_index_free);

  /* A remote file (no data) keeps its header to itself: its tensors copy their shapes. */
  if (data != NULL)
    {
      LoadedData *loaded = g_new (LoadedData, 1);
      gsize size;
      gconstpointer address = g_bytes_get_data (data, &size);

      loaded->bytes = data;
      loaded->arena = st_header_steal_arena (header);
      self->data = g_bytes_new_with_free_func (address, size, loaded_data_free, loaded);
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
 *
 * Since: 1.0
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

  return st_file_new_loaded (g_steal_pointer (&header), header_size,
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

  return st_file_new_loaded (g_steal_pointer (&header), header_size,
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
 *
 * Since: 1.0
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

/* A mapping of a whole file, for g_bytes_new_with_free_func(). */
typedef struct {
  gpointer      address;
  gsize         size;
  StFileSource *source;  /* what it maps, registered for saves that copy in the kernel (st-file-source.c) */
} Mapping;

static void
mapping_free (gpointer data)
{
  Mapping *mapping = data;

  st_file_source_unregister (mapping->source);
  munmap (mapping->address, mapping->size);
  g_free (mapping);
}

/* Maps @size bytes of @fd, private and copy-on-write. MAP_NORESERVE: under the kernel's default
 * overcommit policy a private writable mapping is otherwise charged in full against the commit limit
 * (RAM + swap), so that a file larger than that could not be opened at all, even to read its header.
 * With it, only the pages a user writes into take memory. */
static GBytes *
map_file (int                 fd,
          const struct stat  *st,
          const char         *path,
          GError            **error)
{
  guint64 size = (guint64) st->st_size;
  Mapping *mapping;
  gpointer address;

  if (size == 0)
    return g_bytes_new (NULL, 0);

  if (size > G_MAXSIZE)
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "Could not map “%s”: its %" G_GUINT64_FORMAT " bytes do not fit in this address space",
                   shown, size);
      return NULL;
    }

  address = mmap (NULL, (gsize) size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
  if (address == MAP_FAILED)
    {
      st_set_io_error_from_errno (error, errno, "Could not map", path);
      return NULL;
    }

  mapping = g_new (Mapping, 1);
  mapping->address = address;
  mapping->size = (gsize) size;
  mapping->source = st_file_source_register (address, (gsize) size, fd, path, st);
  return g_bytes_new_with_free_func (address, (gsize) size, mapping_free, mapping);
}

/* Reads @size bytes at @offset of @fd, in blocks of READ_BLOCK_SIZE with a look at the cancellable
 * between them. A file that ends first was truncated since its size was taken: say so. */
static gboolean
pread_all (int            fd,
           guint8        *buffer,
           gsize          size,
           guint64        offset,
           const char    *path,
           GCancellable  *cancellable,
           GError       **error)
{
  gsize done = st_pread_all (fd, buffer, size, offset, READ_BLOCK_SIZE, cancellable);

  if (done == size)
    return TRUE;

  if (errno == ECANCELED && g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (errno != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not read", path);
      return FALSE;
    }
  g_set_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER,
               "The file ended at byte %" G_GUINT64_FORMAT " while being read, before byte %"
               G_GUINT64_FORMAT ": it was truncated during the load",
               offset + done, offset + size);
  return FALSE;
}

/* ST_LOAD_FLAGS_NO_MMAP: the header, then the data it describes, into memory of our own. */
static STFile *
file_new_from_fd_read (int            fd,
                       guint64        file_size,
                       const char    *path,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(StHeader) header = NULL;
  g_autofree guint8 *json = NULL;
  g_autofree guint8 *data = NULL;
  guint8 prefix[8];
  guint64 header_size;

  if (!pread_all (fd, prefix, (gsize) MIN (file_size, sizeof prefix), 0, path, cancellable, error))
    return NULL;
  if (!st_header_read_size (prefix, (gsize) MIN (file_size, sizeof prefix), file_size, &header_size, error))
    return NULL;

  json = g_try_malloc (MAX (header_size, 1));
  if (json == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "Could not allocate %" G_GUINT64_FORMAT " bytes for the header", header_size);
      return NULL;
    }
  if (!pread_all (fd, json, (gsize) header_size, 8, path, cancellable, error))
    return NULL;

  header = st_header_parse ((const char *) json, (gsize) header_size, error);
  if (header == NULL)
    return NULL;
  g_clear_pointer (&json, g_free);

  if (!check_data_size (header, file_size - 8 - header_size, error))
    return NULL;

  data = header->data_size <= G_MAXSIZE ? g_try_malloc (MAX (header->data_size, 1)) : NULL;
  if (data == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "Could not allocate %" G_GUINT64_FORMAT " bytes for the data", header->data_size);
      return NULL;
    }
  if (!pread_all (fd, data, (gsize) header->data_size, 8 + header_size, path, cancellable, error))
    return NULL;

  return st_file_new_loaded (g_steal_pointer (&header), header_size,
                          g_bytes_new_take (g_steal_pointer (&data), (gsize) file_size - 8 - header_size));
}

/* The error of a file at @path that does not load as safetensors: the path, then what the file really is
 * when its first bytes (@head_len bytes at @head, of a file of @file_size bytes; none for a stream) tell
 * (a Git LFS pointer, an HTML page...), or else what the parser found. */
static void
set_format_error (GError       **error,
                  const char    *path,
                  const guint8  *head,
                  gsize          head_len,
                  guint64        file_size,
                  const GError  *parse_error)
{
  g_autofree char *shown = g_filename_display_name (path);
  StSniffKind kind = ST_SNIFF_UNKNOWN;

  if (parse_error->code == ST_ERROR_INTERRUPTED_EDIT)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INTERRUPTED_EDIT,
                   "“%s” is marked by an in-place edit of its header that did not finish (or is still under "
                   "way): run “st-tool metadata --repair %s” (or call st_file_repair_header()) to complete it",
                   shown, shown);
      return;
    }

  if (head != NULL)
    kind = st_sniff_bytes (head, head_len, file_size);

  if (kind == ST_SNIFF_UNKNOWN)
    g_set_error (error, ST_ERROR, parse_error->code, "%s: %s", shown, parse_error->message);
  else if (kind == ST_SNIFF_TRUNCATED)
    g_set_error (error, ST_ERROR, parse_error->code, "%s: %s: it is %s", shown, parse_error->message,
                 st_sniff_describe (kind));
  else
    /* What the parser says of such a file (a header length of 2336927755350992246) is noise. */
    g_set_error (error, ST_ERROR, parse_error->code, "%s: It is %s, not a safetensors file", shown,
                 st_sniff_describe (kind));
}

/**
 * st_file_new_from_path:
 * @path: (type filename): the path of a safetensors file
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Loads a safetensors file by mapping it into memory, as [ctor@ST.File.new_from_path_full]
 * does with %ST_LOAD_FLAGS_NONE.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 1.0
 */
STFile *
st_file_new_from_path (const char    *path,
                       GCancellable  *cancellable,
                       GError       **error)
{
  return st_file_new_from_path_full (path, ST_LOAD_FLAGS_NONE, cancellable, error);
}

/**
 * st_file_new_from_path_full:
 * @path: (type filename): the path of a safetensors file
 * @flags: how to read the file
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Loads a safetensors file from a path.
 *
 * By default the file is mapped into memory. Only the header is read: opening takes the
 * same time whatever the size of the data, and a tensor's pages are read from disk when its
 * bytes are first used. The mapping is private and copy-on-write: the tensors' memory is
 * writable, and writes never reach the file. The kernel charges nothing for the mapping
 * (`MAP_NORESERVE`), only for the pages written into, so a file larger than the memory and
 * swap of the machine opens. The file is opened read-only, so read-only files and file
 * systems load.
 *
 * A mapped file must not shrink while it is loaded: reading a page past its new end kills
 * the process with `SIGBUS`. Replace a loaded file only atomically (as
 * [method@ST.File.save_to_path] does), or load with %ST_LOAD_FLAGS_NO_MMAP, which reads
 * the whole file into memory the library owns (in blocks of 16 MiB, with a look at
 * @cancellable between them): no later change to the file can then reach the tensors, and
 * a file truncated during the load fails with %ST_ERROR_INCOMPLETE_BUFFER.
 *
 * A path that is not a regular file (a pipe, a character device) is read as a stream, as
 * [ctor@ST.File.new_from_stream] does, whatever @flags say.
 *
 * Errors opening the path are reported in the `G_IO_ERROR` domain (for instance
 * %G_IO_ERROR_NOT_FOUND, %G_IO_ERROR_PERMISSION_DENIED, %G_IO_ERROR_IS_DIRECTORY,
 * %G_IO_ERROR_TOO_MANY_LINKS for a loop of symbolic links), with the path in the message;
 * format errors in the [error@ST.Error] domain, with the path before the message.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 1.0
 */
STFile *
st_file_new_from_path_full (const char    *path,
                            STLoadFlags    flags,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 head[4096];
  gssize head_len = -1;  /* -1: nothing to sniff (a stream) */
  STFile *self;
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Asked only of a cancellable: the call is the process's first into GIO's code otherwise, a page
   * fault or two of its text on the way to a mapping that needs none of it */
  if (cancellable != NULL && g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

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

      self = file_new_from_stream (stream, cancellable, &local_error);
    }
  else if (flags & ST_LOAD_FLAGS_NO_MMAP)
    {
      self = file_new_from_fd_read (fd, (guint64) st.st_size, path, cancellable, &local_error);
      if (self == NULL && local_error->domain == ST_ERROR)
        head_len = pread (fd, head, sizeof head, 0);
      g_close (fd, NULL);
    }
  else
    {
      bytes = map_file (fd, &st, path, error);
      g_close (fd, NULL);
      if (bytes == NULL)
        return NULL;
      self = st_file_new_from_bytes (bytes, &local_error);
      if (self == NULL)
        {
          head_len = (gssize) MIN (g_bytes_get_size (bytes), sizeof head);
          if (head_len > 0)
            memcpy (head, g_bytes_get_data (bytes, NULL), (gsize) head_len);
        }
    }

  if (self == NULL)
    {
      if (local_error->domain == ST_ERROR)
        set_format_error (error, path, head_len >= 0 ? head : NULL, MAX (head_len, 0), (guint64) st.st_size,
                          local_error);
      else
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
 *
 * Since: 1.0
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
    return st_file_new_from_path (path, cancellable, error);

  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return NULL;

  return file_new_from_stream (G_INPUT_STREAM (stream), cancellable, error);
}

/* What an async load reads: a path (with its flags), a GFile or a stream. */
typedef struct {
  char         *path;
  STLoadFlags   flags;
  GFile        *file;
  GInputStream *stream;
} LoadJob;

static void
load_job_free (LoadJob *job)
{
  g_free (job->path);
  g_clear_object (&job->file);
  g_clear_object (&job->stream);
  g_free (job);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadJob *job = task_data;
  GError *error = NULL;
  STFile *file;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (job->path != NULL)
    file = st_file_new_from_path_full (job->path, job->flags, cancellable, &error);
  else if (job->file != NULL)
    file = st_file_new_from_gfile (job->file, cancellable, &error);
  else
    file = file_new_from_stream (job->stream, cancellable, &error);

  if (file == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, file, g_object_unref);
}

static void
load_async (LoadJob             *job,
            gpointer             source_tag,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, job, (GDestroyNotify) load_job_free);
  g_task_run_in_thread (task, load_thread);
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
 * @flags: how to read the file
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the file is loaded
 * @user_data: (closure): data for @callback
 *
 * Loads a safetensors file as [ctor@ST.File.new_from_path_full] does, in a thread. Call
 * [ctor@ST.File.new_from_path_finish] from @callback, which runs in the thread-default
 * main context of the caller.
 *
 * Since: 1.0
 */
void
st_file_new_from_path_async (const char          *path,
                             STLoadFlags          flags,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  LoadJob *job;

  g_return_if_fail (path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = g_new0 (LoadJob, 1);
  job->path = g_strdup (path);
  job->flags = flags;
  load_async (job, st_file_new_from_path_async, cancellable, callback, user_data);
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
 *
 * Since: 1.0
 */
STFile *
st_file_new_from_path_finish (GAsyncResult  *result,
                              GError       **error)
{
  return load_finish (result, st_file_new_from_path_async, error);
}

/**
 * st_file_new_from_gfile_async:
 * @file: a #GFile
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the file is loaded
 * @user_data: (closure): data for @callback
 *
 * Loads a safetensors file as [ctor@ST.File.new_from_gfile] does, in a thread. Call
 * [ctor@ST.File.new_from_gfile_finish] from @callback, which runs in the thread-default
 * main context of the caller.
 *
 * Since: 1.0
 */
void
st_file_new_from_gfile_async (GFile               *file,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  LoadJob *job;

  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = g_new0 (LoadJob, 1);
  job->file = g_object_ref (file);
  load_async (job, st_file_new_from_gfile_async, cancellable, callback, user_data);
}

/**
 * st_file_new_from_gfile_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@ST.File.new_from_gfile_async]. A load cancelled before it finished
 * fails with %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 1.0
 */
STFile *
st_file_new_from_gfile_finish (GAsyncResult  *result,
                               GError       **error)
{
  return load_finish (result, st_file_new_from_gfile_async, error);
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
 *
 * Since: 1.0
 */
void
st_file_new_from_stream_async (GInputStream        *stream,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  LoadJob *job;

  g_return_if_fail (G_IS_INPUT_STREAM (stream));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = g_new0 (LoadJob, 1);
  job->stream = g_object_ref (stream);
  load_async (job, st_file_new_from_stream_async, cancellable, callback, user_data);
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
 *
 * Since: 1.0
 */
STFile *
st_file_new_from_stream_finish (GAsyncResult  *result,
                                GError       **error)
{
  return load_finish (result, st_file_new_from_stream_async, error);
}
