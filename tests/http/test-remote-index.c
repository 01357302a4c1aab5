/* test-remote-index.c: a sharded checkpoint over HTTP, its shards' headers read at once
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Eight shards and their index, written here by hand. The server holds every shard's answer until all
 * eight requests are waiting: the open succeeds only if the shards are asked for in parallel (a client
 * asking one after another would get no answer and time out).
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <safetensors-glib/safetensors-glib.h>

#include "st-test-server.h"

#define N_SHARDS 8

static guint8
data_byte (guint shard,
           guint64 i)
{
  return (guint8) (i * 7 + 3 + shard);
}

/* Shard @shard: one U8 tensor "w<shard>" of 100 bytes, the header padded to 8 bytes */
static GBytes *
make_shard (guint shard)
{
  g_autofree char *json = g_strdup_printf ("{\"w%u\":{\"dtype\":\"U8\",\"shape\":[10,10],\"data_offsets\":[0,100]}}",
                                           shard);
  gsize json_len = strlen (json);
  gsize padded = (json_len + 7) / 8 * 8;
  guint8 *file = g_malloc (8 + padded + 100);
  guint64 n = GUINT64_TO_LE ((guint64) padded);

  memcpy (file, &n, 8);
  memcpy (file + 8, json, json_len);
  memset (file + 8 + json_len, ' ', padded - json_len);
  for (guint i = 0; i < 100; i++)
    file[8 + padded + i] = data_byte (shard, i);
  return g_bytes_new_take (file, 8 + padded + 100);
}

/* Shard @shard as make_shard() makes it, with a header longer than the first read of an open (100 kB):
 * a metadata value of @pad spaces */
static GBytes *
make_long_shard (guint shard,
                 gsize pad)
{
  g_autofree char *spaces = g_strnfill (pad, ' ');
  g_autofree char *json = g_strdup_printf ("{\"__metadata__\":{\"pad\":\"%s\"},"
                                           "\"w%u\":{\"dtype\":\"U8\",\"shape\":[10,10],\"data_offsets\":[0,100]}}",
                                           spaces, shard);
  gsize json_len = strlen (json);
  gsize padded = (json_len + 7) / 8 * 8;
  guint8 *file = g_malloc (8 + padded + 100);
  guint64 n = GUINT64_TO_LE ((guint64) padded);

  memcpy (file, &n, 8);
  memcpy (file + 8, json, json_len);
  memset (file + 8 + json_len, ' ', padded - json_len);
  for (guint i = 0; i < 100; i++)
    file[8 + padded + i] = data_byte (shard, i);
  return g_bytes_new_take (file, 8 + padded + 100);
}

static char *
shard_name (guint shard)
{
  return g_strdup_printf ("model-%05u-of-%05u.safetensors", shard + 1, N_SHARDS);
}

static StTestServer *
serve_checkpoint (const char *dir)
{
  StTestServer *server = st_test_server_new ("127.0.0.1");
  g_autoptr(GString) index = g_string_new ("{\"metadata\":{\"total_size\":800},\"weight_map\":{");
  g_autoptr(GBytes) index_bytes = NULL;
  g_autofree char *index_path = g_strconcat (dir, "/model.safetensors.index.json", NULL);

  for (guint i = 0; i < N_SHARDS; i++)
    {
      g_autofree char *name = shard_name (i);
      g_autofree char *path = g_strconcat (dir, "/", name, NULL);
      g_autoptr(GBytes) shard = make_shard (i);

      st_test_server_add_file (server, path, shard, NULL);
      g_string_append_printf (index, "%s\"w%u\":\"%s\"", i > 0 ? "," : "", i, name);
    }
  g_string_append (index, "}}");
  index_bytes = g_bytes_new (index->str, index->len);
  st_test_server_add_file (server, index_path, index_bytes, "\"index\"");
  return server;
}

