/* st-header-parser.c: the safetensors header's schema, read from its JSON text
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A strict RFC 8259 reader made for this one schema rather than a general JSON library:
 * json-glib accepts comments and trailing commas, keeps the last of duplicate keys, builds a tree and
 * recurses. Here the header is read in one pass straight into StHeaderEntry values: no tree, no
 * recursion (the only place that can nest, an unknown field's value, is skipped with an explicit stack
 * bounded by ST_MAX_JSON_DEPTH), and no allocation per tensor: entries, names and shapes are cut from one
 * arena, and the duplicate check's index (StNameIndex) is made only when the names are not in
 * increasing order (where none can repeat another). Strings without escapes are used in place; escaped
 * ones are decoded into one reused buffer.
 *
 * The tokens (strings, whitespace, numbers, the UTF-8 check) come from the scanner
 * (st-scanner-private.h). An entry written as writers write it is read by a fast path that falls back to
 * the general parser at the first byte of any other form (ST_HEADER_PARSE_GENERAL_ONLY skips it). Every
 * way gives the same results and the same errors: the tests and the fuzz target compare them.
 *
 * Large headers are bound by memory, not instructions: the UTF-8 check runs a block ahead of the parser
 * so that the text is read from memory once, the name index's slot is fetched while the entry is read,
 * and blocks of megabytes are mapped in huge pages where Linux offers them (st_big_block_alloc()).
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
 */
#include <string.h>

#include "st-arena-private.h"
#include "st-header-private.h"
#include "st-json-value-private.h"
#include "st-scanner-private.h"

/* The arena's first chunk: a quarter longer than the header, within these bounds, which is room for the
 * entries, names and shapes of the headers writers make. An entry takes about as many arena bytes as its
 * text, sometimes a few more (48 for StHeaderEntry, its name, 8 per dimension; against its text's 30 or so
 * bytes of punctuation and field names and the digits of its offsets): a chunk only as long as the header
 * then overflowed by a few entries into a second one of twice the size, one more mapping and unmapping per
 * open for 1,000 tensors of 32x32 (88 arena bytes to 86 of text). Pages a header does not fill (one of
 * metadata, say) are never touched, so cost no memory. Later chunks, if any, double. */
#define ARENA_MIN_CHUNK ((gsize) 1024)
#define ARENA_MAX_FIRST_CHUNK ((gsize) 128 * 1024 * 1024)

/* The UTF-8 check runs this far ahead of the parser (see st_scanner_validate_ahead()): well within a core's L2 */
#define VALIDATE_BLOCK ((gsize) 64 * 1024)

/* Bits of StHeaderEntry fields already seen in a tensor entry. */
enum {
  FIELD_DTYPE        = 1 << 0,
  FIELD_SHAPE        = 1 << 1,
  FIELD_DATA_OFFSETS = 1 << 2,
};

/* The name index is presized for a header of N bytes as holding N / this many tensors. Not the shortest
 * entry's text ("":{"dtype":"U8","shape":[],"data_offsets":[0,0]}, and its comma: 49 bytes), whose
 * bound gave twice the slots real headers fill (their entries take 70 to 120 bytes: a name, a 2-D shape
 * and offsets of several digits) and so twice the zeroed memory to fault in and clear: 96 kB instead of
 * 48 kB for 1,000 tensors of 86 bytes. With a name of 15 bytes or more an entry is this long; a header
 * of shorter entries grows the index once or twice while it is parsed. */
#define TYPICAL_ENTRY_TEXT 64

/* How many of the latest distinct shapes an entry's shape is compared with before it gets a copy of its
 * own (see intern_shape()) */
#define RECENT_SHAPES 4

typedef struct {
  StScanner     sc;        /* the text and the position in it */
  gboolean      plain_entries;  /* try read_plain_entry() first */
  guint64      *ints;      /* the integers of the shape or data_offsets being read */
  guint         n_ints;
  guint         ints_capacity;
  StJsonKeys    keys;      /* keys of the open objects inside unknown fields, for duplicates */
  StArena       arena;     /* the entries, their names and their shapes */
  char          last_dtype_name[16];  /* the last dtype looked up: headers repeat a few dtypes */
  gsize         last_dtype_len;       /* G_MAXSIZE before the first */
  STDType       last_dtype;
  gint64       *recent_shapes[RECENT_SHAPES];    /* in the arena; NULL when unused */
  guint         recent_n_dims[RECENT_SHAPES];
  guint         next_recent;                     /* the slot the next new shape takes */
  const char   *last_name;  /* the name of the last tensor read, in the arena; NULL before the first */
  guint64       entry_end;  /* the second data offset of the entry being read, checked by check_entry() */
  gboolean      tiled_in_order;  /* so far, each entry begins where the one before it ends, the first at 0 */
  guint64       covered;         /* then: where the last entry ends */
} Parser;

