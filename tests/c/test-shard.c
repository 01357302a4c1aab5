/* test-shard.c: sharded saves and their readers against re-saves, kills, links and shrinking sources
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Issue 20, items 6, 7 and 12. Every tensor of a test checkpoint holds one byte value throughout (its
 * "fill"), so that a checkpoint whose tensors do not all hold the same value is a mix of two saves:
 * the expected values are the fills the test chose, never what our reader says.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <safetensors-glib/safetensors-glib.h>

#include "st-test-util.h"

/* @n_tensors tensors "t000"... of @n_bytes bytes each, every byte @fill. */
static STFile *
make_filled_file (guint   n_tensors,
                  gsize   n_bytes,
                  guint8  fill)
{
  g_autoptr(STFile) file = st_file_new ();

  for (guint i = 0; i < n_tensors; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%03u", i);
      gint64 shape[1] = { (gint64) n_bytes };
      guint8 *data = g_malloc (n_bytes);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(STTensor) tensor = NULL;
      g_autoptr(GError) error = NULL;

      memset (data, fill, n_bytes);
      bytes = g_bytes_new_take (data, n_bytes);
      tensor = st_tensor_new (ST_DTYPE_U8, shape, 1, bytes, &error);
      g_assert_no_error (error);
      g_assert_true (st_file_set_tensor (file, name, tensor, &error));
      g_assert_no_error (error);
    }
  return g_steal_pointer (&file);
}

static void
save_sharded (STFile     *file,
              const char *dir,
              guint64     max_shard_size)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (st_file_save_sharded (file, dir, "model", max_shard_size, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL,
                                       &error));
  g_assert_no_error (error);
}

/* Asserts that every byte of @tensor is @fill. */
static void
assert_filled (STTensor *tensor,
               guint8    fill)
{
  gsize n = 0;
  const guint8 *data = st_tensor_get_data (tensor, &n);

  for (gsize i = 0; i < n; i++)
    if (data[i] != fill)
      g_error ("byte %" G_GSIZE_FORMAT " is %u, not %u", i, data[i], fill);
}

/* Asserts that the checkpoint of @index_path loads whole, with @n_tensors tensors all filled with @fill. */
static void
assert_checkpoint (const char *index_path,
                   guint       n_tensors,
                   guint8      fill)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = st_index_new_from_path (index_path, NULL, &error);
  g_autoptr(STFile) merged = NULL;
  g_auto(GStrv) names = NULL;

  g_assert_no_error (error);
  merged = st_index_merge (index, NULL, &error);
  g_assert_no_error (error);
  names = st_file_dup_names_sorted (merged);
  g_assert_cmpuint (g_strv_length (names), ==, n_tensors);
  for (guint i = 0; names[i] != NULL; i++)
    assert_filled (st_file_get_tensor (merged, names[i]), fill);
}

static char *
shard_name (guint k,
            guint n)
{
  return g_strdup_printf ("model-%05u-of-%05u.safetensors", k, n);
}

/* The names a whole checkpoint of @n shards has, sorted, and nothing else. */
static void
assert_only_checkpoint (const char *dir,
                        guint       n)
{
  g_auto(GStrv) entries = st_test_list_dir (dir);

  g_assert_cmpuint (g_strv_length (entries), ==, n + 1);
  for (guint k = 1; k <= n; k++)
    {
      g_autofree char *name = shard_name (k, n);

      g_assert_cmpstr (entries[k - 1], ==, name);
    }
  g_assert_cmpstr (entries[n], ==, "model.safetensors.index.json");
}

/* Item 6: a reader that read the index of one save and opens a shard after another save (same layout,
 * other bytes) committed refuses the shard, naming it, instead of mixing the two saves. */