static void
check_index (STIndex      *index,
             StTestServer *server)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (st_index_get_n_tensors (index), ==, N_SHARDS);
  g_assert_cmpuint (st_index_get_total_size (index), ==, 800);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (index)), ==, N_SHARDS);
  for (guint i = 0; i < N_SHARDS; i++)
    {
      g_autoptr(STTensorInfo) info = g_list_model_get_item (G_LIST_MODEL (index), i);
      g_autofree char *name = g_strdup_printf ("w%u", i);

      g_assert_cmpstr (st_tensor_info_get_name (info), ==, name);
      g_assert_cmpint (st_tensor_info_get_dtype (info), ==, ST_DTYPE_U8);
    }
  /* the index, and one request per shard: the headers were small */
  g_assert_cmpuint (st_test_server_get_n_requests (server), ==, 1 + N_SHARDS);
  g_assert_cmpuint (st_test_server_get_max_at_barrier (server), ==, N_SHARDS);

  {
    g_autoptr(STTensor) w5 = st_index_dup_tensor (index, "w5", NULL, &error);
    gsize len;
    const guint8 *bytes;

    g_assert_no_error (error);
    bytes = st_tensor_get_data (w5, &len);
    g_assert_cmpuint (len, ==, 100);
    for (guint i = 0; i < 100; i++)
      g_assert_cmpuint (bytes[i], ==, data_byte (5, i));
  }
  g_assert_cmpuint (st_test_server_get_n_requests (server), ==, 2 + N_SHARDS);
}

