/* st-source.c: byte sources, the local file source, and read plans
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A read plan sorts the wanted ranges and joins neighbours into spans: for an HTTP source one request
 * costs a round trip, so ranges less than the source's gap apart are read as one span and the gap's
 * bytes dropped; a local file reads each range where it is (a gap of 0). The spans are then read by up
 * to the source's parallelism in threads, the first error cancelling the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-io-private.h"
#include "st-parallel-private.h"
#include "st-source-private.h"

/* Sources */

void
st_source_init (StSource            *source,
                const StSourceClass *klass,
                const char          *name,
                guint64              size,
                guint64              max_gap,
                guint                max_parallel)
{
  source->klass = klass;
  g_atomic_ref_count_init (&source->ref_count);
  source->name = g_strdup (name);
  source->size = size;
  source->max_gap = max_gap;
  source->max_parallel = MAX (max_parallel, 1);
}

StSource *
st_source_ref (StSource *source)
{
  g_atomic_ref_count_inc (&source->ref_count);
  return source;
}

void
st_source_unref (StSource *source)
{
  if (source == NULL || !g_atomic_ref_count_dec (&source->ref_count))
    return;
  g_free (source->name);
  source->klass->finalize (source);
}

const char *
st_source_get_name (StSource *source)
{
  return source->name;
}

guint64
st_source_get_size (StSource *source)
{
  return source->size;
}

char *
st_source_dup_etag (StSource *source)
{
  return source->klass->dup_etag != NULL ? source->klass->dup_etag (source) : NULL;
}

gboolean
st_source_read_prefix (StSource      *source,
                       gpointer       buf,
                       gsize          len,
                       gsize         *out_read,
                       GCancellable  *cancellable,
                       GError       **error)
{
  return source->klass->read_prefix (source, buf, len, out_read, cancellable, error);
}

gboolean
st_source_stream (StSource             *source,
                  guint64               offset,
                  guint64               length,
                  StSourceSinkFunc      sink,
                  gpointer              sink_data,
                  StSourceAdvanceFunc   advance,
                  gpointer              advance_data,
                  GCancellable         *cancellable,
                  GError              **error)
{
  return source->klass->stream (source, offset, length, sink, sink_data, advance, advance_data, cancellable, error);
}

gpointer
st_span_locate (const StSpan *span,
                guint64       position,
                guint64      *out_len)
{
  guint64 offset = span->offset + position;
  gsize lo = 0, hi = span->n_pieces;

  /* the last piece that begins at or before @offset */
  while (hi - lo > 1)
    {
      gsize mid = lo + (hi - lo) / 2;

      if (span->pieces[mid].offset <= offset)
        lo = mid;
      else
        hi = mid;
    }

  if (span->n_pieces > 0 && span->pieces[lo].offset <= offset)
    {
      const StRange *piece = &span->pieces[lo];

      if (offset < piece->offset + piece->length)
        {
          *out_len = piece->offset + piece->length - offset;
          return (guint8 *) piece->dest + (offset - piece->offset);
        }
      /* in the gap after this piece */
      *out_len = (lo + 1 < span->n_pieces ? span->pieces[lo + 1].offset : span->offset + span->length) - offset;
      return NULL;
    }
  *out_len = (span->n_pieces > 0 ? span->pieces[0].offset : span->offset + span->length) - offset;
  return NULL;
}

/* The local file source: pread() into each range */

typedef struct {
  StSource parent;
  int      fd;
} StFdSource;

#define FD_READ_BLOCK ((gsize) 16 * 1024 * 1024)

static gboolean
fd_read_range (StFdSource          *self,
               const StRange       *range,
               StSourceAdvanceFunc  advance,
               gpointer             advance_data,
               GCancellable        *cancellable,
               GError             **error)
{
  guint64 done = 0;

  while (done < range->length)
    {
      gsize want = (gsize) MIN (range->length - done, FD_READ_BLOCK);
      ssize_t n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      n = pread (self->fd, (guint8 *) range->dest + done, want, (off_t) (range->offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          st_set_io_error_from_errno (error, errno, "Could not read", self->parent.name);
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                       "“%s” ends at byte %" G_GUINT64_FORMAT ", before the %" G_GUINT64_FORMAT " bytes asked for",
                       self->parent.name, range->offset + done, range->offset + range->length);
          return FALSE;
        }
      done += (guint64) n;
      if (advance != NULL)
        advance ((guint64) n, advance_data);
    }
  return TRUE;
}

static gboolean
fd_read_span (StSource            *source,
              const StSpan        *span,
              StSourceAdvanceFunc  advance,
              gpointer             advance_data,
              GCancellable        *cancellable,
              GError             **error)
{
  for (gsize i = 0; i < span->n_pieces; i++)
    if (!fd_read_range ((StFdSource *) source, &span->pieces[i], advance, advance_data, cancellable, error))
      return FALSE;
  return TRUE;
}

static gboolean
fd_read_prefix (StSource      *source,
                gpointer       buf,
                gsize          len,
                gsize         *out_read,
                GCancellable  *cancellable,
                GError       **error)
{
  StRange range = { 0, MIN ((guint64) len, source->size), buf };

  if (!fd_read_range ((StFdSource *) source, &range, NULL, NULL, cancellable, error))
    return FALSE;
  *out_read = (gsize) range.length;
  return TRUE;
}

