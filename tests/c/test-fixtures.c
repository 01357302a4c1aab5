/* test-fixtures.c: the fixture runner
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * For every entry of tests/fixtures/manifest.json: a file that must load gives exactly the tensors (dtype,
 * shape, data offsets, sha256 of the bytes) and metadata the manifest lists, from a path, from bytes, from a
 * GFile and from a stream, and saving it gives exactly its canonical/ bytes; a file that must fail fails with
 * an ST_ERROR (and, for path and bytes, the code the format's rules give), never a crash. Every file in
 * valid/, invalid/ and canonical/ must be named by the manifest: a fixture dropped in without a verdict fails.
 */
#include "st-test-util.h"

#include <json-glib/json-glib.h>

static char *fixtures_dir;
static JsonNode *manifest;

/* The error code each invalid fixture must give when loaded from a path or bytes, from the rules of
 * design.md and the codes of st-error.h. Where two codes are both right, either is accepted. A fixture not
 * listed here must still fail in the ST_ERROR domain. */
typedef struct {
  const char *name;
  int         code;
  int         alt_code;  /* or -1 */
} ExpectedError;

static const ExpectedError expected_errors[] = {
  { "too_small", ST_ERROR_HEADER_TOO_SMALL, -1 },
  { "header_len_zero", ST_ERROR_INVALID_HEADER, -1 },
  { "header_len_past_eof", ST_ERROR_HEADER_TOO_LARGE, -1 },
  { "header_too_large", ST_ERROR_HEADER_TOO_LARGE, -1 },
  { "header_not_utf8", ST_ERROR_INVALID_HEADER, -1 },
  { "header_array", ST_ERROR_INVALID_HEADER, -1 },
  { "header_whitespace_only", ST_ERROR_INVALID_HEADER, -1 },
  { "header_truncated_json", ST_ERROR_INVALID_HEADER, -1 },
  { "header_trailing_garbage", ST_ERROR_INVALID_HEADER, -1 },
  { "json_comment", ST_ERROR_INVALID_HEADER, -1 },
  { "json_trailing_comma", ST_ERROR_INVALID_HEADER, -1 },
  /* nesting too deep, or __metadata__ that is not an object: both are true */
  { "json_deep_nesting_meta", ST_ERROR_INVALID_HEADER, ST_ERROR_INVALID_METADATA },
  { "dtype_unknown", ST_ERROR_INVALID_DTYPE, -1 },
  { "shape_negative", ST_ERROR_INVALID_SHAPE, -1 },
  { "shape_float", ST_ERROR_INVALID_SHAPE, -1 },
  { "shape_string", ST_ERROR_INVALID_SHAPE, -1 },
  { "shape_overflow", ST_ERROR_INVALID_SHAPE, -1 },
  { "missing_shape", ST_ERROR_INVALID_HEADER, -1 },
  { "duplicate_field", ST_ERROR_DUPLICATE_NAME, -1 },
  { "offsets_three", ST_ERROR_INVALID_OFFSETS, -1 },
  { "offsets_reversed", ST_ERROR_INVALID_OFFSETS, -1 },
  { "offsets_size_mismatch", ST_ERROR_INVALID_OFFSETS, -1 },
  { "offsets_hole", ST_ERROR_INVALID_OFFSETS, -1 },
  { "offsets_overlap", ST_ERROR_INVALID_OFFSETS, -1 },
  { "trailing_bytes_polyglot", ST_ERROR_INCOMPLETE_BUFFER, -1 },
  { "data_truncated", ST_ERROR_INCOMPLETE_BUFFER, -1 },
  { "sub_byte_misaligned", ST_ERROR_MISALIGNED_SUB_BYTE, -1 },
  { "metadata_int_value", ST_ERROR_INVALID_METADATA, -1 },
  { "metadata_twice", ST_ERROR_DUPLICATE_NAME, -1 },
  { "duplicate_name_diff_offsets", ST_ERROR_DUPLICATE_NAME, -1 },
  { "duplicate_name_same_offsets", ST_ERROR_DUPLICATE_NAME, -1 },
  { "abuse_many_same_offsets", ST_ERROR_INVALID_OFFSETS, -1 },
};