/* The shape in ps->ints (ps->n_ints dimensions, each at most G_MAXINT64) as an entry keeps it: in the
 * arena, shared with an entry before it of the same shape. Shapes are read-only once parsed, and headers
 * repeat a few of them (the 1,000 tensors of a LoRA adapter have one or two, a model's layers the same
 * handful each): each entry of 2 dimensions would otherwise take 16 bytes of fresh memory for them, which a
 * fresh process faults in. */
static gint64 *
intern_shape (Parser *ps)
{
  gsize size = ps->n_ints * sizeof (gint64);
  gint64 *shape;

  if (ps->n_ints == 0)
    return NULL;

  for (guint i = 0; i < RECENT_SHAPES; i++)
    {
      if (ps->recent_shapes[i] != NULL && ps->recent_n_dims[i] == ps->n_ints &&
          memcmp (ps->recent_shapes[i], ps->ints, size) == 0)
        return ps->recent_shapes[i];
    }

  /* Every value is at most G_MAXINT64: the guint64s are valid gint64s. */
  shape = st_arena_alloc (&ps->arena, size);
  memcpy (shape, ps->ints, size);
  ps->recent_shapes[ps->next_recent] = shape;
  ps->recent_n_dims[ps->next_recent] = ps->n_ints;
  ps->next_recent = (ps->next_recent + 1) % RECENT_SHAPES;
  return shape;
}

/* Tensor entries */

/* The field whose key (with its quotes) is at ps->sc.p, read without decoding when it is spelled plainly,
 * as every writer spells it: FIELD_* and ps->sc.p past the key, or 0 and ps->sc.p unchanged. */
static inline guint
match_plain_field (Parser *ps)
{
  gsize left = (gsize) (ps->sc.end - ps->sc.p);

  if (left >= 7 && memcmp (ps->sc.p, "\"dtype\"", 7) == 0)
    {
      ps->sc.p += 7;
      return FIELD_DTYPE;
    }
  if (left >= 7 && memcmp (ps->sc.p, "\"shape\"", 7) == 0)
    {
      ps->sc.p += 7;
      return FIELD_SHAPE;
    }
  if (left >= 14 && memcmp (ps->sc.p, "\"data_offsets\"", 14) == 0)
    {
      ps->sc.p += 14;
      return FIELD_DATA_OFFSETS;
    }
  return 0;
}

/* Reads the key of a tensor entry at ps->sc.p: *out_field is its FIELD_* or 0 for an unknown field, whose
 * key is kept for the duplicate check. *out_key receives the decoded key. */
static gboolean
parse_field_key (Parser       *ps,
                 StJsonString *out_key,
                 guint        *out_field)
{
  guint field = match_plain_field (ps);

  if (field != 0)
    {
      /* The key's text, without its quotes, for messages */
      out_key->data = (const char *) ps->sc.p - (field == FIELD_DATA_OFFSETS ? 13 : 6);
      out_key->len = field == FIELD_DATA_OFFSETS ? 12 : 5;
      out_key->has_nul = FALSE;
      *out_field = field;
      return TRUE;
    }

  if (ps->sc.p >= ps->sc.end || *ps->sc.p != '"')
    return st_scanner_fail_expected (&ps->sc, "a string key");
  if (!st_scanner_parse_string (&ps->sc, out_key))
    return FALSE;

  if (st_scanner_str_equal (out_key, "dtype", 5))
    field = FIELD_DTYPE;
  else if (st_scanner_str_equal (out_key, "shape", 5))
    field = FIELD_SHAPE;
  else if (st_scanner_str_equal (out_key, "data_offsets", 12))
    field = FIELD_DATA_OFFSETS;
  else
    st_json_keys_add (&ps->keys, out_key);

  *out_field = field;
  return TRUE;
}

