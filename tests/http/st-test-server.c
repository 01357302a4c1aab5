/* st-test-server.c: an HTTP server on the loopback interface, for the remote tests
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "st-test-server.h"

#define MAX_REQUEST_HEAD 16384
#define SEND_CHUNK 65536

typedef struct {
  guint   status;         /* 0: a file */
  GBytes *content;
  GBytes *changed;        /* ST_FAULT_CHANGE_AFTER_FIRST's other version */
  char   *etag;
  char   *location;
  char   *error_code;
  char  **headers;
} Resource;

struct _StTestServer
{
  GSocket    *listener;
  char       *url;
  GThread    *accept_thread;
  GMutex      lock;
  GCond       stopped_cond;
  gboolean    stopping;
  GHashTable *resources;   /* path -> Resource */
  GHashTable *counts;      /* path -> GUINT_TO_POINTER (n) */
  GPtrArray  *connections; /* GSocket * */
  GPtrArray  *threads;     /* GThread * */
  StFault     fault;
  guint       fault_count;
  char       *token;
  gboolean    gated;
  guint       n_requests;
  guint       n_authorized;
  guint64     body_bytes_sent;
  guint       n_connections;
  guint       n_serving;   /* answers being sent */
  GCond       served_cond;
  char       *hold_suffix;      /* answers wait for hold_connections connections */
  guint       hold_connections;
  char       *barrier_suffix;
  guint       barrier_count;
  guint       barrier_waiting;
  gboolean    barrier_open;
  guint       max_at_barrier;
};

static void
resource_free (gpointer data)
{
  Resource *resource = data;

  g_clear_pointer (&resource->content, g_bytes_unref);
  g_clear_pointer (&resource->changed, g_bytes_unref);
  g_free (resource->etag);
  g_free (resource->location);
  g_free (resource->error_code);
  g_strfreev (resource->headers);
  g_free (resource);
}

static gboolean
send_all (StTestServer *server,
          GSocket      *socket,
          const void   *data,
          gsize         len,
          gboolean      is_body)
{
  const guint8 *p = data;

  while (len > 0)
    {
      gssize n = g_socket_send (socket, (const char *) p, MIN (len, SEND_CHUNK), NULL, NULL);

      if (n <= 0)
        return FALSE;
      if (is_body)
        {
          g_mutex_lock (&server->lock);
          server->body_bytes_sent += (guint64) n;
          g_mutex_unlock (&server->lock);
        }
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
send_head (StTestServer *server,
           GSocket      *socket,
           guint         status,
           const char   *reason,
           GString      *headers)
{
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 %u %s\r\n%s\r\n", status, reason, headers->str);

  return send_all (server, socket, head, strlen (head), FALSE);
}

/* Reads one request head; NULL at the end of the connection. */
static char *
read_head (GSocket *socket)
{
  GString *head = g_string_new (NULL);
  char c;

  while (head->len < MAX_REQUEST_HEAD)
    {
      gssize n = g_socket_receive (socket, &c, 1, NULL, NULL);

      if (n <= 0)
        break;
      g_string_append_c (head, c);
      if (g_str_has_suffix (head->str, "\r\n\r\n"))
        return g_string_free (head, FALSE);
    }
  g_string_free (head, TRUE);
  return NULL;
}

static const char *
header_value (char      **lines,
              const char *name)
{
  gsize name_len = strlen (name);

  for (guint i = 1; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], name, name_len) == 0 && lines[i][name_len] == ':')
      return g_strchug (lines[i] + name_len + 1);
  return NULL;
}

