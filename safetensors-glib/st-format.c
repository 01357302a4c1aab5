/* st-format.c: the safetensors header, parsed and serialized
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The parser is a strict RFC 8259 reader made for this one schema rather than a general JSON library:
 * json-glib accepts comments and trailing commas, keeps the last of duplicate keys, builds a tree and
 * recurses. Here the header is read in one pass straight into StHeaderEntry values: no tree, no
 * recursion (the only place that can nest, an unknown field's value, is skipped with an explicit stack
 * bounded by ST_MAX_JSON_DEPTH), and no allocation per tensor: entries, names and shapes are cut from one
 * arena, and the duplicate check's index (StNameIndex) is handed to the loader as its name index. Strings without
 * escapes are used in place; escaped ones are decoded into one reused buffer.
 *
 * Scanning (the text of strings, whitespace, the UTF-8 check) goes 16 bytes at a time with SSE2, which
 * every x86-64 CPU has; elsewhere, big-endian CPUs included, and when a test asks for it
 * (ST_HEADER_PARSE_SCALAR), one byte at a time. Integers are read 8 digits at a time (SWAR, in any byte
 * order), and an entry written as writers write it is read by a fast path that falls back to the general
 * parser at the first byte of any other form (ST_HEADER_PARSE_GENERAL_ONLY skips it). Every way gives
 * the same results and the same errors: the tests and the fuzz target compare them.
 *
 * Large headers are bound by memory, not instructions: the UTF-8 check runs a block ahead of the parser
 * so that the text is read from memory once, the name index's slot is fetched while the entry is read,
 * and blocks of megabytes are mapped in huge pages where Linux offers them (big_block_alloc()).
 * Instruction counts (callgrind, bench/README.md) are the repeatable measure of all this.
 *
 * Where Hugging Face's reader (serde_json with serde's buffered maps) and the letter of RFC 8259 differ,
 * we take the reference's verdict unless it would let a bad file through (doc/format.md lists both):
 * - `-0` is a floating-point number to serde_json, so it is no shape entry or offset;
 * - a number whose value overflows a 64-bit float (1e400) is an error anywhere, unknown fields included;
 * - the element count is the product of the shape in order, checked at every step: [2^32, 2^32, 0]
 *   overflows before it reaches its 0;
 * - nesting is limited to ST_MAX_JSON_DEPTH levels, as serde_json's recursion limit does.
 * We differ on purpose in rejecting duplicate keys (the reference keeps the last), anything but strict
 * JSON, names and metadata holding \u0000 (a C string cannot hold them), and shape entries above
 * G_MAXINT64 (shapes are gint64 in our API and in every framework the bindings serve).
 *
 * The writer produces the bytes Hugging Face's safetensors writes: compact JSON, `__metadata__` first,
 * tensors by dtype from U64 down to BOOL and then by name, fields in the order dtype, shape,
 * data_offsets, strings escaped as serde_json escapes them, and the header padded with spaces to a
 * multiple of 8 bytes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_SSE2 1
#endif

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "st-error.h"
#include "st-format-private.h"

/* Tensor names and keys are quoted in error messages up to this many bytes. */
#define MAX_SHOWN_NAME 200
/* and numbers up to this many characters */
#define MAX_SHOWN_NUMBER 40

/* The arena's first chunk: as long as the header, within these bounds, which is room for the entries,
 * names and shapes of the headers writers make (an entry takes about as many arena bytes as its text).
 * Pages a header does not fill (one of metadata, say) are never touched, so cost no memory. Later chunks,
 * if any, double. */
#define ARENA_MIN_CHUNK ((gsize) 1024)
#define ARENA_MAX_FIRST_CHUNK ((gsize) 128 * 1024 * 1024)

/* The UTF-8 check runs this far ahead of the parser (see validate_ahead()): well within a core's L2 */
#define VALIDATE_BLOCK ((gsize) 64 * 1024)

/* Significant digits that decide whether a number of magnitude 1e308 overflows a double: DBL_MAX and
 * the halfway point above it have 309 integer digits. */
#define MAX_RANGE_DIGITS 330

/* Bits of StHeaderEntry fields already seen in a tensor entry. */
enum {
  FIELD_DTYPE        = 1 << 0,
  FIELD_SHAPE        = 1 << 1,
  FIELD_DATA_OFFSETS = 1 << 2,
};

struct _StArenaChunk {
  StArenaChunk *next;   /* the chunk filled before this one */
  gsize         size;   /* bytes of data */
  gsize         used;
  guint64       data[]; /* 8-byte aligned */
};

typedef struct {
  const guint8 *start;
  const guint8 *p;
  const guint8 *end;
  gboolean      simd;      /* scan 16 bytes at a time */
  gboolean      plain_entries;  /* try read_plain_entry() first */
  const guint8 *validated;       /* the UTF-8 of [start, validated) is valid */
  gboolean      invalid_utf8;    /* validation found a bad byte at ps->invalid_at */
  gsize         invalid_at;
  GString      *scratch;   /* the decoded text of the last string that had escapes */
  guint64      *ints;      /* the integers of the shape or data_offsets being read */
  guint         n_ints;
  guint         ints_capacity;
  GArray       *keys;      /* KeyRef: keys of the open objects inside unknown fields, for duplicates */
  GString      *key_text;  /* the bytes of those keys, one after the other */
  StArenaChunk *arena;     /* the chunk being filled; the older ones follow it */
  gsize         next_chunk_size;
  char          last_dtype_name[16];  /* the last dtype looked up: headers repeat a few dtypes */
  gsize         last_dtype_len;       /* G_MAXSIZE before the first */
  STDType       last_dtype;
  GError      **error;
} Parser;

/* A decoded JSON string: either in place in the header or in Parser.scratch (valid until the next
 * string is read). */
typedef struct {
  const char *data;
  gsize       len;
  gboolean    has_nul;   /* decoded from \u0000: cannot be a C string */
} Str;

typedef struct {
  const guint8 *begin;
  guint64       value;
  gboolean      negative;
  gboolean      is_integer;   /* no fraction, no exponent */
  gboolean      overflow;     /* an integer with more than 64 bits of magnitude */
} Number;

/* A key of an object inside an unknown field: @len bytes at @offset in Parser.key_text. Keys are kept
 * as 16 bytes plus their text, without an allocation each, so that a hostile object of millions of
 * keys costs a small multiple of its own size. */
typedef struct {
  gsize offset;
  gsize len;
} KeyRef;

/* 1 for the bytes that end a run of plain string text: the quote, the backslash and control chars. */
static const guint8 string_special[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  ['"'] = 1,
  ['\\'] = 1,
};

/* Large blocks */

/* The size of a transparent huge page on x86-64 and most 64-bit Linux systems */
#define HUGE_PAGE_SIZE ((gsize) 2 * 1024 * 1024)
/* Blocks from this size on are mapped on their own (see big_block_alloc()) */
#define BIG_BLOCK_MIN (2 * HUGE_PAGE_SIZE)

