/* st-parallel-private.h: a few items done by a bounded number of threads, the first failure stopping
 * the others
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * What a remote read plan (its spans), a remote index (its shards' headers) and a Hub download (its
 * files) each do: hand out the items one by one to up to @max_threads threads (the caller's among them),
 * keep the first error, and cancel the items still running when one fails or when the caller cancels.
 * A floor of its own: it includes no other private header.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Does item @index; runs in any of the threads. @cancellable is cancelled when the caller's is, or
 * when another item failed. */
typedef gboolean (*StParallelFunc) (guint          index,
                                    gpointer       user_data,
                                    GCancellable  *cancellable,
                                    GError       **error);

/* Calls @func for every index from 0 to @n_items - 1, in up to @max_threads threads named
 * @thread_name (the calling thread is one of them; one item needs no thread at all), and returns when
 * every call has returned. FALSE with the first failure's error, or G_IO_ERROR_CANCELLED when
 * @cancellable (nullable) was cancelled, before or during the run. */
gboolean st_parallel_run (guint           n_items,
                          guint           max_threads,
                          const char     *thread_name,
                          StParallelFunc  func,
                          gpointer        user_data,
                          GCancellable   *cancellable,
                          GError        **error);

G_END_DECLS
