/* st-planned-save.c: a save whose tensor bytes are written by others (many processes, many ranks)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The ranks of a distributed save each hold a part of the tensors. Funnelling the bytes through one
 * process that saves them would write everything twice; instead one process plans the save (the
 * files, their headers, where each tensor's bytes go), makes the files with their headers under
 * hidden names, every process writes its bytes straight into them, and the planner commits them the
 * way st_file_save_to_path() or st_file_save_sharded() commits its own (st-file-shard-private.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-checkpoint-private.h"
#include "st-error.h"
#include "st-file-shard-private.h"
#include "st-index-json-private.h"
#include "st-io-private.h"
#include "st-pending-file-private.h"
#include "st-planned-save.h"
#include "st-save-plan-private.h"
#include "st-tensor-name-private.h"

/**
 * STPlannedSave:
 *
 * A save whose tensor bytes other processes write, for saves from many ranks: the
 * planner describes the tensors (name, dtype, shape) and the metadata, lays the save
 * out, makes the files, and commits them once every writer is done.
 *
 * The files are byte for byte what [method@ST.File.save_to_path] (with a
 * @max_shard_size of 0) or [method@ST.File.save_sharded] writes for an [class@ST.File]
 * holding the same tensors, added in the same order, and the same metadata: the same
 * shard split, names, headers, index and data offsets. The commit gives the same
 * guarantees as those saves (see [Durability](durability.html)).
 *
 * ```c
 * g_autoptr(STPlannedSave) save = st_planned_save_new ("model", 5000000000);
 * st_planned_save_add_tensor (save, "embed", ST_DTYPE_BF16, shape, 2, &error);
 * st_planned_save_prepare (save, "checkpoint", &error);    // lays out, makes the files
 * // every writer: open st_planned_save_get_work_path (save, file) and pwrite() each
 * // tensor's bytes at the offset st_planned_save_locate() gives (st_write_ranges())
 * st_planned_save_commit (save, ST_SAVE_FLAGS_NONE, &error);
 * ```
 *
 * Until the commit the files have hidden names in a work folder of the checkpoint's
 * folder, `.st-save-XXXXXX`, locked by the preparing process: a discarded or
 * finalized save removes them, and when the preparing process dies, the next save into
 * that folder does.
 *
 * Since: 1.2
 */

typedef struct {
  char    *name;
  STDType  dtype;
  gint64  *shape;
  guint    n_dims;
  guint64  n_bytes;
  guint    file;     /* set by the layout */
  guint64  offset;   /* of the tensor's bytes in its file, set by the layout */
} PlannedTensor;

static void
planned_tensor_free (PlannedTensor *tensor)
{
  g_free (tensor->name);
  g_free (tensor->shape);
  g_free (tensor);
}

struct _STPlannedSave {
  GObject              parent_instance;

  char                *prefix;
  guint64              max_shard_size;  /* 0: one file, as st_file_save_to_path() */
  GPtrArray           *tensors;         /* PlannedTensor *, in the order added */
  GHashTable          *by_name;         /* name -> PlannedTensor * */
  GHashTable          *metadata;        /* nullable */

  /* the layout */
  gboolean             laid_out;
  GPtrArray           *file_names;      /* char * */
  GPtrArray           *headers;         /* GBytes *: the 8-byte prefix and the JSON */
  GArray              *file_sizes;      /* guint64 */
  char                *index_name;      /* NULL without an index */
  char                *index_json;

  /* the files, once prepared */
  char                *directory;
  StCheckpointWorkDir *work_dir;
  GPtrArray           *pending;         /* StPendingFile *: the files, then the index's */
  GPtrArray           *targets;         /* char *: what each pending file replaces */
};

G_DEFINE_FINAL_TYPE (STPlannedSave, st_planned_save, G_TYPE_OBJECT)

