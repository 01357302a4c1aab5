/* test-remote-file.c: STFile over HTTP and from the Hub, against servers on the loopback interface
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The served file is written here by hand (its header as text, its data by a formula: byte i of the
 * data buffer is (7 i + 3) mod 256), so the expected names, shapes and bytes do not come from the
 * library's writer. The server counts the requests: an open costs one (two for a header over 100 kB),
 * a fetch of neighbouring tensors one.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <safetensors-glib/safetensors-glib.h>

#include "st-test-server.h"

#define HEADER_JSON \
  "{\"__metadata__\":{\"format\":\"pt\"}," \
  "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," \
  "\"b\":{\"dtype\":\"U8\",\"shape\":[4,2],\"data_offsets\":[24,32]}," \
  "\"big\":{\"dtype\":\"U8\",\"shape\":[1000,3000],\"data_offsets\":[32,3000032]}}"
#define DATA_SIZE 3000032

static guint8
data_byte (guint64 i)
{
  return (guint8) (i * 7 + 3);
}

/* A safetensors file: the 8-byte length, @json padded with spaces to a multiple of 8, @data_size bytes
 * of the formula. */
static GBytes *
make_file (const char *json,
           gsize       data_size)
{
  gsize json_len = strlen (json);
  gsize padded = (json_len + 7) / 8 * 8;
  gsize size = 8 + padded + data_size;
  guint8 *file = g_malloc (size);
  guint64 n = GUINT64_TO_LE ((guint64) padded);

  memcpy (file, &n, 8);
  memcpy (file + 8, json, json_len);
  memset (file + 8 + json_len, ' ', padded - json_len);
  for (gsize i = 0; i < data_size; i++)
    file[8 + padded + i] = data_byte (i);
  return g_bytes_new_take (file, size);
}

static void
assert_data (STTensor *tensor,
             guint64   data_offset)
{
  gsize len;
  const guint8 *bytes = st_tensor_get_data (tensor, &len);

  for (gsize i = 0; i < len; i++)
    if (bytes[i] != data_byte (data_offset + i))
      g_error ("byte %" G_GSIZE_FORMAT " of the tensor is %u, not %u", i, bytes[i], data_byte (data_offset + i));
}

typedef struct {
  StTestServer *server;
  char         *url;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GBytes) content = make_file (HEADER_JSON, DATA_SIZE);

  fixture->server = st_test_server_new ("127.0.0.1");
  st_test_server_add_file (fixture->server, "/model.safetensors", content, "\"e1\"");
  fixture->url = g_strconcat (st_test_server_get_url (fixture->server), "/model.safetensors", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  st_test_server_free (fixture->server);
  g_free (fixture->url);
}

static STFile *
open_remote (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  STFile *file = st_file_new_from_uri (fixture->url, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (file);
  return file;
}

/* The header in one request; everything about the tensors without another */
static void
test_open (Fixture *fixture, gconstpointer data)
{
  g_autoptr(STFile) file = open_remote (fixture);
  g_auto(GStrv) names = st_file_dup_names_in_file_order (file);
  g_autoptr(STTensorInfo) info = NULL;
  guint64 begin = 0, end = 0;
  const gint64 *shape;
  guint n_dims;

  g_assert_true (st_file_is_remote (file));
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 1);
  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 3);
  g_assert_cmpstr (names[0], ==, "a");
  g_assert_cmpstr (names[1], ==, "b");
  g_assert_cmpstr (names[2], ==, "big");
  g_assert_cmpstr (st_file_get_metadata_value (file, "format"), ==, "pt");
  g_assert_true (st_file_get_tensor_offsets (file, "big", &begin, &end));
  g_assert_cmpuint (begin, ==, 32);
  g_assert_cmpuint (end, ==, 3000032);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (file)), ==, 3);
  info = g_list_model_get_item (G_LIST_MODEL (file), 2);
  g_assert_cmpstr (st_tensor_info_get_name (info), ==, "big");
  g_assert_cmpint (st_tensor_info_get_dtype (info), ==, ST_DTYPE_U8);
  shape = st_tensor_info_get_shape (info, &n_dims);
  g_assert_cmpuint (n_dims, ==, 2);
  g_assert_cmpint (shape[0], ==, 1000);
  g_assert_cmpint (shape[1], ==, 3000);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 1);
  /* the open read 100 kB, not the 3 MB */
  st_test_server_wait_answers_sent (fixture->server);
  g_assert_cmpuint (st_test_server_get_body_bytes_sent (fixture->server), ==, 100000);
}

