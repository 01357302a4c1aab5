/* test-hub-download.c: downloads into the Hugging Face cache, against a Hub on the loopback interface
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The Hub (127.0.0.1) answers a file's resolve address as the real one does for a large file: a 302 to
 * its CDN (127.0.0.2) with X-Repo-Commit, X-Linked-Etag (the SHA-256) and X-Linked-Size; a small file
 * (an index) directly, with X-Repo-Commit and its ETag. The expected layout is huggingface_hub's, written
 * out here by hand (blobs/ETAG, snapshots/COMMIT/FILE -> ../../blobs/ETAG, refs/REVISION holding the
 * commit, .locks/models--ORG--NAME/ETAG.lock).
 */
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <safetensors-glib/safetensors-glib.h>

#include "st-hub-private.h"
#include "st-test-server.h"

#define COMMIT "3f1c5a8e9b0d2c4f6a7e8b9c0d1e2f3a4b5c6d7e"

static StTestServer *hub;
static StTestServer *cdn;
static char *cache_dir;

static guint8
data_byte (guint64 i)
{
  return (guint8) (i * 7 + 3);
}

/* A safetensors file with one U8 tensor "t" of @n bytes, header written by hand */
static GBytes *
make_file (gsize n)
{
  g_autofree char *json = g_strdup_printf ("{\"t\":{\"dtype\":\"U8\",\"shape\":[%" G_GSIZE_FORMAT
                                           "],\"data_offsets\":[0,%" G_GSIZE_FORMAT "]}}", n, n);
  gsize json_len = strlen (json);
  gsize padded = (json_len + 7) / 8 * 8;
  guint8 *file = g_malloc (8 + padded + n);
  guint64 len = GUINT64_TO_LE ((guint64) padded);

  memcpy (file, &len, 8);
  memcpy (file + 8, json, json_len);
  memset (file + 8 + json_len, ' ', padded - json_len);
  for (gsize i = 0; i < n; i++)
    file[8 + padded + i] = data_byte (i);
  return g_bytes_new_take (file, 8 + padded + n);
}