static gsize
big_block_mapped_size (gsize size)
{
  return (size + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
}

/* @size bytes (zeroed if @zeroed) for the arena and the name index. A large header needs megabytes of fresh
 * memory (15 MB for 100,000 tensors), and the kernel hands it out a 4 KiB page fault at a time, which on a
 * virtual machine cost more than parsing: on Linux, a block of BIG_BLOCK_MIN or more is its own mapping,
 * aligned to 2 MiB and marked for transparent huge pages, so that it takes one fault per 2 MiB where the
 * system allows it (madvise mode). Free it with big_block_free() and the same @size. */
static gpointer
big_block_alloc (gsize    size,
                 gboolean zeroed)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (size >= BIG_BLOCK_MIN && size <= G_MAXSIZE - 2 * HUGE_PAGE_SIZE)
    {
      gsize mapped_size = big_block_mapped_size (size);
      gsize reserved = mapped_size + HUGE_PAGE_SIZE;
      guint8 *base = mmap (NULL, reserved, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

      if (base != MAP_FAILED)
        {
          guint8 *aligned = (guint8 *) (((guintptr) base + HUGE_PAGE_SIZE - 1) & ~(guintptr) (HUGE_PAGE_SIZE - 1));
          guint8 *tail = aligned + mapped_size;

          if (aligned > base)
            munmap (base, (gsize) (aligned - base));
          if (base + reserved > tail)
            munmap (tail, (gsize) (base + reserved - tail));
          madvise (aligned, mapped_size, MADV_HUGEPAGE);
          return aligned;
        }
    }
#endif

  return zeroed ? g_malloc0 (size) : g_malloc (size);
}

static void
big_block_free (gpointer block,
                gsize    size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (size >= BIG_BLOCK_MIN && size <= G_MAXSIZE - 2 * HUGE_PAGE_SIZE)
    {
      munmap (block, big_block_mapped_size (size));
      return;
    }
#endif

  g_free (block);
}

/* The arena */

static StArenaChunk *
arena_grow (Parser *ps,
            gsize   size)
{
  gsize chunk_size = MAX (ps->next_chunk_size, size);
  StArenaChunk *chunk = big_block_alloc (sizeof (StArenaChunk) + chunk_size, FALSE);

  chunk->next = ps->arena;
  chunk->size = chunk_size;
  chunk->used = 0;
  ps->arena = chunk;
  ps->next_chunk_size = chunk_size * 2;
  return chunk;
}

/* @size bytes, 8-byte aligned, that live as long as the arena. */
static inline gpointer
arena_alloc (Parser *ps,
             gsize   size)
{
  StArenaChunk *chunk = ps->arena;
  gpointer block;

  size = (size + 7) & ~(gsize) 7;
  if (G_UNLIKELY (chunk == NULL || chunk->size - chunk->used < size))
    chunk = arena_grow (ps, size);

  block = (guint8 *) chunk->data + chunk->used;
  chunk->used += size;
  return block;
}

static void
arena_free (StArenaChunk *chunk)
{
  while (chunk != NULL)
    {
      StArenaChunk *next = chunk->next;

      big_block_free (chunk, sizeof (StArenaChunk) + chunk->size);
      chunk = next;
    }
}

/* The name index */

/* Slots of an index: a power of two, at least 4/3 of the names (linear probing stays short up to a load
 * of 3/4, and a smaller table stays in the caches longer) */
#define NAME_INDEX_MIN_SLOTS 16
/* An index made for an expected number of names starts with at most this many slots (3 MiB) */
#define NAME_INDEX_MAX_PRESIZED_SLOTS ((gsize) 1 << 17)

/* The shortest tensor entry, "":{"dtype":"U8","shape":[],"data_offsets":[0,0]}, and its comma: a header
 * of N bytes holds at most N / this many tensors. */
#define MIN_ENTRY_TEXT 49

typedef struct {
  const char *name;    /* NULL for a free slot */
  gpointer    value;
  guint32     hash;    /* its low bits are the name's home slot */
  guint32     len;     /* names are shorter than a header */
} NameSlot;

struct _StNameIndex {
  NameSlot *slots;
  gsize     mask;      /* the number of slots - 1 */
  gsize     n_names;
};

static guint64 name_hash_seed;
static gsize name_hash_seeded;

/* A 32-bit hash of @len bytes, 8 at a time, keyed with a random seed per process (each word is mixed
 * with a multiply and a xor-shift, as splitmix64 finishes). Words are read in the CPU's byte order: the
 * hash need only agree with itself within one process. */
static inline guint32
hash_name (const char *name,
           gsize       len)
{
  const guint64 k1 = G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  const guint64 k2 = G_GUINT64_CONSTANT (0x94d049bb133111eb);
  guint64 h = name_hash_seed ^ len;
  guint64 word;

  while (len >= 8)
    {
      memcpy (&word, name, 8);
      h = (h ^ word) * k1;
      h ^= h >> 31;
      name += 8;
      len -= 8;
    }
  if (len > 0)
    {
      word = 0;
      for (gsize i = 0; i < len; i++)
        word |= (guint64) (guint8) name[i] << (8 * i);
      h = (h ^ word) * k1;
      h ^= h >> 31;
    }

  h ^= h >> 29;
  h *= k2;
  h ^= h >> 32;
  return (guint32) h;
}

StNameIndex *
st_name_index_new (void)
{
  return st_name_index_new_sized (0);
}

StNameIndex *
st_name_index_new_sized (gsize n_names)
{
  StNameIndex *index = g_new0 (StNameIndex, 1);
  gsize n_slots = NAME_INDEX_MIN_SLOTS;

  if (g_once_init_enter (&name_hash_seeded))
    {
      name_hash_seed = ((guint64) g_random_int () << 32) | g_random_int ();
      g_once_init_leave (&name_hash_seeded, 1);
    }

  while (n_slots < NAME_INDEX_MAX_PRESIZED_SLOTS && n_slots * 3 < n_names * 4)
    n_slots *= 2;
  index->slots = big_block_alloc (n_slots * sizeof (NameSlot), TRUE);
  index->mask = n_slots - 1;
  return index;
}

void
st_name_index_free (StNameIndex *index)
{
  if (index == NULL)
    return;

  big_block_free (index->slots, (index->mask + 1) * sizeof (NameSlot));
  g_free (index);
}

guint
st_name_index_get_size (const StNameIndex *index)
{
  return (guint) index->n_names;
}

static void
name_index_grow (StNameIndex *index)
{
  gsize n_slots = (index->mask + 1) * 2;
  NameSlot *slots = big_block_alloc (n_slots * sizeof (NameSlot), TRUE);
  gsize mask = n_slots - 1;

  for (gsize i = 0; i <= index->mask; i++)
    {
      const NameSlot *slot = &index->slots[i];
      gsize at;

      if (slot->name == NULL)
        continue;
      for (at = slot->hash & mask; slots[at].name != NULL; at = (at + 1) & mask)
        ;
      slots[at] = *slot;
    }

  big_block_free (index->slots, (index->mask + 1) * sizeof (NameSlot));
  index->slots = slots;
  index->mask = mask;
}

/* The slot of @name, or the free slot where it would go. */
static inline gsize
name_index_find (const StNameIndex *index,
                 const char        *name,
                 gsize              name_len,
                 guint32            hash)
{
  gsize at;

  for (at = hash & index->mask; index->slots[at].name != NULL; at = (at + 1) & index->mask)
    {
      const NameSlot *slot = &index->slots[at];

      if (slot->hash == hash && slot->len == name_len && memcmp (slot->name, name, name_len) == 0)
        break;
    }
  return at;
}

gpointer
st_name_index_lookup (const StNameIndex *index,
                      const char        *name)
{
  gsize len = strlen (name);

  return index->slots[name_index_find (index, name, len, hash_name (name, len))].value;
}

/* Starts loading the slot where @name would go into the cache, and returns its hash: a parser that
 * has work to do before it inserts @name (its entry to read) then finds the slot there, however large
 * the index. */
static inline guint32
name_index_prefetch (const StNameIndex *index,
                     const char        *name,
                     gsize              name_len)
{
  guint32 hash = hash_name (name, name_len);

#if defined(__GNUC__)
  __builtin_prefetch (&index->slots[hash & index->mask], 1);
#endif
  return hash;
}

/* st_name_index_insert() for a @hash from name_index_prefetch() */
static gboolean
name_index_insert_hashed (StNameIndex *index,
                          const char  *name,
                          gsize        name_len,
                          guint32      hash,
                          gpointer     value)
{
  gsize at = name_index_find (index, name, name_len, hash);

  if (index->slots[at].name != NULL)
    return FALSE;

  index->slots[at].name = name;
  index->slots[at].value = value;
  index->slots[at].hash = hash;
  index->slots[at].len = (guint32) name_len;
  index->n_names++;
  if (index->n_names * 4 > (index->mask + 1) * 3)
    name_index_grow (index);
  return TRUE;
}

gboolean
st_name_index_insert (StNameIndex *index,
                      const char  *name,
                      gsize        name_len,
                      gpointer     value)
{
  return name_index_insert_hashed (index, name, name_len, hash_name (name, name_len), value);
}

gboolean
st_name_index_remove (StNameIndex *index,
                      const char  *name)
{
  gsize len = strlen (name);
  gsize hole = name_index_find (index, name, len, hash_name (name, len));
  gsize at = hole;

  if (index->slots[hole].name == NULL)
    return FALSE;

  /* Backward-shift deletion: move up each later name of the run that may fill the hole (its home slot
   * is not between the hole and where it is), so that no lookup meets a free slot before its name. */
  for (;;)
    {
      gsize home;

      at = (at + 1) & index->mask;
      if (index->slots[at].name == NULL)
        break;
      home = index->slots[at].hash & index->mask;
      if (((at - home) & index->mask) >= ((at - hole) & index->mask))
        {
          index->slots[hole] = index->slots[at];
          hole = at;
        }
    }

  index->slots[hole].name = NULL;
  index->slots[hole].value = NULL;
  index->n_names--;
  return TRUE;
}

/* How many slots ahead st_name_index_map_values() asks for the value a slot points to, in indexes of
 * more than MAP_PREFETCH_MIN_SLOTS (smaller ones and what they point to stay in the caches) */
#define MAP_PREFETCH_DISTANCE 16
#define MAP_PREFETCH_MIN_SLOTS ((gsize) 1 << 17)

void
st_name_index_map_values (StNameIndex *index,
                          gpointer   (*map) (gpointer value,
                                             gpointer user_data),
                          gpointer     user_data)
{
  gboolean prefetch = index->mask + 1 > MAP_PREFETCH_MIN_SLOTS;

  for (gsize i = 0; i <= index->mask; i++)
    {
#if defined(__GNUC__)
      /* @map reads what the value points to, in no order the walk can predict: ask for it early */
      if (prefetch && i + MAP_PREFETCH_DISTANCE <= index->mask && index->slots[i + MAP_PREFETCH_DISTANCE].name != NULL)
        __builtin_prefetch (index->slots[i + MAP_PREFETCH_DISTANCE].value, 0);
#endif
      if (index->slots[i].name != NULL)
        index->slots[i].value = map (index->slots[i].value, user_data);
    }
}

/* Scanning */

static inline gboolean
is_ws (guint8 c)
{
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline gboolean
is_digit (guint8 c)
{
  return c >= '0' && c <= '9';
}

#ifdef HAVE_SSE2
/* The index of the lowest set bit of @mask, which is not 0. */
static inline guint
lowest_bit (guint mask)
{
  return (guint) __builtin_ctz (mask);
}

/* A bit for each of the 16 bytes at @p that is a quote, a backslash or a control character. */
static inline guint
sse2_string_special_mask (const guint8 *p)
{
  __m128i bytes = _mm_loadu_si128 ((const __m128i *) p);
  __m128i quote = _mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('"'));
  __m128i backslash = _mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('\\'));
  /* c <= 0x1f, unsigned: saturating c - 0x1f is 0 */
  __m128i control = _mm_cmpeq_epi8 (_mm_subs_epu8 (bytes, _mm_set1_epi8 (0x1f)), _mm_setzero_si128 ());

  return (guint) _mm_movemask_epi8 (_mm_or_si128 (_mm_or_si128 (quote, backslash), control));
}

/* A bit for each of the 16 bytes at @p that is not JSON whitespace. */
static inline guint
sse2_not_ws_mask (const guint8 *p)
{
  __m128i bytes = _mm_loadu_si128 ((const __m128i *) p);
  __m128i ws = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (bytes, _mm_set1_epi8 (' ')),
                                           _mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('\n'))),
                             _mm_or_si128 (_mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('\r')),
                                           _mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('\t'))));

  return (guint) _mm_movemask_epi8 (ws) ^ 0xffff;
}
#endif

/* The first byte from @q on that is a quote, a backslash or a control character, or ps->end. */
static inline const guint8 *
scan_string_text (const Parser *ps,
                  const guint8 *q)
{
#ifdef HAVE_SSE2
  if (ps->simd)
    {
      while (ps->end - q >= 16)
        {
          guint mask = sse2_string_special_mask (q);

          if (mask != 0)
            return q + lowest_bit (mask);
          q += 16;
        }
    }
#endif

  while (q < ps->end && !string_special[*q])
    q++;
  return q;
}

static void
skip_ws_run (Parser *ps)
{
  const guint8 *p = ps->p;

#ifdef HAVE_SSE2
  if (ps->simd)
    {
      while (ps->end - p >= 16)
        {
          guint mask = sse2_not_ws_mask (p);

          if (mask != 0)
            {
              ps->p = p + lowest_bit (mask);
              return;
            }
          p += 16;
        }
    }
#endif

  while (p < ps->end && is_ws (*p))
    p++;
  ps->p = p;
}

static inline void
skip_ws (Parser *ps)
{
  /* Compact headers have no whitespace between tokens: the common case is one test (the four
   * whitespace characters are below ‘!’). */
  if (G_LIKELY (ps->p < ps->end && *ps->p > ' '))
    return;
  skip_ws_run (ps);
}

static inline gsize
offset_of (Parser       *ps,
           const guint8 *at)
{
  return (gsize) (at - ps->start);
}