/* Serves one request; FALSE to close the connection. */
static gboolean
serve (StTestServer *server,
       GSocket      *socket,
       const char   *head)
{
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);
  g_auto(GStrv) request = g_strsplit (lines[0], " ", 3);
  g_autoptr(GString) headers = g_string_new (NULL);
  g_autoptr(GBytes) content = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *path = NULL;
  const char *range, *authorization;
  Resource *resource;
  StFault fault;
  guint request_index;
  gsize size;
  const guint8 *data;
  guint64 first = 0, last = 0;
  gboolean ranged = FALSE;
  gboolean is_head;

  if (g_strv_length (request) < 3)
    return FALSE;
  is_head = strcmp (request[0], "HEAD") == 0;
  path = g_strdup (request[1]);
  range = header_value (lines, "Range");
  authorization = header_value (lines, "Authorization");

  g_mutex_lock (&server->lock);
  request_index = server->n_requests++;
  if (authorization != NULL)
    server->n_authorized++;
  g_hash_table_insert (server->counts, g_strdup (path),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (server->counts, path)) + 1));
  resource = g_hash_table_lookup (server->resources, path);
  fault = server->fault;
  if ((fault == ST_FAULT_5XX || fault == ST_FAULT_RESET_MID_BODY) && server->fault_count > 0)
    server->fault_count--;
  else if (fault == ST_FAULT_5XX || fault == ST_FAULT_RESET_MID_BODY)
    fault = ST_FAULT_NONE;
  if (resource != NULL && resource->status == 0)
    {
      gboolean changed = fault == ST_FAULT_CHANGE_AFTER_FIRST && request_index > 0;

      content = g_bytes_ref (changed ? resource->changed : resource->content);
      etag = changed ? g_strdup ("\"changed\"") : g_strdup (resource->etag);
    }
  g_mutex_unlock (&server->lock);

  g_string_append (headers, "Server: st-test-server\r\n");

  if (server->hold_suffix != NULL && g_str_has_suffix (path, server->hold_suffix))
    {
      g_mutex_lock (&server->lock);
      while (server->n_connections < server->hold_connections && !server->stopping)
        g_cond_wait (&server->stopped_cond, &server->lock);
      g_mutex_unlock (&server->lock);
    }

  if (server->barrier_suffix != NULL && g_str_has_suffix (path, server->barrier_suffix))
    {
      /* answers wait for each other: proof that the client asked for them at once */
      g_mutex_lock (&server->lock);
      server->barrier_waiting++;
      server->max_at_barrier = MAX (server->max_at_barrier, server->barrier_waiting);
      if (server->barrier_waiting >= server->barrier_count)
        server->barrier_open = TRUE;
      g_cond_broadcast (&server->stopped_cond);
      while (!server->barrier_open && !server->stopping)
        g_cond_wait (&server->stopped_cond, &server->lock);
      g_mutex_unlock (&server->lock);
    }

  if (server->token != NULL)
    {
      g_autofree char *expected = g_strconcat ("Bearer ", server->token, NULL);

      if (authorization == NULL || g_strcmp0 (authorization, expected) != 0)
        {
          if (server->gated)
            g_string_append (headers, "X-Error-Code: GatedRepo\r\n");
          g_string_append (headers, "Content-Length: 0\r\n");
          return send_head (server, socket, authorization == NULL ? 401 : 403,
                            authorization == NULL ? "Unauthorized" : "Forbidden", headers);
        }
    }

  if (resource == NULL)
    {
      g_string_append (headers, "X-Error-Code: EntryNotFound\r\nContent-Length: 0\r\n");
      return send_head (server, socket, 404, "Not Found", headers);
    }
  if (resource->status != 0)
    {
      if (resource->location != NULL)
        g_string_append_printf (headers, "Location: %s\r\n", resource->location);
      if (resource->error_code != NULL)
        g_string_append_printf (headers, "X-Error-Code: %s\r\n", resource->error_code);
      for (guint i = 0; resource->headers != NULL && resource->headers[i] != NULL; i += 2)
        g_string_append_printf (headers, "%s: %s\r\n", resource->headers[i], resource->headers[i + 1]);
      g_string_append (headers, "Content-Length: 0\r\n");
      return send_head (server, socket, resource->status, "Redirect or error", headers);
    }

  if (fault == ST_FAULT_5XX)
    {
      g_string_append (headers, "Content-Length: 0\r\n");
      return send_head (server, socket, 503, "Service Unavailable", headers);
    }

  data = g_bytes_get_data (content, &size);
  for (guint i = 0; resource->headers != NULL && resource->headers[i] != NULL; i += 2)
    g_string_append_printf (headers, "%s: %s\r\n", resource->headers[i], resource->headers[i + 1]);
  if (etag != NULL)
    g_string_append_printf (headers, "ETag: %s\r\n", etag);
  g_string_append (headers, "Accept-Ranges: bytes\r\n");

  if (range != NULL && fault != ST_FAULT_IGNORE_RANGE)
    {
      char *end;

      if (!g_str_has_prefix (range, "bytes="))
        return FALSE;
      first = g_ascii_strtoull (range + 6, &end, 10);
      if (*end != '-')
        return FALSE;
      last = end[1] != '\0' ? g_ascii_strtoull (end + 1, NULL, 10) : G_MAXUINT64;
      if (last >= size)
        last = size - 1;
      ranged = TRUE;
      if (fault == ST_FAULT_ALWAYS_416 || first >= size || size == 0)
        {
          g_string_append_printf (headers, "Content-Range: bytes */%" G_GSIZE_FORMAT "\r\nContent-Length: 0\r\n",
                                  size);
          return send_head (server, socket, 416, "Range Not Satisfiable", headers);
        }
    }

  if (!ranged)
    {
      first = 0;
      last = size - 1;
      g_string_append_printf (headers, "Content-Length: %" G_GSIZE_FORMAT "\r\n", size);
      if (!send_head (server, socket, 200, "OK", headers))
        return FALSE;
      if (is_head)
        return TRUE;
    }
  else
    {
      guint64 announced = last - first + 1;

      if (fault == ST_FAULT_WRONG_CONTENT_RANGE)
        g_string_append_printf (headers, "Content-Range: bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%"
                                G_GSIZE_FORMAT "\r\n", first + 1, last, size);
      else if (fault != ST_FAULT_NO_CONTENT_RANGE)
        g_string_append_printf (headers, "Content-Range: bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%"
                                G_GSIZE_FORMAT "\r\n", first, last, size);
      if (fault == ST_FAULT_BODY_LONGER)
        announced++;
      g_string_append_printf (headers, "Content-Length: %" G_GUINT64_FORMAT "\r\n", announced);
      if (!send_head (server, socket, 206, "Partial Content", headers))
        return FALSE;
      if (is_head)
        return TRUE;
    }

  if (fault == ST_FAULT_STALL)
    {
      g_mutex_lock (&server->lock);
      while (!server->stopping)
        g_cond_wait (&server->stopped_cond, &server->lock);
      g_mutex_unlock (&server->lock);
      return FALSE;
    }
  if (fault == ST_FAULT_RESET_MID_BODY)
    {
      send_all (server, socket, data + first, (gsize) (last - first + 1) / 2, TRUE);
      return FALSE;
    }
  if (!send_all (server, socket, data + first, (gsize) (last - first + 1), TRUE))
    return FALSE;
  if (fault == ST_FAULT_BODY_LONGER)
    return send_all (server, socket, "X", 1, TRUE);
  return TRUE;
}

