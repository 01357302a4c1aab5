/* st-file.c: a safetensors file: named tensors and metadata
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
#include "st-file.h"
#include "st-tensor-info-private.h"
#include "st-sniff-private.h"

/**
 * STFile:
 *
 * A safetensors file: an ordered map from names to [class@ST.Tensor]s, plus the string map
 * of its `__metadata__`.
 *
 * Load one with [ctor@ST.File.new_from_path] (a private copy-on-write mapping: opening reads
 * the header only, whatever the size of the data), [ctor@ST.File.new_from_bytes],
 * [ctor@ST.File.new_from_gfile] or [ctor@ST.File.new_from_stream]; or start from an empty
 * file with [ctor@ST.File.new]. Every input is checked against the whole format before
 * anything is returned: a file that loads is well formed.
 *
 * Tensors of a loaded file are zero-copy slices of its memory, made on first access.
 * The order of the tensors ("file order") is the order of their data in the loaded file,
 * followed by the tensors added since, in insertion order. Saving writes them in the
 * order Hugging Face's writer uses (widest dtype first, then by name), so the output is
 * byte for byte what Hugging Face writes for the same tensors and metadata.
 *
 * A file is a [iface@Gio.ListModel] of [class@ST.TensorInfo] items, one per tensor in
 * file order, so that a `GtkColumnView` shows its tensors with property expressions
 * alone. Setting a tensor emits [signal@Gio.ListModel::items-changed] (an item replaced in
 * place, or one added at the end) and removing one does too; both notify
 * [property@ST.File:n-tensors] when the count changes.
 *
 * Reading a file (looking tensors up, listing names, reading metadata, listing its items,
 * saving) is safe from several threads at once. Changing it ([method@ST.File.set_tensor],
 * [method@ST.File.remove_tensor], the metadata setters) is not: do it from one thread,
 * with no reader running.
 *
 * Since: 1.0
 */

/* A tensor given as memory by st_file_set_tensor_from_data(): its layout (checked) and its bytes,
 * kept without an STTensor. One allocation, the shape after the struct. */
typedef struct {
  GObject       *owner;    /* owned reference on what owns the bytes; nullable */
  gconstpointer  data;     /* NULL only when n_bytes is 0 */
  guint64        n_bytes;
  STDType        dtype;
  guint          n_dims;
  gint64         shape[];  /* n_dims entries */
} ExternalData;

/* One tensor of the file, in one of three forms:
 * - loaded: points into self->header, makes its STTensor on first access;
 * - external: memory set with st_file_set_tensor_from_data(), makes its STTensor on first access;
 * - neither: a tensor set with st_file_set_tensor(), held from the start.
 * Lazily made tensors are set once, atomically, so that readers in several threads agree. */
typedef struct {
  const char          *name;          /* loaded->name, or name_storage */
  char                *name_storage;  /* owned when the name is not the header's */
  const StHeaderEntry *loaded;        /* in self->header; NULL unless the tensor is the loaded one */
  ExternalData        *external;      /* owned; NULL unless the tensor was set as memory */
  STTensor            *tensor;        /* owned */
  STTensorInfo        *info;          /* owned; the list model's item, made on first access as tensor is */
} FileEntry;

struct _STFile
{
  GObject parent_instance;

  StHeader   *header;       /* the loaded header's entries (its metadata is stolen); NULL when not loaded */
  GBytes     *data;         /* the loaded data buffer (a slice of the source); NULL when not loaded */
  guint64     header_size;  /* N of the loaded source; 0 otherwise */

  GPtrArray  *entries;      /* FileEntry *, in file order, owning */
  GHashTable *by_name;      /* entry->name -> FileEntry *, borrowing both */
  GHashTable *metadata;     /* char * -> char *, owning; NULL when the file has no __metadata__ */
};

static void st_file_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (STFile, st_file, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, st_file_list_model_init))

enum {
  PROP_0,
  PROP_N_TENSORS,
  PROP_HEADER_SIZE,
  PROP_DATA_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Writes are cut in chunks of at most this size, with a look at the cancellable between them. */
#define WRITE_CHUNK_SIZE ((gsize) 64 * 1024 * 1024)

/* How many buffers one writev() takes (POSIX guarantees at least 16; Linux takes 1024). */
#define WRITE_MAX_VECTORS 1024

/* Small tensors are gathered into one writev() until it carries at least this much; a large tensor then
 * goes out in a call of its own. Gathering whole 64 MiB chunks of large tensors into one call made saves
 * from torch's memory slower and far more erratic on the benchmark machine (bench/run, gpt2) than one
 * write per tensor. */
#define WRITE_GATHER_SIZE ((gsize) 1024 * 1024)

/* Reading a stream: buffers of up to this size are allocated at once; larger ones grow as bytes
 * arrive, so that a stream that only claims a size cannot make us allocate it. */
#define READ_TRUSTED_SIZE ((gsize) 16 * 1024 * 1024)

static void
external_data_free (ExternalData *external)
{
  g_clear_object (&external->owner);
  g_free (external);
}

/* Drops what the entry holds, keeping its name: the entry is then refilled in place. */
static void
file_entry_clear_contents (FileEntry *entry)
{
  entry->loaded = NULL;
  g_clear_pointer (&entry->external, external_data_free);
  g_clear_object (&entry->tensor);
  g_clear_object (&entry->info);
}

static void
file_entry_free (gpointer data)
{
  FileEntry *entry = data;

  file_entry_clear_contents (entry);
  g_free (entry->name_storage);
  g_free (entry);
}

static void
st_file_finalize (GObject *object)
{
  STFile *self = ST_FILE (object);

  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->header, st_header_free);
  g_clear_pointer (&self->data, g_bytes_unref);
  g_clear_pointer (&self->metadata, g_hash_table_unref);

