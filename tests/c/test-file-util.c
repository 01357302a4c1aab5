/* test-file-util.c: helpers the STFile tests share
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "st-test-util.h"
#include "test-file-util.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <gio/gio.h>

/* ---------------------------------------------------------------------------------------------------------
 * Helpers
 */

STTensor *
make_tensor (STDType dtype, const gint64 *shape, guint n_dims, guint8 seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint64 n_bytes = 0;
  guint8 *data;
  STTensor *tensor;

  g_assert_true (st_dtype_compute_n_bytes (dtype, shape, n_dims, &n_bytes, &error));
  g_assert_no_error (error);
  data = g_malloc (n_bytes > 0 ? n_bytes : 1);
  for (guint64 i = 0; i < n_bytes; i++)
    data[i] = (guint8) (seed + i * 31);
  bytes = g_bytes_new_take (data, n_bytes);
  tensor = st_tensor_new (dtype, shape, n_dims, bytes, &error);
  g_assert_no_error (error);
  return tensor;
}

void
add_tensor (STFile *file, const char *name, STDType dtype, const gint64 *shape, guint n_dims, guint8 seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) tensor = make_tensor (dtype, shape, n_dims, seed);

  g_assert_true (st_file_set_tensor (file, name, tensor, &error));
  g_assert_no_error (error);
}

/* A small model with a bit of everything: several dtypes, a scalar, an empty tensor, metadata to escape. */
STFile *
make_sample_file (void)
{
  const gint64 s23[] = { 2, 3 };
  const gint64 s3[] = { 3 };
  const gint64 s04[] = { 0, 4 };
  const gint64 s5[] = { 5 };
  const gint64 s8[] = { 8 };
  STFile *file = st_file_new ();

  add_tensor (file, "weight", ST_DTYPE_F32, s23, 2, 1);
  add_tensor (file, "bias", ST_DTYPE_F16, s3, 1, 2);
  add_tensor (file, "step", ST_DTYPE_I64, NULL, 0, 3);
  add_tensor (file, "empty", ST_DTYPE_BF16, s04, 2, 4);
  add_tensor (file, "flags", ST_DTYPE_BOOL, s5, 1, 5);
  add_tensor (file, "packed", ST_DTYPE_F4, s8, 1, 6);
  st_file_set_metadata_value (file, "format", "pt");
  st_file_set_metadata_value (file, "note", "a \"quoted\"\nline\twith \\ and \x01 and caf\xc3\xa9");
  return file;
}

GBytes *
save_to_bytes (STFile *file)
{
  g_autoptr(GError) error = NULL;
  GBytes *bytes = st_file_save_to_bytes (file, &error);

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  return bytes;
}

STFile *
load_bytes (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  STFile *file = st_file_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (file);
  return file;
}

void
write_file (const char *path, GBytes *bytes)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

void
assert_file_contents (const char *path, GBytes *expected)
{
  g_autoptr(GBytes) contents = st_test_read_file (path);

  st_test_assert_bytes_equal (contents, expected);
}

void
assert_dir_entries (const char *dir, const char * const *expected)
{
  g_auto(GStrv) names = st_test_list_dir (dir);

  g_assert_cmpstrv (names, expected);
}

guint64
read_header_len (GBytes *bytes)
{
  guint64 n;

  g_assert_cmpuint (g_bytes_get_size (bytes), >=, 8);
  memcpy (&n, g_bytes_get_data (bytes, NULL), 8);
  return GUINT64_FROM_LE (n);
}


void
on_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncData *data = user_data;

  data->result = g_object_ref (result);
  data->thread = g_thread_self ();
  g_main_loop_quit (data->loop);
}

void
async_data_init (AsyncData *data)
{
  data->loop = g_main_loop_new (NULL, FALSE);
  data->result = NULL;
  data->thread = NULL;
}

void
async_data_wait (AsyncData *data)
{
  g_main_loop_run (data->loop);
  g_assert_nonnull (data->result);
  /* callbacks come back in the caller's main context */
  g_assert_true (data->thread == g_thread_self ());
}

void
async_data_clear (AsyncData *data)
{
  g_clear_object (&data->result);
  g_clear_pointer (&data->loop, g_main_loop_unref);
}
