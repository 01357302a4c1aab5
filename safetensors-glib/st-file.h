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

#define ST_TYPE_FILE (st_file_get_type ())

ST_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (STFile, st_file, ST, FILE, GObject)

/* Loading */

ST_AVAILABLE_IN_1_0
STFile *st_file_new (void);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_path (const char  *path,
                               GError     **error);

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
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);

ST_AVAILABLE_IN_1_0
STFile *st_file_new_from_path_finish (GAsyncResult  *result,
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
                               GCancellable  *cancellable,
                               GError       **error);

ST_AVAILABLE_IN_1_0
void st_file_save_to_path_async (STFile              *self,
                                 const char          *path,
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

G_END_DECLS