/* Messages */

/* @name quoted for a message: at most MAX_SHOWN_NAME bytes, cut on a character boundary. */
static char *
shown_name (const char *name,
            gsize       len)
{
  const char *cut;

  if (len <= MAX_SHOWN_NAME)
    return g_strndup (name, len);

  cut = g_utf8_find_prev_char (name, name + MAX_SHOWN_NAME + 1);
  return g_strdup_printf ("%.*s…", (int) (cut - name), name);
}

G_GNUC_PRINTF (4, 5)
static gboolean
fail_at (Parser       *ps,
         const guint8 *at,
         STError       code,
         const char   *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (ps->error, ST_ERROR, code, "%s at byte %" G_GSIZE_FORMAT " of the header",
               message, offset_of (ps, at));
  return FALSE;
}

/* What the parser found where it expected something else, for messages. */
static char *
describe_found (Parser       *ps,
                const guint8 *at)
{
  if (at >= ps->end)
    return g_strdup ("the end of the header");
  if (*at >= 0x21 && *at < 0x7f)
    return g_strdup_printf ("‘%c’", *at);
  return g_strdup_printf ("byte 0x%02x", *at);
}

static gboolean
fail_expected (Parser     *ps,
               const char *expected)
{
  g_autofree char *found = describe_found (ps, ps->p);

  return fail_at (ps, ps->p, ST_ERROR_INVALID_HEADER, "Expected %s but found %s", expected, found);
}

/* Tokens */

/* Skips whitespace, then consumes @c if it comes next. */
static inline gboolean
accept_char (Parser *ps,
             guint8  c)
{
  if (G_LIKELY (ps->p < ps->end && *ps->p == c))
    {
      ps->p++;
      return TRUE;
    }
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == c)
    {
      ps->p++;
      return TRUE;
    }
  return FALSE;
}

/* Skips whitespace, then consumes @c or fails saying @expected. */
static inline gboolean
expect_char (Parser     *ps,
             guint8      c,
             const char *expected)
{
  if (accept_char (ps, c))
    return TRUE;
  return fail_expected (ps, expected);
}

/* After a member or an element: consumes ‘,’ (*out_closed = FALSE) or @close, which ends the object or
 * array (*out_closed = TRUE), or fails. */
static inline gboolean
next_or_close (Parser   *ps,
               guint8    close,
               gboolean *out_closed)
{
  if (G_UNLIKELY (ps->p < ps->end && *ps->p <= ' '))
    skip_ws_run (ps);
  if (ps->p < ps->end && (*ps->p == ',' || *ps->p == close))
    {
      *out_closed = *ps->p == close;
      ps->p++;
      return TRUE;
    }
  *out_closed = FALSE;
  return fail_expected (ps, close == '}' ? "‘,’ or ‘}’" : "‘,’ or ‘]’");
}

static int
hex_value (guint8 c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The 4 hex digits of a \u escape at @at (the backslash), or -1. */
static gint32
read_u_escape (Parser       *ps,
               const guint8 *at)
{
  gint32 value = 0;

  if (ps->end - at < 6 || at[0] != '\\' || at[1] != 'u')
    return -1;

  for (int i = 2; i < 6; i++)
    {
      int digit = hex_value (at[i]);

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }

  return value;
}

/* Decodes the \u escape (one, or a surrogate pair) at @q into ps->scratch; returns the byte after it,
 * or NULL with the error set. */
static const guint8 *
decode_u_escape (Parser       *ps,
                 const guint8 *q,
                 Str          *out)
{
  gint32 unit = read_u_escape (ps, q);
  gunichar code_point;
  char utf8[6];
  int utf8_len;

  if (unit < 0)
    {
      fail_at (ps, q, ST_ERROR_INVALID_HEADER, "Invalid \\u escape (it needs four hexadecimal digits)");
      return NULL;
    }

  if (unit >= 0xDC00 && unit <= 0xDFFF)
    {
      fail_at (ps, q, ST_ERROR_INVALID_HEADER, "Lone low surrogate \\u%04X in a string", (guint) unit);
      return NULL;
    }

  if (unit >= 0xD800 && unit <= 0xDBFF)
    {
      gint32 low = read_u_escape (ps, q + 6);

      if (low < 0xDC00 || low > 0xDFFF)
        {
          fail_at (ps, q, ST_ERROR_INVALID_HEADER,
                   "High surrogate \\u%04X not followed by a low surrogate in a string", (guint) unit);
          return NULL;
        }
      code_point = 0x10000 + (((gunichar) unit - 0xD800) << 10) + ((gunichar) low - 0xDC00);
      q += 12;
    }
  else
    {
      code_point = (gunichar) unit;
      q += 6;
    }

  if (code_point == 0)
    out->has_nul = TRUE;
  utf8_len = g_unichar_to_utf8 (code_point, utf8);
  g_string_append_len (ps->scratch, utf8, utf8_len);
  return q;
}

/* The string whose text starts at @q has escapes: decode it into ps->scratch. @open is the quote. */
static gboolean
parse_string_escaped (Parser       *ps,
                      const guint8 *open,
                      const guint8 *q,
                      Str          *out)
{
  GString *scratch = ps->scratch;

  g_string_truncate (scratch, 0);
  g_string_append_len (scratch, (const char *) open + 1, q - (open + 1));
  out->has_nul = FALSE;

  for (;;)
    {
      const guint8 *run = q;
      char unescaped;

      q = scan_string_text (ps, q);
      g_string_append_len (scratch, (const char *) run, q - run);

      if (q >= ps->end)
        return fail_at (ps, open, ST_ERROR_INVALID_HEADER, "Unterminated string");
      if (*q == '"')
        break;
      if (*q < 0x20)
        return fail_at (ps, q, ST_ERROR_INVALID_HEADER,
                        "Raw control character 0x%02x in a string (it must be escaped)", *q);

      /* A backslash */
      if (q + 1 >= ps->end)
        return fail_at (ps, open, ST_ERROR_INVALID_HEADER, "Unterminated string");

      switch (q[1])
        {
        case '"': unescaped = '"'; break;
        case '\\': unescaped = '\\'; break;
        case '/': unescaped = '/'; break;
        case 'b': unescaped = '\b'; break;
        case 'f': unescaped = '\f'; break;
        case 'n': unescaped = '\n'; break;
        case 'r': unescaped = '\r'; break;
        case 't': unescaped = '\t'; break;
        case 'u':
          q = decode_u_escape (ps, q, out);
          if (q == NULL)
            return FALSE;
          continue;
        default:
          {
            g_autofree char *found = describe_found (ps, q + 1);

            return fail_at (ps, q, ST_ERROR_INVALID_HEADER, "Invalid escape: backslash followed by %s", found);
          }
        }

      g_string_append_c (scratch, unescaped);
      q += 2;
    }

  ps->p = q + 1;
  out->data = scratch->str;
  out->len = scratch->len;
  return TRUE;
}

/* Reads the string whose opening quote is at ps->p. */
static inline gboolean
parse_string (Parser *ps,
              Str    *out)
{
  const guint8 *open = ps->p;
  const guint8 *q = scan_string_text (ps, open + 1);

  if (G_LIKELY (q < ps->end && *q == '"'))
    {
      out->data = (const char *) open + 1;
      out->len = (gsize) (q - (open + 1));
      out->has_nul = FALSE;
      ps->p = q + 1;
      return TRUE;
    }

  return parse_string_escaped (ps, open, q, out);
}

static gboolean
str_equal (const Str  *str,
           const char *literal,
           gsize       literal_len)
{
  return str->len == literal_len && memcmp (str->data, literal, literal_len) == 0;
}

/* Reads the number at ps->p, strictly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean
parse_number (Parser *ps,
              Number *out)
{
  const guint8 *p = ps->p;

  out->begin = p;
  out->value = 0;
  out->negative = FALSE;
  out->is_integer = TRUE;
  out->overflow = FALSE;

  if (p < ps->end && *p == '-')
    {
      out->negative = TRUE;
      p++;
    }

  if (p >= ps->end || !is_digit (*p))
    {
      ps->p = p;
      return fail_expected (ps, "a digit");
    }

  if (*p == '0')
    {
      p++;
      if (p < ps->end && is_digit (*p))
        return fail_at (ps, out->begin, ST_ERROR_INVALID_HEADER, "Number with a leading zero");
    }
  else
    {
      for (; p < ps->end && is_digit (*p); p++)
        {
          guint digit = *p - '0';

          /* value * 10 + digit <= G_MAXUINT64 = 18446744073709551615 */
          if (G_UNLIKELY (out->value >= G_MAXUINT64 / 10) &&
              (out->value > G_MAXUINT64 / 10 || digit > G_MAXUINT64 % 10))
            out->overflow = TRUE;
          else
            out->value = out->value * 10 + digit;
        }
    }

  if (p < ps->end && *p == '.')
    {
      p++;
      out->is_integer = FALSE;
      if (p >= ps->end || !is_digit (*p))
        {
          ps->p = p;
          return fail_expected (ps, "a digit after the decimal point");
        }
      while (p < ps->end && is_digit (*p))
        p++;
    }

  if (p < ps->end && (*p == 'e' || *p == 'E'))
    {
      p++;
      out->is_integer = FALSE;
      if (p < ps->end && (*p == '+' || *p == '-'))
        p++;
      if (p >= ps->end || !is_digit (*p))
        {
          ps->p = p;
          return fail_expected (ps, "a digit in the exponent");
        }
      while (p < ps->end && is_digit (*p))
        p++;
    }

  ps->p = p;
  return TRUE;
}

/* Whether the JSON number at [@begin, @end) (valid syntax) is a finite double. serde_json reads every
 * number that is not a 64-bit integer as a double and rejects those that overflow it ("number out of
 * range"); underflow gives 0 and is fine. The value is d.ddd × 10^magnitude with d the first nonzero
 * digit: finite below 10^308, infinite from 10^309, and in between strtod() on the leading digits
 * decides, with a sticky digit standing for any nonzero digits cut off. */
