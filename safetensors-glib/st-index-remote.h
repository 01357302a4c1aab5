/* st-index-remote.h: sharded checkpoints over HTTP and on the Hugging Face Hub
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The API is documented in st-index-remote.c.
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-index.h>

G_BEGIN_DECLS

ST_AVAILABLE_IN_1_2
STIndex *st_index_new_from_uri (const char    *uri,
                                GCancellable  *cancellable,
                                GError       **error);

ST_AVAILABLE_IN_1_2
void st_index_new_from_uri_async (const char          *uri,
                                  GCancellable        *cancellable,
                                  STProgressFunc       progress,
                                  gpointer             progress_data,
                                  GDestroyNotify       progress_notify,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);

ST_AVAILABLE_IN_1_2
STIndex *st_index_new_from_uri_finish (GAsyncResult  *result,
                                       GError       **error);

ST_AVAILABLE_IN_1_2
const char *st_index_get_uri (STIndex *self);

G_END_DECLS
