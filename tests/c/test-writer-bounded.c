/* test-writer-bounded.c: STWriter writes a file twice the size of the address space it may use
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The process lowers its own address-space limit (RLIMIT_AS, soft) to LIMIT, streams a file of twice
 * that size in 1 MiB chunks, and checks that its peak resident set stayed under 64 MiB: a writer that
 * kept the tensors, or mapped the output, could not finish. The limit is then lifted and the file is
 * read back and checked, chunk by chunk. Not in the `c` suite: sanitizers and valgrind reserve more
 * address space than the limit lets them have.
 */
#include <sys/resource.h>
#include <fcntl.h>
#include <unistd.h>

#include "st-test-util.h"

#define MiB ((guint64) 1024 * 1024)
#define LIMIT (256 * MiB)
#define CHUNK (1 * MiB)
#define N_TENSORS 4
#define TENSOR_BYTES (2 * LIMIT / N_TENSORS)

/* The content of byte @offset of tensor @t: a pattern that no misplaced chunk reproduces. */
static void
fill (guint8  *chunk,
      guint    t,
      guint64  offset)
{
  guint64 *words = (guint64 *) chunk;

  for (gsize i = 0; i < CHUNK / 8; i++)
    words[i] = GUINT64_TO_LE ((offset / 8 + i) * 2654435761u + t);
}

static glong
peak_rss_kib (void)
{
  struct rusage usage;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
  return usage.ru_maxrss;
}

static void
test_twice_the_address_space (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "big.safetensors", NULL);
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *chunk = g_malloc (CHUNK);
  g_autofree guint8 *expected = g_malloc (CHUNK);
  struct rlimit saved, limited;
  gint64 shape[1] = { TENSOR_BYTES / 4 };
  guint64 data_start;
  glong peak;
  int fd;

  for (guint t = 0; t < N_TENSORS; t++)
    {
      g_autofree char *name = g_strdup_printf ("layer.%u.weight", t);

      g_assert_true (st_writer_add_tensor (writer, name, ST_DTYPE_F32, shape, 1, &error));
    }
  st_writer_set_metadata_value (writer, "purpose", "bounded memory");

  g_assert_cmpint (getrlimit (RLIMIT_AS, &saved), ==, 0);
  limited = saved;
  limited.rlim_cur = LIMIT;
  g_assert_cmpint (setrlimit (RLIMIT_AS, &limited), ==, 0);

  g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st_writer_get_size (writer), >, 2 * LIMIT);

  /* The tensors in reverse file order, as a producer that does not know the layout might give them. */
  for (guint t = N_TENSORS; t-- > 0;)
    {
      g_autofree char *name = g_strdup_printf ("layer.%u.weight", t);

      for (guint64 offset = 0; offset < TENSOR_BYTES; offset += CHUNK)
        {
          fill (chunk, t, offset);
          if (!st_writer_write (writer, name, chunk, CHUNK, &error))
            g_error ("%s", error->message);
        }
    }
  g_assert_true (st_writer_finish (writer, &error));
  g_assert_no_error (error);

  peak = peak_rss_kib ();
  g_test_message ("peak RSS %ld KiB while writing %" G_GUINT64_FORMAT " MiB under a %" G_GUINT64_FORMAT
                  " MiB address-space limit", peak, st_writer_get_size (writer) / MiB, LIMIT / MiB);
  g_assert_cmpint (peak, <, 64 * 1024);

  g_assert_cmpint (setrlimit (RLIMIT_AS, &saved), ==, 0);

  /* Read back with pread, chunk by chunk: every tensor at its offset, in file order (by name). */
  {
    g_autoptr(GBytes) whole = NULL;
    guint8 prefix[8];
    guint64 header_len = 0;

    fd = open (path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (pread (fd, prefix, 8, 0), ==, 8);
    for (int i = 7; i >= 0; i--)
      header_len = (header_len << 8) | prefix[i];
    data_start = 8 + header_len;
    for (guint t = 0; t < N_TENSORS; t++)
      for (guint64 offset = 0; offset < TENSOR_BYTES; offset += CHUNK)
        {
          fill (expected, t, offset);
          g_assert_cmpint (pread (fd, chunk, CHUNK, (off_t) (data_start + t * TENSOR_BYTES + offset)), ==, CHUNK);
          g_assert_true (memcmp (chunk, expected, CHUNK) == 0);
        }
    close (fd);
  }
  {
    g_autoptr(STFile) loaded = st_file_new_from_path (path, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (st_file_get_n_tensors (loaded), ==, N_TENSORS);
    g_assert_cmpstr (st_file_get_metadata_value (loaded, "purpose"), ==, "bounded memory");
  }

  st_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/writer/bounded/twice-the-address-space", test_twice_the_address_space);

  return g_test_run ();
}