/* Two neighbouring tensors in one request; later calls cost nothing */
static void
test_fetch_tensors (Fixture *fixture, gconstpointer data)
{
  g_autoptr(STFile) file = open_remote (fixture);
  g_autoptr(GError) error = NULL;
  const char *names[] = { "a", "b", NULL };
  STTensor *a, *b;

  g_assert_true (st_file_fetch_tensors (file, names, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 2);
  a = st_file_get_tensor (file, "a");
  b = st_file_get_tensor (file, "b");
  g_assert_cmpint (st_tensor_get_dtype (a), ==, ST_DTYPE_F32);
  g_assert_cmpuint (st_tensor_get_n_bytes (a), ==, 24);
  assert_data (a, 0);
  assert_data (b, 24);
  g_assert_true (st_file_fetch_tensor (file, "a", NULL, &error) == a);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 2);

  /* an unknown name */
  {
    const char *unknown[] = { "a", "nope", NULL };

    g_assert_false (st_file_fetch_tensors (file, unknown, NULL, &error));
    g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  }
}

/* get_tensor fetches on first use (documented as network I/O); lookup_tensor says why it failed */
static void
test_get_tensor_fetches (Fixture *fixture, gconstpointer data)
{
  g_autoptr(STFile) file = open_remote (fixture);
  g_autoptr(GError) error = NULL;
  STTensor *big;

  big = st_file_get_tensor (file, "big");
  g_assert_nonnull (big);
  g_assert_cmpuint (st_tensor_get_n_bytes (big), ==, 3000000);
  assert_data (big, 32);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 2);

  st_test_server_set_fault (fixture->server, ST_FAULT_5XX, 1000);
  g_assert_null (st_file_get_tensor (file, "a"));
  g_assert_null (st_file_lookup_tensor (file, "a", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "503"));
}

/* Names looked up in any order, before and after one is removed: a remote file finds its entries as a
 * local one does (the entry after the last hit, else the name index, made on the first lookup that
 * needs it) */
static void
test_lookup_any_order (Fixture *fixture, gconstpointer data)
{
  g_autoptr(STFile) file = open_remote (fixture);
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) rows = NULL;
  const char *backwards[] = { "b", "a", NULL };
  const char *removed[] = { "b", "a", NULL };

  /* the last name first, then the file's two others backwards */
  rows = st_file_fetch_slice (file, "big", 999, 1000, NULL, &error);
  g_assert_no_error (error);
  assert_data (rows, 32 + 999 * 3000);
  g_assert_true (st_file_fetch_tensors (file, backwards, NULL, &error));
  g_assert_no_error (error);
  assert_data (st_file_get_tensor (file, "a"), 0);
  assert_data (st_file_get_tensor (file, "b"), 24);

  g_assert_true (st_file_remove_tensor (file, "a"));
  g_assert_false (st_file_fetch_tensors (file, removed, NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "“a”"));
  g_clear_error (&error);
  g_clear_object (&rows);
  rows = st_file_fetch_slice (file, "a", 0, 1, NULL, &error);
  g_assert_error (error, ST_ERROR, ST_ERROR_NOT_FOUND);
  g_assert_null (rows);
  g_clear_error (&error);
  rows = st_file_fetch_slice (file, "b", 3, 4, NULL, &error);
  g_assert_no_error (error);
  assert_data (rows, 24 + 3 * 2);
}

/* Rows of the first dimension: only their bytes */
static void
test_fetch_slice (Fixture *fixture, gconstpointer data)
{
  g_autoptr(STFile) file = open_remote (fixture);
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) rows = NULL;
  const gint64 *shape;
  guint n_dims;

  st_test_server_wait_answers_sent (fixture->server);
  st_test_server_reset_counts (fixture->server);
  rows = st_file_fetch_slice (file, "big", 10, 20, NULL, &error);
  g_assert_no_error (error);
  shape = st_tensor_get_shape (rows, &n_dims);
  g_assert_cmpuint (n_dims, ==, 2);
  g_assert_cmpint (shape[0], ==, 10);
  g_assert_cmpint (shape[1], ==, 3000);
  assert_data (rows, 32 + 10 * 3000);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 1);
  st_test_server_wait_answers_sent (fixture->server);
  g_assert_cmpuint (st_test_server_get_body_bytes_sent (fixture->server), ==, 30000);

  g_assert_null (st_file_fetch_slice (file, "big", 10, 1001, NULL, &error));
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE);
}

