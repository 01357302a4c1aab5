/* st-scanner-private.h: the tokens of a header's JSON text: whitespace, strings, numbers, UTF-8
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The lexical floor of the header parser (st-header-parser.c), which reads the schema with these.
 * Strings and whitespace are scanned 16 bytes at a time with SSE2, which every x86-64 CPU has;
 * elsewhere, big-endian CPUs included, and when a test asks for it (ST_HEADER_PARSE_SCALAR), one byte
 * at a time. Integers are read 8 digits at a time (SWAR, in any byte order). The functions the parser
 * calls for every token are inline here; the rest is in st-scanner.c.
 */
#pragma once

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_SSE2 1
#endif

#include "st-error.h"
#include "st-json-string-private.h"

G_BEGIN_DECLS

/* Tensor names and keys are quoted in error messages up to this many bytes. */
#define ST_SCANNER_MAX_SHOWN_NAME 200
/* and numbers up to this many characters */
#define ST_SCANNER_MAX_SHOWN_NUMBER 40

/* Where the scanner is in a header's JSON text, and what it found. */
typedef struct {
  const guint8 *start;
  const guint8 *p;
  const guint8 *end;
  gboolean      simd;      /* scan 16 bytes at a time */
  const guint8 *validated;       /* the UTF-8 of [start, validated) is valid */
  gboolean      invalid_utf8;    /* validation found a bad byte at sc->invalid_at */
  gsize         invalid_at;
  GString      *scratch;   /* the decoded text of the last string that had escapes */
  GError      **error;
  const char   *subject;   /* what the text is, for messages: NULL for "header" */
} StScanner;

/* A decoded JSON string: either in place in the header or in StScanner.scratch (valid until the next
 * string is read). */
typedef struct {
  const char *data;
  gsize       len;
  gboolean    has_nul;   /* decoded from \u0000: cannot be a C string */
} StJsonString;

/* A JSON number, as read: its text begins at @begin. */
typedef struct {
  const guint8 *begin;
  guint64       value;
  gboolean      negative;
  gboolean      is_integer;   /* no fraction, no exponent */
  gboolean      overflow;     /* an integer with more than 64 bits of magnitude */
} StJsonNumber;

/* @name quoted for a message: at most ST_SCANNER_MAX_SHOWN_NAME bytes, cut on a character boundary. */
char *st_scanner_shown_name (const char *name,
                             gsize       len);
/* Sets the error: the message, then "at byte N of the header" for the byte at @at. Returns FALSE. */
G_GNUC_PRINTF (4, 5)
gboolean st_scanner_fail_at (StScanner    *sc,
                             const guint8 *at,
                             STError       code,
                             const char   *format,
                             ...);
/* What the parser found where it expected something else, for messages. */
char *st_scanner_describe_found (StScanner    *sc,
                                 const guint8 *at);
/* Fails with "Expected @expected but found ..." at sc->p. */
gboolean st_scanner_fail_expected (StScanner  *sc,
                                   const char *expected);
/* The string whose text starts at @q has escapes: decode it into sc->scratch. @open is the quote. */
gboolean st_scanner_parse_string_escaped (StScanner    *sc,
                                          const guint8 *open,
                                          const guint8 *q,
                                          StJsonString *out);
/* Reads the number at sc->p, strictly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
gboolean st_scanner_parse_number (StScanner    *sc,
                                  StJsonNumber *out);
/* Reads the number at sc->p, which must be in range for serde_json (a finite double). */
gboolean st_scanner_parse_any_number (StScanner *sc);
/* Reads true, false or null at sc->p. */
gboolean st_scanner_parse_literal (StScanner *sc);
/* Whether @len bytes at @text are UTF-8 without NUL bytes; *@out_invalid_at is the first bad byte. */
gboolean st_scanner_validate_utf8 (const guint8 *text,
                                   gsize         len,
                                   gboolean      simd,
                                   gsize        *out_invalid_at);
/* Validates the next @block_size bytes not yet validated; FALSE when a bad byte is found. */
gboolean st_scanner_validate_block (StScanner *sc,
                                    gsize      block_size);

