/* st-source-http.c: a byte source on an HTTP server, by Range requests (libsoup 3)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The library has one SoupSession, made on first use and used with libsoup's synchronous API from the
 * threads that read (libsoup 3.2 allows that): connections to a host are kept alive and shared by all
 * sources and threads. Each span is one GET with a Range header; the answer must be the range asked for
 * (206 with exactly that Content-Range, and a body of that length), or the whole file (200: a server
 * that ignores Range), which is read up to the last byte wanted and then dropped, never kept.
 *
 * The first answer pins the file: its size and entity tag. An answer that disagrees with either is an
 * error (the file changed on the server between two requests): a caller never gets bytes of two
 * versions. Redirects are followed here, not by libsoup, so that the token goes to its own host only;
 * the address a redirect leads to is kept for the next requests (the Hub's CDN).
 *
 * Failures that may pass (a 5xx or 429 answer, a connection reset or cut short) are retried a bounded
 * number of times with a growing pause, continuing from the last byte received; a stall ends with
 * G_IO_ERROR_TIMED_OUT after HF_HUB_DOWNLOAD_TIMEOUT seconds (as huggingface_hub, default 10) of
 * silence, and is not retried.
 */
#include <string.h>

#include "st-source-private.h"
#include "st-version.h"

#ifdef ST_HAVE_HTTP

#include <libsoup/soup.h>

#define MAX_REDIRECTS 10
#define MAX_ATTEMPTS 5            /* per span: the first try and four retries */
#define FIRST_BACKOFF_MS 100      /* doubled after each retry */
#define DEFAULT_TIMEOUT_S 10
#define SKIP_BUFFER_SIZE ((gsize) 64 * 1024)
#define STREAM_BUFFER_SIZE ((gsize) 1024 * 1024)
#define HTTP_MAX_GAP ((guint64) 1024 * 1024)  /* about what a round trip costs on a fast link */
#define HTTP_MAX_PARALLEL 8
#define SHORT_BODY_SIZE 4096              /* a redirect's body read to its end, to keep the connection */

typedef struct {
  StSource  parent;
  GUri     *uri;          /* the address given */
  char     *token;        /* nullable; never in a message */
  GUri     *token_origin; /* scheme, host and port the token may go to */
  GMutex    lock;         /* for what follows */
  GUri     *resolved;     /* where the redirects led, once known */
  gboolean  pinned;
  char     *etag;         /* nullable, pinned with the size */
} StHttpSource;

/* GLib 2.74 (Debian 12) deadlocks when one thread registers a type that implements an interface while
 * another runs a class_init that asks for that type (g_type_add_interface_static() waits for the lock
 * the class_init holds): the index's request and the connections opened ahead start in two threads at
 * once, and hung there on their first use in a process. The types their first requests meet are
 * registered and initialised here, in one thread, before any of them. */
