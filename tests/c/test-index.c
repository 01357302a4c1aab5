/* test-index.c: STIndex, st_file_save_sharded and st_parse_size
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <safetensors-glib/safetensors-glib.h>

/* Helpers */

static char *
fixtures_dir (void)
{
  const char *env = g_getenv ("ST_FIXTURES_DIR");
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_test_build_filename (G_TEST_DIST, "..", "fixtures", NULL);
}

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("st-index-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  if (handle == NULL)
    return;
  const char *entry;
  while ((entry = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

/* A U8 tensor of @n bytes, each @fill. */
static STTensor *
u8_tensor (gsize  n,
           guint8 fill)
{
  g_autoptr(GError) error = NULL;
  guint8 *data = g_malloc (MAX (n, 1));
  memset (data, fill, n);
  g_autoptr(GBytes) bytes = g_bytes_new_take (data, n);
  gint64 shape[] = { (gint64) n };
  STTensor *tensor = st_tensor_new (ST_DTYPE_U8, shape, 1, bytes, &error);
  g_assert_no_error (error);
  return tensor;
}

/* A file of U8 tensors t0, t1, ... of the given sizes, in that order. */
static STFile *
file_of_sizes (const gsize *sizes,
               gsize        n)
{
  STFile *file = st_file_new ();
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("t%zu", i);
      g_autoptr(STTensor) tensor = u8_tensor (sizes[i], (guint8) i);
      st_file_set_tensor (file, name, tensor, &error);
      g_assert_no_error (error);
    }
  return file;
}

static char *
read_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
write_text (const char *path,
            const char *text)
{
  g_autoptr(GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names in @dir, sorted. */
static char **
list_dir (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (handle);
  GPtrArray *names = g_ptr_array_new ();
  const char *entry;
  while ((entry = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

static STIndex *
open_index (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  STIndex *index = st_index_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  return index;
}

static void
save_sharded (STFile     *file,
              const char *dir,
              guint64     max_shard_size)
{
  g_autoptr(GError) error = NULL;
  st_file_save_sharded (file, dir, "model", max_shard_size, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* st_parse_size */

static void
test_parse_size_valid (void)
{
  static const struct { const char *text; guint64 bytes; } cases[] = {
    { "0", 0 },
    { "1024", 1024 },
    { "10KB", 10000 },
    { "10kB", 10000 },
    { "500MB", 500000000 },
    { "5GB", G_GUINT64_CONSTANT (5000000000) },
    { "2TB", G_GUINT64_CONSTANT (2000000000000) },
    { "1PB", G_GUINT64_CONSTANT (1000000000000000) },
    { "1KiB", 1024 },
    { "5GiB", G_GUINT64_CONSTANT (5368709120) },
    { "1.5GB", 1500000000 },
    { "1.5 GiB", G_GUINT64_CONSTANT (1610612736) },
    { "  7 B ", 7 },
    { "0.5KB", 500 },
    { "2.5KiB", 2560 },
    { "1.0009765625KiB", 1024 },   /* digits after the ninth are dropped: rounded down */
    { "1.9999B", 1 },
    { "18446744073709551615", G_MAXUINT64 },
    { "16383PiB", G_GUINT64_CONSTANT (16383) << 50 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 bytes = 12345;
      g_test_message ("%s", cases[i].text);
      g_assert_true (st_parse_size (cases[i].text, &bytes, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (bytes, ==, cases[i].bytes);
    }
}

static void
test_parse_size_invalid (void)
{
  static const char *const cases[] = {
    "", "   ", "GB", "-5GB", "5 XB", "5Gb", "5gb", "5mb", "5 GB extra", "1e9", "0x10",
    "18446744073709551616", "20000PB", "16384PiB", "16EiB", ".", "5..5GB", "5GBB",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 bytes = 12345;
      g_test_message ("“%s”", cases[i]);
      g_assert_false (st_parse_size (cases[i], &bytes, &error));
      g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_SIZE);
      g_assert_cmpuint (bytes, ==, 12345);
    }
}

/* Writing */

/* The example of huggingface_hub's documentation: with a limit of 10, tensors of 6, 6, 2, 6, 2, 2
 * bytes go into shards of [6], [6, 2], [6, 2, 2]. */
static void
test_save_greedy_plan (void)
{
  static const gsize sizes[] = { 6, 6, 2, 6, 2, 2 };
  g_autoptr(STFile) file = file_of_sizes (sizes, G_N_ELEMENTS (sizes));
  g_autofree char *dir = make_temp_dir ();
  save_sharded (file, dir, 10);

  g_auto(GStrv) entries = list_dir (dir);
  const char *expected_files[] = {
    "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
    "model-00003-of-00003.safetensors", "model.safetensors.index.json", NULL,
  };
  g_assert_cmpstrv (entries, expected_files);

  g_autoptr(STIndex) index = open_index (dir);
  g_assert_cmpuint (st_index_get_n_tensors (index), ==, 6);
  g_assert_cmpuint (st_index_get_total_size (index), ==, 24);
  static const char *const expected_shards[] = { "1", "2", "2", "3", "3", "3" };
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%u", i);
      g_autofree char *shard = g_strdup_printf ("model-0000%s-of-00003.safetensors", expected_shards[i]);
      g_assert_cmpstr (st_index_get_shard_name (index, name), ==, shard);
    }
  remove_tree (dir);
}

/* A tensor over the limit gets a shard of its own at once, before the shard being filled. */
static void
test_save_oversized_tensor (void)
{
  static const gsize sizes[] = { 2, 12, 2, 9 };
  g_autoptr(STFile) file = file_of_sizes (sizes, G_N_ELEMENTS (sizes));
  g_autofree char *dir = make_temp_dir ();
  save_sharded (file, dir, 10);

  g_autoptr(STIndex) index = open_index (dir);
  g_assert_cmpstr (st_index_get_shard_name (index, "t1"), ==, "model-00001-of-00003.safetensors");
  g_assert_cmpstr (st_index_get_shard_name (index, "t0"), ==, "model-00002-of-00003.safetensors");
  g_assert_cmpstr (st_index_get_shard_name (index, "t2"), ==, "model-00002-of-00003.safetensors");
  g_assert_cmpstr (st_index_get_shard_name (index, "t3"), ==, "model-00003-of-00003.safetensors");
  g_auto(GStrv) in_second = st_index_dup_shard_tensor_names (index, "model-00002-of-00003.safetensors");
  const char *expected[] = { "t0", "t2", NULL };
  g_assert_cmpstrv (in_second, expected);
  g_autoptr(GError) error = NULL;
  g_assert_true (st_index_validate (index, NULL, &error));
  g_assert_no_error (error);
  remove_tree (dir);
}

/* The index is what transformers writes: json.dumps (index, indent=2, sort_keys=True) + "\n"; the
 * file's metadata goes into every shard and into the index. */
static void
test_save_index_format (void)
{
  static const gsize sizes[] = { 4, 4 };
  g_autoptr(STFile) file = file_of_sizes (sizes, G_N_ELEMENTS (sizes));
  st_file_set_metadata_value (file, "format", "pt");
  st_file_set_metadata_value (file, "note", "quote \" backslash \\ newline \n é 😀");
  g_autofree char *dir = make_temp_dir ();
  save_sharded (file, dir, 4);

  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autofree char *text = read_text (index_path);
  g_assert_cmpstr (text, ==,
                   "{\n"
                   "  \"metadata\": {\n"
                   "    \"format\": \"pt\",\n"
                   "    \"note\": \"quote \\\" backslash \\\\ newline \\n \\u00e9 \\ud83d\\ude00\",\n"
                   "    \"total_size\": 8\n"
                   "  },\n"
                   "  \"weight_map\": {\n"
                   "    \"t0\": \"model-00001-of-00002.safetensors\",\n"
                   "    \"t1\": \"model-00002-of-00002.safetensors\"\n"
                   "  }\n"
                   "}\n");

  for (guint i = 1; i <= 2; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("model-0000%u-of-00002.safetensors", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(STFile) shard = st_file_new_from_path (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (st_file_get_metadata_value (shard, "format"), ==, "pt");
      g_assert_cmpuint (st_file_get_n_tensors (shard), ==, 1);
    }

  g_autoptr(STIndex) index = open_index (dir);
  g_autoptr(GHashTable) metadata = st_index_dup_metadata (index);
  g_assert_cmpstr (g_hash_table_lookup (metadata, "format"), ==, "pt");
  g_assert_cmpstr (g_hash_table_lookup (metadata, "total_size"), ==, "8");
  g_assert_cmpstr (g_hash_table_lookup (metadata, "note"), ==, "quote \" backslash \\ newline \n é 😀");
  remove_tree (dir);
}

/* One shard: a plain model.safetensors, no index; and a later save removes what an earlier one left. */
static void
test_save_single_and_stale (void)
{
  static const gsize sizes[] = { 4, 4, 4 };
  g_autoptr(STFile) file = file_of_sizes (sizes, G_N_ELEMENTS (sizes));
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *unrelated = g_build_filename (dir, "other-00001-of-00002.safetensors", NULL);
  write_text (unrelated, "not ours");

  save_sharded (file, dir, 4);   /* three shards */
  save_sharded (file, dir, 8);   /* two: shards of three and the old index replaced */
  g_auto(GStrv) two = list_dir (dir);
  const char *expected_two[] = {
    "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
    "model.safetensors.index.json", "other-00001-of-00002.safetensors", NULL,
  };
  g_assert_cmpstrv (two, expected_two);

  save_sharded (file, dir, 100); /* one */
  g_auto(GStrv) one = list_dir (dir);
  const char *expected_one[] = { "model.safetensors", "other-00001-of-00002.safetensors", NULL };
  g_assert_cmpstrv (one, expected_one);

  g_autoptr(GError) error = NULL;
  g_autofree char *single = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(STFile) loaded = st_file_new_from_path (single, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_file_get_n_tensors (loaded), ==, 3);

  /* An empty file is one (empty) shard too. */
  g_autoptr(STFile) empty = st_file_new ();
  save_sharded (empty, dir, 1);
  g_autoptr(STFile) reloaded = st_file_new_from_path (single, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_file_get_n_tensors (reloaded), ==, 0);
  remove_tree (dir);
}

static void
test_save_bad_arguments (void)
{
  static const gsize sizes[] = { 4 };
  g_autoptr(STFile) file = file_of_sizes (sizes, 1);
  g_autofree char *dir = make_temp_dir ();
  const char *bad_prefixes[] = { "", "..", "a/b", "." };
  for (gsize i = 0; i < G_N_ELEMENTS (bad_prefixes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (st_file_save_sharded (file, dir, bad_prefixes[i], 10, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
  g_autoptr(GError) error = NULL;
  g_assert_false (st_file_save_sharded (file, dir, "model", 0, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_autofree char *missing = g_build_filename (dir, "no", "such", NULL);
  g_assert_false (st_file_save_sharded (file, missing, "model", 10, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  g_assert_false (st_file_save_sharded (file, dir, "model", 10, ST_SAVE_FLAGS_NONE, cancellable, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  remove_tree (dir);
}

typedef struct {
  guint   calls;
  guint64 last_done;
  guint64 total;
} Progress;

static void
record_progress (guint64  done,
                 guint64  total,
                 gpointer user_data)
{
  Progress *progress = user_data;
  g_assert_cmpuint (done, >=, progress->last_done);
  progress->calls++;
  progress->last_done = done;
  progress->total = total;
}

static void
test_save_progress (void)
{
  static const gsize sizes[] = { 3, 3, 3, 3, 3 };
  g_autoptr(STFile) file = file_of_sizes (sizes, G_N_ELEMENTS (sizes));
  g_autofree char *dir = make_temp_dir ();
  Progress progress = { 0 };
  g_autoptr(GError) error = NULL;
  st_file_save_sharded (file, dir, "model", 6, ST_SAVE_FLAGS_NONE, NULL, record_progress, &progress, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (progress.calls, ==, 3);
  g_assert_cmpuint (progress.last_done, ==, 15);
  g_assert_cmpuint (progress.total, ==, 15);
  remove_tree (dir);
}

/* Split then merge gives back the canonical bytes of every fixture. */
static void
test_round_trip_fixtures (void)
{
  g_autofree char *fixtures = fixtures_dir ();
  g_autofree char *valid = g_build_filename (fixtures, "valid", NULL);
  g_auto(GStrv) names = list_dir (valid);
  guint n_checked = 0;
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *canonical = g_build_filename (fixtures, "canonical", names[i], NULL);
      if (!g_file_test (canonical, G_FILE_TEST_EXISTS))
        continue;
      g_test_message ("%s", names[i]);

      g_autoptr(GError) error = NULL;
      g_autofree char *path = g_build_filename (valid, names[i], NULL);
      g_autoptr(STFile) file = st_file_new_from_path (path, NULL, &error);
      g_assert_no_error (error);

      /* Small shards, so that most files split into several. */
      guint64 limit = MAX (st_file_get_data_size (file) / 3, 1);
      g_autofree char *dir = make_temp_dir ();
      save_sharded (file, dir, limit);

      g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
      g_autoptr(STFile) merged = NULL;
      if (g_file_test (index_path, G_FILE_TEST_EXISTS))
        {
          g_autoptr(STIndex) index = st_index_new_from_path (index_path, NULL, &error);
          g_assert_no_error (error);
          g_assert_true (st_index_validate (index, NULL, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (st_index_get_n_tensors (index), ==, st_file_get_n_tensors (file));
          merged = st_index_merge (index, NULL, &error);
          g_assert_no_error (error);
        }
      else
        {
          g_autofree char *single = g_build_filename (dir, "model.safetensors", NULL);
          merged = st_file_new_from_path (single, NULL, &error);
          g_assert_no_error (error);
        }

      g_autoptr(GBytes) bytes = st_file_save_to_bytes (merged, &error);
      g_assert_no_error (error);
      g_autofree char *expected_text = NULL;
      gsize expected_len = 0;
      g_file_get_contents (canonical, &expected_text, &expected_len, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected_text, expected_len);
      remove_tree (dir);
      n_checked++;
    }
  g_assert_cmpuint (n_checked, >=, 10);
}

/* Reading */

static char *
sharded_dir (void)
{
  static const gsize sizes[] = { 8, 8, 8, 8, 8, 8 };
  g_autoptr(STFile) file = file_of_sizes (sizes, G_N_ELEMENTS (sizes));
  st_file_set_metadata_value (file, "format", "pt");
  char *dir = make_temp_dir ();
  save_sharded (file, dir, 16);   /* three shards of two tensors */
  return dir;
}

static void
test_index_lookup (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autoptr(STIndex) index = open_index (dir);

  g_auto(GStrv) names = st_index_dup_names_sorted (index);
  const char *expected_names[] = { "t0", "t1", "t2", "t3", "t4", "t5", NULL };
  g_assert_cmpstrv (names, expected_names);
  g_auto(GStrv) shards = st_index_dup_shard_names (index);
  g_assert_cmpuint (g_strv_length (shards), ==, 3);
  g_assert_true (st_index_contains (index, "t3"));
  g_assert_false (st_index_contains (index, "t9"));
  g_assert_null (st_index_get_shard_name (index, "t9"));
  g_assert_cmpstr (st_index_get_directory (index), ==, dir);
  g_assert_true (g_str_has_suffix (st_index_get_path (index), "model.safetensors.index.json"));

  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) t4 = st_index_dup_tensor (index, "t4", NULL, &error);
  g_assert_no_error (error);
  gsize n = 0;
  const guint8 *data = st_tensor_get_data (t4, &n);
  g_assert_cmpuint (n, ==, 8);
  g_assert_cmpuint (data[0], ==, 4);

  g_assert_null (st_index_dup_tensor (index, "t9", NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (st_index_open_shard (index, "model-00009-of-00003.safetensors", NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The same shard object every time: one mapping, shared. */
  g_autoptr(STFile) first = st_index_open_shard (index, shards[0], NULL, &error);
  g_assert_no_error (error);
  g_autoptr(STFile) again = st_index_open_shard (index, shards[0], NULL, &error);
  g_assert_true (again == first);
  g_auto(GStrv) first_names = st_file_dup_names_sorted (first);
  const char *expected_first[] = { "t0", "t1", NULL };
  g_assert_cmpstrv (first_names, expected_first);

  /* The deprecated call gives the index's own reference to that same shard. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  g_assert_true (st_index_get_shard (index, shards[0], &error) == first);
  g_assert_null (st_index_get_shard (index, "model-00009-of-00003.safetensors", &error));
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  remove_tree (dir);
}

/* The reference a caller gets outlives the index: the shard and its mapping stay. */
static void
test_index_open_shard_outlives (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autoptr(STIndex) index = open_index (dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) shard = st_index_open_shard (index, "model-00002-of-00003.safetensors", NULL, &error);
  const guint8 *bytes;

  g_assert_no_error (error);
  g_clear_object (&index);
  remove_tree (dir);
  bytes = st_tensor_get_data (st_file_get_tensor (shard, "t3"), NULL);
  g_assert_cmpuint (bytes[7], ==, 3);
}

/* A cancelled cancellable stops the opening of a shard, in open_shard and dup_tensor alike; a shard
 * already open is there without I/O. */
static void
test_index_open_shard_cancelled (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autoptr(STIndex) index = open_index (dir);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) first = st_index_open_shard (index, "model-00001-of-00003.safetensors", NULL, &error);
  g_autoptr(STFile) cached = NULL;
  g_autoptr(STTensor) t0 = NULL;

  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);

  g_assert_null (st_index_open_shard (index, "model-00003-of-00003.safetensors", cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_null (st_index_dup_tensor (index, "t5", cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  cached = st_index_open_shard (index, "model-00001-of-00003.safetensors", cancellable, &error);
  g_assert_no_error (error);
  g_assert_true (cached == first);
  t0 = st_index_dup_tensor (index, "t0", cancellable, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (((const guint8 *) st_tensor_get_data (t0, NULL))[7], ==, 0);

  /* Not cancelled any more: the shard opens. */
  g_cancellable_reset (cancellable);
  g_autoptr(STTensor) t5 = st_index_dup_tensor (index, "t5", cancellable, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (((const guint8 *) st_tensor_get_data (t5, NULL))[7], ==, 5);
  remove_tree (dir);
}

typedef struct {
  GMainLoop *loop;
  STFile    *shard;
  GError    *error;
} OpenShardState;

static void
on_shard_opened (GObject *source, GAsyncResult *result, gpointer data)
{
  OpenShardState *state = data;

  state->shard = st_index_open_shard_finish (ST_INDEX (source), result, &state->error);
  g_main_loop_quit (state->loop);
}

static void
test_index_open_shard_async (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autoptr(STIndex) index = open_index (dir);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) sync_shard = NULL;
  OpenShardState state = { g_main_loop_new (NULL, FALSE), NULL, NULL };

  st_index_open_shard_async (index, "model-00002-of-00003.safetensors", NULL, on_shard_opened, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_true (ST_IS_FILE (state.shard));
  g_assert_true (st_file_contains (state.shard, "t2"));
  g_assert_true (st_file_contains (state.shard, "t3"));
  sync_shard = st_index_open_shard (index, "model-00002-of-00003.safetensors", NULL, &error);
  g_assert_true (sync_shard == state.shard);
  g_clear_object (&state.shard);

  st_index_open_shard_async (index, "model-00009-of-00003.safetensors", NULL, on_shard_opened, &state);
  g_main_loop_run (state.loop);
  g_assert_error (state.error, ST_ERROR, ST_ERROR_NOT_FOUND);
  g_assert_null (state.shard);
  g_clear_error (&state.error);

  g_cancellable_cancel (cancellable);
  st_index_open_shard_async (index, "model-00003-of-00003.safetensors", cancellable, on_shard_opened, &state);
  g_main_loop_run (state.loop);
  g_assert_error (state.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&state.error);

  g_main_loop_unref (state.loop);
  remove_tree (dir);
}

/* Shards are opened when needed: a missing shard does not stop lookups in the others. */
static void
test_index_lazy (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autoptr(STIndex) index = open_index (dir);
  g_autofree char *third = g_build_filename (dir, "model-00003-of-00003.safetensors", NULL);
  g_assert_cmpint (g_unlink (third), ==, 0);

  g_autoptr(GError) error = NULL;
  G_GNUC_UNUSED g_autoptr(STTensor) t0 = st_index_dup_tensor (index, "t0", NULL, &error);
  g_assert_no_error (error);
  g_assert_null (st_index_dup_tensor (index, "t5", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "model-00003-of-00003.safetensors"));
  remove_tree (dir);
}

typedef struct {
  STIndex *index;
  guint    seed;
} ThreadData;

static gpointer
lookup_thread (gpointer user_data)
{
  ThreadData *data = user_data;
  for (guint round = 0; round < 200; round++)
    {
      guint i = (data->seed + round) % 6;
      g_autofree char *name = g_strdup_printf ("t%u", i);
      g_autoptr(GError) error = NULL;
      g_autoptr(STTensor) tensor = st_index_dup_tensor (data->index, name, NULL, &error);
      g_assert_no_error (error);
      const guint8 *bytes = st_tensor_get_data (tensor, NULL);
      g_assert_cmpuint (bytes[7], ==, i);
    }
  return NULL;
}

static void
test_index_threads (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autoptr(STIndex) index = open_index (dir);
  GThread *threads[8];
  ThreadData data[8];
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      data[i] = (ThreadData) { index, i };
      threads[i] = g_thread_new ("lookup", lookup_thread, &data[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  remove_tree (dir);
}

static void
test_index_merge_keeps_alive (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) merged = NULL;
  {
    g_autoptr(STIndex) index = open_index (dir);
    merged = st_index_merge (index, NULL, &error);
    g_assert_no_error (error);
  }
  /* The index is gone; the merged tensors still hold their shards' mappings. */
  g_assert_cmpuint (st_file_get_n_tensors (merged), ==, 6);
  g_assert_cmpstr (st_file_get_metadata_value (merged, "format"), ==, "pt");
  g_assert_null (st_file_get_metadata_value (merged, "total_size"));
  const guint8 *bytes = st_tensor_get_data (st_file_get_tensor (merged, "t5"), NULL);
  g_assert_cmpuint (bytes[3], ==, 5);
  g_auto(GStrv) ordered = st_file_dup_names_in_file_order (merged);
  const char *expected[] = { "t0", "t1", "t2", "t3", "t4", "t5", NULL };
  g_assert_cmpstrv (ordered, expected);
  remove_tree (dir);
}

/* validate finds what is wrong */

static void
assert_invalid (const char *dir,
                GQuark      domain,
                int         code,
                const char *fragment)
{
  g_autoptr(STIndex) index = open_index (dir);
  g_autoptr(GError) error = NULL;
  g_assert_false (st_index_validate (index, NULL, &error));
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_validate_missing_shard (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autofree char *second = g_build_filename (dir, "model-00002-of-00003.safetensors", NULL);
  g_unlink (second);
  assert_invalid (dir, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "model-00002-of-00003.safetensors");
  remove_tree (dir);
}

static void
edit_index (const char *dir,
            const char *from,
            const char *to)
{
  g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *edited = NULL;
  const char *at;

  /* Read here rather than with read_text(): inlined at -O3, its local's address given to
   * g_file_get_contents() made GCC 12 take @at for a pointer into that dead local (-Wdangling-pointer) */
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  at = strstr (text, from);
  g_assert_nonnull (at);
  edited = g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
  write_text (path, edited);
}

static void
test_validate_total_size (void)
{
  g_autofree char *dir = sharded_dir ();
  edit_index (dir, "\"total_size\": 48", "\"total_size\": 47");
  assert_invalid (dir, ST_ERROR, ST_ERROR_INVALID_INDEX, "47");
  remove_tree (dir);
}

static void
test_validate_wrong_shard (void)
{
  g_autofree char *dir = sharded_dir ();
  /* The index says t0 is in the second shard; it is in the first. */
  edit_index (dir, "\"t0\": \"model-00001-of-00003.safetensors\"", "\"t0\": \"model-00002-of-00003.safetensors\"");
  assert_invalid (dir, ST_ERROR, ST_ERROR_INVALID_INDEX, "t0");

  g_autoptr(STIndex) index = open_index (dir);
  g_autoptr(GError) error = NULL;
  g_assert_false (st_index_validate_shard (index, "model-00002-of-00003.safetensors", NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX);
  g_assert_nonnull (strstr (error->message, "lacks"));
  g_clear_error (&error);
  g_assert_false (st_index_validate_shard (index, "model-00001-of-00003.safetensors", NULL, &error));
  g_assert_nonnull (strstr (error->message, "another shard"));
  g_clear_error (&error);
  g_assert_true (st_index_validate_shard (index, "model-00003-of-00003.safetensors", NULL, &error));
  g_assert_no_error (error);
  g_assert_null (st_index_merge (index, NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX);
  remove_tree (dir);
}

static void
test_validate_unlisted_tensor (void)
{
  g_autofree char *dir = sharded_dir ();
  edit_index (dir, "    \"t5\": \"model-00003-of-00003.safetensors\"\n", "");
  edit_index (dir, "\"model-00003-of-00003.safetensors\",\n", "\"model-00003-of-00003.safetensors\"\n");
  edit_index (dir, "\"total_size\": 48", "\"total_size\": 40");
  assert_invalid (dir, ST_ERROR, ST_ERROR_INVALID_INDEX, "does not list");
  remove_tree (dir);
}

static void
test_validate_lfs_pointer (void)
{
  g_autofree char *dir = sharded_dir ();
  g_autofree char *first = g_build_filename (dir, "model-00001-of-00003.safetensors", NULL);
  write_text (first, "version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 1000\n");
  assert_invalid (dir, ST_ERROR, ST_ERROR_HEADER_TOO_LARGE, "Git LFS pointer");
  write_text (first, "<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n");
  assert_invalid (dir, ST_ERROR, ST_ERROR_HEADER_TOO_LARGE, "HTML page");
  remove_tree (dir);
}

/* Hostile and broken index files */

static void
test_index_invalid (void)
{
  static const struct { const char *json; int code; } cases[] = {
    { "", ST_ERROR_INVALID_INDEX },
    { "[]", ST_ERROR_INVALID_INDEX },
    { "{\"metadata\": {}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": []}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": 1}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": null}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": \"../outside.safetensors\"}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": \"/etc/passwd\"}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": \"sub\\\\dir.safetensors\"}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": \"..\"}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": \"\"}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"__metadata__\": \"x.safetensors\"}}", ST_ERROR_INVALID_INDEX },
    /* a shard's name is checked once for a run of names in it: a bad one after a run is caught */
    { "{\"weight_map\": {\"a\": \"x.safetensors\", \"b\": \"x.safetensors\", \"c\": \"../x.safetensors\"}}",
      ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": \"x.safetensors\", \"__metadata__\": \"x.safetensors\"}}", ST_ERROR_INVALID_INDEX },
    { "{\"metadata\": [], \"weight_map\": {}}", ST_ERROR_INVALID_INDEX },
    { "{\"metadata\": {\"total_size\": -1}, \"weight_map\": {}}", ST_ERROR_INVALID_INDEX },
    { "{\"metadata\": {\"total_size\": 1.5}, \"weight_map\": {}}", ST_ERROR_INVALID_INDEX },
    { "{\"metadata\": {\"total_size\": \"x\"}, \"weight_map\": {}}", ST_ERROR_INVALID_INDEX },
    { "{\"metadata\": {\"total_size\": true}, \"weight_map\": {}}", ST_ERROR_INVALID_INDEX },
    { "{\"weight_map\": {\"a\": \"x\"}", ST_ERROR_INVALID_INDEX },
    { "\xff\xfe{}", ST_ERROR_INVALID_INDEX },
  };
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *shown = g_strescape (cases[i].json, NULL);  /* TAP is UTF-8: one case is not */
      g_test_message ("%s", shown);
      write_text (path, cases[i].json);
      g_autoptr(STIndex) index = st_index_new_from_path (path, NULL, &error);
      g_assert_null (index);
      g_assert_error (error, ST_ERROR, cases[i].code);
    }

  /* Nesting deep enough to overflow a recursive parser's stack, closed or not. */
  for (guint closed = 0; closed < 2; closed++)
    {
      g_autoptr(GError) error = NULL;
      gsize depth = 1000000;
      GString *deep = g_string_new ("{\"weight_map\": {}, \"x\": ");
      for (gsize i = 0; i < depth; i++)
        g_string_append_c (deep, '[');
      for (gsize i = 0; closed && i < depth; i++)
        g_string_append_c (deep, ']');
      g_string_append_c (deep, '}');
      write_text (path, deep->str);
      g_string_free (deep, TRUE);
      g_assert_null (st_index_new_from_path (path, NULL, &error));
      g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX);
    }

  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (dir, "missing.json", NULL);
  g_assert_null (st_index_new_from_path (missing, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  remove_tree (dir);
}

static void
test_index_accepted (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autoptr(GError) error = NULL;

  /* No metadata at all; an empty weight map: an empty checkpoint. */
  write_text (path, "{\"weight_map\": {}}");
  g_autoptr(STIndex) empty = st_index_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_index_get_n_tensors (empty), ==, 0);
  g_assert_cmpuint (st_index_get_total_size (empty), ==, 0);
  g_assert_true (st_index_validate (empty, NULL, &error));
  g_autoptr(STFile) merged = st_index_merge (empty, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_file_get_n_tensors (merged), ==, 0);

  /* Brackets inside strings are text, not nesting. */
  g_autoptr(GString) brackets = g_string_new ("{\"metadata\": {\"b\": \"");
  for (guint i = 0; i < 1000; i++)
    g_string_append (brackets, "[{\\\"");
  g_string_append (brackets, "\"}, \"weight_map\": {}}");
  write_text (path, brackets->str);
  g_autoptr(STIndex) bracketed = st_index_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (st_index_get_metadata_value (bracketed, "b")), ==, 3000);

  /* Metadata of other types (transformers writes total_parameters) is kept as text or skipped. */
  write_text (path, "{\"metadata\": {\"total_size\": \"0\", \"total_parameters\": 12, \"x\": [1], "
                    "\"y\": null, \"z\": \"s\"}, \"weight_map\": {}}");
  g_autoptr(STIndex) index = st_index_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  g_autoptr(GHashTable) metadata = st_index_dup_metadata (index);
  g_assert_cmpuint (g_hash_table_size (metadata), ==, 3);
  g_assert_cmpstr (g_hash_table_lookup (metadata, "total_parameters"), ==, "12");
  g_assert_cmpstr (g_hash_table_lookup (metadata, "z"), ==, "s");
  remove_tree (dir);
}

/* The index is read as strict JSON (RFC 8259), in one pass: what json-glib let through (comments, single
 * quotes, leading zeros, a byte-order mark, trailing commas) is no index, and a syntax error is placed in
 * the index, not in a header. */
static void
test_index_strict (void)
{
  static const char *const cases[] = {
    "{\"weight_map\": {} /* a comment */}",
    "{\"weight_map\": {'a': 'x.safetensors'}}",
    "{\"metadata\": {\"n\": 012}, \"weight_map\": {}}",
    "\xef\xbb\xbf{\"weight_map\": {}}",
    "{\"weight_map\": {\"a\": \"x.safetensors\",}}",
    "{\"weight_map\": {}, \"x\": [1,]}",
    "{\"weight_map\": {}} {}",
    "{\"weight_map\": {}, \"x\": tru}",
  };
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *shown = g_strescape (cases[i], NULL);
      g_autoptr(STIndex) index = NULL;

      g_test_message ("%s", shown);
      write_text (path, cases[i]);
      index = st_index_new_from_path (path, NULL, &error);
      g_assert_null (index);
      g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX);
      g_assert_nonnull (strstr (error->message, "The index is not valid JSON: "));
      g_assert_nonnull (strstr (error->message, " of the index"));
      g_assert_null (strstr (error->message, "header"));
    }
  remove_tree (dir);
}

/* Of a key that occurs twice, the last counts, as with Python's json.load: in the document, in the weight
 * map and in the metadata. 3,000 names that collide in g_str_hash() ("aB" and "b!" hash alike) are all
 * there. */
static void
test_index_last_wins (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = NULL;
  g_autoptr(STIndex) colliding = NULL;
  g_autoptr(GString) text = g_string_new ("{\"weight_map\": {");
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) shard_names = NULL;

  write_text (path, "{\"weight_map\": {\"gone\": \"w.safetensors\"}, "
                    "\"metadata\": {\"total_size\": \"x\", \"k\": \"v\", \"k\": 7, \"s\": 1, \"s\": \"t\", "
                    "\"d\": \"e\", \"d\": null, \"total_size\": 16}, "
                    "\"weight_map\": {\"a\": \"x.safetensors\", \"b\": \"y.safetensors\", \"a\": \"z.safetensors\"}}");
  index = st_index_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  names = st_index_dup_names_sorted (index);
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_cmpstr (names[0], ==, "a");
  g_assert_cmpstr (names[1], ==, "b");
  shard_names = st_index_dup_shard_names (index);
  g_assert_cmpuint (g_strv_length (shard_names), ==, 2);
  g_assert_cmpstr (shard_names[0], ==, "y.safetensors");
  g_assert_cmpstr (shard_names[1], ==, "z.safetensors");
  g_assert_cmpstr (st_index_get_shard_name (index, "a"), ==, "z.safetensors");
  g_assert_null (st_index_get_shard_name (index, "gone"));
  g_assert_cmpuint (st_index_get_total_size (index), ==, 16);
  g_assert_cmpstr (st_index_get_metadata_value (index, "k"), ==, "7");
  g_assert_cmpstr (st_index_get_metadata_value (index, "s"), ==, "t");
  g_assert_null (st_index_get_metadata_value (index, "d"));

  for (guint i = 0; i < 3000; i++)
    {
      g_string_append (text, i > 0 ? ", \"" : "\"");
      for (guint bit = 0; bit < 12; bit++)
        g_string_append (text, (i >> bit) & 1 ? "b!" : "aB");
      g_string_append_printf (text, "\": \"s%u.safetensors\"", i % 7);
    }
  g_string_append (text, "}}");
  write_text (path, text->str);
  colliding = st_index_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_index_get_n_tensors (colliding), ==, 3000);
  g_assert_cmpstr (st_index_get_shard_name (colliding, "aBaBaBaBaBaBaBaBaBaBaBaB"), ==, "s0.safetensors");
  g_assert_cmpstr (st_index_get_shard_name (colliding, "b!b!b!aBaBaBaBaBaBaBaBaB"), ==, "s0.safetensors");
  g_assert_cmpstr (st_index_get_shard_name (colliding, "aBb!aBaBaBaBaBaBaBaBaBaB"), ==, "s2.safetensors");
  g_assert_cmpstr (st_index_get_shard_name (colliding, "b!b!b!b!b!b!b!b!b!b!b!aB"), ==, "s3.safetensors");
  remove_tree (dir);
}

/* Names listed out of order, a shard's names not together, one name escaped: every list comes sorted
 * (the parser skips sorting what is sorted already, and looks a shard up once for a run of its names) */
static void
test_index_order (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = NULL;
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) shard_names = NULL;
  g_auto(GStrv) in_s1 = NULL;
  g_auto(GStrv) in_s2 = NULL;

  write_text (path, "{\"weight_map\": {\"c\": \"s2.safetensors\", \"a\": \"s1.safetensors\", "
                    "\"b\": \"s2.safetensors\", \"d\": \"s1.safetensors\", \"\\u00e9\": \"s1.safetensors\"}}");
  index = st_index_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  names = st_index_dup_names_sorted (index);
  g_assert_cmpuint (g_strv_length (names), ==, 5);
  g_assert_cmpstr (names[0], ==, "a");
  g_assert_cmpstr (names[1], ==, "b");
  g_assert_cmpstr (names[2], ==, "c");
  g_assert_cmpstr (names[3], ==, "d");
  g_assert_cmpstr (names[4], ==, "\xc3\xa9");
  shard_names = st_index_dup_shard_names (index);
  g_assert_cmpuint (g_strv_length (shard_names), ==, 2);
  g_assert_cmpstr (shard_names[0], ==, "s1.safetensors");
  g_assert_cmpstr (shard_names[1], ==, "s2.safetensors");
  in_s1 = st_index_dup_shard_tensor_names (index, "s1.safetensors");
  g_assert_cmpuint (g_strv_length (in_s1), ==, 3);
  g_assert_cmpstr (in_s1[0], ==, "a");
  g_assert_cmpstr (in_s1[1], ==, "d");
  g_assert_cmpstr (in_s1[2], ==, "\xc3\xa9");
  in_s2 = st_index_dup_shard_tensor_names (index, "s2.safetensors");
  g_assert_cmpuint (g_strv_length (in_s2), ==, 2);
  g_assert_cmpstr (in_s2[0], ==, "b");
  g_assert_cmpstr (in_s2[1], ==, "c");
  g_assert_cmpstr (st_index_get_shard_name (index, "d"), ==, "s1.safetensors");
  g_assert_cmpstr (st_index_get_shard_name (index, "c"), ==, "s2.safetensors");
  remove_tree (dir);
}

static void
test_index_g_object_new (void)
{
  g_autoptr(STIndex) index = g_object_new (ST_TYPE_INDEX, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_cmpuint (st_index_get_n_tensors (index), ==, 0);
  g_assert_null (st_index_get_path (index));
  g_auto(GStrv) names = st_index_dup_names_sorted (index);
  g_assert_cmpuint (g_strv_length (names), ==, 0);
  g_assert_null (st_index_dup_tensor (index, "x", NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (st_index_validate (index, NULL, &error));
  g_assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/index/parse-size/valid", test_parse_size_valid);
  g_test_add_func ("/index/parse-size/invalid", test_parse_size_invalid);
  g_test_add_func ("/index/save/greedy-plan", test_save_greedy_plan);
  g_test_add_func ("/index/save/oversized-tensor", test_save_oversized_tensor);
  g_test_add_func ("/index/save/index-format", test_save_index_format);
  g_test_add_func ("/index/save/single-and-stale", test_save_single_and_stale);
  g_test_add_func ("/index/save/bad-arguments", test_save_bad_arguments);
  g_test_add_func ("/index/save/progress", test_save_progress);
  g_test_add_func ("/index/round-trip/fixtures", test_round_trip_fixtures);
  g_test_add_func ("/index/read/lookup", test_index_lookup);
  g_test_add_func ("/index/read/open-shard/outlives-index", test_index_open_shard_outlives);
  g_test_add_func ("/index/read/order", test_index_order);
  g_test_add_func ("/index/read/open-shard/cancelled", test_index_open_shard_cancelled);
  g_test_add_func ("/index/read/open-shard/async", test_index_open_shard_async);
  g_test_add_func ("/index/read/lazy", test_index_lazy);
  g_test_add_func ("/index/read/threads", test_index_threads);
  g_test_add_func ("/index/read/merge-keeps-alive", test_index_merge_keeps_alive);
  g_test_add_func ("/index/read/invalid", test_index_invalid);
  g_test_add_func ("/index/read/accepted", test_index_accepted);
  g_test_add_func ("/index/read/strict", test_index_strict);
  g_test_add_func ("/index/read/last-wins", test_index_last_wins);
  g_test_add_func ("/index/read/g-object-new", test_index_g_object_new);
  g_test_add_func ("/index/validate/missing-shard", test_validate_missing_shard);
  g_test_add_func ("/index/validate/total-size", test_validate_total_size);
  g_test_add_func ("/index/validate/wrong-shard", test_validate_wrong_shard);
  g_test_add_func ("/index/validate/unlisted-tensor", test_validate_unlisted_tensor);
  g_test_add_func ("/index/validate/lfs-pointer", test_validate_lfs_pointer);

  return g_test_run ();
}
