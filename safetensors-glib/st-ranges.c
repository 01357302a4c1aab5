/* st-ranges.c: reading and writing many byte ranges of one file, in few system calls
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The planned reads and writes under rank-coordinated loading and saving (bindings/python/
 * safetensors_glib/distributed.py): a caller names many (file offset, length, memory address) ranges,
 * for instance the rows of a slice along the second dimension of a tensor, and each run of ranges
 * whose bytes follow each other in the file becomes one preadv() or pwritev() call, whatever the
 * memory addresses are. The ranges have the shape of the private read plan of the http branch
 * (StRange: offset, length, dest); there a source may also join ranges separated by a small gap,
 * which pays off for requests over a network, not for pread() of a local file.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "st-error.h"
#include "st-io-private.h"
#include "st-ranges.h"

/* Linux's UIO_MAXIOV: the most pieces one preadv()/pwritev() takes. */
#define MAX_PIECES 1024
/* Linux transfers at most 0x7ffff000 bytes per call; calls stay below, with a look at the
 * cancellable between them. */
#define MAX_CALL_BYTES ((guint64) 1 << 30)

typedef struct {
  guint64  offset;
  guint64  length;
  guint8  *memory;
  gsize    order;   /* the position the caller gave it: ties keep that order */
} Range;

static int
compare_ranges (const void *a,
                const void *b)
{
  const Range *x = a;
  const Range *y = b;

  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  if (x->order != y->order)
    return x->order < y->order ? -1 : 1;
  return 0;
}

static char *
describe_fd (int fd)
{
  g_autofree char *link = g_strdup_printf ("/proc/self/fd/%d", fd);
  char *target = g_file_read_link (link, NULL);

  return target != NULL ? target : g_strdup_printf ("file descriptor %d", fd);
}

/* The ranges, checked, without the empty ones, sorted by offset. */
static GArray *
collect_ranges (const guint64  *values,
                gsize           n_values,
                GError        **error)
{
  g_autoptr(GArray) ranges = NULL;

  if (n_values % 3 != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Ranges come as (offset, length, address) triples, but %" G_GSIZE_FORMAT
                   " values were given", n_values);
      return NULL;
    }

  ranges = g_array_sized_new (FALSE, FALSE, sizeof (Range), (guint) (n_values / 3));
  for (gsize i = 0; i < n_values; i += 3)
    {
      Range range = { values[i], values[i + 1], GSIZE_TO_POINTER ((gsize) values[i + 2]), i / 3 };

      if (range.length == 0)
        continue;
      if (range.offset > G_MAXINT64 || range.length > G_MAXINT64 - range.offset)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Range %" G_GSIZE_FORMAT " (%" G_GUINT64_FORMAT " bytes at byte %" G_GUINT64_FORMAT
                       ") ends past the largest file offset", i / 3, range.length, range.offset);
          return NULL;
        }
      if (values[i + 2] == 0 || values[i + 2] > G_MAXSIZE || range.length > G_MAXSIZE - values[i + 2])
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Range %" G_GSIZE_FORMAT " has no valid memory address for its %" G_GUINT64_FORMAT
                       " bytes", i / 3, range.length);
          return NULL;
        }
      g_array_append_val (ranges, range);
    }
  if (ranges->len > 1)
    qsort (ranges->data, ranges->len, sizeof (Range), compare_ranges);
  return g_steal_pointer (&ranges);
}

/* Transfers @n ranges whose file bytes follow each other from @ranges[0].offset on, resuming after
 * short transfers. */
static gboolean
transfer_run (int            fd,
              gboolean       writing,
              const Range   *ranges,
              gsize          n,
              GCancellable  *cancellable,
              GError       **error)
{
  guint64 offset = ranges[0].offset;
  gsize i = 0;
  guint64 skip = 0;  /* bytes of ranges[i] already transferred */

  while (i < n)
    {
      struct iovec pieces[MAX_PIECES];
      int n_pieces = 0;
      guint64 call_bytes = 0;
      gssize done;

      for (gsize k = i; k < n && n_pieces < MAX_PIECES && call_bytes < MAX_CALL_BYTES; k++)
        {
          guint64 start = k == i ? skip : 0;
          guint64 len = MIN (ranges[k].length - start, MAX_CALL_BYTES - call_bytes);

          pieces[n_pieces].iov_base = ranges[k].memory + start;
          pieces[n_pieces].iov_len = (size_t) len;
          n_pieces++;
          call_bytes += len;
        }

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (writing)
        done = pwritev (fd, pieces, n_pieces, (off_t) offset);
      else
        done = preadv (fd, pieces, n_pieces, (off_t) offset);
      if (done < 0 && errno == EINTR)
        continue;
      if (done <= 0)
        {
          g_autofree char *name = describe_fd (fd);

          if (done == 0 && !writing)
            {
              g_set_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER,
                           "The file “%s” ended at byte %" G_GUINT64_FORMAT ", before the end of a range"
                           " (byte %" G_GUINT64_FORMAT ")", name, offset,
                           ranges[i].offset + ranges[i].length);
              return FALSE;
            }
          st_set_io_error_from_errno (error, done == 0 ? EIO : errno,
                                      writing ? "Could not write to" : "Could not read", name);
          return FALSE;
        }

      offset += (guint64) done;
      while (done > 0)
        {
          guint64 rest = ranges[i].length - skip;

          if ((guint64) done >= rest)
            {
              done -= (gssize) rest;
              i++;
              skip = 0;
            }
          else
            {
              skip += (guint64) done;
              done = 0;
            }
        }
    }

  return TRUE;
}