static void
register_types (void)
{
  const GType types[] = {
    G_TYPE_TASK, G_TYPE_CANCELLABLE, G_TYPE_SOCKET_CLIENT, G_TYPE_SOCKET, G_TYPE_SOCKET_CONNECTION,
    G_TYPE_TCP_CONNECTION, G_TYPE_NETWORK_ADDRESS, G_TYPE_NETWORK_SERVICE, G_TYPE_INET_ADDRESS,
    G_TYPE_INET_SOCKET_ADDRESS, G_TYPE_PROXY_ADDRESS, G_TYPE_MEMORY_INPUT_STREAM, G_TYPE_BUFFERED_INPUT_STREAM,
    G_TYPE_FILTER_INPUT_STREAM, G_TYPE_FILTER_OUTPUT_STREAM, G_TYPE_SIMPLE_IO_STREAM, SOUP_TYPE_MESSAGE,
    SOUP_TYPE_MESSAGE_METRICS,
  };
  const GType interfaces[] = {
    G_TYPE_ASYNC_RESULT, G_TYPE_INITABLE, G_TYPE_ASYNC_INITABLE, G_TYPE_SOCKET_CONNECTABLE,
    G_TYPE_POLLABLE_INPUT_STREAM, G_TYPE_POLLABLE_OUTPUT_STREAM, G_TYPE_SEEKABLE, G_TYPE_DATAGRAM_BASED,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (interfaces); i++)
    g_type_ensure (interfaces[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    {
      if (G_TYPE_IS_CLASSED (types[i]))
        g_type_class_unref (g_type_class_ref (types[i]));
      else
        g_type_ensure (types[i]);
    }
  /* the extension points' defaults, loaded from GIO modules (the TLS backend when the first https://
   * address is met: ensure_tls_backend()) */
  g_object_unref (g_resolver_get_default ());
  (void) g_proxy_resolver_get_default ();
}

static SoupSession *
get_session (void)
{
  static SoupSession *session;

  if (g_once_init_enter (&session))
    {
      const char *timeout_env = g_getenv ("HF_HUB_DOWNLOAD_TIMEOUT");
      guint64 timeout = DEFAULT_TIMEOUT_S;
      SoupSession *new_session;

      register_types ();
      if (timeout_env != NULL && !g_ascii_string_to_unsigned (timeout_env, 10, 1, 3600, &timeout, NULL))
        timeout = DEFAULT_TIMEOUT_S;
      new_session = soup_session_new_with_options ("timeout", (guint) timeout,
                                                   "idle-timeout", 60,
                                                   "max-conns", 64,
                                                   "max-conns-per-host", HTTP_MAX_PARALLEL * 2,
                                                   "user-agent", "safetensors-glib/" ST_VERSION_S,
                                                   NULL);
      /* bytes as the server has them: a Range counts bytes of the file, not of a compressed body */
      soup_session_remove_feature_by_type (new_session, SOUP_TYPE_CONTENT_DECODER);
      g_once_init_leave (&session, new_session);
    }
  return session;
}

/* GnuTLS, loaded by the thread that meets the first https:// address, before it starts requests in
 * other threads (register_types() says why); a few milliseconds that plain http:// does not pay. */
static void
ensure_tls_backend (GUri *uri)
{
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0)
    (void) g_tls_backend_get_default ();
}

/* The token's origin */

static int
effective_port (GUri *uri)
{
  int port = g_uri_get_port (uri);

  if (port > 0)
    return port;
  return g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
}

/* Whether @uri is on @origin: same scheme, host and port, as browsers decide where a credential goes */
static gboolean
is_origin (GUri *uri,
           GUri *origin)
{
  return origin != NULL && g_uri_get_host (uri) != NULL && g_uri_get_host (origin) != NULL &&
         g_ascii_strcasecmp (g_uri_get_scheme (uri), g_uri_get_scheme (origin)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (uri), g_uri_get_host (origin)) == 0 &&
         effective_port (uri) == effective_port (origin);
}

/* Errors */

/* "http://host/path" of @uri: no user information, no query (a signed CDN address holds credentials
 * there), no fragment. */
static char *
uri_to_name (GUri *uri)
{
  return g_uri_join (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL, g_uri_get_host (uri), g_uri_get_port (uri),
                     g_uri_get_path (uri), NULL, NULL);
}

/* What the Hub says, in its X-Error-Code header, about a 4xx answer (huggingface_hub's
 * utils/_http.py reads the same names). */
static const char *
hub_error_phrase (const char *code,
                  guint       status,
                  gboolean    sent_token)
{
  if (g_strcmp0 (code, "RepoNotFound") == 0)
    return sent_token ? "the repository does not exist, or the token gives no access to it"
                      : "the repository does not exist, or is private and needs a token (set HF_TOKEN)";
  if (g_strcmp0 (code, "RevisionNotFound") == 0)
    return "the revision does not exist in the repository";
  if (g_strcmp0 (code, "EntryNotFound") == 0)
    return "the file does not exist at this revision of the repository";
  if (g_strcmp0 (code, "GatedRepo") == 0)
    return sent_token ? "the repository is gated, and the token was refused (ask for access on its page)"
                      : "the repository is gated: a token with access is needed (set HF_TOKEN)";
  if (status == SOUP_STATUS_UNAUTHORIZED)
    return sent_token ? "the token was refused" : "a token is needed (set HF_TOKEN)";
  if (status == SOUP_STATUS_FORBIDDEN)
    return sent_token ? "access was refused with the token" : "access was refused";
  return NULL;
}

static void
set_status_error (GError     **error,
                  const char   *name,
                  SoupMessage  *msg,
                  gboolean      sent_token)
{
  guint status = soup_message_get_status (msg);
  const char *code = soup_message_headers_get_one (soup_message_get_response_headers (msg), "X-Error-Code");
  const char *phrase = hub_error_phrase (code, status, sent_token);
  GIOErrorEnum error_code;

  if (status == SOUP_STATUS_NOT_FOUND || g_strcmp0 (code, "RepoNotFound") == 0 ||
      g_strcmp0 (code, "RevisionNotFound") == 0 || g_strcmp0 (code, "EntryNotFound") == 0)
    error_code = G_IO_ERROR_NOT_FOUND;
  else if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    error_code = G_IO_ERROR_PERMISSION_DENIED;
  else
    error_code = G_IO_ERROR_FAILED;

  if (phrase != NULL)
    g_set_error (error, G_IO_ERROR, error_code, "“%s”: %s (HTTP %u)", name, phrase, status);
  else
    g_set_error (error, G_IO_ERROR, error_code, "“%s”: the server answered HTTP %u %s", name,
                 status, soup_message_get_reason_phrase (msg) != NULL ? soup_message_get_reason_phrase (msg) : "");
}

static void
set_protocol_error (GError      **error,
                    StHttpSource *self,
                    const char   *format,
                    ...) G_GNUC_PRINTF (3, 4);

static void
set_protocol_error (GError      **error,
                    StHttpSource *self,
                    const char   *format,
                    ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "“%s”: %s", self->parent.name, what);
}