  G_OBJECT_CLASS (st_file_parent_class)->finalize (object);
}

static void
st_file_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  STFile *self = ST_FILE (object);

  switch (prop_id)
    {
    case PROP_N_TENSORS:
      g_value_set_uint (value, st_file_get_n_tensors (self));
      break;
    case PROP_HEADER_SIZE:
      g_value_set_uint64 (value, st_file_get_header_size (self));
      break;
    case PROP_DATA_SIZE:
      g_value_set_uint64 (value, st_file_get_data_size (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
st_file_class_init (STFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = st_file_finalize;
  object_class->get_property = st_file_get_property;

  /**
   * STFile:n-tensors:
   *
   * The number of tensors in the file, which is also the number of items of
   * its list model. Notified when a tensor is added or removed.
   *
   * Since: 1.0
   */
  properties[PROP_N_TENSORS] =
    g_param_spec_uint ("n-tensors", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * STFile:header-size:
   *
   * The header length of the loaded file (see
   * [method@ST.File.get_header_size]); 0 for a file that was not loaded.
   *
   * Since: 1.0
   */
  properties[PROP_HEADER_SIZE] =
    g_param_spec_uint64 ("header-size", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * STFile:data-size:
   *
   * The length of the data buffer of the loaded file (see
   * [method@ST.File.get_data_size]); 0 for a file that was not loaded.
   *
   * Since: 1.0
   */
  properties[PROP_DATA_SIZE] =
    g_param_spec_uint64 ("data-size", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
st_file_init (STFile *self)
{
  self->entries = g_ptr_array_new_with_free_func (file_entry_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
}

/**
 * st_file_new:
 *
 * Makes an empty file: no tensors and no metadata. Saved as is, it is the
 * smallest valid safetensors file (a header of `{}`).
 *
 * Returns: (transfer full): a new empty file
 *
 * Since: 1.0
 */
STFile *
st_file_new (void)
{
  return g_object_new (ST_TYPE_FILE, NULL);
}

/* Entry helpers */

static STTensor *
entry_get_tensor (STFile    *self,
                  FileEntry *entry)
{
  STTensor *tensor = g_atomic_pointer_get (&entry->tensor);
  const StHeaderEntry *loaded;

  if (tensor != NULL)
    return tensor;

  /* Only loaded and external entries start without a tensor. Two threads may get here at once:
   * both make a tensor, one wins the exchange, the other drops its own and takes the winner's. */
  loaded = entry->loaded;
  if (loaded != NULL)
    {
      tensor = st_tensor_new_slice (loaded->dtype, loaded->shape, loaded->n_dims, self->data,
                                    loaded->begin, loaded->end - loaded->begin);
    }
  else
    {
      const ExternalData *external = entry->external;

      /* The layout and address were checked when the entry was set: this cannot fail. */
      tensor = st_tensor_new_from_data (external->dtype, external->shape, external->n_dims,
                                        (guint64) GPOINTER_TO_SIZE (external->data), external->n_bytes,
                                        external->owner, NULL);
      g_return_val_if_fail (tensor != NULL, NULL);
    }
  if (!g_atomic_pointer_compare_and_exchange (&entry->tensor, NULL, tensor))
    {
      g_object_unref (tensor);
      tensor = g_atomic_pointer_get (&entry->tensor);
    }

  return tensor;
}

static FileEntry *
lookup_entry (STFile     *self,
              const char *name)
{
  return g_hash_table_lookup (self->by_name, name);
}

/* Loading */

static void
set_io_error_from_errno (GError     **error,
                         int          errsv,
                         const char  *what,
                         const char  *path)
{
  g_autofree char *shown = g_filename_display_name (path);

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               "%s “%s”: %s", what, shown, g_strerror (errsv));
}

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

/* The error of a file at @path that does not load as safetensors: the path, then what the file really is
 * when its first bytes tell (a Git LFS pointer, an HTML page...), or else what the parser found. */
static void
set_format_error (GError       **error,
                  const char    *path,
                  GBytes        *bytes,
                  const GError  *parse_error)
{
  g_autofree char *shown = g_filename_display_name (path);
  StSniffKind kind = ST_SNIFF_UNKNOWN;

  if (bytes != NULL)
    {
      gsize size = g_bytes_get_size (bytes);

      kind = st_sniff_bytes (g_bytes_get_data (bytes, NULL), MIN (size, 4096), size);
    }

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
 * before the message. A file that is plainly something else (a Git LFS pointer, an HTML
 * page, a PyTorch ZIP or pickle checkpoint, a GGUF file, the JSON index of a sharded
 * checkpoint) is named for what it is, and a header cut short by the end of the file as
 * an interrupted download.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 1.0
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
      set_io_error_from_errno (error, errno, "Could not open", path);
      return NULL;
    }

  if (fstat (fd, &st) != 0)
    {
      set_io_error_from_errno (error, errno, "Could not read the attributes of", path);
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
        set_format_error (error, path, bytes, local_error);
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
 *
 * Since: 1.0
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
 *
 * Since: 1.0
 */
STFile *
st_file_new_from_stream_finish (GAsyncResult  *result,
                                GError       **error)
{
  return load_finish (result, st_file_new_from_stream_async, error);
}

/* Tensors */

/**
 * st_file_get_n_tensors:
 * @self: a file
 *
 * Gives the number of tensors in the file.
 *
 * Returns: the tensor count
 *
 * Since: 1.0
 */
guint
st_file_get_n_tensors (STFile *self)
{
  g_return_val_if_fail (ST_IS_FILE (self), 0);

  return self->entries->len;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * st_file_dup_names_in_file_order:
 * @self: a file
 *
 * Lists the names of the tensors in file order: the order of their data in the loaded
 * file, then the tensors set since, in the order they were added.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names
 *
 * Since: 1.0
 */
char **
st_file_dup_names_in_file_order (STFile *self)
{
  char **names;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);

  names = g_new (char *, self->entries->len + 1);
  for (guint i = 0; i < self->entries->len; i++)
    {
      const FileEntry *entry = g_ptr_array_index (self->entries, i);

      names[i] = g_strdup (entry->name);
    }
  names[self->entries->len] = NULL;

  return names;
}

/**
 * st_file_dup_names_sorted:
 * @self: a file
 *
 * Lists the names of the tensors, sorted by their bytes (strcmp() order), as Hugging
 * Face's `keys()` does.
 *
 * Returns: (transfer full) (array zero-terminated=1): the sorted names
 *
 * Since: 1.0
 */
char **
st_file_dup_names_sorted (STFile *self)
{
  char **names;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);

  names = st_file_dup_names_in_file_order (self);
  qsort (names, self->entries->len, sizeof (char *), compare_names);

  return names;
}

/**
 * st_file_contains:
 * @self: a file
 * @name: a tensor name
 *
 * Tells whether the file holds a tensor named @name.
 *
 * Returns: %TRUE if it does
 *
 * Since: 1.0
 */
gboolean
st_file_contains (STFile     *self,
                  const char *name)
{
  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return lookup_entry (self, name) != NULL;
}

/**
 * st_file_get_tensor:
 * @self: a file
 * @name: a tensor name
 *
 * Gives the tensor named @name. A tensor of a loaded file is made on first access, as
 * a zero-copy slice of the file's memory; later calls give the same object.
 *
 * Returns: (transfer none) (nullable): the tensor, or %NULL if there is none of that name
 *
 * Since: 1.0
 */
STTensor *
st_file_get_tensor (STFile     *self,
                    const char *name)
{
  FileEntry *entry;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  entry = lookup_entry (self, name);
  if (entry == NULL)
    return NULL;

  return entry_get_tensor (self, entry);
}

/**
 * st_file_lookup_tensor:
 * @self: a file
 * @name: a tensor name
 * @error: return location for a #GError
 *
 * Gives the tensor named @name, as [method@ST.File.get_tensor] does, or an error
 * (%ST_ERROR_NOT_FOUND) when there is none: the form bindings turn into an exception.
 *
 * Returns: (transfer none): the tensor, or %NULL with @error set
 *
 * Since: 1.0
 */
STTensor *
st_file_lookup_tensor (STFile      *self,
                       const char  *name,
                       GError     **error)
{
  STTensor *tensor;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tensor = st_file_get_tensor (self, name);
  if (tensor == NULL)
    g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND, "No tensor named “%s”", name);

  return tensor;
}

/* The rules every tensor name follows, whatever sets it. */
static gboolean
check_tensor_name (const char  *name,
                   GError     **error)
{
  if (!g_utf8_validate (name, -1, NULL))
    {
      g_autofree char *shown = g_utf8_make_valid (name, -1);

      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_NAME, "The tensor name “%s” is not valid UTF-8", shown);
      return FALSE;
    }

  if (strcmp (name, "__metadata__") == 0)
    {
      g_set_error_literal (error, ST_ERROR, ST_ERROR_INVALID_NAME,
                           "“__metadata__” is reserved for the metadata: no tensor may have that name");
      return FALSE;
    }

  return TRUE;
}

/* The entry for @name, emptied when it held a tensor (it keeps its place in file order), or a new
 * empty entry at the end. @name has been checked. */
static FileEntry *
take_entry_for (STFile     *self,
                const char *name)
{
  FileEntry *entry = lookup_entry (self, name);

  if (entry != NULL)
    {
      file_entry_clear_contents (entry);
      return entry;
    }

  entry = g_new0 (FileEntry, 1);
  entry->name_storage = g_strdup (name);
  entry->name = entry->name_storage;
  g_ptr_array_add (self->entries, entry);
  g_hash_table_insert (self->by_name, (gpointer) entry->name, entry);
  return entry;
}

/* Tells the users of the list model and of :n-tensors that @entry was refilled in place or, when
 * @added, appended. */
static void
file_entry_changed (STFile    *self,
                    FileEntry *entry,
                    gboolean   added)
{
  static guint items_changed_id;
  guint signal_id = g_atomic_int_get (&items_changed_id);
  guint position = self->entries->len - 1;

  if (added)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TENSORS]);

  /* An emission with nobody listening costs as much as the rest of a set (bindings set tensors by
   * the thousand when they save): ask first. */
  if (G_UNLIKELY (signal_id == 0))
    {
      signal_id = g_signal_lookup ("items-changed", G_TYPE_LIST_MODEL);
      g_atomic_int_set (&items_changed_id, signal_id);
    }
  if (!g_signal_has_handler_pending (self, signal_id, 0, TRUE))
    return;

  if (!added)
    g_ptr_array_find (self->entries, entry, &position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, added ? 0 : 1, 1);
}

/**
 * st_file_set_tensor:
 * @self: a file
 * @name: the tensor name: UTF-8, not `__metadata__`
 * @tensor: the tensor
 * @error: return location for a #GError
 *
 * Stores @tensor under @name. A tensor of that name already in the file is replaced in
 * place (it keeps its position in file order); otherwise @tensor is added at the end.
 * The tensor is shared, not copied.
 *
 * Fails with %ST_ERROR_INVALID_NAME when @name is `__metadata__` or not valid UTF-8.
 * Not thread-safe: see [class@ST.File].
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_set_tensor (STFile      *self,
                    const char  *name,
                    STTensor    *tensor,
                    GError     **error)
{
  FileEntry *entry;
  gboolean added;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (ST_IS_TENSOR (tensor), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_tensor_name (name, error))
    return FALSE;

  /* Referenced before the entry lets go of what it holds: @tensor may be the entry's own. */
  g_object_ref (tensor);
  added = lookup_entry (self, name) == NULL;
  entry = take_entry_for (self, name);
  entry->tensor = tensor;
  file_entry_changed (self, entry, added);

  return TRUE;
}

/**
 * st_file_set_tensor_from_data:
 * @self: a file
 * @name: the tensor name: UTF-8, not `__metadata__`
 * @dtype: the element type
 * @shape: (array length=n_dims) (nullable): the dimensions; %NULL only when @n_dims is 0
 * @n_dims: the number of dimensions (0 for a scalar)
 * @data_address: the address of the first byte of the elements, as an integer
 * @n_bytes: the length of the elements in bytes
 * @owner: (nullable) (transfer none): an object that owns the memory at @data_address
 * @error: return location for a #GError
 *
 * Stores a tensor over memory that something else owns under @name, without copying
 * it: what [ctor@ST.Tensor.new_from_data] followed by [method@ST.File.set_tensor] does,
 * in one call and without making a [class@ST.Tensor] (one is made if
 * [method@ST.File.get_tensor] asks for it). This is for bindings, for which each call
 * costs more than the work it does: Python saves a dict of arrays with one call per
 * array, and one @owner for all of them.
 *
 * The file holds a reference on @owner while the tensor is in it, and so does everything
 * that uses the bytes after that (a tensor made from the entry, its bytes, a save in
 * progress); the last of them to go drops it. With @owner %NULL nothing is kept alive: the
 * caller guarantees the memory stays valid and unchanged for as long as the file (or
 * anything made from this tensor) uses it. The memory is read when the file is saved:
 * it must hold the elements, row-major, little-endian and packed.
 *
 * The checks are those of [ctor@ST.Tensor.new_from_data], with the tensor named in the
 * message: %ST_ERROR_INVALID_DTYPE, %ST_ERROR_INVALID_SHAPE,
 * %ST_ERROR_MISALIGNED_SUB_BYTE, %ST_ERROR_SIZE_MISMATCH when @n_bytes is not what
 * @dtype and @shape need, %G_IO_ERROR_INVALID_ARGUMENT for an address of 0 with bytes or a
 * range past the address space; then those of [method@ST.File.set_tensor]
 * (%ST_ERROR_INVALID_NAME). On failure the file is unchanged and no reference on @owner
 * is kept.
 *
 * A tensor of that name already in the file is replaced in place (it keeps its position
 * in file order); otherwise the new one is added at the end. Not thread-safe: see
 * [class@ST.File].
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * This call is for language bindings: see [For language bindings](bindings.html).
 *
 * Since: 1.0
 */
gboolean
st_file_set_tensor_from_data (STFile        *self,
                              const char    *name,
                              STDType        dtype,
                              const gint64  *shape,
                              guint          n_dims,
                              guint64        data_address,
                              guint64        n_bytes,
                              GObject       *owner,
                              GError       **error)
{
  GError *local_error = NULL;
  ExternalData *external;
  FileEntry *entry;
  gboolean added;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (shape != NULL || n_dims == 0, FALSE);
  g_return_val_if_fail (owner == NULL || G_IS_OBJECT (owner), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!st_tensor_check_data (dtype, shape, n_dims, data_address, n_bytes, NULL, &local_error))
    {
      g_autofree char *shown = g_utf8_make_valid (name, -1);

      g_propagate_prefixed_error (error, local_error, "Tensor “%s”: ", shown);
      return FALSE;
    }

  if (!check_tensor_name (name, error))
    return FALSE;

  external = g_malloc (sizeof (ExternalData) + n_dims * sizeof (gint64));
  external->owner = owner != NULL ? g_object_ref (owner) : NULL;
  external->data = GSIZE_TO_POINTER ((gsize) data_address);
  external->n_bytes = n_bytes;
  external->dtype = dtype;
  external->n_dims = n_dims;
  if (n_dims > 0)
    memcpy (external->shape, shape, n_dims * sizeof (gint64));

  added = lookup_entry (self, name) == NULL;
  entry = take_entry_for (self, name);
  entry->external = external;
  file_entry_changed (self, entry, added);

  return TRUE;
}

/**
 * st_file_remove_tensor:
 * @self: a file
 * @name: a tensor name
 *
 * Removes the tensor named @name from the file. Tensors already handed out stay valid.
 * Not thread-safe: see [class@ST.File].
 *
 * Returns: %TRUE if there was such a tensor
 *
 * Since: 1.0
 */
gboolean
st_file_remove_tensor (STFile     *self,
                       const char *name)
{
  FileEntry *entry;
  guint position = 0;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  entry = lookup_entry (self, name);
  if (entry == NULL)
    return FALSE;

  g_hash_table_remove (self->by_name, name);
  g_ptr_array_find (self->entries, entry, &position);
  g_ptr_array_remove_index (self->entries, position);  /* frees it */

  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TENSORS]);
  return TRUE;
}

