/* test-hostile.c: hand-made hostile inputs beyond the fixtures
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Each input must give an error in the ST_ERROR domain (with the code the rules of design.md and st-error.h
 * give; where two codes are both right, either is accepted), never a crash, an abort, a hang or a huge
 * allocation; or, for the inputs that are hostile but valid, load correctly and quickly.
 */
#include "st-test-util.h"

#include <gio/gio.h>

#define ANY_CODE (-2)

/* The start of a header, printable on one TAP line. */
static char *
label_for (const char *header)
{
  g_autofree char *start = g_strndup (header, 100);
  g_autofree char *escaped = g_strescape (start, NULL);

  return strlen (header) > 100 ? g_strdup_printf ("%s... (%" G_GSIZE_FORMAT " bytes)", escaped, strlen (header))
                               : g_steal_pointer (&escaped);
}

/* Loads @bytes from bytes and from a stream; both must fail with @code (or @alt_code). */
static void
expect_error_bytes (const char *label, GBytes *bytes, int code, int alt_code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_bytes (bytes, &error);
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (bytes);
  g_autoptr(STFile) file2 = NULL;

  st_test_note ("%s", label);
  g_assert_null (file);
  g_assert_nonnull (error);
  st_test_note ("  bytes: %s (code %d)", error->message, error->code);
  g_assert_cmpstr (g_quark_to_string (error->domain), ==, g_quark_to_string (ST_ERROR));
  if (code != ANY_CODE && error->code != code && error->code != alt_code)
    g_test_fail_printf ("%s: expected code %d (or %d), got %d: %s", label, code, alt_code, error->code,
                        error->message);
  g_clear_error (&error);

  file2 = st_file_new_from_stream (stream, NULL, &error);
  g_assert_null (file2);
  g_assert_nonnull (error);
  st_test_note ("  stream: %s (code %d)", error->message, error->code);
  g_assert_cmpstr (g_quark_to_string (error->domain), ==, g_quark_to_string (ST_ERROR));
}

static void
expect_error (const char *header, gsize data_len, int code, int alt_code)
{
  g_autoptr(GBytes) bytes = st_test_make_file (header, data_len);
  g_autofree char *label = label_for (header);

  expect_error_bytes (label, bytes, code, alt_code);
}

static STFile *
expect_ok (const char *header, gsize data_len)
{
  g_autoptr(GBytes) bytes = st_test_make_file (header, data_len);
  g_autoptr(GError) error = NULL;
  STFile *file = st_file_new_from_bytes (bytes, &error);
  g_autofree char *label = label_for (header);

  st_test_note ("%s", label);
  g_assert_no_error (error);
  g_assert_nonnull (file);
  return file;
}

/* ---------------------------------------------------------------------------------------------------------
 * The length prefix
 */

