/* st-scanner.c: the tokens of a header's JSON text: whitespace, strings, numbers, UTF-8
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "st-scanner-private.h"

/* Significant digits that decide whether a number of magnitude 1e308 overflows a double: DBL_MAX and
 * the halfway point above it have 309 integer digits. */
#define MAX_RANGE_DIGITS 330

const guint8 st_scanner_continues_number[256] = {
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
  ['.'] = 1, ['e'] = 1, ['E'] = 1,
};

void
st_scanner_skip_ws_run (StScanner *sc)
{
  const guint8 *p = sc->p;

#ifdef HAVE_SSE2
  if (sc->simd)
    {
      while (sc->end - p >= 16)
        {
          guint mask = st_scanner_sse2_not_ws_mask (p);

          if (mask != 0)
            {
              sc->p = p + st_scanner_lowest_bit (mask);
              return;
            }
          p += 16;
        }
    }
#endif

  while (p < sc->end && st_scanner_is_ws (*p))
    p++;
  sc->p = p;
}

/* @name quoted for a message: at most ST_SCANNER_MAX_SHOWN_NAME bytes, cut on a character boundary. */
char *
st_scanner_shown_name (const char *name,
                       gsize       len)
{
  const char *cut;

  if (len <= ST_SCANNER_MAX_SHOWN_NAME)
    return g_strndup (name, len);

  cut = g_utf8_find_prev_char (name, name + ST_SCANNER_MAX_SHOWN_NAME + 1);
  return g_strdup_printf ("%.*s…", (int) (cut - name), name);
}

gboolean
st_scanner_fail_at (StScanner    *sc,
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

  g_set_error (sc->error, ST_ERROR, code, "%s at byte %" G_GSIZE_FORMAT " of the %s",
               message, st_scanner_offset_of (sc, at), sc->subject != NULL ? sc->subject : "header");
  return FALSE;
}

/* What the parser found where it expected something else, for messages. */
char *
st_scanner_describe_found (StScanner    *sc,
                           const guint8 *at)
{
  if (at >= sc->end)
    return g_strdup_printf ("the end of the %s", sc->subject != NULL ? sc->subject : "header");
  if (*at >= 0x21 && *at < 0x7f)
    return g_strdup_printf ("‘%c’", *at);
  return g_strdup_printf ("byte 0x%02x", *at);
}