static void
test_reader_refuses_shards_of_a_later_save (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autoptr(STFile) first = make_filled_file (3, 4096, 1);
  g_autoptr(STFile) second = make_filled_file (3, 4096, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = NULL;
  g_autofree char *one = shard_name (1, 3);
  g_autofree char *two = shard_name (2, 3);
  g_autoptr(STFile) shard = NULL;

  save_sharded (first, dir, 4096);
  index = st_index_new_from_path (index_path, NULL, &error);
  g_assert_no_error (error);
  shard = st_index_open_shard (index, one, NULL, &error);
  g_assert_no_error (error);
  assert_filled (st_file_get_tensor (shard, "t000"), 1);

  save_sharded (second, dir, 4096);
  assert_only_checkpoint (dir, 3);

  g_assert_null (st_index_open_shard (index, two, NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX);
  g_assert_nonnull (strstr (error->message, two));
  g_assert_nonnull (strstr (error->message, "saved again"));
  g_clear_error (&error);

  /* The shard opened before stays the first save's; a new index reads the second save whole. */
  assert_filled (st_file_get_tensor (shard, "t000"), 1);
  assert_checkpoint (index_path, 3, 2);
  st_test_rm_rf (dir);
}

/* Item 7: a save of more files than it keeps open, killed (by itself, at a counted shard: no timing)
 * after some of its shards were written, leaves the old checkpoint whole; what it wrote is in one work
 * folder, which the next save removes. */
typedef struct {
  guint64 kill_at;
} KillPoint;

static void
kill_self_at (guint64  done,
              guint64  total,
              gpointer user_data)
{
  KillPoint *point = user_data;

  if (done >= point->kill_at)
    raise (SIGKILL);
}

static guint
count_entries_with_prefix (const char *dir,
                           const char *prefix)
{
  g_auto(GStrv) entries = st_test_list_dir (dir);
  guint n = 0;

  for (guint i = 0; entries[i] != NULL; i++)
    n += g_str_has_prefix (entries[i], prefix);
  return n;
}

static void
test_killed_save_of_many_shards_leaves_nothing_the_next_save_keeps (void)
{
  static const guint kill_after_shards[] = { 1, 40, 79 };
  const guint n_shards = 80;
  const gsize shard_bytes = 4096;
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autoptr(STFile) old = make_filled_file (n_shards, shard_bytes, 7);

  save_sharded (old, dir, shard_bytes);
  assert_only_checkpoint (dir, n_shards);

  for (guint i = 0; i < G_N_ELEMENTS (kill_after_shards); i++)
    {
      g_autoptr(STFile) next = make_filled_file (n_shards, shard_bytes, (guint8) (10 + i));
      KillPoint point = { kill_after_shards[i] * shard_bytes };
      g_autofree char *work_dir = NULL;
      g_auto(GStrv) entries = NULL;
      g_auto(GStrv) parked = NULL;
      int status = 0;
      pid_t pid = fork ();

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          st_file_save_sharded (next, dir, "model", shard_bytes, ST_SAVE_FLAGS_NONE, NULL, kill_self_at, &point,
                                NULL);
          _exit (3);
        }
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);

      /* The old checkpoint, whole, beside one work folder per killed save holding its parked shards. */
      assert_checkpoint (index_path, n_shards, 7);
      g_assert_cmpuint (count_entries_with_prefix (dir, ".st-save-"), ==, i + 1);
      entries = st_test_list_dir (dir);
      for (guint j = 0; entries[j] != NULL && work_dir == NULL; j++)
        if (g_str_has_prefix (entries[j], ".st-save-"))
          work_dir = g_build_filename (dir, entries[j], NULL);
      g_assert_nonnull (work_dir);
      parked = st_test_list_dir (work_dir);
      g_assert_cmpuint (g_strv_length (parked), >=, 1);
    }

  {
    g_autoptr(STFile) last = make_filled_file (n_shards, shard_bytes, 42);

    save_sharded (last, dir, shard_bytes);
    assert_only_checkpoint (dir, n_shards);
    assert_checkpoint (index_path, n_shards, 42);
  }
  st_test_rm_rf (dir);
}

/* Item 12: a symbolic link in place of a file is followed, and the file it points to replaced, the link
 * kept: for a single file and for a shard and an index alike, into another folder too. */
