/* test-endian.c: values read from a file are the numbers the file holds, on any host byte order
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * safetensors stores every value little-endian. The library hands out the bytes as they are in the file; these
 * tests decode them with explicit little-endian reads (byte by byte, so the decoding itself does not depend on
 * the host) and compare them with the numbers of tests/fixtures/valid/all_dtypes.safetensors, written here as
 * literals (computed independently with Python's struct module, format "<"). build-aux/test-s390x runs this on
 * a big-endian host (s390x under qemu-user), where reading the same bytes natively gives other numbers: the
 * test checks that too, so that it cannot pass on a host where nothing was proven.
 */
#include <string.h>

#include "st-test-util.h"

static const gint16 expect_i16[8] = { 29640, 5998, 28629, -31051, 32256, -26590, -26203, -30710 };
static const guint16 expect_u16[8] = { 35379, 36576, 27413, 50340, 45639, 47511, 32722, 31005 };
static const gint32 expect_i32[8] = {
  1231173353, 1915187974, -1010012581, -93413235, 35305542, -85538971, -524033125, -1577907555,
};
static const guint32 expect_u32[8] = {
  3340980868u, 4129599845u, 4162271347u, 3286311450u, 2513716685u, 161484297u, 3497368786u, 2399386616u,
};
static const gint64 expect_i64[8] = {
  G_GINT64_CONSTANT (-6432464009217339150), G_GINT64_CONSTANT (3290350292438840997),
  G_GINT64_CONSTANT (-5825500787289546847), G_GINT64_CONSTANT (-5763990994174446451),
  G_GINT64_CONSTANT (-4775927132118917637), G_GINT64_CONSTANT (-601077844480963821),
  G_GINT64_CONSTANT (-6786878893778429571), G_GINT64_CONSTANT (7534147867888411899),
};
static const guint64 expect_u64[8] = {
  G_GUINT64_CONSTANT (8888685836803880560), G_GUINT64_CONSTANT (12847979397485960458),
  G_GUINT64_CONSTANT (657835140049975760), G_GUINT64_CONSTANT (3193792614003264455),
  G_GUINT64_CONSTANT (7660179053549959991), G_GUINT64_CONSTANT (5983114237389749243),
  G_GUINT64_CONSTANT (1936278842056088167), G_GUINT64_CONSTANT (8826449239082645321),
};
/* exact, as hexadecimal floating-point literals */
static const float expect_f32[8] = {
  0x1.9c421ep+6f, -0x1.45405cp+18f, 0x1.0e6506p-46f, 0x1.defc22p+98f,
  0x1.88a286p-99f, -0x1.b5cc0ep+55f, 0x1.15930cp+32f, 0x1.ef1608p+98f,
};
static const double expect_f64[8] = {
  -0x1.aef314776b662p+489, 0x1.13e9b2a9b58e5p+223, 0x1.f86da362949dep+143, -0x1.0e7ce27da6d70p-714,
  0x1.83fda69ac3df1p-860, 0x1.9652a54765456p-813, -0x1.daf0ab06fa414p-160, -0x1.b2bd9b27aaa00p-69,
};

/* Little-endian reads, byte by byte: the same result on any host. */
static guint64
read_le (const guint8 *p, guint n_bytes)
{
  guint64 v = 0;

  for (guint i = n_bytes; i > 0; i--)
    v = (v << 8) | p[i - 1];
  return v;
}

static float
read_f32_le (const guint8 *p)
{
  guint32 bits = (guint32) read_le (p, 4);
  float v;

  memcpy (&v, &bits, sizeof v);
  return v;
}

static double
read_f64_le (const guint8 *p)
{
  guint64 bits = read_le (p, 8);
  double v;

  memcpy (&v, &bits, sizeof v);
  return v;
}

static STFile *
load_all_dtypes (void)
{
  g_autofree char *dir = st_test_fixtures_dir ();
  g_autofree char *path = g_build_filename (dir, "valid", "all_dtypes.safetensors", NULL);
  g_autoptr(GBytes) bytes = st_test_read_file (path);
  g_autoptr(GError) error = NULL;
  STFile *file = st_file_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  return file;
}

/* The bytes of tensor @name, which must have 8 elements of @dtype. */
static const guint8 *
tensor_bytes (STFile *file, const char *name, STDType dtype, gsize element_size)
{
  STTensor *tensor = st_file_get_tensor (file, name);
  gsize len = 0;
  const guint8 *data;

  g_assert_nonnull (tensor);
  g_assert_cmpint (st_tensor_get_dtype (tensor), ==, dtype);
  g_assert_cmpuint (st_tensor_get_n_elements (tensor), ==, 8);
  data = st_tensor_get_data (tensor, &len);
  g_assert_cmpuint (len, ==, 8 * element_size);
  return data;
}

/* The byte order the build was configured for (G_BYTE_ORDER, which every conversion of the library
 * relies on) is the one the memory of the machine running the test has; and, when the caller says
 * which byte order this run is meant to prove (ST_TEST_EXPECT_BYTE_ORDER=big or little, as
 * build-aux/test-s390x sets it), it is that one: a big-endian run that silently ran little-endian fails. */