static void
st_planned_save_finalize (GObject *object)
{
  STPlannedSave *self = ST_PLANNED_SAVE (object);

  st_planned_save_discard (self);
  g_free (self->prefix);
  g_ptr_array_unref (self->tensors);
  g_hash_table_unref (self->by_name);
  g_clear_pointer (&self->metadata, g_hash_table_unref);
  g_clear_pointer (&self->file_names, g_ptr_array_unref);
  g_clear_pointer (&self->headers, g_ptr_array_unref);
  g_clear_pointer (&self->file_sizes, g_array_unref);
  g_free (self->index_name);
  g_free (self->index_json);
  g_free (self->directory);

  G_OBJECT_CLASS (st_planned_save_parent_class)->finalize (object);
}

static void
st_planned_save_class_init (STPlannedSaveClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = st_planned_save_finalize;
}

static void
st_planned_save_init (STPlannedSave *self)
{
  self->prefix = g_strdup ("model");
  self->tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) planned_tensor_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
}

/**
 * st_planned_save_new:
 * @prefix: the name the files begin with, usually `model`
 * @max_shard_size: 0 for one file, `@prefix.safetensors`, as
 *   [method@ST.File.save_to_path] writes it; otherwise the largest sum of tensor bytes
 *   a shard may hold, as for [method@ST.File.save_sharded]
 *
 * Makes an empty planned save. Add the tensors with
 * [method@ST.PlannedSave.add_tensor], in the order a sharded save takes them.
 *
 * Returns: (transfer full): a new planned save
 *
 * Since: 1.2
 */
STPlannedSave *
st_planned_save_new (const char *prefix,
                     guint64     max_shard_size)
{
  STPlannedSave *self;

  g_return_val_if_fail (prefix != NULL, NULL);

  self = g_object_new (ST_TYPE_PLANNED_SAVE, NULL);
  g_free (self->prefix);
  self->prefix = g_strdup (prefix);
  self->max_shard_size = max_shard_size;
  return self;
}

/**
 * st_planned_save_add_tensor:
 * @self: a planned save not laid out yet
 * @name: the tensor's name
 * @dtype: its element type
 * @shape: (array length=n_dims) (nullable): its dimensions; %NULL only when @n_dims is 0
 * @n_dims: the number of dimensions (0 for a scalar)
 * @error: return location for a #GError
 *
 * Adds a tensor to the save. Its bytes are not given: whoever writes them places them
 * where [method@ST.PlannedSave.locate] says.
 *
 * Returns: %TRUE, or %FALSE with @error set: a name the format cannot hold
 *   (`ST_ERROR_INVALID_HEADER`: not UTF-8, `__metadata__`), a name already added
 *   (`ST_ERROR_DUPLICATE_NAME`), or a dtype and shape no tensor has
 *   (`ST_ERROR_INVALID_DTYPE`, `ST_ERROR_INVALID_SHAPE`, `ST_ERROR_MISALIGNED_SUB_BYTE`)
 *
 * Since: 1.2
 */
gboolean
st_planned_save_add_tensor (STPlannedSave  *self,
                            const char     *name,
                            STDType         dtype,
                            const gint64   *shape,
                            guint           n_dims,
                            GError        **error)
{
  PlannedTensor *tensor;
  guint64 n_bytes = 0;

  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), FALSE);
  g_return_val_if_fail (!self->laid_out, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (shape != NULL || n_dims == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!st_file_check_tensor_name (name, error))
    return FALSE;
  if (g_hash_table_contains (self->by_name, name))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_DUPLICATE_NAME, "The tensor “%s” is already in the save", name);
      return FALSE;
    }
  if (!st_dtype_compute_n_bytes (dtype, shape, n_dims, &n_bytes, error))
    {
      g_prefix_error (error, "Tensor “%s”: ", name);
      return FALSE;
    }

  tensor = g_new0 (PlannedTensor, 1);
  tensor->name = g_strdup (name);
  tensor->dtype = dtype;
  tensor->shape = g_memdup2 (shape, n_dims * sizeof (gint64));
  tensor->n_dims = n_dims;
  tensor->n_bytes = n_bytes;
  g_ptr_array_add (self->tensors, tensor);
  g_hash_table_insert (self->by_name, tensor->name, tensor);
  return TRUE;
}

