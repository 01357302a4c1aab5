/* st-format-private.h: the safetensors header, parsed and serialized
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The JSON side of the format lives here and nowhere else: st-format.c holds a strict RFC 8259 parser
 * made for the safetensors header (one pass, no recursion, no tree, duplicate keys rejected) and the
 * byte-exact writer. STFile builds on these two functions.
 */
#pragma once

#include "st-dtype-private.h"

G_BEGIN_DECLS

/* The largest header length a reader accepts (the N of the 8-byte prefix). */
#define ST_MAX_HEADER_SIZE G_GUINT64_CONSTANT (100000000)

/* How deep objects and arrays may nest in a header (the top-level object is depth 1). */
#define ST_MAX_JSON_DEPTH 64

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
 *
 * Errors (domain ST_ERROR), with a message naming the tensor or key and, for syntax, "at byte N of the
 * header": INVALID_HEADER (not UTF-8, not strict JSON, not an object, nested deeper than
 * ST_MAX_JSON_DEPTH, an entry that is not an object or lacks a field, a name holding \u0000),
 * INVALID_DTYPE, INVALID_SHAPE, MISALIGNED_SUB_BYTE, INVALID_OFFSETS (not two integers, reversed, a
 * size that disagrees with dtype and shape, holes and overlaps), INVALID_METADATA, DUPLICATE_NAME (a
 * tensor name or a key of any object, ignored fields included). The first problem in the text wins,
 * except that UTF-8 is checked before anything and the tiling after everything else.
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
 * Sorts @entries in place into the order Hugging Face writes them (dtype from U64 down to BOOL, then name
 * by bytes, strcmp), assigns each its data offsets (begin, end: consecutive from 0 in that order), and
 * returns the 8-byte prefix followed by the compact JSON header padded with spaces to a multiple of 8
 * bytes, exactly as Hugging Face's safetensors writes it. @metadata (nullable: no __metadata__ key at
 * all; empty: "__metadata__":{}) is written first with its keys sorted. The caller guarantees what the
 * writer cannot check: names unique and not "__metadata__", names and metadata valid UTF-8, dtypes valid,
 * shape entries >= 0, n_bytes the size of each tensor. *out_data_size (optional) receives the total data
 * length. It cannot fail.
 */
GBytes *st_header_serialize (StWriterEntry *entries,
                             gsize          n_entries,
                             GHashTable    *metadata,
                             guint64       *out_data_size);

G_END_DECLS
