/* st-progress-private.h: progress of a GTask's worker thread, delivered on the caller's main context
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "st-file.h"

G_BEGIN_DECLS

typedef struct _StProgress StProgress;

/* Forwards reports to @func on the thread-default main context of the caller (taken now), never
 * from the reporting thread; @notify runs on that context too, once the last report is delivered
 * and the StProgress is freed. A NULL @func gives a NULL StProgress, which every function accepts. */
StProgress *st_progress_new (STProgressFunc func,
                             gpointer       data,
                             GDestroyNotify notify);

/* The same, for @context instead of the calling thread's: a worker makes reports for its caller's
 * context (taken when the caller started it), and @notify runs there. */
StProgress *st_progress_new_for_context (STProgressFunc  func,
                                         gpointer        data,
                                         GDestroyNotify  notify,
                                         GMainContext   *context);

/* From any thread: queue @done of @total for the caller's main context. */
void st_progress_report (StProgress *progress,
                         guint64     done,
                         guint64     total);

void st_progress_free (StProgress *progress);

G_END_DECLS