/**
 * st_file_get_tensor_offsets:
 * @self: a file
 * @name: a tensor name
 * @out_begin: (out) (optional): return location for the first byte
 * @out_end: (out) (optional): return location for one past the last byte
 *
 * Gives where the data of a tensor lies in the data buffer of the loaded file (the
 * `data_offsets` of its header entry). Add [method@ST.File.get_header_size] plus 8 for
 * offsets in the file.
 *
 * Returns: %TRUE if @name is a tensor of the loaded file; %FALSE if there is no such
 *   tensor, or if it was set after loading
 *
 * Since: 1.0
 */
gboolean
st_file_get_tensor_offsets (STFile     *self,
                            const char *name,
                            guint64    *out_begin,
                            guint64    *out_end)
{
  const FileEntry *entry;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  entry = lookup_entry (self, name);
  if (entry == NULL || entry->loaded == NULL)
    return FALSE;

  if (out_begin != NULL)
    *out_begin = entry->loaded->begin;
  if (out_end != NULL)
    *out_end = entry->loaded->end;
  return TRUE;
}

/* The dtype and shape of an entry, without making its tensor (safe beside readers in other threads:
 * the loaded and external layouts never change, and a set tensor is there from the start). */
static const gint64 *
entry_get_layout (FileEntry *entry,
                  STDType   *out_dtype,
                  guint     *out_n_dims)
{
  if (entry->loaded != NULL)
    {
      *out_dtype = entry->loaded->dtype;
      *out_n_dims = entry->loaded->n_dims;
      return entry->loaded->shape;
    }

  if (entry->external != NULL)
    {
      *out_dtype = entry->external->dtype;
      *out_n_dims = entry->external->n_dims;
      return entry->external->shape;
    }

  *out_dtype = st_tensor_get_dtype (entry->tensor);
  return st_tensor_get_shape (entry->tensor, out_n_dims);
}

