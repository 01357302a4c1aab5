/* test-file-save.c: saving an STFile to every target (st-file-save.c), and failures
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "st-test-util.h"
#include "test-file-util.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <gio/gio.h>

/* ---------------------------------------------------------------------------------------------------------
 * Saving
 */

/* Every way of saving gives the same bytes, and they are the canonical bytes. */
static void
test_file_save_targets (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "by-path.safetensors", NULL);
  g_autofree char *gfile_path = g_build_filename (dir, "by-gfile.safetensors", NULL);
  g_autoptr(GFile) gfile = g_file_new_for_path (gfile_path);
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GBytes) expected = st_test_reference_serialize (file);
  g_autoptr(GBytes) bytes = save_to_bytes (file);
  g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();
  g_autoptr(GBytes) streamed = NULL;
  g_autoptr(GError) error = NULL;
  const char *entries[] = { "by-gfile.safetensors", "by-path.safetensors", NULL };

  st_test_assert_bytes_equal (bytes, expected);

  g_assert_true (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  assert_file_contents (path, expected);

  g_assert_true (st_file_save_to_gfile (file, gfile, NULL, &error));
  g_assert_no_error (error);
  assert_file_contents (gfile_path, expected);

  g_assert_true (st_file_save_to_stream (file, stream, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (stream, NULL, &error));
  g_assert_no_error (error);
  streamed = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
  st_test_assert_bytes_equal (streamed, expected);

  /* nothing else was left in the directory */
  assert_dir_entries (dir, entries);

  /* reloading any of them gives the tensors back, and saving that gives the same bytes again */
  {
    g_autoptr(STFile) reloaded = st_file_new_from_path (path, NULL, &error);
    g_autoptr(GBytes) again = NULL;

    g_assert_no_error (error);
    st_test_assert_files_equal (reloaded, file);
    again = save_to_bytes (reloaded);
    st_test_assert_bytes_equal (again, expected);
  }

  /* saving over an existing file replaces it */
  {
    g_autoptr(STFile) small = st_file_new ();
    g_autoptr(GBytes) small_bytes = NULL;

    st_file_set_metadata_value (small, "only", "metadata");
    small_bytes = save_to_bytes (small);
    g_assert_true (st_file_save_to_path (small, path, ST_SAVE_FLAGS_NONE, NULL, &error));
    g_assert_no_error (error);
    assert_file_contents (path, small_bytes);
    assert_dir_entries (dir, entries);
  }

  st_test_rm_rf (dir);
}

/* A bare file name saves in the current directory (where the temporary file goes too). */
static void
test_file_save_relative_path (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *cwd = g_get_current_dir ();
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GBytes) expected = save_to_bytes (file);
  g_autoptr(GError) error = NULL;
  g_autofree char *full = g_build_filename (dir, "relative.safetensors", NULL);
  const char *entries[] = { "relative.safetensors", NULL };

  g_assert_cmpint (g_chdir (dir), ==, 0);
  g_assert_true (st_file_save_to_path (file, "relative.safetensors", ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_assert_no_error (error);
  assert_file_contents (full, expected);
  assert_dir_entries (dir, entries);
  st_test_rm_rf (dir);
}

/* The saved file gets ordinary permissions (the umask's), not a temporary file's 0600. */
static void
test_file_save_permissions (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "perm.safetensors", NULL);
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GError) error = NULL;
  GStatBuf st;
  mode_t mask = umask (022);

  g_assert_true (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  umask (mask);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);
  st_test_rm_rf (dir);
}

/* Load a file from a path, then save the tensors mapped from it over that same path: the old tensors are
 * still right while being written, and the new file holds them. */