static gpointer
connection_thread (gpointer data)
{
  GSocket *socket = data;
  StTestServer *server = g_object_get_data (G_OBJECT (socket), "server");

  for (;;)
    {
      g_autofree char *head = read_head (socket);
      gboolean keep_alive;

      if (head == NULL)
        break;
      g_mutex_lock (&server->lock);
      server->n_serving++;
      g_mutex_unlock (&server->lock);
      keep_alive = serve (server, socket, head);
      if (!keep_alive)
        g_socket_shutdown (socket, TRUE, TRUE, NULL);
      g_mutex_lock (&server->lock);
      server->n_serving--;
      g_cond_broadcast (&server->served_cond);
      g_mutex_unlock (&server->lock);
      if (!keep_alive)
        break;
    }
  g_socket_shutdown (socket, TRUE, TRUE, NULL);
  return NULL;
}

static gpointer
accept_thread (gpointer data)
{
  StTestServer *server = data;

  for (;;)
    {
      GSocket *socket = g_socket_accept (server->listener, NULL, NULL);

      g_mutex_lock (&server->lock);
      if (socket == NULL || server->stopping)
        {
          g_mutex_unlock (&server->lock);
          g_clear_object (&socket);
          break;
        }
      g_object_set_data (G_OBJECT (socket), "server", server);
      g_ptr_array_add (server->connections, socket);
      server->n_connections++;
      g_cond_broadcast (&server->stopped_cond);
      g_ptr_array_add (server->threads, g_thread_new ("st-test-server-connection", connection_thread, socket));
      g_mutex_unlock (&server->lock);
    }
  return NULL;
}