/* Whether a failure may pass on a second try. */
static gboolean
is_transient (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
         g_error_matches (error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_PARSING);
}

static gboolean
is_transient_status (guint status)
{
  return status == 429 || status == SOUP_STATUS_INTERNAL_SERVER_ERROR ||
         status == SOUP_STATUS_BAD_GATEWAY || status == SOUP_STATUS_SERVICE_UNAVAILABLE ||
         status == SOUP_STATUS_GATEWAY_TIMEOUT;
}

/* Waits before retry @attempt (1, 2, ...), or less if @cancellable is cancelled. */
static gboolean
backoff (guint          attempt,
         GCancellable  *cancellable,
         GError       **error)
{
  guint delay_ms = FIRST_BACKOFF_MS << MIN (attempt - 1, 6);
  GPollFD fd;

  if (g_cancellable_make_pollfd (cancellable, &fd))
    {
      g_poll (&fd, 1, (gint) delay_ms);
      g_cancellable_release_fd (cancellable);
    }
  else
    g_usleep ((gulong) delay_ms * 1000);
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Requests */

/* "bytes START-END/TOTAL", strictly: TOTAL may be "*" (-1). */
static gboolean
parse_content_range (const char *value,
                     guint64    *out_start,
                     guint64    *out_end,
                     gint64     *out_total)
{
  const char *p = value;
  char *end;

  if (value == NULL || !g_str_has_prefix (p, "bytes "))
    return FALSE;
  p += 6;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  *out_start = g_ascii_strtoull (p, &end, 10);
  if (*end != '-' || !g_ascii_isdigit (end[1]))
    return FALSE;
  *out_end = g_ascii_strtoull (end + 1, &end, 10);
  if (*end != '/' || *out_end < *out_start)
    return FALSE;
  p = end + 1;
  if (strcmp (p, "*") == 0)
    {
      *out_total = -1;
      return TRUE;
    }
  if (!g_ascii_isdigit (*p))
    return FALSE;
  *out_total = (gint64) g_ascii_strtoull (p, &end, 10);
  return *end == '\0' && *out_total > 0 && (guint64) *out_total > *out_end;
}

static void
close_stream (GInputStream *stream)
{
  /* closing an unfinished body drops its connection: the rest is never read */
  g_input_stream_close (stream, NULL, NULL);
}

/* Reads the rest of a short body (a redirect's, a HEAD's: nothing, or a line of text), then closes
 * it: libsoup keeps the connection for the next request only when the body was read to its end, and
 * the next request to that host would pay a new connection's round trip. A body that does not say
 * its length, or a longer one, is dropped with its connection. A server that stalls in a short body
 * holds the request up to the session's timeout, as it can in any answer's headers. */
static void
finish_short_body (SoupMessage  *msg,
                   GInputStream *stream,
                   GCancellable *cancellable)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);

  if (soup_message_get_method (msg) == SOUP_METHOD_HEAD ||
      (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
       soup_message_headers_get_content_length (headers) <= SHORT_BODY_SIZE))
    {
      guint8 buffer[SHORT_BODY_SIZE];
      gsize left = sizeof buffer + 1;

      /* to the end: a read that gives 0 bytes */
      while (left > 0)
        {
          gssize n = g_input_stream_read (stream, buffer, MIN (left, sizeof buffer), cancellable, NULL);

          if (n <= 0)
            break;
          left -= (gsize) n;
        }
    }
  close_stream (stream);
}

/* Sends a GET of bytes @first to @last (inclusive), following redirects,
 * the token to its own host only. Returns the body with the final message in *@out_msg, whatever its
 * status; *@out_sent_token says whether that request carried the token. */
