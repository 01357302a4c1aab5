/* test-ranges.c: many byte ranges of one file read and placed in few system calls
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The file of these tests holds byte (i * 7 + 3) % 251 at offset i: every expectation below is
 * computed from that rule, not from the library. System calls are counted, never timed, by this
 * program's own preadv() and pwritev(), which the library's calls reach (a definition in the executable
 * comes before libc's, and before a sanitizer's interceptor).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "st-test-util.h"

/* The process's /proc/self/io also counts reads and writes of a sanitizer's or valgrind's runtime, which
 * made the counts 2 where the library makes 1 call, and 11 where it makes 4, in those builds: the
 * library's own calls are counted here. */
static guint n_preadv_calls;
static guint n_pwritev_calls;

ssize_t
preadv (int                 fd,
        const struct iovec *iov,
        int                 iovcnt,
        off_t               offset)
{
  g_atomic_int_inc (&n_preadv_calls);
  /* The kernel takes the offset as two words; on a 64-bit host the low one holds it all. */
  G_STATIC_ASSERT (sizeof (off_t) == 8 && sizeof (long) == 8);
  return syscall (SYS_preadv, fd, iov, iovcnt, (long) offset, 0L);
}

ssize_t
pwritev (int                 fd,
         const struct iovec *iov,
         int                 iovcnt,
         off_t               offset)
{
  g_atomic_int_inc (&n_pwritev_calls);
  return syscall (SYS_pwritev, fd, iov, iovcnt, (long) offset, 0L);
}

#define FILE_SIZE 8192

static guint8
pattern (guint64 offset)
{
  return (guint8) ((offset * 7 + 3) % 251);
}