static gboolean
transfer_ranges (int             fd,
                 gboolean        writing,
                 const guint64  *values,
                 gsize           n_values,
                 GCancellable   *cancellable,
                 GError        **error)
{
  g_autoptr(GArray) ranges = collect_ranges (values, n_values, error);
  const Range *all;
  gsize first = 0;

  if (ranges == NULL)
    return FALSE;

  all = (const Range *) (gconstpointer) ranges->data;
  while (first < ranges->len)
    {
      gsize end = first + 1;

      while (end < ranges->len && all[end].offset == all[end - 1].offset + all[end - 1].length)
        end++;
      if (!transfer_run (fd, writing, all + first, end - first, cancellable, error))
        return FALSE;
      first = end;
    }

  return TRUE;
}

/**
 * st_read_ranges:
 * @fd: an open file descriptor to read from (its file position is left alone)
 * @ranges: (array length=n_values): (offset in the file, length, memory address) triples, flat
 * @n_values: the number of values in @ranges: three per range
 * @cancellable: (nullable): a #GCancellable, looked at between system calls
 * @error: return location for a #GError
 *
 * Reads many byte ranges of a file straight into memory the caller owns: range `i` copies
 * `ranges[3i+1]` bytes at offset `ranges[3i]` of @fd to the address `ranges[3i+2]` (a
 * `tensor.data_ptr()` in Python, a pointer cast to #guint64 in C).
 *
 * The ranges may come in any order and may overlap. Sorted by offset, every run of ranges whose
 * bytes follow each other in the file is read with one preadv() call (or a few, for runs of more
 * than 1024 ranges or 1 GiB), wherever their memory lies: the rows of a slice of a tensor along a
 * later dimension, or consecutive tensors going to separate buffers, cost one system call per run
 * and no copy. Empty ranges are ignored.
 *
 * The memory of every range must be writable and at least its length long: this is not
 * checkable, as for any address.
 *
 * Returns: %TRUE when every byte was read. On failure the memory holds an unspecified part of
 *   the bytes and @error is set: `G_IO_ERROR_INVALID_ARGUMENT` for a number of values that is not
 *   a multiple of three, an address of 0 or a range past the largest offset;
 *   `ST_ERROR_INCOMPLETE_BUFFER` when the file ends before a range does; another #GIOErrorEnum
 *   code for a failed read, and `G_IO_ERROR_CANCELLED`.
 *
 * Since: 1.2
 */
gboolean
st_read_ranges (int             fd,
                const guint64  *ranges,
                gsize           n_values,
                GCancellable   *cancellable,
                GError        **error)
{
  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (ranges != NULL || n_values == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return transfer_ranges (fd, FALSE, ranges, n_values, cancellable, error);
}

/**
 * st_write_ranges:
 * @fd: an open file descriptor to write to (its file position is left alone)
 * @ranges: (array length=n_values): (offset in the file, length, memory address) triples, flat
 * @n_values: the number of values in @ranges: three per range
 * @cancellable: (nullable): a #GCancellable, looked at between system calls
 * @error: return location for a #GError
 *
 * Places many byte ranges of memory at their positions in a file: range `i` copies
 * `ranges[3i+1]` bytes at the address `ranges[3i+2]` to offset `ranges[3i]` of @fd. This is how
 * the part of a tensor one process holds lands where it belongs in a file other processes write
 * too: a slice along the first dimension is one range, a slice along the second one range per
 * row (strided placement).
 *
 * As in st_read_ranges(), every run of ranges whose file bytes follow each other is one
 * pwritev() call (or a few); empty ranges are ignored. Where ranges overlap, which bytes the
 * file keeps is unspecified. Nothing is synced: the caller fsync()s @fd when it needs to.
 *
 * Returns: %TRUE when every byte was written. On failure the file holds an unspecified part of
 *   the bytes and @error is set: `G_IO_ERROR_INVALID_ARGUMENT` as for st_read_ranges(), another
 *   #GIOErrorEnum code for a failed write (`G_IO_ERROR_NO_SPACE` for a full disk), and
 *   `G_IO_ERROR_CANCELLED`.
 *
 * Since: 1.2
 */
gboolean
st_write_ranges (int             fd,
                 const guint64  *ranges,
                 gsize           n_values,
                 GCancellable   *cancellable,
                 GError        **error)
{
  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (ranges != NULL || n_values == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return transfer_ranges (fd, TRUE, ranges, n_values, cancellable, error);
}
