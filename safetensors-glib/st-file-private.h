/* st-file-private.h: what the parts of STFile (st-file*.c) share
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-file.h"
#include "st-file-entry-private.h"
#include "st-header-private.h"
#include "st-save-plan-private.h"
#include "st-tensor-info.h"

G_BEGIN_DECLS

struct _STFile
{
  GObject parent_instance;

  StHeader   *header;       /* the loaded header's entries (its metadata is stolen, and its memory owned by
                             * @data when there is one); NULL when not loaded */
  GBytes     *data;         /* the loaded data buffer (a slice of the source), which owns the memory of
                             * the header's entries, names and shapes; NULL when not loaded */
  guint64     header_size;  /* N of the loaded source; 0 otherwise */

  GPtrArray   *entries;         /* FileEntry *, in file order, owning */
  FileEntry   *loaded_entries;  /* the entries of the loaded tensors, in one block of self->header */
  StNameIndex *by_name;         /* entry->name -> FileEntry *, borrowing both; for a loaded file, NULL
                                 * until first needed (see st_file_get_index() in st-file.c) */
  GHashTable *metadata;     /* char * -> char *, owning; NULL when the file has no __metadata__ */

  /* The list model's items of the entries in loaded_entries, by their place in that block (owned, each
   * made on first access; the array made at the first, both set once, atomically). An entry added since
   * the load keeps its own (FileEntryAdded). Not in FileEntry: most files never serve as a list model,
   * and every byte of a loaded entry is paid by every open. */
  STTensorInfo **block_items;
  guint          n_loaded;      /* the entries in loaded_entries */
};

/* Makes the file of a parsed header and the data buffer it describes (NULL: a remote file, whose data
 * st-file-remote.c fetches). Takes @header and @data. */
STFile *st_file_new_loaded (StHeader *header,
                            guint64   header_size,
                            GBytes   *data);

/* The file's name index (self->by_name), made on first use when the loaded header had none. */
StNameIndex *st_file_get_index (STFile *self);

/* The entry named @name, or NULL: the entry after the thread's last hit first, then the name index
 * (st_file_get_index()). Every lookup by name of st-file*.c goes through here. */
FileEntry *st_file_lookup_entry (STFile     *self,
                                 const char *name);

/* STFile's save plans (st-file-save.c): its tensors and metadata as they are now. */
StSavePlan *st_save_plan_new (STFile  *file,
                              GError **error);
/* With the header's JSON padded with spaces to at least @min_header_size bytes (rounded up to 8). */
StSavePlan *st_save_plan_new_full (STFile   *file,
                                   guint64   min_header_size,
                                   GError  **error);

G_END_DECLS
