/* test-file.c: STFile as a map, loading from every source, saving to every target, failures, async
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "st-test-util.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <gio/gio.h>

/* ---------------------------------------------------------------------------------------------------------
 * Helpers
 */

static STTensor *
make_tensor (STDType dtype, const gint64 *shape, guint n_dims, guint8 seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint64 n_bytes = 0;
  guint8 *data;
  STTensor *tensor;

  g_assert_true (st_dtype_compute_n_bytes (dtype, shape, n_dims, &n_bytes, &error));
  g_assert_no_error (error);
  data = g_malloc (n_bytes > 0 ? n_bytes : 1);
  for (guint64 i = 0; i < n_bytes; i++)
    data[i] = (guint8) (seed + i * 31);
  bytes = g_bytes_new_take (data, n_bytes);
  tensor = st_tensor_new (dtype, shape, n_dims, bytes, &error);
  g_assert_no_error (error);
  return tensor;
}

static void
add_tensor (STFile *file, const char *name, STDType dtype, const gint64 *shape, guint n_dims, guint8 seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) tensor = make_tensor (dtype, shape, n_dims, seed);

  g_assert_true (st_file_set_tensor (file, name, tensor, &error));
  g_assert_no_error (error);
}

/* A small model with a bit of everything: several dtypes, a scalar, an empty tensor, metadata to escape. */
static STFile *
make_sample_file (void)
{
  const gint64 s23[] = { 2, 3 };
  const gint64 s3[] = { 3 };
  const gint64 s04[] = { 0, 4 };
  const gint64 s5[] = { 5 };
  const gint64 s8[] = { 8 };
  STFile *file = st_file_new ();

  add_tensor (file, "weight", ST_DTYPE_F32, s23, 2, 1);
  add_tensor (file, "bias", ST_DTYPE_F16, s3, 1, 2);
  add_tensor (file, "step", ST_DTYPE_I64, NULL, 0, 3);
  add_tensor (file, "empty", ST_DTYPE_BF16, s04, 2, 4);
  add_tensor (file, "flags", ST_DTYPE_BOOL, s5, 1, 5);
  add_tensor (file, "packed", ST_DTYPE_F4, s8, 1, 6);
  st_file_set_metadata_value (file, "format", "pt");
  st_file_set_metadata_value (file, "note", "a \"quoted\"\nline\twith \\ and \x01 and caf\xc3\xa9");
  return file;
}

static GBytes *
save_to_bytes (STFile *file)
{
  g_autoptr(GError) error = NULL;
  GBytes *bytes = st_file_save_to_bytes (file, &error);

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  return bytes;
}

static STFile *
load_bytes (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  STFile *file = st_file_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (file);
  return file;
}

static void
write_file (const char *path, GBytes *bytes)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

static void
assert_file_contents (const char *path, GBytes *expected)
{
  g_autoptr(GBytes) contents = st_test_read_file (path);

  st_test_assert_bytes_equal (contents, expected);
}

static void
assert_dir_entries (const char *dir, const char * const *expected)
{
  g_auto(GStrv) names = st_test_list_dir (dir);

  g_assert_cmpstrv (names, expected);
}

static guint64
read_header_len (GBytes *bytes)
{
  guint64 n;

  g_assert_cmpuint (g_bytes_get_size (bytes), >=, 8);
  memcpy (&n, g_bytes_get_data (bytes, NULL), 8);
  return GUINT64_FROM_LE (n);
}

/* ---------------------------------------------------------------------------------------------------------
 * The map
 */

static void
check_empty_file (STFile *file)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  g_auto(GStrv) ordered = st_file_dup_names_in_file_order (file);
  g_autoptr(GBytes) saved = NULL;
  g_autofree char *canonical_path = NULL;
  g_autofree char *fixtures = st_test_fixtures_dir ();
  g_autoptr(GBytes) canonical = NULL;
  guint64 begin = 1, end = 1;

  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 0);
  g_assert_nonnull (names);
  g_assert_null (names[0]);
  g_assert_nonnull (ordered);
  g_assert_null (ordered[0]);
  g_assert_false (st_file_contains (file, "x"));
  g_assert_null (st_file_get_tensor (file, "x"));
  g_assert_null (st_file_lookup_tensor (file, "x", &error));
  st_test_assert_st_error (error, ST_ERROR_NOT_FOUND);
  g_assert_false (st_file_remove_tensor (file, "x"));
  g_assert_false (st_file_get_tensor_offsets (file, "x", &begin, &end));
  g_assert_false (st_file_has_metadata (file));
  g_assert_null (st_file_get_metadata_value (file, "format"));
  g_assert_cmpuint (st_file_get_data_size (file), ==, 0);
  /* not loaded: no header, no data address */
  g_assert_cmpuint (st_file_get_header_size (file), ==, 0);
  g_assert_cmpuint (st_file_get_data_address (file), ==, 0);

  /* and it saves as Hugging Face saves an empty dict */
  saved = save_to_bytes (file);
  canonical_path = g_build_filename (fixtures, "canonical", "empty_file.safetensors", NULL);
  canonical = st_test_read_file (canonical_path);
  st_test_assert_bytes_equal (saved, canonical);
}

static void
test_file_empty (void)
{
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(STFile) from_gobject = g_object_new (ST_TYPE_FILE, NULL);

  check_empty_file (file);
  /* bindings call g_object_new directly */
  check_empty_file (from_gobject);
}

static void
test_file_set_get_remove (void)
{
  const gint64 s2[] = { 2 };
  const gint64 s3[] = { 3 };
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(STTensor) t_c = make_tensor (ST_DTYPE_F32, s2, 1, 10);
  g_autoptr(STTensor) t_replacement = make_tensor (ST_DTYPE_I8, s3, 1, 20);
  const char *sorted[] = { "B", "a", "b.weight", "c", "\xc3\xa9t\xc3\xa9", NULL };
  g_auto(GStrv) names = NULL;
  STTensor *got;

  /* set takes its own reference */
  g_assert_true (st_file_set_tensor (file, "c", t_c, &error));
  g_assert_no_error (error);
  g_assert_true (st_file_get_tensor (file, "c") == t_c);
  add_tensor (file, "a", ST_DTYPE_U8, s2, 1, 11);
  add_tensor (file, "\xc3\xa9t\xc3\xa9", ST_DTYPE_U8, s2, 1, 12);
  add_tensor (file, "B", ST_DTYPE_U8, s2, 1, 13);
  add_tensor (file, "b.weight", ST_DTYPE_U8, s2, 1, 14);

  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 5);
  /* sorted by bytes: uppercase before lowercase, UTF-8 after ASCII */
  names = st_file_dup_names_sorted (file);
  g_assert_cmpstrv (names, sorted);
  g_assert_true (st_file_contains (file, "a"));
  g_assert_false (st_file_contains (file, "A"));
  g_assert_false (st_file_contains (file, ""));

  got = st_file_lookup_tensor (file, "a", &error);
  g_assert_no_error (error);
  g_assert_true (got == st_file_get_tensor (file, "a"));
  g_assert_cmpint (st_tensor_get_dtype (got), ==, ST_DTYPE_U8);

  /* setting a name again replaces the tensor */
  g_assert_true (st_file_set_tensor (file, "c", t_replacement, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 5);
  g_assert_true (st_file_get_tensor (file, "c") == t_replacement);
  /* the old tensor was released by the file, and is ours alone again */
  g_assert_cmpint (G_OBJECT (t_c)->ref_count, ==, 1);

  g_assert_true (st_file_remove_tensor (file, "B"));
  g_assert_false (st_file_remove_tensor (file, "B"));
  g_assert_false (st_file_contains (file, "B"));
  g_assert_null (st_file_get_tensor (file, "B"));
  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 4);

  g_assert_null (st_file_lookup_tensor (file, "B", &error));
  st_test_assert_st_error (error, ST_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "B"));
  g_clear_error (&error);

  /* the ordered names hold the same set */
  {
    g_auto(GStrv) ordered = st_file_dup_names_in_file_order (file);
    g_auto(GStrv) sorted_now = st_file_dup_names_sorted (file);

    g_assert_cmpuint (g_strv_length (ordered), ==, 4);
    for (guint i = 0; sorted_now[i] != NULL; i++)
      g_assert_true (g_strv_contains ((const char * const *) ordered, sorted_now[i]));
  }
}