static char *
sha256_of (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

/* Serves @content as a large file of repository @repo at "main": a redirect to the CDN */
static char *
serve_lfs_file (const char *repo,
                const char *filename,
                GBytes     *content)
{
  g_autofree char *resolve = g_strdup_printf ("/%s/resolve/main/%s", repo, filename);
  g_autofree char *resolve_commit = g_strdup_printf ("/%s/resolve/%s/%s", repo, COMMIT, filename);
  char *sha = sha256_of (content);
  g_autofree char *blob_path = g_strdup_printf ("/cdn/%s?sig=x", sha);
  g_autofree char *location = g_strconcat (st_test_server_get_url (cdn), blob_path, NULL);
  g_autofree char *size = g_strdup_printf ("%" G_GSIZE_FORMAT, g_bytes_get_size (content));
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", sha);
  const char *headers[] = { "X-Repo-Commit", COMMIT, "X-Linked-Etag", quoted, "X-Linked-Size", size, NULL };

  st_test_server_add_redirect (hub, resolve, 302, location, headers);
  st_test_server_add_redirect (hub, resolve_commit, 302, location, headers);
  st_test_server_add_file (cdn, blob_path, content, quoted);
  return sha;
}

static void
assert_layout (const char *repo_folder,
               const char *filename,
               const char *etag,
               const char *link_target)
{
  g_autofree char *blob = g_strdup_printf ("%s/%s/blobs/%s", cache_dir, repo_folder, etag);
  g_autofree char *incomplete = g_strconcat (blob, ".incomplete", NULL);
  g_autofree char *link = g_strdup_printf ("%s/%s/snapshots/" COMMIT "/%s", cache_dir, repo_folder, filename);
  g_autofree char *ref = g_strdup_printf ("%s/%s/refs/main", cache_dir, repo_folder);
  g_autofree char *lock = g_strdup_printf ("%s/.locks/%s/%s.lock", cache_dir, repo_folder, etag);
  g_autofree char *target = g_file_read_link (link, NULL);
  g_autofree char *commit = NULL;

  g_assert_true (g_file_test (blob, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (incomplete, G_FILE_TEST_EXISTS));
  g_assert_cmpstr (target, ==, link_target);
  g_assert_true (g_file_get_contents (ref, &commit, NULL, NULL));
  g_assert_cmpstr (commit, ==, COMMIT);
  g_assert_true (g_file_test (lock, G_FILE_TEST_EXISTS));
}

static void
assert_tensor (const char *path,
               gsize       n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_path (path, NULL, &error);
  STTensor *t;
  const guint8 *bytes;
  gsize len;

  g_assert_no_error (error);
  t = st_file_get_tensor (file, "t");
  bytes = st_tensor_get_data (t, &len);
  g_assert_cmpuint (len, ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpuint (bytes[i], ==, data_byte (i));
}

/* One large file: the layout, the bytes; a second call fetches nothing */
static void
test_file (void)
{
  g_autoptr(GBytes) content = make_file (3000000);
  g_autofree char *sha = serve_lfs_file ("org/one", "model.safetensors", content);
  g_autofree char *target = g_strconcat ("../../blobs/", sha, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *again = NULL;
  g_autofree char *expected = g_strdup_printf ("%s/models--org--one/snapshots/" COMMIT "/model.safetensors",
                                               cache_dir);

  st_test_server_reset_counts (cdn);
  path = st_hub_download ("hf://org/one/model.safetensors", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, expected);
  assert_layout ("models--org--one", "model.safetensors", sha, target);
  assert_tensor (path, 3000000);
  g_assert_cmpuint (st_test_server_get_n_requests (cdn), ==, 1);
  {
    g_autofree char *tag_path = g_build_filename (cache_dir, "CACHEDIR.TAG", NULL);
    g_autofree char *tag = NULL;

    g_assert_true (g_file_get_contents (tag_path, &tag, NULL, NULL));
    g_assert_true (g_str_has_prefix (tag, "Signature: 8a477f597d28d172789f06886806bc55"));
  }

  again = st_hub_download ("hf://org/one/model.safetensors", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, path);
  g_assert_cmpuint (st_test_server_get_n_requests (cdn), ==, 1);
}

/* A download cut again and again fails, leaves blobs/ETAG.incomplete and no blob; the next call asks
 * for the rest only */
static void
test_resume (void)
{
  g_autoptr(GBytes) content = make_file (4000000);
  g_autofree char *sha = serve_lfs_file ("org/resume", "model.safetensors", content);
  g_autofree char *blob = g_strdup_printf ("%s/models--org--resume/blobs/%s", cache_dir, sha);
  g_autofree char *incomplete = g_strconcat (blob, ".incomplete", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  GStatBuf st;
  guint64 partial;

  st_test_server_reset_counts (cdn);
  st_test_server_set_fault (cdn, ST_FAULT_RESET_MID_BODY, 5);
  g_assert_null (st_hub_download ("hf://org/resume/model.safetensors", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
  g_clear_error (&error);
  g_assert_false (g_file_test (blob, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_stat (incomplete, &st), ==, 0);
  partial = (guint64) st.st_size;
  g_assert_cmpuint (partial, >, 0);
  g_assert_cmpuint (partial, <, g_bytes_get_size (content));

  st_test_server_set_fault (cdn, ST_FAULT_NONE, 0);
  st_test_server_reset_counts (cdn);
  path = st_hub_download ("hf://org/resume/model.safetensors", NULL, &error);
  g_assert_no_error (error);
  assert_tensor (path, 4000000);
  g_assert_false (g_file_test (incomplete, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (st_test_server_get_n_requests (cdn), ==, 1);
  st_test_server_wait_answers_sent (cdn);
  g_assert_cmpuint (st_test_server_get_body_bytes_sent (cdn), ==, g_bytes_get_size (content) - partial);
}

/* Bytes that are not what the Hub announced: an error, no blob, nothing left to resume from */
static void
test_checksum_mismatch (void)
{
  g_autoptr(GBytes) content = make_file (100000);
  g_autofree char *sha = serve_lfs_file ("org/bad", "model.safetensors", content);
  g_autofree char *blob_path = g_strdup_printf ("/cdn/%s?sig=x", sha);
  g_autofree char *blob = g_strdup_printf ("%s/models--org--bad/blobs/%s", cache_dir, sha);
  g_autofree char *incomplete = g_strconcat (blob, ".incomplete", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) same_size = g_byte_array_new ();

  /* same size, one byte different */
  g_byte_array_append (same_size, g_bytes_get_data (content, NULL), (guint) g_bytes_get_size (content));
  same_size->data[same_size->len - 1] ^= 1;
  {
    g_autoptr(GBytes) corrupt = g_byte_array_free_to_bytes (g_steal_pointer (&same_size));

    st_test_server_replace_content (cdn, blob_path, corrupt);
  }
  g_assert_null (st_hub_download ("hf://org/bad/model.safetensors", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "SHA-256"));
  g_assert_false (g_file_test (blob, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (incomplete, G_FILE_TEST_EXISTS));
}

static void
on_progress (guint64  done,
             guint64  total,
             gpointer data)
{
  guint64 *last = data;

  /* the count only grows, however many files come at once */
  g_assert_cmpuint (done, <=, total);
  g_assert_cmpuint (done, >=, last[0]);
  last[0] = done;
  last[1] = total;
}

/* filename -> the last (done, total) reported for it, and whether its first report was 0 */
static void
on_file (const char *filename,
         guint64     done,
         guint64     total,
         gpointer    data)
{
  GHashTable *files = data;
  guint64 *last = g_hash_table_lookup (files, filename);

  if (last == NULL)
    {
      last = g_new0 (guint64, 3);
      last[2] = done == 0;
      g_hash_table_insert (files, g_strdup (filename), last);
    }
  g_assert_cmpuint (done, >=, last[0]);
  last[0] = done;
  last[1] = total;
}

static gboolean files_notified;

static void
files_notify (gpointer data)
{
  files_notified = TRUE;
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* A sharded checkpoint: the index, then its shards, with progress over all of them */
static void
test_sharded (void)
{
  const char *index_json = "{\"metadata\":{\"total_size\":6000},\"weight_map\":{"
                           "\"a\":\"model-00001-of-00003.safetensors\",\"b\":\"model-00002-of-00003.safetensors\","
                           "\"c\":\"model-00003-of-00003.safetensors\"}}";
  g_autoptr(GBytes) index = g_bytes_new_static (index_json, strlen (index_json));
  const char *headers[] = { "X-Repo-Commit", COMMIT, NULL };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  guint64 total = g_bytes_get_size (index);
  guint64 last[2] = { 0, 0 };
  g_autoptr(GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  char *shas[3];

  /* the download does not open the shards: each may hold "t" whatever the weight map says */
  st_test_server_add_file (hub, "/org/sharded/resolve/main/model.safetensors.index.json", index, "\"git-sha1\"");
  st_test_server_set_headers (hub, "/org/sharded/resolve/main/model.safetensors.index.json", headers);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("model-%05u-of-00003.safetensors", i + 1);
      g_autoptr(GBytes) shard = make_file (1000 * (i + 1));

      shas[i] = serve_lfs_file ("org/sharded", name, shard);
      total += g_bytes_get_size (shard);
    }

  st_hub_download_async ("hf://org/sharded/model.safetensors.index.json", NULL, on_progress, last, NULL, on_file,
                         files, files_notify, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  path = st_hub_download_finish (result, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (path, "/snapshots/" COMMIT "/model.safetensors.index.json"));
  g_assert_cmpuint (last[0], ==, total);
  g_assert_cmpuint (last[1], ==, total);
  /* every file reported on its own, from 0 to its size, before the callback; the data freed then */
  g_assert_true (files_notified);
  g_assert_cmpuint (g_hash_table_size (files), ==, 4);
  {
    guint64 *index_report = g_hash_table_lookup (files, "model.safetensors.index.json");

    g_assert_nonnull (index_report);
    g_assert_cmpuint (index_report[0], ==, g_bytes_get_size (index));
    g_assert_cmpuint (index_report[2], ==, TRUE);
  }
  assert_layout ("models--org--sharded", "model.safetensors.index.json", "git-sha1", "../../blobs/git-sha1");
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("model-%05u-of-00003.safetensors", i + 1);
      g_autofree char *target = g_strconcat ("../../blobs/", shas[i], NULL);
      g_autofree char *shard_path = g_strdup_printf ("%s/models--org--sharded/snapshots/" COMMIT "/%s", cache_dir,
                                                     name);

      guint64 *report = g_hash_table_lookup (files, name);
      GStatBuf st;

      assert_layout ("models--org--sharded", name, shas[i], target);
      assert_tensor (shard_path, 1000 * (i + 1));
      g_assert_nonnull (report);
      g_assert_cmpint (g_stat (shard_path, &st), ==, 0);
      g_assert_cmpuint (report[0], ==, (guint64) st.st_size);
      g_assert_cmpuint (report[1], ==, (guint64) st.st_size);
      g_assert_cmpuint (report[2], ==, TRUE);
      g_free (shas[i]);
    }
}

/* A renamed repository: the Hub answers the old name with a relative redirect, followed to the new
 * name's answer (its redirect to the CDN); the cache keeps the name asked for, as huggingface_hub's */
static void
test_relative_redirect (void)
{
  g_autoptr(GBytes) content = make_file (5000);
  g_autofree char *sha = serve_lfs_file ("org/new-name", "model.safetensors", content);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expected = g_strdup_printf ("%s/models--org--old-name/snapshots/" COMMIT "/model.safetensors",
                                               cache_dir);

  st_test_server_add_redirect (hub, "/org/old-name/resolve/main/model.safetensors", 307,
                               "/org/new-name/resolve/main/model.safetensors", NULL);
  st_test_server_reset_counts (hub);
  path = st_hub_download ("hf://org/old-name/model.safetensors", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, expected);
  assert_tensor (path, 5000);
  g_assert_cmpuint (st_test_server_get_n_requests_for (hub, "/org/old-name/resolve/main/model.safetensors"), ==, 1);
  g_assert_cmpuint (st_test_server_get_n_requests_for (hub, "/org/new-name/resolve/main/model.safetensors"), ==, 1);
  (void) sha;
}

/* Dataset and Space repositories, as huggingface_hub addresses them: `hf://datasets/ORG/NAME/FILE` and
 * `hf://spaces/…` (its HF URIs, constants.py HF_URI_TYPE_PREFIXES), the Hub's URLs
 * `ENDPOINT/datasets/ORG/NAME/resolve/REV/FILE` (REPO_TYPES_URL_PREFIXES, hf_hub_url()), cache folders
 * `datasets--ORG--NAME` and `spaces--ORG--NAME` (file_download.py repo_folder_name(): the type's plural,
 * then the id's parts, joined by "--"), and the lock in `.locks/` under the same folder name. The
 * expectations are written out here from those definitions. */
static void
test_address_types (void)
{
  struct {
    const char *address;
    StHubRepoType repo_type;
    const char *repo_id;
    const char *revision;
    const char *filename;
    const char *url_path;  /* after the endpoint */
    const char *folder;
  } cases[] = {
    { "hf://org/name/model.safetensors", ST_HUB_REPO_MODEL, "org/name", "main", "model.safetensors",
      "/org/name/resolve/main/model.safetensors", "models--org--name" },
    { "hf://models/org/name@v1/model.safetensors", ST_HUB_REPO_MODEL, "org/name", "v1", "model.safetensors",
      "/org/name/resolve/v1/model.safetensors", "models--org--name" },
    { "hf://datasets/org/data/train/part.safetensors", ST_HUB_REPO_DATASET, "org/data", "main",
      "train/part.safetensors", "/datasets/org/data/resolve/main/train/part.safetensors", "datasets--org--data" },
    { "hf://datasets/org/data@refs%2Fconvert%2Fparquet/x.safetensors", ST_HUB_REPO_DATASET, "org/data",
      "refs/convert/parquet", "x.safetensors", "/datasets/org/data/resolve/refs%2Fconvert%2Fparquet/x.safetensors",
      "datasets--org--data" },
    { "hf://spaces/org/demo/model.safetensors", ST_HUB_REPO_SPACE, "org/demo", "main", "model.safetensors",
      "/spaces/org/demo/resolve/main/model.safetensors", "spaces--org--demo" },
    { "ENDPOINT/datasets/org/data/resolve/main/a.safetensors", ST_HUB_REPO_DATASET, "org/data", "main",
      "a.safetensors", "/datasets/org/data/resolve/main/a.safetensors", "datasets--org--data" },
    { "ENDPOINT/spaces/org/demo/resolve/abc/a.safetensors", ST_HUB_REPO_SPACE, "org/demo", "abc",
      "a.safetensors", "/spaces/org/demo/resolve/abc/a.safetensors", "spaces--org--demo" },
    { "ENDPOINT/org/name/resolve/main/a.safetensors", ST_HUB_REPO_MODEL, "org/name", "main", "a.safetensors",
      "/org/name/resolve/main/a.safetensors", "models--org--name" },
  };
  const char *refused[] = {
    "hf://datasets/org/model.safetensors",       /* no name after the type */
    "hf://kernels/org/name/model.safetensors",   /* huggingface_hub's other types */
    "hf://buckets/org/name/model.safetensors",
    "ENDPOINT/models/org/name/resolve/main/a.safetensors",  /* the Hub's URLs have no models/ */
    "ENDPOINT/datasets/org/data/blob/main/a.safetensors",
  };
  const char *endpoint = g_getenv ("HF_ENDPOINT");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *address = g_str_has_prefix (cases[i].address, "ENDPOINT")
                                 ? g_strconcat (endpoint, cases[i].address + strlen ("ENDPOINT"), NULL)
                                 : g_strdup (cases[i].address);
      g_auto(StHubAddress) parsed = { 0 };
      g_autofree char *url = NULL;
      g_autofree char *expected_url = g_strconcat (endpoint, cases[i].url_path, NULL);
      g_autofree char *folder = NULL;
      g_autofree char *repo_dir = NULL;
      g_autofree char *expected_dir = g_build_filename (cache_dir, cases[i].folder, NULL);

      g_test_message ("%s", address);
      g_assert_true (st_hub_address_parse (address, &parsed));
      g_assert_cmpint (parsed.repo_type, ==, cases[i].repo_type);
      g_assert_cmpstr (parsed.repo_id, ==, cases[i].repo_id);
      g_assert_cmpstr (parsed.revision, ==, cases[i].revision);
      g_assert_cmpstr (parsed.filename, ==, cases[i].filename);
      url = st_hub_address_to_url (&parsed);
      g_assert_cmpstr (url, ==, expected_url);
      folder = st_hub_address_dup_repo_folder (&parsed);
      g_assert_cmpstr (folder, ==, cases[i].folder);
      repo_dir = st_hub_address_dup_repo_dir (&parsed);
      g_assert_cmpstr (repo_dir, ==, expected_dir);
    }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *address = g_str_has_prefix (refused[i], "ENDPOINT")
                                 ? g_strconcat (endpoint, refused[i] + strlen ("ENDPOINT"), NULL)
                                 : g_strdup (refused[i]);
      g_auto(StHubAddress) parsed = { 0 };
      g_autoptr(GError) error = NULL;

      g_test_message ("refused: %s", address);
      g_assert_false (st_hub_address_parse (address, &parsed));
      g_assert_null (st_hub_download (address, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
}

/* A dataset's file in a folder and a Space's file, downloaded: their resolve URLs are asked for, and the
 * cache holds them where huggingface_hub's try_to_load_from_cache(repo_id, filename, repo_type=...)
 * looks (HF_HUB_CACHE/datasets--org--data/snapshots/COMMIT/train/part.safetensors, a link one folder
 * deeper to ../../../blobs/ETAG; refs/main; .locks/datasets--org--data/ETAG.lock); offline, the cache
 * answers for them */
static void
test_dataset_and_space (void)
{
  g_autoptr(GBytes) data_content = make_file (200000);
  g_autoptr(GBytes) space_content = make_file (3000);
  g_autofree char *data_sha = serve_lfs_file ("datasets/org/data", "train/part.safetensors", data_content);
  g_autofree char *space_sha = serve_lfs_file ("spaces/org/demo", "model.safetensors", space_content);
  g_autofree char *data_target = g_strconcat ("../../../blobs/", data_sha, NULL);
  g_autofree char *space_target = g_strconcat ("../../blobs/", space_sha, NULL);
  g_autofree char *data_expected = g_strdup_printf ("%s/datasets--org--data/snapshots/" COMMIT
                                                    "/train/part.safetensors", cache_dir);
  g_autofree char *space_expected = g_strdup_printf ("%s/spaces--org--demo/snapshots/" COMMIT "/model.safetensors",
                                                     cache_dir);
  g_autofree char *space_url = g_strconcat (g_getenv ("HF_ENDPOINT"), "/spaces/org/demo/resolve/main/model.safetensors",
                                            NULL);
  g_autofree char *models_folder = g_build_filename (cache_dir, "models--org--data", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *data_path = NULL;
  g_autofree char *space_path = NULL;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  st_test_server_reset_counts (hub);
  data_path = st_hub_download ("hf://datasets/org/data/train/part.safetensors", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (data_path, ==, data_expected);
  assert_layout ("datasets--org--data", "train/part.safetensors", data_sha, data_target);
  assert_tensor (data_path, 200000);
  g_assert_cmpuint (st_test_server_get_n_requests_for (hub, "/datasets/org/data/resolve/main/train/part.safetensors"),
                    >=, 1);
  g_assert_false (g_file_test (models_folder, G_FILE_TEST_EXISTS));

  space_path = st_hub_download (space_url, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (space_path, ==, space_expected);
  assert_layout ("spaces--org--demo", "model.safetensors", space_sha, space_target);
  assert_tensor (space_path, 3000);

  /* offline: found in the cache, no request */
  g_setenv ("HF_HUB_OFFLINE", "1", TRUE);
  st_test_server_reset_counts (hub);
  {
    g_autofree char *cached = st_hub_download ("hf://datasets/org/data/train/part.safetensors", NULL, &error);
    g_autoptr(STFile) file = NULL;

    g_assert_no_error (error);
    g_assert_cmpstr (cached, ==, data_expected);
    file = st_file_new_from_uri ("hf://spaces/org/demo/model.safetensors", NULL, &error);
    g_assert_no_error (error);
    g_assert_false (st_file_is_remote (file));
    /* a model of the same name is another repository */
    g_assert_null (st_hub_download ("hf://org/data/train/part.safetensors", NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  }
  g_assert_cmpuint (st_test_server_get_n_requests (hub), ==, 0);
}

/* Not the Hub's: refused; HF_HUB_OFFLINE: the cache alone */
static void
test_addresses_and_offline (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (st_hub_download ("https://example.invalid/x.safetensors", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  {
    g_autoptr(GBytes) content = make_file (1000);
    g_autofree char *sha = serve_lfs_file ("org/offline", "model.safetensors", content);
    g_autofree char *path = st_hub_download ("hf://org/offline/model.safetensors", NULL, &error);
    g_autofree char *cached = NULL;

    g_assert_no_error (error);
    g_setenv ("HF_HUB_OFFLINE", "1", TRUE);
    st_test_server_reset_counts (hub);
    cached = st_hub_download ("hf://org/offline/model.safetensors", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (cached, ==, path);
    g_assert_null (st_hub_download ("hf://org/offline/other.safetensors", NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_cmpuint (st_test_server_get_n_requests (hub), ==, 0);
    (void) sha;
  }
}

/* A full disk under the cache (a small tmpfs, as root): an error, no blob under its final name, and
 * what was written stays to be resumed */
static void
test_full_disk (void)
{
  g_autofree char *mount_point = NULL;
  g_autoptr(GError) error = NULL;

  if (getuid () != 0)
    {
      g_test_skip ("mounting a small tmpfs needs root");
      return;
    }
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  mount_point = g_dir_make_tmp ("st-full-XXXXXX", NULL);
  if (mount ("tmpfs", mount_point, "tmpfs", 0, "size=1m") != 0)
    {
      g_test_skip ("this system refuses to mount a tmpfs");
      return;
    }
  g_setenv ("HF_HUB_CACHE", mount_point, TRUE);
  {
    g_autoptr(GBytes) content = make_file (3000000);
    g_autofree char *sha = serve_lfs_file ("org/full", "model.safetensors", content);
    g_autofree char *blob = g_strdup_printf ("%s/models--org--full/blobs/%s", mount_point, sha);
    g_autofree char *incomplete = g_strconcat (blob, ".incomplete", NULL);

    g_assert_null (st_hub_download ("hf://org/full/model.safetensors", NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
    g_assert_false (g_file_test (blob, G_FILE_TEST_EXISTS));
    g_assert_true (g_file_test (incomplete, G_FILE_TEST_EXISTS));
  }
  umount2 (mount_point, MNT_DETACH);
  g_rmdir (mount_point);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                                                   G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                                                   G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  GFileInfo *info;

  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_unlink (child);
      g_object_unref (info);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  /* the environment first, then the servers, whose threads never read it; no thread of the library's
   * exists yet */
  g_setenv ("HF_HUB_DOWNLOAD_TIMEOUT", "10", TRUE);
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");
  g_setenv ("no_proxy", "127.0.0.1,127.0.0.2,localhost", TRUE);
  g_unsetenv ("HF_TOKEN");
  g_unsetenv ("HUGGING_FACE_HUB_TOKEN");
  g_unsetenv ("HF_HUB_OFFLINE");
  g_setenv ("HF_TOKEN_PATH", "/nonexistent/st-test/token", TRUE);
  cache_dir = g_dir_make_tmp ("st-hub-cache-XXXXXX", NULL);
  g_setenv ("HF_HUB_CACHE", cache_dir, TRUE);
  hub = st_test_server_new ("127.0.0.1");
  cdn = st_test_server_new ("127.0.0.2");
  g_setenv ("HF_ENDPOINT", st_test_server_get_url (hub), TRUE);

  g_test_add_func ("/hub-download/file", test_file);
  g_test_add_func ("/hub-download/resume", test_resume);
  g_test_add_func ("/hub-download/checksum-mismatch", test_checksum_mismatch);
  g_test_add_func ("/hub-download/sharded", test_sharded);
  g_test_add_func ("/hub-download/relative-redirect", test_relative_redirect);
  g_test_add_func ("/hub-download/addresses-and-offline", test_addresses_and_offline);
  g_test_add_func ("/hub-download/address-types", test_address_types);
  g_test_add_func ("/hub-download/dataset-and-space", test_dataset_and_space);
  g_test_add_func ("/hub-download/full-disk", test_full_disk);

  status = g_test_run ();
  st_test_server_free (hub);
  st_test_server_free (cdn);
  remove_tree (cache_dir);
  g_free (cache_dir);
  return status;
}
