/* test-convert.c: st_tensor_dup_values_as_double/_float for every dtype, edge values included
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The inputs are written as little-endian bytes by hand, so the expectations hold on any host.
 */
#include <float.h>
#include <math.h>

#include <gio/gio.h>

#include "st-test-util.h"

static STTensor *
tensor_from_bytes (STDType       dtype,
                   const guint8 *bytes,
                   gsize         n_bytes,
                   gint64        n_elements)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = g_bytes_new (bytes, n_bytes);
  STTensor *tensor = st_tensor_new (dtype, &n_elements, 1, data, &error);

  g_assert_no_error (error);
  return tensor;
}

/* Same value, bit for bit in meaning: NaN matches NaN, and -0 only -0. */
static void
assert_same_double (double got,
                    double expected,
                    guint  i)
{
  if (isnan (expected))
    {
      if (!isnan (got))
        g_error ("element %u: expected NaN, got %a", i, got);
      return;
    }
  if (got != expected || signbit (got) != signbit (expected))
    g_error ("element %u: expected %a, got %a", i, expected, got);
}

static void
assert_same_float (float got,
                   float expected,
                   guint i)
{
  if (isnan (expected))
    {
      if (!isnan (got))
        g_error ("element %u: expected NaN, got %a", i, (double) got);
      return;
    }
  if (got != expected || signbit (got) != signbit (expected))
    g_error ("element %u: expected %a, got %a", i, (double) expected, (double) got);
}

/* Checks both conversions of @tensor against @expected (the doubles; the floats are expected to be
 * the same values, which holds for every case but the wide ones tested on their own). */
static void
check_values (STTensor     *tensor,
              const double *expected,
              gsize         n_expected)
{
  g_autoptr(GError) error = NULL;
  gsize n = 0;
  g_autofree double *doubles = st_tensor_dup_values_as_double (tensor, 0, G_MAXUINT64, &n, &error);
  g_autofree float *floats = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (doubles);
  g_assert_cmpuint (n, ==, n_expected);
  for (guint i = 0; i < n; i++)
    assert_same_double (doubles[i], expected[i], i);

  floats = st_tensor_dup_values_as_float (tensor, 0, G_MAXUINT64, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, n_expected);
  for (guint i = 0; i < n; i++)
    assert_same_float (floats[i], (float) expected[i], i);
}

#define CHECK(dtype, bytes, n_elements, ...)                                              \
  G_STMT_START {                                                                           \
    static const guint8 input[] = bytes;                                                   \
    static const double expected[] = { __VA_ARGS__ };                                      \
    g_autoptr(STTensor) tensor = tensor_from_bytes (dtype, input, sizeof input, n_elements); \
    G_STATIC_ASSERT (G_N_ELEMENTS (expected) == n_elements);                               \
    check_values (tensor, expected, G_N_ELEMENTS (expected));                              \
  } G_STMT_END

#define B(...) { __VA_ARGS__ }

static void
test_convert_integers (void)
{
  CHECK (ST_DTYPE_BOOL, B (0, 1, 2, 0xff), 4, 0, 1, 1, 1);
  CHECK (ST_DTYPE_U8, B (0, 1, 0x7f, 0xff), 4, 0, 1, 127, 255);
  CHECK (ST_DTYPE_I8, B (0, 1, 0x7f, 0x80, 0xff), 5, 0, 1, 127, -128, -1);
  CHECK (ST_DTYPE_I16, B (0x34, 0x12, 0x00, 0x80, 0xff, 0x7f, 0xff, 0xff), 4, 0x1234, -32768, 32767, -1);
  CHECK (ST_DTYPE_U16, B (0x34, 0x12, 0x00, 0x80, 0xff, 0xff), 3, 0x1234, 32768, 65535);
  CHECK (ST_DTYPE_I32, B (0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff), 3,
         0x12345678, -2147483648.0, -1);
  CHECK (ST_DTYPE_U32, B (0x00, 0x00, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff), 2, 0xff0000, 4294967295.0);
  CHECK (ST_DTYPE_I64, B (0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00), 3,
         -9223372036854775808.0, -1, 9007199254740992.0);
  CHECK (ST_DTYPE_U64, B (0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
                          0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00), 2,
         9223372036854775808.0, 1);
}