/**
 * st_planned_save_set_metadata:
 * @self: a planned save not laid out yet
 * @metadata: (nullable) (element-type utf8 utf8) (transfer none): the `__metadata__`,
 *   string keys to string values, all UTF-8; %NULL for none
 *
 * Sets the metadata every file of the save holds, as [method@ST.File.set_metadata]
 * does for a file (and the index's, for a sharded save).
 *
 * Since: 1.2
 */
void
st_planned_save_set_metadata (STPlannedSave *self,
                              GHashTable    *metadata)
{
  GHashTableIter iter;
  gpointer key, value;

  g_return_if_fail (ST_IS_PLANNED_SAVE (self));
  g_return_if_fail (!self->laid_out);

  g_clear_pointer (&self->metadata, g_hash_table_unref);
  if (metadata == NULL)
    return;
  self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&iter, metadata);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_return_if_fail (key != NULL && value != NULL && g_utf8_validate (key, -1, NULL) &&
                        g_utf8_validate (value, -1, NULL));
      g_hash_table_insert (self->metadata, g_strdup (key), g_strdup (value));
    }
}

typedef struct {
  const char *name;
  const char *shard;
} NameShard;

static int
compare_name_shards (gconstpointer a,
                     gconstpointer b)
{
  return strcmp (((const NameShard *) a)->name, ((const NameShard *) b)->name);
}

/* Lays out the file holding @tensors[first, last) of @order as file @file: its header and the
 * tensors' places. */
static gboolean
lay_out_file (STPlannedSave  *self,
              guint           file,
              const guint    *order,
              guint           first,
              guint           last,
              GError        **error)
{
  g_autofree StWriterEntry *entries = g_new0 (StWriterEntry, MAX (last - first, 1));
  g_autoptr(GBytes) header = NULL;
  guint64 data_size = 0;
  gsize header_len;

  for (guint i = first; i < last; i++)
    {
      PlannedTensor *tensor = g_ptr_array_index (self->tensors, order[i]);
      StWriterEntry *entry = &entries[i - first];

      entry->name = tensor->name;
      entry->dtype = tensor->dtype;
      entry->shape = tensor->shape;
      entry->n_dims = tensor->n_dims;
      entry->n_bytes = tensor->n_bytes;
      entry->user_data = tensor;
    }
  header = st_save_layout (entries, last - first, self->metadata, 0, &data_size, error);
  if (header == NULL)
    return FALSE;
  header_len = g_bytes_get_size (header);
  for (guint i = 0; i < last - first; i++)
    {
      PlannedTensor *tensor = entries[i].user_data;

      tensor->file = file;
      tensor->offset = header_len + entries[i].begin;
    }
  data_size += header_len;
  g_array_append_val (self->file_sizes, data_size);
  g_ptr_array_add (self->headers, g_steal_pointer (&header));
  return TRUE;
}

/**
 * st_planned_save_lay_out:
 * @self: a planned save
 * @error: return location for a #GError
 *
 * Decides the files of the save: their names, headers and sizes, and where each
 * tensor's bytes go. The tensors and metadata cannot change after it; calling it again
 * does nothing. [method@ST.PlannedSave.prepare] calls it.
 *
 * Returns: %TRUE, or %FALSE with @error set: `G_IO_ERROR_INVALID_ARGUMENT` for a prefix
 *   that is not a plain file name or more shards than five digits number,
 *   `ST_ERROR_HEADER_TOO_LARGE` for a header larger than a reader accepts
 *
 * Since: 1.2
 */
