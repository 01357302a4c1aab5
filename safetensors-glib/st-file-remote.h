/* st-file-remote.h: safetensors files where they live: over HTTP and on the Hugging Face Hub
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The API is documented in st-file-remote.c; doc/remote.md describes the addresses, the environment
 * variables and the guarantees.
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-file.h>

G_BEGIN_DECLS

/* Opening: the header only */

ST_AVAILABLE_IN_1_2
STFile *st_file_new_from_uri (const char    *uri,
                              GCancellable  *cancellable,
                              GError       **error);

ST_AVAILABLE_IN_1_2
void st_file_new_from_uri_async (const char          *uri,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);

ST_AVAILABLE_IN_1_2
STFile *st_file_new_from_uri_finish (GAsyncResult  *result,
                                     GError       **error);

ST_AVAILABLE_IN_1_2
gboolean st_file_is_remote (STFile *self);

/* Tensor data on demand */

ST_AVAILABLE_IN_1_2
STTensor *st_file_fetch_tensor (STFile        *self,
                                const char    *name,
                                GCancellable  *cancellable,
                                GError       **error);

ST_AVAILABLE_IN_1_2
gboolean st_file_fetch_tensors (STFile             *self,
                                const char * const *names,
                                GCancellable       *cancellable,
                                GError            **error);

ST_AVAILABLE_IN_1_2
void st_file_fetch_tensors_async (STFile              *self,
                                  const char * const  *names,
                                  GCancellable        *cancellable,
                                  STProgressFunc       progress,
                                  gpointer             progress_data,
                                  GDestroyNotify       progress_notify,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);

ST_AVAILABLE_IN_1_2
gboolean st_file_fetch_tensors_finish (STFile        *self,
                                       GAsyncResult  *result,
                                       GError       **error);

ST_AVAILABLE_IN_1_2
STTensor *st_file_fetch_slice (STFile        *self,
                               const char    *name,
                               gint64         start,
                               gint64         stop,
                               GCancellable  *cancellable,
                               GError       **error);

ST_AVAILABLE_IN_1_2
void st_file_fetch_slice_async (STFile              *self,
                                const char          *name,
                                gint64               start,
                                gint64               stop,
                                GCancellable        *cancellable,
                                STProgressFunc       progress,
                                gpointer             progress_data,
                                GDestroyNotify       progress_notify,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);

ST_AVAILABLE_IN_1_2
STTensor *st_file_fetch_slice_finish (STFile        *self,
                                      GAsyncResult  *result,
                                      GError       **error);

G_END_DECLS
