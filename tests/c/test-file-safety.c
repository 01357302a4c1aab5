/* test-file-safety.c: the load and save API of 1.0 and what issue 9 asks of it
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * What save accepts, load accepts (a property test over random files built through the API); the
 * NO_MMAP loader; cancellable and async loads; SYNC saves; saves to special files; the async sharded
 * save, whose progress reaches the caller's main context. The faults themselves (kills, full disks,
 * permissions) are in tests/fault/.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st-test-util.h"

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("st-test-safety-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static guint
count_entries (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (g_dir_read_name (handle) != NULL)
    n++;
  return n;
}

/* Random text from characters a JSON writer must treat with care. */
static char *
random_text (guint max_chars)
{
  static const gunichar alphabet[] = {
    'a', 'b', 'Z', '0', '.', ' ', '"', '\\', '/', '\b', '\f', '\n', '\r', '\t', 0x01, 0x1f, 0x7f,
    0xe9, 0x2028, 0xfeff, 0xffff, 0x1f600, 0x10ffff, '_', '{', '}', '[', ']', ':', ',',
  };
  g_autoptr(GString) text = g_string_new (NULL);
  guint n = (guint) g_test_rand_int_range (0, (gint) max_chars + 1);

  for (guint i = 0; i < n; i++)
    g_string_append_unichar (text, alphabet[g_test_rand_int_range (0, G_N_ELEMENTS (alphabet))]);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static STTensor *
random_tensor (void)
{
  const StTestDType *type = &st_test_dtypes[g_test_rand_int_range (0, G_N_ELEMENTS (st_test_dtypes))];
  guint n_dims = (guint) g_test_rand_int_range (0, 4);
  gint64 shape[3];
  guint64 n_elements = 1;
  guint64 n_bytes;
  g_autofree guint8 *data = NULL;

  for (guint i = 0; i < n_dims; i++)
    {
      shape[i] = g_test_rand_int_range (0, 6);
      /* Sub-byte dtypes pack whole bytes only: make the count a multiple of 8 elements. */
      if (i == n_dims - 1 && type->bits < 8)
        shape[i] *= 8;
      n_elements *= (guint64) shape[i];
    }
  if (n_dims == 0 && type->bits < 8)
    return NULL;

  n_bytes = n_elements * type->bits / 8;
  data = g_malloc (MAX (n_bytes, 1));
  for (guint64 i = 0; i < n_bytes; i++)
    data[i] = (guint8) g_test_rand_int ();

  {
    g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&data), n_bytes);

    return st_tensor_new (type->dtype, shape, n_dims, bytes, NULL);
  }
}

static void
assert_same_file (STFile *expected,
                  STFile *actual)
{
  g_auto(GStrv) names = st_file_dup_names_sorted (expected);
  g_auto(GStrv) actual_names = st_file_dup_names_sorted (actual);
  g_autoptr(GHashTable) metadata = st_file_dup_metadata (expected);
  g_autoptr(GHashTable) actual_metadata = st_file_dup_metadata (actual);

  g_assert_true (g_strv_equal ((const char * const *) names, (const char * const *) actual_names));
  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *a = st_file_get_tensor (expected, names[i]);
      STTensor *b = st_file_get_tensor (actual, names[i]);
      guint a_dims, b_dims;
      const gint64 *a_shape = st_tensor_get_shape (a, &a_dims);
      const gint64 *b_shape = st_tensor_get_shape (b, &b_dims);
      gsize a_size, b_size;
      const guint8 *a_data = st_tensor_get_data (a, &a_size);
      const guint8 *b_data = st_tensor_get_data (b, &b_size);

      g_assert_cmpint (st_tensor_get_dtype (a), ==, st_tensor_get_dtype (b));
      g_assert_cmpmem (a_shape, a_dims * sizeof (gint64), b_shape, b_dims * sizeof (gint64));
      g_assert_cmpmem (a_data, a_size, b_data, b_size);
    }

  g_assert_cmpuint (metadata == NULL ? 0 : g_hash_table_size (metadata), ==,
                    actual_metadata == NULL ? 0 : g_hash_table_size (actual_metadata));
  if (metadata != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_assert_cmpstr (g_hash_table_lookup (actual_metadata, key), ==, value);
    }
}