gboolean
st_planned_save_lay_out (STPlannedSave  *self,
                         GError        **error)
{
  guint n = 0;
  g_autofree guint64 *sizes = NULL;
  g_autofree guint *order = NULL;
  g_autoptr(GArray) starts = NULL;
  guint64 total_size = 0;
  guint n_shards;

  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->laid_out)
    return TRUE;
  if (!st_is_plain_file_name (self->prefix))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The prefix “%s” is not a plain file name", self->prefix);
      return FALSE;
    }

  n = self->tensors->len;
  sizes = g_new (guint64, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      sizes[i] = ((PlannedTensor *) g_ptr_array_index (self->tensors, i))->n_bytes;
      total_size += sizes[i];
    }
  if (self->max_shard_size == 0)
    {
      order = g_new (guint, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        order[i] = i;
      starts = g_array_new (FALSE, FALSE, sizeof (guint));
      g_array_append_val (starts, n);
      n_shards = 0;
    }
  else
    {
      order = st_shard_split (sizes, n, self->max_shard_size, &starts);
      n_shards = starts->len - 1;
    }
  if (n_shards > 99999)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%u shards would not fit the five-digit shard names; use a larger maximum shard size",
                   n_shards);
      return FALSE;
    }

  self->file_names = g_ptr_array_new_with_free_func (g_free);
  self->headers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->file_sizes = g_array_new (FALSE, FALSE, sizeof (guint64));

  if (n_shards <= 1)
    {
      if (!lay_out_file (self, 0, order, 0, n, error))
        goto failed;
      g_ptr_array_add (self->file_names, g_strconcat (self->prefix, ".safetensors", NULL));
    }
  else
    {
      g_autoptr(GArray) name_shards = g_array_sized_new (FALSE, FALSE, sizeof (NameShard), n);
      g_autoptr(GPtrArray) sorted_names = g_ptr_array_sized_new (n);
      g_autoptr(GPtrArray) sorted_shards = g_ptr_array_sized_new (n);

      for (guint k = 0; k < n_shards; k++)
        {
          guint first = g_array_index (starts, guint, k);
          guint last = g_array_index (starts, guint, k + 1);
          char *file_name = g_strdup_printf ("%s-%05u-of-%05u.safetensors", self->prefix, k + 1, n_shards);

          g_ptr_array_add (self->file_names, file_name);
          if (!lay_out_file (self, k, order, first, last, error))
            goto failed;
          for (guint i = first; i < last; i++)
            {
              NameShard entry = { ((PlannedTensor *) g_ptr_array_index (self->tensors, order[i]))->name,
                                  file_name };
              g_array_append_val (name_shards, entry);
            }
        }
      g_array_sort (name_shards, compare_name_shards);
      for (guint i = 0; i < name_shards->len; i++)
        {
          NameShard *entry = &g_array_index (name_shards, NameShard, i);

          g_ptr_array_add (sorted_names, (gpointer) entry->name);
          g_ptr_array_add (sorted_shards, (gpointer) entry->shard);
        }
      self->index_json = st_index_json_format (self->metadata, total_size, sorted_names, sorted_shards);
      self->index_name = g_strconcat (self->prefix, ".safetensors.index.json", NULL);
    }

  self->laid_out = TRUE;
  return TRUE;

failed:
  g_clear_pointer (&self->file_names, g_ptr_array_unref);
  g_clear_pointer (&self->headers, g_ptr_array_unref);
  g_clear_pointer (&self->file_sizes, g_array_unref);
  return FALSE;
}

/**
 * st_planned_save_get_n_files:
 * @self: a planned save, laid out
 *
 * Tells how many tensor files the save writes (the index not counted).
 *
 * Returns: the number of files: 1 for a single file, the shard count otherwise
 *
 * Since: 1.2
 */
guint
st_planned_save_get_n_files (STPlannedSave *self)
{
  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), 0);
  g_return_val_if_fail (self->laid_out, 0);

  return self->file_names->len;
}

