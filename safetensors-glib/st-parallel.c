/* st-parallel.c: a few items done by a bounded number of threads, the first failure stopping the others
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "st-parallel-private.h"

typedef struct {
  guint           n_items;
  StParallelFunc  func;
  gpointer        user_data;
  gint            next;         /* atomic: the next item to do */
  GCancellable   *cancellable;  /* cancelled by the caller's, or by the first failure */
  GMutex          lock;
  GError         *error;        /* the first failure's */
} Run;

static gpointer
worker (gpointer data)
{
  Run *run = data;

  for (;;)
    {
      gint i = g_atomic_int_add (&run->next, 1);
      GError *local_error = NULL;

      if ((guint) i >= run->n_items)
        break;
      if (run->func ((guint) i, run->user_data, run->cancellable, &local_error))
        continue;
      g_mutex_lock (&run->lock);
      /* the first error wins; the cancellations it causes in the other threads are not news */
      if (run->error == NULL)
        run->error = local_error;
      else
        g_error_free (local_error);
      g_mutex_unlock (&run->lock);
      g_cancellable_cancel (run->cancellable);
      break;
    }
  return NULL;
}

static void
forward_cancel (GCancellable *cancellable,
                gpointer      data)
{
  g_cancellable_cancel (data);
}

gboolean
st_parallel_run (guint           n_items,
                 guint           max_threads,
                 const char     *thread_name,
                 StParallelFunc  func,
                 gpointer        user_data,
                 GCancellable   *cancellable,
                 GError        **error)
{
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  Run run = { n_items, func, user_data, 0, NULL, { 0 }, NULL };
  gulong handler = 0;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  run.cancellable = g_cancellable_new ();
  g_mutex_init (&run.lock);
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (forward_cancel), g_object_ref (run.cancellable),
                                     g_object_unref);

  for (guint i = 1; i < MIN (n_items, max_threads); i++)
    {
      GThread *thread = g_thread_try_new (thread_name, worker, &run, NULL);

      /* without a thread, fewer do the work */
      if (thread != NULL)
        g_ptr_array_add (threads, thread);
    }
  worker (&run);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);

  if (cancellable != NULL)
    g_cancellable_disconnect (cancellable, handler);
  g_object_unref (run.cancellable);
  g_mutex_clear (&run.lock);

  if (run.error != NULL)
    {
      /* a cancellation by the caller reads as one, whatever the item saw */
      if (g_cancellable_is_cancelled (cancellable) &&
          !g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&run.error);
          g_cancellable_set_error_if_cancelled (cancellable, &run.error);
        }
      g_propagate_error (error, run.error);
      return FALSE;
    }
  return TRUE;
}