/* What the API lets one build and save, the reader loads back, the same, from memory and from a path
 * (mapped and read). */
static void
test_save_accepts_load_accepts (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "random.safetensors", NULL);
  guint n_saved = 0;

  for (guint round = 0; round < 300; round++)
    {
      g_autoptr(STFile) file = st_file_new ();
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(STFile) from_bytes = NULL;
      g_autoptr(STFile) mapped = NULL;
      g_autoptr(STFile) read = NULL;
      g_autoptr(GError) error = NULL;
      guint n_tensors = (guint) g_test_rand_int_range (0, 12);
      guint n_keys = (guint) g_test_rand_int_range (0, 4);

      for (guint i = 0; i < n_tensors; i++)
        {
          g_autofree char *name = random_text (12);
          g_autoptr(STTensor) tensor = random_tensor ();
          g_autoptr(GError) refused = NULL;

          /* The API may refuse a name (empty, "__metadata__"): that is not a file it built. */
          if (tensor != NULL && !st_file_set_tensor (file, name, tensor, &refused))
            st_test_note ("round %u: the API refused “%s”: %s", round, name, refused->message);
        }
      for (guint i = 0; i < n_keys; i++)
        {
          g_autofree char *key = random_text (8);
          g_autofree char *value = random_text (20);

          st_file_set_metadata_value (file, key, value);
        }

      bytes = st_file_save_to_bytes (file, &error);
      g_assert_no_error (error);
      from_bytes = st_file_new_from_bytes (bytes, &error);
      g_assert_no_error (error);
      assert_same_file (file, from_bytes);

      g_assert_true (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error));
      g_assert_no_error (error);
      mapped = st_file_new_from_path_full (path, ST_LOAD_FLAGS_NONE, NULL, &error);
      g_assert_no_error (error);
      assert_same_file (file, mapped);
      read = st_file_new_from_path_full (path, ST_LOAD_FLAGS_NO_MMAP, NULL, &error);
      g_assert_no_error (error);
      assert_same_file (file, read);
      n_saved++;
    }
  g_assert_cmpuint (n_saved, ==, 300);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  remove_tree (dir);
}

static STFile *
make_small_file (guint n_tensors,
                 gsize bytes_each)
{
  STFile *file = st_file_new ();

  for (guint i = 0; i < n_tensors; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%02u", i);
      gint64 shape[1] = { (gint64) bytes_each };
      guint8 *data = g_malloc (bytes_each);
      g_autoptr(STTensor) tensor = NULL;
      g_autoptr(GBytes) bytes = NULL;

      memset (data, (int) i + 1, bytes_each);
      bytes = g_bytes_new_take (data, bytes_each);
      tensor = st_tensor_new (ST_DTYPE_U8, shape, 1, bytes, NULL);
      g_assert_true (st_file_set_tensor (file, name, tensor, NULL));
    }
  st_file_set_metadata_value (file, "format", "pt");
  return file;
}

