/* st-format.c: the safetensors header, parsed and serialized
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The parser is a strict RFC 8259 reader made for this one schema rather than a general JSON library:
 * json-glib accepts comments and trailing commas, keeps the last of duplicate keys, builds a tree and
 * recurses. Here the header is read in one pass straight into StHeaderEntry values: no tree, no
 * recursion (the only place that can nest, an unknown field's value, is skipped with an explicit stack
 * bounded by ST_MAX_JSON_DEPTH), and no allocation per token beyond a tensor's name, its shape and its
 * entry. Strings without escapes are used in place; escaped ones are decoded into one reused buffer.
 *
 * The writer produces the bytes Hugging Face's safetensors writes: compact JSON, `__metadata__` first,
 * tensors by dtype from U64 down to BOOL and then by name, fields in the order dtype, shape,
 * data_offsets, strings escaped as serde_json escapes them, and the header padded with spaces to a
 * multiple of 8 bytes.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "st-error.h"
#include "st-format-private.h"

/* Tensor names and keys are quoted in error messages up to this many bytes. */
#define MAX_SHOWN_NAME 200
/* and numbers up to this many characters */
#define MAX_SHOWN_NUMBER 40

/* Bits of StHeaderEntry fields already seen in a tensor entry. */
enum {
  FIELD_DTYPE        = 1 << 0,
  FIELD_SHAPE        = 1 << 1,
  FIELD_DATA_OFFSETS = 1 << 2,
};

