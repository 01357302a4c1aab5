/* test-fuzz-crashes.c: replays the fuzzer's findings and the fixtures through the fuzz target
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every file of tests/fuzz/crashes/ (each one an input that once broke the library) and every fixture runs
 * through st_fuzz_load_one_input(), the body of the libFuzzer target, with all its checks: this keeps fixed
 * bugs fixed in every build, fuzzing or not, and keeps the fuzz target itself honest.
 *
 * Counts: each fuzzer finding is a test case of its own; the fixtures, which other tests check in full,
 * are one case that replays them all (issue 21: 77 replays of fixtures counted as 77 fuzz cases).
 */
#include "st-test-util.h"
#include "fuzz-load.h"

static void
test_replay (gconstpointer data)
{
  const char *path = data;
  g_autoptr(GBytes) contents = st_test_read_file (path);

  st_test_note ("replaying %s (%" G_GSIZE_FORMAT " bytes)", path, g_bytes_get_size (contents));
  st_fuzz_load_one_input (g_bytes_get_data (contents, NULL), g_bytes_get_size (contents));
}

static guint
add_folder (const char *prefix, const char *folder, GPtrArray *paths)
{
  g_auto(GStrv) names = st_test_list_dir (folder);
  guint added = 0;

  for (guint i = 0; names[i] != NULL; i++)
    {
      char *path;
      g_autofree char *test_path = NULL;

      if (g_str_equal (names[i], "README.md"))
        continue;
      path = g_build_filename (folder, names[i], NULL);
      g_ptr_array_add (paths, path);
      test_path = g_strdup_printf ("%s/%s", prefix, names[i]);
      g_test_add_data_func (test_path, path, test_replay);
      added++;
    }
  return added;
}

/* Every fixture, in one test case. */
static void
test_replay_fixtures (gconstpointer data)
{
  GPtrArray *fixture_paths = (GPtrArray *) data;

  g_assert_cmpuint (fixture_paths->len, >, 0);
  for (guint i = 0; i < fixture_paths->len; i++)
    test_replay (g_ptr_array_index (fixture_paths, i));
}

int
main (int argc, char *argv[])
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) fixture_paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *crashes = NULL;
  g_autofree char *fixtures = NULL;
  const char *fixture_folders[] = { "valid", "invalid", "canonical" };
  guint n_crashes;

  g_test_init (&argc, &argv, NULL);

  crashes = g_test_build_filename (G_TEST_DIST, "fuzz", "crashes", NULL);
  n_crashes = add_folder ("/fuzz-replay/crashes", crashes, paths);
  st_test_note ("%u fuzzer findings in %s", n_crashes, crashes);

  fixtures = st_test_fixtures_dir ();
  for (gsize i = 0; i < G_N_ELEMENTS (fixture_folders); i++)
    {
      g_autofree char *folder = g_build_filename (fixtures, fixture_folders[i], NULL);
      g_auto(GStrv) names = st_test_list_dir (folder);
      guint added = 0;

      for (guint j = 0; names[j] != NULL; j++)
        if (g_str_has_suffix (names[j], ".safetensors"))
          {
            g_ptr_array_add (fixture_paths, g_build_filename (folder, names[j], NULL));
            added++;
          }
      g_assert_cmpuint (added, >, 0);
    }
  g_test_add_data_func ("/fuzz-replay/fixtures", fixture_paths, test_replay_fixtures);

  return g_test_run ();
}