static void
test_hostile_length_prefix (void)
{
  const guint8 seven[7] = { 2, 0, 0, 0, 0, 0, 0 };
  g_autoptr(GBytes) b0 = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) b1 = g_bytes_new (seven, 1);
  g_autoptr(GBytes) b7 = g_bytes_new (seven, 7);
  g_autoptr(GBytes) len0 = st_test_make_file_full (0, "", 0, NULL, 0);
  g_autoptr(GBytes) len0_data = st_test_make_file_full (0, "", 0, NULL, 16);
  g_autoptr(GBytes) len_max = st_test_make_file_full (G_MAXUINT64, "{}", 2, NULL, 0);
  g_autoptr(GBytes) len_2_63 = st_test_make_file_full (G_GUINT64_CONSTANT (1) << 63, "{}", 2, NULL, 0);
  g_autoptr(GBytes) len_over = st_test_make_file_full (ST_TEST_MAX_HEADER + 1, "{}", 2, NULL, 0);
  g_autoptr(GBytes) len_wrap = st_test_make_file_full (G_MAXUINT64 - 7, "{}", 2, NULL, 0);
  g_autoptr(GBytes) past_eof = st_test_make_file_full (3, "{}", 2, NULL, 0);
  g_autoptr(GBytes) past_eof_data = st_test_make_file_full (11, "{\"a\":", 5, NULL, 5);

  expect_error_bytes ("0 bytes", b0, ST_ERROR_HEADER_TOO_SMALL, -1);
  expect_error_bytes ("1 byte", b1, ST_ERROR_HEADER_TOO_SMALL, -1);
  expect_error_bytes ("7 bytes", b7, ST_ERROR_HEADER_TOO_SMALL, -1);
  expect_error_bytes ("N = 0", len0, ST_ERROR_INVALID_HEADER, -1);
  expect_error_bytes ("N = 0 and data", len0_data, ST_ERROR_INVALID_HEADER, -1);
  expect_error_bytes ("N = 2^64-1", len_max, ST_ERROR_HEADER_TOO_LARGE, -1);
  expect_error_bytes ("N = 2^63", len_2_63, ST_ERROR_HEADER_TOO_LARGE, -1);
  expect_error_bytes ("N = 2^64-8 (8 + N wraps to 0)", len_wrap, ST_ERROR_HEADER_TOO_LARGE, -1);
  expect_error_bytes ("N = 100,000,001", len_over, ST_ERROR_HEADER_TOO_LARGE, -1);
  expect_error_bytes ("N one past EOF", past_eof, ST_ERROR_HEADER_TOO_LARGE, -1);
  expect_error_bytes ("N one past EOF, with data", past_eof_data, ST_ERROR_HEADER_TOO_LARGE, -1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Nesting
 */

static char *
nested (const char *prefix, const char *open, const char *middle, const char *close, const char *suffix,
        guint depth)
{
  GString *out = g_string_new (prefix);

  for (guint i = 0; i < depth; i++)
    g_string_append (out, open);
  g_string_append (out, middle);
  for (guint i = 0; close != NULL && i < depth; i++)
    g_string_append (out, close);
  g_string_append (out, suffix);
  return g_string_free (out, FALSE);
}

/* 100,000 levels must not exhaust the stack: rejected as an invalid header, balanced or not. */
static void
test_hostile_deep_nesting (void)
{
  const guint depth = 100000;
  const char *tensor = "\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]";
  g_autofree char *arrays = nested ("{\"a\":", "[", "", "]", "}", depth);
  g_autofree char *objects = nested ("{\"a\":", "{\"a\":", "1", "}", "}", depth);
  g_autofree char *unbalanced = nested ("{\"a\":", "[", "", NULL, "", depth);
  g_autofree char *in_metadata = nested ("{\"__metadata__\":{\"k\":", "[", "", "]", "}}", depth);
  g_autofree char *prefix = g_strdup_printf ("{%s,\"extra\":", tensor);
  g_autofree char *in_extra = nested (prefix, "[", "1", "]", "}}", depth);
  g_autofree char *in_shape = nested ("{\"t\":{\"dtype\":\"U8\",\"shape\":", "[", "1", "]",
                                      ",\"data_offsets\":[0,1]}}", depth);

  expect_error (arrays, 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error (objects, 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error (unbalanced, 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error (in_metadata, 0, ST_ERROR_INVALID_HEADER, ST_ERROR_INVALID_METADATA);
  expect_error (in_extra, 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error (in_shape, 1, ST_ERROR_INVALID_HEADER, ST_ERROR_INVALID_SHAPE);
}

/* Unknown fields of a tensor entry are ignored (as the reference does), whatever JSON they hold. */
static void
test_hostile_unknown_fields (void)
{
  g_autoptr(STFile) file = expect_ok ("{\"t\":{\"dtype\":\"U8\",\"extra\":{\"x\":[1,2.5,-3e9,{\"y\":null}],"
                                      "\"z\":true},\"shape\":[1],\"note\":\"\\u00e9\",\"data_offsets\":[0,1]}}", 1);

  g_assert_cmpuint (st_file_get_n_tensors (file), ==, 1);
  g_assert_cmpuint (st_tensor_get_n_bytes (st_file_get_tensor (file, "t")), ==, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Many tensors
 */

/* A million empty tensors, all at offset 0: valid (they tile an empty buffer), and it must load in linear
 * time. */
static void
test_hostile_million_empty (void)
{
  const guint n = 1000000;
  GString *header = g_string_new ("{");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  double elapsed;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (header, "%s\"t%u\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
                            i > 0 ? "," : "", i);
  g_string_append_c (header, '}');
  bytes = st_test_make_file_full (header->len, header->str, header->len, NULL, 0);
  g_string_free (header, TRUE);

  g_test_timer_start ();
  file = st_file_new_from_bytes (bytes, &error);
  elapsed = g_test_timer_elapsed ();
  st_test_note ("a million empty tensors loaded in %.2f s", elapsed);
  g_assert_no_error (error);
  g_assert_cmpuint (st_file_get_n_tensors (file), ==, n);
  g_assert_true (st_file_contains (file, "t0"));
  g_assert_true (st_file_contains (file, "t999999"));
  g_assert_cmpuint (st_tensor_get_n_bytes (st_file_get_tensor (file, "t500000")), ==, 0);
  g_assert_cmpuint (st_file_get_data_size (file), ==, 0);
  /* Its cost is checked in instructions by tests/c/test-hostile-cost.c, not in seconds here. */
}

/* The same million, but each one 4 bytes at offset 0: every one after the first overlaps. Rejected, and
 * quickly (no quadratic overlap search). */
static void
test_hostile_million_same_offset (void)
{
  const guint n = 1000000;
  GString *header = g_string_new ("{");
  g_autoptr(GBytes) bytes = NULL;
  double elapsed;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (header, "%s\"t%u\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
                            i > 0 ? "," : "", i);
  g_string_append_c (header, '}');
  bytes = st_test_make_file_full (header->len, header->str, header->len, NULL, 4);
  g_string_free (header, TRUE);

  g_test_timer_start ();
  expect_error_bytes ("a million 4-byte tensors at offset 0", bytes, ST_ERROR_INVALID_OFFSETS, -1);
  elapsed = g_test_timer_elapsed ();
  st_test_note ("rejected in %.2f s", elapsed);
  /* Its cost is checked in instructions by tests/c/test-hostile-cost.c, not in seconds here. */
}

/* ---------------------------------------------------------------------------------------------------------
 * Strings
 */

static void
test_hostile_strings (void)
{
  /* a name with U+0000 cannot be a C string: rejected, never truncated to "a" */
  expect_error ("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_INVALID_HEADER, ST_ERROR_INVALID_NAME);
  expect_error ("{\"\\u0000\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_INVALID_HEADER, ST_ERROR_INVALID_NAME);
  expect_error ("{\"__metadata__\":{\"k\\u0000\":\"v\"}}", 0, ST_ERROR_INVALID_HEADER, ST_ERROR_INVALID_METADATA);
  expect_error ("{\"__metadata__\":{\"k\":\"v\\u0000w\"}}", 0, ST_ERROR_INVALID_HEADER, ST_ERROR_INVALID_METADATA);
  /* unescaped control characters are not JSON */
  expect_error ("{\"a\nb\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"__metadata__\":{\"k\":\"tab\there\"}}", 0, ST_ERROR_INVALID_HEADER, -1);
  /* lone surrogates have no UTF-8 form */
  expect_error ("{\"\\ud800\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"\\udc00x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"__metadata__\":{\"k\":\"\\ud83d\"}}", 0, ST_ERROR_INVALID_HEADER, ST_ERROR_INVALID_METADATA);
  /* bad escapes */
  expect_error ("{\"\\x41\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"\\u12\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"\\", 0, ST_ERROR_INVALID_HEADER, -1);
  /* UTF-8 that is not: overlong, encoded surrogate, truncated sequence, stray continuation byte */
  expect_error ("{\"\xc0\xaf\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"\xed\xa0\x80\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"\xe4\xb8\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"__metadata__\":{\"k\":\"\x80\"}}", 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"__metadata__\":{\"k\":\"\xf4\x90\x80\x80\"}}", 0, ST_ERROR_INVALID_HEADER, -1);

  /* and the escapes that are right decode right */
  {
    g_autoptr(STFile) file = expect_ok ("{\"a\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\":"
                                        "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                                        "\"__metadata__\":{\"\\u00e9\":\"\\u4e2d\\u0001\"}}", 1);

    g_assert_true (st_file_contains (file, "a\xc3\xa9\xf0\x9f\x98\x80\"\\/\b\f\n\r\t"));
    g_assert_cmpstr (st_file_get_metadata_value (file, "\xc3\xa9"), ==, "\xe4\xb8\xad\x01");
  }
}

/* A NUL byte anywhere in the header text: in a string, between tokens, as padding. */
static void
test_hostile_nul_bytes (void)
{
  const char in_string[] = "{\"a\0b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  const char between[] = "{\0\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  const char padding[] = "{}\0\0\0\0\0\0";
  const struct { const char *label; const char *text; gsize len; gsize data; } cases[] = {
    { "NUL in a name", in_string, sizeof in_string - 1, 1 },
    { "NUL between tokens", between, sizeof between - 1, 1 },
    { "NUL padding", padding, sizeof padding - 1, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = st_test_make_file_full (cases[i].len, cases[i].text, cases[i].len, NULL,
                                                        cases[i].data);
      expect_error_bytes (cases[i].label, bytes, ST_ERROR_INVALID_HEADER, -1);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Strict JSON
 */

static void
test_hostile_not_json (void)
{
  const char *bad[] = {
    "{'t':{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
    "{t:{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
    "{\"t\":{\"dtype\":\"U8\",\"shape\":[1,],\"data_offsets\":[0,1]}}",
    "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],}}",
    "{\"t\":{\"dtype\":\"U8\" \"shape\":[1],\"data_offsets\":[0,1]}}",
    "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}}",
    "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}",
    "{\"t\" {\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
    "{\"t\"::{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
    "{,\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
    "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}} // c",
    "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}#",
    "{\"x\":tru}",
    "{\"x\":nul}",
    "{\"x\":NaN}",
    "{\"x\":Infinity}",
    "{\"x\":-}",
    "{\"x\":01}",
    "{\"x\":1.}",
    "{\"x\":.5}",
    "{\"x\":+1}",
    "{\"x\":0x10}",
    "{\"x\":1e}",
    "{\"x\":[1 2]}",
    "{\"x\":\"unterminated}",
    "{}{}",
    "\"just a string\"",
    "42",
    "null",
    "[{\"t\":{}}]",
    "{\"x\":\"a\"\"b\"}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    expect_error (bad[i], 0, ST_ERROR_INVALID_HEADER, -1);

  /* things a lenient parser would take for an entry */
  expect_error ("{\"t\":1}", 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"t\":null}", 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"t\":[]}", 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"t\":\"U8\"}", 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"t\":{}}", 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"t\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_HEADER, -1);

  /* whitespace (and only JSON whitespace) around the object is fine */
  {
    g_autoptr(STFile) file = expect_ok (" \t\r\n{ \"t\" : { \"dtype\" : \"U8\" , \"shape\" : [ 1 ] , "
                                        "\"data_offsets\" : [ 0 , 1 ] } } \n\t\r ", 1);
    g_assert_cmpuint (st_file_get_n_tensors (file), ==, 1);
  }
  expect_error ("\x0b{}", 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{}\x0c", 0, ST_ERROR_INVALID_HEADER, -1);
  expect_error ("{}\xc2\xa0", 0, ST_ERROR_INVALID_HEADER, -1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Types and numbers
 */

static void
test_hostile_dtype (void)
{
  expect_error ("{\"t\":{\"dtype\":\"u8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_DTYPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_DTYPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\\u0000\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_INVALID_DTYPE, ST_ERROR_INVALID_HEADER);
  expect_error ("{\"t\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_INVALID_DTYPE, ST_ERROR_INVALID_HEADER);
  expect_error ("{\"t\":{\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_INVALID_DTYPE, ST_ERROR_INVALID_HEADER);
  expect_error ("{\"t\":{\"dtype\":[\"U8\"],\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_INVALID_DTYPE, ST_ERROR_INVALID_HEADER);
}

static void
test_hostile_shapes (void)
{
  /* products past 64 bits */
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,1]}}",
                1, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}",
                8, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[65536,65536,65536,65536,65536],\"data_offsets\":[0,1]}}",
                1, ST_ERROR_INVALID_SHAPE, -1);
  /* entries past 64 bits, or past gint64 (STTensor shapes are gint64: 2^63 cannot be represented) */
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616],\"data_offsets\":[0,1]}}",
                1, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999999999999],\"data_offsets\":[0,1]}}",
                1, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[0,9223372036854775808],\"data_offsets\":[0,0]}}",
                0, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[0,18446744073709551615],\"data_offsets\":[0,0]}}",
                0, ST_ERROR_INVALID_SHAPE, -1);
  /* not integers */
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1e0],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[true],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[null],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[[1]],\"data_offsets\":[0,1]}}", 1, ST_ERROR_INVALID_SHAPE, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":1,\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_INVALID_SHAPE, ST_ERROR_INVALID_HEADER);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":{},\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_INVALID_SHAPE, ST_ERROR_INVALID_HEADER);

  /* the largest shape entry that fits, in an empty tensor, is fine */
  {
    g_autoptr(STFile) file = expect_ok ("{\"t\":{\"dtype\":\"U8\",\"shape\":[9223372036854775807,0],"
                                        "\"data_offsets\":[0,0]}}", 0);
    guint n_dims = 0;
    const gint64 *shape = st_tensor_get_shape (st_file_get_tensor (file, "t"), &n_dims);

    g_assert_cmpuint (n_dims, ==, 2);
    g_assert_cmpint (shape[0], ==, G_MAXINT64);
  }
  /* rank 0 */
  {
    g_autoptr(STFile) file = expect_ok ("{\"t\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4);
    g_assert_cmpuint (st_tensor_get_n_dims (st_file_get_tensor (file, "t")), ==, 0);
  }
  /* a sub-byte scalar does not fill a byte */
  expect_error ("{\"t\":{\"dtype\":\"F4\",\"shape\":[],\"data_offsets\":[0,1]}}", 1, ST_ERROR_MISALIGNED_SUB_BYTE, -1);
}

static void
test_hostile_offsets (void)
{
  /* past the end of the data */
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}", 4, ST_ERROR_INCOMPLETE_BUFFER, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}", 0, ST_ERROR_INCOMPLETE_BUFFER, -1);
  /* u64 max */
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[18446744073709551615,18446744073709551615]}}",
                0, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551615,0]}}",
                1, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}",
                1, ST_ERROR_INVALID_OFFSETS, -1);
  /* the begin+size check must not wrap: a 2^64-1 byte tensor "ending" at 0 */
  expect_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                "\"b\":{\"dtype\":\"U8\",\"shape\":[18446744073709551615],\"data_offsets\":[1,0]}}",
                1, ST_ERROR_INVALID_OFFSETS, ST_ERROR_INVALID_SHAPE);
  /* past 64 bits, negative, not integers, not two */
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,18446744073709551616]}}",
                1, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1.0]}}", 1, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[]}}", 1, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[\"0\",\"1\"]}}", 1,
                ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":{\"begin\":0,\"end\":1}}}", 1,
                ST_ERROR_INVALID_OFFSETS, ST_ERROR_INVALID_HEADER);
  /* a first tensor that does not start at 0 (a hole at the start) */
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, ST_ERROR_INVALID_OFFSETS, -1);
  /* an empty tensor in the middle of another one */
  expect_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                "\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}", 4, ST_ERROR_INVALID_OFFSETS, -1);
  /* entries in the order of their data: a hole or an overlap after the first, a gap before the last */
  expect_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[3,5]}}", 5, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3, ST_ERROR_INVALID_OFFSETS, -1);
  expect_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]},"
                "\"c\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[5,6]}}", 6, ST_ERROR_INVALID_OFFSETS, -1);
  /* entries out of the order of their data that tile it are fine, in the order of their data */
  {
    g_autoptr(STFile) file = expect_ok ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[3,4]},"
                                        "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}", 4);
    g_auto(GStrv) names = st_file_dup_names_in_file_order (file);
    guint64 begin = 0, end = 0;

    g_assert_cmpstr (names[0], ==, "b");
    g_assert_cmpstr (names[1], ==, "a");
    g_assert_true (st_file_get_tensor_offsets (file, "a", &begin, &end));
    g_assert_cmpuint (begin, ==, 3);
    g_assert_cmpuint (end, ==, 4);
  }
  /* empty tensors between others, at the boundary, are fine */
  {
    g_autoptr(STFile) file = expect_ok ("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                                        "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                                        "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]},"
                                        "\"z\":{\"dtype\":\"U8\",\"shape\":[0,3],\"data_offsets\":[6,6]}}", 6);
    g_assert_cmpuint (st_file_get_n_tensors (file), ==, 4);
  }
}

