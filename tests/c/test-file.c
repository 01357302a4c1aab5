/* test-file.c: STFile as a map: tensors, names, metadata, the layout calls for bindings
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

/* The names in one buffer (st-file-bulk.c): the names of st_file_dup_names_in_file_order(), in
 * file order, each followed by a NUL, with the bytes of a hand-written file as the expectation. */
static void
test_file_bulk_names (void)
{
  /* Data order b, café, a: not the order of the header, nor the sorted one. */
  const char *header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[4,8]},"
                       "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                       "\"caf\xc3\xa9\":{\"dtype\":\"I16\",\"shape\":[],\"data_offsets\":[2,4]}}";
  const guint8 data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  const char expected_names[] = "b\0caf\xc3\xa9\0a";  /* plus the literal's own final NUL */
  const gint64 s3x2[] = { 3, 2 };
  g_autoptr(GBytes) bytes = st_test_make_file_full (strlen (header), header, strlen (header), data, 8);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_bytes (bytes, &error);
  g_autoptr(STFile) empty = st_file_new ();
  g_autoptr(GBytes) names = NULL;
  g_autoptr(GBytes) empty_names = st_file_dup_names_bytes (empty);

  g_assert_no_error (error);
  names = st_file_dup_names_bytes (file);
  g_assert_cmpmem (g_bytes_get_data (names, NULL), g_bytes_get_size (names), expected_names, sizeof expected_names);

  /* A file without tensors: an empty buffer, not NULL. */
  g_assert_nonnull (empty_names);
  g_assert_cmpuint (g_bytes_get_size (empty_names), ==, 0);

  /* A tensor set after loading comes last; a buffer taken before does not change. */
  add_tensor (file, "added", ST_DTYPE_I16, s3x2, 2, 9);
  g_assert_cmpmem (g_bytes_get_data (names, NULL), g_bytes_get_size (names), expected_names, sizeof expected_names);
  g_clear_pointer (&names, g_bytes_unref);
  names = st_file_dup_names_bytes (file);
  g_assert_cmpmem (g_bytes_get_data (names, NULL), g_bytes_get_size (names),
                   "b\0caf\xc3\xa9\0a\0added", sizeof expected_names + 6);
}

/* The runs (st-file-bulk.c) of a hand-written file: equal shapes end to end join, a change of shape
 * or dtype, an empty tensor and a tensor set since loading each start a run of their own. */
static void
test_file_bulk_runs (void)
{
  const char *header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                       "\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
                       "\"d\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]},"
                       "\"e\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[36,48]},"
                       "\"f\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[48,60]},"
                       "\"s1\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[60,61]},"
                       "\"s2\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[61,62]},"
                       "\"z\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[62,62]}}";
  guint8 data[62] = { 0 };
  const gint64 expected[] = {
    3, ST_DTYPE_F32, 0, 24, 1, 2,
    1, ST_DTYPE_F32, 24, 36, 1, 3,
    2, ST_DTYPE_I32, 36, 60, 1, 3,
    2, ST_DTYPE_U8, 60, 62, 0,
    1, ST_DTYPE_I32, 62, 62, 2, 2, 0,
  };
  /* "b" replaced (in place in file order) and "added" set: the run of a, b, c falls apart. */
  const gint64 edited[] = {
    1, ST_DTYPE_F32, 0, 8, 1, 2,
    1, ST_DTYPE_F32, -1, -1, 1, 2,
    1, ST_DTYPE_F32, 16, 24, 1, 2,
    1, ST_DTYPE_F32, 24, 36, 1, 3,
    2, ST_DTYPE_I32, 36, 60, 1, 3,
    2, ST_DTYPE_U8, 60, 62, 0,
    1, ST_DTYPE_I32, 62, 62, 2, 2, 0,
    1, ST_DTYPE_F32, -1, -1, 1, 2,
  };
  const gint64 s2[] = { 2 };
  g_autoptr(GBytes) bytes = st_test_make_file_full (strlen (header), header, strlen (header), data, sizeof data);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_bytes (bytes, &error);
  g_autoptr(STFile) empty = st_file_new ();
  g_autofree gint64 *runs = NULL;
  gsize n_values = 12345;
  g_autofree gint64 *empty_runs = st_file_dup_runs (empty, &n_values);

  g_assert_null (empty_runs);
  g_assert_cmpuint (n_values, ==, 0);
  g_assert_no_error (error);
  runs = st_file_dup_runs (file, &n_values);
  g_assert_cmpmem (runs, n_values * sizeof (gint64), expected, sizeof expected);

  add_tensor (file, "b", ST_DTYPE_F32, s2, 1, 3);
  add_tensor (file, "added", ST_DTYPE_F32, s2, 1, 4);
  g_clear_pointer (&runs, g_free);
  runs = st_file_dup_runs (file, &n_values);
  g_assert_cmpmem (runs, n_values * sizeof (gint64), edited, sizeof edited);
}