/**
 * st_file_dup_layout:
 * @self: a file
 * @n_values: (out): return location for the number of values returned
 *
 * Describes every tensor of the file in one flat array of integers, for bindings that
 * would otherwise make several calls per tensor. The tensors come in file order (the
 * order of [method@ST.File.dup_names_in_file_order], whose names go with the records), one
 * record each, records end to end:
 *
 * | index in the record  | value                                                       |
 * |----------------------|-------------------------------------------------------------|
 * | 0                    | the dtype, an [enum@ST.DType] value                          |
 * | 1                    | begin: the tensor's first byte in the loaded data buffer, or -1 |
 * | 2                    | end: one past its last byte in the loaded data buffer, or -1 |
 * | 3                    | n_dims, the number of dimensions (0 for a scalar)            |
 * | 4 to 4 + n_dims - 1  | the dimensions, outermost first                              |
 *
 * A record is 4 + n_dims values long: read n_dims to find the next one. begin and end
 * are the `data_offsets` of the tensor in the loaded file (as
 * [method@ST.File.get_tensor_offsets] gives them): add
 * [method@ST.File.get_data_address] for its memory. They are -1 and -1 for a tensor that
 * is not the loaded one (set or replaced since loading, or any tensor of a file that was
 * not loaded).
 *
 * No [class@ST.Tensor] is made. Safe from several threads at once, as the other
 * readers are (see [class@ST.File]).
 *
 * Returns: (array length=n_values) (transfer full) (nullable): the records, or %NULL
 *   for a file without tensors
 *
 * This call is for language bindings: see [For language bindings](bindings.html).
 *
 * Since: 1.0
 */