static void
test_endian_host (void)
{
  const guint32 word = 0x01020304;
  guint8 first_byte;
  const char *expected = g_getenv ("ST_TEST_EXPECT_BYTE_ORDER");
  const char *actual;

  memcpy (&first_byte, &word, 1);
  actual = first_byte == 0x01 ? "big" : "little";
  g_test_message ("host byte order: %s-endian", actual);
  g_assert_cmpuint (first_byte, ==, G_BYTE_ORDER == G_BIG_ENDIAN ? 0x01 : 0x04);
  if (expected != NULL && *expected != '\0')
    g_assert_cmpstr (actual, ==, expected);
}

static void
test_endian_values (void)
{
  g_autoptr(STFile) file = load_all_dtypes ();
  const guint8 *d;

  d = tensor_bytes (file, "t_i16", ST_DTYPE_I16, 2);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint ((gint16) read_le (d + 2 * i, 2), ==, expect_i16[i]);
  d = tensor_bytes (file, "t_u16", ST_DTYPE_U16, 2);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpuint ((guint16) read_le (d + 2 * i, 2), ==, expect_u16[i]);
  d = tensor_bytes (file, "t_i32", ST_DTYPE_I32, 4);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint ((gint32) read_le (d + 4 * i, 4), ==, expect_i32[i]);
  d = tensor_bytes (file, "t_u32", ST_DTYPE_U32, 4);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpuint ((guint32) read_le (d + 4 * i, 4), ==, expect_u32[i]);
  d = tensor_bytes (file, "t_i64", ST_DTYPE_I64, 8);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint ((gint64) read_le (d + 8 * i, 8), ==, expect_i64[i]);
  d = tensor_bytes (file, "t_u64", ST_DTYPE_U64, 8);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpuint (read_le (d + 8 * i, 8), ==, expect_u64[i]);
  d = tensor_bytes (file, "t_f32", ST_DTYPE_F32, 4);
  for (guint i = 0; i < 8; i++)
    g_assert_true (read_f32_le (d + 4 * i) == expect_f32[i]);
  d = tensor_bytes (file, "t_f64", ST_DTYPE_F64, 8);
  for (guint i = 0; i < 8; i++)
    g_assert_true (read_f64_le (d + 8 * i) == expect_f64[i]);
}

/* GLib's conversion macros, as a user of the library would write them, agree with the byte-by-byte reads;
 * on a big-endian host a native read gives other numbers (so a swap really happened). */
static void
test_endian_glib_macros (void)
{
  g_autoptr(STFile) file = load_all_dtypes ();
  const guint8 *d = tensor_bytes (file, "t_i32", ST_DTYPE_I32, 4);
  guint n_differ = 0;

  for (guint i = 0; i < 8; i++)
    {
      gint32 native;

      memcpy (&native, d + 4 * i, sizeof native);
      g_assert_cmpint (GINT32_FROM_LE (native), ==, expect_i32[i]);
      if (native != expect_i32[i])
        n_differ++;
    }
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    g_assert_cmpuint (n_differ, ==, 8);
  else
    g_assert_cmpuint (n_differ, ==, 0);
}

/* Writing: values encoded little-endian by the caller are saved as they are, and read back as the same
 * numbers; the saved bytes are the little-endian encoding, whatever the host. */
static void
test_endian_write (void)
{
  static const gint32 values[4] = { 1, -2, 0x01020304, G_MININT32 };
  static const guint8 expect_le[16] = {
    0x01, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00, 0x80,
  };
  const gint64 shape[] = { 4 };
  guint8 encoded[16];
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(STTensor) tensor = NULL;
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(STFile) again = NULL;
  g_autoptr(GBytes) saved = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *d;
  gsize len = 0;

  for (guint i = 0; i < 4; i++)
    {
      guint32 le = GUINT32_TO_LE ((guint32) values[i]);
      memcpy (encoded + 4 * i, &le, 4);
    }
  g_assert_cmpmem (encoded, sizeof encoded, expect_le, sizeof expect_le);

  bytes = g_bytes_new (encoded, sizeof encoded);
  tensor = st_tensor_new (ST_DTYPE_I32, shape, 1, bytes, &error);
  g_assert_no_error (error);
  g_assert_true (st_file_set_tensor (file, "v", tensor, &error));
  g_assert_no_error (error);
  saved = st_file_save_to_bytes (file, &error);
  g_assert_no_error (error);

  /* the header length is little-endian too */
  d = g_bytes_get_data (saved, &len);
  g_assert_cmpuint (len, >, 8);
  g_assert_cmpuint (read_le (d, 8) + 8 + sizeof expect_le, ==, len);
  g_assert_cmpmem (d + len - sizeof expect_le, sizeof expect_le, expect_le, sizeof expect_le);

  again = st_file_new_from_bytes (saved, &error);
  g_assert_no_error (error);
  d = st_tensor_get_data (st_file_get_tensor (again, "v"), &len);
  g_assert_cmpuint (len, ==, 16);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint ((gint32) read_le (d + 4 * i, 4), ==, values[i]);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/endian/host", test_endian_host);
  g_test_add_func ("/endian/values", test_endian_values);
  g_test_add_func ("/endian/glib-macros", test_endian_glib_macros);
  g_test_add_func ("/endian/write", test_endian_write);

  return g_test_run ();
}