/* Finds the dtype @name, looking at the last one found first. */
static gboolean
lookup_dtype (Parser             *ps,
              const StJsonString *name,
              STDType            *out_dtype)
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
  StJsonString dtype_name;

  st_scanner_skip_ws (&ps->sc);
  if (ps->sc.p >= ps->sc.end)
    return st_scanner_fail_expected (&ps->sc, "a JSON value");
  if (*ps->sc.p != '"')
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);

      return st_scanner_fail_at (&ps->sc, ps->sc.p, ST_ERROR_INVALID_DTYPE,
                                 "The dtype of tensor “%s” is not a string", shown);
    }
  if (!st_scanner_parse_string (&ps->sc, &dtype_name))
    return FALSE;

  if (!lookup_dtype (ps, &dtype_name, &entry->dtype))
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);
      g_autofree char *shown_dtype = st_scanner_shown_name (dtype_name.data, dtype_name.len);

      g_set_error (ps->sc.error, ST_ERROR, ST_ERROR_INVALID_DTYPE,
                   "Tensor “%s” has an unknown dtype “%s”", shown, shown_dtype);
      return FALSE;
    }

  return TRUE;
}

/* Reads any JSON number at ps->sc.p, as an element of the @field of tensor @name, which holds unsigned
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
  StJsonNumber number;
  g_autofree char *shown = NULL;
  int shown_len;

  if (ps->sc.p >= ps->sc.end || (*ps->sc.p != '-' && !st_scanner_is_digit (*ps->sc.p)))
    {
      if (ps->sc.p < ps->sc.end && (*ps->sc.p == '"' || *ps->sc.p == '[' || *ps->sc.p == '{' ||
                                    *ps->sc.p == 't' || *ps->sc.p == 'f' || *ps->sc.p == 'n'))
        {
          shown = st_scanner_shown_name (name, name_len);
          return st_scanner_fail_at (&ps->sc, ps->sc.p, code,
                                     "The %s of tensor “%s” holds something other than an integer",
                                     field, shown);
        }
      return st_scanner_fail_expected (&ps->sc, "a number");
    }

  if (!st_scanner_parse_number (&ps->sc, &number))
    return FALSE;

  shown_len = (int) MIN (ps->sc.p - number.begin, ST_SCANNER_MAX_SHOWN_NUMBER);

  if (!number.is_integer)
    {
      shown = st_scanner_shown_name (name, name_len);
      return st_scanner_fail_at (&ps->sc, number.begin, code, "The %s of tensor “%s” holds %.*s, not an integer",
                                 field, shown, shown_len, (const char *) number.begin);
    }

  /* serde_json reads -0 as the floating-point number -0.0 (to keep its sign): Hugging Face rejects it */
  if (number.negative && number.value == 0 && !number.overflow)
    {
      shown = st_scanner_shown_name (name, name_len);
      return st_scanner_fail_at (&ps->sc, number.begin, code,
                                 "The %s of tensor “%s” holds -0, which JSON readers take for a floating-point number, "
                                 "not an integer", field, shown);
    }

  if (number.negative)
    {
      shown = st_scanner_shown_name (name, name_len);
      return st_scanner_fail_at (&ps->sc, number.begin, code, "The %s of tensor “%s” holds a negative number, %.*s",
                                 field, shown, shown_len, (const char *) number.begin);
    }

  if (number.overflow)
    {
      shown = st_scanner_shown_name (name, name_len);
      return st_scanner_fail_at (&ps->sc, number.begin, code,
                                 "The %s of tensor “%s” holds %.*s, more than %" G_GUINT64_FORMAT,
                                 field, shown, shown_len, (const char *) number.begin, max_value);
    }

  *out_value = number.value;
  return TRUE;
}