static gboolean
fd_stream (StSource            *source,
           guint64              offset,
           guint64              length,
           StSourceSinkFunc     sink,
           gpointer             sink_data,
           StSourceAdvanceFunc  advance,
           gpointer             advance_data,
           GCancellable        *cancellable,
           GError             **error)
{
  const gsize block = 1024 * 1024;
  g_autofree guint8 *buffer = g_malloc (block);
  guint64 done = 0;

  while (done < length)
    {
      StRange range = { offset + done, MIN (length - done, block), buffer };

      if (!fd_read_range ((StFdSource *) source, &range, advance, advance_data, cancellable, error) ||
          !sink (buffer, (gsize) range.length, sink_data, error))
        return FALSE;
      done += range.length;
    }
  return TRUE;
}

static void
fd_finalize (StSource *source)
{
  StFdSource *self = (StFdSource *) source;

  g_close (self->fd, NULL);
  g_free (self);
}

static const StSourceClass fd_source_class = {
  .read_span = fd_read_span,
  .read_prefix = fd_read_prefix,
  .stream = fd_stream,
  .finalize = fd_finalize,
};

StSource *
st_source_new_for_fd (int          fd,
                      const char  *name,
                      GError     **error)
{
  StFdSource *self;
  struct stat st;
  int dup_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);

  if (dup_fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not open", name);
      return NULL;
    }
  if (fstat (dup_fd, &st) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not read", name);
      g_close (dup_fd, NULL);
      return NULL;
    }
  self = g_new0 (StFdSource, 1);
  self->fd = dup_fd;
  /* the page cache serves neighbours at no cost: a gap is never worth reading */
  st_source_init (&self->parent, &fd_source_class, name, (guint64) st.st_size, 0, 1);
  return &self->parent;
}

/* Read plans */

struct _StReadPlan
{
  GArray  *ranges;   /* StRange, in the order added until the plan runs, then sorted */
  guint64  n_bytes;
};

StReadPlan *
st_read_plan_new (void)
{
  StReadPlan *plan = g_new0 (StReadPlan, 1);

  plan->ranges = g_array_new (FALSE, FALSE, sizeof (StRange));
  return plan;
}

void
st_read_plan_free (StReadPlan *plan)
{
  if (plan == NULL)
    return;
  g_array_unref (plan->ranges);
  g_free (plan);
}

void
st_read_plan_add (StReadPlan *plan,
                  guint64     offset,
                  guint64     length,
                  gpointer    dest)
{
  StRange range = { offset, length, dest };

  if (length == 0)
    return;
  g_array_append_val (plan->ranges, range);
  plan->n_bytes += length;
}

guint64
st_read_plan_get_n_bytes (StReadPlan *plan)
{
  return plan->n_bytes;
}

static int
compare_ranges (gconstpointer a,
                gconstpointer b)
{
  const StRange *ra = a, *rb = b;

  if (ra->offset != rb->offset)
    return ra->offset < rb->offset ? -1 : 1;
  return ra->length < rb->length ? -1 : ra->length > rb->length;
}

/* Sorts the ranges and cuts them into spans: a range joins the span before it when it starts at or
 * after the span's end (ranges that overlap get spans of their own: one stream cannot fill both) and
 * no more than @max_gap bytes after it. */
static GArray *
plan_spans (StReadPlan *plan,
            guint64     max_gap)
{
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (StSpan));
  StRange *ranges;

  g_array_sort (plan->ranges, compare_ranges);
  ranges = (StRange *) (gpointer) plan->ranges->data;
  for (guint i = 0; i < plan->ranges->len; i++)
    {
      StSpan *last = spans->len > 0 ? &g_array_index (spans, StSpan, spans->len - 1) : NULL;
      guint64 last_end = last != NULL ? last->offset + last->length : 0;

      if (last != NULL && ranges[i].offset >= last_end && ranges[i].offset - last_end <= max_gap &&
          last->pieces + last->n_pieces == &ranges[i])
        {
          last->length = ranges[i].offset + ranges[i].length - last->offset;
          last->n_pieces++;
        }
      else
        {
          StSpan span = { ranges[i].offset, ranges[i].length, &ranges[i], 1 };

          g_array_append_val (spans, span);
        }
    }
  return spans;
}

guint
st_read_plan_get_n_spans (StReadPlan *plan,
                          StSource   *source)
{
  g_autoptr(GArray) spans = plan_spans (plan, source->max_gap);

  return spans->len;
}

typedef struct {
  StSource            *source;
  GArray              *spans;
  StSourceAdvanceFunc  advance;
  gpointer             advance_data;
} PlanRun;

static gboolean
read_span (guint          index,
           gpointer       data,
           GCancellable  *cancellable,
           GError       **error)
{
  PlanRun *run = data;

  return run->source->klass->read_span (run->source, &g_array_index (run->spans, StSpan, index), run->advance,
                                        run->advance_data, cancellable, error);
}

gboolean
st_read_plan_execute (StReadPlan           *plan,
                      StSource             *source,
                      StSourceAdvanceFunc   advance,
                      gpointer              advance_data,
                      GCancellable         *cancellable,
                      GError              **error)
{
  g_autoptr(GArray) spans = plan_spans (plan, source->max_gap);
  PlanRun run = { source, spans, advance, advance_data };

  /* this thread reads too: one span needs no thread at all */
  return st_parallel_run (spans->len, source->max_parallel, "st-read-plan", read_span, &run, cancellable, error);
}