gint64 *
st_file_dup_layout (STFile *self,
                    gsize  *n_values)
{
  gint64 *values;
  gsize total = 0;
  gsize at = 0;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (n_values != NULL, NULL);

  for (guint i = 0; i < self->entries->len; i++)
    {
      STDType dtype;
      guint n_dims;

      entry_get_layout (g_ptr_array_index (self->entries, i), &dtype, &n_dims);
      total += 4 + n_dims;
    }

  *n_values = total;
  if (total == 0)
    return NULL;

  values = g_new (gint64, total);
  for (guint i = 0; i < self->entries->len; i++)
    {
      FileEntry *entry = g_ptr_array_index (self->entries, i);
      STDType dtype;
      guint n_dims;
      const gint64 *shape = entry_get_layout (entry, &dtype, &n_dims);

      values[at++] = dtype;
      values[at++] = entry->loaded != NULL ? (gint64) entry->loaded->begin : -1;
      values[at++] = entry->loaded != NULL ? (gint64) entry->loaded->end : -1;
      values[at++] = n_dims;
      for (guint d = 0; d < n_dims; d++)
        values[at++] = shape[d];
    }

  return values;
}

/**
 * st_file_get_header_size:
 * @self: a file
 *
 * Gives the header length of the loaded file: the N of its 8-byte prefix, padding
 * included. Its data buffer starts at byte 8 + N.
 *
 * Returns: the header length, or 0 for a file that was not loaded
 *
 * Since: 1.0
 */