/**
 * st_planned_save_get_file_name:
 * @self: a planned save, laid out
 * @file: a file's number, below [method@ST.PlannedSave.get_n_files]
 *
 * Gives the name file @file will have in the checkpoint's folder:
 * `@prefix.safetensors`, or `@prefix-0000K-of-0000N.safetensors`.
 *
 * Returns: (type filename): the file's name
 *
 * Since: 1.2
 */
const char *
st_planned_save_get_file_name (STPlannedSave *self,
                               guint          file)
{
  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), NULL);
  g_return_val_if_fail (self->laid_out && file < self->file_names->len, NULL);

  return g_ptr_array_index (self->file_names, file);
}

/**
 * st_planned_save_get_file_size:
 * @self: a planned save, laid out
 * @file: a file's number, below [method@ST.PlannedSave.get_n_files]
 *
 * Gives the size of file @file: its header and its tensors' bytes.
 *
 * Returns: the size in bytes
 *
 * Since: 1.2
 */
guint64
st_planned_save_get_file_size (STPlannedSave *self,
                               guint          file)
{
  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), 0);
  g_return_val_if_fail (self->laid_out && file < self->file_names->len, 0);

  return g_array_index (self->file_sizes, guint64, file);
}

/**
 * st_planned_save_get_header:
 * @self: a planned save, laid out
 * @file: a file's number, below [method@ST.PlannedSave.get_n_files]
 *
 * Gives the first bytes of file @file: the 8-byte little-endian header length, then
 * the header's JSON, padded with spaces to a multiple of 8 bytes, exactly as the
 * library's saves write it.
 *
 * Returns: (transfer full): the header's bytes
 *
 * Since: 1.2
 */
GBytes *
st_planned_save_get_header (STPlannedSave *self,
                            guint          file)
{
  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), NULL);
  g_return_val_if_fail (self->laid_out && file < self->file_names->len, NULL);

  return g_bytes_ref (g_ptr_array_index (self->headers, file));
}

/**
 * st_planned_save_locate:
 * @self: a planned save, laid out
 * @name: the name of a tensor of the save
 * @out_file: (out): the number of the file that holds it
 * @out_offset: (out): where its bytes begin in that file, from the file's start
 *   (header included)
 * @error: return location for a #GError
 *
 * Tells where the bytes of tensor @name go: row-major, little-endian, packed, from
 * @out_offset on, for as many bytes as its dtype and shape take.
 *
 * Returns: %TRUE, or %FALSE with `ST_ERROR_NOT_FOUND` when the save has no such tensor
 *
 * Since: 1.2
 */
gboolean
st_planned_save_locate (STPlannedSave  *self,
                        const char     *name,
                        guint          *out_file,
                        guint64        *out_offset,
                        GError        **error)
{
  PlannedTensor *tensor;

  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), FALSE);
  g_return_val_if_fail (self->laid_out, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  tensor = g_hash_table_lookup (self->by_name, name);
  if (tensor == NULL)
    {
      g_autofree char *shown = g_utf8_make_valid (name, -1);

      g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND, "The save has no tensor “%s”", shown);
      return FALSE;
    }
  if (out_file != NULL)
    *out_file = tensor->file;
  if (out_offset != NULL)
    *out_offset = tensor->offset;
  return TRUE;
}

/* Makes the pending file for @file_name (a tensor file with @header and @size bytes, or the index
 * with @text), named, in the work folder or beside the file a link points to. */