static void
test_convert_f16_bf16 (void)
{
  /* 1, -2, 65504 (max), 2^-14 (min normal), 2^-24 (min subnormal), 0x03ff (max subnormal),
   * -0, inf, -inf, NaN */
  CHECK (ST_DTYPE_F16, B (0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x00, 0x04, 0x01, 0x00, 0xff, 0x03,
                          0x00, 0x80, 0x00, 0x7c, 0x00, 0xfc, 0x01, 0x7e), 10,
         1, -2, 65504, 0x1p-14, 0x1p-24, 0x3ffp-24, -0.0, INFINITY, -INFINITY, NAN);
  /* 1, -0.5, max (0x7f7f), min subnormal (0x0001), -0, inf, NaN, 3.140625 (0x4049) */
  CHECK (ST_DTYPE_BF16, B (0x80, 0x3f, 0x00, 0xbf, 0x7f, 0x7f, 0x01, 0x00, 0x00, 0x80,
                           0x80, 0x7f, 0xc0, 0x7f, 0x49, 0x40), 8,
         1, -0.5, 0x1.fep127, 0x1p-133, -0.0, INFINITY, NAN, 3.140625);
}

static void
test_convert_f32_f64 (void)
{
  /* 1, min subnormal, max, -0, -inf, NaN */
  CHECK (ST_DTYPE_F32, B (0x00, 0x00, 0x80, 0x3f, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0x7f, 0x7f,
                          0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0xff, 0x00, 0x00, 0xc0, 0x7f), 6,
         1, 0x1p-149, FLT_MAX, -0.0, -INFINITY, NAN);

  /* F64 is checked as doubles only: its floats are rounded (test_convert_float_rounding). */
  static const guint8 input[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,   /* 1 */
                                  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   /* min subnormal */
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f,   /* max */
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80 }; /* -0 */
  static const double expected[] = { 1, 0x1p-1074, DBL_MAX, -0.0 };
  g_autoptr(STTensor) tensor = tensor_from_bytes (ST_DTYPE_F64, input, sizeof input, 4);
  g_autoptr(GError) error = NULL;
  gsize n = 0;
  g_autofree double *values = st_tensor_dup_values_as_double (tensor, 0, G_MAXUINT64, &n, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 4);
  for (guint i = 0; i < n; i++)
    assert_same_double (values[i], expected[i], i);
}

static void
test_convert_f8 (void)
{
  /* E4M3 (fn): 1 = 0.0111.000, max 448 = 0.1111.110, min subnormal 2^-9, -0, NaN (0x7f and 0xff), 0.1111.000 = 256 */
  CHECK (ST_DTYPE_F8_E4M3, B (0x38, 0x7e, 0x01, 0x80, 0x7f, 0xff, 0x78, 0xb8), 8,
         1, 448, 0x1p-9, -0.0, NAN, NAN, 256, -1);
  /* E5M2: 1 = 0.01111.00, max 57344 = 0.11110.11, min subnormal 2^-16, -0, inf, -inf, NaN */
  CHECK (ST_DTYPE_F8_E5M2, B (0x3c, 0x7b, 0x01, 0x80, 0x7c, 0xfc, 0x7d), 7,
         1, 57344, 0x1p-16, -0.0, INFINITY, -INFINITY, NAN);
  /* E4M3FNUZ: bias 8: 1 = 0.1000.000, max 240 = 0x7f, min subnormal 2^-10, 0x80 is NaN, 0xff is -240 */
  CHECK (ST_DTYPE_F8_E4M3FNUZ, B (0x40, 0x7f, 0x01, 0x80, 0xff, 0x00), 6,
         1, 240, 0x1p-10, NAN, -240, 0);
  /* E5M2FNUZ: bias 16: 1 = 0.10000.00, max 57344 = 0x7f, min subnormal 2^-17, 0x80 NaN, 0xfc = -32768 */
  CHECK (ST_DTYPE_F8_E5M2FNUZ, B (0x40, 0x7f, 0x01, 0x80, 0xfc), 5,
         1, 57344, 0x1p-17, NAN, -32768);
  /* E8M0: 2^(e-127): 127 is 1, 0 is 2^-127, 254 is 2^127, 255 is NaN */
  CHECK (ST_DTYPE_F8_E8M0, B (0x7f, 0x00, 0xfe, 0xff, 0x80), 5,
         1, 0x1p-127, 0x1p127, NAN, 2);
}