static gboolean
number_fits_double (const guint8 *begin,
                    const guint8 *end)
{
  const guint8 *p = begin;
  const guint8 *first = NULL;   /* the first nonzero digit */
  gint64 magnitude = 0;
  gint64 exponent = 0;
  gboolean exponent_negative = FALSE;
  GString *digits;
  gboolean cut_nonzero = FALSE;
  double value;

  if (*p == '-')
    p++;

  for (; p < end && is_digit (*p); p++)
    if (first == NULL && *p != '0')
      first = p;
  if (first != NULL)
    magnitude = (gint64) (p - first) - 1;

  if (p < end && *p == '.')
    {
      gint64 position = 0;

      for (p++; p < end && is_digit (*p); p++)
        {
          position++;
          if (first == NULL && *p != '0')
            {
              first = p;
              magnitude = -position;
            }
        }
    }

  if (first == NULL)
    return TRUE;   /* zero */

  if (p < end && (*p == 'e' || *p == 'E'))
    {
      p++;
      if (*p == '+' || *p == '-')
        exponent_negative = *p++ == '-';
      /* Saturate far beyond any magnitude a header can write */
      for (; p < end && is_digit (*p); p++)
        if (exponent < G_GINT64_CONSTANT (1000000000000))
          exponent = exponent * 10 + (*p - '0');
      if (exponent_negative)
        exponent = -exponent;
    }

  magnitude += exponent;
  if (magnitude < 308)
    return TRUE;
  if (magnitude > 308)
    return FALSE;

  /* 10^308 <= value < 10^309: DBL_MAX is 1.797...e308 */
  digits = g_string_sized_new (MAX_RANGE_DIGITS + 16);
  for (p = first; p < end && *p != 'e' && *p != 'E'; p++)
    {
      if (!is_digit (*p))
        continue;
      if (digits->len < MAX_RANGE_DIGITS)
        g_string_append_c (digits, (char) *p);
      else if (*p != '0')
        cut_nonzero = TRUE;
    }
  if (cut_nonzero)
    g_string_append_c (digits, '1');
  g_string_insert_c (digits, 1, '.');
  g_string_append (digits, "e308");
  value = g_ascii_strtod (digits->str, NULL);
  g_string_free (digits, TRUE);

  return isfinite (value);
}

/* Reads the number at ps->p, which must be in range for serde_json (see number_fits_double()). */
static gboolean
parse_any_number (Parser *ps)
{
  Number number;

  if (!parse_number (ps, &number))
    return FALSE;

  if ((!number.is_integer || number.overflow) && !number_fits_double (number.begin, ps->p))
    return fail_at (ps, number.begin, ST_ERROR_INVALID_HEADER,
                    "The number %.*s is out of range (it overflows a 64-bit float)",
                    (int) MIN (ps->p - number.begin, MAX_SHOWN_NUMBER), (const char *) number.begin);
  return TRUE;
}

static gboolean
parse_literal (Parser *ps)
{
  static const char *const literals[] = { "true", "false", "null" };

  for (guint i = 0; i < G_N_ELEMENTS (literals); i++)
    {
      gsize len = strlen (literals[i]);

      if ((gsize) (ps->end - ps->p) >= len && memcmp (ps->p, literals[i], len) == 0)
        {
          ps->p += len;
          return TRUE;
        }
    }

  return fail_expected (ps, "a JSON value");
}

/* Unknown fields */

static gint
compare_keys (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  const KeyRef *ka = a;
  const KeyRef *kb = b;
  const char *text = user_data;
  int order = memcmp (text + ka->offset, text + kb->offset, MIN (ka->len, kb->len));

  if (order != 0)
    return order;
  if (ka->len != kb->len)
    return ka->len < kb->len ? -1 : 1;
  return 0;
}

static void
add_key (Parser    *ps,
         const Str *key)
{
  KeyRef ref = { ps->key_text->len, key->len };

  g_string_append_len (ps->key_text, key->data, key->len);
  g_array_append_val (ps->keys, ref);
}

/* Checks that the keys ps->keys[@base..] of the object opening at @open are distinct, then drops
 * them. Sorting and comparing neighbours keeps hostile objects with millions of keys linear-log. */
static gboolean
check_and_drop_keys (Parser       *ps,
                     guint         base,
                     const guint8 *open,
                     const char   *where)
{
  guint n_keys = ps->keys->len - base;
  KeyRef *keys;
  gsize text_base;

  if (n_keys == 0)
    return TRUE;

  keys = &g_array_index (ps->keys, KeyRef, base);

  /* The keys were added in order: the first one's text is where this object's text begins */
  text_base = keys[0].offset;
  g_qsort_with_data (keys, (gint) n_keys, sizeof (KeyRef), compare_keys, ps->key_text->str);

  for (guint i = 1; i < n_keys; i++)
    {
      if (compare_keys (&keys[i - 1], &keys[i], ps->key_text->str) == 0)
        {
          g_autofree char *shown = shown_name (ps->key_text->str + keys[i].offset, keys[i].len);

          return fail_at (ps, open, ST_ERROR_DUPLICATE_NAME, "Duplicate key “%s” in %s", shown, where);
        }
    }

  g_array_set_size (ps->keys, base);
  g_string_truncate (ps->key_text, text_base);
  return TRUE;
}

/* Validates the JSON value at ps->p and skips it. @depth is the depth of the object or array that
 * holds it. Iterative: an explicit stack of the containers opened here. */
static gboolean
skip_value (Parser *ps,
            guint   depth)
{
  struct {
    guint8        kind;       /* '{' or '[' */
    guint         key_base;   /* for objects: where their keys start in ps->keys */
    const guint8 *open;
  } stack[ST_MAX_JSON_DEPTH];
  guint n_open = 0;
  enum { VALUE, KEY, AFTER_VALUE } state = VALUE;

  for (;;)
    {
      switch (state)
        {
        case VALUE:
          skip_ws (ps);
          if (ps->p >= ps->end)
            return fail_expected (ps, "a JSON value");

          switch (*ps->p)
            {
            case '{':
            case '[':
              if (depth + n_open + 1 > ST_MAX_JSON_DEPTH)
                return fail_at (ps, ps->p, ST_ERROR_INVALID_HEADER,
                                "JSON nested deeper than %d levels", ST_MAX_JSON_DEPTH);
              stack[n_open].kind = *ps->p;
              stack[n_open].key_base = ps->keys->len;
              stack[n_open].open = ps->p;
              n_open++;
              ps->p++;
              if (accept_char (ps, stack[n_open - 1].kind == '{' ? '}' : ']'))
                {
                  n_open--;
                  state = AFTER_VALUE;
                }
              else if (stack[n_open - 1].kind == '{')
                state = KEY;
              else
                state = VALUE;
              break;

            case '"':
              {
                Str str;

                if (!parse_string (ps, &str))
                  return FALSE;
                state = AFTER_VALUE;
                break;
              }

            case '-':
            case '0': case '1': case '2': case '3': case '4':
            case '5': case '6': case '7': case '8': case '9':
              if (!parse_any_number (ps))
                return FALSE;
              state = AFTER_VALUE;
              break;

            default:
              if (!parse_literal (ps))
                return FALSE;
              state = AFTER_VALUE;
              break;
            }
          break;

        case KEY:
          {
            Str key;

            skip_ws (ps);
            if (ps->p >= ps->end || *ps->p != '"')
              return fail_expected (ps, "a string key");
            if (!parse_string (ps, &key))
              return FALSE;
            add_key (ps, &key);
            if (!expect_char (ps, ':', "‘:’"))
              return FALSE;
            state = VALUE;
            break;
          }

        case AFTER_VALUE:
          {
            gboolean is_object;
            gboolean closed;

            if (n_open == 0)
              return TRUE;

            is_object = stack[n_open - 1].kind == '{';
            if (!next_or_close (ps, is_object ? '}' : ']', &closed))
              return FALSE;
            if (!closed)
              {
                state = is_object ? KEY : VALUE;
                break;
              }

            n_open--;
            if (is_object &&
                !check_and_drop_keys (ps, stack[n_open].key_base, stack[n_open].open, "an object"))
              return FALSE;
            break;
          }
        }
    }
}

/* Tensor entries */

/* The field whose key (with its quotes) is at ps->p, read without decoding when it is spelled plainly,
 * as every writer spells it: FIELD_* and ps->p past the key, or 0 and ps->p unchanged. */
static inline guint
match_plain_field (Parser *ps)
{
  gsize left = (gsize) (ps->end - ps->p);

  if (left >= 7 && memcmp (ps->p, "\"dtype\"", 7) == 0)
    {
      ps->p += 7;
      return FIELD_DTYPE;
    }
  if (left >= 7 && memcmp (ps->p, "\"shape\"", 7) == 0)
    {
      ps->p += 7;
      return FIELD_SHAPE;
    }
  if (left >= 14 && memcmp (ps->p, "\"data_offsets\"", 14) == 0)
    {
      ps->p += 14;
      return FIELD_DATA_OFFSETS;
    }
  return 0;
}

/* Reads the key of a tensor entry at ps->p: *out_field is its FIELD_* or 0 for an unknown field, whose
 * key is kept for the duplicate check. *out_key receives the decoded key. */
static gboolean
parse_field_key (Parser *ps,
                 Str    *out_key,
                 guint  *out_field)
{
  guint field = match_plain_field (ps);

  if (field != 0)
    {
      /* The key's text, without its quotes, for messages */
      out_key->data = (const char *) ps->p - (field == FIELD_DATA_OFFSETS ? 13 : 6);
      out_key->len = field == FIELD_DATA_OFFSETS ? 12 : 5;
      out_key->has_nul = FALSE;
      *out_field = field;
      return TRUE;
    }

  if (ps->p >= ps->end || *ps->p != '"')
    return fail_expected (ps, "a string key");
  if (!parse_string (ps, out_key))
    return FALSE;

  if (str_equal (out_key, "dtype", 5))
    field = FIELD_DTYPE;
  else if (str_equal (out_key, "shape", 5))
    field = FIELD_SHAPE;
  else if (str_equal (out_key, "data_offsets", 12))
    field = FIELD_DATA_OFFSETS;
  else
    add_key (ps, out_key);

  *out_field = field;
  return TRUE;
}

/* Finds the dtype @name, looking at the last one found first. */
static gboolean
lookup_dtype (Parser    *ps,
              const Str *name,
              STDType   *out_dtype)
{
  if (name->has_nul)
    return FALSE;

  if (name->len == ps->last_dtype_len)
    {
      gsize i = 0;

      while (i < name->len && name->data[i] == ps->last_dtype_name[i])
        i++;
      if (i == name->len)
        {
          *out_dtype = ps->last_dtype;
          return TRUE;
        }
    }

  if (!st_dtype_lookup (name->data, name->len, out_dtype))
    return FALSE;

  if (name->len <= sizeof ps->last_dtype_name)
    {
      memcpy (ps->last_dtype_name, name->data, name->len);
      ps->last_dtype_len = name->len;
      ps->last_dtype = *out_dtype;
    }
  return TRUE;
}