typedef struct {
  const guint8 *start;
  const guint8 *p;
  const guint8 *end;
  GString      *scratch;   /* the decoded text of the last string that had escapes */
  guint64      *ints;      /* the integers of the shape or data_offsets being read */
  guint         n_ints;
  guint         ints_capacity;
  GArray       *keys;      /* KeyRef: keys of the open objects inside unknown fields, for duplicates */
  GString      *key_text;  /* the bytes of those keys, one after the other */
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

static inline gboolean
is_ws (guint8 c)
{
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline void
skip_ws (Parser *ps)
{
  while (ps->p < ps->end && is_ws (*ps->p))
    ps->p++;
}

static inline gsize
offset_of (Parser       *ps,
           const guint8 *at)
{
  return (gsize) (at - ps->start);
}

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

/* Skips whitespace, then consumes @c if it comes next. */
static inline gboolean
accept_char (Parser *ps,
             guint8  c)
{
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
  return accept_char (ps, c) || fail_expected (ps, expected);
}

/* After a member or an element: consumes ‘,’ (*out_closed = FALSE) or @close, which ends the object or
 * array (*out_closed = TRUE), or fails. */
static inline gboolean
next_or_close (Parser   *ps,
               guint8    close,
               gboolean *out_closed)
{
  skip_ws (ps);
  if (ps->p < ps->end && (*ps->p == ',' || *ps->p == close))
    {
      *out_closed = *ps->p++ == close;
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

      while (q < ps->end && !string_special[*q])
        q++;
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
        case '"': g_string_append_c (scratch, '"'); q += 2; break;
        case '\\': g_string_append_c (scratch, '\\'); q += 2; break;
        case '/': g_string_append_c (scratch, '/'); q += 2; break;
        case 'b': g_string_append_c (scratch, '\b'); q += 2; break;
        case 'f': g_string_append_c (scratch, '\f'); q += 2; break;
        case 'n': g_string_append_c (scratch, '\n'); q += 2; break;
        case 'r': g_string_append_c (scratch, '\r'); q += 2; break;
        case 't': g_string_append_c (scratch, '\t'); q += 2; break;
        case 'u':
          {
            gint32 unit = read_u_escape (ps, q);
            gunichar code_point;
            char utf8[6];
            int utf8_len;

            if (unit < 0)
              return fail_at (ps, q, ST_ERROR_INVALID_HEADER,
                              "Invalid \\u escape (it needs four hexadecimal digits)");

            if (unit >= 0xDC00 && unit <= 0xDFFF)
              return fail_at (ps, q, ST_ERROR_INVALID_HEADER,
                              "Lone low surrogate \\u%04X in a string", (guint) unit);

            if (unit >= 0xD800 && unit <= 0xDBFF)
              {
                gint32 low = read_u_escape (ps, q + 6);

                if (low < 0xDC00 || low > 0xDFFF)
                  return fail_at (ps, q, ST_ERROR_INVALID_HEADER,
                                  "High surrogate \\u%04X not followed by a low surrogate in a string",
                                  (guint) unit);
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
            g_string_append_len (scratch, utf8, utf8_len);
            break;
          }
        default:
          {
            g_autofree char *found = describe_found (ps, q + 1);

            return fail_at (ps, q, ST_ERROR_INVALID_HEADER, "Invalid escape: backslash followed by %s", found);
          }
        }
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
  const guint8 *q = open + 1;

  while (q < ps->end && !string_special[*q])
    q++;

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

static inline gboolean
is_digit (guint8 c)
{
  return c >= '0' && c <= '9';
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
  return ka->len < kb->len ? -1 : ka->len > kb->len ? 1 : 0;
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
              else
                state = stack[n_open - 1].kind == '{' ? KEY : VALUE;
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
              {
                Number number;

                if (!parse_number (ps, &number))
                  return FALSE;
                state = AFTER_VALUE;
                break;
              }

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
              state = is_object ? KEY : VALUE;
            else
              {
                n_open--;
                if (is_object &&
                    !check_and_drop_keys (ps, stack[n_open].key_base, stack[n_open].open, "an object"))
                  return FALSE;
              }
            break;
          }
        }
    }
}

static gboolean
str_equal (const Str  *str,
           const char *literal,
           gsize       literal_len)
{
  return str->len == literal_len && memcmp (str->data, literal, literal_len) == 0;
}

/* Reads the array of non-negative integers at ps->p into ps->ints: the @field of tensor @name.
 * @code is the error for a bad element. */
static gboolean
parse_integer_array (Parser     *ps,
                     STError     code,
                     const char *field,
                     const char *name,
                     gsize       name_len,
                     guint64     max_value)
{
  g_autofree char *shown = NULL;

#define WHAT field, (shown = shown_name (name, name_len))

  ps->n_ints = 0;

  skip_ws (ps);
  if (ps->p >= ps->end)
    return fail_expected (ps, "a JSON value");
  if (*ps->p != '[')
    return fail_at (ps, ps->p, code, "The %s of tensor “%s” is not an array", WHAT);
  ps->p++;

  if (accept_char (ps, ']'))
    return TRUE;

  for (;;)
    {
      Number number;
      guint64 value;
      gboolean closed;

      skip_ws (ps);
      if (ps->p >= ps->end || (*ps->p != '-' && !is_digit (*ps->p)))
        {
          if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '[' || *ps->p == '{' ||
                                  *ps->p == 't' || *ps->p == 'f' || *ps->p == 'n'))
            return fail_at (ps, ps->p, code, "The %s of tensor “%s” holds something other than an integer", WHAT);
          return fail_expected (ps, "a number");
        }

      if (!parse_number (ps, &number))
        return FALSE;

      if (!number.is_integer)
        return fail_at (ps, number.begin, code, "The %s of tensor “%s” holds %.*s, not an integer", WHAT,
                        (int) MIN (ps->p - number.begin, MAX_SHOWN_NUMBER), (const char *) number.begin);
      if (number.negative && (number.value != 0 || number.overflow))
        return fail_at (ps, number.begin, code, "The %s of tensor “%s” holds a negative number, %.*s", WHAT,
                        (int) MIN (ps->p - number.begin, MAX_SHOWN_NUMBER), (const char *) number.begin);
      if (number.overflow || number.value > max_value)
        return fail_at (ps, number.begin, code, "The %s of tensor “%s” holds %.*s, more than %" G_GUINT64_FORMAT, WHAT,
                        (int) MIN (ps->p - number.begin, MAX_SHOWN_NUMBER), (const char *) number.begin, max_value);

      /* -0 is 0, as serde_json reads it */
      value = number.value;
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

#undef WHAT

void
st_header_entry_free (StHeaderEntry *entry)
{
  if (entry == NULL)
    return;

  g_free (entry->name);
  g_free (entry->shape);
  g_free (entry);
}

/* Reads the tensor entry (the value) at ps->p for the tensor @name, which it takes. */
static StHeaderEntry *
parse_entry (Parser *ps,
             char   *name,
             gsize   name_len)
{
  g_autoptr(StHeaderEntry) entry = g_new0 (StHeaderEntry, 1);
  g_autofree char *shown_storage = NULL;
  g_autoptr(GError) local_error = NULL;
  const guint8 *open;
  guint fields = 0;
  guint key_base = ps->keys->len;
  guint64 n_bytes;

  /* The name as messages quote it, made only when there is a message to write */
#define SHOWN (shown_storage != NULL ? shown_storage : (shown_storage = shown_name (name, name_len)))

  entry->name = name;

  skip_ws (ps);
  if (ps->p >= ps->end)
    return (fail_expected (ps, "a JSON value"), NULL);
  if (*ps->p != '{')
    return (fail_at (ps, ps->p, ST_ERROR_INVALID_HEADER, "The entry of tensor “%s” is not an object", SHOWN),
            NULL);
  open = ps->p++;

  if (!accept_char (ps, '}'))
    for (;;)
      {
        Str key;
        guint field = 0;
        gboolean closed;

        skip_ws (ps);
        if (ps->p >= ps->end || *ps->p != '"')
          return (fail_expected (ps, "a string key"), NULL);
        if (!parse_string (ps, &key))
          return NULL;

        if (str_equal (&key, "dtype", 5))
          field = FIELD_DTYPE;
        else if (str_equal (&key, "shape", 5))
          field = FIELD_SHAPE;
        else if (str_equal (&key, "data_offsets", 12))
          field = FIELD_DATA_OFFSETS;
        else
          add_key (ps, &key);

        if (field != 0 && (fields & field) != 0)
          {
            g_autofree char *shown_key = g_strndup (key.data, key.len);

            return (fail_at (ps, ps->p, ST_ERROR_DUPLICATE_NAME, "Duplicate key “%s” in tensor “%s”",
                             shown_key, SHOWN), NULL);
          }
        fields |= field;

        if (!expect_char (ps, ':', "‘:’"))
          return NULL;

        if (field == FIELD_DTYPE)
          {
            Str dtype_name;

            skip_ws (ps);
            if (ps->p >= ps->end)
              return (fail_expected (ps, "a JSON value"), NULL);
            if (*ps->p != '"')
              return (fail_at (ps, ps->p, ST_ERROR_INVALID_DTYPE, "The dtype of tensor “%s” is not a string",
                               SHOWN), NULL);
            if (!parse_string (ps, &dtype_name))
              return NULL;
            if (dtype_name.has_nul || !st_dtype_lookup (dtype_name.data, dtype_name.len, &entry->dtype))
              {
                g_autofree char *shown_dtype = shown_name (dtype_name.data, dtype_name.len);

                g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_DTYPE,
                             "Tensor “%s” has an unknown dtype “%s”", SHOWN, shown_dtype);
                return NULL;
              }
          }
        else if (field == FIELD_SHAPE)
          {
            if (!parse_integer_array (ps, ST_ERROR_INVALID_SHAPE, "shape", name, name_len, G_MAXINT64))
              return NULL;
            entry->n_dims = ps->n_ints;
            /* Every value is at most G_MAXINT64: the guint64s are valid gint64s. */
            entry->shape = ps->n_ints > 0 ? g_memdup2 (ps->ints, ps->n_ints * sizeof (gint64)) : NULL;
          }
        else if (field == FIELD_DATA_OFFSETS)
          {
            const guint8 *array_start;

            skip_ws (ps);
            array_start = ps->p;
            if (!parse_integer_array (ps, ST_ERROR_INVALID_OFFSETS, "data_offsets", name, name_len, G_MAXUINT64))
              return NULL;
            if (ps->n_ints != 2)
              return (fail_at (ps, array_start, ST_ERROR_INVALID_OFFSETS,
                               "The data_offsets of tensor “%s” have %u numbers instead of 2",
                               SHOWN, ps->n_ints), NULL);
            entry->begin = ps->ints[0];
            entry->end = ps->ints[1];
          }
        else if (!skip_value (ps, 2))
          return NULL;

        if (!next_or_close (ps, '}', &closed))
          return NULL;
        if (closed)
          break;
      }

  if (ps->keys->len > key_base)
    {
      g_autofree char *where = g_strdup_printf ("tensor “%s”", SHOWN);

      if (!check_and_drop_keys (ps, key_base, open, where))
        return NULL;
    }

  if ((fields & FIELD_DTYPE) == 0 || (fields & FIELD_SHAPE) == 0 || (fields & FIELD_DATA_OFFSETS) == 0)
    {
      const char *missing = (fields & FIELD_DTYPE) == 0 ? "dtype" :
                            (fields & FIELD_SHAPE) == 0 ? "shape" : "data_offsets";

      return (fail_at (ps, open, ST_ERROR_INVALID_HEADER, "Tensor “%s” has no “%s” field", SHOWN, missing),
              NULL);
    }

  if (!st_dtype_compute_n_bytes (entry->dtype, entry->shape, entry->n_dims, &n_bytes, &local_error))
    {
      g_propagate_prefixed_error (ps->error, g_steal_pointer (&local_error), "Tensor “%s”: ", SHOWN);
      return NULL;
    }

  if (entry->end < entry->begin)
    {
      g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                   "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                   "that end before they begin (its %s data is %" G_GUINT64_FORMAT " bytes)",
                   SHOWN, entry->begin, entry->end, st_dtype_to_string (entry->dtype), n_bytes);
      return NULL;
    }

  if (entry->end - entry->begin != n_bytes)
    {
      g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

      g_set_error (ps->error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                   "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                   "(%" G_GUINT64_FORMAT " bytes) but dtype %s and shape %s make %" G_GUINT64_FORMAT " bytes",
                   SHOWN, entry->begin, entry->end, entry->end - entry->begin,
                   st_dtype_to_string (entry->dtype), shape, n_bytes);
      return NULL;
    }

  return g_steal_pointer (&entry);
}