/* Names that cannot be stored are refused, and the file is left as it was. */
static void
test_file_set_invalid_name (void)
{
  const gint64 s2[] = { 2 };
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(STTensor) tensor = make_tensor (ST_DTYPE_U8, s2, 1, 1);

  g_assert_false (st_file_set_tensor (file, "__metadata__", tensor, &error));
  st_test_assert_st_error (error, ST_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_false (st_file_set_tensor (file, "bad\xff", tensor, &error));
  st_test_assert_st_error (error, ST_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_false (st_file_set_tensor (file, "half\xc3", tensor, &error));
  st_test_assert_st_error (error, ST_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 0);
  g_assert_cmpint (G_OBJECT (tensor)->ref_count, ==, 1);
}

/* Absent metadata (NULL), empty metadata and empty values are three different things, and stay so. */
static void
test_file_metadata (void)
{
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(GHashTable) table = NULL;
  g_autoptr(GHashTable) metadata = NULL;

  g_assert_false (st_file_has_metadata (file));
  g_assert_null (st_file_get_metadata_value (file, "k"));
  g_assert_cmpuint (st_test_metadata_size (file), ==, 0);  /* an empty table, never NULL */

  st_file_set_metadata_value (file, "k", "v");
  st_file_set_metadata_value (file, "empty", "");
  g_assert_true (st_file_has_metadata (file));
  metadata = st_file_dup_metadata (file);
  g_assert_cmpuint (g_hash_table_size (metadata), ==, 2);
  g_assert_cmpstr (st_file_get_metadata_value (file, "k"), ==, "v");
  g_assert_cmpstr (st_file_get_metadata_value (file, "empty"), ==, "");
  g_assert_cmpstr (g_hash_table_lookup (metadata, "k"), ==, "v");
  /* the table is a copy: changing it leaves the file alone */
  g_hash_table_remove (metadata, "k");
  g_assert_cmpstr (st_file_get_metadata_value (file, "k"), ==, "v");

  st_file_set_metadata_value (file, "k", "w");
  g_assert_cmpstr (st_file_get_metadata_value (file, "k"), ==, "w");

  /* NULL removes */
  st_file_set_metadata_value (file, "k", NULL);
  g_assert_null (st_file_get_metadata_value (file, "k"));
  g_assert_cmpstr (st_file_get_metadata_value (file, "empty"), ==, "");
  st_file_set_metadata_value (file, "absent", NULL);
  g_assert_null (st_file_get_metadata_value (file, "absent"));

  /* a whole table: copied or referenced, it reads back the same */
  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (table, g_strdup ("x"), g_strdup ("1"));
  g_hash_table_insert (table, g_strdup ("y"), g_strdup ("2"));
  st_file_set_metadata (file, table);
  g_assert_cmpstr (st_file_get_metadata_value (file, "x"), ==, "1");
  g_assert_cmpstr (st_file_get_metadata_value (file, "y"), ==, "2");
  g_assert_null (st_file_get_metadata_value (file, "empty"));
  g_assert_cmpuint (st_test_metadata_size (file), ==, 2);

  /* NULL clears: no __metadata__ at all */
  st_file_set_metadata (file, NULL);
  g_assert_false (st_file_has_metadata (file));
  g_assert_null (st_file_get_metadata_value (file, "x"));
  {
    g_autoptr(GBytes) saved = save_to_bytes (file);
    g_autoptr(STFile) reloaded = load_bytes (saved);
    const char *json = (const char *) g_bytes_get_data (saved, NULL) + 8;

    g_assert_null (g_strstr_len (json, (gssize) read_header_len (saved), "__metadata__"));
    g_assert_false (st_file_has_metadata (reloaded));
  }

  /* an empty table is kept as an empty __metadata__ object */
  {
    g_autoptr(GHashTable) empty = g_hash_table_new (g_str_hash, g_str_equal);
    g_autoptr(GBytes) saved = NULL;
    g_autoptr(STFile) reloaded = NULL;
    const char expected[] = "{\"__metadata__\":{}}     ";

    st_file_set_metadata (file, empty);
    g_assert_true (st_file_has_metadata (file));
    g_assert_cmpuint (st_test_metadata_size (file), ==, 0);
    saved = save_to_bytes (file);
    g_assert_cmpuint (read_header_len (saved), ==, strlen (expected));
    g_assert_cmpmem ((const char *) g_bytes_get_data (saved, NULL) + 8, g_bytes_get_size (saved) - 8,
                     expected, strlen (expected));
    reloaded = load_bytes (saved);
    g_assert_true (st_file_has_metadata (reloaded));
    g_assert_cmpuint (st_test_metadata_size (reloaded), ==, 0);
  }

  /* empty values survive a round trip as empty, not absent */
  {
    g_autoptr(GBytes) saved = NULL;
    g_autoptr(STFile) reloaded = NULL;

    st_file_set_metadata_value (file, "blank", "");
    saved = save_to_bytes (file);
    reloaded = load_bytes (saved);
    g_assert_cmpstr (st_file_get_metadata_value (reloaded, "blank"), ==, "");
  }
}

/* Ordered names: the loaded file's data order, then tensors set since, in the order they were added.
 * Offsets are those of the loaded file, and only for tensors that come from it. */
static void
test_file_ordered_names (void)
{
  const gint64 s2[] = { 2 };
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(STFile) file = load_bytes (contents);
  g_auto(GStrv) before = st_file_dup_names_in_file_order (file);
  g_auto(GStrv) after = NULL;
  guint64 begin = 0, end = 0;
  guint n;

  add_tensor (file, "zz-added-first", ST_DTYPE_U8, s2, 1, 1);
  add_tensor (file, "aa-added-second", ST_DTYPE_U8, s2, 1, 2);
  after = st_file_dup_names_in_file_order (file);
  n = g_strv_length (before);
  g_assert_cmpuint (g_strv_length (after), ==, n + 2);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (after[i], ==, before[i]);
  g_assert_cmpstr (after[n], ==, "zz-added-first");
  g_assert_cmpstr (after[n + 1], ==, "aa-added-second");

  g_assert_false (st_file_get_tensor_offsets (file, "zz-added-first", &begin, &end));
  g_assert_true (st_file_get_tensor_offsets (file, "weight", &begin, &end));
  g_assert_true (st_file_get_tensor_offsets (file, "weight", NULL, NULL));

  /* a loaded tensor replaced is no longer the loaded file's */
  {
    g_autoptr(STTensor) replacement = make_tensor (ST_DTYPE_U8, s2, 1, 3);
    g_autoptr(GError) error = NULL;

    g_assert_true (st_file_set_tensor (file, "weight", replacement, &error));
    g_assert_no_error (error);
    g_assert_false (st_file_get_tensor_offsets (file, "weight", &begin, &end));
  }
}

/* The flat layout: one record per tensor in file order, offsets only for the loaded file's own tensors. */
static void
check_layout (STFile *file)
{
  g_auto(GStrv) ordered = st_file_dup_names_in_file_order (file);
  gsize n_values = 12345;
  g_autofree gint64 *layout = st_file_dup_layout (file, &n_values);
  gsize at = 0;

  if (ordered[0] == NULL)
    {
      g_assert_null (layout);
      g_assert_cmpuint (n_values, ==, 0);
      return;
    }
  g_assert_nonnull (layout);
  for (guint i = 0; ordered[i] != NULL; i++)
    {
      STTensor *tensor = st_file_get_tensor (file, ordered[i]);
      guint64 begin = 0, end = 0;
      guint n_dims = 0;
      const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);

      g_assert_cmpuint (at + 4, <=, n_values);
      g_assert_cmpint (layout[at], ==, st_tensor_get_dtype (tensor));
      if (st_file_get_tensor_offsets (file, ordered[i], &begin, &end))
        {
          g_assert_cmpint (layout[at + 1], ==, (gint64) begin);
          g_assert_cmpint (layout[at + 2], ==, (gint64) end);
        }
      else
        {
          g_assert_cmpint (layout[at + 1], ==, -1);
          g_assert_cmpint (layout[at + 2], ==, -1);
        }
      g_assert_cmpint (layout[at + 3], ==, n_dims);
      g_assert_cmpuint (at + 4 + n_dims, <=, n_values);
      for (guint d = 0; d < n_dims; d++)
        g_assert_cmpint (layout[at + 4 + d], ==, shape[d]);
      at += 4 + n_dims;
    }
  g_assert_cmpuint (at, ==, n_values);
}

static void
test_file_layout (void)
{
  const gint64 s3x2[] = { 3, 2 };
  g_autoptr(STFile) empty = st_file_new ();
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(STFile) loaded = load_bytes (contents);
  g_autoptr(GError) error = NULL;

  check_layout (empty);
  check_layout (original);
  check_layout (loaded);

  /* added and replaced tensors have no offsets */
  add_tensor (loaded, "added", ST_DTYPE_I16, s3x2, 2, 9);
  {
    g_autoptr(STTensor) replacement = make_tensor (ST_DTYPE_F64, NULL, 0, 1);

    g_assert_true (st_file_set_tensor (loaded, "bias", replacement, &error));
    g_assert_no_error (error);
  }
  check_layout (loaded);
  {
    gsize n_values = 0;
    g_autofree gint64 *layout = st_file_dup_layout (loaded, &n_values);

    /* the last record is "added": I16, -1, -1, rank 2, 3 x 2 */
    g_assert_cmpuint (n_values, >=, 6);
    g_assert_cmpint (layout[n_values - 6], ==, ST_DTYPE_I16);
    g_assert_cmpint (layout[n_values - 5], ==, -1);
    g_assert_cmpint (layout[n_values - 4], ==, -1);
    g_assert_cmpint (layout[n_values - 3], ==, 2);
    g_assert_cmpint (layout[n_values - 2], ==, 3);
    g_assert_cmpint (layout[n_values - 1], ==, 2);
  }
}

/* st_file_set_tensor_from_data keeps the owner exactly as long as the entry, or anything made from it,
 * uses its memory; a failure changes nothing and keeps nothing. */
static void
test_file_set_tensor_from_data (void)
{
  const gint64 shape[] = { 2, 4 };
  g_autoptr(GError) error = NULL;
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  guint8 *buffer = g_malloc (64);
  STFile *file = st_file_new ();
  STTensor *tensor;
  g_autoptr(GBytes) saved = NULL;
  g_autoptr(STFile) reloaded = NULL;

  for (guint i = 0; i < 64; i++)
    buffer[i] = (guint8) (i * 3);
  g_object_set_data_full (owner, "buffer", buffer, g_free);
  g_object_add_weak_pointer (owner, (gpointer *) &owner);

  /* one owner for several tensors, as Python does */
  g_assert_true (st_file_set_tensor_from_data (file, "a", ST_DTYPE_F32, shape, 2, (guint64) (guintptr) buffer,
                                               32, owner, &error));
  g_assert_no_error (error);
  g_assert_true (st_file_set_tensor_from_data (file, "b", ST_DTYPE_U8, shape, 2,
                                               (guint64) (guintptr) (buffer + 32), 8, owner, &error));
  g_assert_no_error (error);
  g_assert_true (st_file_set_tensor_from_data (file, "s", ST_DTYPE_I64, NULL, 0,
                                               (guint64) (guintptr) (buffer + 40), 8, owner, &error));
  g_assert_no_error (error);
  g_object_unref (owner);
  g_assert_nonnull (owner);

  /* failures: the file and the owner's references are as they were */
  {
    guint refs = G_OBJECT (owner)->ref_count;

    g_assert_false (st_file_set_tensor_from_data (file, "bad", ST_DTYPE_F32, shape, 2,
                                                  (guint64) (guintptr) buffer, 31, owner, &error));
    st_test_assert_st_error (error, ST_ERROR_SIZE_MISMATCH);
    g_assert_nonnull (strstr (error->message, "bad"));
    g_clear_error (&error);
    g_assert_false (st_file_set_tensor_from_data (file, "__metadata__", ST_DTYPE_F32, shape, 2,
                                                  (guint64) (guintptr) buffer, 32, owner, &error));
    st_test_assert_st_error (error, ST_ERROR_INVALID_NAME);
    g_clear_error (&error);
    g_assert_false (st_file_set_tensor_from_data (file, "null", ST_DTYPE_F32, shape, 2, 0, 32, owner, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_cmpuint (G_OBJECT (owner)->ref_count, ==, refs);
    g_assert_cmpuint (st_file_get_n_tensors (file), ==, 3);
  }

  /* zero-copy, and saved from the owner's memory */
  tensor = st_file_get_tensor (file, "a");
  g_assert_nonnull (tensor);
  g_assert_true (st_tensor_get_data (tensor, NULL) == buffer);
  g_assert_cmpuint (st_tensor_get_n_bytes (tensor), ==, 32);
  saved = save_to_bytes (file);
  reloaded = load_bytes (saved);
  st_test_assert_files_equal (reloaded, file);
  check_layout (file);

  /* a tensor taken from the file keeps the owner after the file is gone */
  tensor = g_object_ref (st_file_get_tensor (file, "b"));
  g_assert_true (st_file_remove_tensor (file, "a"));
  g_object_unref (file);
  g_assert_nonnull (owner);
  g_assert_cmpuint (((const guint8 *) st_tensor_get_data (tensor, NULL))[7], ==, 39 * 3 % 256);
  g_object_unref (tensor);
  g_assert_null (owner);
}

/* st_file_set_metadata copies the table: later changes to it do not reach the file. */
static void
test_file_metadata_copied (void)
{
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_hash_table_insert (table, g_strdup ("k"), g_strdup ("v"));
  st_file_set_metadata (file, table);
  g_hash_table_insert (table, g_strdup ("k"), g_strdup ("changed"));
  g_hash_table_insert (table, g_strdup ("extra"), g_strdup ("x"));
  g_clear_pointer (&table, g_hash_table_unref);

  g_assert_cmpstr (st_file_get_metadata_value (file, "k"), ==, "v");
  g_assert_null (st_file_get_metadata_value (file, "extra"));
  g_assert_cmpuint (st_test_metadata_size (file), ==, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Loading
 */

typedef enum {
  SOURCE_PATH,
  SOURCE_BYTES,
  SOURCE_GFILE,
  SOURCE_STREAM,
} Source;

static const char *source_names[] = { "path", "bytes", "gfile", "stream" };

static STFile *
load_from (Source source, const char *path, GBytes *contents, GError **error)
{
  switch (source)
    {
    case SOURCE_PATH:
      return st_file_new_from_path (path, error);
    case SOURCE_BYTES:
      return st_file_new_from_bytes (contents, error);
    case SOURCE_GFILE:
      {
        g_autoptr(GFile) gfile = g_file_new_for_path (path);
        return st_file_new_from_gfile (gfile, NULL, error);
      }
    case SOURCE_STREAM:
      {
        g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (contents);
        return st_file_new_from_stream (stream, NULL, error);
      }
    default:
      g_assert_not_reached ();
    }
}

/* Every getter of a loaded sample file, from each source. */
static void
test_file_load_sources (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sample.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  guint64 header_len = read_header_len (contents);
  guint64 data_size = g_bytes_get_size (contents) - 8 - header_len;

  write_file (path, contents);

  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, contents, &error);
      g_auto(GStrv) ordered = NULL;
      guint64 prev_end = 0;

      st_test_note ("loading from %s", source_names[source]);
      g_assert_no_error (error);
      g_assert_nonnull (file);
      st_test_assert_files_equal (file, original);
      g_assert_cmpuint (st_file_get_n_tensors (file), ==, 6);
      g_assert_cmpstr (st_file_get_metadata_value (file, "format"), ==, "pt");
      g_assert_cmpstr (st_file_get_metadata_value (file, "note"), ==,
                       "a \"quoted\"\nline\twith \\ and \x01 and caf\xc3\xa9");
      g_assert_cmpuint (st_file_get_data_size (file), ==, data_size);
      /* the header size is the N of the prefix, padding included */
      g_assert_cmpuint (st_file_get_header_size (file), ==, header_len);
      g_assert_cmpuint (st_file_get_header_size (file) % 8, ==, 0);
      g_assert_cmpuint (st_file_get_data_address (file), !=, 0);
      if (source == SOURCE_BYTES)
        g_assert_cmpuint (st_file_get_data_address (file), ==,
                          (guint64) (guintptr) g_bytes_get_data (contents, NULL) + 8 + header_len);

      /* file order is data order: each tensor begins where the previous one ended */
      ordered = st_file_dup_names_in_file_order (file);
      g_assert_cmpuint (g_strv_length (ordered), ==, 6);
      for (guint i = 0; ordered[i] != NULL; i++)
        {
          STTensor *tensor = st_file_get_tensor (file, ordered[i]);
          guint64 begin = 0, end = 0;

          g_assert_true (st_file_get_tensor_offsets (file, ordered[i], &begin, &end));
          g_assert_cmpuint (begin, ==, prev_end);
          g_assert_cmpuint (end - begin, ==, st_tensor_get_n_bytes (tensor));
          prev_end = end;

          /* path and bytes loads are zero-copy: the tensor lies in the file's data at its offset */
          if ((source == SOURCE_PATH || source == SOURCE_BYTES) && end > begin)
            g_assert_cmpuint (st_tensor_get_data_address (tensor), ==, st_file_get_data_address (file) + begin);
          if (source == SOURCE_BYTES && end > begin)
            g_assert_true ((const guint8 *) st_tensor_get_data (tensor, NULL) ==
                           (const guint8 *) g_bytes_get_data (contents, NULL) + 8 + header_len + begin);
        }
      g_assert_cmpuint (prev_end, ==, data_size);
      /* the writer puts dtypes in reverse enumeration order: I64 first, then ... F4, and BOOL last */
      g_assert_cmpstr (ordered[0], ==, "step");
      g_assert_cmpstr (ordered[4], ==, "packed");
      g_assert_cmpstr (ordered[5], ==, "flags");

      {
        guint64 b = 7, e = 7;
        g_assert_false (st_file_get_tensor_offsets (file, "nope", &b, &e));
      }
    }

  st_test_rm_rf (dir);
}

/* A tensor taken from a loaded file keeps the file's memory alive after the file is gone. */
static void
test_file_tensor_outlives_file (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sample.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) kept = NULL;
  g_autoptr(GBytes) kept_bytes = NULL;
  STFile *file;

  write_file (path, contents);
  file = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  kept = g_object_ref (st_file_get_tensor (file, "weight"));
  kept_bytes = g_bytes_ref (st_tensor_get_bytes (st_file_get_tensor (file, "bias")));
  g_object_unref (file);
  st_test_rm_rf (dir);

  g_assert_true (st_tensor_equal (kept, st_file_get_tensor (original, "weight")));
  g_assert_true (g_bytes_equal (kept_bytes, st_tensor_get_bytes (st_file_get_tensor (original, "bias"))));
}

/* Loading a path maps it privately: writing into a tensor changes the tensor, never the file. */
static void
test_file_private_mapping (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sample.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(STFile) again = NULL;
  STTensor *weight;
  guint8 *data;
  gsize len = 0;

  write_file (path, contents);
  file = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  weight = st_file_get_tensor (file, "weight");
  data = (guint8 *) st_tensor_get_data (weight, &len);
  g_assert_cmpuint (len, ==, 24);
  memset (data, 0xAB, len);
  g_assert_cmpuint (((const guint8 *) st_tensor_get_data (weight, NULL))[5], ==, 0xAB);

  /* the file on disk is unchanged, and so is a second load of it */
  assert_file_contents (path, contents);
  again = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  g_assert_true (st_tensor_equal (st_file_get_tensor (again, "weight"), st_file_get_tensor (original, "weight")));

  st_test_rm_rf (dir);
}

/* A missing file is the I/O error "not found" (st-error.h: I/O errors pass through in G_IO_ERROR). */
static void
test_file_load_missing (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "missing.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) gfile = g_file_new_for_path (path);
  STFile *file;

  file = st_file_new_from_path (path, &error);
  g_assert_null (file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "missing.safetensors"));
  g_clear_error (&error);

  file = st_file_new_from_gfile (gfile, NULL, &error);
  g_assert_null (file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* a directory is not a safetensors file either */
  file = st_file_new_from_path (dir, &error);
  g_assert_null (file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
  st_test_note ("directory: %s", error->message);
  g_clear_error (&error);

  st_test_rm_rf (dir);
}

/* A format error loading a path names the path (st_file_new_from_path: "the path before the message"). */
static void
test_file_load_error_names_path (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "broken-model.safetensors", NULL);
  g_autoptr(GBytes) bad = st_test_make_file ("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  write_file (path, bad);
  file = st_file_new_from_path (path, &error);
  g_assert_null (file);
  st_test_assert_st_error (error, ST_ERROR_INVALID_DTYPE);
  g_assert_nonnull (strstr (error->message, "broken-model.safetensors"));
  g_assert_nonnull (strstr (error->message, "F128"));
  st_test_rm_rf (dir);
}

typedef struct {
  char *path;
  GBytes *contents;
} FifoWriter;

static gpointer
fifo_writer_thread (gpointer user_data)
{
  FifoWriter *writer = user_data;
  FILE *fifo = fopen (writer->path, "wb");
  gsize len = g_bytes_get_size (writer->contents);

  g_assert_nonnull (fifo);
  /* in small pieces, so that the reader sees short reads */
  for (gsize done = 0; done < len; done += 7)
    {
      g_assert_cmpuint (fwrite ((const guint8 *) g_bytes_get_data (writer->contents, NULL) + done, 1,
                                MIN (7, len - done), fifo), ==, MIN (7, len - done));
      fflush (fifo);
    }
  fclose (fifo);
  return NULL;
}

/* A path that is not a regular file is read as a stream: a named pipe loads, /dev/null is too small. */
static void
test_file_load_not_regular (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "pipe.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(STFile) null_file = NULL;
  FifoWriter writer = { path, contents };
  GThread *thread;

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  thread = g_thread_new ("fifo-writer", fifo_writer_thread, &writer);
  file = st_file_new_from_path (path, &error);
  g_thread_join (thread);
  g_assert_no_error (error);
  st_test_assert_files_equal (file, original);

  null_file = st_file_new_from_path ("/dev/null", &error);
  g_assert_null (null_file);
  st_test_assert_st_error (error, ST_ERROR_HEADER_TOO_SMALL);

  st_test_rm_rf (dir);
}

/* A zero-length file (which cannot be mapped) is too small, from every source. */
static void
test_file_load_zero_length (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "zero.safetensors", NULL);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);

  write_file (path, empty);
  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, empty, &error);

      st_test_note ("loading from %s", source_names[source]);
      g_assert_null (file);
      st_test_assert_st_error (error, ST_ERROR_HEADER_TOO_SMALL);
    }
  st_test_rm_rf (dir);
}

