/* test-dtype.c: STDType names, widths and byte counts
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "st-test-util.h"

/* Every dtype has the header name Hugging Face gives it, and the name parses back to the same value. */
static void
test_dtype_names_both_ways (void)
{
  for (gsize i = 0; i < ST_TEST_N_DTYPES; i++)
    {
      g_autoptr(GError) error = NULL;
      STDType parsed = (STDType) -1;

      g_assert_cmpstr (st_dtype_to_string (st_test_dtypes[i].dtype), ==, st_test_dtypes[i].name);
      g_assert_true (st_dtype_from_string (st_test_dtypes[i].name, &parsed, &error));
      g_assert_no_error (error);
      g_assert_cmpint (parsed, ==, st_test_dtypes[i].dtype);
    }
}

/* The enumeration values follow Hugging Face's order: the writer sorts by it. */
static void
test_dtype_order (void)
{
  for (gsize i = 0; i < ST_TEST_N_DTYPES; i++)
    g_assert_cmpint (st_test_dtypes[i].dtype, ==, (int) i);
}

static void
test_dtype_gtype (void)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (st_dtype_get_type ());

  g_assert_true (G_TYPE_IS_ENUM (st_dtype_get_type ()));
  g_assert_cmpuint (klass->n_values, ==, ST_TEST_N_DTYPES);
  for (gsize i = 0; i < ST_TEST_N_DTYPES; i++)
    g_assert_nonnull (g_enum_get_value (klass, st_test_dtypes[i].dtype));

  g_assert_true (G_TYPE_IS_ENUM (st_error_get_type ()));
  g_assert_cmpuint (st_error_quark (), ==, ST_ERROR);
  g_assert_cmpuint (ST_ERROR, !=, 0);
}

static void
test_dtype_bits (void)
{
  for (gsize i = 0; i < ST_TEST_N_DTYPES; i++)
    g_assert_cmpuint (st_dtype_get_bits (st_test_dtypes[i].dtype), ==, st_test_dtypes[i].bits);
}

/* Names are exact: case, whitespace and near misses are unknown dtypes, and the message says which. */
static void
test_dtype_unknown_names (void)
{
  const char *unknown[] = {
    "F128", "f32", "", "F32 ", " F32", "F 32", "float32", "F8", "F6", "F8_E4M3FN", "BOOLEAN", "bool",
    "U128", "Q4_0", "F32\n", "\xc3\xa9", "F32\xff",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr(GError) error = NULL;
      STDType parsed = ST_DTYPE_U16;

      g_assert_false (st_dtype_from_string (unknown[i], &parsed, &error));
      st_test_assert_st_error (error, ST_ERROR_INVALID_DTYPE);
    }

  /* The message names the culprit. */
  {
    g_autoptr(GError) error = NULL;
    STDType parsed;

    g_assert_false (st_dtype_from_string ("F128", &parsed, &error));
    g_assert_nonnull (strstr (error->message, "F128"));
  }
}

static guint64
expect_n_bytes (STDType dtype, const gint64 *shape, guint n_dims)
{
  g_autoptr(GError) error = NULL;
  guint64 n_bytes = G_MAXUINT64;

  g_assert_true (st_dtype_compute_n_bytes (dtype, shape, n_dims, &n_bytes, &error));
  g_assert_no_error (error);
  return n_bytes;
}

static void
expect_n_bytes_error (STDType dtype, const gint64 *shape, guint n_dims, STError code)
{
  g_autoptr(GError) error = NULL;
  guint64 n_bytes = 12345;

  g_assert_false (st_dtype_compute_n_bytes (dtype, shape, n_dims, &n_bytes, &error));
  st_test_assert_st_error (error, code);
}

/* A scalar (rank 0) holds one element. */
static void
test_dtype_n_bytes_scalar (void)
{
  for (gsize i = 0; i < ST_TEST_N_DTYPES; i++)
    {
      if (st_test_dtypes[i].bits % 8 == 0)
        g_assert_cmpuint (expect_n_bytes (st_test_dtypes[i].dtype, NULL, 0), ==, st_test_dtypes[i].bits / 8);
      else /* one 4- or 6-bit element does not fill a byte */
        expect_n_bytes_error (st_test_dtypes[i].dtype, NULL, 0, ST_ERROR_MISALIGNED_SUB_BYTE);
    }
}