guint64
st_file_get_header_size (STFile *self)
{
  g_return_val_if_fail (ST_IS_FILE (self), 0);

  return self->header_size;
}

/**
 * st_file_get_data_address:
 * @self: a file
 *
 * Gives the address of the data buffer of the loaded file, as an integer, for bindings
 * that wrap memory without copying. It stays valid while the file lives.
 *
 * Returns: the address, or 0 for a file that was not loaded (or whose data is empty)
 *
 * This call is for language bindings: see [For language bindings](bindings.html).
 *
 * Since: 1.0
 */
guint64
st_file_get_data_address (STFile *self)
{
  g_return_val_if_fail (ST_IS_FILE (self), 0);

  if (self->data == NULL)
    return 0;

  return (guint64) GPOINTER_TO_SIZE (g_bytes_get_data (self->data, NULL));
}

/**
 * st_file_get_data_size:
 * @self: a file
 *
 * Gives the length of the data buffer of the loaded file.
 *
 * Returns: the length in bytes, or 0 for a file that was not loaded
 *
 * Since: 1.0
 */
guint64
st_file_get_data_size (STFile *self)
{
  g_return_val_if_fail (ST_IS_FILE (self), 0);

  if (self->data == NULL)
    return 0;

  return g_bytes_get_size (self->data);
}

/* The list model: one STTensorInfo per tensor, in file order */

static GType
st_file_get_item_type (GListModel *model)
{
  return ST_TYPE_TENSOR_INFO;
}

static guint
st_file_get_n_items (GListModel *model)
{
  return ST_FILE (model)->entries->len;
}

/* The item of @entry, made on first access; as with tensors, two threads may make one at once and
 * agree on the first stored. */
static STTensorInfo *
entry_get_info (FileEntry *entry)
{
  STTensorInfo *info = g_atomic_pointer_get (&entry->info);
  const gint64 *shape;
  STDType dtype;
  guint n_dims;

  if (info != NULL)
    return info;

  shape = entry_get_layout (entry, &dtype, &n_dims);
  info = st_tensor_info_new (entry->name, dtype, shape, n_dims,
                             entry->loaded != NULL ? (gint64) entry->loaded->begin : -1,
                             entry->loaded != NULL ? (gint64) entry->loaded->end : -1,
                             NULL);
  if (!g_atomic_pointer_compare_and_exchange (&entry->info, NULL, info))
    {
      g_object_unref (info);
      info = g_atomic_pointer_get (&entry->info);
    }
  return info;
}

static gpointer
st_file_get_item (GListModel *model,
                  guint       position)
{
  STFile *self = ST_FILE (model);

  if (position >= self->entries->len)
    return NULL;
  return g_object_ref (entry_get_info (g_ptr_array_index (self->entries, position)));
}

/* STFile is a GListModel of STTensorInfo items, one per tensor in file order: documented on the
 * type and on st_file_set_tensor(). */
static void
st_file_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = st_file_get_item_type;
  iface->get_n_items = st_file_get_n_items;
  iface->get_item = st_file_get_item;
}

/* Metadata */

/**
 * st_file_has_metadata:
 * @self: a file
 *
 * Whether the file has a `__metadata__`: a file loaded without one (or with
 * `"__metadata__": null`) and a new file have none; a file with an empty table
 * has one, saved as `"__metadata__":{}`.
 *
 * Returns: %TRUE when the file has metadata, even empty
 *
 * Since: 1.0
 */
gboolean
st_file_has_metadata (STFile *self)
{
  g_return_val_if_fail (ST_IS_FILE (self), FALSE);

  return self->metadata != NULL;
}

/**
 * st_file_dup_metadata:
 * @self: a file
 *
 * Copies the `__metadata__` of the file: string keys to string values. Changing
 * the copy does not change the file: use [method@ST.File.set_metadata] or
 * [method@ST.File.set_metadata_value] for that. A file without metadata gives an
 * empty table; [method@ST.File.has_metadata] tells it from an empty `__metadata__`.
 *
 * Returns: (transfer full) (element-type utf8 utf8): a new table of the metadata,
 *   empty when the file has none
 *
 * Since: 1.0
 */
GHashTable *
st_file_dup_metadata (STFile *self)
{
  GHashTable *copy;
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);

  copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (self->metadata == NULL)
    return copy;

  g_hash_table_iter_init (&iter, self->metadata);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy, g_strdup (key), g_strdup (value));
  return copy;
}

/* The file's own table, for the writers of the library: NULL when it has none. */
GHashTable *
st_file_peek_metadata (STFile *self)
{
  return self->metadata;
}

static gboolean
metadata_is_valid (GHashTable *metadata)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, metadata);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (key == NULL || value == NULL || !g_utf8_validate (key, -1, NULL) || !g_utf8_validate (value, -1, NULL))
        return FALSE;
    }
  return TRUE;
}