/* Bytes after the last tensor are rejected from every source: they are how polyglot files hide. */
static void
test_file_load_trailing_bytes (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "trailing.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GByteArray) longer = g_byte_array_new ();
  g_autoptr(GBytes) with_trailer = NULL;

  g_byte_array_append (longer, g_bytes_get_data (contents, NULL), g_bytes_get_size (contents));
  g_byte_array_append (longer, (const guint8 *) "X", 1);
  with_trailer = g_bytes_new (longer->data, longer->len);
  write_file (path, with_trailer);

  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, with_trailer, &error);

      st_test_note ("loading from %s", source_names[source]);
      g_assert_null (file);
      st_test_assert_st_error (error, ST_ERROR_INCOMPLETE_BUFFER);
    }
  st_test_rm_rf (dir);
}

/* A file cut short in its data is incomplete, from every source. */
static void
test_file_load_truncated (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "truncated.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (contents, 0, g_bytes_get_size (contents) - 1);

  write_file (path, truncated);
  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, truncated, &error);

      st_test_note ("loading from %s", source_names[source]);
      g_assert_null (file);
      st_test_assert_st_error (error, ST_ERROR_INCOMPLETE_BUFFER);
    }
  st_test_rm_rf (dir);
}

/* ---------------------------------------------------------------------------------------------------------
 * Streams that misbehave
 */

