/* test-source.c: byte sources and read plans, against a server on the loopback interface
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every answer the server gives is one a real server gives (or a broken one): the source must read
 * exactly the bytes asked for, or fail with an error that says what went wrong, in a bounded number of
 * requests. The served bytes follow a formula (byte i is (7 i + 3) mod 256), so the expected values
 * come from the formula, not from the code under test.
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "st-source-private.h"
#include "st-test-server.h"

static guint8
expected_byte (guint64 i)
{
  return (guint8) (i * 7 + 3);
}

static GBytes *
formula_bytes (gsize size)
{
  guint8 *data = g_malloc (MAX (size, 1));

  for (gsize i = 0; i < size; i++)
    data[i] = expected_byte (i);
  return g_bytes_new_take (data, size);
}

static void
assert_formula (const guint8 *data,
                guint64       offset,
                gsize         len)
{
  for (gsize i = 0; i < len; i++)
    if (data[i] != expected_byte (offset + i))
      g_error ("byte %" G_GUINT64_FORMAT " is %u, not %u", offset + i, data[i], expected_byte (offset + i));
}

typedef struct {
  StTestServer *server;
  char         *url;
  gsize         size;
} Fixture;

#define FILE_SIZE ((gsize) 32 * 1024 * 1024)

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GBytes) content = formula_bytes (FILE_SIZE);

  fixture->server = st_test_server_new ("127.0.0.1");
  fixture->size = FILE_SIZE;
  st_test_server_add_file (fixture->server, "/data.bin", content, "\"v1\"");
  fixture->url = g_strconcat (st_test_server_get_url (fixture->server), "/data.bin", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  st_test_server_free (fixture->server);
  g_free (fixture->url);
}

static StSource *
open_source (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  StSource *source = st_source_new_for_uri (fixture->url, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (source);
  return source;
}

static gboolean
read_one (StSource  *source,
          guint64    offset,
          gsize      len,
          guint8    *dest,
          GError   **error)
{
  g_autoptr(StReadPlan) plan = st_read_plan_new ();

  st_read_plan_add (plan, offset, len, dest);
  return st_read_plan_execute (plan, source, NULL, NULL, NULL, error);
}

static void
test_prefix (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(StSource) source = open_source (fixture);
  g_autoptr(GError) error = NULL;
  guint8 buf[100000];
  gsize got = 0;

  g_assert_cmpuint (st_source_get_size (source), ==, G_MAXUINT64);
  g_assert_true (st_source_read_prefix (source, buf, sizeof buf, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (got, ==, sizeof buf);
  assert_formula (buf, 0, got);
  g_assert_cmpuint (st_source_get_size (source), ==, fixture->size);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 1);
  {
    g_autofree char *etag = st_source_dup_etag (source);

    g_assert_cmpstr (etag, ==, "\"v1\"");
  }
}

/* A prefix longer than the file gives the file: how a small file's header is read */
static void
test_prefix_of_small_file (void)
{
  g_autoptr(StTestServer) server = st_test_server_new ("127.0.0.1");
  g_autoptr(GBytes) content = formula_bytes (1000);
  g_autofree char *url = g_strconcat (st_test_server_get_url (server), "/small", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StSource) source = NULL;
  guint8 buf[4096];
  gsize got = 0;

  st_test_server_add_file (server, "/small", content, NULL);
  source = st_source_new_for_uri (url, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (st_source_read_prefix (source, buf, sizeof buf, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (got, ==, 1000);
  assert_formula (buf, 0, got);
  g_assert_cmpuint (st_source_get_size (source), ==, 1000);

  /* and a server that ignores Range gives the same */
  st_test_server_set_fault (server, ST_FAULT_IGNORE_RANGE, 0);
  g_clear_pointer (&source, st_source_unref);
  source = st_source_new_for_uri (url, NULL, NULL, &error);
  memset (buf, 0, sizeof buf);
  g_assert_true (st_source_read_prefix (source, buf, sizeof buf, &got, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (got, ==, 1000);
  assert_formula (buf, 0, got);
}

/* Three neighbouring ranges and one far away: two requests, each range filled */
static void
test_plan_coalesces (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(StSource) source = open_source (fixture);
  g_autoptr(StReadPlan) plan = st_read_plan_new ();
  g_autoptr(GError) error = NULL;
  static const guint64 offsets[] = { 1000, 3000, 5000, 3500000 };
  static const gsize lengths[] = { 2000, 1000, 100, 500000 };
  guint8 *bufs[G_N_ELEMENTS (offsets)];

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      bufs[i] = g_malloc0 (lengths[i]);
      st_read_plan_add (plan, offsets[i], lengths[i], bufs[i]);
    }
  g_assert_cmpuint (st_read_plan_get_n_bytes (plan), ==, 2000 + 1000 + 100 + 500000);
  g_assert_cmpuint (st_read_plan_get_n_spans (plan, source), ==, 2);
  g_assert_true (st_read_plan_execute (plan, source, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      assert_formula (bufs[i], offsets[i], lengths[i]);
      g_free (bufs[i]);
    }
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 2);
}

static void
count_bytes (guint64  n_bytes,
             gpointer data)
{
  g_atomic_pointer_add ((gsize *) data, (gssize) n_bytes);
}

/* Many far-apart ranges: read in parallel threads, every byte told to the progress once */
static void
test_plan_parallel (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(StSource) source = open_source (fixture);
  g_autoptr(StReadPlan) plan = st_read_plan_new ();
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc (fixture->size);
  gsize told = 0;
  const gsize chunk = fixture->size / 16;

  /* every other chunk of 2 MiB: the gaps are too wide to join */
  for (gsize offset = 0; offset < fixture->size; offset += 2 * chunk)
    st_read_plan_add (plan, offset, chunk, buf + offset);
  g_assert_cmpuint (st_read_plan_get_n_spans (plan, source), ==, 8);
  g_assert_true (st_read_plan_execute (plan, source, count_bytes, &told, NULL, &error));
  g_assert_no_error (error);
  for (gsize offset = 0; offset < fixture->size; offset += 2 * chunk)
    assert_formula (buf + offset, offset, chunk);
  g_assert_cmpuint (told, ==, fixture->size / 2);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 8);
}

/* One request after another: one connection, kept alive (a range read to its end gives the connection
 * back to the session's pool, so the next costs a round trip, not a new connection) */
static void
test_connection_reuse (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(StSource) source = open_source (fixture);
  g_autoptr(GError) error = NULL;
  guint8 buf[1000];
  gsize got = 0;

  g_assert_true (st_source_read_prefix (source, buf, sizeof buf, &got, NULL, &error));
  for (guint i = 1; i <= 3; i++)
    {
      g_assert_true (read_one (source, i * 5000000, sizeof buf, buf, &error));
      g_assert_no_error (error);
      assert_formula (buf, i * 5000000, sizeof buf);
    }
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 4);
  g_assert_cmpuint (st_test_server_get_n_connections (fixture->server), ==, 1);
}

/* A 200 with the whole body: the bytes wanted are read, the rest is not */
static void
test_ignores_range (void)
{
  g_autoptr(StTestServer) server = st_test_server_new ("127.0.0.1");
  const gsize size = 64 * 1024 * 1024;
  g_autoptr(GBytes) content = formula_bytes (size);
  g_autofree char *url = g_strconcat (st_test_server_get_url (server), "/big", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StSource) source = NULL;
  guint8 buf[1000];

  st_test_server_add_file (server, "/big", content, "\"big\"");
  st_test_server_set_fault (server, ST_FAULT_IGNORE_RANGE, 0);
  source = st_source_new_for_uri (url, NULL, NULL, &error);
  g_assert_true (read_one (source, 200000, sizeof buf, buf, &error));
  g_assert_no_error (error);
  assert_formula (buf, 200000, sizeof buf);
  g_assert_cmpuint (st_source_get_size (source), ==, size);
  /* the answer ended when we closed the connection: far from the whole 64 MiB (socket buffers hold a few) */
  st_test_server_wait_answers_sent (server);
  g_test_message ("body bytes sent: %" G_GUINT64_FORMAT, st_test_server_get_body_bytes_sent (server));
  g_assert_cmpuint (st_test_server_get_body_bytes_sent (server), <, size / 2);
}

/* Each broken answer, with the error it must give and the requests it may cost */
static void
expect_fault (Fixture      *fixture,
              StFault       fault,
              guint         fault_count,
              GQuark        domain,
              int           code,
              const char   *in_message,
              guint         max_requests)
{
  g_autoptr(StSource) source = open_source (fixture);
  g_autoptr(GError) error = NULL;
  guint8 buf[5000];
  gsize got = 0;

  /* the first read pins the file, as an open does */
  g_assert_true (st_source_read_prefix (source, buf, 100, &got, NULL, &error));
  g_assert_no_error (error);
  st_test_server_reset_counts (fixture->server);
  st_test_server_set_fault (fixture->server, fault, fault_count);

  g_assert_false (read_one (source, 10000, sizeof buf, buf, &error));
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, in_message));
  g_assert_nonnull (strstr (error->message, "/data.bin"));
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), <=, max_requests);
}

