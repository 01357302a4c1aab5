/* st-file.c: a safetensors file: named tensors and metadata
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The type, its entries, lookup, metadata and layout. Loading is in st-file-load.c, saving in
 * st-file-save.c, sharded saving in st-file-shard.c.
 */
#include <string.h>

#include "st-error.h"
#include "st-file-entry-private.h"
#include "st-file-private.h"
#include "st-file-remote-private.h"
#include "st-file-peer-private.h"
#include "st-name-index-private.h"
#include "st-tensor-name-private.h"
#include "st-tensor-private.h"
#include "st-file.h"
#include "st-tensor-info-private.h"

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
 * place, or one added at the end) and removing one does too; both then notify
 * [property@ST.File:n-tensors] when the count changes, after items-changed, as GTK's own
 * models do.
 *
 * Reading a file (looking tensors up, listing names, reading metadata, listing its items,
 * saving) is safe from several threads at once. Changing it ([method@ST.File.set_tensor],
 * [method@ST.File.remove_tensor], the metadata setters) is not: do it from one thread,
 * with no reader running.
 *
 * Since: 1.0
 */

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

static void
st_file_finalize (GObject *object)
{
  STFile *self = ST_FILE (object);

  g_clear_pointer (&self->by_name, st_name_index_free);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->header, st_header_free);
  g_clear_pointer (&self->data, g_bytes_unref);
  g_clear_pointer (&self->metadata, g_hash_table_unref);
  if (self->block_items != NULL)
    {
      for (guint i = 0; i < self->n_loaded; i++)
        g_clear_object (&self->block_items[i]);
      g_clear_pointer (&self->block_items, g_free);
    }

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
  self->entries = g_ptr_array_new_with_free_func (st_file_entry_free);
  self->by_name = st_name_index_new ();
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

/* Where the list model's item of @entry is kept (see STFile.block_items); with @make FALSE, NULL when
 * it has none. The array of the loaded block's items is made on first use: readers in several threads
 * may make one at once, and the first stored wins. */
static STTensorInfo **
item_slot (STFile    *self,
           FileEntry *entry,
           gboolean   make)
{
  STTensorInfo **items;

  if (!entry->in_block)
    return &((FileEntryAdded *) entry)->item;

  items = g_atomic_pointer_get (&self->block_items);
  if (items == NULL)
    {
      if (!make)
        return NULL;
      items = g_new0 (STTensorInfo *, self->n_loaded);
      if (!g_atomic_pointer_compare_and_exchange (&self->block_items, NULL, items))
        {
          g_free (items);
          items = g_atomic_pointer_get (&self->block_items);
        }
    }
  return &items[entry - self->loaded_entries];
}

/* Drops the list model's item of @entry, which is about to change or go: the next one asked for
 * describes what the entry holds then. Holders of the old item keep it as it was. */
static void
forget_item (STFile    *self,
             FileEntry *entry)
{
  STTensorInfo **slot = item_slot (self, entry, FALSE);

  if (slot != NULL)
    g_clear_object (slot);
}

/* Where the thread's last lookup found its entry: callers mostly ask for the tensors of a file in file
 * order (a loader taking every tensor, a loop over the names, which are in file order when the file has
 * one dtype), so the entry after it is tried first, with one string comparison on memory read in order,
 * before the name index, whose slot is a cache miss in a large file (about a third of the cost of getting
 * a tensor of a 20,000-tensor file). Only a guess: a hit is checked against the file's current entries,
 * and a miss costs that one comparison. One per thread, so that readers in several threads share no
 * written memory; the file pointer only tells files apart (a new file at the address of a freed one
 * makes a guess that the comparison then checks like any other). */
static _Thread_local struct {
  const STFile *file;
  guint         next;  /* a position in file->entries */
} lookup_hint;

/* The name index, made on first use for a loaded file (st_file_new_loaded() keeps none, whatever the
 * parser made): a caller that takes the tensors in file order never needs one (see st_file_lookup_entry()).
 * Readers in several threads may make one at once: the first stored wins, the others drop theirs. */
StNameIndex *
st_file_get_index (STFile *self)
{
  StNameIndex *index = g_atomic_pointer_get (&self->by_name);

  if (G_LIKELY (index != NULL))
    return index;

  index = st_name_index_new_sized (self->entries->len);
  for (guint i = 0; i < self->entries->len; i++)
    {
      FileEntry *entry = g_ptr_array_index (self->entries, i);

      st_name_index_insert (index, entry->name, strlen (entry->name), entry);
    }
  if (!g_atomic_pointer_compare_and_exchange (&self->by_name, NULL, index))
    {
      st_name_index_free (index);
      index = g_atomic_pointer_get (&self->by_name);
    }
  return index;
}