static void
on_progress (guint64  done,
             guint64  total,
             gpointer data)
{
  guint64 *last = data;

  g_assert_cmpuint (done, <=, total);
  g_assert_cmpuint (done, >=, last[0]);
  last[0] = done;
  last[1] = total;
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* The async calls: progress on our main context, the last report the whole */
static void
test_async (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(GError) error = NULL;
  guint64 last[2] = { 0, 0 };

  st_file_new_from_uri_async (fixture->url, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  file = st_file_new_from_uri_finish (result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  st_file_fetch_tensors_async (file, NULL, NULL, on_progress, last, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (st_file_fetch_tensors_finish (file, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (last[0], ==, DATA_SIZE);
  g_assert_cmpuint (last[1], ==, DATA_SIZE);
  assert_data (st_file_get_tensor (file, "big"), 32);
  g_clear_object (&result);

  last[0] = last[1] = 0;
  st_file_fetch_slice_async (file, "big", 0, 2, NULL, on_progress, last, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  {
    g_autoptr(STTensor) rows = st_file_fetch_slice_finish (file, result, &error);

    g_assert_no_error (error);
    assert_data (rows, 32);
  }
}

/* A remote file saved: the bytes the server has (fetched, then written) */
static void
test_save (Fixture *fixture, gconstpointer data)
{
  g_autoptr(STFile) file = open_remote (fixture);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) saved = st_file_save_to_bytes (file, &error);
  g_autoptr(GBytes) expected = make_file (HEADER_JSON, DATA_SIZE);

  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (saved, expected));
}

/* A header over 100 kB: exactly two requests */
static void
test_long_header (void)
{
  g_autoptr(StTestServer) server = st_test_server_new ("127.0.0.1");
  g_autoptr(GString) json = g_string_new ("{\"__metadata__\":{\"long\":\"");
  g_autoptr(GBytes) content = NULL;
  g_autofree char *url = g_strconcat (st_test_server_get_url (server), "/long", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  for (guint i = 0; i < 150000; i++)
    g_string_append_c (json, 'x');
  g_string_append (json, "\"},\"t\":{\"dtype\":\"U8\",\"shape\":[5],\"data_offsets\":[0,5]}}");
  content = make_file (json->str, 5);
  st_test_server_add_file (server, "/long", content, NULL);
  file = st_file_new_from_uri (url, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (st_file_get_metadata_value (file, "long")), ==, 150000);
  g_assert_cmpuint (st_test_server_get_n_requests (server), ==, 2);
  assert_data (st_file_get_tensor (file, "t"), 0);
}

/* Hostile and mistaken answers: one request, a clear error, no allocation of what a header claims */
static void
test_bad_files (void)
{
  g_autoptr(StTestServer) server = st_test_server_new ("127.0.0.1");
  struct {
    const char *path;
    const char *content;
    gsize len;
    int code;
    const char *phrase;
  } cases[] = {
    /* N = 2^40: over the limit */
    { "/over-limit", "\x00\x00\x00\x00\x00\x01\x00\x00{}", 10, ST_ERROR_HEADER_TOO_LARGE, NULL },
    /* N = 1000 in a file of 16 bytes */
    { "/past-end", "\xe8\x03\x00\x00\x00\x00\x00\x00{}      ", 16, -1, NULL },
    { "/short", "\x02\x00\x00", 3, ST_ERROR_HEADER_TOO_SMALL, NULL },
    { "/html", "<!DOCTYPE html>\n<html><head><title>Error</title></head><body>Not here</body></html>\n", 0, -1,
      "HTML" },
    { "/lfs", "version https://git-lfs.github.com/spec/v1\noid sha256:"
      "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n", 0, -1, "Git LFS" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = cases[i].len != 0 ? cases[i].len : strlen (cases[i].content);
      g_autoptr(GBytes) content = g_bytes_new (cases[i].content, len);
      g_autofree char *url = g_strconcat (st_test_server_get_url (server), cases[i].path, NULL);
      g_autoptr(GError) error = NULL;

      st_test_server_add_file (server, cases[i].path, content, NULL);
      st_test_server_reset_counts (server);
      g_assert_null (st_file_new_from_uri (url, NULL, &error));
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_true (error->domain == ST_ERROR);
      if (cases[i].code >= 0)
        g_assert_error (error, ST_ERROR, cases[i].code);
      if (cases[i].phrase != NULL)
        g_assert_nonnull (strstr (error->message, cases[i].phrase));
      g_assert_nonnull (strstr (error->message, cases[i].path));
      g_assert_cmpuint (st_test_server_get_n_requests (server), ==, 1);
    }
}

/* Tests that change the environment run in a subprocess of their own, before the library starts any
 * thread (setenv() is not thread-safe); the servers' threads never read the environment. */
#define IN_SUBPROCESS() \
  G_STMT_START { \
    if (!g_test_subprocess ()) \
      { \
        g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR); \
        g_test_trap_assert_passed (); \
        return; \
      } \
  } G_STMT_END

typedef struct {
  StTestServer *hub;
  StTestServer *cdn;
  char         *home;
  char         *token_file;
} Hub;

static const char *hub_paths[] = { "/org/name/resolve/main/model.safetensors",
                                   "/org/name/resolve/v1.0/model.safetensors" };

/* A Hub on 127.0.0.1 that redirects to its CDN on 127.0.0.2, wants "hf_filetoken", and is HF_ENDPOINT;
 * HF_HOME/token holds the token. */
static void
hub_set_up (Hub *hub)
{
  g_autoptr(GBytes) content = make_file (HEADER_JSON, DATA_SIZE);
  g_autofree char *cdn_url = NULL;

  hub->hub = st_test_server_new ("127.0.0.1");
  hub->cdn = st_test_server_new ("127.0.0.2");
  cdn_url = g_strconcat (st_test_server_get_url (hub->cdn), "/xet/blob?X-Amz-Signature=s3cret", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (hub_paths); i++)
    st_test_server_add_redirect (hub->hub, hub_paths[i], 302, cdn_url, NULL);
  st_test_server_add_file (hub->cdn, "/xet/blob?X-Amz-Signature=s3cret", content, "\"sha256\"");
  st_test_server_require_token (hub->hub, "hf_filetoken", FALSE);
  hub->home = g_dir_make_tmp ("st-hf-home-XXXXXX", NULL);
  hub->token_file = g_build_filename (hub->home, "token", NULL);
  g_assert_true (g_file_set_contents (hub->token_file, "hf_filetoken\n", -1, NULL));
  g_setenv ("HF_ENDPOINT", st_test_server_get_url (hub->hub), TRUE);
  g_setenv ("HF_HOME", hub->home, TRUE);
  g_unsetenv ("HF_TOKEN_PATH");
}

static void
hub_tear_down (Hub *hub)
{
  g_unlink (hub->token_file);
  g_rmdir (hub->home);
  g_free (hub->token_file);
  g_free (hub->home);
  st_test_server_free (hub->hub);
  st_test_server_free (hub->cdn);
}

/* hf:// on the endpoint HF_ENDPOINT names, with and without a revision; the Hub redirects to its CDN
 * on another host, which never sees the token (read from HF_HOME/token); later reads go to the CDN */
static void
test_hub_address (void)
{
  const char *addresses[] = { "hf://org/name/model.safetensors", "hf://org/name@v1.0/model.safetensors" };
  Hub hub;

  IN_SUBPROCESS ();
  hub_set_up (&hub);
  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = st_file_new_from_uri (addresses[i], NULL, &error);

      g_assert_no_error (error);
      assert_data (st_file_get_tensor (file, "b"), 24);
      g_assert_cmpuint (st_test_server_get_n_requests_for (hub.hub, hub_paths[i]), ==, 1);
    }
  g_assert_cmpuint (st_test_server_get_n_authorized (hub.hub), ==, 2);
  g_assert_cmpuint (st_test_server_get_n_requests (hub.cdn), ==, 4);
  g_assert_cmpuint (st_test_server_get_n_authorized (hub.cdn), ==, 0);

  /* the Hub's own https:// form of an address */
  {
    g_autofree char *url = g_strconcat (st_test_server_get_url (hub.hub), hub_paths[0], NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(STFile) file = st_file_new_from_uri (url, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (st_test_server_get_n_authorized (hub.hub), ==, 3);
  }

  /* not Hub addresses */
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (st_file_new_from_uri ("hf://org-only/x", NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (st_file_new_from_uri ("hf://org/name/../../etc/passwd", NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }
  hub_tear_down (&hub);
}

/* HF_TOKEN comes before the token file; a refused token is said so, and never shown */
static void
test_hub_token_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  Hub hub;

  IN_SUBPROCESS ();
  hub_set_up (&hub);
  g_setenv ("HF_TOKEN", "hf_wrongtoken", TRUE);
  file = st_file_new_from_uri ("hf://org/name/model.safetensors", NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "org/name"));
  g_assert_nonnull (strstr (error->message, "token"));
  g_assert_null (strstr (error->message, "hf_wrongtoken"));
  g_assert_null (strstr (error->message, "hf_filetoken"));
  g_assert_cmpuint (st_test_server_get_n_requests (hub.cdn), ==, 0);
  hub_tear_down (&hub);
}

/* HF_HUB_OFFLINE=1: the cache alone (a layout made here by hand, as huggingface_hub makes it) */
static void
offline_body (void)
{
  g_autofree char *cache = g_dir_make_tmp ("st-hf-cache-XXXXXX", NULL);
  const char *commit = "0123456789abcdef0123456789abcdef01234567";
  g_autofree char *repo = g_build_filename (cache, "models--org--name", NULL);
  g_autofree char *refs = g_build_filename (repo, "refs", NULL);
  g_autofree char *ref = g_build_filename (refs, "main", NULL);
  g_autofree char *blobs = g_build_filename (repo, "blobs", NULL);
  g_autofree char *blob = g_build_filename (blobs, "deadbeef", NULL);
  g_autofree char *snapshot = g_build_filename (repo, "snapshots", commit, NULL);
  g_autofree char *link = g_build_filename (snapshot, "model.safetensors", NULL);
  g_autoptr(GBytes) content = make_file (HEADER_JSON, 32 + 3000000);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  g_assert_cmpint (g_mkdir_with_parents (refs, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (blobs, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (snapshot, 0700), ==, 0);
  g_assert_true (g_file_set_contents (ref, commit, -1, NULL));
  g_assert_true (g_file_set_contents (blob, g_bytes_get_data (content, NULL), (gssize) g_bytes_get_size (content),
                                      NULL));
  g_assert_cmpint (symlink ("../../blobs/deadbeef", link), ==, 0);

  g_setenv ("HF_HUB_CACHE", cache, TRUE);
  g_setenv ("HF_HUB_OFFLINE", "1", TRUE);
  /* an endpoint where nothing listens: offline makes no request */
  g_setenv ("HF_ENDPOINT", "http://127.0.0.1:9", TRUE);

  file = st_file_new_from_uri ("hf://org/name/model.safetensors", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (st_file_is_remote (file));
  assert_data (st_file_get_tensor (file, "b"), 24);
  g_clear_object (&file);
  file = st_file_new_from_uri ("hf://org/name@0123456789abcdef0123456789abcdef01234567/model.safetensors", NULL,
                               &error);
  g_assert_no_error (error);
  g_clear_object (&file);

  g_assert_null (st_file_new_from_uri ("hf://org/name@v2/model.safetensors", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "org/name"));
  g_assert_nonnull (strstr (error->message, "HF_HUB_OFFLINE"));

  g_unlink (link);
  g_rmdir (snapshot);
  {
    g_autofree char *snapshots = g_path_get_dirname (snapshot);

    g_rmdir (snapshots);
  }
  g_unlink (blob);
  g_rmdir (blobs);
  g_unlink (ref);
  g_rmdir (refs);
  g_rmdir (repo);
  g_rmdir (cache);
}

static void
test_offline (void)
{
  IN_SUBPROCESS ();
  offline_body ();
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_setenv ("HF_HUB_DOWNLOAD_TIMEOUT", "5", TRUE);
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("https_proxy");
  g_unsetenv ("HTTPS_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");
  g_setenv ("no_proxy", "127.0.0.1,127.0.0.2,localhost", TRUE);
  /* no token of the user's may reach the test servers */
  g_unsetenv ("HF_TOKEN");
  g_unsetenv ("HUGGING_FACE_HUB_TOKEN");
  g_setenv ("HF_TOKEN_PATH", "/nonexistent/st-test/token", TRUE);
  g_test_init (&argc, &argv, NULL);

  ADD ("/remote-file/open", test_open);
  ADD ("/remote-file/fetch-tensors", test_fetch_tensors);
  ADD ("/remote-file/get-tensor-fetches", test_get_tensor_fetches);
  ADD ("/remote-file/fetch-slice", test_fetch_slice);
  ADD ("/remote-file/lookup-any-order", test_lookup_any_order);
  ADD ("/remote-file/async", test_async);
  ADD ("/remote-file/save", test_save);
  g_test_add_func ("/remote-file/long-header", test_long_header);
  g_test_add_func ("/remote-file/bad-files", test_bad_files);
  g_test_add_func ("/remote-file/hub/address", test_hub_address);
  g_test_add_func ("/remote-file/hub/token-refused", test_hub_token_refused);
  g_test_add_func ("/remote-file/offline", test_offline);

  return g_test_run ();
}
