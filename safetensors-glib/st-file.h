/* st-file.h: a safetensors file: named tensors and metadata
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-tensor.h>

G_BEGIN_DECLS

/**
 * STLoadFlags:
 * @ST_LOAD_FLAGS_NONE: map the file (the default): opening reads the header only, and pages of
 *   data are read when first used
 * @ST_LOAD_FLAGS_NO_MMAP: read the header and the data into memory the library owns, with
 *   pread() in large blocks, and map nothing. Loading takes the time and memory of the whole
 *   file, but no later change to the file (truncated or rewritten by another program, a network
 *   file system losing its server) can reach the loaded tensors: with a mapping, reading a page
 *   of a file truncated since ends the process with `SIGBUS`.
 *
 * How [ctor@ST.File.new_from_path_full] and [func@ST.File.new_from_path_async] read a file.
 *
 * Since: 1.0
 */
typedef enum {
  ST_LOAD_FLAGS_NONE    = 0,
  ST_LOAD_FLAGS_NO_MMAP = 1 << 0,
} STLoadFlags;

/**
 * STSaveFlags:
 * @ST_SAVE_FLAGS_NONE: atomic against other processes and crashes of the process, not of the
 *   system (the default, as Hugging Face's writer)
 * @ST_SAVE_FLAGS_SYNC: also fsync() the file (every shard and the index, for a sharded save)
 *   and its directory before returning, so that the saved file survives a power loss or a
 *   crash of the system
 *
 * How [method@ST.File.save_to_path] and [method@ST.File.save_sharded] write.
 *
 * Since: 1.0
 */
typedef enum {
  ST_SAVE_FLAGS_NONE = 0,
  ST_SAVE_FLAGS_SYNC = 1 << 0,
} STSaveFlags;

/* Reports @done of @total units (bytes) of a long operation. */
typedef void (*STProgressFunc) (guint64  done,
                                guint64  total,
                                gpointer user_data);

#define ST_TYPE_FILE (st_file_get_type ())

ST_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (STFile, st_file, ST, FILE, GObject)

/* Loading */

ST_AVAILABLE_IN_1_0
STFile *st_file_new (void);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_path (const char    *path,
                               GCancellable  *cancellable,
                               GError       **error);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_path_full (const char    *path,
                                    STLoadFlags    flags,
                                    GCancellable  *cancellable,
                                    GError       **error);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_bytes (GBytes  *bytes,
                                GError **error);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_gfile (GFile         *file,
                                GCancellable  *cancellable,
                                GError       **error);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_stream (GInputStream  *stream,
                                 GCancellable  *cancellable,
                                 GError       **error);

