/* st-progress.c: progress of a GTask's worker thread, delivered on the caller's main context
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A worker reports by attaching an idle source to the context the operation was started from, at
 * the default priority: the reports are dispatched in order, and before the GTask's own completion
 * (queued after them, at the same priority), so the last report a caller sees before its callback is
 * the final one. Not g_main_context_invoke(): from a thread without a thread-default context it runs
 * the function right there whenever it can acquire the global default context, which is exactly the
 * case of a caller on the default context that is between two iterations.
 */
#include "st-progress-private.h"

struct _StProgress
{
  gatomicrefcount ref_count;
  GMainContext   *context;
  GThread        *thread;    /* the caller's */
  STProgressFunc  func;
  gpointer        data;
  GDestroyNotify  notify;
};

typedef struct {
  StProgress *progress;
  guint64     done;
  guint64     total;
} Report;

static StProgress *
progress_ref (StProgress *progress)
{
  g_atomic_ref_count_inc (&progress->ref_count);
  return progress;
}

static void
attach_idle (GMainContext *context,
             GSourceFunc   func,
             gpointer      data,
             GDestroyNotify destroy)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_set_static_name (source, "[safetensors-glib] progress");
  g_source_attach (source, context);
  g_source_unref (source);
}

static gboolean
call_notify (gpointer data)
{
  StProgress *progress = data;

  progress->notify (progress->data);
  g_main_context_unref (progress->context);
  g_free (progress);
  return G_SOURCE_REMOVE;
}

static void
progress_unref (StProgress *progress)
{
  if (!g_atomic_ref_count_dec (&progress->ref_count))
    return;
  if (progress->notify == NULL)
    {
      g_main_context_unref (progress->context);
      g_free (progress);
      return;
    }
  /* The caller's data is released in the caller's thread: now, or from its main context. */
  if (g_thread_self () == progress->thread)
    call_notify (progress);
  else
    attach_idle (progress->context, call_notify, progress, NULL);
}

StProgress *
st_progress_new (STProgressFunc func,
                 gpointer       data,
                 GDestroyNotify notify)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

  return st_progress_new_for_context (func, data, notify, context);
}

StProgress *
st_progress_new_for_context (STProgressFunc  func,
                             gpointer        data,
                             GDestroyNotify  notify,
                             GMainContext   *context)
{
  StProgress *progress;

  if (func == NULL)
    {
      if (notify != NULL)
        notify (data);
      return NULL;
    }
  progress = g_new0 (StProgress, 1);
  g_atomic_ref_count_init (&progress->ref_count);
  progress->context = g_main_context_ref (context);
  progress->thread = g_thread_self ();
  progress->func = func;
  progress->data = data;
  progress->notify = notify;
  return progress;
}

static gboolean
deliver (gpointer data)
{
  Report *report = data;

  report->progress->func (report->done, report->total, report->progress->data);
  return G_SOURCE_REMOVE;
}

static void
report_free (gpointer data)
{
  Report *report = data;

  progress_unref (report->progress);
  g_free (report);
}

void
st_progress_report (StProgress *progress,
                    guint64     done,
                    guint64     total)
{
  Report *report;

  if (progress == NULL)
    return;
  report = g_new (Report, 1);
  report->progress = progress_ref (progress);
  report->done = done;
  report->total = total;
  attach_idle (progress->context, deliver, report, report_free);
}

void
st_progress_free (StProgress *progress)
{
  if (progress != NULL)
    progress_unref (progress);
}
