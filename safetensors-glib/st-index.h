/* st-index.h: sharded checkpoints (model.safetensors.index.json)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The convention of transformers and huggingface_hub for a model split over several files:
 *
 *   model.safetensors.index.json       {"metadata": {"total_size": N, ...},
 *                                        "weight_map": {"tensor name": "model-00001-of-00003.safetensors", ...}}
 *   model-00001-of-00003.safetensors   ordinary safetensors files (the shards), each holding exactly the
 *   model-00002-of-00003.safetensors   tensors the weight_map assigns to it; N is the sum of the byte sizes of
 *   model-00003-of-00003.safetensors   all tensors (headers not counted)
 *
 * Shards are resolved in the directory of the index; a shard name that is not a plain file name (a '/', a
 * '\\', "." or "..") is rejected, so an index cannot point outside its directory.
 *
 * The API is documented in st-index.c.
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-tensor.h>
#include <safetensors-glib/st-file.h>

G_BEGIN_DECLS

#define ST_TYPE_INDEX (st_index_get_type ())

ST_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (STIndex, st_index, ST, INDEX, GObject)

/* Opening: reads and checks the index JSON only; shards are opened on first use (or all at once by
 * st_index_validate and its async pair). */

ST_AVAILABLE_IN_1_0
STIndex *st_index_new_from_path (const char    *index_path,
                                 GCancellable  *cancellable,
                                 GError       **error);

ST_AVAILABLE_IN_1_0
void st_index_new_from_path_async (const char          *index_path,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);

ST_AVAILABLE_IN_1_0
STIndex *st_index_new_from_path_finish (GAsyncResult  *result,
                                        GError       **error);

/* Merging in a worker thread, progress on the caller's main context (st-index.c) */

ST_AVAILABLE_IN_1_0
void st_index_merge_async (STIndex             *self,
                           GCancellable        *cancellable,
                           STProgressFunc       progress,
                           gpointer             progress_data,
                           GDestroyNotify       progress_notify,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data);

ST_AVAILABLE_IN_1_0
STFile *st_index_merge_finish (STIndex       *self,
                               GAsyncResult  *result,
                               GError       **error);

ST_AVAILABLE_IN_1_0
const char *st_index_get_path (STIndex *self);

ST_AVAILABLE_IN_1_0
const char *st_index_get_directory (STIndex *self);

/* The weight map */

ST_AVAILABLE_IN_1_0
guint st_index_get_n_tensors (STIndex *self);

ST_AVAILABLE_IN_1_0
char **st_index_dup_names_sorted (STIndex *self);               /* sorted by bytes */

ST_AVAILABLE_IN_1_0
gboolean st_index_contains (STIndex    *self,
                            const char *name);

ST_AVAILABLE_IN_1_0
char **st_index_dup_shard_names (STIndex *self);                /* sorted: model-00001-of-N first */

ST_AVAILABLE_IN_1_0
const char *st_index_get_shard_name (STIndex    *self,        /* nullable: NULL for an unknown tensor */
                                     const char *tensor_name);

ST_AVAILABLE_IN_1_0
char **st_index_dup_shard_tensor_names (STIndex    *self,     /* what the weight_map assigns to the shard */
                                        const char *shard_name);

/* Index metadata: the string (and integer, as decimal text) values of "metadata", total_size included. */

ST_AVAILABLE_IN_1_0
GHashTable *st_index_dup_metadata (STIndex *self);

ST_AVAILABLE_IN_1_0
const char *st_index_get_metadata_value (STIndex    *self,
                                         const char *key);

ST_AVAILABLE_IN_1_0
guint64 st_index_get_total_size (STIndex *self);

/* Shards and tensors: thread-safe, each shard opened (mmap) once and shared, read-only, by all callers. */

ST_AVAILABLE_IN_1_0
STFile *st_index_open_shard (STIndex       *self,
                             const char    *shard_name,
                             GCancellable  *cancellable,
                             GError       **error);

ST_AVAILABLE_IN_1_0
void st_index_open_shard_async (STIndex             *self,
                                const char          *shard_name,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);

ST_AVAILABLE_IN_1_0
STFile *st_index_open_shard_finish (STIndex       *self,
                                    GAsyncResult  *result,
                                    GError       **error);

ST_DEPRECATED_IN_1_0_FOR (st_index_open_shard)
STFile *st_index_get_shard (STIndex     *self,              /* transfer none; do not modify it */
                            const char  *shard_name,
                            GError     **error);

ST_AVAILABLE_IN_1_0
STTensor *st_index_dup_tensor (STIndex       *self,
                               const char    *name,
                               GCancellable  *cancellable,
                               GError       **error);

/* Checking: every shard exists, loads, holds exactly the tensors the weight_map assigns to it, and
 * total_size is the sum of the tensors' byte sizes. */

ST_AVAILABLE_IN_1_0
gboolean st_index_validate_shard (STIndex       *self,
                                  const char    *shard_name,
                                  GCancellable  *cancellable,
                                  GError       **error);

ST_AVAILABLE_IN_1_0
gboolean st_index_validate (STIndex       *self,
                            GCancellable  *cancellable,
                            GError       **error);

ST_AVAILABLE_IN_1_0
void st_index_validate_async (STIndex             *self,
                              GCancellable        *cancellable,
                              STProgressFunc       progress,
                              gpointer             progress_data,
                              GDestroyNotify       progress_notify,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data);

ST_AVAILABLE_IN_1_0
gboolean st_index_validate_finish (STIndex       *self,
                                   GAsyncResult  *result,
                                   GError       **error);

/* All tensors of all shards in one STFile, zero-copy (the shards' mappings stay alive through the tensors). */

ST_AVAILABLE_IN_1_0
STFile *st_index_merge (STIndex       *self,
                        GCancellable  *cancellable,
                        GError       **error);

G_END_DECLS