ST_AVAILABLE_IN_1_0
void st_file_new_from_path_async (const char          *path,
                                  STLoadFlags          flags,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_path_finish (GAsyncResult  *result,
                                      GError       **error);

ST_AVAILABLE_IN_1_0
void st_file_new_from_gfile_async (GFile               *file,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_gfile_finish (GAsyncResult  *result,
                                       GError       **error);

ST_AVAILABLE_IN_1_0
void st_file_new_from_stream_async (GInputStream        *stream,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_stream_finish (GAsyncResult  *result,
                                        GError       **error);

/* Tensors */

ST_AVAILABLE_IN_1_0
guint st_file_get_n_tensors (STFile *self);

ST_AVAILABLE_IN_1_0
char **st_file_dup_names_sorted (STFile *self);

ST_AVAILABLE_IN_1_0
char **st_file_dup_names_in_file_order (STFile *self);

ST_AVAILABLE_IN_1_0
gboolean st_file_contains (STFile     *self,
                           const char *name);

ST_AVAILABLE_IN_1_0
STTensor *st_file_get_tensor (STFile     *self,
                              const char *name);

ST_AVAILABLE_IN_1_0
STTensor *st_file_lookup_tensor (STFile      *self,
                                 const char  *name,
                                 GError     **error);

ST_AVAILABLE_IN_1_0
gboolean st_file_set_tensor (STFile      *self,
                             const char  *name,
                             STTensor    *tensor,
                             GError     **error);

ST_AVAILABLE_IN_1_0
gboolean st_file_set_tensor_from_data (STFile        *self,
                                       const char    *name,
                                       STDType        dtype,
                                       const gint64  *shape,
                                       guint          n_dims,
                                       guint64        data_address,
                                       guint64        n_bytes,
                                       GObject       *owner,
                                       GError       **error);

ST_AVAILABLE_IN_1_0
gboolean st_file_remove_tensor (STFile     *self,
                                const char *name);

ST_AVAILABLE_IN_1_0
gboolean st_file_get_tensor_offsets (STFile     *self,
                                     const char *name,
                                     guint64    *out_begin,
                                     guint64    *out_end);

ST_AVAILABLE_IN_1_0
gint64 *st_file_dup_layout (STFile *self,
                            gsize  *n_values);

ST_AVAILABLE_IN_1_0
guint64 st_file_get_header_size (STFile *self);

ST_AVAILABLE_IN_1_0
guint64 st_file_get_data_address (STFile *self);

ST_AVAILABLE_IN_1_0
guint64 st_file_get_data_size (STFile *self);

/* Metadata */

ST_AVAILABLE_IN_1_0
gboolean st_file_has_metadata (STFile *self);

ST_AVAILABLE_IN_1_0
GHashTable *st_file_dup_metadata (STFile *self);

ST_AVAILABLE_IN_1_0
void st_file_set_metadata (STFile     *self,
                           GHashTable *metadata);

ST_AVAILABLE_IN_1_0
const char *st_file_get_metadata_value (STFile     *self,
                                        const char *key);

ST_AVAILABLE_IN_1_0
void st_file_set_metadata_value (STFile     *self,
                                 const char *key,
                                 const char *value);

/* Saving */

ST_AVAILABLE_IN_1_0
gboolean st_file_save_to_path (STFile        *self,
                               const char    *path,
                               STSaveFlags    flags,
                               GCancellable  *cancellable,
                               GError       **error);

ST_AVAILABLE_IN_1_0
void st_file_save_to_path_async (STFile              *self,
                                 const char          *path,
                                 STSaveFlags          flags,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);

ST_AVAILABLE_IN_1_0
gboolean st_file_save_to_path_finish (STFile        *self,
                                      GAsyncResult  *result,
                                      GError       **error);

ST_AVAILABLE_IN_1_0
GBytes *st_file_save_to_bytes (STFile  *self,
                               GError **error);

ST_AVAILABLE_IN_1_0
gboolean st_file_save_to_stream (STFile         *self,
                                 GOutputStream  *stream,
                                 GCancellable   *cancellable,
                                 GError        **error);

ST_AVAILABLE_IN_1_0
void st_file_save_to_stream_async (STFile              *self,
                                   GOutputStream       *stream,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);

ST_AVAILABLE_IN_1_0
gboolean st_file_save_to_stream_finish (STFile        *self,
                                        GAsyncResult  *result,
                                        GError       **error);

ST_AVAILABLE_IN_1_0
gboolean st_file_save_to_gfile (STFile        *self,
                                GFile         *file,
                                GCancellable  *cancellable,
                                GError       **error);

/* Sharded saving (st-file-shard.c) */

/* Writing: @directory/@prefix-00001-of-0000N.safetensors ... and @directory/@prefix.safetensors.index.json;
 * a single shard is written as @directory/@prefix.safetensors with no index. Greedy in the order of
 * st_file_dup_names_in_file_order(); a tensor larger than @max_shard_size gets a shard of its own. All files
 * are written before any is renamed into place. */

ST_AVAILABLE_IN_1_0
gboolean st_file_save_sharded (STFile          *self,
                               const char      *directory,
                               const char      *prefix,
                               guint64          max_shard_size,
                               STSaveFlags      flags,
                               GCancellable    *cancellable,
                               STProgressFunc   progress,
                               gpointer         progress_data,
                               GError         **error);

ST_AVAILABLE_IN_1_0
void st_file_save_sharded_async (STFile              *self,
                                 const char          *directory,
                                 const char          *prefix,
                                 guint64              max_shard_size,
                                 STSaveFlags          flags,
                                 GCancellable        *cancellable,
                                 STProgressFunc       progress,
                                 gpointer             progress_data,
                                 GDestroyNotify       progress_notify,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);

ST_AVAILABLE_IN_1_0
gboolean st_file_save_sharded_finish (STFile        *self,
                                      GAsyncResult  *result,
                                      GError       **error);

/* "5GB", "500MB", "1.5 GiB", "1024": decimal (KB = 1000) and binary (KiB = 1024) units, or plain bytes. */

G_END_DECLS