/* Reads the array of non-negative integers of at most @max_value at ps->sc.p into ps->ints: the @field of
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

  st_scanner_skip_ws (&ps->sc);
  if (ps->sc.p >= ps->sc.end)
    return st_scanner_fail_expected (&ps->sc, "a JSON value");
  if (*ps->sc.p != '[')
    {
      g_autofree char *shown = st_scanner_shown_name (name, name_len);

      return st_scanner_fail_at (&ps->sc, ps->sc.p, code, "The %s of tensor “%s” is not an array", field, shown);
    }
  ps->sc.p++;

  if (st_scanner_accept_char (&ps->sc, ']'))
    return TRUE;

  for (;;)
    {
      const guint8 *begin;
      guint64 value = 0;
      gboolean closed;

      st_scanner_skip_ws (&ps->sc);
      begin = ps->sc.p;
      if (!st_scanner_read_plain_integer (&ps->sc, &value) &&
          !parse_array_number (ps, code, field, name, name_len, max_value, &value))
        return FALSE;

      if (value > max_value)
        {
          g_autofree char *shown = st_scanner_shown_name (name, name_len);

          return st_scanner_fail_at (&ps->sc, begin, code,
                                     "The %s of tensor “%s” holds %.*s, more than %" G_GUINT64_FORMAT,
                                     field, shown, (int) MIN (ps->sc.p - begin, ST_SCANNER_MAX_SHOWN_NUMBER),
                                     (const char *) begin, max_value);
        }

      if (G_UNLIKELY (ps->n_ints == ps->ints_capacity))
        {
          ps->ints_capacity = MAX (16, ps->ints_capacity * 2);
          ps->ints = g_renew (guint64, ps->ints, ps->ints_capacity);
        }
      ps->ints[ps->n_ints++] = value;

      if (!st_scanner_next_or_close (&ps->sc, ']', &closed))
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
  entry->shape = intern_shape (ps);
  return TRUE;
}

static gboolean
parse_data_offsets (Parser        *ps,
                    StHeaderEntry *entry,
                    gsize          name_len)
{
  const guint8 *array_start;

  st_scanner_skip_ws (&ps->sc);
  array_start = ps->sc.p;
  if (!parse_integer_array (ps, ST_ERROR_INVALID_OFFSETS, "data_offsets", entry->name, name_len, G_MAXUINT64))
    return FALSE;

  if (ps->n_ints != 2)
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);

      return st_scanner_fail_at (&ps->sc, array_start, ST_ERROR_INVALID_OFFSETS,
                                 "The data_offsets of tensor “%s” have %u numbers instead of 2", shown, ps->n_ints);
    }

  entry->begin = ps->ints[0];
  ps->entry_end = ps->ints[1];
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
          g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);
          g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

          g_set_error (ps->sc.error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                       "Tensor “%s”: The element count of shape %s overflows 64 bits", shown, shape);
          return FALSE;
        }
    }

  if (!g_uint64_checked_mul (&n_bits, n_elements, st_dtype_get_bits (entry->dtype)))
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);
      g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

      g_set_error (ps->sc.error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                   "Tensor “%s”: The size in bits of dtype %s and shape %s overflows 64 bits",
                   shown, st_dtype_to_string (entry->dtype), shape);
      return FALSE;
    }

  if (n_bits % 8 != 0)
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);
      g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

      g_set_error (ps->sc.error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE,
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
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);
      const char *missing = "data_offsets";

      if ((fields & FIELD_DTYPE) == 0)
        missing = "dtype";
      else if ((fields & FIELD_SHAPE) == 0)
        missing = "shape";

      return st_scanner_fail_at (&ps->sc, open, ST_ERROR_INVALID_HEADER,
                                 "Tensor “%s” has no “%s” field", shown, missing);
    }

  if (!compute_entry_n_bytes (ps, entry, name_len, &n_bytes))
    return FALSE;

  if (ps->entry_end < entry->begin)
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);

      g_set_error (ps->sc.error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                   "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                   "that end before they begin (its %s data is %" G_GUINT64_FORMAT " bytes)",
                   shown, entry->begin, ps->entry_end, st_dtype_to_string (entry->dtype), n_bytes);
      return FALSE;
    }

  if (ps->entry_end - entry->begin != n_bytes)
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);
      g_autofree char *shape = st_shape_to_string (entry->shape, entry->n_dims);

      g_set_error (ps->sc.error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                   "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                   "(%" G_GUINT64_FORMAT " bytes) but dtype %s and shape %s make %" G_GUINT64_FORMAT " bytes",
                   shown, entry->begin, ps->entry_end, ps->entry_end - entry->begin,
                   st_dtype_to_string (entry->dtype), shape, n_bytes);
      return FALSE;
    }

  return TRUE;
}

/* Reads ‘[’, plain integers of at most @max_value separated by ‘,’, and ‘]’ into ps->ints, or returns
 * FALSE at the first byte of any other form. */
static inline gboolean
read_plain_integer_array (Parser  *ps,
                          guint64  max_value)
{
  ps->n_ints = 0;
  if (!st_scanner_accept_literal (&ps->sc, "[", 1))
    return FALSE;
  if (st_scanner_accept_literal (&ps->sc, "]", 1))
    return TRUE;

  for (;;)
    {
      guint64 value;

      if (!st_scanner_read_plain_integer (&ps->sc, &value) || value > max_value)
        return FALSE;
      if (G_UNLIKELY (ps->n_ints == ps->ints_capacity))
        {
          ps->ints_capacity = MAX (16, ps->ints_capacity * 2);
          ps->ints = g_renew (guint64, ps->ints, ps->ints_capacity);
        }
      ps->ints[ps->n_ints++] = value;

      if (ps->sc.p >= ps->sc.end)
        return FALSE;
      if (*ps->sc.p == ']')
        {
          ps->sc.p++;
          return TRUE;
        }
      if (*ps->sc.p != ',')
        return FALSE;
      ps->sc.p++;
    }
}