static inline gboolean
st_scanner_is_ws (guint8 c)
{
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline gboolean
st_scanner_is_digit (guint8 c)
{
  return c >= '0' && c <= '9';
}

#ifdef HAVE_SSE2
/* The index of the lowest set bit of @mask, which is not 0. */
static inline guint
st_scanner_lowest_bit (guint mask)
{
  return (guint) __builtin_ctz (mask);
}

/* A bit for each of the 16 bytes at @p that is a quote, a backslash or a control character. */
static inline guint
st_scanner_sse2_string_special_mask (const guint8 *p)
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
st_scanner_sse2_not_ws_mask (const guint8 *p)
{
  __m128i bytes = _mm_loadu_si128 ((const __m128i *) p);
  __m128i ws = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (bytes, _mm_set1_epi8 (' ')),
                                           _mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('\n'))),
                             _mm_or_si128 (_mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('\r')),
                                           _mm_cmpeq_epi8 (bytes, _mm_set1_epi8 ('\t'))));

  return (guint) _mm_movemask_epi8 (ws) ^ 0xffff;
}
#endif

/* The first byte from @q on that is a quote, a backslash or a control character, or sc->end. */
static inline const guint8 *
st_scanner_scan_string_text (const StScanner *sc,
                             const guint8    *q)
{
#ifdef HAVE_SSE2
  if (sc->simd)
    {
      while (sc->end - q >= 16)
        {
          guint mask = st_scanner_sse2_string_special_mask (q);

          if (mask != 0)
            return q + st_scanner_lowest_bit (mask);
          q += 16;
        }
    }
#endif

  while (q < sc->end && !st_json_string_special[*q])
    q++;
  return q;
}

void st_scanner_skip_ws_run (StScanner *sc);

static inline void
st_scanner_skip_ws (StScanner *sc)
{
  /* Compact headers have no whitespace between tokens: the common case is one test (the four
   * whitespace characters are below ‘!’). */
  if (G_LIKELY (sc->p < sc->end && *sc->p > ' '))
    return;
  st_scanner_skip_ws_run (sc);
}

static inline gsize
st_scanner_offset_of (StScanner    *sc,
                      const guint8 *at)
{
  return (gsize) (at - sc->start);
}

/* Skips whitespace, then consumes @c if it comes next. */
static inline gboolean
st_scanner_accept_char (StScanner *sc,
                        guint8     c)
{
  if (G_LIKELY (sc->p < sc->end && *sc->p == c))
    {
      sc->p++;
      return TRUE;
    }
  st_scanner_skip_ws (sc);
  if (sc->p < sc->end && *sc->p == c)
    {
      sc->p++;
      return TRUE;
    }
  return FALSE;
}

/* Skips whitespace, then consumes @c or fails saying @expected. */
static inline gboolean
st_scanner_expect_char (StScanner  *sc,
                        guint8      c,
                        const char *expected)
{
  if (st_scanner_accept_char (sc, c))
    return TRUE;
  return st_scanner_fail_expected (sc, expected);
}

/* After a member or an element: consumes ‘,’ (*out_closed = FALSE) or @close, which ends the object or
 * array (*out_closed = TRUE), or fails. */
static inline gboolean
st_scanner_next_or_close (StScanner *sc,
                          guint8     close,
                          gboolean  *out_closed)
{
  if (G_UNLIKELY (sc->p < sc->end && *sc->p <= ' '))
    st_scanner_skip_ws_run (sc);
  if (sc->p < sc->end && (*sc->p == ',' || *sc->p == close))
    {
      *out_closed = *sc->p == close;
      sc->p++;
      return TRUE;
    }
  *out_closed = FALSE;
  return st_scanner_fail_expected (sc, close == '}' ? "‘,’ or ‘}’" : "‘,’ or ‘]’");
}

/* Reads the string whose opening quote is at sc->p. */
static inline gboolean
st_scanner_parse_string (StScanner    *sc,
                         StJsonString *out)
{
  const guint8 *open = sc->p;
  const guint8 *q = st_scanner_scan_string_text (sc, open + 1);

  if (G_LIKELY (q < sc->end && *q == '"'))
    {
      out->data = (const char *) open + 1;
      out->len = (gsize) (q - (open + 1));
      out->has_nul = FALSE;
      sc->p = q + 1;
      return TRUE;
    }

  return st_scanner_parse_string_escaped (sc, open, q, out);
}