static gboolean
prepare_file (STPlannedSave  *self,
              const char     *file_name,
              GBytes         *header,
              guint64         size,
              const char     *text,
              GError        **error)
{
  g_autofree char *link = g_build_filename (self->directory, file_name, NULL);
  gboolean is_link = FALSE;
  g_autofree char *target = st_shard_resolve_target (link, &is_link);
  g_autofree char *link_directory = is_link ? g_path_get_dirname (target) : NULL;
  StPendingFile *pending;
  const void *bytes;
  gsize length;
  int fd;

  if (!st_check_save_target (target, NULL, error))
    return FALSE;
  pending = st_pending_file_new (is_link ? link_directory : st_checkpoint_work_dir_get_path (self->work_dir),
                                 target, error);
  if (pending == NULL)
    return FALSE;
  g_ptr_array_add (self->pending, pending);
  g_ptr_array_add (self->targets, g_strdup (target));

  fd = st_pending_file_get_fd (pending);
  bytes = header != NULL ? g_bytes_get_data (header, &length) : text;
  if (header == NULL)
    length = strlen (text);
  /* a new file, empty: its bytes go from offset 0 on */
  if (st_pwrite_all (fd, bytes, length, 0, G_MAXSIZE, NULL) != length)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", target);
      return FALSE;
    }
  if (header != NULL)
    {
      /* the whole size at once: a disk too small fails here, and a tensor nobody wrote reads as
       * zeros, not as a file too short */
      if (!st_pending_file_reserve (pending, size, target, error))
        return FALSE;
      if (ftruncate (fd, (off_t) size) != 0)
        {
          st_set_io_error_from_errno (error, errno, "Could not write", target);
          return FALSE;
        }
    }
  return st_pending_file_park (pending, ST_SAVE_FLAGS_NONE, error);
}

/**
 * st_planned_save_prepare:
 * @self: a planned save
 * @directory: (type filename): the checkpoint's folder; it must exist
 * @error: return location for a #GError
 *
 * Lays the save out when that is not done yet, then makes its files in a work folder
 * of @directory: each file with its header, at its full size (the tensors' bytes read
 * as zeros until written), under the name [method@ST.PlannedSave.get_work_path] gives,
 * which any process may open for writing. Nothing in @directory changes but the work
 * folder; the work folders that dead saves left in @directory are removed.
 *
 * Every target must be a new name or a regular file the caller could write, as for
 * [method@ST.File.save_to_path]; a symbolic link in place of a file is followed, and
 * its file made beside the one it points to.
 *
 * Returns: %TRUE, or %FALSE with @error set (the errors of
 *   [method@ST.PlannedSave.lay_out] and of [method@ST.File.save_sharded]); the save is
 *   then discarded
 *
 * Since: 1.2
 */
gboolean
st_planned_save_prepare (STPlannedSave  *self,
                         const char     *directory,
                         GError        **error)
{
  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), FALSE);
  g_return_val_if_fail (directory != NULL, FALSE);
  g_return_val_if_fail (self->pending == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!st_planned_save_lay_out (self, error))
    return FALSE;

  {
    g_autoptr(StCheckpointLock) lock = st_checkpoint_lock (directory, TRUE);

    st_checkpoint_remove_dead_work_dirs (directory);
  }

  g_free (self->directory);
  self->directory = g_strdup (directory);
  self->work_dir = st_checkpoint_work_dir_new (directory, error);
  if (self->work_dir == NULL)
    return FALSE;
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) st_pending_file_free);
  self->targets = g_ptr_array_new_with_free_func (g_free);

  for (guint k = 0; k < self->file_names->len; k++)
    if (!prepare_file (self, g_ptr_array_index (self->file_names, k), g_ptr_array_index (self->headers, k),
                       g_array_index (self->file_sizes, guint64, k), NULL, error))
      {
        st_planned_save_discard (self);
        return FALSE;
      }
  if (self->index_name != NULL &&
      !prepare_file (self, self->index_name, NULL, 0, self->index_json, error))
    {
      st_planned_save_discard (self);
      return FALSE;
    }
  return TRUE;
}

