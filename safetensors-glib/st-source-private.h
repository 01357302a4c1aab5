/* st-source-private.h: byte sources and read plans
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A source answers one question: "give me these byte ranges", into memory the caller provides. A local
 * file answers with pread(); an HTTP server (st-source-http.c) with Range requests on the library's one
 * SoupSession. A read plan (StReadPlan) turns the ranges a caller wants into spans: ranges sorted by
 * offset, those adjacent or separated by less than the source's gap joined into one request, the spans
 * read in parallel where the source allows it. Bytes of a gap are read and dropped, never kept.
 *
 * Everything here is thread-safe: a source may serve several plans at once.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One range the caller wants: @length bytes at @offset of the source, into @dest. */
typedef struct {
  guint64  offset;
  guint64  length;
  gpointer dest;
} StRange;

typedef struct _StSource StSource;

/* Told, from any thread the plan reads in, that @n_bytes more of the wanted bytes arrived. */
typedef void (*StSourceAdvanceFunc) (guint64  n_bytes,
                                     gpointer user_data);

/* A source reading the open file @fd (duplicated: the caller keeps its own), named @name in
 * messages. Its size is the file's size now. */
StSource   *st_source_new_for_fd (int          fd,
                                  const char  *name,
                                  GError     **error);
/* A source reading @uri (http:// or https://) by Range requests. @token (nullable) is sent as
 * "Authorization: Bearer" to @token_origin only (an address whose scheme, host and port count; @uri's
 * when NULL), never to another origin a redirect leads to. Fails with G_IO_ERROR_NOT_SUPPORTED in a build without the http feature, and
 * G_IO_ERROR_INVALID_ARGUMENT for an address that is not http:// or https://. No request is made yet. */
StSource   *st_source_new_for_uri (const char  *uri,
                                   const char  *token,
                                   const char  *token_origin,
                                   GError     **error);
StSource   *st_source_ref (StSource *source);
void        st_source_unref (StSource *source);
/* The path or address, for messages (an address without its query and user information, which may hold
 * credentials). */
const char *st_source_get_name (StSource *source);
/* The size of the source, G_MAXUINT64 while unknown (an HTTP source knows it after its first read). */
guint64     st_source_get_size (StSource *source);
/* The entity tag an HTTP source pinned at its first read, or NULL. */
char       *st_source_dup_etag (StSource *source);

/* Reads the first @len bytes (fewer when the source is shorter) into @buf: the first request of a remote
 * open. *@out_read receives the count. */
gboolean    st_source_read_prefix (StSource      *source,
                                   gpointer       buf,
                                   gsize          len,
                                   gsize         *out_read,
                                   GCancellable  *cancellable,
                                   GError       **error);

/* Takes @len bytes that arrived, in order; FALSE with @error set stops the stream (a full disk). */
typedef gboolean (*StSourceSinkFunc) (const guint8  *data,
                                      gsize          len,
                                      gpointer       user_data,
                                      GError       **error);

/* Streams @length bytes at @offset through @sink, in one request where the source can (resumed after a
 * transient failure), with bounded memory whatever @length: what a download needs. */
gboolean    st_source_stream (StSource             *source,
                              guint64               offset,
                              guint64               length,
                              StSourceSinkFunc      sink,
                              gpointer              sink_data,
                              StSourceAdvanceFunc   advance,
                              gpointer              advance_data,
                              GCancellable         *cancellable,
                              GError              **error);

/* What the Hub says of a file (st-source-http.c): a HEAD of its address, relative redirects followed. */
typedef struct {
  char   *location;  /* where its bytes are: the address, or where an absolute redirect leads (the CDN) */
  char   *commit;    /* X-Repo-Commit, or NULL */
  char   *etag;      /* X-Linked-Etag, else ETag, without W/ and quotes; or NULL */
  gint64  size;      /* X-Linked-Size, else the Content-Length of a 200; -1 when unknown */
} StHttpFileInfo;

