/* st-planned-save.h: a save whose tensor bytes are written by others (many processes, many ranks)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The API is documented in st-planned-save.c.
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-dtype.h>
#include <safetensors-glib/st-file.h>

G_BEGIN_DECLS

#define ST_TYPE_PLANNED_SAVE (st_planned_save_get_type ())

ST_AVAILABLE_IN_1_2
G_DECLARE_FINAL_TYPE (STPlannedSave, st_planned_save, ST, PLANNED_SAVE, GObject)

ST_AVAILABLE_IN_1_2
STPlannedSave *st_planned_save_new (const char *prefix,
                                    guint64     max_shard_size);

ST_AVAILABLE_IN_1_2
gboolean st_planned_save_add_tensor (STPlannedSave  *self,
                                     const char     *name,
                                     STDType         dtype,
                                     const gint64   *shape,
                                     guint           n_dims,
                                     GError        **error);

ST_AVAILABLE_IN_1_2
void st_planned_save_set_metadata (STPlannedSave *self,
                                   GHashTable    *metadata);

ST_AVAILABLE_IN_1_2
gboolean st_planned_save_lay_out (STPlannedSave  *self,
                                  GError        **error);

ST_AVAILABLE_IN_1_2
guint st_planned_save_get_n_files (STPlannedSave *self);

ST_AVAILABLE_IN_1_2
const char *st_planned_save_get_file_name (STPlannedSave *self,
                                           guint          file);

ST_AVAILABLE_IN_1_2
guint64 st_planned_save_get_file_size (STPlannedSave *self,
                                       guint          file);

ST_AVAILABLE_IN_1_2
GBytes *st_planned_save_get_header (STPlannedSave *self,
                                    guint          file);

ST_AVAILABLE_IN_1_2
gboolean st_planned_save_locate (STPlannedSave  *self,
                                 const char     *name,
                                 guint          *out_file,
                                 guint64        *out_offset,
                                 GError        **error);

ST_AVAILABLE_IN_1_2
gboolean st_planned_save_prepare (STPlannedSave  *self,
                                  const char     *directory,
                                  GError        **error);

ST_AVAILABLE_IN_1_2
const char *st_planned_save_get_work_path (STPlannedSave *self,
                                           guint          file);

ST_AVAILABLE_IN_1_2
gboolean st_planned_save_commit (STPlannedSave  *self,
                                 STSaveFlags     flags,
                                 GError        **error);

ST_AVAILABLE_IN_1_2
void st_planned_save_prepare_async (STPlannedSave       *self,
                                    const char          *directory,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);

ST_AVAILABLE_IN_1_2
gboolean st_planned_save_prepare_finish (STPlannedSave  *self,
                                         GAsyncResult   *result,
                                         GError        **error);

ST_AVAILABLE_IN_1_2
void st_planned_save_commit_async (STPlannedSave       *self,
                                   STSaveFlags          flags,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);

ST_AVAILABLE_IN_1_2
gboolean st_planned_save_commit_finish (STPlannedSave  *self,
                                        GAsyncResult   *result,
                                        GError        **error);

ST_AVAILABLE_IN_1_2
void st_planned_save_discard (STPlannedSave *self);

G_END_DECLS