#undef SHOWN

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
    return fail_at (ps, ps->p, ST_ERROR_INVALID_METADATA, "__metadata__ is neither an object nor null");
  ps->p++;

  metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (accept_char (ps, '}'))
    {
      *out_metadata = g_steal_pointer (&metadata);
      return TRUE;
    }

  for (;;)
    {
      Str str;
      g_autofree char *key = NULL;
      g_autofree char *shown = NULL;
      const guint8 *key_start;
      gboolean closed;

      skip_ws (ps);
      key_start = ps->p;
      if (ps->p >= ps->end || *ps->p != '"')
        return fail_expected (ps, "a string key");
      if (!parse_string (ps, &str))
        return FALSE;
      if (str.has_nul)
        return fail_at (ps, key_start, ST_ERROR_INVALID_METADATA,
                        "The __metadata__ key “%s” contains \\u0000, which a C string cannot hold",
                        (shown = shown_name (str.data, str.len)));
      key = g_strndup (str.data, str.len);
      /* The key as messages quote it, made only when there is a message to write */
#define SHOWN (shown != NULL ? shown : (shown = shown_name (key, strlen (key))))
      if (g_hash_table_contains (metadata, key))
        return fail_at (ps, key_start, ST_ERROR_DUPLICATE_NAME, "Duplicate key “%s” in __metadata__", SHOWN);

      if (!expect_char (ps, ':', "‘:’"))
        return FALSE;

      skip_ws (ps);
      if (ps->p >= ps->end)
        return fail_expected (ps, "a JSON value");
      if (*ps->p != '"')
        return fail_at (ps, ps->p, ST_ERROR_INVALID_METADATA,
                        "The value of “%s” in __metadata__ is not a string", SHOWN);
      if (!parse_string (ps, &str))
        return FALSE;
      if (str.has_nul)
        return fail_at (ps, key_start, ST_ERROR_INVALID_METADATA,
                        "The value of “%s” in __metadata__ contains \\u0000, which a C string cannot hold",
                        SHOWN);
      g_hash_table_insert (metadata, g_steal_pointer (&key), g_strndup (str.data, str.len));

      if (!next_or_close (ps, '}', &closed))
        return FALSE;
      if (closed)
        {
          *out_metadata = g_steal_pointer (&metadata);
          return TRUE;
        }
    }
}

