/* st-hub.h: downloads from the Hugging Face Hub into its cache
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The API is documented in st-hub-download.c; doc/remote.md describes the cache and its guarantees.
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-file.h>

G_BEGIN_DECLS

ST_AVAILABLE_IN_1_2
char *st_hub_download (const char    *address,
                       GCancellable  *cancellable,
                       GError       **error);

ST_AVAILABLE_IN_1_2
void st_hub_download_async (const char          *address,
                            GCancellable        *cancellable,
                            STProgressFunc       progress,
                            gpointer             progress_data,
                            GDestroyNotify       progress_notify,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data);

ST_AVAILABLE_IN_1_2
char *st_hub_download_finish (GAsyncResult  *result,
                              GError       **error);

G_END_DECLS