/* An input stream that gives at most @chunk bytes per read and can fail after @fail_after bytes. */
#define TEST_TYPE_TRICKLE_STREAM (test_trickle_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestTrickleStream, test_trickle_stream, TEST, TRICKLE_STREAM, GInputStream)

struct _TestTrickleStream
{
  GInputStream parent_instance;
  GBytes *bytes;
  gsize pos;
  gsize chunk;
  gsize fail_after;  /* G_MAXSIZE: never */
  gboolean endless;  /* after the bytes, an endless run of 'x' */
};

G_DEFINE_FINAL_TYPE (TestTrickleStream, test_trickle_stream, G_TYPE_INPUT_STREAM)

static gssize
test_trickle_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                          GError **error)
{
  TestTrickleStream *self = TEST_TRICKLE_STREAM (stream);
  gsize size = g_bytes_get_size (self->bytes);
  gsize n;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  if (self->pos >= self->fail_after)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "the test stream broke at byte %"
                   G_GSIZE_FORMAT, self->pos);
      return -1;
    }
  n = MIN (count, self->chunk);
  if (self->endless && self->pos >= size)
    {
      /* give up after 64 MB all the same, so that a reader that reads to the end fails the test and
       * does not take the machine down */
      n = self->pos < size + 64 * 1024 * 1024 ? n : 0;
      memset (buffer, 'x', n);
      self->pos += n;
      return (gssize) n;
    }
  n = MIN (n, size - self->pos);
  n = MIN (n, self->fail_after - self->pos);
  memcpy (buffer, (const guint8 *) g_bytes_get_data (self->bytes, NULL) + self->pos, n);
  self->pos += n;
  return (gssize) n;
}