static gboolean
parse_dtype (Parser        *ps,
             StHeaderEntry *entry,
             gsize          name_len)
{
  Str dtype_name;

  skip_ws (ps);
  if (ps->p >= ps->end)
    return fail_expected (ps, "a JSON value");
  if (*ps->p != '"')
    {
      g_autofree char *shown = shown_name (entry->name, name_len);

      return fail_at (ps, ps->p, ST_ERROR_INVALID_DTYPE, "The dtype of tensor “%s” is not a string", shown);
    }
  if (!parse_string (ps, &dtype_name))
    return FALSE;

  if (!lookup_dtype (ps, &dtype_name, &entry->dtype))
    {
      g_autofree char *shown = shown_name (entry->name, name_len);
      g_autofree char *shown_dtype = shown_name (dtype_name.data, dtype_name.len);

      g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_DTYPE,
                   "Tensor “%s” has an unknown dtype “%s”", shown, shown_dtype);
      return FALSE;
    }

  return TRUE;
}

/* 1 for the bytes that may follow the integer part of a JSON number within the number */
static const guint8 continues_number[256] = {
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
  ['.'] = 1, ['e'] = 1, ['E'] = 1,
};

/* The 8 bytes at @p as a number whose lowest byte is p[0], on any CPU. */
static inline guint64
load_le64 (const guint8 *p)
{
  guint64 word;

  memcpy (&word, p, sizeof word);
  return GUINT64_FROM_LE (word);
}

/* How many of the 8 bytes of @word (lowest first) are ASCII digits before the first that is not. A byte
 * is a digit when its high nibble is 3 and adding 6 keeps it 3 (adding 6 carries into the next byte only
 * from bytes of 0xfa and more, which valid UTF-8 never holds). */
static inline guint
count_leading_digits (guint64 word)
{
  const guint64 high_nibbles = G_GUINT64_CONSTANT (0xf0f0f0f0f0f0f0f0);
  const guint64 threes = G_GUINT64_CONSTANT (0x3030303030303030);
  const guint64 sevens = G_GUINT64_CONSTANT (0x7f7f7f7f7f7f7f7f);
  guint64 not_digit = ((word & high_nibbles) ^ threes) |
                      (((word + G_GUINT64_CONSTANT (0x0606060606060606)) & high_nibbles) ^ threes);
  /* The high bit of each byte that is not zero */
  guint64 nonzero = (((not_digit & sevens) + sevens) | not_digit) & ~sevens;

  if (nonzero == 0)
    return 8;
#if defined(__GNUC__)
  return (guint) __builtin_ctzll (nonzero) / 8;
#else
  {
    guint n = 0;

    for (; (nonzero & 0x80) == 0; nonzero >>= 8)
      n++;
    return n;
  }
#endif
}

/* The value of the first @n_digits (1 to 8) bytes of @word (lowest first), which are ASCII digits: the
 * digits are moved to the top, where the others fall off, and combined in pairs, fours and eights. */
static inline guint64
digits_value (guint64 word,
              guint   n_digits)
{
  word -= G_GUINT64_CONSTANT (0x3030303030303030);
  word <<= 8 * (8 - n_digits);
  word = (word * 10 + (word >> 8)) & G_GUINT64_CONSTANT (0x00ff00ff00ff00ff);
  word = (word * 100 + (word >> 16)) & G_GUINT64_CONSTANT (0x0000ffff0000ffff);
  word = (word * 10000 + (word >> 32)) & G_GUINT64_CONSTANT (0x00000000ffffffff);
  return word;
}

/* Reads a plain integer of up to 19 digits at ps->p, the form writers use, 8 digits at a time: FALSE,
 * with ps->p unchanged, for anything else (a sign, a fraction, an exponent, a leading zero, more
 * digits), which parse_array_number() then reads and judges. */
static inline gboolean
read_plain_integer (Parser  *ps,
                    guint64 *out_value)
{
  static const guint64 powers_of_ten[9] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 };
  const guint8 *p = ps->p;
  guint64 value = 0;
  guint n_digits = 0;

  if (p >= ps->end || !is_digit (*p))
    return FALSE;

  if (*p == '0')
    p++;
  else
    for (;;)
      {
        guint64 word;
        guint n;

        if (ps->end - p < 8)
          {
            for (; p < ps->end && is_digit (*p) && n_digits < 19; p++, n_digits++)
              value = value * 10 + (guint64) (*p - '0');
            break;
          }

        word = load_le64 (p);
        n = count_leading_digits (word);
        if (n == 0)
          break;
        if (n_digits + n > 19)
          return FALSE;
        value = value * powers_of_ten[n] + digits_value (word, n);
        n_digits += n;
        p += n;
        if (n < 8)
          break;
      }

  /* A digit after 19 of them, or after a leading zero, a fraction or an exponent: the slow path */
  if (p < ps->end && continues_number[*p])
    return FALSE;

  ps->p = p;
  *out_value = value;
  return TRUE;
}

/* Reads any JSON number at ps->p, as an element of the @field of tensor @name, which holds unsigned
 * integers of at most @max_value: fails with @code for a number that is not one of them. The caller
 * checks values of up to 64 bits against @max_value. */
static gboolean
parse_array_number (Parser     *ps,
                    STError     code,
                    const char *field,
                    const char *name,
                    gsize       name_len,
                    guint64     max_value,
                    guint64    *out_value)
{
  Number number;
  g_autofree char *shown = NULL;
  int shown_len;

  if (ps->p >= ps->end || (*ps->p != '-' && !is_digit (*ps->p)))
    {
      if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '[' || *ps->p == '{' ||
                              *ps->p == 't' || *ps->p == 'f' || *ps->p == 'n'))
        {
          shown = shown_name (name, name_len);
          return fail_at (ps, ps->p, code, "The %s of tensor “%s” holds something other than an integer",
                          field, shown);
        }
      return fail_expected (ps, "a number");
    }

  if (!parse_number (ps, &number))
    return FALSE;

  shown_len = (int) MIN (ps->p - number.begin, MAX_SHOWN_NUMBER);

  if (!number.is_integer)
    {
      shown = shown_name (name, name_len);
      return fail_at (ps, number.begin, code, "The %s of tensor “%s” holds %.*s, not an integer",
                      field, shown, shown_len, (const char *) number.begin);
    }

  /* serde_json reads -0 as the floating-point number -0.0 (to keep its sign): Hugging Face rejects it */
  if (number.negative && number.value == 0 && !number.overflow)
    {
      shown = shown_name (name, name_len);
      return fail_at (ps, number.begin, code,
                      "The %s of tensor “%s” holds -0, which JSON readers take for a floating-point number, "
                      "not an integer", field, shown);
    }

  if (number.negative)
    {
      shown = shown_name (name, name_len);
      return fail_at (ps, number.begin, code, "The %s of tensor “%s” holds a negative number, %.*s",
                      field, shown, shown_len, (const char *) number.begin);
    }

  if (number.overflow)
    {
      shown = shown_name (name, name_len);
      return fail_at (ps, number.begin, code, "The %s of tensor “%s” holds %.*s, more than %" G_GUINT64_FORMAT,
                      field, shown, shown_len, (const char *) number.begin, max_value);
    }

  *out_value = number.value;
  return TRUE;
}

/* Reads the array of non-negative integers of at most @max_value at ps->p into ps->ints: the @field of
 * tensor @name. @code is the error for a bad element. */
static gboolean
parse_integer_array (Parser     *ps,
                     STError     code,
                     const char *field,
                     const char *name,
                     gsize       name_len,
                     guint64     max_value)
{
  ps->n_ints = 0;

  skip_ws (ps);
  if (ps->p >= ps->end)
    return fail_expected (ps, "a JSON value");
  if (*ps->p != '[')
    {
      g_autofree char *shown = shown_name (name, name_len);

      return fail_at (ps, ps->p, code, "The %s of tensor “%s” is not an array", field, shown);
    }
  ps->p++;

  if (accept_char (ps, ']'))
    return TRUE;

  for (;;)
    {
      const guint8 *begin;
      guint64 value = 0;
      gboolean closed;

      skip_ws (ps);
      begin = ps->p;
      if (!read_plain_integer (ps, &value) &&
          !parse_array_number (ps, code, field, name, name_len, max_value, &value))
        return FALSE;

      if (value > max_value)
        {
          g_autofree char *shown = shown_name (name, name_len);

          return fail_at (ps, begin, code, "The %s of tensor “%s” holds %.*s, more than %" G_GUINT64_FORMAT,
                          field, shown, (int) MIN (ps->p - begin, MAX_SHOWN_NUMBER), (const char *) begin,
                          max_value);
        }

      if (G_UNLIKELY (ps->n_ints == ps->ints_capacity))
        {
          ps->ints_capacity = MAX (16, ps->ints_capacity * 2);
          ps->ints = g_renew (guint64, ps->ints, ps->ints_capacity);
        }
      ps->ints[ps->n_ints++] = value;

      if (!next_or_close (ps, ']', &closed))
        return FALSE;
      if (closed)
        return TRUE;
    }
}

static gboolean
parse_shape (Parser        *ps,
             StHeaderEntry *entry,
             gsize          name_len)
{
  /* Shapes are gint64 in the API: entries above G_MAXINT64 are rejected (see doc/format.md) */
  if (!parse_integer_array (ps, ST_ERROR_INVALID_SHAPE, "shape", entry->name, name_len, G_MAXINT64))
    return FALSE;

  entry->n_dims = ps->n_ints;
  entry->shape = NULL;
  if (ps->n_ints > 0)
    {
      /* Every value is at most G_MAXINT64: the guint64s are valid gint64s. */
      entry->shape = arena_alloc (ps, ps->n_ints * sizeof (gint64));
      memcpy (entry->shape, ps->ints, ps->n_ints * sizeof (gint64));
    }
  return TRUE;
}

static gboolean
parse_data_offsets (Parser        *ps,
                    StHeaderEntry *entry,
                    gsize          name_len)
{
  const guint8 *array_start;

  skip_ws (ps);
  array_start = ps->p;
  if (!parse_integer_array (ps, ST_ERROR_INVALID_OFFSETS, "data_offsets", entry->name, name_len, G_MAXUINT64))
    return FALSE;

  if (ps->n_ints != 2)
    {
      g_autofree char *shown = shown_name (entry->name, name_len);

      return fail_at (ps, array_start, ST_ERROR_INVALID_OFFSETS,
                      "The data_offsets of tensor “%s” have %u numbers instead of 2", shown, ps->n_ints);
    }

  entry->begin = ps->ints[0];
  entry->end = ps->ints[1];
  return TRUE;
}