typedef enum {
  SOURCE_PATH,
  SOURCE_BYTES,
  SOURCE_GFILE,
  SOURCE_STREAM,
  N_SOURCES
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

static gint64
json_int (JsonNode *node)
{
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  return json_node_get_int (node);
}

static void
check_tensors (STFile *file, JsonObject *tensors)
{
  g_autoptr(GList) names = json_object_get_members (tensors);
  g_auto(GStrv) file_names = st_file_dup_names_sorted (file);

  g_assert_cmpuint (st_file_get_n_tensors (file), ==, g_list_length (names));
  g_assert_cmpuint (g_strv_length (file_names), ==, g_list_length (names));

  for (GList *l = names; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonObject *expected = json_object_get_object_member (tensors, name);
      JsonArray *shape = json_object_get_array_member (expected, "shape");
      JsonArray *offsets = json_object_get_array_member (expected, "data_offsets");
      STTensor *tensor = st_file_get_tensor (file, name);
      g_autofree char *sha = NULL;
      const gint64 *got_shape;
      guint n_dims = 0;
      guint64 begin = 0, end = 0;

      g_assert_nonnull (tensor);
      g_assert_true (st_file_contains (file, name));
      g_assert_cmpstr (st_dtype_to_string (st_tensor_get_dtype (tensor)), ==,
                       json_object_get_string_member (expected, "dtype"));

      got_shape = st_tensor_get_shape (tensor, &n_dims);
      g_assert_cmpuint (n_dims, ==, json_array_get_length (shape));
      for (guint d = 0; d < n_dims; d++)
        g_assert_cmpint (got_shape[d], ==, json_int (json_array_get_element (shape, d)));

      g_assert_true (st_file_get_tensor_offsets (file, name, &begin, &end));
      g_assert_cmpuint (json_array_get_length (offsets), ==, 2);
      g_assert_cmpuint (begin, ==, (guint64) json_int (json_array_get_element (offsets, 0)));
      g_assert_cmpuint (end, ==, (guint64) json_int (json_array_get_element (offsets, 1)));
      g_assert_cmpuint (st_tensor_get_n_bytes (tensor), ==, end - begin);

      sha = st_test_tensor_sha256 (tensor);
      g_assert_cmpstr (sha, ==, json_object_get_string_member (expected, "sha256"));
    }
}

static void
check_metadata (STFile *file, JsonNode *expected)
{
  g_autoptr(GHashTable) metadata = st_file_has_metadata (file) ? st_file_dup_metadata (file) : NULL;
  JsonObject *object;
  g_autoptr(GList) keys = NULL;

  if (expected == NULL || JSON_NODE_HOLDS_NULL (expected))
    {
      g_assert_null (metadata);
      return;
    }
  object = json_node_get_object (expected);
  keys = json_object_get_members (object);
  g_assert_nonnull (metadata);
  g_assert_cmpuint (g_hash_table_size (metadata), ==, g_list_length (keys));
  for (GList *l = keys; l != NULL; l = l->next)
    {
      g_assert_cmpstr (g_hash_table_lookup (metadata, l->data), ==, json_object_get_string_member (object, l->data));
      g_assert_cmpstr (st_file_get_metadata_value (file, l->data), ==,
                       json_object_get_string_member (object, l->data));
    }
}

static void
test_valid (gconstpointer data)
{
  JsonObject *entry = (JsonObject *) data;
  g_autofree char *path = g_build_filename (fixtures_dir, json_object_get_string_member (entry, "file"), NULL);
  g_autoptr(GBytes) contents = st_test_read_file (path);
  const char *canonical_name = json_object_get_string_member_with_default (entry, "canonical", NULL);
  g_autoptr(GBytes) canonical = NULL;

  g_assert_cmpstr (json_object_get_string_member (entry, "expect"), ==, "ok");
  if (canonical_name != NULL)
    {
      g_autofree char *canonical_path = g_build_filename (fixtures_dir, canonical_name, NULL);
      canonical = st_test_read_file (canonical_path);
    }

  for (Source source = 0; source < N_SOURCES; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, contents, &error);

      st_test_note ("%s from %s", path, source_names[source]);
      g_assert_no_error (error);
      g_assert_nonnull (file);
      check_tensors (file, json_object_get_object_member (entry, "tensors"));
      check_metadata (file, json_object_get_member (entry, "metadata"));

      if (canonical != NULL)
        {
          g_autoptr(GBytes) saved = st_file_save_to_bytes (file, &error);

          g_assert_no_error (error);
          st_test_assert_bytes_equal (saved, canonical);
        }
      else
        {
          /* no canonical file: saving still gives bytes that load back to the same tensors */
          g_autoptr(GBytes) saved = st_file_save_to_bytes (file, &error);
          g_autoptr(STFile) reloaded = NULL;

          g_assert_no_error (error);
          reloaded = st_file_new_from_bytes (saved, &error);
          g_assert_no_error (error);
          st_test_assert_files_equal (reloaded, file);
        }
    }

  /* the canonical file is itself valid, holds the same tensors, and is a fixed point of the writer */
  if (canonical != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = st_file_new_from_bytes (canonical, &error);
      g_autoptr(GBytes) saved = NULL;

      g_assert_no_error (error);
      check_metadata (file, json_object_get_member (entry, "metadata"));
      saved = st_file_save_to_bytes (file, &error);
      g_assert_no_error (error);
      st_test_assert_bytes_equal (saved, canonical);
      {
        g_autoptr(STFile) original = st_file_new_from_bytes (contents, &error);

        g_assert_no_error (error);
        st_test_assert_files_equal (file, original);
      }
    }
}