static gboolean
test_trickle_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
test_trickle_stream_finalize (GObject *object)
{
  g_bytes_unref (TEST_TRICKLE_STREAM (object)->bytes);
  G_OBJECT_CLASS (test_trickle_stream_parent_class)->finalize (object);
}

static void
test_trickle_stream_class_init (TestTrickleStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_trickle_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = test_trickle_stream_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = test_trickle_stream_close;
}

static void
test_trickle_stream_init (TestTrickleStream *self)
{
}

static GInputStream *
trickle_stream_new (GBytes *bytes, gsize chunk, gsize fail_after)
{
  TestTrickleStream *self = g_object_new (TEST_TYPE_TRICKLE_STREAM, NULL);

  self->bytes = g_bytes_ref (bytes);
  self->chunk = chunk;
  self->fail_after = fail_after;
  return G_INPUT_STREAM (self);
}

/* Short reads are normal for streams: one byte at a time still loads the same file. */
static void
test_file_stream_short_reads (void)
{
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  const gsize chunks[] = { 1, 3, 7, 4096 };

  for (gsize i = 0; i < G_N_ELEMENTS (chunks); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInputStream) stream = trickle_stream_new (contents, chunks[i], G_MAXSIZE);
      g_autoptr(STFile) file = st_file_new_from_stream (stream, NULL, &error);

      g_assert_no_error (error);
      st_test_assert_files_equal (file, original);
    }
}

/* An I/O error in the middle of the data passes through unchanged. */
static void
test_file_stream_io_error (void)
{
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  const gsize fail_points[] = { 0, 4, 8, 20, g_bytes_get_size (contents) - 1 };

  for (gsize i = 0; i < G_N_ELEMENTS (fail_points); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInputStream) stream = trickle_stream_new (contents, 5, fail_points[i]);
      g_autoptr(STFile) file = st_file_new_from_stream (stream, NULL, &error);

      g_assert_null (file);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
    }
}

/* A header that claims a terabyte of data, on a stream that has sixteen bytes: a clean error, and no
 * attempt to allocate the terabyte first. The same for a header length that claims 100 MB. */
static void
test_file_stream_hostile_claims (void)
{
  const char *header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[1099511627776],"
                       "\"data_offsets\":[0,1099511627776]}}";
  g_autoptr(GBytes) tera = st_test_make_file (header, 16);
  g_autoptr(GBytes) big_header = st_test_make_file_full (ST_TEST_MAX_HEADER, "{\"a\":", 5, NULL, 11);
  GBytes *inputs[] = { tera, big_header };

  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInputStream) memory = g_memory_input_stream_new_from_bytes (inputs[i]);
      g_autoptr(GInputStream) trickle = trickle_stream_new (inputs[i], 3, G_MAXSIZE);
      g_autoptr(STFile) file = st_file_new_from_stream (memory, NULL, &error);
      g_autoptr(STFile) file2 = NULL;

      g_assert_null (file);
      g_assert_nonnull (error);
      g_assert_true (error->domain == ST_ERROR);
      st_test_note ("memory stream: %s", error->message);
      g_clear_error (&error);

      file2 = st_file_new_from_stream (trickle, NULL, &error);
      g_assert_null (file2);
      g_assert_nonnull (error);
      g_assert_true (error->domain == ST_ERROR);
      st_test_note ("trickle stream: %s", error->message);
      g_clear_error (&error);

      /* and from bytes */
      g_assert_null (st_file_new_from_bytes (inputs[i], &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == ST_ERROR);
    }

  /* the terabyte claim in particular is an incomplete buffer */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GInputStream) memory = g_memory_input_stream_new_from_bytes (tera);
    g_autoptr(STFile) file = st_file_new_from_stream (memory, NULL, &error);

    g_assert_null (file);
    st_test_assert_st_error (error, ST_ERROR_INCOMPLETE_BUFFER);
  }
}

/* A stream that never ends after a valid file: trailing bytes, found by reading one byte past the data,
 * not by reading the stream to its end. */
static void
test_file_stream_endless (void)
{
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GInputStream) stream = trickle_stream_new (contents, 1 << 20, G_MAXSIZE);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  TEST_TRICKLE_STREAM (stream)->endless = TRUE;
  file = st_file_new_from_stream (stream, NULL, &error);
  g_assert_null (file);
  st_test_assert_st_error (error, ST_ERROR_INCOMPLETE_BUFFER);
  st_test_note ("read %" G_GSIZE_FORMAT " bytes of an endless stream after a %" G_GSIZE_FORMAT "-byte file",
                TEST_TRICKLE_STREAM (stream)->pos, g_bytes_get_size (contents));
  g_assert_cmpuint (TEST_TRICKLE_STREAM (stream)->pos, <=, g_bytes_get_size (contents) + 1024 * 1024);
}