static void
test_file_save_over_own_source (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) loaded = NULL;
  g_autoptr(STFile) reloaded = NULL;
  g_autoptr(STFile) expected = NULL;
  const char *entries[] = { "model.safetensors", NULL };
  const gint64 s7[] = { 7 };

  write_file (path, contents);
  loaded = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);

  /* change the set so that every tensor moves in the new file */
  add_tensor (loaded, "added", ST_DTYPE_F64, s7, 1, 99);
  g_assert_true (st_file_remove_tensor (loaded, "bias"));
  st_file_set_metadata_value (loaded, "format", "np");

  g_assert_true (st_file_save_to_path (loaded, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  assert_dir_entries (dir, entries);

  expected = make_sample_file ();
  add_tensor (expected, "added", ST_DTYPE_F64, s7, 1, 99);
  st_file_remove_tensor (expected, "bias");
  st_file_set_metadata_value (expected, "format", "np");

  reloaded = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  st_test_assert_files_equal (reloaded, expected);
  /* the file that was loaded before the save still reads its old, right bytes */
  st_test_assert_files_equal (loaded, expected);

  /* and once more, saving the reloaded file over itself unchanged */
  {
    g_autoptr(GBytes) before = st_test_read_file (path);

    g_assert_true (st_file_save_to_path (reloaded, path, ST_SAVE_FLAGS_NONE, NULL, &error));
    g_assert_no_error (error);
    assert_file_contents (path, before);
    st_test_assert_files_equal (reloaded, expected);
  }

  st_test_rm_rf (dir);
}

/* A cancelled save fails with G_IO_ERROR_CANCELLED, leaves the target as it was and no temporary file. */
static void
test_file_save_cancelled (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "target.safetensors", NULL);
  g_autoptr(GBytes) before = g_bytes_new_static ("original contents", 17);
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  const char *entries[] = { "target.safetensors", NULL };
  const char *no_entries[] = { NULL };
  g_autofree char *fresh = g_build_filename (dir, "fresh.safetensors", NULL);

  write_file (path, before);
  g_cancellable_cancel (cancellable);

  g_assert_false (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  assert_file_contents (path, before);
  assert_dir_entries (dir, entries);

  /* a new target is not created either */
  g_assert_false (st_file_save_to_path (file, fresh, ST_SAVE_FLAGS_NONE, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  assert_dir_entries (dir, entries);

  /* and the same through a GFile */
  {
    g_autoptr(GFile) gfile = g_file_new_for_path (path);

    g_assert_false (st_file_save_to_gfile (file, gfile, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    assert_file_contents (path, before);
    assert_dir_entries (dir, entries);
  }

  /* a stream gets nothing */
  {
    g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();

    g_assert_false (st_file_save_to_stream (file, stream, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (stream)), ==, 0);
  }

  g_remove (path);
  assert_dir_entries (dir, no_entries);
  st_test_rm_rf (dir);
}

/* The scratch directory of the subprocess tests, known to parent and child alike: a new one (mkdtemp) made
 * by the parent under /tmp, readable by anyone (not $TMPDIR, which may be closed to the unprivileged user
 * the child becomes), and handed to the child in the environment the child inherits. */
static char *
subprocess_dir (const char *what)
{
  g_autofree char *variable = g_strdup_printf ("ST_TEST_SUBPROCESS_DIR_%s", what);
  g_autofree char *template = NULL;
  char *dir;

  if (g_test_subprocess ())
    {
      const char *inherited = g_getenv (variable);

      g_assert_nonnull (inherited);
      return g_strdup (inherited);
    }
  template = g_strdup_printf ("/tmp/st-test-%s-XXXXXX", what);
  dir = g_mkdtemp_full (template, 0755) != NULL ? g_steal_pointer (&template) : NULL;
  g_assert_nonnull (dir);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  g_setenv (variable, dir, TRUE);
  return dir;
}

/* Saving into a directory we may not write fails with permission denied and leaves the target alone.
 * Root may write anywhere, so as root the child drops to nobody first. */
static void
test_file_save_read_only_dir (void)
{
  g_autofree char *dir = subprocess_dir ("ro");
  g_autofree char *path = g_build_filename (dir, "target.safetensors", NULL);
  g_autoptr(GBytes) before = g_bytes_new_static ("original contents", 17);

  if (g_test_subprocess ())
    {
      g_autoptr(STFile) file = make_sample_file ();
      g_autoptr(GError) error = NULL;
      g_autofree char *fresh = g_build_filename (dir, "fresh.safetensors", NULL);

      if (geteuid () == 0)
        {
          g_assert_cmpint (setgroups (0, NULL), ==, 0);
          g_assert_cmpint (setgid (65534), ==, 0);
          g_assert_cmpint (setuid (65534), ==, 0);
        }
      /* The refusal must come from the directory's mode, not from a folder above it closed to this user:
       * the directory is reachable and listable, the target readable. */
      g_assert_cmpint (g_access (dir, R_OK | X_OK), ==, 0);
      g_assert_cmpint (g_access (path, R_OK), ==, 0);
      g_assert_cmpint (g_access (dir, W_OK), !=, 0);
      g_assert_false (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      st_test_note ("expected error: %s", error->message);
      g_clear_error (&error);
      g_assert_false (st_file_save_to_path (file, fresh, ST_SAVE_FLAGS_NONE, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      return;
    }

  write_file (path, before);
  g_assert_cmpint (g_chmod (path, 0444), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0555), ==, 0);

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  {
    const char *entries[] = { "target.safetensors", NULL };

    assert_file_contents (path, before);
    assert_dir_entries (dir, entries);
  }
  st_test_rm_rf (dir);
}

/* A write that fails half-way (here: the file size limit) leaves the target alone and no temporary file. */
static void
test_file_save_write_error (void)
{
  g_autofree char *dir = subprocess_dir ("fsize");
  g_autofree char *path = g_build_filename (dir, "target.safetensors", NULL);
  g_autoptr(GBytes) before = g_bytes_new_static ("original contents", 17);
  const char *entries[] = { "target.safetensors", NULL };

  if (g_test_subprocess ())
    {
      g_autoptr(STFile) file = st_file_new ();
      g_autoptr(GError) error = NULL;
      const gint64 big[] = { 256, 1024 };
      struct rlimit limit = { 65536, 65536 };

      add_tensor (file, "big", ST_DTYPE_F32, big, 2, 7);
      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

      g_assert_false (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == G_IO_ERROR);
      st_test_note ("expected error: %s", error->message);
      assert_file_contents (path, before);
      assert_dir_entries (dir, entries);
      return;
    }

  write_file (path, before);

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  assert_file_contents (path, before);
  assert_dir_entries (dir, entries);
  st_test_rm_rf (dir);
}

/* An output stream that takes at most 3 bytes per write: the writer must loop. */
#define TEST_TYPE_SIPPING_STREAM (test_sipping_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestSippingStream, test_sipping_stream, TEST, SIPPING_STREAM, GOutputStream)

struct _TestSippingStream
{
  GOutputStream parent_instance;
  GByteArray *received;
};

G_DEFINE_FINAL_TYPE (TestSippingStream, test_sipping_stream, G_TYPE_OUTPUT_STREAM)

static gssize
test_sipping_stream_write (GOutputStream *stream, const void *buffer, gsize count, GCancellable *cancellable,
                           GError **error)
{
  TestSippingStream *self = TEST_SIPPING_STREAM (stream);
  gsize n = MIN (count, 3);

  g_byte_array_append (self->received, buffer, (guint) n);
  return (gssize) n;
}

static void
test_sipping_stream_finalize (GObject *object)
{
  g_byte_array_unref (TEST_SIPPING_STREAM (object)->received);
  G_OBJECT_CLASS (test_sipping_stream_parent_class)->finalize (object);
}

static void
test_sipping_stream_class_init (TestSippingStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_sipping_stream_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = test_sipping_stream_write;
}

static void
test_sipping_stream_init (TestSippingStream *self)
{
  self->received = g_byte_array_new ();
}

static void
test_file_save_short_writes (void)
{
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GBytes) expected = st_test_reference_serialize (file);
  g_autoptr(TestSippingStream) stream = g_object_new (TEST_TYPE_SIPPING_STREAM, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) received = NULL;

  g_assert_true (st_file_save_to_stream (file, G_OUTPUT_STREAM (stream), NULL, &error));
  g_assert_no_error (error);
  received = g_bytes_new (stream->received->data, stream->received->len);
  st_test_assert_bytes_equal (received, expected);
}

/* Saving where there is no directory, or over a directory, fails and leaves nothing behind. */
static void
test_file_save_bad_targets (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "no-such-dir", "model.safetensors", NULL);
  g_autofree char *subdir = g_build_filename (dir, "a-directory", NULL);
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GError) error = NULL;
  const char *entries[] = { "a-directory", NULL };
  const char *no_entries[] = { NULL };

  g_assert_cmpint (g_mkdir (subdir, 0755), ==, 0);

  g_assert_false (st_file_save_to_path (file, missing, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  st_test_note ("expected error: %s", error->message);
  g_clear_error (&error);

  g_assert_false (st_file_save_to_path (file, subdir, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  st_test_note ("expected error: %s", error->message);
  g_clear_error (&error);
  g_assert_true (g_file_test (subdir, G_FILE_TEST_IS_DIR));

  assert_dir_entries (dir, entries);
  assert_dir_entries (subdir, no_entries);
  st_test_rm_rf (dir);
}

/* What is written into a loaded tensor's (private) memory is what a save writes. */
static void
test_file_save_modified_mapping (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *copy = g_build_filename (dir, "copy.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) loaded = NULL;
  g_autoptr(STFile) reloaded = NULL;
  guint8 *data;
  gsize len = 0;
  gconstpointer got;

  write_file (path, contents);
  loaded = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  data = (guint8 *) st_tensor_get_data (st_file_get_tensor (loaded, "bias"), &len);
  memset (data, 0x5A, len);

  g_assert_true (st_file_save_to_path (loaded, copy, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  reloaded = st_file_new_from_path (copy, NULL, &error);
  g_assert_no_error (error);
  got = st_tensor_get_data (st_file_get_tensor (reloaded, "bias"), &len);
  for (gsize i = 0; i < len; i++)
    g_assert_cmpuint (((const guint8 *) got)[i], ==, 0x5A);
  /* the source file still has the old bytes */
  assert_file_contents (path, contents);
  st_test_rm_rf (dir);
}

/* A write error on a stream passes through. */
static void
test_file_save_stream_error (void)
{
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GError) error = NULL;
  guint8 buffer[40];
  g_autoptr(GOutputStream) stream = g_memory_output_stream_new (buffer, sizeof buffer, NULL, NULL);

  g_assert_false (st_file_save_to_stream (file, stream, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  st_test_note ("expected error: %s", error->message);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/file/save/targets", test_file_save_targets);
  g_test_add_func ("/file/save/permissions", test_file_save_permissions);
  g_test_add_func ("/file/save/relative-path", test_file_save_relative_path);
  g_test_add_func ("/file/save/over-own-source", test_file_save_over_own_source);
  g_test_add_func ("/file/save/cancelled", test_file_save_cancelled);
  g_test_add_func ("/file/save/read-only-dir", test_file_save_read_only_dir);
  g_test_add_func ("/file/save/write-error", test_file_save_write_error);
  g_test_add_func ("/file/save/stream-error", test_file_save_stream_error);
  g_test_add_func ("/file/save/short-writes", test_file_save_short_writes);
  g_test_add_func ("/file/save/bad-targets", test_file_save_bad_targets);
  g_test_add_func ("/file/save/modified-mapping", test_file_save_modified_mapping);

  return g_test_run ();
}