/* The byte size of @entry's data, as Hugging Face computes it: the product of the shape in order,
 * checked at every step (so [2^32, 2^32, 0] overflows before its 0 makes it empty), times the dtype's
 * bits, a whole number of bytes. */
static gboolean
compute_entry_n_bytes (Parser              *ps,
                       const StHeaderEntry *entry,
                       gsize                name_len,
                       guint64             *out_n_bytes)
{
  guint64 n_elements = 1;
  guint64 n_bits;

  for (guint i = 0; i < entry->n_dims; i++)
    {
      if (!g_uint64_checked_mul (&n_elements, n_elements, (guint64) entry->shape[i]))
        {
          g_autofree char *shown = shown_name (entry->name, name_len);
          g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

          g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                       "Tensor “%s”: The element count of shape %s overflows 64 bits", shown, shape);
          return FALSE;
        }
    }

  if (!g_uint64_checked_mul (&n_bits, n_elements, st_dtype_get_bits (entry->dtype)))
    {
      g_autofree char *shown = shown_name (entry->name, name_len);
      g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

      g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                   "Tensor “%s”: The size in bits of dtype %s and shape %s overflows 64 bits",
                   shown, st_dtype_to_string (entry->dtype), shape);
      return FALSE;
    }

  if (n_bits % 8 != 0)
    {
      g_autofree char *shown = shown_name (entry->name, name_len);
      g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

      g_set_error (ps->error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE,
                   "Tensor “%s”: Dtype %s and shape %s make %" G_GUINT64_FORMAT " bits, not a whole number of bytes",
                   shown, st_dtype_to_string (entry->dtype), shape, n_bits);
      return FALSE;
    }

  *out_n_bytes = n_bits / 8;
  return TRUE;
}

/* Checks a complete entry: every field present, a size that fits, offsets that match it. */
static gboolean
check_entry (Parser              *ps,
             const StHeaderEntry *entry,
             gsize                name_len,
             guint                fields,
             const guint8        *open)
{
  guint64 n_bytes;

  if ((fields & FIELD_DTYPE) == 0 || (fields & FIELD_SHAPE) == 0 || (fields & FIELD_DATA_OFFSETS) == 0)
    {
      g_autofree char *shown = shown_name (entry->name, name_len);
      const char *missing = "data_offsets";

      if ((fields & FIELD_DTYPE) == 0)
        missing = "dtype";
      else if ((fields & FIELD_SHAPE) == 0)
        missing = "shape";

      return fail_at (ps, open, ST_ERROR_INVALID_HEADER, "Tensor “%s” has no “%s” field", shown, missing);
    }

  if (!compute_entry_n_bytes (ps, entry, name_len, &n_bytes))
    return FALSE;

  if (entry->end < entry->begin)
    {
      g_autofree char *shown = shown_name (entry->name, name_len);

      g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                   "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                   "that end before they begin (its %s data is %" G_GUINT64_FORMAT " bytes)",
                   shown, entry->begin, entry->end, st_dtype_to_string (entry->dtype), n_bytes);
      return FALSE;
    }

  if (entry->end - entry->begin != n_bytes)
    {
      g_autofree char *shown = shown_name (entry->name, name_len);
      g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

      g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                   "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                   "(%" G_GUINT64_FORMAT " bytes) but dtype %s and shape %s make %" G_GUINT64_FORMAT " bytes",
                   shown, entry->begin, entry->end, entry->end - entry->begin,
                   st_dtype_to_string (entry->dtype), shape, n_bytes);
      return FALSE;
    }

  return TRUE;
}

/* Consumes @literal if the text at ps->p begins with it. */
static inline gboolean
accept_literal (Parser     *ps,
                const char *literal,
                gsize       len)
{
  if ((gsize) (ps->end - ps->p) < len || memcmp (ps->p, literal, len) != 0)
    return FALSE;
  ps->p += len;
  return TRUE;
}

/* Reads ‘[’, plain integers of at most @max_value separated by ‘,’, and ‘]’ into ps->ints, or returns
 * FALSE at the first byte of any other form. */
static inline gboolean
read_plain_integer_array (Parser  *ps,
                          guint64  max_value)
{
  ps->n_ints = 0;
  if (!accept_literal (ps, "[", 1))
    return FALSE;
  if (accept_literal (ps, "]", 1))
    return TRUE;

  for (;;)
    {
      guint64 value;

      if (!read_plain_integer (ps, &value) || value > max_value)
        return FALSE;
      if (G_UNLIKELY (ps->n_ints == ps->ints_capacity))
        {
          ps->ints_capacity = MAX (16, ps->ints_capacity * 2);
          ps->ints = g_renew (guint64, ps->ints, ps->ints_capacity);
        }
      ps->ints[ps->n_ints++] = value;

      if (ps->p >= ps->end)
        return FALSE;
      if (*ps->p == ']')
        {
          ps->p++;
          return TRUE;
        }
      if (*ps->p != ',')
        return FALSE;
      ps->p++;
    }
}

/* Reads the tensor entry at ps->p if it is written exactly as writers write it,
 * {"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}, with no whitespace, escapes or other fields and
 * with valid values: the fields of @entry are then set and ps->p is past the closing brace. Otherwise
 * it returns FALSE, and the caller reads the entry again with parse_entry(), which judges it. */
static gboolean
read_plain_entry (Parser        *ps,
                  StHeaderEntry *entry)
{
  Str dtype_name;

  if (!accept_literal (ps, "{\"dtype\":\"", 10))
    return FALSE;

  /* The dtype's name, without escapes */
  dtype_name.data = (const char *) ps->p;
  ps->p = scan_string_text (ps, ps->p);
  if (ps->p >= ps->end || *ps->p != '"')
    return FALSE;
  dtype_name.len = (gsize) ((const char *) ps->p - dtype_name.data);
  dtype_name.has_nul = FALSE;
  if (!lookup_dtype (ps, &dtype_name, &entry->dtype))
    return FALSE;

  if (!accept_literal (ps, "\",\"shape\":", 10) || !read_plain_integer_array (ps, G_MAXINT64))
    return FALSE;
  entry->n_dims = ps->n_ints;
  entry->shape = NULL;
  if (ps->n_ints > 0)
    {
      entry->shape = arena_alloc (ps, ps->n_ints * sizeof (gint64));
      memcpy (entry->shape, ps->ints, ps->n_ints * sizeof (gint64));
    }

  if (!accept_literal (ps, ",\"data_offsets\":", 16) || !read_plain_integer_array (ps, G_MAXUINT64) ||
      ps->n_ints != 2 || !accept_literal (ps, "}", 1))
    return FALSE;
  entry->begin = ps->ints[0];
  entry->end = ps->ints[1];
  return TRUE;
}

/* Reads the tensor entry (the value) at ps->p into @entry, whose name is set. */
static gboolean
parse_entry (Parser        *ps,
             StHeaderEntry *entry,
             gsize          name_len)
{
  const guint8 *open;
  guint fields = 0;
  guint key_base = ps->keys->len;

  skip_ws (ps);
  if (ps->p >= ps->end)
    return fail_expected (ps, "a JSON value");
  if (*ps->p != '{')
    {
      g_autofree char *shown = shown_name (entry->name, name_len);

      return fail_at (ps, ps->p, ST_ERROR_INVALID_HEADER, "The entry of tensor “%s” is not an object", shown);
    }
  open = ps->p++;

  if (!accept_char (ps, '}'))
    for (;;)
      {
        Str key;
        guint field = 0;
        gboolean parsed;
        gboolean closed;

        skip_ws (ps);
        if (!parse_field_key (ps, &key, &field))
          return FALSE;

        if ((fields & field) != 0)
          {
            g_autofree char *shown_key = g_strndup (key.data, key.len);
            g_autofree char *shown = shown_name (entry->name, name_len);

            return fail_at (ps, ps->p, ST_ERROR_DUPLICATE_NAME, "Duplicate key “%s” in tensor “%s”",
                            shown_key, shown);
          }
        fields |= field;

        if (!expect_char (ps, ':', "‘:’"))
          return FALSE;

        switch (field)
          {
          case FIELD_DTYPE:
            parsed = parse_dtype (ps, entry, name_len);
            break;
          case FIELD_SHAPE:
            parsed = parse_shape (ps, entry, name_len);
            break;
          case FIELD_DATA_OFFSETS:
            parsed = parse_data_offsets (ps, entry, name_len);
            break;
          default:
            parsed = skip_value (ps, 2);
            break;
          }
        if (!parsed)
          return FALSE;

        if (!next_or_close (ps, '}', &closed))
          return FALSE;
        if (closed)
          break;
      }

  if (ps->keys->len > key_base)
    {
      g_autofree char *shown = shown_name (entry->name, name_len);
      g_autofree char *where = g_strdup_printf ("tensor “%s”", shown);

      if (!check_and_drop_keys (ps, key_base, open, where))
        return FALSE;
    }

  return check_entry (ps, entry, name_len, fields, open);
}

/* Metadata */

/* Reads one "key":"value" member of __metadata__ at ps->p into @metadata. */
static gboolean
parse_metadata_member (Parser     *ps,
                       GHashTable *metadata)
{
  Str str;
  g_autofree char *key = NULL;
  const guint8 *key_start;

  skip_ws (ps);
  key_start = ps->p;
  if (ps->p >= ps->end || *ps->p != '"')
    return fail_expected (ps, "a string key");
  if (!parse_string (ps, &str))
    return FALSE;
  if (str.has_nul)
    {
      g_autofree char *shown = shown_name (str.data, str.len);

      return fail_at (ps, key_start, ST_ERROR_INVALID_METADATA,
                      "The __metadata__ key “%s” contains \\u0000, which a C string cannot hold", shown);
    }
  key = g_strndup (str.data, str.len);

  if (g_hash_table_contains (metadata, key))
    {
      g_autofree char *shown = shown_name (key, str.len);

      return fail_at (ps, key_start, ST_ERROR_DUPLICATE_NAME, "Duplicate key “%s” in __metadata__", shown);
    }

  if (!expect_char (ps, ':', "‘:’"))
    return FALSE;

  skip_ws (ps);
  if (ps->p >= ps->end)
    return fail_expected (ps, "a JSON value");
  if (*ps->p != '"')
    {
      g_autofree char *shown = shown_name (key, strlen (key));

      return fail_at (ps, ps->p, ST_ERROR_INVALID_METADATA,
                      "The value of “%s” in __metadata__ is not a string", shown);
    }
  if (!parse_string (ps, &str))
    return FALSE;
  if (str.has_nul)
    {
      g_autofree char *shown = shown_name (key, strlen (key));

      return fail_at (ps, key_start, ST_ERROR_INVALID_METADATA,
                      "The value of “%s” in __metadata__ contains \\u0000, which a C string cannot hold",
                      shown);
    }

  g_hash_table_insert (metadata, g_steal_pointer (&key), g_strndup (str.data, str.len));
  return TRUE;
}