static void
test_no_content_range (Fixture *fixture, gconstpointer data)
{
  expect_fault (fixture, ST_FAULT_NO_CONTENT_RANGE, 0, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "without a valid Content-Range", 1);
}

static void
test_wrong_content_range (Fixture *fixture, gconstpointer data)
{
  expect_fault (fixture, ST_FAULT_WRONG_CONTENT_RANGE, 0, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the server sent 10001-14999", 1);
}

static void
test_416 (Fixture *fixture, gconstpointer data)
{
  expect_fault (fixture, ST_FAULT_ALWAYS_416, 0, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "HTTP 416", 1);
}

static void
test_body_longer (Fixture *fixture, gconstpointer data)
{
  expect_fault (fixture, ST_FAULT_BODY_LONGER, 0, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "announces 5001 bytes for a range of 5000", 1);
}

static void
test_changed_between_requests (Fixture *fixture, gconstpointer data)
{
  /* the counts were reset after the first request: "after the first" is the second from here on */
  st_test_server_set_fault (fixture->server, ST_FAULT_CHANGE_AFTER_FIRST, 0);
  {
    g_autoptr(StSource) source = open_source (fixture);
    g_autoptr(GError) error = NULL;
    guint8 buf[5000];
    gsize got = 0;

    g_assert_true (st_source_read_prefix (source, buf, 100, &got, NULL, &error));
    g_assert_no_error (error);
    assert_formula (buf, 0, 100);
    g_assert_false (read_one (source, 10000, sizeof buf, buf, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "changed on the server"));
  }
}

static void
test_5xx_always (Fixture *fixture, gconstpointer data)
{
  /* five tries, then the server's answer */
  expect_fault (fixture, ST_FAULT_5XX, 1000, G_IO_ERROR, G_IO_ERROR_FAILED, "HTTP 503", 5);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 5);
}