/**
 * st_planned_save_get_work_path:
 * @self: a prepared planned save
 * @file: a file's number, below [method@ST.PlannedSave.get_n_files]
 *
 * Gives the path under which file @file waits for its bytes until the commit. Open it
 * for writing (without truncating it) and write each tensor's bytes where
 * [method@ST.PlannedSave.locate] says, from any process: [func@ST.write_ranges]
 * writes many tensors, or many rows of slices, in few calls.
 *
 * Returns: (type filename): the file's path until the commit
 *
 * Since: 1.2
 */
const char *
st_planned_save_get_work_path (STPlannedSave *self,
                               guint          file)
{
  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), NULL);
  g_return_val_if_fail (self->pending != NULL && file < self->file_names->len, NULL);

  return st_pending_file_get_path (g_ptr_array_index (self->pending, file));
}

/**
 * st_planned_save_commit:
 * @self: a prepared planned save whose files every writer has written
 * @flags: how to commit; %ST_SAVE_FLAGS_SYNC syncs every file and the folder first
 * @error: return location for a #GError
 *
 * Puts the files in place as [method@ST.File.save_to_path] (one file renamed over its
 * target) or [method@ST.File.save_sharded] (the shards and the index renamed holding
 * the folder's lock, with the commit mark readers check, then the replaced
 * checkpoint's other files removed) does, and removes the work folder. Call it only
 * when every writer succeeded: the bytes are not read back.
 *
 * Returns: %TRUE, or %FALSE with @error set; the save is then discarded, and the folder
 *   holds what a failed commit of [method@ST.File.save_sharded] leaves
 *
 * Since: 1.2
 */
gboolean
st_planned_save_commit (STPlannedSave  *self,
                        STSaveFlags     flags,
                        GError        **error)
{
  gboolean ok;

  g_return_val_if_fail (ST_IS_PLANNED_SAVE (self), FALSE);
  g_return_val_if_fail (self->pending != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (flags & ST_SAVE_FLAGS_SYNC)
    for (guint k = 0; k < self->pending->len; k++)
      {
        const char *path = st_pending_file_get_path (g_ptr_array_index (self->pending, k));
        int fd = open (path, O_RDONLY | O_CLOEXEC);
        gboolean synced;

        if (fd < 0)
          {
            st_set_io_error_from_errno (error, errno, "Could not open", path);
            st_planned_save_discard (self);
            return FALSE;
          }
        synced = st_sync_fd (fd, path, error);
        close (fd);
        if (!synced)
          {
            st_planned_save_discard (self);
            return FALSE;
          }
      }

  if (self->max_shard_size == 0)
    {
      const char *target = g_ptr_array_index (self->targets, 0);
      g_autofree char *target_directory = g_path_get_dirname (target);

      ok = st_pending_file_commit (g_ptr_array_index (self->pending, 0), target, flags, error) &&
           (!(flags & ST_SAVE_FLAGS_SYNC) || st_sync_directory (target_directory, error));
    }
  else
    ok = st_shard_commit (self->directory, self->prefix, self->index_name, self->file_names, self->pending,
                          self->targets, flags, error);

  st_planned_save_discard (self);
  return ok;
}

/**
 * st_planned_save_discard:
 * @self: a planned save
 *
 * Removes the files [method@ST.PlannedSave.prepare] made and its work folder, when
 * they were not committed: what a save that fails on any writer does. Finalizing the
 * save does it too. The layout stays: the save may be prepared again.
 *
 * Since: 1.2
 */
void
st_planned_save_discard (STPlannedSave *self)
{
  g_return_if_fail (ST_IS_PLANNED_SAVE (self));

  /* the pending files first: the work folder is removed once empty */
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->targets, g_ptr_array_unref);
  g_clear_pointer (&self->work_dir, st_checkpoint_work_dir_free);
}

/* The asynchronous forms: the synchronous calls, run in a thread of GIO's pool. */

typedef struct {
  char        *directory;
  STSaveFlags  flags;
} PlannedSaveCall;

static void
planned_save_call_free (PlannedSaveCall *call)
{
  g_free (call->directory);
  g_free (call);
}

