/* st-file-private.h: what the parts of STFile (st-file*.c) share
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-file.h"
#include "st-format-private.h"
#include "st-save-plan-private.h"
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
typedef struct {
  const char          *name;          /* loaded->name, or name_storage */
  char                *name_storage;  /* owned when the name is not the header's */
  const StHeaderEntry *loaded;        /* in self->header; NULL unless the tensor is the loaded one */
  ExternalData        *external;      /* owned; NULL unless the tensor was set as memory */
  STTensor            *tensor;        /* owned */
  STTensorInfo        *info;          /* owned; the list model's item, made on first access as tensor is */
  gboolean             in_block;      /* one of self->loaded_entries, freed with self->header */
} FileEntry;

struct _STFile
{
  GObject parent_instance;

  StHeader   *header;       /* the loaded header's entries (its metadata is stolen); NULL when not loaded */
  GBytes     *data;         /* the loaded data buffer (a slice of the source); NULL when not loaded */
  guint64     header_size;  /* N of the loaded source; 0 otherwise */

  GPtrArray   *entries;         /* FileEntry *, in file order, owning */
  FileEntry   *loaded_entries;  /* the entries of the loaded tensors, in one block of self->header */
  StNameIndex *by_name;         /* entry->name -> FileEntry *, borrowing both */
  GHashTable *metadata;     /* char * -> char *, owning; NULL when the file has no __metadata__ */
};

/* STFile's save plans (st-file-save.c): its tensors and metadata as they are now. */
StSavePlan *st_save_plan_new (STFile  *file,
                              GError **error);
/* With the header's JSON padded with spaces to at least @min_header_size bytes (rounded up to 8). */
StSavePlan *st_save_plan_new_full (STFile   *file,
                                   guint64   min_header_size,
                                   GError  **error);

G_END_DECLS