static void
test_body_shorter_always (Fixture *fixture, gconstpointer data)
{
  expect_fault (fixture, ST_FAULT_RESET_MID_BODY, 1000, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "(after 5 tries)", 5);
}

/* Faults that pass: the read succeeds, with the retries counted */
static void
expect_recovery (Fixture *fixture,
                 StFault  fault,
                 guint    fault_count,
                 guint    n_requests)
{
  g_autoptr(StSource) source = open_source (fixture);
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc (1000000);
  gsize got = 0;
  gsize told = 0;
  g_autoptr(StReadPlan) plan = st_read_plan_new ();

  g_assert_true (st_source_read_prefix (source, buf, 100, &got, NULL, &error));
  g_assert_no_error (error);
  st_test_server_reset_counts (fixture->server);
  st_test_server_set_fault (fixture->server, fault, fault_count);

  st_read_plan_add (plan, 123456, 1000000, buf);
  g_assert_true (st_read_plan_execute (plan, source, count_bytes, &told, NULL, &error));
  g_assert_no_error (error);
  assert_formula (buf, 123456, 1000000);
  g_assert_cmpuint (told, ==, 1000000);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, n_requests);
}

static void
test_5xx_then_success (Fixture *fixture, gconstpointer data)
{
  expect_recovery (fixture, ST_FAULT_5XX, 2, 3);
}

static void
test_reset_resumes (Fixture *fixture, gconstpointer data)
{
  /* half the body, then the connection closes: the next request asks for the rest only */
  expect_recovery (fixture, ST_FAULT_RESET_MID_BODY, 2, 3);
  st_test_server_wait_answers_sent (fixture->server);
  g_assert_cmpuint (st_test_server_get_body_bytes_sent (fixture->server), ==, 500000 + 250000 + 250000);
}

/* A server that stops sending: a timeout (HF_HUB_DOWNLOAD_TIMEOUT, set to 3 s by main()), not a hang */
static void
test_stall (Fixture *fixture, gconstpointer data)
{
  expect_fault (fixture, ST_FAULT_STALL, 0, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "", 1);
}

/* A redirect loop ends after a bounded number of requests */
static void
test_redirect_loop (void)
{
  g_autoptr(StTestServer) server = st_test_server_new ("127.0.0.1");
  g_autofree char *url = g_strconcat (st_test_server_get_url (server), "/a", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StSource) source = NULL;
  guint8 buf[100];
  gsize got;

  st_test_server_add_redirect (server, "/a", 302, "/b", NULL);
  st_test_server_add_redirect (server, "/b", 307, "a", NULL);
  source = st_source_new_for_uri (url, NULL, NULL, &error);
  g_assert_false (st_source_read_prefix (source, buf, sizeof buf, &got, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "redirects"));
  g_assert_cmpuint (st_test_server_get_n_requests (server), ==, 11);
}

