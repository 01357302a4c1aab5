/* test-planned-save.c: STPlannedSave, a save whose tensor bytes other writers place
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The expected bytes are Hugging Face's (tests/fixtures/canonical: the files its writer makes for the
 * tensors of tests/fixtures/valid) or written out here by hand (the shard split, the headers and the
 * index of a small sharded save), never our writer's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <safetensors-glib/safetensors-glib.h>

#include "st-test-util.h"

static char *fixtures_dir;
static JsonObject *manifest_valid;

/* Writes @n bytes of @data at @offset of the file at @path, as another process would. */
static void
write_at (const char    *path,
          guint64        offset,
          gconstpointer  data,
          gsize          n)
{
  g_autoptr(GError) error = NULL;
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  guint64 range[3] = { offset, n, (guint64) GPOINTER_TO_SIZE (data) };

  g_assert_cmpint (fd, >=, 0);
  if (n > 0)
    g_assert_true (st_write_ranges (fd, range, 3, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (close (fd), ==, 0);
}

/* The names in @dir that a save leaves behind when it fails: hidden ones. */
static void
assert_no_debris (const char *dir)
{
  g_auto(GStrv) names = st_test_list_dir (dir);

  for (guint i = 0; names[i] != NULL; i++)
    if (names[i][0] == '.')
      g_test_fail_printf ("%s holds %s after the save", dir, names[i]);
}

/* For a fixture: the save planned from its manifest entry (tensors and metadata) gives Hugging Face's
 * header, size and offsets; bytes written at those offsets and committed give its file, byte for byte. */
static void
test_fixture (gconstpointer data)
{
  const char *fixture = data;
  JsonObject *entry = json_object_get_object_member (manifest_valid, fixture);
  JsonObject *tensors = json_object_get_object_member (entry, "tensors");
  JsonNode *metadata_node = json_object_get_member (entry, "metadata");
  g_autofree char *valid_path = g_build_filename (fixtures_dir, json_object_get_string_member (entry, "file"), NULL);
  g_autofree char *canonical_path = g_build_filename (fixtures_dir,
                                                      json_object_get_string_member (entry, "canonical"), NULL);
  g_autoptr(GBytes) canonical = st_test_read_file (canonical_path);
  const guint8 *expected = g_bytes_get_data (canonical, NULL);
  guint64 header_len = 8;
  g_autoptr(STPlannedSave) save = st_planned_save_new ("model", 0);
  g_autoptr(STFile) source = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) names = json_object_get_members (tensors);
  g_autoptr(GBytes) header = NULL;
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *out_path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(GBytes) written = NULL;

  for (guint i = 0; i < 8; i++)
    header_len += (guint64) expected[i] << (8 * i);

  if (metadata_node != NULL && !JSON_NODE_HOLDS_NULL (metadata_node))
    {
      JsonObject *metadata = json_node_get_object (metadata_node);
      g_autoptr(GHashTable) table = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GList) keys = json_object_get_members (metadata);

      for (GList *l = keys; l != NULL; l = l->next)
        g_hash_table_insert (table, l->data, (gpointer) json_object_get_string_member (metadata, l->data));
      st_planned_save_set_metadata (save, table);
    }
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *tensor = json_object_get_object_member (tensors, l->data);
      JsonArray *shape_array = json_object_get_array_member (tensor, "shape");
      guint n_dims = json_array_get_length (shape_array);
      g_autofree gint64 *shape = g_new (gint64, MAX (n_dims, 1));
      STDType dtype;

      g_assert_true (st_dtype_from_string (json_object_get_string_member (tensor, "dtype"), &dtype, &error));
      for (guint d = 0; d < n_dims; d++)
        shape[d] = json_array_get_int_element (shape_array, d);
      g_assert_true (st_planned_save_add_tensor (save, l->data, dtype, shape, n_dims, &error));
      g_assert_no_error (error);
    }

  g_assert_true (st_planned_save_lay_out (save, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st_planned_save_get_n_files (save), ==, 1);
  g_assert_cmpstr (st_planned_save_get_file_name (save, 0), ==, "model.safetensors");
  g_assert_cmpuint (st_planned_save_get_file_size (save, 0), ==, g_bytes_get_size (canonical));
  header = st_planned_save_get_header (save, 0);
  g_assert_cmpuint (g_bytes_get_size (header), ==, header_len);
  g_assert_cmpmem (g_bytes_get_data (header, NULL), header_len, expected, header_len);

  /* The bytes of each tensor, read from the fixture Hugging Face wrote, go where the plan says. */
  g_assert_true (st_planned_save_prepare (save, dir, &error));
  g_assert_no_error (error);
  source = st_file_new_from_path (valid_path, NULL, &error);
  g_assert_no_error (error);
  for (GList *l = names; l != NULL; l = l->next)
    {
      STTensor *tensor = st_file_get_tensor (source, l->data);
      gsize n = 0;
      gconstpointer bytes = st_tensor_get_data (tensor, &n);
      guint file = 99;
      guint64 offset = 0;

      g_assert_true (st_planned_save_locate (save, l->data, &file, &offset, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (file, ==, 0);
      g_assert_cmpuint (offset + n, <=, g_bytes_get_size (canonical));
      g_assert_cmpmem ((const guint8 *) expected + offset, n, bytes, n);
      write_at (st_planned_save_get_work_path (save, 0), offset, bytes, n);
    }
  g_assert_false (g_file_test (out_path, G_FILE_TEST_EXISTS));
  g_assert_true (st_planned_save_commit (save, ST_SAVE_FLAGS_SYNC, &error));
  g_assert_no_error (error);

  written = st_test_read_file (out_path);
  g_assert_true (g_bytes_equal (written, canonical));
  assert_no_debris (dir);
  st_test_rm_rf (dir);
}

static const char *const letters[] = { "a", "b", "c", "d", "e" };
static const gint64 sizes[] = { 4, 4, 10, 4, 4 };

/* Five U8 tensors of 4, 4, 10, 4 and 4 bytes in shards of at most 8 bytes, with {"format": "pt"}. */
static STPlannedSave *
make_sharded_save (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) metadata = g_hash_table_new (g_str_hash, g_str_equal);
  STPlannedSave *save = st_planned_save_new ("model", 8);

  g_hash_table_insert (metadata, "format", "pt");
  st_planned_save_set_metadata (save, metadata);
  for (guint i = 0; i < G_N_ELEMENTS (letters); i++)
    {
      g_assert_true (st_planned_save_add_tensor (save, letters[i], ST_DTYPE_U8, &sizes[i], 1, &error));
      g_assert_no_error (error);
    }
  return save;
}

/* The header Hugging Face writes for @json: its length, then the JSON padded with spaces to 8 bytes. */
static GBytes *
padded_header (const char *json)
{
  gsize len = strlen (json);
  gsize padded = (len + 7) / 8 * 8;
  guint8 *out = g_malloc (padded + 8);

  for (guint i = 0; i < 8; i++)
    out[i] = (guint8) ((guint64) padded >> (8 * i));
  memcpy (out + 8, json, len);
  memset (out + 8 + len, ' ', padded - len);
  return g_bytes_new_take (out, padded + 8);
}

/* Hugging Face's greedy split (transformers' shard_checkpoint, huggingface_hub's split_state_dict_into_shards):
 * "c", larger than 8 bytes, makes a shard at once; "a" and "b" fill the next; "d" and "e" the last. */
static void
test_sharded_layout (void)
{
  g_autoptr(STPlannedSave) save = make_sharded_save ();
  g_autoptr(GError) error = NULL;
  static const char *const files[] = {
    "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
  };
  static const char *const headers[] = {
    "{\"__metadata__\":{\"format\":\"pt\"},\"c\":{\"dtype\":\"U8\",\"shape\":[10],\"data_offsets\":[0,10]}}",
    "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
    "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
    "{\"__metadata__\":{\"format\":\"pt\"},\"d\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
    "\"e\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
  };
  static const guint expected_file[] = { 1, 1, 0, 2, 2 };
  static const guint64 expected_data_offset[] = { 0, 4, 0, 0, 4 };

  g_assert_true (st_planned_save_lay_out (save, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st_planned_save_get_n_files (save), ==, 3);
  for (guint k = 0; k < 3; k++)
    {
      g_autoptr(GBytes) expected = padded_header (headers[k]);
      g_autoptr(GBytes) header = st_planned_save_get_header (save, k);

      g_assert_cmpstr (st_planned_save_get_file_name (save, k), ==, files[k]);
      g_assert_cmpmem (g_bytes_get_data (header, NULL), g_bytes_get_size (header),
                       g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
      g_assert_cmpuint (st_planned_save_get_file_size (save, k), ==,
                        g_bytes_get_size (expected) + (k == 0 ? 10 : 8));
    }
  for (guint i = 0; i < G_N_ELEMENTS (letters); i++)
    {
      guint file = 99;
      guint64 offset = 0;
      g_autoptr(GBytes) expected = padded_header (headers[expected_file[i]]);

      g_assert_true (st_planned_save_locate (save, letters[i], &file, &offset, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (file, ==, expected_file[i]);
      g_assert_cmpuint (offset, ==, g_bytes_get_size (expected) + expected_data_offset[i]);
    }
  g_assert_false (st_planned_save_locate (save, "f", NULL, NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
}

/* Writes every tensor of @save, tensor i filled with @fill + i. */
static void
write_tensors (STPlannedSave *save,
               guint8         fill)
{
  for (guint i = 0; i < G_N_ELEMENTS (letters); i++)
    {
      g_autoptr(GError) error = NULL;
      guint8 bytes[10];
      guint file = 0;
      guint64 offset = 0;

      memset (bytes, fill + i, sizeof bytes);
      g_assert_true (st_planned_save_locate (save, letters[i], &file, &offset, &error));
      write_at (st_planned_save_get_work_path (save, file), offset, bytes, (gsize) sizes[i]);
    }
}

/* The index at @index_path reads every tensor back as write_tensors (save, @fill) wrote it. */
static void
assert_tensors_read_back (const char *index_path,
                          guint8      fill)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = st_index_new_from_path (index_path, NULL, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (letters); i++)
    {
      g_autoptr(STTensor) tensor = st_index_dup_tensor (index, letters[i], NULL, &error);
      gsize n = 0;
      const guint8 *bytes;

      g_assert_no_error (error);
      bytes = st_tensor_get_data (tensor, &n);
      g_assert_cmpuint (n, ==, (gsize) sizes[i]);
      for (gsize j = 0; j < n; j++)
        g_assert_cmpuint (bytes[j], ==, fill + i);
    }
}

/* A sharded commit replaces an older single file: the shards and transformers' index are in place,
 * the old file is gone, no hidden file is left, and the index reads every tensor back. */
static void
test_sharded_commit (void)
{
  g_autoptr(STPlannedSave) save = make_sharded_save ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *old_path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autofree char *index_text = NULL;
  g_auto(GStrv) entries = NULL;
  static const char expected_index[] =
    "{\n"
    "  \"metadata\": {\n"
    "    \"format\": \"pt\",\n"
    "    \"total_size\": 26\n"
    "  },\n"
    "  \"weight_map\": {\n"
    "    \"a\": \"model-00002-of-00003.safetensors\",\n"
    "    \"b\": \"model-00002-of-00003.safetensors\",\n"
    "    \"c\": \"model-00001-of-00003.safetensors\",\n"
    "    \"d\": \"model-00003-of-00003.safetensors\",\n"
    "    \"e\": \"model-00003-of-00003.safetensors\"\n"
    "  }\n"
    "}\n";
  static const char *const after[] = {
    "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
    "model.safetensors.index.json", NULL,
  };

  g_assert_true (g_file_set_contents (old_path, "old", 3, &error));
  g_assert_true (st_planned_save_prepare (save, dir, &error));
  g_assert_no_error (error);
  write_tensors (save, 0x40);
  g_assert_true (st_planned_save_commit (save, ST_SAVE_FLAGS_NONE, &error));
  g_assert_no_error (error);

  entries = st_test_list_dir (dir);
  g_assert_cmpstrv (entries, after);
  g_assert_true (g_file_get_contents (index_path, &index_text, NULL, &error));
  g_assert_cmpstr (index_text, ==, expected_index);

  assert_tensors_read_back (index_path, 0x40);
  st_test_rm_rf (dir);
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* The asynchronous pair does what the synchronous calls do: the shards Hugging Face's split gives,
 * the index, the tensors' bytes; a commit cancelled before it begins leaves the old file alone and
 * no work folder. */
static void
test_async (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *old_path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  static const char *const only_old[] = { "model.safetensors", NULL };
  static const char *const after[] = {
    "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
    "model.safetensors.index.json", NULL,
  };

  g_assert_true (g_file_set_contents (old_path, "old", 3, &error));

  /* cancelled before the commit */
  {
    g_autoptr(STPlannedSave) save = make_sharded_save ();
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GAsyncResult) result = NULL;
    g_auto(GStrv) entries = NULL;
    g_autofree char *old_text = NULL;

    st_planned_save_prepare_async (save, dir, NULL, store_result, &result);
    g_assert_true (st_planned_save_prepare_finish (save, wait_for_result (&result), &error));
    g_assert_no_error (error);
    g_clear_object (&result);
    write_tensors (save, 0x10);
    g_cancellable_cancel (cancellable);
    st_planned_save_commit_async (save, ST_SAVE_FLAGS_NONE, cancellable, store_result, &result);
    g_assert_false (st_planned_save_commit_finish (save, wait_for_result (&result), &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    entries = st_test_list_dir (dir);
    g_assert_cmpstrv (entries, only_old);
    g_assert_true (g_file_get_contents (old_path, &old_text, NULL, &error));
    g_assert_cmpstr (old_text, ==, "old");
  }

  /* prepared and committed */
  {
    g_autoptr(STPlannedSave) save = make_sharded_save ();
    g_autoptr(GAsyncResult) result = NULL;
    g_auto(GStrv) entries = NULL;

    st_planned_save_prepare_async (save, dir, NULL, store_result, &result);
    g_assert_true (st_planned_save_prepare_finish (save, wait_for_result (&result), &error));
    g_assert_no_error (error);
    g_clear_object (&result);
    write_tensors (save, 0x20);
    st_planned_save_commit_async (save, ST_SAVE_FLAGS_SYNC, NULL, store_result, &result);
    g_assert_true (st_planned_save_commit_finish (save, wait_for_result (&result), &error));
    g_assert_no_error (error);

    entries = st_test_list_dir (dir);
    g_assert_cmpstrv (entries, after);
    assert_tensors_read_back (index_path, 0x20);
  }
  st_test_rm_rf (dir);
}

/* A save discarded after its writers wrote (one of them failed) leaves the folder as it was. */
static void
test_discard (void)
{
  g_autoptr(STPlannedSave) save = make_sharded_save ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *old_path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr(GBytes) old = NULL;
  g_auto(GStrv) entries = NULL;
  static const char *const before[] = { "model.safetensors", NULL };

  g_assert_true (g_file_set_contents (old_path, "old", 3, &error));
  g_assert_true (st_planned_save_prepare (save, dir, &error));
  g_assert_no_error (error);
  write_tensors (save, 0x10);
  st_planned_save_discard (save);

  entries = st_test_list_dir (dir);
  g_assert_cmpstrv (entries, before);
  old = st_test_read_file (old_path);
  g_assert_cmpmem (g_bytes_get_data (old, NULL), g_bytes_get_size (old), "old", 3);
  st_test_rm_rf (dir);
}

/* A file system that takes fewer bytes than the save needs (here a file size limit: fallocate() and
 * writes past it fail with EFBIG, as a full disk fails them with ENOSPC) fails the prepare, and nothing
 * is left behind. */
static void
test_prepare_too_large (void)
{
  g_autoptr(STPlannedSave) save = make_sharded_save ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *old_path = g_build_filename (dir, "model.safetensors", NULL);
  g_auto(GStrv) entries = NULL;
  static const char *const before[] = { "model.safetensors", NULL };
  struct rlimit saved, limited;
  gboolean prepared;

  g_assert_true (g_file_set_contents (old_path, "old", 3, &error));
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  limited = saved;
  limited.rlim_cur = 64;
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limited), ==, 0);
  prepared = st_planned_save_prepare (save, dir, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, SIG_DFL);

  g_assert_false (prepared);
  /* the code EFBIG maps to differs between GLib versions */
  g_assert_nonnull (error);
  g_assert_cmpuint (error->domain, ==, G_IO_ERROR);
  entries = st_test_list_dir (dir);
  g_assert_cmpstrv (entries, before);
  st_test_rm_rf (dir);
}

/* A process killed between prepare and commit leaves its work folder, unlocked: the next planned
 * save into that folder removes it. */
static void
test_dead_preparer (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autoptr(STPlannedSave) save = make_sharded_save ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) left = NULL;
  g_auto(GStrv) entries = NULL;
  int status = 0;
  pid_t child = fork ();

  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      g_autoptr(STPlannedSave) dying = make_sharded_save ();

      if (!st_planned_save_prepare (dying, dir, NULL))
        _exit (1);
      write_tensors (dying, 0x20);
      kill (getpid (), SIGKILL);
      _exit (1);
    }
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  left = st_test_list_dir (dir);
  g_assert_cmpuint (g_strv_length (left), ==, 1);
  g_assert_true (g_str_has_prefix (left[0], ".st-save-"));

  g_assert_true (st_planned_save_prepare (save, dir, &error));
  g_assert_no_error (error);
  write_tensors (save, 0x30);
  g_assert_true (st_planned_save_commit (save, ST_SAVE_FLAGS_NONE, &error));
  g_assert_no_error (error);
  entries = st_test_list_dir (dir);
  g_assert_cmpuint (g_strv_length (entries), ==, 4);
  assert_no_debris (dir);
  st_test_rm_rf (dir);
}

static void
test_invalid (void)
{
  g_autoptr(STPlannedSave) save = st_planned_save_new ("model", 0);
  g_autoptr(STPlannedSave) bad_prefix = st_planned_save_new ("a/b", 0);
  g_autoptr(GError) error = NULL;
  gint64 shape[2] = { 2, -1 };
  gint64 odd[1] = { 3 };

  g_assert_true (st_planned_save_add_tensor (save, "x", ST_DTYPE_F32, shape, 1, &error));
  g_assert_false (st_planned_save_add_tensor (save, "x", ST_DTYPE_F32, shape, 1, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_DUPLICATE_NAME);
  g_clear_error (&error);
  g_assert_false (st_planned_save_add_tensor (save, "__metadata__", ST_DTYPE_F32, shape, 1, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (st_planned_save_add_tensor (save, "y", ST_DTYPE_F32, shape, 2, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE);
  g_clear_error (&error);
  g_assert_false (st_planned_save_add_tensor (save, "z", ST_DTYPE_F4, odd, 1, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE);
  g_clear_error (&error);
  g_assert_false (st_planned_save_lay_out (bad_prefix, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *manifest_path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) fixtures = NULL;

  g_test_init (&argc, &argv, NULL);

  fixtures_dir = st_test_fixtures_dir ();
  manifest_path = g_build_filename (fixtures_dir, "manifest.json", NULL);
  g_assert_true (json_parser_load_from_file (parser, manifest_path, &error));
  manifest_valid = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "valid");
  fixtures = json_object_get_members (manifest_valid);
  for (GList *l = fixtures; l != NULL; l = l->next)
    {
      JsonObject *entry = json_object_get_object_member (manifest_valid, l->data);

      if (json_object_has_member (entry, "canonical"))
        {
          g_autofree char *path = g_strdup_printf ("/planned-save/fixture/%s", (const char *) l->data);

          g_test_add_data_func (path, l->data, test_fixture);
        }
    }
  g_test_add_func ("/planned-save/sharded/layout", test_sharded_layout);
  g_test_add_func ("/planned-save/sharded/commit", test_sharded_commit);
  g_test_add_func ("/planned-save/async", test_async);
  g_test_add_func ("/planned-save/discard", test_discard);
  g_test_add_func ("/planned-save/prepare-too-large", test_prepare_too_large);
  g_test_add_func ("/planned-save/dead-preparer", test_dead_preparer);
  g_test_add_func ("/planned-save/invalid", test_invalid);

  return g_test_run ();
}