static GInputStream *
send_range (StHttpSource  *self,
            guint64        first,
            guint64        last,
            SoupMessage  **out_msg,
            gboolean      *out_sent_token,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GUri) uri = NULL;

  g_mutex_lock (&self->lock);
  uri = g_uri_ref (self->resolved != NULL ? self->resolved : self->uri);
  g_mutex_unlock (&self->lock);

  for (guint hop = 0; hop <= MAX_REDIRECTS; hop++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new_from_uri ("GET", uri);
      SoupMessageHeaders *request_headers = soup_message_get_request_headers (msg);
      gboolean sent_token = FALSE;
      g_autoptr(GInputStream) stream = NULL;
      g_autoptr(GUri) next = NULL;
      const char *location;
      guint status;

      soup_message_set_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
      soup_message_headers_replace (request_headers, "Accept-Encoding", "identity");
      soup_message_headers_set_range (request_headers, (goffset) first, (goffset) last);
      if (self->token != NULL && is_origin (uri, self->token_origin))
        {
          g_autofree char *value = g_strconcat ("Bearer ", self->token, NULL);

          soup_message_headers_replace (request_headers, "Authorization", value);
          sent_token = TRUE;
        }

      stream = soup_session_send (get_session (), msg, cancellable, error);
      if (stream == NULL)
        return NULL;

      status = soup_message_get_status (msg);
      if (!SOUP_STATUS_IS_REDIRECTION (status) || status == 304)
        {
          if (hop > 0)
            {
              g_mutex_lock (&self->lock);
              if (self->resolved == NULL)
                self->resolved = g_uri_ref (uri);
              g_mutex_unlock (&self->lock);
            }
          *out_msg = g_steal_pointer (&msg);
          *out_sent_token = sent_token;
          return g_steal_pointer (&stream);
        }

      finish_short_body (msg, stream, cancellable);
      location = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
      if (location == NULL)
        {
          set_protocol_error (error, self, "a redirect (HTTP %u) without a Location", status);
          return NULL;
        }
      next = g_uri_parse_relative (uri, location, SOUP_HTTP_URI_FLAGS, NULL);
      if (next == NULL || (g_strcmp0 (g_uri_get_scheme (next), "http") != 0 &&
                           g_strcmp0 (g_uri_get_scheme (next), "https") != 0))
        {
          set_protocol_error (error, self, "a redirect to an address that is not http:// or https://");
          return NULL;
        }
      g_uri_unref (uri);
      uri = g_steal_pointer (&next);
    }

  set_protocol_error (error, self, "more than %d redirects", MAX_REDIRECTS);
  return NULL;
}

/* Checks the entity tag and total size of an answer against the pinned ones, or pins them. @total is
 * -1 when the answer does not say. */
static gboolean
check_pin (StHttpSource  *self,
           SoupMessage   *msg,
           gint64         total,
           GError       **error)
{
  const char *etag = soup_message_headers_get_one (soup_message_get_response_headers (msg), "ETag");
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  if (!self->pinned)
    {
      self->etag = g_strdup (etag);
      if (total >= 0)
        self->parent.size = (guint64) total;
      self->pinned = TRUE;
    }
  else if (g_strcmp0 (self->etag, etag) != 0 ||
           (total >= 0 && self->parent.size != G_MAXUINT64 && self->parent.size != (guint64) total))
    {
      ok = FALSE;
    }
  else if (total >= 0 && self->parent.size == G_MAXUINT64)
    {
      self->parent.size = (guint64) total;
    }
  g_mutex_unlock (&self->lock);

  if (!ok)
    set_protocol_error (error, self, "the file changed on the server since it was opened (its size or entity "
                        "tag differs): open it again");
  return ok;
}

/* Where a stream's bytes go when they are not read into memory (st_source_stream()) */
typedef struct {
  StSourceSinkFunc sink;
  gpointer         sink_data;
  guint8          *buffer;     /* STREAM_BUFFER_SIZE bytes */
} Sink;