/* The token goes to its host; a redirect to another host (the CDN) gets none, and later reads go
 * straight to the CDN */
static void
test_token_not_forwarded (void)
{
  g_autoptr(StTestServer) hub = st_test_server_new ("127.0.0.1");
  g_autoptr(StTestServer) cdn = st_test_server_new ("127.0.0.2");
  g_autoptr(GBytes) content = formula_bytes (300000);
  g_autofree char *cdn_url = g_strconcat (st_test_server_get_url (cdn), "/blob?signature=secret", NULL);
  g_autofree char *url = g_strconcat (st_test_server_get_url (hub), "/org/name/resolve/main/f", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StSource) source = NULL;
  guint8 buf[1000];
  gsize got;

  st_test_server_add_redirect (hub, "/org/name/resolve/main/f", 302, cdn_url, NULL);
  st_test_server_require_token (hub, "hf_testtoken", FALSE);
  st_test_server_add_file (cdn, "/blob?signature=secret", content, "\"sha\"");
  source = st_source_new_for_uri (url, "hf_testtoken", st_test_server_get_url (hub), &error);
  g_assert_no_error (error);
  g_assert_true (st_source_read_prefix (source, buf, sizeof buf, &got, NULL, &error));
  g_assert_no_error (error);
  assert_formula (buf, 0, got);
  g_assert_true (read_one (source, 200000, sizeof buf, buf, &error));
  g_assert_no_error (error);
  assert_formula (buf, 200000, sizeof buf);

  g_assert_cmpuint (st_test_server_get_n_requests (hub), ==, 1);
  g_assert_cmpuint (st_test_server_get_n_authorized (hub), ==, 1);
  g_assert_cmpuint (st_test_server_get_n_requests (cdn), ==, 2);
  g_assert_cmpuint (st_test_server_get_n_authorized (cdn), ==, 0);
  /* another port of the same host is another origin: no token */
  {
    g_autoptr(StTestServer) other = st_test_server_new ("127.0.0.1");
    g_autofree char *other_url = g_strconcat (st_test_server_get_url (other), "/blob", NULL);
    g_autoptr(StSource) other_source = NULL;

    st_test_server_add_file (other, "/blob", content, NULL);
    other_source = st_source_new_for_uri (other_url, "hf_testtoken", st_test_server_get_url (hub), &error);
    g_assert_true (st_source_read_prefix (other_source, buf, sizeof buf, &got, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (st_test_server_get_n_authorized (other), ==, 0);
  }
  /* the name in messages holds no query (where a CDN keeps its signature) */
  g_assert_null (strstr (st_source_get_name (source), "secret"));
}

/* A missing token, a refused one, and the Hub's error codes: each named, no token in any message */
static void
test_hub_errors (void)
{
  g_autoptr(StTestServer) hub = st_test_server_new ("127.0.0.1");
  struct {
    const char *path;
    guint status;
    const char *code;
    int error_code;
    const char *phrase;
  } cases[] = {
    { "/org/gone/resolve/main/f", 401, "RepoNotFound", G_IO_ERROR_NOT_FOUND, "repository does not exist" },
    { "/org/name/resolve/v9/f", 404, "RevisionNotFound", G_IO_ERROR_NOT_FOUND, "revision does not exist" },
    { "/org/name/resolve/main/g", 404, "EntryNotFound", G_IO_ERROR_NOT_FOUND, "file does not exist" },
    { "/org/gated/resolve/main/f", 401, "GatedRepo", G_IO_ERROR_PERMISSION_DENIED, "gated: a token" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *url = g_strconcat (st_test_server_get_url (hub), cases[i].path, NULL);
      g_autoptr(StSource) source = st_source_new_for_uri (url, NULL, NULL, NULL);
      g_autoptr(GError) error = NULL;
      guint8 buf[10];
      gsize got;

      st_test_server_add_error (hub, cases[i].path, cases[i].status, cases[i].code);
      g_assert_false (st_source_read_prefix (source, buf, sizeof buf, &got, NULL, &error));
      g_assert_error (error, G_IO_ERROR, cases[i].error_code);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].phrase));
      g_assert_nonnull (strstr (error->message, cases[i].path));
    }

  /* a wrong token: refused, and never in the message */
  {
    g_autoptr(GBytes) content = formula_bytes (100);
    g_autofree char *url = g_strconcat (st_test_server_get_url (hub), "/org/private/resolve/main/f", NULL);
    g_autoptr(StSource) source = st_source_new_for_uri (url, "hf_wrongtoken", NULL, NULL);
    g_autoptr(GError) error = NULL;
    guint8 buf[10];
    gsize got;

    st_test_server_add_file (hub, "/org/private/resolve/main/f", content, NULL);
    st_test_server_require_token (hub, "hf_righttoken", TRUE);
    g_assert_false (st_source_read_prefix (source, buf, sizeof buf, &got, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "token was refused"));
    g_assert_null (strstr (error->message, "hf_"));
  }
}