/**
 * st_file_set_metadata:
 * @self: a file
 * @metadata: (nullable) (element-type utf8 utf8) (transfer none): string keys to string
 *   values, all UTF-8
 *
 * Replaces the metadata of the file with a copy of @metadata. %NULL removes it: the file
 * is then saved without a `__metadata__` key; an empty table is saved as
 * `"__metadata__":{}`. Not thread-safe: see [class@ST.File].
 *
 * Since: 1.0
 */
void
st_file_set_metadata (STFile     *self,
                      GHashTable *metadata)
{
  GHashTable *copy = NULL;

  g_return_if_fail (ST_IS_FILE (self));
  g_return_if_fail (metadata == NULL || metadata_is_valid (metadata));

  if (metadata != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (copy, g_strdup (key), g_strdup (value));
    }

  g_clear_pointer (&self->metadata, g_hash_table_unref);
  self->metadata = copy;
}

/**
 * st_file_get_metadata_value:
 * @self: a file
 * @key: a metadata key
 *
 * Gives the metadata value of @key.
 *
 * Returns: (nullable): the value, owned by the file, or %NULL when there is none
 *
 * Since: 1.0
 */
const char *
st_file_get_metadata_value (STFile     *self,
                            const char *key)
{
  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (self->metadata == NULL)
    return NULL;

  return g_hash_table_lookup (self->metadata, key);
}

/**
 * st_file_set_metadata_value:
 * @self: a file
 * @key: a metadata key, UTF-8
 * @value: (nullable): its value, UTF-8, or %NULL to remove the key
 *
 * Sets or removes one metadata entry. Setting a value on a file without metadata gives
 * it some; removing the last key leaves it with empty metadata (saved as
 * `"__metadata__":{}`: use [method@ST.File.set_metadata] with %NULL to drop it).
 * Not thread-safe: see [class@ST.File].
 *
 * Since: 1.0
 */
void
st_file_set_metadata_value (STFile     *self,
                            const char *key,
                            const char *value)
{
  g_return_if_fail (ST_IS_FILE (self));
  g_return_if_fail (key != NULL && g_utf8_validate (key, -1, NULL));
  g_return_if_fail (value == NULL || g_utf8_validate (value, -1, NULL));

  if (value == NULL)
    {
      if (self->metadata != NULL)
        g_hash_table_remove (self->metadata, key);
      return;
    }

  if (self->metadata == NULL)
    self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_hash_table_replace (self->metadata, g_strdup (key), g_strdup (value));
}

/* Saving
 *
 * A save starts with a plan, made in the caller's thread: the serialized header and the list of byte
 * ranges to write after it, in order, with references on everything they point into. The plan is a
 * snapshot: an async save does not look at the file again, and the tensors' memory is written as is,
 * with no intermediate copy. */

typedef struct {
  GBytes        *header;       /* the 8-byte prefix and the padded JSON */
  GOutputVector *pieces;       /* the header, then each non-empty tensor's bytes, in file offset order */
  gsize          n_pieces;
  guint64        total_size;   /* header plus data */
  GPtrArray     *keep_alive;   /* the tensors and owners the pieces point into */
  GBytes        *source;       /* the loaded data the other pieces point into; nullable */
} SavePlan;

static void
save_plan_free (SavePlan *plan)
{
  g_bytes_unref (plan->header);
  g_free (plan->pieces);
  g_ptr_array_unref (plan->keep_alive);
  g_clear_pointer (&plan->source, g_bytes_unref);
  g_free (plan);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SavePlan, save_plan_free)

static SavePlan *
save_plan_new (STFile *self)
{
  g_autofree StWriterEntry *writer_entries = g_new0 (StWriterEntry, MAX (self->entries->len, 1));
  SavePlan *plan = g_new0 (SavePlan, 1);
  gsize n = self->entries->len;
  guint64 data_size = 0;
  guint64 expected_begin = 0;
  gsize header_len;

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

  plan->header = st_header_serialize (writer_entries, n, self->metadata, &data_size);
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
      plan->n_pieces++;
    }
  g_assert (expected_begin == data_size);

  plan->total_size = header_len + data_size;
  return plan;
}