static const ExpectedError *
find_expected_error (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (expected_errors); i++)
    if (g_str_equal (expected_errors[i].name, name))
      return &expected_errors[i];
  return NULL;
}

static void
test_invalid (gconstpointer data)
{
  JsonObject *entry = (JsonObject *) data;
  const char *name = json_object_get_string_member (entry, "st-test-name");
  g_autofree char *path = g_build_filename (fixtures_dir, json_object_get_string_member (entry, "file"), NULL);
  g_autoptr(GBytes) contents = st_test_read_file (path);
  const ExpectedError *expected = find_expected_error (name);

  g_assert_cmpstr (json_object_get_string_member (entry, "expect"), ==, "error");
  if (expected == NULL)
    st_test_note ("%s: no expected code listed, checking the domain only", name);

  for (Source source = 0; source < N_SOURCES; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, contents, &error);

      g_assert_null (file);
      g_assert_nonnull (error);
      st_test_note ("%s from %s: %s (code %d)", name, source_names[source], error->message, error->code);
      g_assert_cmpstr (g_quark_to_string (error->domain), ==, g_quark_to_string (ST_ERROR));
      g_assert_cmpstr (error->message, !=, "");

      /* A stream does not know its length in advance, so where the input ends early or runs long the code
       * may be another one of the family: only path and bytes are held to the exact code. */
      if (expected != NULL && (source == SOURCE_PATH || source == SOURCE_BYTES))
        {
          if (error->code != expected->code && error->code != expected->alt_code)
            g_test_fail_printf ("%s from %s: expected ST_ERROR code %d%s, got %d: %s", name, source_names[source],
                     expected->code, expected->alt_code != -1 ? " (or the alternative)" : "",
                     error->code, error->message);
        }
    }
}

static void
add_entries (JsonObject *section, const char *section_name, GHashTable *referenced)
{
  g_autoptr(GList) names = json_object_get_members (section);

  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *entry = json_object_get_object_member (section, l->data);
      const char *expect = json_object_get_string_member (entry, "expect");
      g_autofree char *test_path = g_strdup_printf ("/fixtures/%s/%s", section_name, (const char *) l->data);

      json_object_set_string_member (entry, "st-test-name", l->data);
      g_hash_table_add (referenced, g_strdup (json_object_get_string_member (entry, "file")));
      if (json_object_has_member (entry, "canonical"))
        g_hash_table_add (referenced, g_strdup (json_object_get_string_member (entry, "canonical")));

      if (g_str_equal (expect, "ok"))
        g_test_add_data_func (test_path, entry, test_valid);
      else if (g_str_equal (expect, "error"))
        g_test_add_data_func (test_path, entry, test_invalid);
      else
        g_error ("manifest entry %s: unknown expect \"%s\"", (const char *) l->data, expect);
    }
}

/* Every file in the fixture folders has a verdict in the manifest, and every file the manifest names exists. */
static void
test_coverage (gconstpointer data)
{
  GHashTable *referenced = (GHashTable *) data;
  const char *folders[] = { "valid", "invalid", "canonical" };
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key;
  guint unlisted = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (folders); i++)
    {
      g_autofree char *folder = g_build_filename (fixtures_dir, folders[i], NULL);
      g_auto(GStrv) names = st_test_list_dir (folder);

      for (guint j = 0; names[j] != NULL; j++)
        {
          char *relative = g_build_filename (folders[i], names[j], NULL);

          if (!g_hash_table_contains (referenced, relative))
            {
              st_test_note ("fixture %s has no entry in manifest.json", relative);
              unlisted++;
            }
          g_hash_table_add (seen, relative);
        }
    }
  g_assert_cmpuint (unlisted, ==, 0);

  g_hash_table_iter_init (&iter, referenced);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (!g_hash_table_contains (seen, key))
        g_test_fail_printf ("manifest.json names %s, which is not in the fixture folders", (const char *) key);
    }
  g_assert_cmpuint (g_hash_table_size (seen), >=, 60);
}

int
main (int argc, char *argv[])
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest_path = NULL;
  g_autoptr(GHashTable) referenced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonObject *root;
  int status;

  g_test_init (&argc, &argv, NULL);

  fixtures_dir = st_test_fixtures_dir ();
  manifest_path = g_build_filename (fixtures_dir, "manifest.json", NULL);
  json_parser_load_from_file (parser, manifest_path, &error);
  g_assert_no_error (error);
  manifest = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (manifest));
  root = json_node_get_object (manifest);

  add_entries (json_object_get_object_member (root, "valid"), "valid", referenced);
  add_entries (json_object_get_object_member (root, "invalid"), "invalid", referenced);
  g_test_add_data_func ("/fixtures/coverage", referenced, test_coverage);

  status = g_test_run ();
  g_free (fixtures_dir);
  return status;
}
