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

/**
 * STHubFileProgressFunc:
 * @filename: the file's path in the repository
 * @done: the bytes of the file in the cache so far
 * @total: the file's size
 * @user_data: the data given with the callback
 *
 * Reports the progress of one file of a download ([func@ST.hub_download_async]): the index of a
 * sharded checkpoint, then each of its shards.
 *
 * Since: 1.2
 */
typedef void (*STHubFileProgressFunc) (const char *filename,
                                       guint64     done,
                                       guint64     total,
                                       gpointer    user_data);

ST_AVAILABLE_IN_1_2
char *st_hub_download (const char    *address,
                       GCancellable  *cancellable,
                       GError       **error);

ST_AVAILABLE_IN_1_2
void st_hub_download_async (const char            *address,
                            GCancellable          *cancellable,
                            STProgressFunc         progress,
                            gpointer               progress_data,
                            GDestroyNotify         progress_notify,
                            STHubFileProgressFunc  file_progress,
                            gpointer               file_progress_data,
                            GDestroyNotify         file_progress_notify,
                            GAsyncReadyCallback    callback,
                            gpointer               user_data);

ST_AVAILABLE_IN_1_2
char *st_hub_download_finish (GAsyncResult  *result,
                              GError       **error);

G_END_DECLS
