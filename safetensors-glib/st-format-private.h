/* st-format-private.h: the safetensors header, parsed and serialized
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The JSON side of the format lives here and nowhere else: st-format.c holds a strict RFC 8259 parser
 * made for the safetensors header (one pass, no recursion, no tree, duplicate keys rejected, strings and
 * whitespace scanned 16 bytes at a time with SSE2 where the CPU has it) and the byte-exact writer. STFile
 * builds on these two functions.
 */
#pragma once

#include "st-dtype-private.h"

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

/* A name index: NUL-terminated names shorter than 4 GiB (borrowed, never copied) -> non-NULL pointers.
 * Open addressing with linear probing and a hash keyed per process, so that a file cannot be crafted to
 * collide; a few dozen instructions an insertion. The parser fills one for its duplicate check and
 * STFile keeps it as its index. Not thread-safe for writing; lookups may run in parallel. */
typedef struct _StNameIndex StNameIndex;

StNameIndex *st_name_index_new (void);
/* An index with room for @n_names names before it grows (within a limit) */
StNameIndex *st_name_index_new_sized (gsize n_names);
void         st_name_index_free (StNameIndex *index);
guint        st_name_index_get_size (const StNameIndex *index);
gpointer     st_name_index_lookup (const StNameIndex *index,
                                   const char        *name);
/* Adds @name (of @name_len bytes, NUL-terminated) -> @value, or returns FALSE if @name is there (which
 * keeps its value). */
gboolean     st_name_index_insert (StNameIndex *index,
                                   const char  *name,
                                   gsize        name_len,
                                   gpointer     value);
gboolean     st_name_index_remove (StNameIndex *index,
                                   const char  *name);
/* Replaces each value with @map (value, @user_data), which must not return NULL. */
void         st_name_index_map_values (StNameIndex *index,
                                       gpointer   (*map) (gpointer value,
                                                          gpointer user_data),
                                       gpointer     user_data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StNameIndex, st_name_index_free)

/* One tensor of a parsed header. Entries, names and shapes live in the header's arena: they stay valid
 * as long as the StHeader. */
typedef struct {
  const char *name;     /* NUL-terminated UTF-8, unescaped; never contains NUL */
  STDType     dtype;
  guint       n_dims;
  gint64     *shape;    /* n_dims entries, each >= 0; NULL when n_dims == 0 */
  guint64     begin;    /* byte range in the data buffer */
  guint64     end;
  guint       index;    /* the entry's position in StHeader.entries */
} StHeaderEntry;

/* A block of the arena that holds a header's entries, names and shapes (private to st-format.c). */
typedef struct _StArenaChunk StArenaChunk;

typedef struct {
  GPtrArray    *entries;     /* StHeaderEntry *, sorted by begin (the order of the data), in the arena */
  StNameIndex  *by_name;     /* name -> StHeaderEntry *: the index of the duplicate check, which a loader
                              * may steal as its own */
  GHashTable   *metadata;    /* char * -> char *, owning; NULL when __metadata__ is absent or null */
  guint64       data_size;   /* the data buffer length the entries tile: the last end, or 0 */
  StArenaChunk *arena;       /* owns the entries, their names and their shapes */
} StHeader;

/* @size bytes of zeroed memory that live as long as @header, from its arena (in large blocks of huge pages
 * where the system offers them): for a loader's own data about each entry. */
gpointer st_header_alloc0 (StHeader *header,
                           gsize     size);
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