static void
test_convert_f4 (void)
{
  /* Sixteen values, two per byte, the first in the low nibble: 0..7 then 8..15 (their negatives). */
  CHECK (ST_DTYPE_F4, B (0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe), 16,
         0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6);

  /* An odd start reads the high nibble. */
  static const guint8 input[] = { 0x21, 0x73 };
  g_autoptr(STTensor) tensor = tensor_from_bytes (ST_DTYPE_F4, input, sizeof input, 4);
  g_autoptr(GError) error = NULL;
  gsize n = 0;
  g_autofree double *values = st_tensor_dup_values_as_double (tensor, 1, 2, &n, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  assert_same_double (values[0], 1, 0);
  assert_same_double (values[1], 1.5, 1);
}

static void
test_convert_float_rounding (void)
{
  g_autoptr(GError) error = NULL;
  gsize n = 0;

  /* I32: 2^24 + 1 is a tie between 2^24 and 2^24 + 2: to even, 2^24; 2^24 + 3 rounds up to 2^24 + 4. */
  static const guint8 i32[] = { 0x01, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x01 };
  g_autoptr(STTensor) t32 = tensor_from_bytes (ST_DTYPE_I32, i32, sizeof i32, 2);
  g_autofree float *f32 = st_tensor_dup_values_as_float (t32, 0, 2, &n, &error);
  g_assert_no_error (error);
  assert_same_float (f32[0], 16777216.0f, 0);
  assert_same_float (f32[1], 16777220.0f, 1);

  /* I64 2^60 + 2^36 + 1: through a double it would round to 2^60 + 2^36 (a tie for the float, to
   * even: 2^60); straight to float it is just above the tie: 2^60 + 2^37. */
  static const guint8 i64[] = { 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x10 };
  g_autoptr(STTensor) t64 = tensor_from_bytes (ST_DTYPE_I64, i64, sizeof i64, 1);
  g_autofree float *f64 = st_tensor_dup_values_as_float (t64, 0, 1, &n, &error);
  g_assert_no_error (error);
  assert_same_float (f64[0], 0x1.000002p60f, 0);

  /* The extremes: U64 max rounds up to 2^64, I64 min is -2^63 exactly. */
  static const guint8 u64max[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  static const guint8 i64min[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80 };
  g_autoptr(STTensor) tu = tensor_from_bytes (ST_DTYPE_U64, u64max, 8, 1);
  g_autoptr(STTensor) ti = tensor_from_bytes (ST_DTYPE_I64, i64min, 8, 1);
  g_autofree float *fu = st_tensor_dup_values_as_float (tu, 0, 1, &n, &error);
  g_autofree float *fi = st_tensor_dup_values_as_float (ti, 0, 1, &n, &error);
  g_assert_no_error (error);
  assert_same_float (fu[0], 0x1p64f, 0);
  assert_same_float (fi[0], -0x1p63f, 0);

  /* F64 to float: 1 + 2^-24 is a tie: to even, 1; FLT_MAX + 2^103 (half an ulp) is the tie that goes
   * to infinity; just below it, FLT_MAX; 1e300, infinity; -1e300, -infinity; NaN stays NaN. */
  double inputs[] = { 1 + 0x1p-24, 0x1.ffffffp127, 0x1.fffffefffffffp127, 1e300, -1e300, NAN, 0x1p-150 };
  float expected[] = { 1.0f, INFINITY, FLT_MAX, INFINITY, -INFINITY, NAN, 0.0f };
  guint8 bytes[sizeof inputs];
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      guint64 bits;
      memcpy (&bits, &inputs[i], sizeof bits);
      for (guint b = 0; b < 8; b++)
        bytes[8 * i + b] = (guint8) (bits >> (8 * b));
    }
  g_autoptr(STTensor) tf = tensor_from_bytes (ST_DTYPE_F64, bytes, sizeof bytes, G_N_ELEMENTS (inputs));
  g_autofree float *ff = st_tensor_dup_values_as_float (tf, 0, G_MAXUINT64, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (inputs));
  for (guint i = 0; i < n; i++)
    assert_same_float (ff[i], expected[i], i);
}

static void
test_convert_range (void)
{
  static const guint8 input[] = { 1, 2, 3, 4, 5 };
  g_autoptr(STTensor) tensor = tensor_from_bytes (ST_DTYPE_U8, input, sizeof input, 5);
  g_autoptr(GError) error = NULL;
  gsize n = 99;
  g_autofree double *middle = st_tensor_dup_values_as_double (tensor, 1, 3, &n, &error);
  g_autofree double *tail = NULL;
  g_autofree double *none = NULL;
  g_autofree double *past = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpfloat (middle[0], ==, 2);
  g_assert_cmpfloat (middle[2], ==, 4);

  /* A count past the end is cut at the end. */
  tail = st_tensor_dup_values_as_double (tensor, 3, 100, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpfloat (tail[1], ==, 5);

  /* At the end: no values, and not NULL. */
  none = st_tensor_dup_values_as_double (tensor, 5, 10, &n, &error);
  g_assert_no_error (error);
  g_assert_nonnull (none);
  g_assert_cmpuint (n, ==, 0);

  past = st_tensor_dup_values_as_double (tensor, 6, 1, &n, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (past);
  g_assert_cmpuint (n, ==, 0);
}

static void
test_convert_unsupported (void)
{
  static const guint8 three[] = { 0, 0, 0 };
  static const guint8 eight[] = { 0, 0, 0, 0, 0, 0, 0, 0 };
  const struct { STDType dtype; const guint8 *bytes; gsize n_bytes; gint64 n; } cases[] = {
    { ST_DTYPE_F6_E2M3, three, 3, 4 },
    { ST_DTYPE_F6_E3M2, three, 3, 4 },
    { ST_DTYPE_C64, eight, 8, 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(STTensor) tensor = tensor_from_bytes (cases[i].dtype, cases[i].bytes, cases[i].n_bytes, cases[i].n);
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) float_error = NULL;
      gsize n = 99;

      g_assert_null (st_tensor_dup_values_as_double (tensor, 0, 1, &n, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
      g_assert_cmpuint (n, ==, 0);
      g_assert_nonnull (strstr (error->message, st_dtype_to_string (cases[i].dtype)));
      g_assert_null (st_tensor_dup_values_as_float (tensor, 0, 1, &n, &float_error));
      g_assert_error (float_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    }
}

static void
test_convert_float_bytes (void)
{
  /* BF16 -1.5 and 2: the floats come in the host's byte order. */
  static const guint8 input[] = { 0xc0, 0xbf, 0x00, 0x40 };
  g_autoptr(STTensor) tensor = tensor_from_bytes (ST_DTYPE_BF16, input, sizeof input, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = st_tensor_dup_values_as_float_bytes (tensor, 0, G_MAXUINT64, &error);
  gsize size = 0;
  const float *values;

  g_assert_no_error (error);
  values = g_bytes_get_data (bytes, &size);
  g_assert_cmpuint (size, ==, 2 * sizeof (float));
  g_assert_cmpfloat (values[0], ==, -1.5f);
  g_assert_cmpfloat (values[1], ==, 2.0f);
}

/* Every one of the 256 bytes of each 8-bit float decodes as the specification's formula says. */
static void
test_convert_f8_exhaustive (void)
{
  const struct { STDType dtype; guint man_bits; int bias; } formats[] = {
    { ST_DTYPE_F8_E4M3, 3, 7 },
    { ST_DTYPE_F8_E5M2, 2, 15 },
    { ST_DTYPE_F8_E4M3FNUZ, 3, 8 },
    { ST_DTYPE_F8_E5M2FNUZ, 2, 16 },
  };
  guint8 all[256];

  for (guint b = 0; b < 256; b++)
    all[b] = (guint8) b;

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    {
      g_autoptr(STTensor) tensor = tensor_from_bytes (formats[f].dtype, all, 256, 256);
      g_autoptr(GError) error = NULL;
      gsize n = 0;
      g_autofree double *values = st_tensor_dup_values_as_double (tensor, 0, 256, &n, &error);
      guint man_bits = formats[f].man_bits;
      guint exp_mask = (0x7fu >> man_bits);

      g_assert_no_error (error);
      for (guint b = 0; b < 256; b++)
        {
          guint exponent = (b >> man_bits) & exp_mask;
          guint mantissa = b & ((1u << man_bits) - 1);
          double expected = exponent == 0
            ? ldexp (mantissa, 1 - formats[f].bias - (int) man_bits)
            : ldexp (mantissa + (1u << man_bits), (int) exponent - formats[f].bias - (int) man_bits);
          gboolean nan;

          if (b & 0x80)
            expected = -expected;
          switch (formats[f].dtype)
            {
            case ST_DTYPE_F8_E4M3: nan = (b & 0x7f) == 0x7f; break;
            case ST_DTYPE_F8_E5M2: nan = exponent == 0x1f && mantissa != 0; break;
            default: nan = b == 0x80; break;
            }
          if (formats[f].dtype == ST_DTYPE_F8_E5M2 && exponent == 0x1f && mantissa == 0)
            expected = (b & 0x80) ? -INFINITY : INFINITY;
          assert_same_double (values[b], nan ? NAN : expected, b);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/convert/integers", test_convert_integers);
  g_test_add_func ("/convert/f16-bf16", test_convert_f16_bf16);
  g_test_add_func ("/convert/f32-f64", test_convert_f32_f64);
  g_test_add_func ("/convert/f8", test_convert_f8);
  g_test_add_func ("/convert/f8-exhaustive", test_convert_f8_exhaustive);
  g_test_add_func ("/convert/f4", test_convert_f4);
  g_test_add_func ("/convert/float-rounding", test_convert_float_rounding);
  g_test_add_func ("/convert/range", test_convert_range);
  g_test_add_func ("/convert/unsupported", test_convert_unsupported);
  g_test_add_func ("/convert/float-bytes", test_convert_float_bytes);

  return g_test_run ();
}