static void
assert_link_to (const char *link,
                const char *target)
{
  GStatBuf st;
  g_autofree char *points_to = g_file_read_link (link, NULL);

  g_assert_cmpint (g_lstat (link, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
  g_assert_cmpstr (points_to, ==, target);
  g_assert_cmpint (g_lstat (target, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
}

static void
test_symlinks_are_followed_by_single_and_sharded_saves (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *elsewhere = st_test_make_tmpdir ();
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autofree char *two = shard_name (2, 3);
  g_autofree char *shard_link = g_build_filename (dir, two, NULL);
  g_autofree char *shard_target = g_build_filename (elsewhere, "kept-shard.safetensors", NULL);
  g_autofree char *index_target = g_build_filename (elsewhere, "kept-index.json", NULL);
  g_autofree char *single_link = g_build_filename (dir, "single.safetensors", NULL);
  g_autofree char *single_target = g_build_filename (elsewhere, "single-target.safetensors", NULL);
  g_autoptr(STFile) first = make_filled_file (3, 4096, 1);
  g_autoptr(STFile) second = make_filled_file (3, 4096, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) single = NULL;

  /* A single file. */
  g_assert_true (st_file_save_to_path (first, single_target, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (symlink (single_target, single_link), ==, 0);
  g_assert_true (st_file_save_to_path (second, single_link, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  assert_link_to (single_link, single_target);
  single = st_file_new_from_path (single_target, NULL, &error);
  g_assert_no_error (error);
  assert_filled (st_file_get_tensor (single, "t000"), 2);
  g_assert_cmpint (g_unlink (single_link), ==, 0);

  /* A shard and the index moved to another folder, links left in their place. */
  save_sharded (first, dir, 4096);
  g_assert_cmpint (g_rename (shard_link, shard_target), ==, 0);
  g_assert_cmpint (symlink (shard_target, shard_link), ==, 0);
  g_assert_cmpint (g_rename (index_path, index_target), ==, 0);
  g_assert_cmpint (symlink (index_target, index_path), ==, 0);
  assert_checkpoint (index_path, 3, 1);

  save_sharded (second, dir, 4096);
  assert_link_to (shard_link, shard_target);
  assert_link_to (index_path, index_target);
  assert_only_checkpoint (dir, 3);
  assert_checkpoint (index_path, 3, 2);
  {
    g_autoptr(STFile) moved = st_file_new_from_path (shard_target, NULL, &error);

    g_assert_no_error (error);
    assert_filled (st_file_get_tensor (moved, "t001"), 2);
  }
  /* Nothing was written beside the targets but the targets. */
  {
    g_auto(GStrv) others = st_test_list_dir (elsewhere);
    const char *expected[] = { "kept-index.json", "kept-shard.safetensors", "single-target.safetensors", NULL };

    g_assert_cmpstrv (others, expected);
  }
  st_test_rm_rf (dir);
  st_test_rm_rf (elsewhere);
}

/* Item 12: a merge whose source shard shrinks before the merged file is written fails naming the
 * source, not the output, and leaves no output. */
static void
test_merge_of_a_shrunk_source_names_the_source (void)
{
  const gsize n_bytes = 1024 * 1024;
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *out_dir = st_test_make_tmpdir ();
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autofree char *two = shard_name (2, 2);
  g_autofree char *second = g_build_filename (dir, two, NULL);
  g_autofree char *out = g_build_filename (out_dir, "merged.safetensors", NULL);
  g_autoptr(STFile) file = make_filled_file (2, n_bytes, 5);
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = NULL;
  g_autoptr(STFile) merged = NULL;
  GStatBuf st;

  save_sharded (file, dir, n_bytes);
  index = st_index_new_from_path (index_path, NULL, &error);
  g_assert_no_error (error);
  merged = st_index_merge (index, NULL, &error);
  g_assert_no_error (error);

  /* Another program cuts the second shard's data in half (its header stays). */
  g_assert_cmpint (g_stat (second, &st), ==, 0);
  g_assert_cmpint (truncate (second, st.st_size - (off_t) n_bytes / 2), ==, 0);

  g_assert_false (st_file_save_to_path (merged, out, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INCOMPLETE_BUFFER);
  g_assert_nonnull (strstr (error->message, second));
  g_assert_nonnull (strstr (error->message, "shorter"));
  g_assert_null (strstr (error->message, "Bad address"));
  g_assert_cmpuint (count_entries_with_prefix (out_dir, ""), ==, 0);
  st_test_rm_rf (dir);
  st_test_rm_rf (out_dir);
}

/* Item 4: the cleanup after a commit removes the old checkpoint's files (those its index names, when they
 * are shard names of the prefix) and nothing else: not a file that only looks like a shard, not a file
 * that an index written by another tool names. */
static void
test_cleanup_removes_only_the_old_checkpoint (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autofree char *stray = g_build_filename (dir, "model-00001-of-00009.safetensors", NULL);
  g_autofree char *notes = g_build_filename (dir, "notes.txt", NULL);
  g_autoptr(STFile) two = make_filled_file (2, 4096, 1);
  g_autoptr(STFile) three = make_filled_file (3, 4096, 2);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) entries = NULL;
  const char *expected[] = {
    "model-00001-of-00003.safetensors", "model-00001-of-00009.safetensors", "model-00002-of-00003.safetensors",
    "model-00003-of-00003.safetensors", "model.safetensors.index.json", "notes.txt", NULL,
  };

  save_sharded (two, dir, 4096);
  g_assert_true (g_file_set_contents (stray, "not a shard of this checkpoint", -1, &error));
  g_assert_true (g_file_set_contents (notes, "notes", -1, &error));
  /* The index as another tool may have written it, naming a file that is no shard. */
  g_assert_true (g_file_set_contents (index_path,
                                      "{\"metadata\": {\"total_size\": 8192}, \"weight_map\": {"
                                      "\"t000\": \"model-00001-of-00002.safetensors\", "
                                      "\"t001\": \"model-00002-of-00002.safetensors\", "
                                      "\"x\": \"notes.txt\"}}", -1, &error));
  g_assert_no_error (error);

  save_sharded (three, dir, 4096);
  entries = st_test_list_dir (dir);
  g_assert_cmpstrv (entries, expected);
  assert_checkpoint (index_path, 3, 2);
  st_test_rm_rf (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/shard/reader/refuses-shards-of-a-later-save", test_reader_refuses_shards_of_a_later_save);
  g_test_add_func ("/shard/kill/many-shards-leave-nothing-after-the-next-save",
                   test_killed_save_of_many_shards_leaves_nothing_the_next_save_keeps);
  g_test_add_func ("/shard/symlink/followed-by-single-and-sharded-saves",
                   test_symlinks_are_followed_by_single_and_sharded_saves);
  g_test_add_func ("/shard/merge/shrunk-source-is-named", test_merge_of_a_shrunk_source_names_the_source);
  g_test_add_func ("/shard/cleanup/only-the-old-checkpoint", test_cleanup_removes_only_the_old_checkpoint);

  return g_test_run ();
}