/* Four tensors a, b, c and d, one U8 byte each (1, 2, 3 and 4), in name and data order: bytes written by
 * hand. */
static GBytes *
make_abcd_file (void)
{
  const char *header = "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                       "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]},"
                       "\"c\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]},"
                       "\"d\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[3,4]}}";
  const guint8 data[] = { 1, 2, 3, 4 };

  return st_test_make_file_full (strlen (header), header, strlen (header), data, 4);
}

/* Lookups by name stay right whatever order they come in and whatever was edited in between: STFile
 * tries the entry after the one it last found before its index (a guess for callers that go in file
 * order), and a stale guess must never give another tensor or a removed one (make_abcd_file()). */
static void
test_file_lookup_order (void)
{
  const guint8 nine = 9, five = 5;
  const gint64 shape[] = { 1 };
  g_autoptr(GBytes) bytes = make_abcd_file ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_bytes (bytes, &error);
  g_autoptr(STFile) other = NULL;
  g_autoptr(GBytes) nine_bytes = g_bytes_new_static (&nine, 1);
  g_autoptr(GBytes) five_bytes = g_bytes_new_static (&five, 1);
  g_autoptr(STTensor) replacement = NULL;
  g_autoptr(STTensor) added = NULL;
  const char *forward[] = { "a", "b", "c", "d" };
  const char *backward[] = { "d", "c", "b", "a" };

#define VALUE_OF(f, name) (*(const guint8 *) st_tensor_get_data (st_file_get_tensor ((f), (name)), NULL))

  g_assert_no_error (error);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (VALUE_OF (file, forward[i]), ==, i + 1);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (VALUE_OF (file, backward[i]), ==, 4 - i);
  g_assert_null (st_file_get_tensor (file, "e"));

  /* after b, the guess is c: removed, it is not found, and d is still d */
  g_assert_cmpuint (VALUE_OF (file, "b"), ==, 2);
  g_assert_true (st_file_remove_tensor (file, "c"));
  g_assert_null (st_file_get_tensor (file, "c"));
  g_assert_false (st_file_contains (file, "c"));
  g_assert_cmpuint (VALUE_OF (file, "b"), ==, 2);
  g_assert_cmpuint (VALUE_OF (file, "d"), ==, 4);

  /* b replaced: the new tensor, found after a as well as on its own */
  replacement = st_tensor_new (ST_DTYPE_U8, shape, 1, nine_bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (VALUE_OF (file, "a"), ==, 1);
  g_assert_true (st_file_set_tensor (file, "b", replacement, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (VALUE_OF (file, "a"), ==, 1);
  g_assert_true (st_file_get_tensor (file, "b") == replacement);
  g_assert_cmpuint (VALUE_OF (file, "d"), ==, 4);

  /* a removed: every position moves, and each name still gives its own tensor */
  g_assert_true (st_file_remove_tensor (file, "a"));
  g_assert_null (st_file_get_tensor (file, "a"));
  g_assert_true (st_file_get_tensor (file, "b") == replacement);
  g_assert_cmpuint (VALUE_OF (file, "d"), ==, 4);
  g_assert_null (st_file_get_tensor (file, "a"));

  /* a tensor added after the load, after the last loaded one */
  added = st_tensor_new (ST_DTYPE_U8, shape, 1, five_bytes, &error);
  g_assert_no_error (error);
  g_assert_true (st_file_set_tensor (file, "e", added, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (VALUE_OF (file, "d"), ==, 4);
  g_assert_true (st_file_get_tensor (file, "e") == added);

  /* two files read in turn: each answers for itself */
  other = st_file_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (VALUE_OF (other, "a"), ==, 1);
  g_assert_cmpuint (VALUE_OF (file, "d"), ==, 4);
  g_assert_cmpuint (VALUE_OF (other, "b"), ==, 2);
  g_assert_null (st_file_get_tensor (file, "a"));
  g_assert_cmpuint (VALUE_OF (other, "c"), ==, 3);
  g_assert_true (st_file_get_tensor (file, "b") == replacement);
  g_assert_cmpuint (VALUE_OF (other, "d"), ==, 4);

#undef VALUE_OF
}

/* Edits of a loaded file looked into only in file order, before anything made it index its names: the
 * removed tensor is gone and every other name still gives its own, whichever order the lookups come
 * in after, and a replaced tensor keeps its place (make_abcd_file()). */
static void
test_file_edit_before_index (void)
{
  const guint8 nine = 9;
  const gint64 shape[] = { 1 };
  g_autoptr(GBytes) bytes = make_abcd_file ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_bytes (bytes, &error);
  g_autoptr(GBytes) nine_bytes = g_bytes_new_static (&nine, 1);
  g_autoptr(STTensor) replacement = NULL;
  g_auto(GStrv) names = NULL;
  const char *expected[] = { "a", "d", "b", NULL };

#define VALUE_OF(f, name) (*(const guint8 *) st_tensor_get_data (st_file_get_tensor ((f), (name)), NULL))

  g_assert_no_error (error);
  /* a, b in file order, then c removed where the guess after b finds it */
  g_assert_cmpuint (VALUE_OF (file, "a"), ==, 1);
  g_assert_cmpuint (VALUE_OF (file, "b"), ==, 2);
  g_assert_true (st_file_remove_tensor (file, "c"));
  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 3);

  /* b replaced right after a: in place, not added */
  replacement = st_tensor_new (ST_DTYPE_U8, shape, 1, nine_bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (VALUE_OF (file, "a"), ==, 1);
  g_assert_true (st_file_set_tensor (file, "b", replacement, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 3);

  /* out of order now, and c asked for first: not found, the others their own */
  g_assert_false (st_file_contains (file, "c"));
  g_assert_null (st_file_get_tensor (file, "c"));
  g_assert_cmpuint (VALUE_OF (file, "d"), ==, 4);
  g_assert_true (st_file_get_tensor (file, "b") == replacement);
  g_assert_cmpuint (VALUE_OF (file, "a"), ==, 1);
  g_assert_null (st_file_get_tensor (file, "c"));

  /* removed from the index made since: gone there too, and the file order is a, b, d */
  g_assert_true (st_file_remove_tensor (file, "b"));
  g_assert_false (st_file_remove_tensor (file, "b"));
  g_assert_null (st_file_get_tensor (file, "b"));
  g_assert_true (st_file_set_tensor (file, "b", replacement, &error));
  g_assert_no_error (error);
  names = st_file_dup_names_in_file_order (file);
  g_assert_cmpstrv (names, expected);

#undef VALUE_OF
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
  g_assert_true (st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error));
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

  reloaded = st_file_new_from_path (path, NULL, &error);
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
  st_file_save_to_path_async (file, path, ST_SAVE_FLAGS_NONE, NULL, on_ready, &data);
  add_tensor (file, "d", ST_DTYPE_U8, s4, 1, 7);
  g_assert_cmpuint (owner->ref_count, ==, 2);
  async_data_wait (&data);
  g_assert_true (st_file_save_to_path_finish (file, data.result, &error));
  g_assert_no_error (error);
  async_data_clear (&data);
  /* The worker thread drops its reference on the task (and so the plan) just after returning: wait for
   * that, with no time limit of our own (meson's timeout bounds a reference that is never dropped). */
  while (g_atomic_int_get (&owner->ref_count) > 1)
    g_thread_yield ();
  g_assert_cmpuint (owner->ref_count, ==, 1);

  reloaded = st_file_new_from_path (path, NULL, &error);
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
  g_test_add_func ("/file/map/lookup-order", test_file_lookup_order);
  g_test_add_func ("/file/map/edit-before-index", test_file_edit_before_index);
  g_test_add_func ("/file/map/set-tensor-from-data", test_file_set_tensor_from_data);
  g_test_add_func ("/file/bulk/layout-loaded", test_file_layout_loaded);
  g_test_add_func ("/file/bulk/names", test_file_bulk_names);
  g_test_add_func ("/file/bulk/runs", test_file_bulk_runs);
  g_test_add_func ("/file/bulk/layout-edited", test_file_layout_edited);
  g_test_add_func ("/file/bulk/layout-threads", test_file_layout_threads);
  g_test_add_func ("/file/bulk/set-from-data-saves", test_file_set_from_data_saves);
  g_test_add_func ("/file/bulk/set-from-data-errors", test_file_set_from_data_errors);
  g_test_add_func ("/file/bulk/set-from-data-owner", test_file_set_from_data_owner);

  return g_test_run ();
}