StTestServer *
st_test_server_new (const char *address)
{
  StTestServer *server = g_new0 (StTestServer, 1);
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) bind_address = g_inet_socket_address_new (inet, 0);
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&server->lock);
  g_cond_init (&server->stopped_cond);
  g_cond_init (&server->served_cond);
  server->resources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, resource_free);
  server->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  server->connections = g_ptr_array_new_with_free_func (g_object_unref);
  server->threads = g_ptr_array_new ();
  server->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (server->listener, bind_address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (server->listener, &error);
  g_assert_no_error (error);
  local = g_socket_get_local_address (server->listener, &error);
  g_assert_no_error (error);
  server->url = g_strdup_printf ("http://%s:%u", address,
                                 g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  server->accept_thread = g_thread_new ("st-test-server", accept_thread, server);
  return server;
}

void
st_test_server_free (StTestServer *server)
{
  g_mutex_lock (&server->lock);
  server->stopping = TRUE;
  g_cond_broadcast (&server->stopped_cond);
  for (guint i = 0; i < server->connections->len; i++)
    g_socket_shutdown (server->connections->pdata[i], TRUE, TRUE, NULL);
  g_mutex_unlock (&server->lock);

  /* wakes accept() */
  g_socket_shutdown (server->listener, TRUE, TRUE, NULL);
  g_thread_join (server->accept_thread);
  for (guint i = 0; i < server->threads->len; i++)
    g_thread_join (server->threads->pdata[i]);

  g_socket_close (server->listener, NULL);
  g_object_unref (server->listener);
  g_ptr_array_unref (server->connections);
  g_ptr_array_unref (server->threads);
  g_hash_table_unref (server->resources);
  g_hash_table_unref (server->counts);
  g_free (server->token);
  g_free (server->barrier_suffix);
  g_free (server->hold_suffix);
  g_free (server->url);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->stopped_cond);
  g_cond_clear (&server->served_cond);
  g_free (server);
}

const char *
st_test_server_get_url (StTestServer *server)
{
  return server->url;
}

static void
add_resource (StTestServer *server,
              const char   *path,
              Resource     *resource)
{
  g_mutex_lock (&server->lock);
  g_hash_table_replace (server->resources, g_strdup (path), resource);
  g_mutex_unlock (&server->lock);
}

void
st_test_server_add_file (StTestServer *server,
                         const char   *path,
                         GBytes       *content,
                         const char   *etag)
{
  Resource *resource = g_new0 (Resource, 1);
  gsize size;
  const guint8 *data = g_bytes_get_data (content, &size);
  guint8 *changed = g_memdup2 (data, size);

  /* the other version: same size, other bytes after the header's 8-byte prefix */
  for (gsize i = 8; i < size; i++)
    changed[i] ^= 0x5a;
  resource->content = g_bytes_ref (content);
  resource->changed = g_bytes_new_take (changed, size);
  resource->etag = g_strdup (etag);
  add_resource (server, path, resource);
}

void
st_test_server_add_redirect (StTestServer       *server,
                             const char         *path,
                             guint               status,
                             const char         *location,
                             const char * const *headers)
{
  Resource *resource = g_new0 (Resource, 1);

  resource->status = status;
  resource->location = g_strdup (location);
  resource->headers = g_strdupv ((char **) headers);
  add_resource (server, path, resource);
}