/* Reads exactly @len bytes of @stream into @span from position @done on; a NULL @span drops them. */
static gboolean
read_body (StHttpSource         *self,
           GInputStream         *stream,
           const StSpan         *span,
           guint64              *done,
           guint64               len,
           guint8               *skip_buffer,
           gboolean              eof_ok,
           const Sink           *sink,
           StSourceAdvanceFunc   advance,
           gpointer              advance_data,
           GCancellable         *cancellable,
           GError              **error)
{
  guint64 end = *done + len;

  while (*done < end)
    {
      guint64 run = end - *done;
      guint8 *dest = NULL;
      gssize n;

      if (sink != NULL)
        {
          dest = sink->buffer;
          run = MIN (run, STREAM_BUFFER_SIZE);
        }
      else if (span != NULL)
        dest = st_span_locate (span, *done, &run);
      run = MIN (run, end - *done);
      if (dest == NULL)
        {
          dest = skip_buffer;
          run = MIN (run, SKIP_BUFFER_SIZE);
        }
      run = MIN (run, (guint64) G_MAXSSIZE);
      n = g_input_stream_read (stream, dest, (gsize) run, cancellable, error);
      if (n < 0)
        return FALSE;
      if (n == 0 && eof_ok)
        return TRUE;
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                       "“%s”: the answer ended %" G_GUINT64_FORMAT " bytes before its announced end",
                       self->parent.name, end - *done);
          return FALSE;
        }
      if (sink != NULL && dest == sink->buffer && !sink->sink (dest, (gsize) n, sink->sink_data, error))
        return FALSE;  /* the sink's failure (a full disk) is not the network's: not retried */
      if (advance != NULL && dest != skip_buffer)
        advance ((guint64) n, advance_data);
      *done += (guint64) n;
    }
  return TRUE;
}

/* One try at reading @span from position *@done on; *@retry says whether a failure may pass. */
static gboolean
try_span (StHttpSource         *self,
          const StSpan         *span,
          guint64              *done,
          gboolean              at_most,
          guint8               *skip_buffer,
          const Sink           *sink,
          StSourceAdvanceFunc   advance,
          gpointer              advance_data,
          gboolean             *retry,
          GCancellable         *cancellable,
          GError              **error)
{
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) stream = NULL;
  guint64 first = span->offset + *done;
  guint64 last = span->offset + span->length - 1;
  gboolean sent_token = FALSE;
  SoupMessageHeaders *headers;
  goffset content_length;
  guint status;
  gboolean ok;

  *retry = FALSE;
  stream = send_range (self, first, last, &msg, &sent_token, cancellable, error);
  if (stream == NULL)
    {
      *retry = is_transient (*error);
      return FALSE;
    }
  status = soup_message_get_status (msg);
  headers = soup_message_get_response_headers (msg);
  content_length = soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
                   ? soup_message_headers_get_content_length (headers) : -1;

  if (status == SOUP_STATUS_PARTIAL_CONTENT)
    {
      guint64 got_first, got_last;
      gint64 total;

      if (!parse_content_range (soup_message_headers_get_one (headers, "Content-Range"), &got_first, &got_last,
                                &total))
        {
          set_protocol_error (error, self, "a partial answer (206) without a valid Content-Range");
          close_stream (stream);
          return FALSE;
        }
      /* a read of a prefix asks for more than may be there, and takes what there is */
      if (at_most && got_first == first && got_last < last && total >= 0 && got_last == (guint64) total - 1)
        last = got_last;
      if (got_first != first || got_last != last)
        {
          set_protocol_error (error, self, "asked for bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                              ", the server sent %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
                              first, last, got_first, got_last);
          close_stream (stream);
          return FALSE;
        }
      if (content_length >= 0 && (guint64) content_length != last - first + 1)
        {
          set_protocol_error (error, self, "the answer announces %" G_GINT64_FORMAT " bytes for a range of %"
                              G_GUINT64_FORMAT, (gint64) content_length, last - first + 1);
          close_stream (stream);
          return FALSE;
        }
      if (!check_pin (self, msg, total, error))
        {
          close_stream (stream);
          return FALSE;
        }
      ok = read_body (self, stream, span, done, last - first + 1, skip_buffer, FALSE, sink, advance, advance_data,
                      cancellable, error);
      if (ok)
        {
          /* The end of the body, read: without it libsoup takes the answer for unfinished and drops
           * the connection, and the next request pays a new one. Past a Content-Length this costs no
           * wait; without one, a byte more than the range is the server's mistake. */
          guint8 extra;
          gssize n = g_input_stream_read (stream, &extra, 1, cancellable, NULL);

          if (n > 0)
            {
              set_protocol_error (error, self, "the server sent more bytes than the range asked for");
              ok = FALSE;
            }
        }
    }
  else if (status == SOUP_STATUS_OK)
    {
      /* the whole file: read up to the bytes wanted, keep those, drop the rest unread */
      guint64 skip_done = 0;

      if (!check_pin (self, msg, content_length, error))
        {
          close_stream (stream);
          return FALSE;
        }
      if (at_most && content_length >= 0 && (guint64) content_length <= last)
        last = content_length > 0 ? (guint64) content_length - 1 : 0;
      ok = read_body (self, stream, NULL, &skip_done, first, skip_buffer, FALSE, NULL, NULL, NULL, cancellable,
                      error);
      if (ok && !(at_most && content_length == 0))
        ok = read_body (self, stream, span, done, last - first + 1, skip_buffer, at_most && content_length < 0,
                        sink, advance, advance_data, cancellable, error);
    }
  else if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && at_most && first == 0)
    {
      /* an empty file: "bytes *\/0" */
      guint64 got_first, got_last;
      gint64 total = -1;
      const char *range = soup_message_headers_get_one (headers, "Content-Range");

      if (range != NULL && strcmp (range, "bytes */0") == 0)
        total = 0;
      else if (parse_content_range (range, &got_first, &got_last, &total))
        total = -1;
      close_stream (stream);
      if (total != 0)
        {
          set_protocol_error (error, self, "the server refused the range (HTTP 416)");
          return FALSE;
        }
      return check_pin (self, msg, 0, error);
    }
  else if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE)
    {
      set_protocol_error (error, self, "the server refused the range of bytes %" G_GUINT64_FORMAT "-%"
                          G_GUINT64_FORMAT " (HTTP 416): the file is shorter than its header says", first, last);
      close_stream (stream);
      return FALSE;
    }
  else
    {
      set_status_error (error, self->parent.name, msg, sent_token);
      *retry = is_transient_status (status);
      close_stream (stream);
      return FALSE;
    }

  if (!ok)
    *retry = is_transient (*error);
  close_stream (stream);
  return ok;
}