gboolean st_http_get_file_info (const char      *url,
                                const char      *token,
                                const char      *token_origin,
                                StHttpFileInfo  *out,
                                GCancellable    *cancellable,
                                GError         **error);
void     st_http_file_info_clear (StHttpFileInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StHttpFileInfo, st_http_file_info_clear)

/* Connections to the origin of @url opened ahead, in threads, while the caller does something else (an
 * index read before its shards): idle in the session's pool for the requests that follow, so that
 * they cost a round trip each, not two. No request is sent. st_http_preconnect_finish() waits for
 * them and frees the handle (NULL-safe). */
typedef struct _StPreconnect StPreconnect;

StPreconnect *st_http_preconnect (const char *url,
                                  guint       n_connections);
void          st_http_preconnect_finish (StPreconnect *self);

/* Ranges into spans, and spans read. */
typedef struct _StReadPlan StReadPlan;

StReadPlan *st_read_plan_new (void);
void        st_read_plan_free (StReadPlan *plan);
/* Wants @length bytes at @offset into @dest. Empty ranges are ignored. */
void        st_read_plan_add (StReadPlan *plan,
                              guint64     offset,
                              guint64     length,
                              gpointer    dest);
/* The bytes of all the ranges added */
guint64     st_read_plan_get_n_bytes (StReadPlan *plan);
/* How many spans (requests, for an HTTP source) @plan makes on @source. */
guint       st_read_plan_get_n_spans (StReadPlan *plan,
                                      StSource   *source);
/* Reads every range. @advance (nullable) is told of the bytes as they arrive, from the reading threads.
 * On failure the destinations hold an unspecified part of the bytes. */
gboolean    st_read_plan_execute (StReadPlan           *plan,
                                  StSource             *source,
                                  StSourceAdvanceFunc   advance,
                                  gpointer              advance_data,
                                  GCancellable         *cancellable,
                                  GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StSource, st_source_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StReadPlan, st_read_plan_free)

/* For the implementations of a source (st-source.c, st-source-http.c) */

/* A span: one request, covering @length bytes at @offset, of which the @n_pieces ranges (sorted, not
 * overlapping, inside the span) are wanted. */
typedef struct {
  guint64        offset;
  guint64        length;
  const StRange *pieces;
  gsize          n_pieces;
} StSpan;

/* Where the byte at @position of @span (0 = span->offset) goes: a pointer into a range's destination, or
 * NULL inside a gap; *@out_len receives how many bytes from there on go to the same place (or are gap). */
gpointer st_span_locate (const StSpan *span,
                         guint64       position,
                         guint64      *out_len);

typedef struct {
  /* Reads @span into its pieces' destinations, telling @advance of the wanted bytes. */
  gboolean (*read_span) (StSource            *source,
                         const StSpan        *span,
                         StSourceAdvanceFunc  advance,
                         gpointer             advance_data,
                         GCancellable        *cancellable,
                         GError             **error);
  gboolean (*read_prefix) (StSource      *source,
                           gpointer       buf,
                           gsize          len,
                           gsize         *out_read,
                           GCancellable  *cancellable,
                           GError       **error);
  gboolean (*stream) (StSource            *source,
                      guint64              offset,
                      guint64              length,
                      StSourceSinkFunc     sink,
                      gpointer             sink_data,
                      StSourceAdvanceFunc  advance,
                      gpointer             advance_data,
                      GCancellable        *cancellable,
                      GError             **error);
  char    *(*dup_etag) (StSource *source);
  void     (*finalize) (StSource *source);
} StSourceClass;

struct _StSource
{
  const StSourceClass *klass;
  gatomicrefcount      ref_count;
  char                *name;
  guint64              size;          /* G_MAXUINT64 while unknown; set once, by the first read */
  guint64              max_gap;       /* ranges closer than this share a span */
  guint                max_parallel;  /* spans read at once */
};

/* Initializes the common part of a new source of @klass. */
void st_source_init (StSource            *source,
                     const StSourceClass *klass,
                     const char          *name,
                     guint64              size,
                     guint64              max_gap,
                     guint                max_parallel);

G_END_DECLS