static void
test_hostile_metadata (void)
{
  expect_error ("{\"__metadata__\":\"x\"}", 0, ST_ERROR_INVALID_METADATA, -1);
  expect_error ("{\"__metadata__\":[]}", 0, ST_ERROR_INVALID_METADATA, -1);
  expect_error ("{\"__metadata__\":1}", 0, ST_ERROR_INVALID_METADATA, -1);
  expect_error ("{\"__metadata__\":{\"k\":null}}", 0, ST_ERROR_INVALID_METADATA, -1);
  expect_error ("{\"__metadata__\":{\"k\":[\"v\"]}}", 0, ST_ERROR_INVALID_METADATA, -1);
  expect_error ("{\"__metadata__\":{\"k\":{\"a\":\"b\"}}}", 0, ST_ERROR_INVALID_METADATA, -1);
  expect_error ("{\"__metadata__\":{\"k\":true}}", 0, ST_ERROR_INVALID_METADATA, -1);
  expect_error ("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, ST_ERROR_DUPLICATE_NAME, -1);
  expect_error ("{\"__metadata__\":null,\"__metadata__\":null}", 0, ST_ERROR_DUPLICATE_NAME, -1);

  /* null counts as absent */
  {
    g_autoptr(STFile) file = expect_ok ("{\"__metadata__\":null}", 0);
    g_assert_false (st_file_has_metadata (file));
  }
  /* __metadata__ need not come first */
  {
    g_autoptr(STFile) file = expect_ok ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                                        "\"__metadata__\":{\"k\":\"v\"}}", 1);
    g_assert_cmpstr (st_file_get_metadata_value (file, "k"), ==, "v");
    g_assert_false (st_file_contains (file, "__metadata__"));
  }
}