static int
open_pattern_file (char **out_dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("st-ranges-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree guint8 *bytes = g_malloc (FILE_SIZE);
  int fd;

  g_assert_no_error (error);
  for (guint64 i = 0; i < FILE_SIZE; i++)
    bytes[i] = pattern (i);
  path = g_build_filename (dir, "pattern.bin", NULL);
  g_file_set_contents (path, (const char *) bytes, FILE_SIZE, &error);
  g_assert_no_error (error);
  fd = open (path, O_RDWR | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  *out_dir = g_steal_pointer (&dir);
  return fd;
}

static void
remove_dir (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "pattern.bin", NULL);

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}


/* The preadv() calls st_read_ranges() made for @ranges. */
static guint64
count_read_calls (int            fd,
                  const guint64 *ranges,
                  gsize          n_values)
{
  g_autoptr(GError) error = NULL;
  guint before = (guint) g_atomic_int_get (&n_preadv_calls);

  g_assert_true (st_read_ranges (fd, ranges, n_values, NULL, &error));
  g_assert_no_error (error);
  return (guint) g_atomic_int_get (&n_preadv_calls) - before;
}

static void
test_read_scattered (void)
{
  g_autofree char *dir = NULL;
  int fd = open_pattern_file (&dir);
  /* out of order, overlapping, one empty, one ending at the end of the file */
  static const guint64 spans[][2] = { { 4000, 100 }, { 0, 10 }, { 50, 0 }, { 5, 20 }, { FILE_SIZE - 7, 7 } };
  guint8 buffers[G_N_ELEMENTS (spans)][100];
  guint64 ranges[G_N_ELEMENTS (spans) * 3];
  g_autoptr(GError) error = NULL;

  memset (buffers, 0xee, sizeof buffers);
  for (gsize i = 0; i < G_N_ELEMENTS (spans); i++)
    {
      ranges[3 * i] = spans[i][0];
      ranges[3 * i + 1] = spans[i][1];
      ranges[3 * i + 2] = (guint64) GPOINTER_TO_SIZE (buffers[i]);
    }
  g_assert_true (st_read_ranges (fd, ranges, G_N_ELEMENTS (ranges), NULL, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (spans); i++)
    {
      for (guint64 j = 0; j < spans[i][1]; j++)
        g_assert_cmpuint (buffers[i][j], ==, pattern (spans[i][0] + j));
      for (guint64 j = spans[i][1]; j < 100; j++)
        g_assert_cmpuint (buffers[i][j], ==, 0xee);
    }
  close (fd);
  remove_dir (dir);
}

/* 1000 adjacent ranges into 1000 separate places are one preadv(); 1500 are two (1024 pieces a
 * call); two runs with a gap between them are two calls. */
static void
test_read_coalesced (void)
{
  g_autofree char *dir = NULL;
  int fd = open_pattern_file (&dir);
  g_autofree guint8 *memory = g_malloc0 (2 * 1500);
  g_autofree guint64 *ranges = g_new (guint64, 3 * 1500);

  /* byte i of the file goes to memory[2 * i]: adjacent in the file, strided in memory */
  for (guint64 i = 0; i < 1500; i++)
    {
      ranges[3 * i] = 1000 + i;
      ranges[3 * i + 1] = 1;
      ranges[3 * i + 2] = (guint64) GPOINTER_TO_SIZE (memory + 2 * i);
    }
  g_assert_cmpuint (count_read_calls (fd, ranges, 3 * 1000), ==, 1);
  g_assert_cmpuint (count_read_calls (fd, ranges, 3 * 1500), ==, 2);
  for (guint64 i = 0; i < 1500; i++)
    {
      g_assert_cmpuint (memory[2 * i], ==, pattern (1000 + i));
      g_assert_cmpuint (memory[2 * i + 1], ==, 0);
    }

  ranges[3 * 1] = 3000;  /* the second range no longer follows the first */
  g_assert_cmpuint (count_read_calls (fd, ranges, 3 * 2), ==, 2);
  g_assert_cmpuint (memory[2], ==, pattern (3000));
  close (fd);
  remove_dir (dir);
}

/* A 4 x 6 matrix of bytes at offset 64; the caller holds columns 2 and 3 (a slice along the second
 * dimension) contiguously, 4 x 2, and places it: four ranges, one per row. */
static void
test_write_strided (void)
{
  g_autofree char *dir = NULL;
  int fd = open_pattern_file (&dir);
  guint8 slice[4][2] = { { 'a', 'b' }, { 'c', 'd' }, { 'e', 'f' }, { 'g', 'h' } };
  guint8 rows[2 * 6];
  guint64 ranges[4 * 3];
  guint8 file[128];
  g_autoptr(GError) error = NULL;
  guint64 before;

  for (guint64 row = 0; row < 4; row++)
    {
      ranges[3 * row] = 64 + row * 6 + 2;
      ranges[3 * row + 1] = 2;
      ranges[3 * row + 2] = (guint64) GPOINTER_TO_SIZE (slice[row]);
    }
  before = (guint64) g_atomic_int_get (&n_pwritev_calls);
  g_assert_true (st_write_ranges (fd, ranges, G_N_ELEMENTS (ranges), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint ((guint64) g_atomic_int_get (&n_pwritev_calls) - before, ==, 4);

  g_assert_cmpint (pread (fd, file, sizeof file, 0), ==, sizeof file);
  for (guint64 i = 0; i < sizeof file; i++)
    {
      guint64 row = (i - 64) / 6;
      guint64 col = (i - 64) % 6;

      if (i >= 64 && i < 64 + 24 && (col == 2 || col == 3))
        g_assert_cmpuint (file[i], ==, slice[row][col - 2]);
      else
        g_assert_cmpuint (file[i], ==, pattern (i));
    }

  /* a slice along the first dimension (rows 1 and 2) is one range and one call */
  memset (rows, 'z', sizeof rows);
  ranges[0] = 64 + 6;
  ranges[1] = sizeof rows;
  ranges[2] = (guint64) GPOINTER_TO_SIZE (rows);
  before = (guint64) g_atomic_int_get (&n_pwritev_calls);
  g_assert_true (st_write_ranges (fd, ranges, 3, NULL, &error));
  g_assert_cmpuint ((guint64) g_atomic_int_get (&n_pwritev_calls) - before, ==, 1);
  g_assert_cmpint (pread (fd, file, sizeof file, 0), ==, sizeof file);
  for (guint64 i = 64 + 6; i < 64 + 18; i++)
    g_assert_cmpuint (file[i], ==, 'z');
  g_assert_cmpuint (file[64 + 18 + 2], ==, 'g');  /* row 3 keeps its slice */
  close (fd);
  remove_dir (dir);
}

static void
test_errors (void)
{
  g_autofree char *dir = NULL;
  int fd = open_pattern_file (&dir);
  guint8 buffer[16];
  guint64 past_end[] = { FILE_SIZE - 4, 8, (guint64) GPOINTER_TO_SIZE (buffer) };
  guint64 no_address[] = { 0, 8, 0 };
  guint64 too_far[] = { G_MAXINT64, 8, (guint64) GPOINTER_TO_SIZE (buffer) };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (st_read_ranges (fd, past_end, 2, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "triples"));
  g_clear_error (&error);

  g_assert_false (st_read_ranges (fd, past_end, 3, NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER);
  g_assert_nonnull (strstr (error->message, "pattern.bin"));
  g_assert_nonnull (strstr (error->message, "ended at byte 8192"));
  g_clear_error (&error);

  g_assert_false (st_write_ranges (fd, no_address, 3, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (st_read_ranges (fd, too_far, 3, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_cancellable_cancel (cancellable);
  past_end[0] = 0;
  g_assert_false (st_read_ranges (fd, past_end, 3, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* nothing to do is success */
  g_assert_true (st_read_ranges (fd, NULL, 0, NULL, &error));
  g_assert_no_error (error);
  close (fd);

  /* a descriptor open for reading only cannot be written */
  {
    g_autofree char *path = g_build_filename (dir, "pattern.bin", NULL);
    guint64 one[] = { 0, 4, (guint64) GPOINTER_TO_SIZE (buffer) };

    fd = open (path, O_RDONLY | O_CLOEXEC);
    g_assert_false (st_write_ranges (fd, one, 3, NULL, &error));
    g_assert_error (error, G_IO_ERROR, (gint) g_io_error_from_errno (EBADF));
    g_assert_nonnull (strstr (error->message, "Could not write to"));
    close (fd);
  }
  remove_dir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ranges/read/scattered", test_read_scattered);
  g_test_add_func ("/ranges/read/coalesced", test_read_coalesced);
  g_test_add_func ("/ranges/write/strided", test_write_strided);
  g_test_add_func ("/ranges/errors", test_errors);

  return g_test_run ();
}