#undef SHOWN

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

/* Sorts @entries by offsets and checks that they tile [0, data_size) with neither hole nor overlap. */
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
      const StHeaderEntry *entry = g_ptr_array_index (entries, i);

      if (entry->begin != covered)
        {
          g_autofree char *shown = shown_name (entry->name, strlen (entry->name));

          if (previous == NULL)
            g_set_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                         "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                         "but the first tensor of the data must begin at 0",
                         shown, entry->begin, entry->end);
          else
            {
              g_autofree char *shown_previous = shown_name (previous->name, strlen (previous->name));

              g_set_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                           "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                           "but the tensor before it in the data, “%s”, ends at %" G_GUINT64_FORMAT " (%s)",
                           shown, entry->begin, entry->end, shown_previous, covered,
                           entry->begin > covered ? "a hole" : "an overlap");
            }
          return FALSE;
        }

      covered = entry->end;
      previous = entry;
    }

  *out_data_size = covered;
  return TRUE;
}

void
st_header_free (StHeader *header)
{
  if (header == NULL)
    return;

  g_clear_pointer (&header->entries, g_ptr_array_unref);
  g_clear_pointer (&header->metadata, g_hash_table_unref);
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
 * 8 bytes at a time until a byte that is not ASCII or is NUL. */
static gboolean
validate_utf8 (const guint8 *text,
               gsize         len,
               gsize        *out_invalid_at)
{
  const guint64 high_bits = G_GUINT64_CONSTANT (0x8080808080808080);
  const guint64 low_bits = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint8 *p = text;
  const guint8 *end = text + len;

  while (p < end)
    {
      gunichar c;

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

/* The top-level object. */
static StHeader *
parse_document (Parser *ps)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) st_header_entry_free);
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) metadata = NULL;
  gboolean seen_metadata = FALSE;
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

        skip_ws (ps);
        key_start = ps->p;
        if (ps->p >= ps->end || *ps->p != '"')
          return (fail_expected (ps, "a string key"), NULL);
        if (!parse_string (ps, &key))
          return NULL;

        if (str_equal (&key, "__metadata__", 12))
          {
            if (seen_metadata)
              return (fail_at (ps, key_start, ST_ERROR_DUPLICATE_NAME, "Duplicate key “__metadata__”"), NULL);
            seen_metadata = TRUE;
            if (!expect_char (ps, ':', "‘:’") || !parse_metadata (ps, &metadata))
              return NULL;
          }
        else
          {
            StHeaderEntry *entry;
            char *name;
            gsize name_len = key.len;

            if (key.has_nul)
              {
                g_autofree char *shown = shown_name (key.data, key.len);

                return (fail_at (ps, key_start, ST_ERROR_INVALID_HEADER,
                                 "The tensor name “%s” contains \\u0000, which a C string cannot hold", shown),
                        NULL);
              }
            name = g_strndup (key.data, key.len);
            if (!expect_char (ps, ':', "‘:’"))
              {
                g_free (name);
                return NULL;
              }
            entry = parse_entry (ps, name, name_len);
            if (entry == NULL)
              return NULL;
            g_ptr_array_add (entries, entry);

            if (!g_hash_table_add (names, entry->name))
              {
                g_autofree char *shown = shown_name (entry->name, name_len);

                return (fail_at (ps, key_start, ST_ERROR_DUPLICATE_NAME, "Duplicate tensor name “%s”", shown),
                        NULL);
              }
          }

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

  header = g_new0 (StHeader, 1);
  header->entries = g_steal_pointer (&entries);
  header->metadata = g_steal_pointer (&metadata);

  if (!check_tiling (header->entries, &header->data_size, ps->error))
    {
      st_header_free (header);
      return NULL;
    }

  return header;
}

StHeader *
st_header_parse (const char  *json,
                 gsize        json_len,
                 GError     **error)
{
  StHeader *header;
  Parser ps = { 0 };
  gsize invalid_at;

  g_return_val_if_fail (json != NULL || json_len == 0, NULL);

  if (!validate_utf8 ((const guint8 *) json, json_len, &invalid_at))
    {
      if (json[invalid_at] == '\0')
        g_set_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                     "The header is not valid UTF-8 at byte %" G_GSIZE_FORMAT ": a NUL byte", invalid_at);
      else
        g_set_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                     "The header is not valid UTF-8 at byte %" G_GSIZE_FORMAT, invalid_at);
      return NULL;
    }

  ps.start = (const guint8 *) json;
  ps.p = ps.start;
  ps.end = ps.start + json_len;
  ps.scratch = g_string_new (NULL);
  ps.keys = g_array_new (FALSE, FALSE, sizeof (KeyRef));
  ps.key_text = g_string_new (NULL);
  ps.error = error;

  header = parse_document (&ps);

  g_string_free (ps.scratch, TRUE);
  g_array_unref (ps.keys);
  g_string_free (ps.key_text, TRUE);
  g_free (ps.ints);

  return header;
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