/* Where a writer is in the plan's pieces. */
typedef struct {
  const SavePlan *plan;
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
static gsize
plan_cursor_fill (const PlanCursor *cursor,
                  GOutputVector    *vectors,
                  gsize            *out_n_bytes)
{
  gsize n_vectors = 0;
  gsize n_bytes = 0;
  gsize piece = cursor->piece;
  gsize offset = cursor->offset;

  while (piece < cursor->plan->n_pieces && n_vectors < WRITE_MAX_VECTORS && n_bytes < WRITE_GATHER_SIZE)
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

static gboolean
write_plan_to_fd (const SavePlan  *plan,
                  int              fd,
                  const char      *path,
                  GCancellable    *cancellable,
                  GError         **error)
{
  g_autofree GOutputVector *vectors = g_new (GOutputVector, WRITE_MAX_VECTORS);
  PlanCursor cursor = { plan, 0, 0 };

  while (!plan_cursor_done (&cursor))
    {
      gsize n_bytes;
      gsize n_vectors;
      gssize written;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      n_vectors = plan_cursor_fill (&cursor, vectors, &n_bytes);
      written = writev (fd, (const struct iovec *) vectors, (int) n_vectors);
      if (written < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          set_io_error_from_errno (error, errsv, "Could not write", path);
          return FALSE;
        }

      plan_cursor_advance (&cursor, (gsize) written);
    }

  return TRUE;
}

static gboolean
write_plan_to_stream (const SavePlan  *plan,
                      GOutputStream   *stream,
                      GCancellable    *cancellable,
                      GError         **error)
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

/* Where to write for @path: the file a symbolic link points to (as open() would write through it), or
 * @path itself. */
static char *
resolve_target (const char *path)
{
  char *resolved = realpath (path, NULL);
  char *target;

  if (resolved == NULL)
    return g_strdup (path);

  target = g_strdup (resolved);
  free (resolved);
  return target;
}

static gboolean
write_plan_to_path (const SavePlan  *plan,
                    const char      *path,
                    GCancellable    *cancellable,
                    GError         **error)
{
  g_autofree char *target = resolve_target (path);
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);
  g_autofree char *tmp_name = g_strdup_printf (".%s.XXXXXX", base);
  g_autofree char *tmp_path = g_build_filename (dir, tmp_name, NULL);
  struct stat st;
  int fd;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* Mode 0666 through open() gives 0666 & ~umask, what a plain create gives; an existing target keeps
   * its mode, as it would if it were truncated and rewritten. */
  fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      set_io_error_from_errno (error, errno, "Could not create a temporary file beside", target);
      return FALSE;
    }

  if (stat (target, &st) == 0 && S_ISREG (st.st_mode) && fchmod (fd, st.st_mode & 07777) != 0)
    {
      set_io_error_from_errno (error, errno, "Could not set the mode of", tmp_path);
      goto fail;
    }

  if (!write_plan_to_fd (plan, fd, tmp_path, cancellable, error))
    goto fail;

  /* No fsync(), as Hugging Face does none: the rename makes the file appear whole or not at all to
   * other processes, not across a power failure. */
  if (close (fd) != 0)
    {
      fd = -1;
      set_io_error_from_errno (error, errno, "Could not write", tmp_path);
      goto fail;
    }
  fd = -1;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    goto fail;

  if (g_rename (tmp_path, target) != 0)
    {
      set_io_error_from_errno (error, errno, "Could not replace", target);
      goto fail;
    }

  return TRUE;

fail:
  if (fd >= 0)
    close (fd);
  g_unlink (tmp_path);
  return FALSE;
}

/**
 * st_file_save_to_path:
 * @self: a file
 * @path: (type filename): where to save
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Saves the file in the safetensors format, atomically: the bytes go to a temporary file
 * in the directory of @path (named `.NAME.XXXXXX`), which then replaces @path with
 * rename(). On any failure, or on cancellation, the temporary file is removed and @path
 * is left as it was. A new file gets the mode a plain create would give it (0666 less the
 * umask); an existing one keeps its mode. When @path is a symbolic link, the file it
 * points to is replaced.
 *
 * Saving over the very file the tensors were loaded from is safe: the old mapping keeps
 * the old content alive until the last tensor of it goes.
 *
 * The output is exactly what Hugging Face's safetensors writes for the same tensors and
 * metadata (metadata keys sorted). The tensors' bytes are written straight from their
 * memory, without copies. Like Hugging Face's writer, this does not fsync(): after a
 * crash of the system (not of the process) the file may be incomplete.
 *
 * Errors are in the `G_IO_ERROR` domain, with the path in the message.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_save_to_path (STFile        *self,
                      const char    *path,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(SavePlan) plan = NULL;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  plan = save_plan_new (self);
  return write_plan_to_path (plan, path, cancellable, error);
}

typedef struct {
  SavePlan      *plan;
  char          *path;    /* for a save to a path */
  GOutputStream *stream;  /* for a save to a stream */
} SaveJob;

static void
save_job_free (SaveJob *job)
{
  save_plan_free (job->plan);
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
    ok = write_plan_to_path (job->plan, job->path, cancellable, &error);
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
            GOutputStream       *stream,
            gpointer             source_tag,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SaveJob *job = g_new0 (SaveJob, 1);

  job->plan = save_plan_new (self);
  job->path = g_strdup (path);
  job->stream = stream != NULL ? g_object_ref (stream) : NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  /* The thread looks at the cancellable itself, up to the rename: a cancellation that comes after the
   * target was replaced must not turn the finished save into an error ("the target is untouched"). */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, job, (GDestroyNotify) save_job_free);
  g_task_run_in_thread (task, save_thread);
}

/**
 * st_file_save_to_path_async:
 * @self: a file
 * @path: (type filename): where to save
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
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (ST_IS_FILE (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  save_async (self, path, NULL, st_file_save_to_path_async, cancellable, callback, user_data);
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
  g_autoptr(SavePlan) plan = NULL;
  guint8 *buffer;
  gsize offset = 0;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  plan = save_plan_new (self);

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
  g_autoptr(SavePlan) plan = NULL;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  plan = save_plan_new (self);
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

  save_async (self, NULL, stream, st_file_save_to_stream_async, cancellable, callback, user_data);
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
  g_autoptr(SavePlan) plan = NULL;
  const char *path;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  path = g_file_peek_path (file);
  if (path != NULL)
    return st_file_save_to_path (self, path, cancellable, error);

  stream = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, cancellable, error);
  if (stream == NULL)
    return FALSE;

  plan = save_plan_new (self);
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