static void
test_open (void)
{
  g_autoptr(StTestServer) server = serve_checkpoint ("/org/name/resolve/main");
  g_autofree char *url = g_strconcat (st_test_server_get_url (server),
                                      "/org/name/resolve/main/model.safetensors.index.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = NULL;

  st_test_server_set_barrier (server, ".safetensors", N_SHARDS);
  index = st_index_new_from_uri (url, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (st_index_get_uri (index), ==, url);
  g_assert_null (st_index_get_path (index));
  check_index (index, server);
}

static void
on_progress (guint64  done,
             guint64  total,
             gpointer data)
{
  guint64 *last = data;

  g_assert_cmpuint (total, ==, N_SHARDS);
  last[0] = done;
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static void
test_async (void)
{
  g_autoptr(StTestServer) server = serve_checkpoint ("/ckpt");
  g_autofree char *url = g_strconcat (st_test_server_get_url (server), "/ckpt/model.safetensors.index.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  guint64 last[1] = { 0 };

  st_test_server_set_barrier (server, ".safetensors", N_SHARDS);
  st_index_new_from_uri_async (url, NULL, on_progress, last, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  index = st_index_new_from_uri_finish (result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (last[0], ==, N_SHARDS);
  check_index (index, server);
}

/* The shards' connections are opened while the index is read: the server holds the index until it has
 * a second connection, which only a connection opened ahead can give it (libsoup's preconnect opens
 * one per call unless one is idle at that moment, so how many of the seven are new varies: at least
 * one is); no request is spent on it */
static void
test_connections_ahead (void)
{
  g_autoptr(StTestServer) server = serve_checkpoint ("/ckpt");
  g_autofree char *url = g_strconcat (st_test_server_get_url (server), "/ckpt/model.safetensors.index.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(STIndex) index = NULL;

  st_test_server_hold_until_connections (server, ".index.json", 2);
  index = st_index_new_from_uri (url, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_test_server_get_n_requests (server), ==, 1 + N_SHARDS);
  g_assert_cmpuint (st_test_server_get_n_connections (server), <=, N_SHARDS);
}

/* The first use of the library in a process opens an index: its request and the connections opened
 * ahead start in two threads at once, and GLib 2.74 deadlocked when both registered GIO's and
 * libsoup's types at the same time (one open in three hung for ever in a Python process). Each child
 * is a fresh process whose first call is the open; the server runs in this one, which hands the
 * address over in a file named by its process id (setenv() is unsafe once the server's threads run). */
#define N_FRESH_PROCESSES 12

static char *
url_file_path (GPid parent)
{
  g_autofree char *name = g_strdup_printf ("st-test-index-url-%d", (int) parent);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static void
test_first_use_in_process (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *path = url_file_path (getppid ());
      g_autofree char *url = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(STIndex) index = NULL;

      g_assert_true (g_file_get_contents (path, &url, NULL, NULL));
      index = st_index_new_from_uri (url, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (index)), ==, N_SHARDS);
      return;
    }
  else
    {
      g_autoptr(StTestServer) server = serve_checkpoint ("/ckpt");
      g_autofree char *url = g_strconcat (st_test_server_get_url (server), "/ckpt/model.safetensors.index.json",
                                          NULL);
      g_autofree char *path = url_file_path (getpid ());
      g_autoptr(GError) error = NULL;

      g_file_set_contents (path, url, -1, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < N_FRESH_PROCESSES; i++)
        {
          g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
          g_test_trap_assert_passed ();
        }
      g_unlink (path);
      /* the index and eight shards per process: what the protocol needs, no more */
      g_assert_cmpuint (st_test_server_get_n_requests (server), ==, N_FRESH_PROCESSES * (1 + N_SHARDS));
    }
}

/* The Hub's way: hf:// on HF_ENDPOINT, the index answered by the Hub itself, every shard redirected to
 * its CDN on another host. Each file costs what the protocol needs and no more: the index one request;
 * a shard its redirect, then one range, or two when its header is longer than the first read (shard
 * 3's); and the shards' redirects are asked for all at once (the Hub's barrier lets none through before
 * all eight wait). */
static void
test_hub_requests_per_file (void)
{
  g_autoptr(StTestServer) hub = NULL;
  g_autoptr(StTestServer) cdn = NULL;
  g_autoptr(GString) index_json = g_string_new ("{\"metadata\":{\"total_size\":800},\"weight_map\":{");
  g_autoptr(GBytes) index_bytes = NULL;
  g_autoptr(STIndex) index = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  hub = st_test_server_new ("127.0.0.1");
  cdn = st_test_server_new ("127.0.0.2");
  for (guint i = 0; i < N_SHARDS; i++)
    {
      g_autofree char *name = shard_name (i);
      g_autofree char *hub_path = g_strconcat ("/org/name/resolve/main/", name, NULL);
      g_autofree char *cdn_path = g_strdup_printf ("/blobs/%u?X-Amz-Signature=s3cret", i);
      g_autofree char *cdn_url = g_strconcat (st_test_server_get_url (cdn), cdn_path, NULL);
      g_autoptr(GBytes) shard = i == 3 ? make_long_shard (i, 150000) : make_shard (i);

      st_test_server_add_redirect (hub, hub_path, 302, cdn_url, NULL);
      st_test_server_add_file (cdn, cdn_path, shard, NULL);
      g_string_append_printf (index_json, "%s\"w%u\":\"%s\"", i > 0 ? "," : "", i, name);
    }
  g_string_append (index_json, "}}");
  index_bytes = g_bytes_new (index_json->str, index_json->len);
  st_test_server_add_file (hub, "/org/name/resolve/main/model.safetensors.index.json", index_bytes, "\"index\"");
  st_test_server_set_barrier (hub, ".safetensors", N_SHARDS);
  g_setenv ("HF_ENDPOINT", st_test_server_get_url (hub), TRUE);

  index = st_index_new_from_uri ("hf://org/name/model.safetensors.index.json", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_index_get_n_tensors (index), ==, N_SHARDS);
  g_assert_cmpuint (st_test_server_get_max_at_barrier (hub), ==, N_SHARDS);
  g_assert_cmpuint (st_test_server_get_n_requests_for (hub, "/org/name/resolve/main/model.safetensors.index.json"),
                    ==, 1);
  for (guint i = 0; i < N_SHARDS; i++)
    {
      g_autofree char *name = shard_name (i);
      g_autofree char *hub_path = g_strconcat ("/org/name/resolve/main/", name, NULL);
      g_autofree char *cdn_path = g_strdup_printf ("/blobs/%u?X-Amz-Signature=s3cret", i);

      g_assert_cmpuint (st_test_server_get_n_requests_for (hub, hub_path), ==, 1);
      g_assert_cmpuint (st_test_server_get_n_requests_for (cdn, cdn_path), ==, i == 3 ? 2 : 1);
    }
  g_assert_cmpuint (st_test_server_get_n_requests (hub), ==, 1 + N_SHARDS);
  g_assert_cmpuint (st_test_server_get_n_requests (cdn), ==, N_SHARDS + 1);
}

/* More shards than are opened at once, on the Hub with a token: the later shards reuse the
 * connections the first ones opened, to the Hub and to its CDN (none pays a fresh connect), every
 * file costs what the protocol needs (the index one request, a shard its redirect and one range),
 * and the token goes to the Hub only, never to the CDN its redirects lead to. */
#define N_MANY_SHARDS 12
#define MAX_OPEN_AT_ONCE 8  /* st-index-remote.c's MAX_PARALLEL_SHARDS */

static void
test_hub_many_shards (void)
{
  g_autoptr(StTestServer) hub = NULL;
  g_autoptr(StTestServer) cdn = NULL;
  g_autoptr(GString) index_json = g_string_new ("{\"metadata\":{\"total_size\":1200},\"weight_map\":{");
  g_autoptr(GBytes) index_bytes = NULL;
  g_autoptr(STIndex) index = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  /* before the servers' threads start: setenv() is unsafe once they run */
  g_setenv ("HF_TOKEN", "hf_many_shards_token", TRUE);
  hub = st_test_server_new ("127.0.0.1");
  cdn = st_test_server_new ("127.0.0.2");
  for (guint i = 0; i < N_MANY_SHARDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("model-%05u-of-%05u.safetensors", i + 1, N_MANY_SHARDS);
      g_autofree char *hub_path = g_strconcat ("/org/many/resolve/main/", name, NULL);
      g_autofree char *cdn_path = g_strdup_printf ("/blobs/%u?X-Amz-Signature=s3cret", i);
      g_autofree char *cdn_url = g_strconcat (st_test_server_get_url (cdn), cdn_path, NULL);
      g_autoptr(GBytes) shard = make_shard (i);

      st_test_server_add_redirect (hub, hub_path, 302, cdn_url, NULL);
      st_test_server_add_file (cdn, cdn_path, shard, NULL);
      g_string_append_printf (index_json, "%s\"w%u\":\"%s\"", i > 0 ? "," : "", i, name);
    }
  g_string_append (index_json, "}}");
  index_bytes = g_bytes_new (index_json->str, index_json->len);
  st_test_server_add_file (hub, "/org/many/resolve/main/model.safetensors.index.json", index_bytes, "\"index\"");
  g_setenv ("HF_ENDPOINT", st_test_server_get_url (hub), TRUE);

  index = st_index_new_from_uri ("hf://org/many/model.safetensors.index.json", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_index_get_n_tensors (index), ==, N_MANY_SHARDS);
  g_assert_cmpuint (st_test_server_get_n_requests_for (hub, "/org/many/resolve/main/model.safetensors.index.json"),
                    ==, 1);
  for (guint i = 0; i < N_MANY_SHARDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("model-%05u-of-%05u.safetensors", i + 1, N_MANY_SHARDS);
      g_autofree char *hub_path = g_strconcat ("/org/many/resolve/main/", name, NULL);
      g_autofree char *cdn_path = g_strdup_printf ("/blobs/%u?X-Amz-Signature=s3cret", i);

      g_assert_cmpuint (st_test_server_get_n_requests_for (hub, hub_path), ==, 1);
      g_assert_cmpuint (st_test_server_get_n_requests_for (cdn, cdn_path), ==, 1);
    }
  g_assert_cmpuint (st_test_server_get_n_requests (hub), ==, 1 + N_MANY_SHARDS);
  g_assert_cmpuint (st_test_server_get_n_requests (cdn), ==, N_MANY_SHARDS);
  /* no more connections than shards opened at once, on either host */
  g_assert_cmpuint (st_test_server_get_n_connections (hub), <=, MAX_OPEN_AT_ONCE);
  g_assert_cmpuint (st_test_server_get_n_connections (cdn), <=, MAX_OPEN_AT_ONCE);
  /* the token: on every request to the Hub, on none to the CDN */
  g_assert_cmpuint (st_test_server_get_n_authorized (hub), ==, 1 + N_MANY_SHARDS);
  g_assert_cmpuint (st_test_server_get_n_authorized (cdn), ==, 0);
}

/* A shard that is missing: the error names it */
static void
test_missing_shard (void)
{
  g_autoptr(StTestServer) server = serve_checkpoint ("/ckpt");
  g_autofree char *url = g_strconcat (st_test_server_get_url (server), "/ckpt/model.safetensors.index.json", NULL);
  g_autoptr(GError) error = NULL;

  st_test_server_add_error (server, "/ckpt/model-00003-of-00008.safetensors", 404, "EntryNotFound");
  g_assert_null (st_index_new_from_uri (url, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "model-00003-of-00008.safetensors"));
}

int
main (int argc, char **argv)
{
  g_setenv ("HF_HUB_DOWNLOAD_TIMEOUT", "10", TRUE);
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");
  g_setenv ("no_proxy", "127.0.0.1,127.0.0.2,localhost", TRUE);
  g_unsetenv ("HF_TOKEN");
  g_unsetenv ("HUGGING_FACE_HUB_TOKEN");
  g_setenv ("HF_TOKEN_PATH", "/nonexistent/st-test/token", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/remote-index/open", test_open);
  g_test_add_func ("/remote-index/async", test_async);
  g_test_add_func ("/remote-index/missing-shard", test_missing_shard);
  g_test_add_func ("/remote-index/connections-ahead", test_connections_ahead);
  g_test_add_func ("/remote-index/first-use-in-process", test_first_use_in_process);
  g_test_add_func ("/remote-index/hub-requests-per-file", test_hub_requests_per_file);
  g_test_add_func ("/remote-index/hub-many-shards", test_hub_many_shards);

  return g_test_run ();
}
