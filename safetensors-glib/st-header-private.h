/* st-header-private.h: the safetensors header, parsed
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * st-header-parser.c holds a strict RFC 8259 parser made for the safetensors header (one pass, no
 * recursion, no tree, duplicate keys rejected), over the tokens of st-scanner-private.h. STFile builds
 * on it; st-header-serializer-private.h is the other direction.
 */
#pragma once

#include "st-arena-private.h"
#include "st-dtype.h"
#include "st-dtype-private.h"
#include "st-name-index-private.h"

G_BEGIN_DECLS

/* The largest header length a reader accepts (the N of the 8-byte prefix). */
#define ST_MAX_HEADER_SIZE G_GUINT64_CONSTANT (100000000)
/* The top bit of the header length: set while an in-place header edit is under way (st-file-edit.c). */
#define ST_EDIT_MARK (G_GUINT64_CONSTANT (1) << 63)

/* How deep objects and arrays may nest in a header (the top-level object is depth 1, a tensor entry
 * depth 2). Hugging Face's reader (serde_json, recursion limit 128) accepts 125 levels inside an unknown
 * field of a tensor entry and rejects 126: so do we. The parser never recurses, so the limit guards
 * nothing but agreement with the reference. */
#define ST_MAX_JSON_DEPTH 127

/* One tensor of a parsed header. Entries, names and shapes live in the header's arena: they stay valid
 * as long as the StHeader. */
typedef struct {
  const char *name;     /* NUL-terminated UTF-8, unescaped; never contains NUL. First: the name index reads
                         * it through the entry (st-name-index-private.h) */
  STDType     dtype;
  guint       n_dims;
  gint64     *shape;    /* n_dims entries, each >= 0; NULL when n_dims == 0. Read-only: entries of the
                         * same shape may share it */
  guint64     begin;    /* where the data begins in the data buffer; it ends at st_header_entry_get_end() */
} StHeaderEntry;

/* One past the last byte of @entry's data: its begin plus the byte size its dtype and shape make. The
 * parser checked that the header's data_offsets say exactly that, so the end is not kept (8 bytes less
 * for every entry of every open), and the product cannot overflow. */
static inline guint64
st_header_entry_get_end (const StHeaderEntry *entry)
{
  guint64 n_elements = 1;

  for (guint i = 0; i < entry->n_dims; i++)
    n_elements *= (guint64) entry->shape[i];
  return entry->begin + n_elements * st_dtype_get_bits (entry->dtype) / 8;
}

typedef struct {
  GPtrArray    *entries;     /* StHeaderEntry *, sorted by begin (the order of the data), in the arena */
  StNameIndex  *by_name;     /* name -> StHeaderEntry *: the index of the duplicate check; NULL when the
                              * names came in strictly increasing strcmp() order, where none can repeat
                              * another (as writers write them) */
  GHashTable   *metadata;    /* char * -> char *, owning; NULL when __metadata__ is absent or null */
  guint64       data_size;   /* the data buffer length the entries tile: the last end, or 0 */
  StArenaChunk *arena;       /* owns the entries, their names and their shapes */
} StHeader;

/* @size bytes of uninitialized memory that live as long as @header, from its arena (in large blocks of huge
 * pages where the system offers them): for a loader's own data about each entry, which it writes whole. */
gpointer st_header_alloc (StHeader *header,
                          gsize     size);
/* Takes the memory of @header's entries, names and shapes (and of st_header_alloc()): free it with
 * st_arena_chunks_free() once they are no longer used, after st_header_free() or before. */
StArenaChunk *st_header_steal_arena (StHeader *header);
void     st_header_free (StHeader *header);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StHeader, st_header_free)

/*
 * st_header_read_size:
 * Reads the 8-byte little-endian header length from the start of @prefix (of @prefix_len bytes).
 * Fails with ST_ERROR_HEADER_TOO_SMALL when @prefix_len < 8, ST_ERROR_HEADER_TOO_LARGE when N exceeds
 * ST_MAX_HEADER_SIZE, or when @input_size is not G_MAXUINT64 and 8 + N > @input_size (the size of the
 * whole input, when known), and with ST_ERROR_INTERRUPTED_EDIT when N carries ST_EDIT_MARK over a length
 * of at least 2 that would otherwise be valid.
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
 * ST_MAX_JSON_DEPTH, a number that overflows a double, an entry that is not an object or lacks a field,
 * a name holding \u0000), INVALID_DTYPE, INVALID_SHAPE (not integers from 0 to G_MAXINT64, -0 included,
 * or a product that overflows 64 bits at any step), MISALIGNED_SUB_BYTE, INVALID_OFFSETS (not two
 * integers, -0, reversed, a size that disagrees with dtype and shape, holes and overlaps),
 * INVALID_METADATA, DUPLICATE_NAME (a tensor name or a key of any object, ignored fields included). The first problem in the text wins,
 * except that UTF-8 is checked before anything and the tiling after everything else.
 */
StHeader *st_header_parse (const char *json,
                           gsize       json_len,
                           GError    **error);

/* How st_header_parse_with_flags() reads: the default is the fastest this build has. Every combination
 * gives the same result and the same errors; tests compare them. */
typedef enum {
  ST_HEADER_PARSE_DEFAULT      = 0,
  ST_HEADER_PARSE_SCALAR       = 1 << 0,  /* scan one byte at a time, as on CPUs without SSE2 */
  ST_HEADER_PARSE_GENERAL_ONLY = 1 << 1,  /* read every entry with the general parser, without the fast
                                           * path for entries written as writers write them */
} StHeaderParseFlags;

/* st_header_parse() with @flags. */
StHeader *st_header_parse_with_flags (const char          *json,
                                      gsize                json_len,
                                      StHeaderParseFlags   flags,
                                      GError             **error);

G_END_DECLS