/* Reads the tensor entry at ps->sc.p if it is written exactly as writers write it,
 * {"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}, with no whitespace, escapes or other fields and
 * with valid values: the fields of @entry are then set and ps->sc.p is past the closing brace. Otherwise
 * it returns FALSE, and the caller reads the entry again with parse_entry(), which judges it. */
static gboolean
read_plain_entry (Parser        *ps,
                  StHeaderEntry *entry)
{
  StJsonString dtype_name;

  if (!st_scanner_accept_literal (&ps->sc, "{\"dtype\":\"", 10))
    return FALSE;

  /* The dtype's name, without escapes */
  dtype_name.data = (const char *) ps->sc.p;
  ps->sc.p = st_scanner_scan_string_text (&ps->sc, ps->sc.p);
  if (ps->sc.p >= ps->sc.end || *ps->sc.p != '"')
    return FALSE;
  dtype_name.len = (gsize) ((const char *) ps->sc.p - dtype_name.data);
  dtype_name.has_nul = FALSE;
  if (!lookup_dtype (ps, &dtype_name, &entry->dtype))
    return FALSE;

  if (!st_scanner_accept_literal (&ps->sc, "\",\"shape\":", 10) || !read_plain_integer_array (ps, G_MAXINT64))
    return FALSE;
  entry->n_dims = ps->n_ints;
  entry->shape = intern_shape (ps);

  if (!st_scanner_accept_literal (&ps->sc, ",\"data_offsets\":", 16) || !read_plain_integer_array (ps, G_MAXUINT64) ||
      ps->n_ints != 2 || !st_scanner_accept_literal (&ps->sc, "}", 1))
    return FALSE;
  entry->begin = ps->ints[0];
  ps->entry_end = ps->ints[1];
  return TRUE;
}

/* Reads the tensor entry (the value) at ps->sc.p into @entry, whose name is set. */
static gboolean
parse_entry (Parser        *ps,
             StHeaderEntry *entry,
             gsize          name_len)
{
  const guint8 *open;
  guint fields = 0;
  guint key_base = st_json_keys_get_n (&ps->keys);

  st_scanner_skip_ws (&ps->sc);
  if (ps->sc.p >= ps->sc.end)
    return st_scanner_fail_expected (&ps->sc, "a JSON value");
  if (*ps->sc.p != '{')
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);

      return st_scanner_fail_at (&ps->sc, ps->sc.p, ST_ERROR_INVALID_HEADER,
                                 "The entry of tensor “%s” is not an object", shown);
    }
  open = ps->sc.p++;

  if (!st_scanner_accept_char (&ps->sc, '}'))
    for (;;)
      {
        StJsonString key;
        guint field = 0;
        gboolean parsed;
        gboolean closed;

        st_scanner_skip_ws (&ps->sc);
        if (!parse_field_key (ps, &key, &field))
          return FALSE;

        if ((fields & field) != 0)
          {
            g_autofree char *shown_key = g_strndup (key.data, key.len);
            g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);

            return st_scanner_fail_at (&ps->sc, ps->sc.p, ST_ERROR_DUPLICATE_NAME, "Duplicate key “%s” in tensor “%s”",
                                       shown_key, shown);
          }
        fields |= field;

        if (!st_scanner_expect_char (&ps->sc, ':', "‘:’"))
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
            parsed = st_json_skip_value (&ps->sc, &ps->keys, 2);
            break;
          }
        if (!parsed)
          return FALSE;

        if (!st_scanner_next_or_close (&ps->sc, '}', &closed))
          return FALSE;
        if (closed)
          break;
      }

  if (st_json_keys_get_n (&ps->keys) > key_base)
    {
      g_autofree char *shown = st_scanner_shown_name (entry->name, name_len);
      g_autofree char *where = g_strdup_printf ("tensor “%s”", shown);

      if (!st_json_keys_check_and_drop (&ps->keys, &ps->sc, key_base, open, where))
        return FALSE;
    }

  return check_entry (ps, entry, name_len, fields, open);
}

/* Metadata */