/* Reads @span, resuming after transient failures; for a prefix (@at_most), *@out_len receives the
 * bytes there were. */
static gboolean
http_read (StHttpSource         *self,
           const StSpan         *span,
           gboolean              at_most,
           guint64              *out_len,
           const Sink           *sink,
           StSourceAdvanceFunc   advance,
           gpointer              advance_data,
           GCancellable         *cancellable,
           GError              **error)
{
  g_autofree guint8 *skip_buffer = g_malloc (SKIP_BUFFER_SIZE);
  guint64 done = 0;

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean retry;

      if (try_span (self, span, &done, at_most, skip_buffer, sink, advance, advance_data, &retry, cancellable,
                    &local_error))
        break;
      /* progress made resets nothing: the tries are bounded whatever the server does */
      if (!retry || attempt >= MAX_ATTEMPTS || g_cancellable_is_cancelled (cancellable))
        {
          if (retry && attempt >= MAX_ATTEMPTS)
            {
              char *message = g_strdup_printf ("%s (after %u tries)", local_error->message, attempt);

              g_free (local_error->message);
              local_error->message = message;
            }
          /* libsoup's and GIO's messages do not say which address */
          if (strstr (local_error->message, self->parent.name) == NULL)
            g_prefix_error (&local_error, "“%s”: ", self->parent.name);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (!backoff (attempt, cancellable, error))
        return FALSE;
    }
  if (out_len != NULL)
    *out_len = done;
  return TRUE;
}

static gboolean
http_read_span (StSource            *source,
                const StSpan        *span,
                StSourceAdvanceFunc  advance,
                gpointer             advance_data,
                GCancellable        *cancellable,
                GError             **error)
{
  return http_read ((StHttpSource *) source, span, FALSE, NULL, NULL, advance, advance_data, cancellable, error);
}

static gboolean
http_read_prefix (StSource      *source,
                  gpointer       buf,
                  gsize          len,
                  gsize         *out_read,
                  GCancellable  *cancellable,
                  GError       **error)
{
  StRange range = { 0, len, buf };
  StSpan span = { 0, len, &range, 1 };
  guint64 got = 0;

  if (len == 0)
    {
      *out_read = 0;
      return TRUE;
    }
  if (!http_read ((StHttpSource *) source, &span, TRUE, &got, NULL, NULL, NULL, cancellable, error))
    return FALSE;
  *out_read = (gsize) got;
  return TRUE;
}

static gboolean
http_stream (StSource            *source,
             guint64              offset,
             guint64              length,
             StSourceSinkFunc     sink_func,
             gpointer             sink_data,
             StSourceAdvanceFunc  advance,
             gpointer             advance_data,
             GCancellable        *cancellable,
             GError             **error)
{
  g_autofree guint8 *buffer = g_malloc (STREAM_BUFFER_SIZE);
  Sink sink = { sink_func, sink_data, buffer };
  StSpan span = { offset, length, NULL, 0 };

  if (length == 0)
    return TRUE;
  return http_read ((StHttpSource *) source, &span, FALSE, NULL, &sink, advance, advance_data, cancellable, error);
}

static char *
http_dup_etag (StSource *source)
{
  StHttpSource *self = (StHttpSource *) source;
  char *etag;

  g_mutex_lock (&self->lock);
  etag = g_strdup (self->etag);
  g_mutex_unlock (&self->lock);
  return etag;
}

