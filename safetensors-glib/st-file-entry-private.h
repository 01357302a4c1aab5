/* st-file-entry-private.h: one tensor of an STFile, in its three forms (loaded, external, held)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * For STFile's own files only (st-file*.c).
 */
#pragma once

#include "st-header-private.h"
#include "st-header-serializer-private.h"
#include "st-tensor.h"
#include "st-tensor-info.h"

G_BEGIN_DECLS

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
typedef enum {
  FILE_ENTRY_HELD,      /* set with st_file_set_tensor(): @tensor from the start */
  FILE_ENTRY_LOADED,    /* of.loaded */
  FILE_ENTRY_EXTERNAL,  /* of.external */
} FileEntryForm;

/* 32 bytes on 64-bit systems: every open touches one per tensor (a block of them for a loaded file, 32 kB
 * for 1,000 tensors), so the two forms share a pointer and the list model's item is kept elsewhere
 * (STFile.block_items, FileEntryAdded). Read the forms with st_file_entry_get_loaded() and
 * st_file_entry_get_external(). */
typedef struct {
  const char          *name;      /* the header's (an entry in the block), or owned (any other). First:
                                   * the name index reads it through the entry (st-name-index-private.h) */
  union {
    const StHeaderEntry *loaded;    /* FILE_ENTRY_LOADED: in self->header */
    ExternalData        *external;  /* FILE_ENTRY_EXTERNAL: owned */
  } of;
  STTensor            *tensor;    /* owned */
  guint8               form;      /* a FileEntryForm */
  gboolean             in_block;  /* one of self->loaded_entries, freed with the header, its name with it */
} FileEntry;

/* The loaded entry of the header this tensor is, or NULL when the tensor was set since the load. */
static inline const StHeaderEntry *
st_file_entry_get_loaded (const FileEntry *entry)
{
  return entry->form == FILE_ENTRY_LOADED ? entry->of.loaded : NULL;
}

/* The memory the tensor was set as (st_file_set_tensor_from_data()), or NULL. */
static inline ExternalData *
st_file_entry_get_external (const FileEntry *entry)
{
  return entry->form == FILE_ENTRY_EXTERNAL ? entry->of.external : NULL;
}

/* An entry added after the load (one not in the loaded block), with its list model item. */
typedef struct {
  FileEntry     entry;
  STTensorInfo *item;  /* owned; made on first access, set once, atomically */
} FileEntryAdded;

void st_file_entry_external_free (ExternalData *external);
/* Drops what the entry holds, keeping its name: the entry is then refilled in place. */
void st_file_entry_clear_contents (FileEntry *entry);
/* A GDestroyNotify for the entries of STFile's array. */
void st_file_entry_free (gpointer data);
/* The entry's tensor (transfer none), made on first access; @data is the file's loaded data, which owns
 * the header a loaded entry is in. */
STTensor *st_file_entry_get_tensor (FileEntry *entry,
                                    GBytes    *data);
/* The dtype and shape of an entry, without making its tensor. */
const gint64 *st_file_entry_get_layout (FileEntry *entry,
                                        STDType   *out_dtype,
                                        guint     *out_n_dims);
/* The data offsets of a loaded entry; FALSE for an entry set since the load. */
gboolean st_file_entry_get_offsets (const FileEntry *entry,
                                    guint64         *out_begin,
                                    guint64         *out_end);
/* The same, as -1 and -1 for an entry set since the load (st_file_dup_layout, STTensorInfo). */
void st_file_entry_get_signed_offsets (const FileEntry *entry,
                                       gint64          *out_begin,
                                       gint64          *out_end);
/* Describes @entry for a writer in @out (name, layout, n_bytes, and its bytes as user_data) without
 * making its tensor, and returns what keeps those bytes alive (transfer none), or NULL when they are
 * @data's (the file's loaded data) or nobody's. */
GObject *st_file_entry_describe (FileEntry     *entry,
                                 GBytes        *data,
                                 StWriterEntry *out);

G_END_DECLS