/* The local source reads what pread() reads, and says where a file ends short */
static void
test_fd_source (void)
{
  g_autoptr(GBytes) content = formula_bytes (100000);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(StSource) source = NULL;
  g_autoptr(StReadPlan) plan = st_read_plan_new ();
  guint8 a[100], b[1000], c[10];
  int fd = g_file_open_tmp ("st-source-XXXXXX", &path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (write (fd, g_bytes_get_data (content, NULL), 100000), ==, 100000);
  source = st_source_new_for_fd (fd, path, &error);
  g_assert_no_error (error);
  g_close (fd, NULL);
  g_assert_cmpuint (st_source_get_size (source), ==, 100000);
  st_read_plan_add (plan, 50000, sizeof b, b);
  st_read_plan_add (plan, 0, sizeof a, a);
  g_assert_true (st_read_plan_execute (plan, source, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_formula (a, 0, sizeof a);
  assert_formula (b, 50000, sizeof b);
  g_assert_false (read_one (source, 99995, sizeof c, c, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
  g_unlink (path);
}

/* Not an HTTP address */
static void
test_bad_address (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (st_source_new_for_uri ("ftp://example.invalid/x", NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* A cancelled read stops at once */
static void
test_cancelled (Fixture *fixture, gconstpointer data)
{
  g_autoptr(StSource) source = open_source (fixture);
  g_autoptr(StReadPlan) plan = st_read_plan_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  guint8 buf[100];

  g_cancellable_cancel (cancellable);
  st_read_plan_add (plan, 0, sizeof buf, buf);
  g_assert_false (st_read_plan_execute (plan, source, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (st_test_server_get_n_requests (fixture->server), ==, 0);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  /* before the session exists: a stalled server fails in three seconds of silence, long enough that
   * no answer of a live server on a loaded machine is ever taken for a stall */
  g_setenv ("HF_HUB_DOWNLOAD_TIMEOUT", "3", TRUE);
  /* no proxy between the tests and their servers */
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("https_proxy");
  g_unsetenv ("HTTPS_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");
  g_setenv ("no_proxy", "127.0.0.1,127.0.0.2,localhost", TRUE);
  g_test_init (&argc, &argv, NULL);

  ADD ("/source/http/prefix", test_prefix);
  g_test_add_func ("/source/http/prefix-of-small-file", test_prefix_of_small_file);
  ADD ("/source/http/plan/coalesces", test_plan_coalesces);
  ADD ("/source/http/plan/parallel", test_plan_parallel);
  ADD ("/source/http/cancelled", test_cancelled);
  ADD ("/source/http/connection-reuse", test_connection_reuse);
  g_test_add_func ("/source/http/fault/ignores-range", test_ignores_range);
  ADD ("/source/http/fault/no-content-range", test_no_content_range);
  ADD ("/source/http/fault/wrong-content-range", test_wrong_content_range);
  ADD ("/source/http/fault/416", test_416);
  ADD ("/source/http/fault/body-longer", test_body_longer);
  ADD ("/source/http/fault/body-shorter", test_body_shorter_always);
  ADD ("/source/http/fault/changed", test_changed_between_requests);
  ADD ("/source/http/fault/5xx-always", test_5xx_always);
  ADD ("/source/http/fault/5xx-then-success", test_5xx_then_success);
  ADD ("/source/http/fault/reset-resumes", test_reset_resumes);
  ADD ("/source/http/fault/stall", test_stall);
  g_test_add_func ("/source/http/redirect-loop", test_redirect_loop);
  g_test_add_func ("/source/http/token-not-forwarded", test_token_not_forwarded);
  g_test_add_func ("/source/http/hub-errors", test_hub_errors);
  g_test_add_func ("/source/fd", test_fd_source);
  g_test_add_func ("/source/bad-address", test_bad_address);

  return g_test_run ();
}