static void
http_finalize (StSource *source)
{
  StHttpSource *self = (StHttpSource *) source;

  g_uri_unref (self->uri);
  g_clear_pointer (&self->resolved, g_uri_unref);
  if (self->token != NULL)
    {
      explicit_bzero (self->token, strlen (self->token));
      g_free (self->token);
    }
  g_clear_pointer (&self->token_origin, g_uri_unref);
  g_free (self->etag);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static const StSourceClass http_source_class = {
  .read_span = http_read_span,
  .read_prefix = http_read_prefix,
  .stream = http_stream,
  .dup_etag = http_dup_etag,
  .finalize = http_finalize,
};

StSource *
st_source_new_for_uri (const char  *uri,
                       const char  *token,
                       const char  *token_origin,
                       GError     **error)
{
  g_autoptr(GUri) parsed = g_uri_parse (uri, SOUP_HTTP_URI_FLAGS, NULL);
  g_autofree char *name = NULL;
  StHttpSource *self;

  if (parsed == NULL || (g_strcmp0 (g_uri_get_scheme (parsed), "http") != 0 &&
                         g_strcmp0 (g_uri_get_scheme (parsed), "https") != 0) ||
      g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Not an http:// or https:// address: “%s”", uri);
      return NULL;
    }
  ensure_tls_backend (parsed);
  name = uri_to_name (parsed);
  self = g_new0 (StHttpSource, 1);
  st_source_init (&self->parent, &http_source_class, name, G_MAXUINT64, HTTP_MAX_GAP, HTTP_MAX_PARALLEL);
  self->uri = g_steal_pointer (&parsed);
  self->token = g_strdup (token);
  self->token_origin = token_origin != NULL ? g_uri_parse (token_origin, SOUP_HTTP_URI_FLAGS, NULL)
                                            : g_uri_ref (self->uri);
  g_mutex_init (&self->lock);
  return &self->parent;
}

/* Connections opened ahead */

struct _StPreconnect
{
  GUri    *uri;
  guint    n_connections;
  guint    n_pending;  /* only touched in the thread */
  GThread *thread;
};

static void
preconnect_done (GObject      *session,
                 GAsyncResult *result,
                 gpointer      data)
{
  StPreconnect *self = data;

  soup_session_preconnect_finish (SOUP_SESSION (session), result, NULL);
  self->n_pending--;
}

/* The connections, opened by one thread that runs libsoup's async calls on its own main context
 * (libsoup 3.2 runs them in any thread that has a thread-default context), all at once, and left
 * idle in the session's pool. */
static gpointer
preconnect_thread (gpointer data)
{
  StPreconnect *self = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  for (guint i = 0; i < self->n_connections; i++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new_from_uri ("HEAD", self->uri);

      self->n_pending++;
      soup_session_preconnect_async (get_session (), msg, G_PRIORITY_DEFAULT, NULL, preconnect_done, self);
    }
  while (self->n_pending > 0)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

StPreconnect *
st_http_preconnect (const char *url,
                    guint       n_connections)
{
  StPreconnect *self = g_new0 (StPreconnect, 1);

  self->uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  self->n_connections = n_connections;
  if (self->uri == NULL || n_connections == 0)
    return self;
  ensure_tls_backend (self->uri);
  get_session ();
  self->thread = g_thread_try_new ("st-preconnect", preconnect_thread, self, NULL);
  return self;
}

void
st_http_preconnect_finish (StPreconnect *self)
{
  if (self == NULL)
    return;
  if (self->thread != NULL)
    g_thread_join (self->thread);
  g_clear_pointer (&self->uri, g_uri_unref);
  g_free (self);
}

/* The Hub's metadata of a file (huggingface_hub's get_hf_file_metadata()): a HEAD of its resolve
 * address, following relative redirects only (a renamed repository), up to the absolute one that leads
 * to the bytes (the CDN). */

static char *
normalize_etag (const char *etag)
{
  gsize len;

  if (etag == NULL)
    return NULL;
  if (g_str_has_prefix (etag, "W/"))
    etag += 2;
  len = strlen (etag);
  if (len >= 2 && etag[0] == '"' && etag[len - 1] == '"')
    return g_strndup (etag + 1, len - 2);
  return g_strdup (etag);
}

void
st_http_file_info_clear (StHttpFileInfo *info)
{
  g_clear_pointer (&info->location, g_free);
  g_clear_pointer (&info->commit, g_free);
  g_clear_pointer (&info->etag, g_free);
}

gboolean
st_http_get_file_info (const char      *url,
                       const char      *token,
                       const char      *token_origin,
                       StHttpFileInfo  *out,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  g_autoptr(GUri) start = NULL;
  g_autoptr(GUri) origin = token_origin != NULL ? g_uri_parse (token_origin, SOUP_HTTP_URI_FLAGS, NULL) : NULL;
  g_autofree char *name = NULL;
  guint attempt = 1;

  memset (out, 0, sizeof *out);
  out->size = -1;
  if (uri == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Not an http:// or https:// address: “%s”", url);
      return FALSE;
    }
  ensure_tls_backend (uri);
  start = g_uri_ref (uri);
  name = uri_to_name (uri);

  for (guint hop = 0; hop <= MAX_REDIRECTS;)
    {
      g_autoptr(SoupMessage) msg = soup_message_new_from_uri ("HEAD", uri);
      SoupMessageHeaders *headers;
      g_autoptr(GInputStream) stream = NULL;
      g_autoptr(GError) local_error = NULL;
      gboolean sent_token = FALSE;
      const char *location;
      guint status;

      soup_message_set_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept-Encoding", "identity");
      if (token != NULL && is_origin (uri, origin))
        {
          g_autofree char *value = g_strconcat ("Bearer ", token, NULL);

          soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
          sent_token = TRUE;
        }
      stream = soup_session_send (get_session (), msg, cancellable, &local_error);
      status = stream != NULL ? soup_message_get_status (msg) : 0;
      if (stream != NULL)
        finish_short_body (msg, stream, cancellable);
      if ((stream == NULL && is_transient (local_error)) || is_transient_status (status))
        {
          if (attempt < MAX_ATTEMPTS)
            {
              if (!backoff (attempt++, cancellable, error))
                return FALSE;
              continue;
            }
        }
      if (stream == NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "“%s”: ", name);
          return FALSE;
        }
      headers = soup_message_get_response_headers (msg);
      location = soup_message_headers_get_one (headers, "Location");
      if (SOUP_STATUS_IS_REDIRECTION (status) && location != NULL)
        {
          g_autoptr(GUri) next = g_uri_parse_relative (uri, location, SOUP_HTTP_URI_FLAGS, NULL);
          g_autoptr(GUri) absolute = g_uri_parse (location, SOUP_HTTP_URI_FLAGS, NULL);

          if (next == NULL)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "“%s”: a redirect to a bad address", name);
              return FALSE;
            }
          if (absolute == NULL)
            {
              /* relative: the Hub's own (a renamed repository): follow it */
              g_uri_unref (uri);
              uri = g_steal_pointer (&next);
              hop++;
              continue;
            }
          out->location = g_uri_to_string (next);
        }
      else if (status != SOUP_STATUS_OK)
        {
          set_status_error (error, name, msg, sent_token);
          return FALSE;
        }
      else
        {
          out->location = g_uri_to_string (uri);
        }
      out->commit = g_strdup (soup_message_headers_get_one (headers, "X-Repo-Commit"));
      out->etag = normalize_etag (soup_message_headers_get_one (headers, "X-Linked-Etag"));
      if (out->etag == NULL)
        out->etag = normalize_etag (soup_message_headers_get_one (headers, "ETag"));
      if (soup_message_headers_get_one (headers, "X-Linked-Size") != NULL)
        out->size = (gint64) g_ascii_strtoull (soup_message_headers_get_one (headers, "X-Linked-Size"), NULL, 10);
      else if (status == SOUP_STATUS_OK && soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
        out->size = soup_message_headers_get_content_length (headers);
      return TRUE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "“%s”: more than %d redirects", name, MAX_REDIRECTS);
  return FALSE;
}

#else /* !ST_HAVE_HTTP */

StPreconnect *
st_http_preconnect (const char *url,
                    guint       n_connections)
{
  return NULL;
}

void
st_http_preconnect_finish (StPreconnect *self)
{
}

void
st_http_file_info_clear (StHttpFileInfo *info)
{
}

gboolean
st_http_get_file_info (const char      *url,
                       const char      *token,
                       const char      *token_origin,
                       StHttpFileInfo  *out,
                       GCancellable    *cancellable,
                       GError         **error)
{
  memset (out, 0, sizeof *out);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "Cannot fetch “%s”: this build of safetensors-glib has no HTTP support (meson option http)", url);
  return FALSE;
}


StSource *
st_source_new_for_uri (const char  *uri,
                       const char  *token,
                       const char  *token_origin,
                       GError     **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "Cannot open “%s”: this build of safetensors-glib has no HTTP support (meson option http)", uri);
  return NULL;
}

#endif /* ST_HAVE_HTTP */