/* Reads one "key":"value" member of __metadata__ at ps->sc.p into @metadata. */
static gboolean
parse_metadata_member (Parser     *ps,
                       GHashTable *metadata)
{
  StJsonString str;
  g_autofree char *key = NULL;
  const guint8 *key_start;

  st_scanner_skip_ws (&ps->sc);
  key_start = ps->sc.p;
  if (ps->sc.p >= ps->sc.end || *ps->sc.p != '"')
    return st_scanner_fail_expected (&ps->sc, "a string key");
  if (!st_scanner_parse_string (&ps->sc, &str))
    return FALSE;
  if (str.has_nul)
    {
      g_autofree char *shown = st_scanner_shown_name (str.data, str.len);

      return st_scanner_fail_at (&ps->sc, key_start, ST_ERROR_INVALID_METADATA,
                                 "The __metadata__ key “%s” contains \\u0000, which a C string cannot hold", shown);
    }
  key = g_strndup (str.data, str.len);

  if (g_hash_table_contains (metadata, key))
    {
      g_autofree char *shown = st_scanner_shown_name (key, str.len);

      return st_scanner_fail_at (&ps->sc, key_start, ST_ERROR_DUPLICATE_NAME,
                                 "Duplicate key “%s” in __metadata__", shown);
    }

  if (!st_scanner_expect_char (&ps->sc, ':', "‘:’"))
    return FALSE;

  st_scanner_skip_ws (&ps->sc);
  if (ps->sc.p >= ps->sc.end)
    return st_scanner_fail_expected (&ps->sc, "a JSON value");
  if (*ps->sc.p != '"')
    {
      g_autofree char *shown = st_scanner_shown_name (key, strlen (key));

      return st_scanner_fail_at (&ps->sc, ps->sc.p, ST_ERROR_INVALID_METADATA,
                                 "The value of “%s” in __metadata__ is not a string", shown);
    }
  if (!st_scanner_parse_string (&ps->sc, &str))
    return FALSE;
  if (str.has_nul)
    {
      g_autofree char *shown = st_scanner_shown_name (key, strlen (key));

      return st_scanner_fail_at (&ps->sc, key_start, ST_ERROR_INVALID_METADATA,
                                 "The value of “%s” in __metadata__ contains \\u0000, which a C string cannot hold",
                                 shown);
    }

  g_hash_table_insert (metadata, g_steal_pointer (&key), g_strndup (str.data, str.len));
  return TRUE;
}

/* Reads the value of __metadata__ at ps->sc.p: null, or an object of strings. */
static gboolean
parse_metadata (Parser      *ps,
                GHashTable **out_metadata)
{
  g_autoptr(GHashTable) metadata = NULL;

  st_scanner_skip_ws (&ps->sc);
  if (ps->sc.end - ps->sc.p >= 4 && memcmp (ps->sc.p, "null", 4) == 0)
    {
      ps->sc.p += 4;
      *out_metadata = NULL;
      return TRUE;
    }
  if (ps->sc.p >= ps->sc.end)
    return st_scanner_fail_expected (&ps->sc, "a JSON value");
  if (*ps->sc.p != '{')
    return st_scanner_fail_at (&ps->sc, ps->sc.p, ST_ERROR_INVALID_METADATA,
                               "The value of __metadata__ is neither an object nor null");
  ps->sc.p++;

  metadata = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_free);

  if (!st_scanner_accept_char (&ps->sc, '}'))
    for (;;)
      {
        gboolean closed;

        if (!parse_metadata_member (ps, metadata))
          return FALSE;
        if (!st_scanner_next_or_close (&ps->sc, '}', &closed))
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
  if (st_header_entry_get_end (ea) != st_header_entry_get_end (eb))
    return st_header_entry_get_end (ea) < st_header_entry_get_end (eb) ? -1 : 1;
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
      guint64 end = st_header_entry_get_end (entry);

      if (entry->begin != covered)
        {
          g_autofree char *shown = st_scanner_shown_name (entry->name, strlen (entry->name));
          g_autofree char *shown_previous = NULL;

          if (previous == NULL)
            {
              g_set_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                           "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                           "but the first tensor of the data must begin at 0",
                           shown, entry->begin, end);
              return FALSE;
            }

          shown_previous = st_scanner_shown_name (previous->name, strlen (previous->name));
          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                       "Tensor “%s” has data offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
                       "but the tensor before it in the data, “%s”, ends at %" G_GUINT64_FORMAT " (%s)",
                       shown, entry->begin, end, shown_previous, covered,
                       entry->begin > covered ? "a hole" : "an overlap");
          return FALSE;
        }

      covered = end;
      previous = entry;
    }

  *out_data_size = covered;
  return TRUE;
}

gpointer
st_header_alloc (StHeader *header,
                 gsize     size)
{
  return st_arena_chunks_add (&header->arena, size);
}

StArenaChunk *
st_header_steal_arena (StHeader *header)
{
  return g_steal_pointer (&header->arena);
}