static void
test_file_stream_cancelled (void)
{
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (contents);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  g_cancellable_cancel (cancellable);
  file = st_file_new_from_stream (stream, cancellable, &error);
  g_assert_null (file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

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

  g_assert_true (st_file_save_to_path (file, path, NULL, &error));
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
    g_autoptr(STFile) reloaded = st_file_new_from_path (path, &error);
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
    g_assert_true (st_file_save_to_path (small, path, NULL, &error));
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
  g_assert_true (st_file_save_to_path (file, "relative.safetensors", NULL, &error));
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

  g_assert_true (st_file_save_to_path (file, path, NULL, &error));
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
  loaded = st_file_new_from_path (path, &error);
  g_assert_no_error (error);

  /* change the set so that every tensor moves in the new file */
  add_tensor (loaded, "added", ST_DTYPE_F64, s7, 1, 99);
  g_assert_true (st_file_remove_tensor (loaded, "bias"));
  st_file_set_metadata_value (loaded, "format", "np");

  g_assert_true (st_file_save_to_path (loaded, path, NULL, &error));
  g_assert_no_error (error);
  assert_dir_entries (dir, entries);

  expected = make_sample_file ();
  add_tensor (expected, "added", ST_DTYPE_F64, s7, 1, 99);
  st_file_remove_tensor (expected, "bias");
  st_file_set_metadata_value (expected, "format", "np");

  reloaded = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  st_test_assert_files_equal (reloaded, expected);
  /* the file that was loaded before the save still reads its old, right bytes */
  st_test_assert_files_equal (loaded, expected);

  /* and once more, saving the reloaded file over itself unchanged */
  {
    g_autoptr(GBytes) before = st_test_read_file (path);

    g_assert_true (st_file_save_to_path (reloaded, path, NULL, &error));
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

  g_assert_false (st_file_save_to_path (file, path, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  assert_file_contents (path, before);
  assert_dir_entries (dir, entries);

  /* a new target is not created either */
  g_assert_false (st_file_save_to_path (file, fresh, cancellable, &error));
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

/* The scratch directory of the subprocess tests, known to parent and child alike. */
static char *
subprocess_dir (const char *what)
{
  g_autofree char *name = g_strdup_printf ("st-test-%s-%d", what,
                                           g_test_subprocess () ? (int) getppid () : (int) getpid ());
  return g_build_filename (g_get_tmp_dir (), name, NULL);
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
      g_assert_false (st_file_save_to_path (file, path, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      st_test_note ("expected error: %s", error->message);
      g_clear_error (&error);
      g_assert_false (st_file_save_to_path (file, fresh, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      return;
    }

  st_test_rm_rf (dir);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
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

      g_assert_false (st_file_save_to_path (file, path, NULL, &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == G_IO_ERROR);
      st_test_note ("expected error: %s", error->message);
      assert_file_contents (path, before);
      assert_dir_entries (dir, entries);
      return;
    }

  st_test_rm_rf (dir);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
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

  g_assert_false (st_file_save_to_path (file, missing, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  st_test_note ("expected error: %s", error->message);
  g_clear_error (&error);

  g_assert_false (st_file_save_to_path (file, subdir, NULL, &error));
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
  loaded = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  data = (guint8 *) st_tensor_get_data (st_file_get_tensor (loaded, "bias"), &len);
  memset (data, 0x5A, len);

  g_assert_true (st_file_save_to_path (loaded, copy, NULL, &error));
  g_assert_no_error (error);
  reloaded = st_file_new_from_path (copy, &error);
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

/* ---------------------------------------------------------------------------------------------------------
 * Async
 */

typedef struct {
  GMainLoop *loop;
  GAsyncResult *result;
  GThread *thread;
} AsyncData;

static void
on_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncData *data = user_data;

  data->result = g_object_ref (result);
  data->thread = g_thread_self ();
  g_main_loop_quit (data->loop);
}

static void
async_data_init (AsyncData *data)
{
  data->loop = g_main_loop_new (NULL, FALSE);
  data->result = NULL;
  data->thread = NULL;
}

static void
async_data_wait (AsyncData *data)
{
  g_main_loop_run (data->loop);
  g_assert_nonnull (data->result);
  /* callbacks come back in the caller's main context */
  g_assert_true (data->thread == g_thread_self ());
}

static void
async_data_clear (AsyncData *data)
{
  g_clear_object (&data->result);
  g_clear_pointer (&data->loop, g_main_loop_unref);
}

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
  st_file_save_to_path_async (original, path, NULL, on_ready, &data);
  async_data_wait (&data);
  g_assert_true (st_file_save_to_path_finish (original, data.result, &error));
  g_assert_no_error (error);
  assert_file_contents (path, expected);
  assert_dir_entries (dir, entries);
  async_data_clear (&data);

  async_data_init (&data);
  st_file_new_from_path_async (path, NULL, on_ready, &data);
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
  st_file_new_from_path_async (missing, NULL, on_ready, &data);
  async_data_wait (&data);
  g_assert_null (st_file_new_from_path_finish (data.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  async_data_clear (&data);

  async_data_init (&data);
  st_file_new_from_path_async (bad, NULL, on_ready, &data);
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
  st_file_save_to_path_async (file, path, cancellable, on_ready, &data);
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
  st_file_new_from_path_async (path, cancellable, on_ready, &data);
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
  st_file_save_to_path_async (file, path, cancellable, on_ready, &data);

  for (guint i = 0; i < 2000 && !replaced; i++)
    {
      g_autoptr(GBytes) now = st_test_read_file (path);

      replaced = g_bytes_equal (now, expected);
      if (!replaced)
        g_usleep (5000);
    }
  g_assert_true (replaced);
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
  loaded = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  g_assert_true (st_file_remove_tensor (loaded, "weight"));
  st_file_remove_tensor (original, "weight");

  async_data_init (&data);
  st_file_save_to_path_async (loaded, path, NULL, on_ready, &data);
  async_data_wait (&data);
  g_assert_true (st_file_save_to_path_finish (loaded, data.result, &error));
  g_assert_no_error (error);
  async_data_clear (&data);

  reloaded = st_file_new_from_path (path, &error);
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
  st_file_save_to_path_async (file, path, cancellable, on_ready, &data);
  g_idle_add (cancel_now, cancellable);
  async_data_wait (&data);
  if (st_file_save_to_path_finish (file, data.result, &error))
    {
      g_autoptr(STFile) reloaded = st_file_new_from_path (path, &error);

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

/* ---------------------------------------------------------------------------------------------------------
 * The bulk calls for bindings: st_file_dup_layout() and st_file_set_tensor_from_data()
 */

/* Checks the record of st_file_dup_layout() at *at and moves past it. */
static void
assert_layout_record (const gint64 *values, gsize n_values, gsize *at,
                      STDType dtype, gint64 begin, gint64 end, const gint64 *shape, guint n_dims)
{
  g_assert_cmpuint (*at + 4, <=, n_values);
  g_assert_cmpint (values[*at], ==, dtype);
  g_assert_cmpint (values[*at + 1], ==, begin);
  g_assert_cmpint (values[*at + 2], ==, end);
  g_assert_cmpint (values[*at + 3], ==, n_dims);
  g_assert_cmpuint (*at + 4 + n_dims, <=, n_values);
  for (guint d = 0; d < n_dims; d++)
    g_assert_cmpint (values[*at + 4 + d], ==, shape[d]);
  *at += 4 + n_dims;
}

/* The records of a loaded file agree with the per-tensor getters, in file order, and locate the bytes. */
static void
test_file_layout_loaded (void)
{
  g_autoptr(STFile) sample = make_sample_file ();
  g_autoptr(GBytes) bytes = save_to_bytes (sample);
  g_autoptr(STFile) file = load_bytes (bytes);
  g_auto(GStrv) names = st_file_dup_names_in_file_order (file);
  g_autofree gint64 *values = NULL;
  gsize n_values = 0;
  gsize at = 0;
  guint64 previous_end = 0;

  /* Asked before any tensor exists, as a binding does. */
  values = st_file_dup_layout (file, &n_values);
  g_assert_nonnull (values);

  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *tensor = st_file_get_tensor (file, names[i]);
      guint n_dims = 0;
      const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
      guint64 begin = 0, end = 0;

      g_assert_true (st_file_get_tensor_offsets (file, names[i], &begin, &end));
      g_assert_cmpuint (begin, ==, previous_end);
      previous_end = end;
      assert_layout_record (values, n_values, &at, st_tensor_get_dtype (tensor), (gint64) begin, (gint64) end,
                            shape, n_dims);
      if (end > begin)
        g_assert_cmpuint (st_tensor_get_data_address (tensor), ==, st_file_get_data_address (file) + begin);
    }
  g_assert_cmpuint (at, ==, n_values);
  g_assert_cmpuint (previous_end, ==, st_file_get_data_size (file));
}

/* Empty files have no records; a scalar's record is four values; edits show as -1, -1. */
static void
test_file_layout_edited (void)
{
  const gint64 s2[] = { 2 };
  const gint64 s23[] = { 2, 3 };
  const gint64 s4[] = { 4 };
  const gint64 s1x1[] = { 1, 1 };
  const float four[4] = { 1, 2, 3, 4 };
  g_autoptr(STFile) empty = st_file_new ();
  g_autoptr(STFile) scalar = st_file_new ();
  g_autoptr(STFile) source = st_file_new ();
  g_autoptr(STFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *values = NULL;
  g_autofree gint64 *scalar_values = NULL;
  g_auto(GStrv) names = NULL;
  const char *expected_names[] = { "b", "c", "d", "new", NULL };
  gsize n_values = 1;
  gsize at = 0;

  g_assert_null (st_file_dup_layout (empty, &n_values));
  g_assert_cmpuint (n_values, ==, 0);

  add_tensor (scalar, "s", ST_DTYPE_F64, NULL, 0, 1);
  scalar_values = st_file_dup_layout (scalar, &n_values);
  g_assert_cmpuint (n_values, ==, 4);
  assert_layout_record (scalar_values, n_values, &at, ST_DTYPE_F64, -1, -1, NULL, 0);

  /* Four F32 tensors: written a, b, c, d (same dtype, so by name), each at its place. */
  add_tensor (source, "a", ST_DTYPE_F32, s2, 1, 1);
  add_tensor (source, "b", ST_DTYPE_F32, s23, 2, 2);
  add_tensor (source, "c", ST_DTYPE_F32, NULL, 0, 3);
  add_tensor (source, "d", ST_DTYPE_F32, s1x1, 2, 4);
  bytes = save_to_bytes (source);
  file = load_bytes (bytes);

  /* Remove a, replace c (by memory), add "new", leave b and d. */
  g_assert_true (st_file_remove_tensor (file, "a"));
  g_assert_true (st_file_set_tensor_from_data (file, "c", ST_DTYPE_F32, s4, 1, (guint64) GPOINTER_TO_SIZE (four),
                                               sizeof four, NULL, &error));
  g_assert_no_error (error);
  add_tensor (file, "new", ST_DTYPE_U8, s2, 1, 5);

  names = st_file_dup_names_in_file_order (file);
  g_assert_cmpstrv (names, expected_names);
  values = st_file_dup_layout (file, &n_values);
  at = 0;
  assert_layout_record (values, n_values, &at, ST_DTYPE_F32, 8, 32, s23, 2);
  assert_layout_record (values, n_values, &at, ST_DTYPE_F32, -1, -1, s4, 1);
  assert_layout_record (values, n_values, &at, ST_DTYPE_F32, 36, 40, s1x1, 2);
  assert_layout_record (values, n_values, &at, ST_DTYPE_U8, -1, -1, s2, 1);
  g_assert_cmpuint (at, ==, n_values);
  g_assert_false (st_file_get_tensor_offsets (file, "c", NULL, NULL));
}

/* A file set from memory saves the bytes a file of STTensors over the same memory saves, and its tensors
 * (made on demand) are that memory. */
static void
test_file_set_from_data_saves (void)
{
  g_autoptr(STFile) reference = make_sample_file ();
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(GBytes) expected = save_to_bytes (reference);
  g_autoptr(GBytes) saved = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = st_file_dup_names_in_file_order (reference);
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "from-data.safetensors", NULL);
  g_autoptr(STFile) reloaded = NULL;

  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *tensor = st_file_get_tensor (reference, names[i]);
      guint n_dims = 0;
      const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);

      /* The reference file (and so its tensors) outlives @file: no owner needed. */
      g_assert_true (st_file_set_tensor_from_data (file, names[i], st_tensor_get_dtype (tensor), shape, n_dims,
                                                   st_tensor_get_data_address (tensor),
                                                   st_tensor_get_n_bytes (tensor), NULL, &error));
      g_assert_no_error (error);
    }
  if (st_file_has_metadata (reference))
    {
      g_autoptr(GHashTable) metadata = st_file_dup_metadata (reference);
      st_file_set_metadata (file, metadata);
    }

  saved = save_to_bytes (file);
  st_test_assert_bytes_equal (saved, expected);
  g_assert_true (st_file_save_to_path (file, path, NULL, &error));
  g_assert_no_error (error);
  assert_file_contents (path, expected);

  st_test_assert_files_equal (file, reference);
  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *made = st_file_get_tensor (file, names[i]);
      STTensor *original = st_file_get_tensor (reference, names[i]);

      g_assert_true (ST_IS_TENSOR (made));
      g_assert_true (made == st_file_get_tensor (file, names[i]));  /* made once */
      g_assert_true (st_tensor_equal (made, original));
      g_assert_cmpuint (st_tensor_get_data_address (made), ==, st_tensor_get_data_address (original));
    }

  reloaded = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  st_test_assert_files_equal (reloaded, reference);
  st_test_rm_rf (dir);
}

/* Every rejection of st_tensor_new_from_data() and st_file_set_tensor(), with the tensor named, and
 * nothing kept. */
static void
test_file_set_from_data_errors (void)
{
  const gint64 s2[] = { 2 };
  const gint64 s3[] = { 3 };
  const gint64 negative[] = { 2, -1 };
  const gint64 huge[] = { G_MAXINT64, G_MAXINT64 };
  const gint64 s0[] = { 0 };
  guint8 memory[8] = { 0 };
  guint64 address = (guint64) GPOINTER_TO_SIZE (memory);
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(GObject) owner = g_object_new (G_TYPE_OBJECT, NULL);
  const char bad_utf8[] = { 'x', (char) 0xff, 0 };
  GError *error = NULL;

  g_assert_false (st_file_set_tensor_from_data (file, "t1", (STDType) 999, s2, 1, address, 2, owner, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_DTYPE);
  g_assert_nonnull (strstr (error->message, "“t1”"));
  g_clear_error (&error);

  g_assert_false (st_file_set_tensor_from_data (file, "t2", ST_DTYPE_U8, negative, 2, address, 0, owner, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE);
  g_assert_nonnull (strstr (error->message, "“t2”"));
  g_clear_error (&error);

  g_assert_false (st_file_set_tensor_from_data (file, "t3", ST_DTYPE_U8, huge, 2, address, 0, owner, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE);
  g_clear_error (&error);

  g_assert_false (st_file_set_tensor_from_data (file, "t4", ST_DTYPE_F4, s3, 1, address, 1, owner, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE);
  g_assert_nonnull (strstr (error->message, "“t4”"));
  g_clear_error (&error);

  g_assert_false (st_file_set_tensor_from_data (file, "t5", ST_DTYPE_F32, s2, 1, address, 7, owner, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "“t5”"));
  g_assert_nonnull (strstr (error->message, "expected 8 bytes, got 7"));
  g_clear_error (&error);

  g_assert_false (st_file_set_tensor_from_data (file, "t6", ST_DTYPE_F32, s2, 1, 0, 8, owner, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“t6”"));
  g_clear_error (&error);

  g_assert_false (st_file_set_tensor_from_data (file, "t7", ST_DTYPE_U8, s2, 1, G_MAXUINT64, 2, owner, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (st_file_set_tensor_from_data (file, "__metadata__", ST_DTYPE_F32, s2, 1, address, 8, owner,
                                                &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_NAME);
  g_clear_error (&error);

  g_assert_false (st_file_set_tensor_from_data (file, bad_utf8, ST_DTYPE_F32, s2, 1, address, 8, owner, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_NAME);
  g_clear_error (&error);

  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 0);
  g_assert_cmpuint (owner->ref_count, ==, 1);

  /* Accepted: no bytes at address 0 (an empty tensor), and a scalar without a shape array. */
  g_assert_true (st_file_set_tensor_from_data (file, "empty", ST_DTYPE_F32, s0, 1, 0, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (st_file_set_tensor_from_data (file, "scalar", ST_DTYPE_I64, NULL, 0, address, 8, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st_tensor_get_n_bytes (st_file_get_tensor (file, "empty")), ==, 0);
  g_assert_cmpuint (st_tensor_get_n_dims (st_file_get_tensor (file, "scalar")), ==, 0);
  g_assert_cmpuint (st_tensor_get_data_address (st_file_get_tensor (file, "scalar")), ==, address);
}

/* The owner is referenced exactly while something uses its memory: the entry, a tensor made from it,
 * a save in progress. */
static void
test_file_set_from_data_owner (void)
{
  const gint64 s4[] = { 4 };
  guint8 a_data[16], b_data[16], d_data[16];
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "owned.safetensors", NULL);
  STFile *file = st_file_new ();
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *watch = owner;
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) reloaded = NULL;
  STTensor *b_tensor;
  AsyncData data;

  for (guint i = 0; i < 16; i++)
    {
      a_data[i] = (guint8) i;
      b_data[i] = (guint8) (100 + i);
      d_data[i] = (guint8) (200 + i);
    }
  g_object_add_weak_pointer (owner, (gpointer *) &watch);

  g_assert_true (st_file_set_tensor_from_data (file, "a", ST_DTYPE_F32, s4, 1, (guint64) GPOINTER_TO_SIZE (a_data),
                                               16, owner, &error));
  g_assert_cmpuint (owner->ref_count, ==, 2);
  g_assert_true (st_file_set_tensor_from_data (file, "b", ST_DTYPE_F32, s4, 1, (guint64) GPOINTER_TO_SIZE (b_data),
                                               16, owner, &error));
  g_assert_cmpuint (owner->ref_count, ==, 3);

  /* A tensor made from the entry holds the owner through its bytes. */
  b_tensor = g_object_ref (st_file_get_tensor (file, "b"));
  g_assert_cmpuint (owner->ref_count, ==, 4);

  /* Replacing drops the entry's reference; a failed call takes none. */
  g_assert_true (st_file_set_tensor_from_data (file, "a", ST_DTYPE_F32, s4, 1, (guint64) GPOINTER_TO_SIZE (a_data),
                                               16, NULL, &error));
  g_assert_cmpuint (owner->ref_count, ==, 3);
  g_assert_false (st_file_set_tensor_from_data (file, "c", ST_DTYPE_F32, s4, 1, (guint64) GPOINTER_TO_SIZE (a_data),
                                                15, owner, &error));
  g_clear_error (&error);
  g_assert_cmpuint (owner->ref_count, ==, 3);

  /* Removing the entry leaves the tensor handed out valid, with its memory's owner. */
  g_assert_true (st_file_remove_tensor (file, "b"));
  g_assert_cmpuint (owner->ref_count, ==, 2);
  g_assert_cmpmem (st_tensor_get_data (b_tensor, NULL), 16, b_data, 16);
  g_object_unref (b_tensor);
  g_assert_cmpuint (owner->ref_count, ==, 1);

  /* A save in progress holds the owner of what it writes, even when the file lets go of it. */
  g_assert_true (st_file_set_tensor_from_data (file, "d", ST_DTYPE_F32, s4, 1, (guint64) GPOINTER_TO_SIZE (d_data),
                                               16, owner, &error));
  g_assert_cmpuint (owner->ref_count, ==, 2);
  async_data_init (&data);
  st_file_save_to_path_async (file, path, NULL, on_ready, &data);
  add_tensor (file, "d", ST_DTYPE_U8, s4, 1, 7);
  g_assert_cmpuint (owner->ref_count, ==, 2);
  async_data_wait (&data);
  g_assert_true (st_file_save_to_path_finish (file, data.result, &error));
  g_assert_no_error (error);
  async_data_clear (&data);
  /* The worker thread drops its reference on the task (and so the plan) just after returning: wait. */
  for (guint waited = 0; owner->ref_count > 1 && waited < 10000; waited++)
    g_usleep (1000);
  g_assert_cmpuint (owner->ref_count, ==, 1);

  reloaded = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (st_tensor_get_dtype (st_file_get_tensor (reloaded, "d")), ==, ST_DTYPE_F32);
  g_assert_cmpmem (st_tensor_get_data (st_file_get_tensor (reloaded, "d"), NULL), 16, d_data, 16);

  /* The last entry over the owner goes with the file. */
  g_assert_true (st_file_set_tensor_from_data (file, "e", ST_DTYPE_F32, s4, 1, (guint64) GPOINTER_TO_SIZE (d_data),
                                               16, owner, &error));
  g_assert_cmpuint (owner->ref_count, ==, 2);
  g_object_unref (file);
  g_assert_cmpuint (owner->ref_count, ==, 1);
  g_object_unref (owner);
  g_assert_null (watch);
  st_test_rm_rf (dir);
}

typedef struct {
  STFile       *file;
  const gint64 *expected;
  gsize         n_expected;
  char        **names;
  guint         n_names;
} LayoutThreadData;

static gpointer
layout_thread (gpointer user_data)
{
  LayoutThreadData *data = user_data;

  for (guint round = 0; round < 20; round++)
    {
      g_autofree gint64 *values = NULL;
      gsize n_values = 0;

      values = st_file_dup_layout (data->file, &n_values);
      g_assert_cmpmem (values, n_values * sizeof (gint64), data->expected, data->n_expected * sizeof (gint64));
      for (guint i = round % 3; i < data->n_names; i += 3)
        g_assert_nonnull (st_file_get_tensor (data->file, data->names[i]));
    }
  return NULL;
}

/* dup_layout beside other readers (which make the loaded tensors) in several threads. */
static void
test_file_layout_threads (void)
{
  g_autoptr(STFile) source = st_file_new ();
  g_autoptr(STFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree gint64 *expected = NULL;
  GThread *threads[4];
  LayoutThreadData data;

  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%03u", i);
      const gint64 shape[] = { 1 + i % 5, 2 };

      add_tensor (source, name, i % 2 ? ST_DTYPE_F32 : ST_DTYPE_I16, shape, 1 + i % 2, (guint8) i);
    }
  bytes = save_to_bytes (source);
  file = load_bytes (bytes);

  data.file = file;
  data.names = st_file_dup_names_in_file_order (file);
  data.n_names = g_strv_length (data.names);
  expected = st_file_dup_layout (file, &data.n_expected);
  data.expected = expected;
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("layout", layout_thread, &data);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_strfreev (data.names);
}

/* A GFile with no local path (here a GResource compiled into this test) is read as a stream: same
 * tensors as the mapped file, same verdict on a hostile one, and the same through the async stream load. */
static void
test_file_gfile_not_native (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fixtures = st_test_fixtures_dir ();
  g_autofree char *path = g_build_filename (fixtures, "valid", "all_dtypes.safetensors", NULL);
  g_autoptr(GFile) resource = g_file_new_for_uri ("resource:///org/gnome/safetensors-glib/tests/valid/all_dtypes.safetensors");
  g_autoptr(GFile) hostile = g_file_new_for_uri ("resource:///org/gnome/safetensors-glib/tests/invalid/offsets_overlap.safetensors");
  g_autoptr(STFile) mapped = NULL;
  g_autoptr(STFile) streamed = NULL;
  g_autoptr(STFile) rejected = NULL;
  g_auto(GStrv) names = NULL;

  g_assert_null (g_file_get_path (resource));

  mapped = st_file_new_from_path (path, &error);
  g_assert_no_error (error);
  streamed = st_file_new_from_gfile (resource, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (streamed);

  g_assert_cmpuint (st_file_get_n_tensors (streamed), ==, st_file_get_n_tensors (mapped));
  g_assert_cmpuint (st_file_get_header_size (streamed), ==, st_file_get_header_size (mapped));
  names = st_file_dup_names_sorted (mapped);
  for (guint i = 0; names[i] != NULL; i++)
    g_assert_true (st_tensor_equal (st_file_get_tensor (mapped, names[i]),
                                    st_file_get_tensor (streamed, names[i])));

  rejected = st_file_new_from_gfile (hostile, NULL, &error);
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS);
  g_assert_null (rejected);
  g_clear_error (&error);

  /* A GFile that does not exist: GIO's not-found error, passed through. */
  {
    g_autoptr(GFile) missing = g_file_new_for_uri ("resource:///org/gnome/safetensors-glib/tests/none.safetensors");
    g_autoptr(STFile) none = st_file_new_from_gfile (missing, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/file/empty", test_file_empty);
  g_test_add_func ("/file/map/set-get-remove", test_file_set_get_remove);
  g_test_add_func ("/file/map/invalid-name", test_file_set_invalid_name);
  g_test_add_func ("/file/metadata", test_file_metadata);
  g_test_add_func ("/file/metadata/copied", test_file_metadata_copied);
  g_test_add_func ("/file/map/ordered-names", test_file_ordered_names);
  g_test_add_func ("/file/map/layout", test_file_layout);
  g_test_add_func ("/file/map/set-tensor-from-data", test_file_set_tensor_from_data);
  g_test_add_func ("/file/load/sources", test_file_load_sources);
  g_test_add_func ("/file/load/tensor-outlives-file", test_file_tensor_outlives_file);
  g_test_add_func ("/file/load/private-mapping", test_file_private_mapping);
  g_test_add_func ("/file/load/missing", test_file_load_missing);
  g_test_add_func ("/file/load/zero-length", test_file_load_zero_length);
  g_test_add_func ("/file/load/error-names-path", test_file_load_error_names_path);
  g_test_add_func ("/file/load/not-regular", test_file_load_not_regular);
  g_test_add_func ("/file/load/trailing-bytes", test_file_load_trailing_bytes);
  g_test_add_func ("/file/load/truncated", test_file_load_truncated);
  g_test_add_func ("/file/stream/short-reads", test_file_stream_short_reads);
  g_test_add_func ("/file/stream/io-error", test_file_stream_io_error);
  g_test_add_func ("/file/stream/hostile-claims", test_file_stream_hostile_claims);
  g_test_add_func ("/file/stream/cancelled", test_file_stream_cancelled);
  g_test_add_func ("/file/stream/endless", test_file_stream_endless);
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
  g_test_add_func ("/file/async/load-save", test_file_async_load_save);
  g_test_add_func ("/file/async/errors", test_file_async_errors);
  g_test_add_func ("/file/async/cancelled", test_file_async_cancelled);
  g_test_add_func ("/file/async/cancel-midway", test_file_async_cancel_midway);
  g_test_add_func ("/file/async/save-over-own-source", test_file_async_save_over_own_source);
  g_test_add_func ("/file/async/cancel-after-save", test_file_async_cancel_after_save);

  g_test_add_func ("/file/bulk/layout-loaded", test_file_layout_loaded);
  g_test_add_func ("/file/bulk/layout-edited", test_file_layout_edited);
  g_test_add_func ("/file/bulk/layout-threads", test_file_layout_threads);
  g_test_add_func ("/file/bulk/set-from-data-saves", test_file_set_from_data_saves);
  g_test_add_func ("/file/bulk/set-from-data-errors", test_file_set_from_data_errors);
  g_test_add_func ("/file/bulk/set-from-data-owner", test_file_set_from_data_owner);
  g_test_add_func ("/file/gfile/not-native", test_file_gfile_not_native);

  return g_test_run ();
}
