/* test-writer.c: STWriter, the streaming writer
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the writer writes is byte for byte what a whole-file save writes (random files, chunks of random
 * sizes, tensors in random order); a missing, short or overlong tensor, a cancellation, a close and a
 * dropped writer leave the target as it was and nothing beside it.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "st-test-util.h"

static STTensor *
random_tensor (void)
{
  const StTestDType *type = &st_test_dtypes[g_test_rand_int_range (0, G_N_ELEMENTS (st_test_dtypes))];
  guint n_dims = (guint) g_test_rand_int_range (0, 4);
  gint64 shape[3];
  guint64 n_elements = 1;
  guint64 n_bytes;
  guint8 *data;

  if (n_dims == 0 && type->bits < 8)
    n_dims = 1;
  for (guint i = 0; i < n_dims; i++)
    {
      shape[i] = g_test_rand_int_range (0, 40);
      if (i == n_dims - 1 && type->bits < 8)
        shape[i] *= 8;
      n_elements *= (guint64) shape[i];
    }

  n_bytes = n_elements * type->bits / 8;
  data = g_malloc (MAX (n_bytes, 1));
  for (guint64 i = 0; i < n_bytes; i++)
    data[i] = (guint8) g_test_rand_int ();

  {
    g_autoptr(GBytes) bytes = g_bytes_new_take (data, n_bytes);

    return st_tensor_new (type->dtype, shape, n_dims, bytes, NULL);
  }
}

static STFile *
random_file (void)
{
  STFile *file = st_file_new ();
  guint n = (guint) g_test_rand_int_range (0, 12);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%u.%c", (guint) g_test_rand_int_range (0, 1000), 'a' + (char) i);
      g_autoptr(STTensor) tensor = random_tensor ();

      g_assert_true (st_file_set_tensor (file, name, tensor, NULL));
    }
  if (g_test_rand_bit ())
    {
      st_file_set_metadata_value (file, "format", "pt");
      st_file_set_metadata_value (file, "é", "ü \"quoted\" \n");
    }
  return file;
}

/* A writer declaring @file's tensors (in random order) and metadata. */
static STWriter *
writer_for (STFile *file)
{
  STWriter *writer = st_writer_new ();
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  guint n = g_strv_length (names);
  g_autoptr(GHashTable) metadata = st_file_dup_metadata (file);

  for (guint i = n; i > 1; i--)
    {
      guint j = (guint) g_test_rand_int_range (0, (gint) i);
      char *swap = names[i - 1];

      names[i - 1] = names[j];
      names[j] = swap;
    }
  for (guint i = 0; i < n; i++)
    {
      STTensor *tensor = st_file_get_tensor (file, names[i]);
      guint n_dims;
      const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);

      g_assert_true (st_writer_add_tensor (writer, names[i], st_tensor_get_dtype (tensor), shape, n_dims, NULL));
    }
  if (metadata != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        st_writer_set_metadata_value (writer, key, value);
    }
  return writer;
}

/* Writes every tensor of @file in chunks of random sizes, the chunks of all tensors interleaved (and
 * an empty write for empty tensors). */
static void
write_all (STWriter *writer,
           STFile   *file)
{
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  guint n = g_strv_length (names);
  g_autofree gsize *done = g_new0 (gsize, MAX (n, 1));
  g_autofree gboolean *complete = g_new0 (gboolean, MAX (n, 1));
  guint left = n;

  while (left > 0)
    {
      guint i = (guint) g_test_rand_int_range (0, (gint) n);
      gsize size;
      const guint8 *data;
      gsize chunk;
      g_autoptr(GError) error = NULL;

      if (complete[i])
        continue;
      data = st_tensor_get_data (st_file_get_tensor (file, names[i]), &size);
      chunk = (gsize) g_test_rand_int_range (1, 200);
      chunk = MIN (size - done[i], chunk);
      st_writer_write (writer, names[i], chunk > 0 ? data + done[i] : NULL, chunk, &error);
      g_assert_no_error (error);
      done[i] += chunk;
      if (done[i] == size)
        {
          complete[i] = TRUE;
          left--;
        }
    }
}