/* Reads the value of __metadata__ at ps->p: null, or an object of strings. */
static gboolean
parse_metadata (Parser      *ps,
                GHashTable **out_metadata)
{
  g_autoptr(GHashTable) metadata = NULL;

  skip_ws (ps);
  if (ps->end - ps->p >= 4 && memcmp (ps->p, "null", 4) == 0)
    {
      ps->p += 4;
      *out_metadata = NULL;
      return TRUE;
    }
  if (ps->p >= ps->end)
    return fail_expected (ps, "a JSON value");
  if (*ps->p != '{')
    return fail_at (ps, ps->p, ST_ERROR_INVALID_METADATA, "The value of __metadata__ is neither an object nor null");
  ps->p++;

  metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!accept_char (ps, '}'))
    for (;;)
      {
        gboolean closed;

        if (!parse_metadata_member (ps, metadata))
          return FALSE;
        if (!next_or_close (ps, '}', &closed))
          return FALSE;
        if (closed)
          break;
      }

  *out_metadata = g_steal_pointer (&metadata);
  return TRUE;
}

/* The document */

static gint
compare_entries_by_offsets (gconstpointer a,
                            gconstpointer b)
{
  const StHeaderEntry *ea = *(const StHeaderEntry *const *) a;
  const StHeaderEntry *eb = *(const StHeaderEntry *const *) b;

  if (ea->begin != eb->begin)
    return ea->begin < eb->begin ? -1 : 1;
  if (ea->end != eb->end)
    return ea->end < eb->end ? -1 : 1;
  return 0;
}

/* Sorts @entries by offsets, numbers them, and checks that they tile [0, data_size) with neither hole
 * nor overlap. */
static gboolean
check_tiling (GPtrArray  *entries,
              guint64    *out_data_size,
              GError    **error)
{
  const StHeaderEntry *previous = NULL;
  guint64 covered = 0;

  /* Writers put the entries in the order of their data: sort only when they are not. The sort is
   * stable (GLib's is a merge sort): empty tensors sharing an offset keep the header's order. */
  for (guint i = 1; i < entries->len; i++)
    {
      if (compare_entries_by_offsets (&entries->pdata[i - 1], &entries->pdata[i]) > 0)
        {
          g_ptr_array_sort (entries, compare_entries_by_offsets);
          break;
        }
    }

  for (guint i = 0; i < entries->len; i++)
    {
      StHeaderEntry *entry = g_ptr_array_index (entries, i);

      if (entry->begin != covered)
        {
          g_autofree char *shown = shown_name (entry->name, strlen (entry->name));
          g_autofree char *shown_previous = NULL;

          if (previous == NULL)
            {
              g_set_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                           "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                           "but the first tensor of the data must begin at 0",
                           shown, entry->begin, entry->end);
              return FALSE;
            }

          shown_previous = shown_name (previous->name, strlen (previous->name));
          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                       "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                       "but the tensor before it in the data, “%s”, ends at %" G_GUINT64_FORMAT " (%s)",
                       shown, entry->begin, entry->end, shown_previous, covered,
                       entry->begin > covered ? "a hole" : "an overlap");
          return FALSE;
        }

      entry->index = i;
      covered = entry->end;
      previous = entry;
    }

  *out_data_size = covered;
  return TRUE;
}

gpointer
st_header_alloc0 (StHeader *header,
                  gsize     size)
{
  StArenaChunk *chunk = big_block_alloc (sizeof (StArenaChunk) + size, TRUE);

  chunk->next = header->arena;
  chunk->size = size;
  chunk->used = size;
  header->arena = chunk;
  return chunk->data;
}

void
st_header_free (StHeader *header)
{
  if (header == NULL)
    return;

  g_clear_pointer (&header->entries, g_ptr_array_unref);
  g_clear_pointer (&header->by_name, st_name_index_free);
  g_clear_pointer (&header->metadata, g_hash_table_unref);
  arena_free (header->arena);
  g_free (header);
}

gboolean
st_header_read_size (const guint8 *prefix,
                     gsize         prefix_len,
                     guint64       input_size,
                     guint64      *out_header_size,
                     GError      **error)
{
  guint64 size_le;
  guint64 size;

  g_return_val_if_fail (prefix != NULL || prefix_len == 0, FALSE);

  if (prefix_len < 8)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_HEADER_TOO_SMALL,
                   "The input is %" G_GSIZE_FORMAT " bytes long, too short for the 8-byte header length",
                   prefix_len);
      return FALSE;
    }

  memcpy (&size_le, prefix, sizeof size_le);
  size = GUINT64_FROM_LE (size_le);

  /* The top bit is the mark of an in-place header edit that did not finish (st-file-edit.c): a length
   * every reader refuses, for which "over the limit" would be the wrong explanation. Only over a length
   * an edit could have had: at least "{}", at most the limit, within the input. */
  if ((size & ST_EDIT_MARK) != 0 && (size & ~ST_EDIT_MARK) >= 2 && (size & ~ST_EDIT_MARK) <= ST_MAX_HEADER_SIZE &&
      (input_size == G_MAXUINT64 || (input_size >= 8 && (size & ~ST_EDIT_MARK) <= input_size - 8)))
    {
      g_set_error_literal (error, ST_ERROR, ST_ERROR_INTERRUPTED_EDIT,
                           "An in-place edit of the header was interrupted: repair the file with "
                           "“st-tool metadata --repair FILE” (or st_file_repair_header())");
      return FALSE;
    }

  if (size > ST_MAX_HEADER_SIZE)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_HEADER_TOO_LARGE,
                   "The header length %" G_GUINT64_FORMAT " is over the limit of %" G_GUINT64_FORMAT " bytes",
                   size, ST_MAX_HEADER_SIZE);
      return FALSE;
    }

  if (input_size != G_MAXUINT64 && (input_size < 8 || size > input_size - 8))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_HEADER_TOO_LARGE,
                   "The header length %" G_GUINT64_FORMAT " goes past the end of the input "
                   "(%" G_GUINT64_FORMAT " bytes)", size, input_size);
      return FALSE;
    }

  *out_header_size = size;
  return TRUE;
}

/* Like g_utf8_validate_len(), NUL bytes included, but fast on ASCII, which is nearly all of a header:
 * 16 bytes at a time with SSE2, 8 otherwise, until a byte that is not ASCII or is NUL. */
static gboolean
validate_utf8 (const guint8 *text,
               gsize         len,
               gboolean      simd,
               gsize        *out_invalid_at)
{
  const guint64 high_bits = G_GUINT64_CONSTANT (0x8080808080808080);
  const guint64 low_bits = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint8 *p = text;
  const guint8 *end = text + len;

  while (p < end)
    {
      gunichar c;

#ifdef HAVE_SSE2
      if (simd)
        {
          while (end - p >= 16)
            {
              __m128i bytes = _mm_loadu_si128 ((const __m128i *) p);
              __m128i zero = _mm_cmpeq_epi8 (bytes, _mm_setzero_si128 ());

              /* Any byte >= 0x80, or any zero byte */
              if (_mm_movemask_epi8 (_mm_or_si128 (bytes, zero)) != 0)
                break;
              p += 16;
            }
        }
#endif

      while (end - p >= 8)
        {
          guint64 word;

          memcpy (&word, p, sizeof word);
          /* Any byte >= 0x80, or any zero byte */
          if ((word & high_bits) != 0 || ((word - low_bits) & ~word & high_bits) != 0)
            break;
          p += 8;
        }

      if (p >= end)
        break;

      if (*p != 0 && *p < 0x80)
        {
          p++;
          continue;
        }

      c = *p == 0 ? (gunichar) -1 : g_utf8_get_char_validated ((const char *) p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          *out_invalid_at = (gsize) (p - text);
          return FALSE;
        }
      p += g_utf8_skip[*p];
    }

  return TRUE;
}

/* Validates the UTF-8 of the header a block at a time, ahead of the parser, so that a large header is read
 * from memory once, not once for the check and again for the parse. Where the parser overtakes the check
 * (within one large member) it reads text not yet checked, which is safe: every read is bounded, and the
 * verdict is only given once the whole text is checked (st_header_parse_with_flags()), the UTF-8 error
 * first, as if the check had run before anything. Returns FALSE when a bad byte is found. */
static gboolean
validate_block (Parser *ps,
                gsize   block_size)
{
  const guint8 *from = ps->validated;
  const guint8 *to;
  gsize invalid_at;

  to = (gsize) (ps->end - from) > block_size ? from + block_size : ps->end;
  /* End on a character's first byte, so that no character is cut in two */
  while (to < ps->end && to > from && (*to & 0xc0) == 0x80)
    to--;

  if (!validate_utf8 (from, (gsize) (to - from), ps->simd, &invalid_at))
    {
      ps->invalid_utf8 = TRUE;
      ps->invalid_at = offset_of (ps, from) + invalid_at;
      return FALSE;
    }
  ps->validated = to;
  return TRUE;
}

static inline gboolean
validate_ahead (Parser *ps,
                gsize   block_size)
{
  if (G_LIKELY (ps->validated >= ps->end ||
                (ps->validated > ps->p && (gsize) (ps->validated - ps->p) >= block_size / 2)))
    return TRUE;
  return validate_block (ps, block_size);
}

/* Reads one tensor, whose name @key (its string at @key_start) was just read, and adds it to @entries
 * and ps->by_name. */
