/* st-test-server.h: an HTTP server on the loopback interface that answers as the Hub does, and as
 * broken servers do
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Written on raw sockets, not SoupServer, so that it can break the protocol the ways servers do: cut a
 * body short, send more than announced, reset a connection, stall. One thread accepts, one thread serves
 * each connection (keep-alive). Everything it serves is registered before the requests; it counts the
 * requests and the body bytes it sent, and records whether each request carried a token.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  ST_FAULT_NONE = 0,
  ST_FAULT_IGNORE_RANGE,         /* 200 with the whole body, whatever the Range */
  ST_FAULT_NO_CONTENT_RANGE,     /* 206 without Content-Range */
  ST_FAULT_WRONG_CONTENT_RANGE,  /* 206 with a Content-Range one byte off */
  ST_FAULT_ALWAYS_416,           /* 416 to every ranged request */
  ST_FAULT_5XX,                  /* 503 to the next fault_count requests, then normal */
  ST_FAULT_RESET_MID_BODY,       /* the next fault_count answers stop after half their body, connection closed */
  ST_FAULT_STALL,                /* headers, then nothing until the server stops */
  ST_FAULT_BODY_LONGER,          /* Content-Length and body one byte longer than the range */
  ST_FAULT_CHANGE_AFTER_FIRST,   /* after the first request, the file has other bytes and another ETag */
} StFault;

typedef struct _StTestServer StTestServer;

/* Listens on @address (e.g. "127.0.0.1") at a free port. */
StTestServer *st_test_server_new (const char *address);
/* Stops serving: closes every connection (a stalled answer too) and joins the threads. */
void          st_test_server_free (StTestServer *server);
/* "http://ADDRESS:PORT" */
const char   *st_test_server_get_url (StTestServer *server);

/* Serves @content at @path with @etag (nullable: no ETag header). */
void st_test_server_add_file (StTestServer *server,
                              const char   *path,
                              GBytes       *content,
                              const char   *etag);
/* Answers @path with @status and Location: @location (relative or absolute), and extra headers (a
 * NULL-terminated list of name, value pairs; nullable). */
void st_test_server_add_redirect (StTestServer       *server,
                                  const char         *path,
                                  guint               status,
                                  const char         *location,
                                  const char * const *headers);
/* Answers @path with @status and "X-Error-Code: @error_code" (nullable). */
void st_test_server_add_error (StTestServer *server,
                               const char   *path,
                               guint         status,
                               const char   *error_code);
/* Requests without "Authorization: Bearer @token" get 401 (with X-Error-Code: GatedRepo when @gated);
 * a wrong token gets 403. NULL: no token needed. */
void st_test_server_require_token (StTestServer *server,
                                   const char   *token,
                                   gboolean      gated);

/* Adds headers (a NULL-terminated list of name, value pairs) to every answer for @path, registered before. */
void st_test_server_set_headers (StTestServer       *server,
                                 const char         *path,
                                 const char * const *headers);
/* Serves other bytes at @path, registered before as a file */
void st_test_server_replace_content (StTestServer *server,
                                     const char   *path,
                                     GBytes       *content);

void st_test_server_set_fault (StTestServer *server,
                               StFault       fault,
                               guint         fault_count);

/* Answers to paths ending in @path_suffix wait until @count of them are waiting at once (or the server
 * stops): a client that asks one after another never gets the first. */
void  st_test_server_set_barrier (StTestServer *server,
                                  const char   *path_suffix,
                                  guint         count);
/* Answers to paths ending in @path_suffix wait until the server has accepted @n_connections
 * connections (or stops): a client that opens no connection ahead never gets them. */
void  st_test_server_hold_until_connections (StTestServer *server,
                                             const char   *path_suffix,
                                             guint         n_connections);
/* The most answers that waited at the barrier at once */
guint st_test_server_get_max_at_barrier (StTestServer *server);

guint   st_test_server_get_n_requests (StTestServer *server);
/* Connections accepted */
guint   st_test_server_get_n_connections (StTestServer *server);
/* Requests of @path */
guint   st_test_server_get_n_requests_for (StTestServer *server,
                                           const char   *path);
/* Requests that carried an Authorization header */
guint   st_test_server_get_n_authorized (StTestServer *server);
guint64 st_test_server_get_body_bytes_sent (StTestServer *server);
/* Zeroes the counts, once every answer under way is sent */
void    st_test_server_reset_counts (StTestServer *server);
/* Waits until no answer is being sent: each one sent whole, or cut off when the client closed. */
void    st_test_server_wait_answers_sent (StTestServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StTestServer, st_test_server_free)

G_END_DECLS