static void
assert_dir_holds (const char *dir,
                  const char *only)
{
  g_auto(GStrv) names = st_test_list_dir (dir);

  if (only == NULL)
    g_assert_cmpuint (g_strv_length (names), ==, 0);
  else
    {
      g_assert_cmpuint (g_strv_length (names), ==, 1);
      g_assert_cmpstr (names[0], ==, only);
    }
}

/* The writer writes the bytes of test-util's reference serializer (Hugging Face's layout), not merely
 * what st_file_save_* writes: a bug shared by both must not pass. */
static void
test_same_bytes_as_reference (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "out.safetensors", NULL);

  for (guint round = 0; round < 60; round++)
    {
      g_autoptr(STFile) file = random_file ();
      g_autoptr(STWriter) writer = writer_for (file);
      g_autoptr(GBytes) expected = st_test_reference_serialize (file);
      g_autoptr(GBytes) actual = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (expected);
      g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (st_writer_get_size (writer), ==, g_bytes_get_size (expected));
      write_all (writer, file);
      g_assert_true (st_writer_finish (writer, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (st_writer_get_bytes_written (writer), ==, g_bytes_get_size (expected));

      actual = st_test_read_file (path);
      if (!g_bytes_equal (expected, actual))
        st_test_report_difference (expected, actual);
      g_assert_true (g_bytes_equal (expected, actual));
      assert_dir_holds (dir, "out.safetensors");
    }

  st_test_rm_rf (dir);
}

/* A small file with two tensors, "a" (4 bytes) and "b" (8 bytes), declared in @writer. */
static void
declare_two (STWriter *writer)
{
  gint64 four = 4;
  gint64 two = 2;

  g_assert_true (st_writer_add_tensor (writer, "a", ST_DTYPE_U8, &four, 1, NULL));
  g_assert_true (st_writer_add_tensor (writer, "b", ST_DTYPE_F32, &two, 1, NULL));
}

static const guint8 bytes12[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void
test_errors (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "target.safetensors", NULL);
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) before = NULL;
  gint64 one = 1;
  gint64 bad = -1;

  g_assert_true (g_file_set_contents (path, "old content", -1, NULL));
  before = st_test_read_file (path);

  declare_two (writer);
  g_assert_false (st_writer_add_tensor (writer, "a", ST_DTYPE_U8, &one, 1, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_DUPLICATE_NAME);
  g_clear_error (&error);
  g_assert_false (st_writer_add_tensor (writer, "__metadata__", ST_DTYPE_U8, &one, 1, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_false (st_writer_add_tensor (writer, "c", ST_DTYPE_U8, &bad, 1, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE);
  g_clear_error (&error);
  g_assert_false (st_writer_add_tensor (writer, "c", ST_DTYPE_F4, &one, 1, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE);
  g_clear_error (&error);

  g_assert_false (st_writer_write (writer, "a", bytes12, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);
  g_assert_false (st_writer_finish (writer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);

  g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (st_writer_add_tensor (writer, "c", ST_DTYPE_U8, &one, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);
  g_assert_false (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);

  /* Unknown names and overlong writes are refused and leave the writer usable. */
  g_assert_false (st_writer_write (writer, "z", bytes12, 1, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (st_writer_write (writer, "a", bytes12, 3, &error));
  g_assert_false (st_writer_write (writer, "a", bytes12, 2, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH);
  g_clear_error (&error);
  g_assert_cmpuint (st_writer_get_tensor_remaining (writer, "a"), ==, 1);
  g_assert_true (st_writer_write (writer, "b", bytes12, 8, &error));

  /* "a" is one byte short: finish refuses, the target stays, nothing is left beside it. */
  g_assert_false (st_writer_finish (writer, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH);
  st_test_note ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "“a” got 3 of its 4 bytes"));
  g_clear_error (&error);
  {
    g_autoptr(GBytes) after = st_test_read_file (path);

    g_assert_true (g_bytes_equal (before, after));
  }
  assert_dir_holds (dir, "target.safetensors");

  g_assert_false (st_writer_write (writer, "a", bytes12, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);

  st_test_rm_rf (dir);
}

static void
test_missing_tensor (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "new.safetensors", NULL);
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autoptr(GError) error = NULL;

  declare_two (writer);
  g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_true (st_writer_write (writer, "b", bytes12, 8, &error));
  g_assert_false (st_writer_finish (writer, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "“a” got 0 of its 4 bytes"));
  assert_dir_holds (dir, NULL);

  st_test_rm_rf (dir);
}

/* Bytes copied from another file: a slice of it in the kernel (or through memory, between file systems
 * where the kernel cannot), at the tensor's next bytes. @source_dir is where the source file is made. */
static void
check_write_from_fd (const char *source_dir)
{
  static const char source_text[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *source_name = g_strdup_printf ("st-test-writer-source-%d", (int) getpid ());
  g_autofree char *source = g_build_filename (source_dir, source_name, NULL);
  g_autofree char *path = g_build_filename (dir, "new.safetensors", NULL);
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  gint64 shape[] = { 10 };
  int fd;

  g_assert_true (g_file_set_contents (source, source_text, sizeof source_text - 1, &error));
  fd = open (source, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);

  g_assert_true (st_writer_add_tensor (writer, "t", ST_DTYPE_U8, shape, 1, &error));
  g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_true (st_writer_write_from_fd (writer, "t", fd, 2, 4, &error));
  /* Past the tensor's end: refused, nothing written, the writer still usable. */
  g_assert_false (st_writer_write_from_fd (writer, "t", fd, 0, 7, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH);
  g_clear_error (&error);
  g_assert_false (st_writer_write_from_fd (writer, "nope", fd, 0, 1, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (st_writer_write_from_fd (writer, "t", fd, 20, 6, &error));
  g_assert_true (st_writer_finish (writer, &error));
  g_assert_cmpint (lseek (fd, 0, SEEK_CUR), ==, 0);   /* positioned reads only */

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_cmpuint (length, >=, 10);
  g_assert_cmpmem (contents + length - 10, 10, "2345klmnop", 10);
  file = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_file_get_data_size (file), ==, 10);

  /* A source that ends first: an error, and the target as it was. */
  {
    g_autoptr(STWriter) second = st_writer_new ();

    g_assert_true (st_writer_add_tensor (second, "t", ST_DTYPE_U8, shape, 1, &error));
    g_assert_true (st_writer_open (second, path, ST_SAVE_FLAGS_NONE, NULL, &error));
    g_assert_false (st_writer_write_from_fd (second, "t", fd, 30, 10, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
    g_clear_error (&error);
  }
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_cmpmem (contents + length - 10, 10, "2345klmnop", 10);
  assert_dir_holds (dir, "new.safetensors");

  close (fd);
  unlink (source);
  st_test_rm_rf (dir);
}

static void
test_write_from_fd (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();

  check_write_from_fd (dir);
  st_test_rm_rf (dir);
  /* Another file system (tmpfs) than the target's, where there is one: the kernel may refuse to copy
   * between them, and the bytes go through memory. */
  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) && access ("/dev/shm", W_OK) == 0)
    check_write_from_fd ("/dev/shm");
}

static void
test_cancelled (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "target.safetensors", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, "old", -1, NULL));
  declare_two (writer);
  g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_SYNC, cancellable, &error));
  g_assert_true (st_writer_write (writer, "a", bytes12, 4, &error));
  g_cancellable_cancel (cancellable);
  g_assert_false (st_writer_write (writer, "b", bytes12, 8, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (st_writer_finish (writer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  assert_dir_holds (dir, "target.safetensors");
  {
    g_autofree char *content = NULL;

    g_assert_true (g_file_get_contents (path, &content, NULL, NULL));
    g_assert_cmpstr (content, ==, "old");
  }

  st_test_rm_rf (dir);
}

static void
test_close_and_drop (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "new.safetensors", NULL);
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(STWriter) writer = st_writer_new ();

    declare_two (writer);
    g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
    g_assert_true (st_writer_write (writer, "a", bytes12, 4, &error));
    st_writer_close (writer);
    g_assert_false (st_writer_write (writer, "b", bytes12, 8, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
    g_clear_error (&error);
    st_writer_close (writer);
  }
  assert_dir_holds (dir, NULL);

  {
    g_autoptr(STWriter) writer = st_writer_new ();

    declare_two (writer);
    g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
    g_assert_true (st_writer_write (writer, "a", bytes12, 4, &error));
  }
  assert_dir_holds (dir, NULL);

  st_test_rm_rf (dir);
}

static void
test_special_and_directory (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(STWriter) writer = st_writer_new ();

    declare_two (writer);
    g_assert_false (st_writer_open (writer, "/dev/null", ST_SAVE_FLAGS_NONE, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
    g_clear_error (&error);
  }
  {
    g_autoptr(STWriter) writer = st_writer_new ();

    declare_two (writer);
    g_assert_false (st_writer_open (writer, dir, ST_SAVE_FLAGS_NONE, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
    g_clear_error (&error);
  }
  assert_dir_holds (dir, NULL);

  st_test_rm_rf (dir);
}

/* A reserved header: spaces after the JSON, which the reader takes as whitespace; the data then
 * starts at the requested offset. */
static void
test_min_header_size (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "padded.safetensors", NULL);
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autoptr(STFile) loaded = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;
  const guint8 *data;

  declare_two (writer);
  st_writer_set_metadata_value (writer, "k", "v");
  st_writer_set_min_header_size (writer, 4096 - 8);
  g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_true (st_writer_write (writer, "b", bytes12 + 4, 8, &error));
  g_assert_true (st_writer_write (writer, "a", bytes12, 4, &error));
  g_assert_true (st_writer_finish (writer, &error));
  g_assert_no_error (error);

  loaded = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_file_get_header_size (loaded), ==, 4096 - 8);
  g_assert_cmpuint (st_file_get_data_address (loaded) % 4096, ==, 0);
  g_assert_cmpstr (st_file_get_metadata_value (loaded, "k"), ==, "v");
  data = st_tensor_get_data (st_file_get_tensor (loaded, "a"), &size);
  g_assert_cmpmem (data, size, bytes12, 4);
  data = st_tensor_get_data (st_file_get_tensor (loaded, "b"), &size);
  g_assert_cmpmem (data, size, bytes12 + 4, 8);

  st_test_rm_rf (dir);
}

/* An existing target keeps its mode. */
static void
test_keeps_mode (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "t.safetensors", NULL);
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autoptr(GError) error = NULL;
  struct stat st;
  g_autoptr(GBytes) four = g_bytes_new_static (bytes12, 4);

  g_assert_true (g_file_set_contents (path, "old", -1, NULL));
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  declare_two (writer);
  g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_SYNC, NULL, &error));
  g_assert_true (st_writer_write_bytes (writer, "a", four, &error));
  g_assert_true (st_writer_write_from_address (writer, "b", (guint64) (guintptr) bytes12, 8, &error));
  g_assert_true (st_writer_finish (writer, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0640);
  g_assert_false (st_writer_finish (writer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);

  st_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/writer/same-bytes-as-reference", test_same_bytes_as_reference);
  g_test_add_func ("/writer/errors", test_errors);
  g_test_add_func ("/writer/missing-tensor", test_missing_tensor);
  g_test_add_func ("/writer/write-from-fd", test_write_from_fd);
  g_test_add_func ("/writer/cancelled", test_cancelled);
  g_test_add_func ("/writer/close-and-drop", test_close_and_drop);
  g_test_add_func ("/writer/special-and-directory", test_special_and_directory);
  g_test_add_func ("/writer/min-header-size", test_min_header_size);
  g_test_add_func ("/writer/keeps-mode", test_keeps_mode);

  return g_test_run ();
}