void
st_header_free (StHeader *header)
{
  if (header == NULL)
    return;

  g_clear_pointer (&header->entries, g_ptr_array_unref);
  g_clear_pointer (&header->by_name, st_name_index_free);
  g_clear_pointer (&header->metadata, g_hash_table_unref);
  st_arena_chunks_free (header->arena);
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

/* The name index reads an entry's name through the entry */
G_STATIC_ASSERT (G_STRUCT_OFFSET (StHeaderEntry, name) == 0);

/* The duplicate check's index of the entries read so far, made when a name first comes out of order. */
static StNameIndex *
index_entries (Parser    *ps,
               GPtrArray *entries)
{
  StNameIndex *by_name = st_name_index_new_sized (st_scanner_offset_of (&ps->sc, ps->sc.end) / TYPICAL_ENTRY_TEXT);

  /* In strictly increasing order: no two are the same */
  for (guint i = 0; i < entries->len; i++)
    {
      StHeaderEntry *entry = entries->pdata[i];

      st_name_index_insert (by_name, entry->name, strlen (entry->name), entry);
    }
  return by_name;
}

/* Reads one tensor, whose name @key (its string at @key_start) was just read, and adds it to @entries.
 * Writers list tensors sorted by name (within each dtype, for Hugging Face's): while every name is greater
 * than the one before it (in strcmp() order), none can repeat one, and no index is needed to tell; the
 * first name out of order indexes the entries before it in *@by_name, and every later one goes there too. */
static gboolean
parse_tensor (Parser             *ps,
              const StJsonString *key,
              const guint8       *key_start,
              GPtrArray          *entries,
              StNameIndex       **by_name)
{
  StHeaderEntry *entry;
  const guint8 *open;
  guint32 hash = 0;
  char *name;

  if (key->has_nul)
    {
      g_autofree char *shown = st_scanner_shown_name (key->data, key->len);

      return st_scanner_fail_at (&ps->sc, key_start, ST_ERROR_INVALID_HEADER,
                                 "The tensor name “%s” contains \\u0000, which a C string cannot hold", shown);
    }

  /* The entry, then its name: the key may be in ps->sc.scratch, which the next string overwrites */
  entry = st_arena_alloc (&ps->arena, sizeof (StHeaderEntry) + key->len + 1);
  memset (entry, 0, sizeof (StHeaderEntry));
  name = (char *) (entry + 1);
  memcpy (name, key->data, key->len);
  name[key->len] = '\0';
  entry->name = name;
  if (*by_name == NULL && ps->last_name != NULL && strcmp (ps->last_name, name) >= 0)
    *by_name = index_entries (ps, entries);
  if (*by_name != NULL)
    hash = st_name_index_prefetch (*by_name, name, key->len);

  if (!st_scanner_expect_char (&ps->sc, ':', "‘:’"))
    return FALSE;

  /* The common form first; anything else is read again by the general parser, which judges it */
  open = ps->sc.p;
  if (ps->plain_entries && read_plain_entry (ps, entry))
    {
      if (!check_entry (ps, entry, key->len, FIELD_DTYPE | FIELD_SHAPE | FIELD_DATA_OFFSETS, open))
        return FALSE;
    }
  else
    {
      ps->sc.p = open;
      if (!parse_entry (ps, entry, key->len))
        return FALSE;
    }

  g_ptr_array_add (entries, entry);
  ps->last_name = name;
  /* Entries written in the order of their data, as writers write them, tile it as they come: then
   * check_tiling() has nothing to sort or check */
  if (ps->tiled_in_order && entry->begin == ps->covered)
    ps->covered = ps->entry_end;
  else
    ps->tiled_in_order = FALSE;
  if (*by_name != NULL && !st_name_index_insert_hashed (*by_name, name, key->len, hash, entry))
    {
      g_autofree char *shown = st_scanner_shown_name (name, key->len);

      return st_scanner_fail_at (&ps->sc, key_start, ST_ERROR_DUPLICATE_NAME, "Duplicate tensor name “%s”", shown);
    }

  return TRUE;
}

/* The top-level object. */
static StHeader *
parse_document (Parser *ps)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();
  g_autoptr(StNameIndex) by_name = NULL;  /* made when a name comes out of order: see parse_tensor() */
  g_autoptr(GHashTable) metadata = NULL;
  gboolean seen_metadata = FALSE;
  guint64 data_size = 0;
  StHeader *header;

  st_scanner_skip_ws (&ps->sc);
  if (ps->sc.p >= ps->sc.end)
    {
      g_set_error (ps->sc.error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                   "The header is empty: it holds no JSON object (%" G_GSIZE_FORMAT " bytes of whitespace)",
                   st_scanner_offset_of (&ps->sc, ps->sc.end));
      return NULL;
    }
  if (*ps->sc.p != '{')
    {
      g_autofree char *found = st_scanner_describe_found (&ps->sc, ps->sc.p);

      st_scanner_fail_at (&ps->sc, ps->sc.p, ST_ERROR_INVALID_HEADER,
                          "The header is not a JSON object: it begins with %s", found);
      return NULL;
    }
  ps->sc.p++;

  if (!st_scanner_accept_char (&ps->sc, '}'))
    for (;;)
      {
        StJsonString key;
        const guint8 *key_start;
        gboolean closed;

        if (!st_scanner_validate_ahead (&ps->sc, VALIDATE_BLOCK))
          return NULL;

        st_scanner_skip_ws (&ps->sc);
        key_start = ps->sc.p;
        if (ps->sc.p >= ps->sc.end || *ps->sc.p != '"')
          {
            st_scanner_fail_expected (&ps->sc, "a string key");
            return NULL;
          }
        if (!st_scanner_parse_string (&ps->sc, &key))
          return NULL;

        if (st_scanner_str_equal (&key, "__metadata__", 12))
          {
            if (seen_metadata)
              {
                st_scanner_fail_at (&ps->sc, key_start, ST_ERROR_DUPLICATE_NAME, "Duplicate key “__metadata__”");
                return NULL;
              }
            seen_metadata = TRUE;
            if (!st_scanner_expect_char (&ps->sc, ':', "‘:’") || !parse_metadata (ps, &metadata))
              return NULL;
          }
        else if (!parse_tensor (ps, &key, key_start, entries, &by_name))
          return NULL;

        if (!st_scanner_next_or_close (&ps->sc, '}', &closed))
          return NULL;
        if (closed)
          break;
      }

  st_scanner_skip_ws (&ps->sc);
  if (ps->sc.p < ps->sc.end)
    {
      g_autofree char *found = st_scanner_describe_found (&ps->sc, ps->sc.p);

      st_scanner_fail_at (&ps->sc, ps->sc.p, ST_ERROR_INVALID_HEADER, "Unexpected %s after the header object", found);
      return NULL;
    }

  if (ps->tiled_in_order)
    data_size = ps->covered;
  else if (!check_tiling (entries, &data_size, ps->sc.error))
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
  ps.sc.simd = (flags & ST_HEADER_PARSE_SCALAR) == 0;
#endif
  ps.plain_entries = (flags & ST_HEADER_PARSE_GENERAL_ONLY) == 0;
  ps.tiled_in_order = TRUE;

  ps.sc.start = (const guint8 *) json;
  ps.sc.p = ps.sc.start;
  ps.sc.end = ps.sc.start + json_len;
  ps.sc.validated = ps.sc.start;
  ps.sc.scratch = g_string_new (NULL);
  st_json_keys_init (&ps.keys);
  ps.arena.next_chunk_size = CLAMP (json_len + json_len / 4 + 64, ARENA_MIN_CHUNK, ARENA_MAX_FIRST_CHUNK);
  ps.last_dtype_len = G_MAXSIZE;
  ps.sc.error = &parse_error;

  header = parse_document (&ps);

  /* The UTF-8 of the whole header is checked before any verdict, and its error comes first */
  if (!ps.sc.invalid_utf8 &&
      !st_scanner_validate_utf8 (ps.sc.validated, (gsize) (ps.sc.end - ps.sc.validated), ps.sc.simd, &invalid_at))
    {
      ps.sc.invalid_utf8 = TRUE;
      ps.sc.invalid_at = st_scanner_offset_of (&ps.sc, ps.sc.validated) + invalid_at;
    }

  if (ps.sc.invalid_utf8)
    {
      g_clear_pointer (&header, st_header_free);
      if (json[ps.sc.invalid_at] == '\0')
        g_set_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                     "The header is not valid UTF-8 at byte %" G_GSIZE_FORMAT ": a NUL byte", ps.sc.invalid_at);
      else
        g_set_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                     "The header is not valid UTF-8 at byte %" G_GSIZE_FORMAT, ps.sc.invalid_at);
    }
  else if (header == NULL)
    g_propagate_error (error, g_steal_pointer (&parse_error));
  else
    header->arena = g_steal_pointer (&ps.arena.chunks);

  g_string_free (ps.sc.scratch, TRUE);
  st_json_keys_clear (&ps.keys);
  g_free (ps.ints);
  st_arena_chunks_free (ps.arena.chunks);

  return header;
}

StHeader *
st_header_parse (const char  *json,
                 gsize        json_len,
                 GError     **error)
{
  return st_header_parse_with_flags (json, json_len, ST_HEADER_PARSE_DEFAULT, error);
}