/* NO_MMAP reads into memory of the library's own: the same tensors, not a view of a mapping. */
static void
test_load_no_mmap (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(STFile) file = make_small_file (5, 1000);
  g_autoptr(STFile) read = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (st_file_save_to_path (file, path, ST_SAVE_FLAGS_SYNC, NULL, &error));
  g_assert_no_error (error);
  read = st_file_new_from_path_full (path, ST_LOAD_FLAGS_NO_MMAP, NULL, &error);
  g_assert_no_error (error);
  assert_same_file (file, read);

  /* Removing the file does not matter to what was read; the tensors stay writable. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  {
    gsize n;
    guint8 *data = (guint8 *) st_tensor_get_data (st_file_get_tensor (read, "t03"), &n);

    g_assert_cmpuint (n, ==, 1000);
    g_assert_cmpuint (data[999], ==, 4);
    data[0] = 42;
    g_assert_cmpuint (data[0], ==, 42);
  }
  remove_tree (dir);
}

/* A truncated file, read or mapped: an error naming the file, never a crash. */
static void
test_load_truncated (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(STFile) file = make_small_file (3, 4096);
  struct stat st;

  g_assert_true (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, NULL));
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (truncate (path, st.st_size - 100), ==, 0);

  for (guint mode = 0; mode < 2; mode++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) loaded = st_file_new_from_path_full (path, mode ? ST_LOAD_FLAGS_NO_MMAP : ST_LOAD_FLAGS_NONE,
                                                              NULL, &error);

      g_assert_null (loaded);
      g_assert_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER);
      g_assert_nonnull (strstr (error->message, path));
    }
  remove_tree (dir);
}

static void
test_load_cancelled_and_loop (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *loop_a = g_build_filename (dir, "a", NULL);
  g_autofree char *loop_b = g_build_filename (dir, "b", NULL);
  g_autoptr(STFile) file = make_small_file (1, 8);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) loaded = NULL;

  g_assert_true (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, NULL));
  g_cancellable_cancel (cancellable);
  loaded = st_file_new_from_path (path, cancellable, &error);
  g_assert_null (loaded);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_assert_cmpint (symlink (loop_b, loop_a), ==, 0);
  g_assert_cmpint (symlink (loop_a, loop_b), ==, 0);
  loaded = st_file_new_from_path (loop_a, NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS);
  g_assert_nonnull (strstr (error->message, loop_a));
  remove_tree (dir);
}

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static void
test_load_async (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(STFile) file = make_small_file (4, 100);
  g_autoptr(GFile) gfile = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) by_path = NULL;
  g_autoptr(GAsyncResult) by_gfile = NULL;
  g_autoptr(STFile) from_path = NULL;
  g_autoptr(STFile) from_gfile = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, NULL));
  st_file_new_from_path_async (path, ST_LOAD_FLAGS_NO_MMAP, NULL, got_result, &by_path);
  st_file_new_from_gfile_async (gfile, NULL, got_result, &by_gfile);
  from_path = st_file_new_from_path_finish (wait_for (&by_path), &error);
  g_assert_no_error (error);
  from_gfile = st_file_new_from_gfile_finish (wait_for (&by_gfile), &error);
  g_assert_no_error (error);
  assert_same_file (file, from_path);
  assert_same_file (file, from_gfile);
  remove_tree (dir);
}

