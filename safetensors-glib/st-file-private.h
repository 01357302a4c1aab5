/* st-file-private.h: what the parts of STFile (st-file*.c) share
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-file.h"
#include "st-format-private.h"
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

/* Makes the file of a parsed header and the data buffer it describes (NULL: a remote file, whose data
 * st-file-remote.c fetches). Takes @header and @data. */
STFile *st_file_new_loaded (StHeader *header,
                            guint64   header_size,
                            GBytes   *data);

/* The dtype and shape of tensor @name without making its tensor (so without fetching a remote one's
 * bytes); NULL when there is no such tensor. The shape lives as long as the tensor stays in @self. */
const gint64 *st_file_peek_layout (STFile     *self,
                                   const char *name,
                                   STDType    *out_dtype,
                                   guint      *out_n_dims);

/* The file's own metadata table (transfer none), NULL when it has none: for the library's writers. */
GHashTable *st_file_peek_metadata (STFile *self);

/* Sets a G_IO_ERROR from @errsv: "WHAT “PATH”: strerror". */
void st_set_io_error_from_errno (GError     **error,
                                 int          errsv,
                                 const char  *what,
                                 const char  *path);

/* The rules every tensor name follows, whatever sets it (st-file.c). */
gboolean st_file_check_tensor_name (const char  *name,
                                    GError     **error);

/* The header of a file holding @entries and @metadata, as st_header_serialize() makes it (sorting
 * @entries into file order and setting their offsets), checked against the reader's limits, its JSON
 * padded with spaces to at least @min_header_size bytes (0: no more than the usual padding to 8). */
GBytes *st_save_layout (StWriterEntry  *entries,
                        gsize           n_entries,
                        GHashTable     *metadata,
                        guint64         min_header_size,
                        guint64        *out_data_size,
                        GError        **error);

/* Where mapped bytes came from (st-file-copy.c): every file mapping the loader makes is registered with
 * the file it maps, so that a save can copy its tensors' bytes inside the kernel. */
typedef struct _StFileSource StFileSource;

struct stat;

StFileSource *st_file_source_register (gconstpointer       address,
                                       gsize               size,
                                       const char         *path,
                                       const struct stat  *st);
/* Drops the registration and the reference st_file_source_register() returned. */
void st_file_source_unregister (StFileSource *source);
/* The source that @size bytes at @data are a slice of, with their offset in it (a new reference), or
 * NULL. */
StFileSource *st_file_source_lookup (gconstpointer  data,
                                     gsize          size,
                                     guint64       *out_offset);
void st_file_source_unref (StFileSource *source);
const char *st_file_source_get_path (StFileSource *source);
/* Whether @st describes the file @source maps (same device and inode). */
gboolean st_file_source_is_file (StFileSource      *source,
                                 const struct stat *st);
/* The source file opened for reading, when it is still the file that was mapped (same device and inode,
 * no shorter); -1 otherwise. */
int st_file_source_open (StFileSource *source);
/* Whether the process wrote into none of the pages of its private mapping that hold @size bytes at
 * @offset (/proc/self/pagemap): only then does the file hold what the memory holds. */
gboolean st_file_source_is_unmodified (StFileSource *source,
                                       guint64       offset,
                                       gsize         size);
/* Copies @len bytes between files in the kernel: extents shared (FICLONERANGE) where the offsets are
 * aligned alike on @block_size and *@clone_ok (cleared when cloning fails), copy_file_range() for the
 * rest. Returns the bytes copied, with errno set when fewer than @len. */
guint64 st_copy_file_range (int       src_fd,
                            guint64   src_offset,
                            int       dst_fd,
                            guint64   dst_offset,
                            guint64   len,
                            guint64   block_size,
                            gboolean *clone_ok);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StFileSource, st_file_source_unref)

/* Saving (st-file-save.c): the serialized header and the byte ranges to write after it, checked
 * against the reader's limits, with references on what they point into. */
typedef struct _StSavePlan StSavePlan;

StSavePlan *st_save_plan_new (STFile  *file,
                              GError **error);
/* With the header's JSON padded with spaces to at least @min_header_size bytes (rounded up to 8). */
StSavePlan *st_save_plan_new_full (STFile   *file,
                                   guint64   min_header_size,
                                   GError  **error);
void st_save_plan_free (StSavePlan *plan);
guint64 st_save_plan_get_size (const StSavePlan *plan);
/* The header (the 8-byte prefix and the JSON), and the pieces: the header, then the tensors' bytes. */
GBytes *st_save_plan_get_header (const StSavePlan *plan);
gsize st_save_plan_get_n_pieces (const StSavePlan *plan);
const GOutputVector *st_save_plan_get_piece (const StSavePlan *plan,
                                             gsize             i);
gboolean st_save_plan_write_to_fd (const StSavePlan  *plan,
                                   int                fd,
                                   const char        *path,
                                   GCancellable      *cancellable,
                                   GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StSavePlan, st_save_plan_free)

/* Where saved bytes land (st-file-target.c). A pending file is a new file being written in a
 * directory, with no name (O_TMPFILE) or a short hidden one, until st_pending_file_commit() renames it
 * over its target; st_pending_file_free() discards an uncommitted one. */
typedef struct _StPendingFile StPendingFile;

StPendingFile *st_pending_file_new (const char  *directory,
                                    const char  *target,
                                    GError     **error);
int st_pending_file_get_fd (StPendingFile *pending);
gboolean st_pending_file_reserve (StPendingFile  *pending,
                                  guint64         size,
                                  const char     *target,
                                  GError        **error);
gboolean st_pending_file_park (StPendingFile  *pending,
                               STSaveFlags     flags,
                               GError        **error);
gboolean st_pending_file_commit (StPendingFile  *pending,
                                 const char     *target,
                                 STSaveFlags     flags,
                                 GError        **error);
gboolean st_pending_file_is_committed (StPendingFile *pending);
const char *st_pending_file_get_directory (StPendingFile *pending);

/* A pending file for a save to @path, after the checks every save makes (not a directory, writable
 * when it exists), with the file it will replace in *@out_target (@path, symbolic links resolved).
 * Returns NULL with *@out_special TRUE and no error when @path is not a regular file (a device, a FIFO,
 * a socket): such targets are written as streams. */
StPendingFile *st_pending_file_new_for_path (const char   *path,
                                             gboolean     *out_special,
                                             char        **out_target,
                                             GError      **error);
void st_pending_file_free (StPendingFile *pending);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StPendingFile, st_pending_file_free)

/* fsync() of a directory, after renames into it. */
gboolean st_sync_directory (const char  *directory,
                            GError     **error);

/* Writes @plan to @path: through to a special file as a stream, else atomically (a pending file
 * committed over @path). */
gboolean st_save_plan_write_to_path (const StSavePlan  *plan,
                                     const char        *path,
                                     STSaveFlags        flags,
                                     GCancellable      *cancellable,
                                     GError           **error);

G_END_DECLS
