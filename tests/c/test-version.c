/* test-version.c: the version macros, with ST_VERSION_MIN_REQUIRED and ST_VERSION_MAX_ALLOWED set
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Built with -DST_VERSION_MIN_REQUIRED=ST_VERSION_1_0 -DST_VERSION_MAX_ALLOWED=ST_VERSION_1_0 and
 * -Werror=deprecated-declarations: the whole public API is available in 1.0 and none of it deprecated,
 * so this file compiling is half the test.
 */
#include "st-test-util.h"

G_STATIC_ASSERT (ST_VERSION_MIN_REQUIRED == ST_VERSION_1_0);
G_STATIC_ASSERT (ST_VERSION_MAX_ALLOWED == ST_VERSION_1_0);
G_STATIC_ASSERT (ST_VERSION_1_0 == ST_ENCODE_VERSION (1, 0));
G_STATIC_ASSERT (ST_ENCODE_VERSION (1, 2) > ST_ENCODE_VERSION (1, 0));
G_STATIC_ASSERT (ST_ENCODE_VERSION (2, 0) > ST_ENCODE_VERSION (1, 99));
G_STATIC_ASSERT (ST_VERSION_CUR_STABLE >= ST_VERSION_1_0);

/* A function of the public API through each kind of declaration: a class, an enum, a plain function. */
static void
test_version_api_available (void)
{
  g_autoptr(STFile) file = st_file_new ();
  guint64 bytes = 0;

  g_assert_true (ST_IS_FILE (file));
  g_assert_cmpstr (st_dtype_to_string (ST_DTYPE_BF16), ==, "BF16");
  g_assert_true (st_parse_size ("1KiB", &bytes, NULL));
  g_assert_cmpuint (bytes, ==, 1024);
}

static void
test_version_check (void)
{
  g_assert_true (ST_CHECK_VERSION (1, 0, 0));
  g_assert_true (ST_CHECK_VERSION (ST_MAJOR_VERSION, ST_MINOR_VERSION, ST_MICRO_VERSION));
  g_assert_false (ST_CHECK_VERSION (ST_MAJOR_VERSION, ST_MINOR_VERSION, ST_MICRO_VERSION + 1));
  g_assert_false (ST_CHECK_VERSION (ST_MAJOR_VERSION + 1, 0, 0));
  g_assert_cmpstr (ST_VERSION_S, ==, PROJECT_VERSION);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/version/api-available", test_version_api_available);
  g_test_add_func ("/version/check", test_version_check);

  return g_test_run ();
}