FileEntry *
st_file_lookup_entry (STFile     *self,
                      const char *name)
{
  /* A file the thread has not looked into yet: its first entry first */
  guint next = lookup_hint.file == self ? lookup_hint.next : 0;
  FileEntry *entry;

  if (next < self->entries->len)
    {
      entry = g_ptr_array_index (self->entries, next);
      if (strcmp (entry->name, name) == 0)
        {
          lookup_hint.file = self;
          lookup_hint.next = next + 1;
          return entry;
        }
    }

  entry = st_name_index_lookup (st_file_get_index (self), name);

  /* A loaded entry's position in the block is its position in the file, until tensors are removed. */
  if (entry != NULL && entry->in_block)
    {
      guint position = (guint) (entry - self->loaded_entries);

      if (position < self->entries->len && g_ptr_array_index (self->entries, position) == entry)
        {
          lookup_hint.file = self;
          lookup_hint.next = position + 1;
        }
    }
  return entry;
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

  return st_file_lookup_entry (self, name) != NULL;
}

/**
 * st_file_get_tensor:
 * @self: a file
 * @name: a tensor name
 *
 * Gives the tensor named @name. A tensor of a loaded file is made on first access, as
 * a zero-copy slice of the file's memory; later calls give the same object.
 *
 * On a remote file ([method@ST.File.is_remote]) whose tensor was not fetched yet, this call
 * fetches it, blocking on network I/O, and gives %NULL when that fails:
 * [method@ST.File.lookup_tensor] gives the error, and [method@ST.File.fetch_tensors_async]
 * fetches without blocking.
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

  entry = st_file_lookup_entry (self, name);
  if (entry == NULL)
    return NULL;
  if (st_file_entry_get_loaded (entry) != NULL && self->data == NULL)
    return st_file_remote_fetch_entry (self, entry, NULL);  /* a remote file's tensor: fetched now */

  return st_file_entry_get_tensor (entry, self->data);
}

/**
 * st_file_lookup_tensor:
 * @self: a file
 * @name: a tensor name
 * @error: return location for a #GError
 *
 * Gives the tensor named @name, as [method@ST.File.get_tensor] does, or an error
 * (%ST_ERROR_NOT_FOUND) when there is none: the form bindings turn into an exception. On a
 * remote file, it may fetch the tensor as [method@ST.File.get_tensor] does, and then gives
 * the network's error when that fails.
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
  FileEntry *entry;
  STTensor *tensor;

  g_return_val_if_fail (ST_IS_FILE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entry = st_file_lookup_entry (self, name);
  if (entry != NULL && st_file_entry_get_loaded (entry) != NULL && self->data == NULL &&
      g_atomic_pointer_get (&entry->tensor) == NULL)
    return st_file_remote_fetch_entry (self, entry, error);  /* with the network's error */
  tensor = st_file_get_tensor (self, name);
  if (tensor == NULL)
    g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND, "No tensor named “%s”", name);

  return tensor;
}

/* The entry for @name, emptied when it held a tensor (it keeps its place in file order), or a new
 * empty entry at the end (*@out_added TRUE). @name has been checked. */
