/* test-file-async.c: the asynchronous loads and saves, cancelled or not
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
 * Async
 */

static void
test_file_async_load_save (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "async.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) expected = st_test_reference_serialize (original);
  g_autoptr(GError) error = NULL;
  AsyncData data;
  const char *entries[] = { "async.safetensors", NULL };

  async_data_init (&data);
  st_file_save_to_path_async (original, path, ST_SAVE_FLAGS_NONE, NULL, on_ready, &data);
  async_data_wait (&data);
  g_assert_true (st_file_save_to_path_finish (original, data.result, &error));
  g_assert_no_error (error);
  assert_file_contents (path, expected);
  assert_dir_entries (dir, entries);
  async_data_clear (&data);

  async_data_init (&data);
  st_file_new_from_path_async (path, ST_LOAD_FLAGS_NONE, NULL, on_ready, &data);
  async_data_wait (&data);
  {
    g_autoptr(STFile) loaded = st_file_new_from_path_finish (data.result, &error);

    g_assert_no_error (error);
    st_test_assert_files_equal (loaded, original);
  }
  async_data_clear (&data);

  async_data_init (&data);
  {
    g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (expected);
    g_autoptr(STFile) loaded = NULL;

    st_file_new_from_stream_async (stream, NULL, on_ready, &data);
    async_data_wait (&data);
    loaded = st_file_new_from_stream_finish (data.result, &error);
    g_assert_no_error (error);
    st_test_assert_files_equal (loaded, original);
  }
  async_data_clear (&data);

  async_data_init (&data);
  {
    g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();
    g_autoptr(GBytes) streamed = NULL;

    st_file_save_to_stream_async (original, stream, NULL, on_ready, &data);
    async_data_wait (&data);
    g_assert_true (st_file_save_to_stream_finish (original, data.result, &error));
    g_assert_no_error (error);
    g_assert_true (g_output_stream_close (stream, NULL, &error));
    streamed = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
    st_test_assert_bytes_equal (streamed, expected);
  }
  async_data_clear (&data);

  st_test_rm_rf (dir);
}