static void
test_dtype_n_bytes_plain (void)
{
  const gint64 s23[] = { 2, 3 };
  const gint64 s8[] = { 1, 2, 1, 2, 1, 2, 1, 2 };
  const gint64 s_big[] = { G_GINT64_CONSTANT (1) << 58 };

  for (gsize i = 0; i < ST_TEST_N_DTYPES; i++)
    {
      STDType dtype = st_test_dtypes[i].dtype;
      guint bits = st_test_dtypes[i].bits;
      const gint64 s16[] = { 4, 4 };

      g_assert_cmpuint (expect_n_bytes (dtype, s16, 2), ==, 16 * bits / 8);
      g_assert_cmpuint (expect_n_bytes (dtype, s8, 8), ==, 16 * bits / 8);
      if (bits % 8 == 0)
        g_assert_cmpuint (expect_n_bytes (dtype, s23, 2), ==, 6 * bits / 8);
    }

  /* Large but representable: 2^58 F32 elements are 2^63 bits, 2^60 bytes. */
  g_assert_cmpuint (expect_n_bytes (ST_DTYPE_F32, s_big, 1), ==, G_GUINT64_CONSTANT (1) << 60);
}

/* A zero anywhere makes an empty tensor of zero bytes, whatever the other dimensions are. */
static void
test_dtype_n_bytes_empty (void)
{
  const gint64 s0[] = { 0 };
  const gint64 s0_big[] = { 0, G_GINT64_CONSTANT (5000000000) };
  const gint64 s_big_0[] = { G_GINT64_CONSTANT (5000000000), 0 };
  const gint64 s3_0_7[] = { 3, 0, 7 };

  for (gsize i = 0; i < ST_TEST_N_DTYPES; i++)
    {
      STDType dtype = st_test_dtypes[i].dtype;

      g_assert_cmpuint (expect_n_bytes (dtype, s0, 1), ==, 0);
      g_assert_cmpuint (expect_n_bytes (dtype, s0_big, 2), ==, 0);
      g_assert_cmpuint (expect_n_bytes (dtype, s_big_0, 2), ==, 0);
      g_assert_cmpuint (expect_n_bytes (dtype, s3_0_7, 3), ==, 0);
    }
}

/* Element counts and bit counts that do not fit in 64 bits are invalid shapes, not wrapped numbers. */
static void
test_dtype_n_bytes_overflow (void)
{
  const gint64 two_32[] = { G_GINT64_CONSTANT (4294967296), G_GINT64_CONSTANT (4294967296) };
  const gint64 three_32[] = { G_GINT64_CONSTANT (4294967296), G_GINT64_CONSTANT (4294967296),
                              G_GINT64_CONSTANT (4294967296) };
  const gint64 max2[] = { G_MAXINT64, 2 };
  const gint64 max_max[] = { G_MAXINT64, G_MAXINT64 };
  const gint64 bits_61[] = { G_GINT64_CONSTANT (1) << 61 };
  const gint64 bits_62[] = { G_GINT64_CONSTANT (1) << 62 };
  /* wraps to exactly 2^64 == 0 in 64-bit arithmetic: a naive product would call this empty */
  const gint64 wrap_zero[] = { G_GINT64_CONSTANT (1) << 32, G_GINT64_CONSTANT (1) << 32 };
  const gint64 wrap_small[] = { G_GINT64_CONSTANT (1) << 62, 4, 1 };

  expect_n_bytes_error (ST_DTYPE_F32, two_32, 2, ST_ERROR_INVALID_SHAPE);
  expect_n_bytes_error (ST_DTYPE_U8, two_32, 2, ST_ERROR_INVALID_SHAPE);
  expect_n_bytes_error (ST_DTYPE_BOOL, three_32, 3, ST_ERROR_INVALID_SHAPE);
  expect_n_bytes_error (ST_DTYPE_U8, max2, 2, ST_ERROR_INVALID_SHAPE);
  expect_n_bytes_error (ST_DTYPE_U8, max_max, 2, ST_ERROR_INVALID_SHAPE);
  expect_n_bytes_error (ST_DTYPE_F4, wrap_zero, 2, ST_ERROR_INVALID_SHAPE);
  expect_n_bytes_error (ST_DTYPE_U8, wrap_small, 3, ST_ERROR_INVALID_SHAPE);
  /* 2^62 F32 elements fit, their 2^67 bits and 2^64 bytes do not */
  expect_n_bytes_error (ST_DTYPE_F32, bits_62, 1, ST_ERROR_INVALID_SHAPE);
  /* design.md: the bit count must fit in 64 bits too: 2^61 U8 elements are 2^64 bits */
  expect_n_bytes_error (ST_DTYPE_U8, bits_61, 1, ST_ERROR_INVALID_SHAPE);
  expect_n_bytes_error (ST_DTYPE_F64, bits_61, 1, ST_ERROR_INVALID_SHAPE);
}