static FileEntry *
take_entry_for (STFile     *self,
                const char *name,
                gboolean   *out_added)
{
  FileEntry *entry = st_file_lookup_entry (self, name);
  StNameIndex *index;

  *out_added = entry == NULL;
  if (entry != NULL)
    {
      forget_item (self, entry);
      st_file_entry_clear_contents (entry);
      return entry;
    }

  index = st_file_get_index (self);  /* before the entry is added, which it would index */
  entry = (FileEntry *) g_new0 (FileEntryAdded, 1);
  entry->name = g_strdup (name);
  g_ptr_array_add (self->entries, entry);
  st_name_index_insert (index, entry->name, strlen (entry->name), entry);
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

  /* An emission with nobody listening costs as much as the rest of a set (bindings set tensors by
   * the thousand when they save): ask first. */
  if (G_UNLIKELY (signal_id == 0))
    {
      signal_id = g_signal_lookup ("items-changed", G_TYPE_LIST_MODEL);
      g_atomic_int_set (&items_changed_id, signal_id);
    }
  if (g_signal_has_handler_pending (self, signal_id, 0, TRUE))
    {
      if (!added)
        g_ptr_array_find (self->entries, entry, &position);
      g_list_model_items_changed (G_LIST_MODEL (self), position, added ? 0 : 1, 1);
    }

  /* As GTK's own models do: the items first, then the count, so that a handler of :n-tensors finds
   * the model already changed and a view already told. */
  if (added)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TENSORS]);
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

  if (!st_file_check_tensor_name (name, error))
    return FALSE;

  /* Referenced before the entry lets go of what it holds: @tensor may be the entry's own. */
  g_object_ref (tensor);
  entry = take_entry_for (self, name, &added);
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

  if (!st_file_check_tensor_name (name, error))
    return FALSE;

  external = g_malloc (sizeof (ExternalData) + n_dims * sizeof (gint64));
  external->owner = owner != NULL ? g_object_ref (owner) : NULL;
  external->data = GSIZE_TO_POINTER ((gsize) data_address);
  external->n_bytes = n_bytes;
  external->dtype = dtype;
  external->n_dims = n_dims;
  if (n_dims > 0)
    memcpy (external->shape, shape, n_dims * sizeof (gint64));

  entry = take_entry_for (self, name, &added);
  entry->of.external = external;
  entry->form = FILE_ENTRY_EXTERNAL;
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
  StNameIndex *index;
  guint position = 0;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  entry = st_file_lookup_entry (self, name);
  if (entry == NULL)
    return FALSE;

  /* A name index made since the load knows the entry; none made yet will be made without it */
  index = g_atomic_pointer_get (&self->by_name);
  if (index != NULL)
    st_name_index_remove (index, name);
  g_ptr_array_find (self->entries, entry, &position);
  forget_item (self, entry);
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
  guint64 begin;
  guint64 end;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  entry = st_file_lookup_entry (self, name);
  if (entry == NULL || !st_file_entry_get_offsets (entry, &begin, &end))
    return FALSE;

  if (out_begin != NULL)
    *out_begin = begin;
  if (out_end != NULL)
    *out_end = end;
  return TRUE;
}

const gint64 *
st_file_peek_layout (STFile     *self,
                     const char *name,
                     STDType    *out_dtype,
                     guint      *out_n_dims)
{
  FileEntry *entry = st_file_lookup_entry (self, name);

  return entry != NULL ? st_file_entry_get_layout (entry, out_dtype, out_n_dims) : NULL;
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

      st_file_entry_get_layout (g_ptr_array_index (self->entries, i), &dtype, &n_dims);
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
      const gint64 *shape = st_file_entry_get_layout (entry, &dtype, &n_dims);
      gint64 begin;
      gint64 end;

      st_file_entry_get_signed_offsets (entry, &begin, &end);
      values[at++] = dtype;
      values[at++] = begin;
      values[at++] = end;
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
 * Gives the length of the data buffer of the loaded file (of a remote file too, whose data stays
 * on its server).
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
    return self->header != NULL ? self->header->data_size : 0;  /* a remote file's */

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

/* The item of @entry (a new reference), made on first access and kept until the entry changes; as with
 * tensors, readers in several threads may make one at once and agree on the first stored. */
static STTensorInfo *
entry_dup_item (STFile    *self,
                FileEntry *entry)
{
  STTensorInfo **slot = item_slot (self, entry, TRUE);
  STTensorInfo *info = g_atomic_pointer_get (slot);
  const gint64 *shape;
  STDType dtype;
  guint n_dims;
  gint64 begin;
  gint64 end;

  if (info != NULL)
    return g_object_ref (info);

  shape = st_file_entry_get_layout (entry, &dtype, &n_dims);
  st_file_entry_get_signed_offsets (entry, &begin, &end);
  info = st_tensor_info_new (entry->name, dtype, shape, n_dims, begin, end, NULL);
  if (!g_atomic_pointer_compare_and_exchange (slot, NULL, info))
    {
      g_object_unref (info);
      info = g_atomic_pointer_get (slot);
    }
  return g_object_ref (info);
}

static gpointer
st_file_get_item (GListModel *model,
                  guint       position)
{
  STFile *self = ST_FILE (model);

  if (position >= self->entries->len)
    return NULL;
  return entry_dup_item (self, g_ptr_array_index (self->entries, position));
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

  copy = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_free);
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

      copy = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_free);
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
    self->metadata = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_free);

  g_hash_table_replace (self->metadata, g_strdup (key), g_strdup (value));
}