static gboolean
parse_tensor (Parser       *ps,
              const Str    *key,
              const guint8 *key_start,
              GPtrArray    *entries,
              StNameIndex  *by_name)
{
  StHeaderEntry *entry;
  const guint8 *open;
  guint32 hash;
  char *name;

  if (key->has_nul)
    {
      g_autofree char *shown = shown_name (key->data, key->len);

      return fail_at (ps, key_start, ST_ERROR_INVALID_HEADER,
                      "The tensor name “%s” contains \\u0000, which a C string cannot hold", shown);
    }

  /* The entry, then its name: the key may be in ps->scratch, which the next string overwrites */
  entry = arena_alloc (ps, sizeof (StHeaderEntry) + key->len + 1);
  memset (entry, 0, sizeof (StHeaderEntry));
  name = (char *) (entry + 1);
  memcpy (name, key->data, key->len);
  name[key->len] = '\0';
  entry->name = name;
  hash = name_index_prefetch (by_name, name, key->len);

  if (!expect_char (ps, ':', "‘:’"))
    return FALSE;

  /* The common form first; anything else is read again by the general parser, which judges it */
  open = ps->p;
  if (ps->plain_entries && read_plain_entry (ps, entry))
    {
      if (!check_entry (ps, entry, key->len, FIELD_DTYPE | FIELD_SHAPE | FIELD_DATA_OFFSETS, open))
        return FALSE;
    }
  else
    {
      ps->p = open;
      if (!parse_entry (ps, entry, key->len))
        return FALSE;
    }

  g_ptr_array_add (entries, entry);
  if (!name_index_insert_hashed (by_name, name, key->len, hash, entry))
    {
      g_autofree char *shown = shown_name (name, key->len);

      return fail_at (ps, key_start, ST_ERROR_DUPLICATE_NAME, "Duplicate tensor name “%s”", shown);
    }

  return TRUE;
}

/* The top-level object. */
static StHeader *
parse_document (Parser *ps)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();
  g_autoptr(StNameIndex) by_name = st_name_index_new_sized (offset_of (ps, ps->end) / MIN_ENTRY_TEXT);
  g_autoptr(GHashTable) metadata = NULL;
  gboolean seen_metadata = FALSE;
  guint64 data_size = 0;
  StHeader *header;

  skip_ws (ps);
  if (ps->p >= ps->end)
    {
      g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                   "The header is empty: it holds no JSON object (%" G_GSIZE_FORMAT " bytes of whitespace)",
                   offset_of (ps, ps->end));
      return NULL;
    }
  if (*ps->p != '{')
    {
      g_autofree char *found = describe_found (ps, ps->p);

      fail_at (ps, ps->p, ST_ERROR_INVALID_HEADER, "The header is not a JSON object: it begins with %s", found);
      return NULL;
    }
  ps->p++;

  if (!accept_char (ps, '}'))
    for (;;)
      {
        Str key;
        const guint8 *key_start;
        gboolean closed;

        if (!validate_ahead (ps, VALIDATE_BLOCK))
          return NULL;

        skip_ws (ps);
        key_start = ps->p;
        if (ps->p >= ps->end || *ps->p != '"')
          {
            fail_expected (ps, "a string key");
            return NULL;
          }
        if (!parse_string (ps, &key))
          return NULL;

        if (str_equal (&key, "__metadata__", 12))
          {
            if (seen_metadata)
              {
                fail_at (ps, key_start, ST_ERROR_DUPLICATE_NAME, "Duplicate key “__metadata__”");
                return NULL;
              }
            seen_metadata = TRUE;
            if (!expect_char (ps, ':', "‘:’") || !parse_metadata (ps, &metadata))
              return NULL;
          }
        else if (!parse_tensor (ps, &key, key_start, entries, by_name))
          return NULL;

        if (!next_or_close (ps, '}', &closed))
          return NULL;
        if (closed)
          break;
      }

  skip_ws (ps);
  if (ps->p < ps->end)
    {
      g_autofree char *found = describe_found (ps, ps->p);

      fail_at (ps, ps->p, ST_ERROR_INVALID_HEADER, "Unexpected %s after the header object", found);
      return NULL;
    }

  if (!check_tiling (entries, &data_size, ps->error))
    return NULL;

  header = g_new0 (StHeader, 1);
  header->data_size = data_size;
  header->entries = g_steal_pointer (&entries);
  header->by_name = g_steal_pointer (&by_name);
  header->metadata = g_steal_pointer (&metadata);
  return header;
}

StHeader *
st_header_parse_with_flags (const char          *json,
                            gsize                json_len,
                            StHeaderParseFlags   flags,
                            GError             **error)
{
  g_autoptr(GError) parse_error = NULL;
  StHeader *header;
  Parser ps = { 0 };
  gsize invalid_at;

  g_return_val_if_fail (json != NULL || json_len == 0, NULL);

#ifdef HAVE_SSE2
  ps.simd = (flags & ST_HEADER_PARSE_SCALAR) == 0;
#endif
  ps.plain_entries = (flags & ST_HEADER_PARSE_GENERAL_ONLY) == 0;

  ps.start = (const guint8 *) json;
  ps.p = ps.start;
  ps.end = ps.start + json_len;
  ps.validated = ps.start;
  ps.scratch = g_string_new (NULL);
  ps.keys = g_array_new (FALSE, FALSE, sizeof (KeyRef));
  ps.key_text = g_string_new (NULL);
  ps.next_chunk_size = CLAMP (json_len + 64, ARENA_MIN_CHUNK, ARENA_MAX_FIRST_CHUNK);
  ps.last_dtype_len = G_MAXSIZE;
  ps.error = &parse_error;

  header = parse_document (&ps);

  /* The UTF-8 of the whole header is checked before any verdict, and its error comes first */
  if (!ps.invalid_utf8 &&
      !validate_utf8 (ps.validated, (gsize) (ps.end - ps.validated), ps.simd, &invalid_at))
    {
      ps.invalid_utf8 = TRUE;
      ps.invalid_at = offset_of (&ps, ps.validated) + invalid_at;
    }

  if (ps.invalid_utf8)
    {
      g_clear_pointer (&header, st_header_free);
      if (json[ps.invalid_at] == '\0')
        g_set_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                     "The header is not valid UTF-8 at byte %" G_GSIZE_FORMAT ": a NUL byte", ps.invalid_at);
      else
        g_set_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                     "The header is not valid UTF-8 at byte %" G_GSIZE_FORMAT, ps.invalid_at);
    }
  else if (header == NULL)
    g_propagate_error (error, g_steal_pointer (&parse_error));
  else
    header->arena = g_steal_pointer (&ps.arena);

  g_string_free (ps.scratch, TRUE);
  g_array_unref (ps.keys);
  g_string_free (ps.key_text, TRUE);
  g_free (ps.ints);
  arena_free (ps.arena);

  return header;
}

StHeader *
st_header_parse (const char  *json,
                 gsize        json_len,
                 GError     **error)
{
  return st_header_parse_with_flags (json, json_len, ST_HEADER_PARSE_DEFAULT, error);
}

/* Writing */

static inline void
write_u64 (GString *out,
           guint64  value)
{
  char digits[20];
  int n = 0;

  do
    {
      digits[sizeof digits - 1 - n++] = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value != 0);

  g_string_append_len (out, digits + sizeof digits - n, n);
}

/* A JSON string as serde_json writes it: `"` `\` and control characters escaped, the rest raw. */
static void
write_string (GString    *out,
              const char *string)
{
  static const char hex[] = "0123456789abcdef";
  const guint8 *p = (const guint8 *) string;

  g_string_append_c (out, '"');

  for (;;)
    {
      const guint8 *run = p;

      while (!string_special[*p])
        p++;
      g_string_append_len (out, (const char *) run, p - run);

      switch (*p)
        {
        case '\0': g_string_append_c (out, '"'); return;
        case '"': g_string_append_len (out, "\\\"", 2); break;
        case '\\': g_string_append_len (out, "\\\\", 2); break;
        case '\b': g_string_append_len (out, "\\b", 2); break;
        case '\f': g_string_append_len (out, "\\f", 2); break;
        case '\n': g_string_append_len (out, "\\n", 2); break;
        case '\r': g_string_append_len (out, "\\r", 2); break;
        case '\t': g_string_append_len (out, "\\t", 2); break;
        default:
          {
            char escape[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf] };

            g_string_append_len (out, escape, sizeof escape);
            break;
          }
        }
      p++;
    }
}

static int
compare_writer_entries (const void *a,
                        const void *b)
{
  const StWriterEntry *ea = a;
  const StWriterEntry *eb = b;

  /* The widest alignment first: the dtypes from U64 down to BOOL. */
  if (ea->dtype != eb->dtype)
    return ea->dtype > eb->dtype ? -1 : 1;
  return strcmp (ea->name, eb->name);
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GBytes *
st_header_serialize (StWriterEntry *entries,
                     gsize          n_entries,
                     GHashTable    *metadata,
                     guint64       *out_data_size)
{
  GString *out;
  gboolean first = TRUE;
  guint64 offset = 0;
  guint64 header_len;

  g_return_val_if_fail (entries != NULL || n_entries == 0, NULL);

  out = g_string_sized_new (16 + n_entries * 96);
  g_string_append_len (out, "\0\0\0\0\0\0\0\0{", 9);

  if (metadata != NULL)
    {
      guint n_keys = 0;
      g_autofree const char **keys = (const char **) g_hash_table_get_keys_as_array (metadata, &n_keys);

      qsort (keys, n_keys, sizeof (char *), compare_strings);

      g_string_append (out, "\"__metadata__\":{");
      for (guint i = 0; i < n_keys; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          write_string (out, keys[i]);
          g_string_append_c (out, ':');
          write_string (out, g_hash_table_lookup (metadata, keys[i]));
        }
      g_string_append_c (out, '}');
      first = FALSE;
    }

  if (n_entries > 1)
    qsort (entries, n_entries, sizeof (StWriterEntry), compare_writer_entries);

  for (gsize i = 0; i < n_entries; i++)
    {
      StWriterEntry *entry = &entries[i];

      entry->begin = offset;
      entry->end = offset + entry->n_bytes;
      offset = entry->end;

      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;

      write_string (out, entry->name);
      g_string_append (out, ":{\"dtype\":\"");
      g_string_append (out, st_dtype_to_string (entry->dtype));
      g_string_append (out, "\",\"shape\":[");
      for (guint d = 0; d < entry->n_dims; d++)
        {
          if (d > 0)
            g_string_append_c (out, ',');
          write_u64 (out, (guint64) entry->shape[d]);
        }
      g_string_append (out, "],\"data_offsets\":[");
      write_u64 (out, entry->begin);
      g_string_append_c (out, ',');
      write_u64 (out, entry->end);
      g_string_append (out, "]}");
    }

  g_string_append_c (out, '}');

  /* Hugging Face pads the header with spaces to a multiple of 8 bytes; N counts the padding. */
  while ((out->len - 8) % 8 != 0)
    g_string_append_c (out, ' ');

  header_len = GUINT64_TO_LE ((guint64) (out->len - 8));
  memcpy (out->str, &header_len, sizeof header_len);

  if (out_data_size != NULL)
    *out_data_size = offset;

  return g_string_free_to_bytes (out);
}