gboolean
st_scanner_fail_expected (StScanner  *sc,
                          const char *expected)
{
  g_autofree char *found = st_scanner_describe_found (sc, sc->p);

  return st_scanner_fail_at (sc, sc->p, ST_ERROR_INVALID_HEADER, "Expected %s but found %s", expected, found);
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
st_scanner_read_u_escape (StScanner    *sc,
                          const guint8 *at)
{
  gint32 value = 0;

  if (sc->end - at < 6 || at[0] != '\\' || at[1] != 'u')
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

/* Decodes the \u escape (one, or a surrogate pair) at @q into sc->scratch; returns the byte after it,
 * or NULL with the error set. */
static const guint8 *
st_scanner_decode_u_escape (StScanner    *sc,
                            const guint8 *q,
                            StJsonString *out)
{
  gint32 unit = st_scanner_read_u_escape (sc, q);
  gunichar code_point;
  char utf8[6];
  int utf8_len;

  if (unit < 0)
    {
      st_scanner_fail_at (sc, q, ST_ERROR_INVALID_HEADER, "Invalid \\u escape (it needs four hexadecimal digits)");
      return NULL;
    }

  if (unit >= 0xDC00 && unit <= 0xDFFF)
    {
      st_scanner_fail_at (sc, q, ST_ERROR_INVALID_HEADER, "Lone low surrogate \\u%04X in a string", (guint) unit);
      return NULL;
    }

  if (unit >= 0xD800 && unit <= 0xDBFF)
    {
      gint32 low = st_scanner_read_u_escape (sc, q + 6);

      if (low < 0xDC00 || low > 0xDFFF)
        {
          st_scanner_fail_at (sc, q, ST_ERROR_INVALID_HEADER,
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
  g_string_append_len (sc->scratch, utf8, utf8_len);
  return q;
}

/* The string whose text starts at @q has escapes: decode it into sc->scratch. @open is the quote. */
gboolean
st_scanner_parse_string_escaped (StScanner    *sc,
                                 const guint8 *open,
                                 const guint8 *q,
                                 StJsonString *out)
{
  GString *scratch = sc->scratch;

  g_string_truncate (scratch, 0);
  g_string_append_len (scratch, (const char *) open + 1, q - (open + 1));
  out->has_nul = FALSE;

  for (;;)
    {
      const guint8 *run = q;
      char unescaped;

      q = st_scanner_scan_string_text (sc, q);
      g_string_append_len (scratch, (const char *) run, q - run);

      if (q >= sc->end)
        return st_scanner_fail_at (sc, open, ST_ERROR_INVALID_HEADER, "Unterminated string");
      if (*q == '"')
        break;
      if (*q < 0x20)
        return st_scanner_fail_at (sc, q, ST_ERROR_INVALID_HEADER,
                                   "Raw control character 0x%02x in a string (it must be escaped)", *q);

      /* A backslash */
      if (q + 1 >= sc->end)
        return st_scanner_fail_at (sc, open, ST_ERROR_INVALID_HEADER, "Unterminated string");

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
          q = st_scanner_decode_u_escape (sc, q, out);
          if (q == NULL)
            return FALSE;
          continue;
        default:
          {
            g_autofree char *found = st_scanner_describe_found (sc, q + 1);

            return st_scanner_fail_at (sc, q, ST_ERROR_INVALID_HEADER,
                                       "Invalid escape: backslash followed by %s", found);
          }
        }

      g_string_append_c (scratch, unescaped);
      q += 2;
    }

  sc->p = q + 1;
  out->data = scratch->str;
  out->len = scratch->len;
  return TRUE;
}

/* Reads the number at sc->p, strictly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
gboolean
st_scanner_parse_number (StScanner    *sc,
                         StJsonNumber *out)
{
  const guint8 *p = sc->p;

  out->begin = p;
  out->value = 0;
  out->negative = FALSE;
  out->is_integer = TRUE;
  out->overflow = FALSE;

  if (p < sc->end && *p == '-')
    {
      out->negative = TRUE;
      p++;
    }

  if (p >= sc->end || !st_scanner_is_digit (*p))
    {
      sc->p = p;
      return st_scanner_fail_expected (sc, "a digit");
    }

  if (*p == '0')
    {
      p++;
      if (p < sc->end && st_scanner_is_digit (*p))
        return st_scanner_fail_at (sc, out->begin, ST_ERROR_INVALID_HEADER, "Number with a leading zero");
    }
  else
    {
      for (; p < sc->end && st_scanner_is_digit (*p); p++)
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

  if (p < sc->end && *p == '.')
    {
      p++;
      out->is_integer = FALSE;
      if (p >= sc->end || !st_scanner_is_digit (*p))
        {
          sc->p = p;
          return st_scanner_fail_expected (sc, "a digit after the decimal point");
        }
      while (p < sc->end && st_scanner_is_digit (*p))
        p++;
    }

  if (p < sc->end && (*p == 'e' || *p == 'E'))
    {
      p++;
      out->is_integer = FALSE;
      if (p < sc->end && (*p == '+' || *p == '-'))
        p++;
      if (p >= sc->end || !st_scanner_is_digit (*p))
        {
          sc->p = p;
          return st_scanner_fail_expected (sc, "a digit in the exponent");
        }
      while (p < sc->end && st_scanner_is_digit (*p))
        p++;
    }

  sc->p = p;
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

  for (; p < end && st_scanner_is_digit (*p); p++)
    if (first == NULL && *p != '0')
      first = p;
  if (first != NULL)
    magnitude = (gint64) (p - first) - 1;

  if (p < end && *p == '.')
    {
      gint64 position = 0;

      for (p++; p < end && st_scanner_is_digit (*p); p++)
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
      for (; p < end && st_scanner_is_digit (*p); p++)
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
      if (!st_scanner_is_digit (*p))
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

/* Reads the number at sc->p, which must be in range for serde_json (see number_fits_double()). */
gboolean
st_scanner_parse_any_number (StScanner *sc)
{
  StJsonNumber number;

  if (!st_scanner_parse_number (sc, &number))
    return FALSE;

  if ((!number.is_integer || number.overflow) && !number_fits_double (number.begin, sc->p))
    return st_scanner_fail_at (sc, number.begin, ST_ERROR_INVALID_HEADER,
                               "The number %.*s is out of range (it overflows a 64-bit float)",
                               (int) MIN (sc->p - number.begin, ST_SCANNER_MAX_SHOWN_NUMBER),
                               (const char *) number.begin);
  return TRUE;
}

gboolean
st_scanner_parse_literal (StScanner *sc)
{
  static const char *const literals[] = { "true", "false", "null" };

  for (guint i = 0; i < G_N_ELEMENTS (literals); i++)
    {
      gsize len = strlen (literals[i]);

      if ((gsize) (sc->end - sc->p) >= len && memcmp (sc->p, literals[i], len) == 0)
        {
          sc->p += len;
          return TRUE;
        }
    }

  return st_scanner_fail_expected (sc, "a JSON value");
}

/* Like g_utf8_validate_len(), NUL bytes included, but fast on ASCII, which is nearly all of a header:
 * 16 bytes at a time with SSE2, 8 otherwise, until a byte that is not ASCII or is NUL. */
gboolean
st_scanner_validate_utf8 (const guint8 *text,
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
gboolean
st_scanner_validate_block (StScanner *sc,
                           gsize      block_size)
{
  const guint8 *from = sc->validated;
  const guint8 *to;
  const guint8 *cut;
  gsize invalid_at;

  to = (gsize) (sc->end - from) > block_size ? from + block_size : sc->end;
  /* End on a character's first byte, so that no character is cut in two. A character has at most three
   * continuation bytes: a fourth in a row is invalid, and the block then ends past it, where its check
   * finds the error. Walking back further would make no progress on a long run of them, and walk the
   * whole block again for every later member. */
  cut = to;
  while (to < sc->end && to > from && cut - to < 3 && (*to & 0xc0) == 0x80)
    to--;
  if (to < sc->end && (*to & 0xc0) == 0x80)
    to = cut + 1;

  if (!st_scanner_validate_utf8 (from, (gsize) (to - from), sc->simd, &invalid_at))
    {
      sc->invalid_utf8 = TRUE;
      sc->invalid_at = st_scanner_offset_of (sc, from) + invalid_at;
      return FALSE;
    }
  sc->validated = to;
  return TRUE;
}