static void
prepare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PlannedSaveCall *call = task_data;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (st_planned_save_prepare (ST_PLANNED_SAVE (source_object), call->directory, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * st_planned_save_prepare_async:
 * @self: a planned save
 * @directory: (type filename): the checkpoint's folder; it must exist
 * @cancellable: (nullable): a #GCancellable, looked at before the files are made
 * @callback: (scope async): called on the thread-default main context of the caller when
 *   the files are made or the call failed
 * @user_data: data for @callback
 *
 * Does what [method@ST.PlannedSave.prepare] does, in a worker thread: making files at
 * their full size may take a while on some file systems. Leave @self alone until
 * @callback runs.
 *
 * Since: 1.2
 */
void
st_planned_save_prepare_async (STPlannedSave       *self,
                               const char          *directory,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PlannedSaveCall *call;

  g_return_if_fail (ST_IS_PLANNED_SAVE (self));
  g_return_if_fail (directory != NULL);
  g_return_if_fail (self->pending == NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_planned_save_prepare_async);
  call = g_new0 (PlannedSaveCall, 1);
  call->directory = g_strdup (directory);
  g_task_set_task_data (task, call, (GDestroyNotify) planned_save_call_free);
  g_task_run_in_thread (task, prepare_thread);
}

/**
 * st_planned_save_prepare_finish:
 * @self: a planned save
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.PlannedSave.prepare_async].
 *
 * Returns: %TRUE, or %FALSE with @error set as [method@ST.PlannedSave.prepare] sets it
 *   (or %G_IO_ERROR_CANCELLED when cancelled before the files were made)
 *
 * Since: 1.2
 */
gboolean
st_planned_save_prepare_finish (STPlannedSave  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_planned_save_prepare_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
commit_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  PlannedSaveCall *call = task_data;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    {
      st_planned_save_discard (ST_PLANNED_SAVE (source_object));
      return;
    }
  if (st_planned_save_commit (ST_PLANNED_SAVE (source_object), call->flags, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * st_planned_save_commit_async:
 * @self: a prepared planned save whose files every writer has written
 * @flags: how to commit; %ST_SAVE_FLAGS_SYNC syncs every file and the folder first
 * @cancellable: (nullable): a #GCancellable, looked at before the commit begins (a commit
 *   once begun is not interrupted: it ends with the new checkpoint or the old one)
 * @callback: (scope async): called on the thread-default main context of the caller when
 *   the commit is done or failed
 * @user_data: data for @callback
 *
 * Does what [method@ST.PlannedSave.commit] does, in a worker thread: with
 * %ST_SAVE_FLAGS_SYNC it waits for the disk. Cancelled before it begins, it discards the
 * save as a failed commit does, and the folder keeps its previous checkpoint. Leave
 * @self alone until @callback runs.
 *
 * Since: 1.2
 */
void
st_planned_save_commit_async (STPlannedSave       *self,
                              STSaveFlags          flags,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PlannedSaveCall *call;

  g_return_if_fail (ST_IS_PLANNED_SAVE (self));
  g_return_if_fail (self->pending != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_planned_save_commit_async);
  call = g_new0 (PlannedSaveCall, 1);
  call->flags = flags;
  g_task_set_task_data (task, call, (GDestroyNotify) planned_save_call_free);
  g_task_run_in_thread (task, commit_thread);
}

/**
 * st_planned_save_commit_finish:
 * @self: a planned save
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.PlannedSave.commit_async].
 *
 * Returns: %TRUE when the checkpoint is in place, or %FALSE with @error set as
 *   [method@ST.PlannedSave.commit] sets it (or %G_IO_ERROR_CANCELLED when cancelled
 *   before the commit began); the save is then discarded
 *
 * Since: 1.2
 */
gboolean
st_planned_save_commit_finish (STPlannedSave  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_planned_save_commit_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