/* /dev/null is a sink: written to, never replaced. */
static void
test_save_to_dev_null (void)
{
  g_autoptr(STFile) file = make_small_file (2, 64);
  g_autoptr(GError) error = NULL;
  struct stat before, after;

  g_assert_cmpint (stat ("/dev/null", &before), ==, 0);
  g_assert_true (st_file_save_to_path (file, "/dev/null", ST_SAVE_FLAGS_SYNC, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (stat ("/dev/null", &after), ==, 0);
  g_assert_true (S_ISCHR (after.st_mode));
  g_assert_cmpuint (before.st_ino, ==, after.st_ino);
  g_assert_cmpuint (before.st_rdev, ==, after.st_rdev);
}

/* A directory is not a target; nothing is left beside it. */
static void
test_save_to_directory (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autoptr(STFile) file = make_small_file (1, 8);
  g_autoptr(GError) error = NULL;

  g_assert_false (st_file_save_to_path (file, dir, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_cmpuint (count_entries (dir), ==, 0);
  remove_tree (dir);
}

typedef struct {
  GThread *main_thread;
  guint64  last_done;
  guint64  total;
  guint    n_calls;
  gboolean notified;
} Progress;

static void
on_progress (guint64  done,
             guint64  total,
             gpointer user_data)
{
  Progress *progress = user_data;

  /* Never from the thread that writes. */
  g_assert_true (g_thread_self () == progress->main_thread);
  g_assert_false (progress->notified);
  g_assert_cmpuint (done, >=, progress->last_done);
  g_assert_cmpuint (done, <=, total);
  progress->last_done = done;
  progress->total = total;
  progress->n_calls++;
}

static void
on_progress_notify (gpointer user_data)
{
  Progress *progress = user_data;

  g_assert_true (g_thread_self () == progress->main_thread);
  progress->notified = TRUE;
}

static void
test_save_sharded_async (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autoptr(STFile) file = make_small_file (6, 1000);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = NULL;
  g_autoptr(STFile) merged = NULL;
  Progress progress = { g_thread_self (), 0, 0, 0, FALSE };

  st_file_save_sharded_async (file, dir, "model", 2000, ST_SAVE_FLAGS_SYNC, NULL, on_progress, &progress,
                              on_progress_notify, got_result, &result);
  g_assert_true (st_file_save_sharded_finish (file, wait_for (&result), &error));
  g_assert_no_error (error);
  /* The reports and the notify are queued before the result: drain what is left. */
  while (!progress.notified)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (progress.n_calls, ==, 3);
  g_assert_cmpuint (progress.last_done, ==, 6000);
  g_assert_cmpuint (progress.total, ==, 6000);
  g_assert_cmpuint (count_entries (dir), ==, 4);

  index = st_index_new_from_path (index_path, NULL, &error);
  g_assert_no_error (error);
  merged = st_index_merge (index, NULL, &error);
  g_assert_no_error (error);
  assert_same_file (file, merged);
  g_clear_object (&index);
  remove_tree (dir);
}

static void
test_save_sharded_async_cancelled (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autoptr(STFile) file = make_small_file (6, 1000);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Progress progress = { g_thread_self (), 0, 0, 0, FALSE };

  g_cancellable_cancel (cancellable);
  st_file_save_sharded_async (file, dir, "model", 2000, ST_SAVE_FLAGS_NONE, cancellable, on_progress, &progress,
                              on_progress_notify, got_result, &result);
  g_assert_false (st_file_save_sharded_finish (file, wait_for (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  while (!progress.notified)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (progress.n_calls, ==, 0);
  g_assert_cmpuint (count_entries (dir), ==, 0);
  remove_tree (dir);
}

/* The same header check before a sharded save writes anything: a bad prefix, and a target that is a
 * directory, fail with the directory untouched. */
static void
test_save_sharded_refuses_before_writing (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *blocker = g_build_filename (dir, "model-00002-of-00003.safetensors", NULL);
  g_autoptr(STFile) file = make_small_file (6, 1000);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir (blocker, 0755), ==, 0);
  g_assert_false (st_file_save_sharded (file, dir, "model", 2000, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
  g_assert_nonnull (strstr (error->message, blocker));
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_assert_cmpint (g_rmdir (blocker), ==, 0);
  remove_tree (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/file/save/property/what-save-accepts-load-accepts", test_save_accepts_load_accepts);
  g_test_add_func ("/file/load/no-mmap", test_load_no_mmap);
  g_test_add_func ("/file/load/truncated", test_load_truncated);
  g_test_add_func ("/file/load/cancelled-and-symlink-loop", test_load_cancelled_and_loop);
  g_test_add_func ("/file/load/async-path-and-gfile", test_load_async);
  g_test_add_func ("/file/save/dev-null", test_save_to_dev_null);
  g_test_add_func ("/file/save/directory", test_save_to_directory);
  g_test_add_func ("/file/save/sharded/async-progress-on-main-context", test_save_sharded_async);
  g_test_add_func ("/file/save/sharded/async-cancelled", test_save_sharded_async_cancelled);
  g_test_add_func ("/file/save/sharded/refuses-before-writing", test_save_sharded_refuses_before_writing);

  return g_test_run ();
}
