/* st-format-private.h: the safetensors header, parsed and serialized
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The JSON side of the format lives here and nowhere else: st-format.c holds a strict RFC 8259 parser
 * made for the safetensors header (one pass, no recursion, no tree, duplicate keys rejected) and the
 * byte-exact writer. STFile builds on these two functions.
 */
#pragma once

#include "st-dtype.h"

G_BEGIN_DECLS

/* The largest header length a reader accepts (the N of the 8-byte prefix). */
#define ST_MAX_HEADER_SIZE G_GUINT64_CONSTANT (100000000)

/* How deep objects and arrays may nest in a header (the top-level object is depth 1). */
#define ST_MAX_JSON_DEPTH 64

/* The internal helpers of st-dtype.c. */

/* Finds the dtype named by the @name_len bytes at @name (not NUL-terminated), exactly. */
gboolean st_dtype_lookup (const char *name,
                          gsize       name_len,
                          STDType    *out_dtype);

/* "[2, 3]": a shape for error messages. */
char *st_shape_to_string (const gint64 *shape,
                          guint         n_dims);

/* One tensor of a parsed header. The entry owns @name and @shape (two allocations, freed with
 * st_header_entry_free(): steal them with g_steal_pointer() if you keep them). */
typedef struct {
  char    *name;     /* NUL-terminated UTF-8, unescaped; never contains NUL */
  STDType  dtype;
  guint    n_dims;
  gint64  *shape;    /* n_dims entries, each >= 0; NULL when n_dims == 0 */
  guint64  begin;    /* byte range in the data buffer */
  guint64  end;
} StHeaderEntry;

typedef struct {
  GPtrArray  *entries;     /* StHeaderEntry *, sorted by begin (the order of the data), owning */
  GHashTable *metadata;    /* char * -> char *, owning; NULL when __metadata__ is absent or null */
  guint64     data_size;   /* the data buffer length the entries tile: the last end, or 0 */
} StHeader;

void st_header_entry_free (StHeaderEntry *entry);
void st_header_free (StHeader *header);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StHeaderEntry, st_header_entry_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StHeader, st_header_free)

/*
 * st_header_read_size:
 * Reads the 8-byte little-endian header length from the start of @prefix (of @prefix_len bytes).
 * Fails with ST_ERROR_HEADER_TOO_SMALL when @prefix_len < 8, ST_ERROR_HEADER_TOO_LARGE when N exceeds
 * ST_MAX_HEADER_SIZE, or when @input_size is not G_MAXUINT64 and 8 + N > @input_size (the size of the
 * whole input, when known).
 */
gboolean st_header_read_size (const guint8 *prefix,
                              gsize         prefix_len,
                              guint64       input_size,
                              guint64      *out_header_size,
                              GError      **error);

/*
 * st_header_parse:
 * Parses and validates the @json_len bytes of header JSON. Enforces every rule of the format except the
 * one that needs the data: the caller compares header->data_size with the data it has
 * (ST_ERROR_INCOMPLETE_BUFFER when they differ). Never reads past @json + @json_len; @json need not be
 * NUL-terminated.
 */
StHeader *st_header_parse (const char *json,
                           gsize       json_len,
                           GError    **error);

typedef struct {
  const char   *name;
  STDType       dtype;
  const gint64 *shape;
  guint         n_dims;
  guint64       n_bytes;
  gpointer      user_data;  /* the caller's, carried along by the sort */
  guint64       begin;      /* set by st_header_serialize */
  guint64       end;
} StWriterEntry;

/*
 * st_header_serialize:
 * Sorts @entries into the order Hugging Face writes them (dtype from U64 down to BOOL, then name by
 * bytes), assigns each its data offsets, and returns the 8-byte prefix followed by the compact JSON
 * header padded with spaces to a multiple of 8 bytes. @metadata (nullable: no __metadata__ key at all;
 * empty: "__metadata__":{}) is written first with its keys sorted. Names and metadata must be valid UTF-8.
 * *out_data_size receives the total data length.
 */
GBytes *st_header_serialize (StWriterEntry *entries,
                             gsize          n_entries,
                             GHashTable    *metadata,
                             guint64       *out_data_size);

G_END_DECLS
