/* st-file-entry.c: one tensor of an STFile, in its three forms (loaded, external, held)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The one place that switches on an entry's form: the rest of STFile asks these functions.
 */
#include "st-file-entry-private.h"
#include "st-tensor-private.h"

/* The name index reads an entry's name through the entry */
G_STATIC_ASSERT (G_STRUCT_OFFSET (FileEntry, name) == 0);
/* Every open touches one entry per tensor: see st-file-entry-private.h */
G_STATIC_ASSERT (GLIB_SIZEOF_VOID_P != 8 || sizeof (FileEntry) == 32);

void
st_file_entry_external_free (ExternalData *external)
{
  g_clear_object (&external->owner);
  g_free (external);
}

void
st_file_entry_clear_contents (FileEntry *entry)
{
  if (entry->form == FILE_ENTRY_EXTERNAL)
    st_file_entry_external_free (entry->of.external);
  entry->of.loaded = NULL;
  entry->form = FILE_ENTRY_HELD;
  g_clear_object (&entry->tensor);
}

void
st_file_entry_free (gpointer data)
{
  FileEntry *entry = data;

  st_file_entry_clear_contents (entry);
  if (!entry->in_block)
    {
      g_clear_object (&((FileEntryAdded *) entry)->item);
      g_free ((char *) entry->name);
      g_free (entry);
    }
}

STTensor *
st_file_entry_get_tensor (FileEntry *entry,
                          GBytes    *data)
{
  STTensor *tensor = g_atomic_pointer_get (&entry->tensor);

  if (tensor != NULL)
    return tensor;

  /* Only loaded and external entries start without a tensor. Two threads may get here at once:
   * both make a tensor, one wins the exchange, the other drops its own and takes the winner's. */
  if (entry->form == FILE_ENTRY_LOADED)
    {
      const StHeaderEntry *loaded = entry->of.loaded;

      /* @data owns the header the entry and its shape are in (st_file_new_loaded()) */
      tensor = st_tensor_new_view (loaded->dtype, loaded->shape, loaded->n_dims, data, loaded->begin);
    }
  else
    {
      const ExternalData *external = entry->of.external;

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

const gint64 *
st_file_entry_get_layout (FileEntry *entry,
                          STDType   *out_dtype,
                          guint     *out_n_dims)
{
  if (entry->form == FILE_ENTRY_LOADED)
    {
      const StHeaderEntry *loaded = entry->of.loaded;

      *out_dtype = loaded->dtype;
      *out_n_dims = loaded->n_dims;
      return loaded->shape;
    }

  if (entry->form == FILE_ENTRY_EXTERNAL)
    {
      const ExternalData *external = entry->of.external;

      *out_dtype = external->dtype;
      *out_n_dims = external->n_dims;
      return external->shape;
    }

  *out_dtype = st_tensor_get_dtype (entry->tensor);
  return st_tensor_get_shape (entry->tensor, out_n_dims);
}

gboolean
st_file_entry_get_offsets (const FileEntry *entry,
                           guint64         *out_begin,
                           guint64         *out_end)
{
  if (entry->form != FILE_ENTRY_LOADED)
    return FALSE;
  *out_begin = entry->of.loaded->begin;
  *out_end = st_header_entry_get_end (entry->of.loaded);
  return TRUE;
}

void
st_file_entry_get_signed_offsets (const FileEntry *entry,
                                  gint64          *out_begin,
                                  gint64          *out_end)
{
  guint64 begin, end;

  if (!st_file_entry_get_offsets (entry, &begin, &end))
    {
      *out_begin = -1;
      *out_end = -1;
      return;
    }
  *out_begin = (gint64) begin;
  *out_end = (gint64) end;
}

GObject *
st_file_entry_describe (FileEntry     *entry,
                        GBytes        *data,
                        StWriterEntry *out)
{
  STTensor *tensor = g_atomic_pointer_get (&entry->tensor);

  out->name = entry->name;
  if (tensor == NULL && entry->form == FILE_ENTRY_EXTERNAL)
    {
      /* Memory set by a binding, with no object made for it: keep its owner instead. */
      const ExternalData *external = entry->of.external;

      out->dtype = external->dtype;
      out->shape = external->shape;
      out->n_dims = external->n_dims;
      out->n_bytes = external->n_bytes;
      out->user_data = (gpointer) external->data;
      return external->owner;
    }
  else if (tensor != NULL)
    {
      out->dtype = st_tensor_get_dtype (tensor);
      out->shape = st_tensor_get_shape (tensor, &out->n_dims);
      out->n_bytes = st_tensor_get_n_bytes (tensor);
      out->user_data = (gpointer) st_tensor_get_data (tensor, NULL);
      return (GObject *) tensor;
    }
  else
    {
      /* A loaded tensor nobody asked for: write from the source without making an object. */
      const StHeaderEntry *loaded = entry->of.loaded;
      const guint8 *base = g_bytes_get_data (data, NULL);

      out->dtype = loaded->dtype;
      out->shape = loaded->shape;
      out->n_dims = loaded->n_dims;
      out->n_bytes = st_header_entry_get_end (loaded) - loaded->begin;
      out->user_data = (gpointer) (base + loaded->begin);
      return NULL;
    }
}