static inline gboolean
st_scanner_str_equal (const StJsonString *str,
                      const char         *literal,
                      gsize               literal_len)
{
  return str->len == literal_len && memcmp (str->data, literal, literal_len) == 0;
}

/* 1 for the bytes that may follow the integer part of a JSON number within the number */
extern const guint8 st_scanner_continues_number[256];

/* The 8 bytes at @p as a number whose lowest byte is p[0], on any CPU. */
static inline guint64
st_scanner_load_le64 (const guint8 *p)
{
  guint64 word;

  memcpy (&word, p, sizeof word);
  return GUINT64_FROM_LE (word);
}

/* How many of the 8 bytes of @word (lowest first) are ASCII digits before the first that is not. A byte
 * is a digit when its high nibble is 3 and adding 6 keeps it 3 (adding 6 carries into the next byte only
 * from bytes of 0xfa and more, which valid UTF-8 never holds). */
static inline guint
st_scanner_count_leading_digits (guint64 word)
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
st_scanner_digits_value (guint64 word,
                         guint   n_digits)
{
  word -= G_GUINT64_CONSTANT (0x3030303030303030);
  word <<= 8 * (8 - n_digits);
  word = (word * 10 + (word >> 8)) & G_GUINT64_CONSTANT (0x00ff00ff00ff00ff);
  word = (word * 100 + (word >> 16)) & G_GUINT64_CONSTANT (0x0000ffff0000ffff);
  word = (word * 10000 + (word >> 32)) & G_GUINT64_CONSTANT (0x00000000ffffffff);
  return word;
}

/* Reads a plain integer of up to 19 digits at sc->p, the form writers use, 8 digits at a time: FALSE,
 * with sc->p unchanged, for anything else (a sign, a fraction, an exponent, a leading zero, more
 * digits), which parse_array_number() then reads and judges. */
G_ALWAYS_INLINE static inline gboolean
st_scanner_read_plain_integer (StScanner *sc,
                               guint64   *out_value)
{
  static const guint64 powers_of_ten[9] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 };
  const guint8 *p = sc->p;
  guint64 value = 0;
  guint n_digits = 0;

  if (p >= sc->end || !st_scanner_is_digit (*p))
    return FALSE;

  if (*p == '0')
    p++;
  else
    for (;;)
      {
        guint64 word;
        guint n;

        if (sc->end - p < 8)
          {
            for (; p < sc->end && st_scanner_is_digit (*p) && n_digits < 19; p++, n_digits++)
              value = value * 10 + (guint64) (*p - '0');
            break;
          }

        word = st_scanner_load_le64 (p);
        n = st_scanner_count_leading_digits (word);
        if (n == 0)
          break;
        if (n_digits + n > 19)
          return FALSE;
        value = value * powers_of_ten[n] + st_scanner_digits_value (word, n);
        n_digits += n;
        p += n;
        if (n < 8)
          break;
      }

  /* A digit after 19 of them, or after a leading zero, a fraction or an exponent: the slow path */
  if (p < sc->end && st_scanner_continues_number[*p])
    return FALSE;

  sc->p = p;
  *out_value = value;
  return TRUE;
}

/* Consumes @literal if the text at sc->p begins with it. */
static inline gboolean
st_scanner_accept_literal (StScanner  *sc,
                           const char *literal,
                           gsize       len)
{
  if ((gsize) (sc->end - sc->p) < len || memcmp (sc->p, literal, len) != 0)
    return FALSE;
  sc->p += len;
  return TRUE;
}

static inline gboolean
st_scanner_validate_ahead (StScanner *sc,
                           gsize      block_size)
{
  if (G_LIKELY (sc->validated >= sc->end ||
                (sc->validated > sc->p && (gsize) (sc->validated - sc->p) >= block_size / 2)))
    return TRUE;
  return st_scanner_validate_block (sc, block_size);
}

G_END_DECLS