/* Duplicate keys anywhere: tensor names, entry fields, keys of unknown objects. */
static void
test_hostile_duplicates (void)
{
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_DUPLICATE_NAME, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"data_offsets\":[0,1]}}", 1,
                ST_ERROR_DUPLICATE_NAME, -1);
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":{\"k\":1,\"k\":2}}}", 1,
                ST_ERROR_DUPLICATE_NAME, -1);
  /* the same name spelled two ways is the same name */
  expect_error ("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                "\"\\u0074\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, ST_ERROR_DUPLICATE_NAME, -1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Size
 */

/* 100 MB of spaces (the largest header allowed): not an object, and found out fast. Then the same spaces
 * followed by an object: whitespace around the object is allowed, so that one is valid. */
static void
test_hostile_100mb_spaces (void)
{
  const gsize n = (gsize) ST_TEST_MAX_HEADER;
  g_autofree char *spaces = g_malloc (n);
  g_autoptr(GBytes) bytes = NULL;
  double elapsed;

  memset (spaces, ' ', n);
  bytes = st_test_make_file_full (n, spaces, n, NULL, 0);
  g_test_timer_start ();
  expect_error_bytes ("100 MB of spaces", bytes, ST_ERROR_INVALID_HEADER, -1);
  elapsed = g_test_timer_elapsed ();
  st_test_note ("rejected in %.2f s", elapsed);
  /* Its cost is checked in instructions by tests/c/test-hostile-cost.c, not in seconds here. */
  g_clear_pointer (&bytes, g_bytes_unref);

  spaces[n - 2] = '{';
  spaces[n - 1] = '}';
  bytes = st_test_make_file_full (n, spaces, n, NULL, 0);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(STFile) file = st_file_new_from_bytes (bytes, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (st_file_get_n_tensors (file), ==, 0);
  }
}

/* A header that is mostly one huge escaped string: valid, decoded exactly. */
static void
test_hostile_huge_string (void)
{
  const gsize n = 20 * 1000 * 1000;
  GString *header = g_string_sized_new (n + 64);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  g_string_append (header, "{\"__metadata__\":{\"k\":\"");
  for (gsize i = 0; i < n / 6; i++)
    g_string_append (header, "\\u00e9");
  g_string_append (header, "\"}}");
  bytes = st_test_make_file_full (header->len, header->str, header->len, NULL, 0);
  g_string_free (header, TRUE);
  file = st_file_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (st_file_get_metadata_value (file, "k")), ==, (n / 6) * 2);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hostile/length-prefix", test_hostile_length_prefix);
  g_test_add_func ("/hostile/deep-nesting", test_hostile_deep_nesting);
  g_test_add_func ("/hostile/unknown-fields", test_hostile_unknown_fields);
  g_test_add_func ("/hostile/million-empty-tensors", test_hostile_million_empty);
  g_test_add_func ("/hostile/million-same-offset", test_hostile_million_same_offset);
  g_test_add_func ("/hostile/strings", test_hostile_strings);
  g_test_add_func ("/hostile/nul-bytes", test_hostile_nul_bytes);
  g_test_add_func ("/hostile/not-json", test_hostile_not_json);
  g_test_add_func ("/hostile/dtype", test_hostile_dtype);
  g_test_add_func ("/hostile/shapes", test_hostile_shapes);
  g_test_add_func ("/hostile/offsets", test_hostile_offsets);
  g_test_add_func ("/hostile/metadata", test_hostile_metadata);
  g_test_add_func ("/hostile/duplicates", test_hostile_duplicates);
  g_test_add_func ("/hostile/100mb-spaces", test_hostile_100mb_spaces);
  g_test_add_func ("/hostile/huge-string", test_hostile_huge_string);

  return g_test_run ();
}