void
st_test_server_add_error (StTestServer *server,
                          const char   *path,
                          guint         status,
                          const char   *error_code)
{
  Resource *resource = g_new0 (Resource, 1);

  resource->status = status;
  resource->error_code = g_strdup (error_code);
  add_resource (server, path, resource);
}

void
st_test_server_require_token (StTestServer *server,
                              const char   *token,
                              gboolean      gated)
{
  g_mutex_lock (&server->lock);
  g_free (server->token);
  server->token = g_strdup (token);
  server->gated = gated;
  g_mutex_unlock (&server->lock);
}

void
st_test_server_set_fault (StTestServer *server,
                          StFault       fault,
                          guint         fault_count)
{
  g_mutex_lock (&server->lock);
  server->fault = fault;
  server->fault_count = fault_count;
  g_mutex_unlock (&server->lock);
}

guint
st_test_server_get_n_requests (StTestServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->n_requests;
  g_mutex_unlock (&server->lock);
  return n;
}

guint
st_test_server_get_n_requests_for (StTestServer *server,
                                   const char   *path)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (server->counts, path));
  g_mutex_unlock (&server->lock);
  return n;
}

guint
st_test_server_get_n_authorized (StTestServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->n_authorized;
  g_mutex_unlock (&server->lock);
  return n;
}

guint64
st_test_server_get_body_bytes_sent (StTestServer *server)
{
  guint64 n;

  g_mutex_lock (&server->lock);
  n = server->body_bytes_sent;
  g_mutex_unlock (&server->lock);
  return n;
}

void
st_test_server_reset_counts (StTestServer *server)
{
  /* an answer the client has whole may still be counting its last bytes: let it finish first */
  st_test_server_wait_answers_sent (server);
  g_mutex_lock (&server->lock);
  server->n_requests = 0;
  server->n_authorized = 0;
  server->body_bytes_sent = 0;
  g_hash_table_remove_all (server->counts);
  g_mutex_unlock (&server->lock);
}

void
st_test_server_wait_answers_sent (StTestServer *server)
{
  g_mutex_lock (&server->lock);
  while (server->n_serving > 0)
    g_cond_wait (&server->served_cond, &server->lock);
  g_mutex_unlock (&server->lock);
}

void
st_test_server_set_barrier (StTestServer *server,
                            const char   *path_suffix,
                            guint         count)
{
  g_mutex_lock (&server->lock);
  g_free (server->barrier_suffix);
  server->barrier_suffix = g_strdup (path_suffix);
  server->barrier_count = count;
  server->barrier_waiting = 0;
  server->barrier_open = FALSE;
  g_mutex_unlock (&server->lock);
}

guint
st_test_server_get_max_at_barrier (StTestServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->max_at_barrier;
  g_mutex_unlock (&server->lock);
  return n;
}

void
st_test_server_set_headers (StTestServer       *server,
                            const char         *path,
                            const char * const *headers)
{
  Resource *resource;

  g_mutex_lock (&server->lock);
  resource = g_hash_table_lookup (server->resources, path);
  g_assert_nonnull (resource);
  g_strfreev (resource->headers);
  resource->headers = g_strdupv ((char **) headers);
  g_mutex_unlock (&server->lock);
}

void
st_test_server_replace_content (StTestServer *server,
                                const char   *path,
                                GBytes       *content)
{
  Resource *resource;

  g_mutex_lock (&server->lock);
  resource = g_hash_table_lookup (server->resources, path);
  g_assert_nonnull (resource);
  g_bytes_unref (resource->content);
  resource->content = g_bytes_ref (content);
  g_mutex_unlock (&server->lock);
}

guint
st_test_server_get_n_connections (StTestServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->n_connections;
  g_mutex_unlock (&server->lock);
  return n;
}

void
st_test_server_hold_until_connections (StTestServer *server,
                                       const char   *path_suffix,
                                       guint         n_connections)
{
  g_mutex_lock (&server->lock);
  g_free (server->hold_suffix);
  server->hold_suffix = g_strdup (path_suffix);
  server->hold_connections = n_connections;
  g_mutex_unlock (&server->lock);
}