static void
test_dtype_n_bytes_negative (void)
{
  const gint64 neg[] = { 2, -1 };
  const gint64 neg_zero[] = { 0, -3 };
  const gint64 min[] = { G_MININT64 };

  expect_n_bytes_error (ST_DTYPE_F32, neg, 2, ST_ERROR_INVALID_SHAPE);
  /* a zero elsewhere does not excuse a negative dimension */
  expect_n_bytes_error (ST_DTYPE_F32, neg_zero, 2, ST_ERROR_INVALID_SHAPE);
  expect_n_bytes_error (ST_DTYPE_U8, min, 1, ST_ERROR_INVALID_SHAPE);
}

/* F4 and F6 elements pack into bytes: the total bit count must be a multiple of 8. */
static void
test_dtype_n_bytes_sub_byte (void)
{
  const gint64 s1[] = { 1 };
  const gint64 s2[] = { 2 };
  const gint64 s3[] = { 3 };
  const gint64 s4[] = { 4 };
  const gint64 s5[] = { 5 };
  const gint64 s2x3[] = { 2, 3 };
  const gint64 s3x3[] = { 3, 3 };
  const gint64 s8x4[] = { 8, 4 };

  g_assert_cmpuint (expect_n_bytes (ST_DTYPE_F4, s2, 1), ==, 1);
  g_assert_cmpuint (expect_n_bytes (ST_DTYPE_F4, s2x3, 2), ==, 3);
  g_assert_cmpuint (expect_n_bytes (ST_DTYPE_F6_E2M3, s4, 1), ==, 3);
  g_assert_cmpuint (expect_n_bytes (ST_DTYPE_F6_E3M2, s8x4, 2), ==, 24);

  expect_n_bytes_error (ST_DTYPE_F4, s1, 1, ST_ERROR_MISALIGNED_SUB_BYTE);
  expect_n_bytes_error (ST_DTYPE_F4, s3, 1, ST_ERROR_MISALIGNED_SUB_BYTE);
  expect_n_bytes_error (ST_DTYPE_F4, s3x3, 2, ST_ERROR_MISALIGNED_SUB_BYTE);
  expect_n_bytes_error (ST_DTYPE_F6_E2M3, s2, 1, ST_ERROR_MISALIGNED_SUB_BYTE);
  expect_n_bytes_error (ST_DTYPE_F6_E3M2, s5, 1, ST_ERROR_MISALIGNED_SUB_BYTE);
  expect_n_bytes_error (ST_DTYPE_F6_E3M2, s2x3, 2, ST_ERROR_MISALIGNED_SUB_BYTE);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dtype/names/both-ways", test_dtype_names_both_ways);
  g_test_add_func ("/dtype/names/unknown", test_dtype_unknown_names);
  g_test_add_func ("/dtype/order", test_dtype_order);
  g_test_add_func ("/dtype/gtype", test_dtype_gtype);
  g_test_add_func ("/dtype/bits", test_dtype_bits);
  g_test_add_func ("/dtype/n-bytes/scalar", test_dtype_n_bytes_scalar);
  g_test_add_func ("/dtype/n-bytes/plain", test_dtype_n_bytes_plain);
  g_test_add_func ("/dtype/n-bytes/empty", test_dtype_n_bytes_empty);
  g_test_add_func ("/dtype/n-bytes/overflow", test_dtype_n_bytes_overflow);
  g_test_add_func ("/dtype/n-bytes/negative", test_dtype_n_bytes_negative);
  g_test_add_func ("/dtype/n-bytes/sub-byte", test_dtype_n_bytes_sub_byte);

  return g_test_run ();
}