static void
test_file_async_errors (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.safetensors", NULL);
  g_autoptr(GBytes) bad_bytes = st_test_make_file ("{\"a\":1}", 0);
  g_autoptr(GError) error = NULL;
  AsyncData data;

  write_file (bad, bad_bytes);

  async_data_init (&data);
  st_file_new_from_path_async (missing, ST_LOAD_FLAGS_NONE, NULL, on_ready, &data);
  async_data_wait (&data);
  g_assert_null (st_file_new_from_path_finish (data.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  async_data_clear (&data);

  async_data_init (&data);
  st_file_new_from_path_async (bad, ST_LOAD_FLAGS_NONE, NULL, on_ready, &data);
  async_data_wait (&data);
  g_assert_null (st_file_new_from_path_finish (data.result, &error));
  st_test_assert_st_error (error, ST_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  async_data_clear (&data);

  st_test_rm_rf (dir);
}

static void
test_file_async_cancelled (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "target.safetensors", NULL);
  g_autoptr(GBytes) before = g_bytes_new_static ("original contents", 17);
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (file);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  const char *entries[] = { "target.safetensors", NULL };
  AsyncData data;

  write_file (path, before);
  g_cancellable_cancel (cancellable);

  async_data_init (&data);
  st_file_save_to_path_async (file, path, ST_SAVE_FLAGS_NONE, cancellable, on_ready, &data);
  async_data_wait (&data);
  g_assert_false (st_file_save_to_path_finish (file, data.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  async_data_clear (&data);
  assert_file_contents (path, before);
  assert_dir_entries (dir, entries);

  /* loading a valid file with a cancelled cancellable is cancelled too */
  write_file (path, contents);
  async_data_init (&data);
  st_file_new_from_path_async (path, ST_LOAD_FLAGS_NONE, cancellable, on_ready, &data);
  async_data_wait (&data);
  g_assert_null (st_file_new_from_path_finish (data.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  async_data_clear (&data);

  async_data_init (&data);
  {
    g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (contents);

    st_file_new_from_stream_async (stream, cancellable, on_ready, &data);
    async_data_wait (&data);
    g_assert_null (st_file_new_from_stream_finish (data.result, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }
  async_data_clear (&data);

  async_data_init (&data);
  {
    g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();

    st_file_save_to_stream_async (file, stream, cancellable, on_ready, &data);
    async_data_wait (&data);
    g_assert_false (st_file_save_to_stream_finish (file, data.result, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }
  async_data_clear (&data);

  st_test_rm_rf (dir);
}

/* A cancellation that comes after the save has replaced the target (the thread is done, its result not yet
 * delivered) must not be reported: an error says "the target is untouched", and it is not. Deterministic:
 * the main loop is not run until the new file is in place, then the cancellable is cancelled. */
static void
test_file_async_cancel_after_save (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "target.safetensors", NULL);
  g_autoptr(GBytes) before = g_bytes_new_static ("original contents", 17);
  g_autoptr(STFile) file = make_sample_file ();
  g_autoptr(GBytes) expected = save_to_bytes (file);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  const char *entries[] = { "target.safetensors", NULL };
  gboolean replaced = FALSE;
  gboolean ok;
  AsyncData data;

  write_file (path, before);
  async_data_init (&data);
  st_file_save_to_path_async (file, path, ST_SAVE_FLAGS_NONE, cancellable, on_ready, &data);

  /* Until the target holds the new bytes, however long that takes on a loaded machine (meson's timeout
   * bounds a save that never replaces it): no time limit of our own. */
  while (!replaced)
    {
      g_autoptr(GBytes) now = st_test_read_file (path);

      replaced = g_bytes_equal (now, expected);
      if (!replaced)
        g_thread_yield ();
    }
  g_cancellable_cancel (cancellable);

  async_data_wait (&data);
  ok = st_file_save_to_path_finish (file, data.result, &error);
  if (!ok)
    st_test_note ("the save replaced the target, then reported: %s", error->message);
  g_assert_no_error (error);
  g_assert_true (ok);
  assert_file_contents (path, expected);
  assert_dir_entries (dir, entries);
  async_data_clear (&data);
  st_test_rm_rf (dir);
}

/* The async save over the file its tensors are mapped from. */
static void
test_file_async_save_over_own_source (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) loaded = NULL;
  g_autoptr(STFile) reloaded = NULL;
  const char *entries[] = { "model.safetensors", NULL };
  AsyncData data;

  write_file (path, contents);
  loaded = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (st_file_remove_tensor (loaded, "weight"));
  st_file_remove_tensor (original, "weight");

  async_data_init (&data);
  st_file_save_to_path_async (loaded, path, ST_SAVE_FLAGS_NONE, NULL, on_ready, &data);
  async_data_wait (&data);
  g_assert_true (st_file_save_to_path_finish (loaded, data.result, &error));
  g_assert_no_error (error);
  async_data_clear (&data);

  reloaded = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  st_test_assert_files_equal (reloaded, original);
  st_test_assert_files_equal (loaded, original);
  assert_dir_entries (dir, entries);
  st_test_rm_rf (dir);
}

static gboolean
cancel_now (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* Cancelling while a large save runs: either it finished first, or the target is untouched. */
static void
test_file_async_cancel_midway (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "target.safetensors", NULL);
  g_autoptr(GBytes) before = g_bytes_new_static ("original contents", 17);
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  const char *entries[] = { "target.safetensors", NULL };
  const gint64 shape[] = { 4, 1024, 1024 };
  AsyncData data;

  add_tensor (file, "big", ST_DTYPE_U8, shape, 3, 1);
  add_tensor (file, "big2", ST_DTYPE_U8, shape, 3, 2);
  write_file (path, before);

  async_data_init (&data);
  st_file_save_to_path_async (file, path, ST_SAVE_FLAGS_NONE, cancellable, on_ready, &data);
  g_idle_add (cancel_now, cancellable);
  async_data_wait (&data);
  if (st_file_save_to_path_finish (file, data.result, &error))
    {
      g_autoptr(STFile) reloaded = st_file_new_from_path (path, NULL, &error);

      st_test_note ("the save finished before the cancellation");
      g_assert_no_error (error);
      st_test_assert_files_equal (reloaded, file);
    }
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      assert_file_contents (path, before);
    }
  assert_dir_entries (dir, entries);
  async_data_clear (&data);
  st_test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/file/async/load-save", test_file_async_load_save);
  g_test_add_func ("/file/async/errors", test_file_async_errors);
  g_test_add_func ("/file/async/cancelled", test_file_async_cancelled);
  g_test_add_func ("/file/async/cancel-midway", test_file_async_cancel_midway);
  g_test_add_func ("/file/async/save-over-own-source", test_file_async_save_over_own_source);
  g_test_add_func ("/file/async/cancel-after-save", test_file_async_cancel_after_save);

  return g_test_run ();
}
