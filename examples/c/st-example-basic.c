/* st-example-basic.c: build a safetensors file, save it, load it back, read it, and reject a bad one
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Usage: st-example-basic [PATH]   (default: a file in a new temporary directory, removed at the end)
 *
 * Build: cc st-example-basic.c $(pkg-config --cflags --libs safetensors-glib-1.0)
 */
#include <safetensors-glib/safetensors-glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* safetensors stores every value little-endian, whatever machine wrote it. These helpers put a C value into
 * that form and take it out again: on a little-endian host they copy, on a big-endian one (s390x) they swap. */
static void
f32_to_le (float value, guint8 out[4])
{
  guint32 bits;

  memcpy (&bits, &value, sizeof bits);
  bits = GUINT32_TO_LE (bits);
  memcpy (out, &bits, sizeof bits);
}

static float
f32_from_le (const guint8 *in)
{
  guint32 bits;
  float value;

  memcpy (&bits, in, sizeof bits);  /* memcpy: tensor data need not be aligned */
  bits = GUINT32_FROM_LE (bits);
  memcpy (&value, &bits, sizeof value);
  return value;
}

static gint64
i64_from_le (const guint8 *in)
{
  gint64 value;

  memcpy (&value, in, sizeof value);
  return GINT64_FROM_LE (value);
}

/* A tensor from little-endian bytes: the GBytes copies them once (g_bytes_new_take would hand them over). */
static STTensor *
tensor_from_values (STDType       dtype,
                    const gint64 *shape,
                    guint         n_dims,
                    gconstpointer values,
                    gsize         n_bytes,
                    GError      **error)
{
  g_autoptr(GBytes) bytes = g_bytes_new (values, n_bytes);

  return st_tensor_new (dtype, shape, n_dims, bytes, error);
}

static gboolean
build_and_save (const char *path,
                GError    **error)
{
  const float weight[2][3] = { { 0.5f, -1.0f, 2.0f }, { 3.25f, 0.0f, -0.125f } };
  guint8 weight_le[2 * 3 * 4];
  const gint64 weight_shape[] = { 2, 3 };
  const gint64 steps = GINT64_TO_LE (1000);   /* a scalar: shape [] */
  const guint8 mask[4] = { 1, 0, 0, 1 };
  const gint64 mask_shape[] = { 4 };
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(STTensor) t_weight = NULL;
  g_autoptr(STTensor) t_steps = NULL;
  g_autoptr(STTensor) t_mask = NULL;

  for (gsize i = 0; i < 6; i++)
    f32_to_le (weight[i / 3][i % 3], weight_le + 4 * i);
  t_weight = tensor_from_values (ST_DTYPE_F32, weight_shape, 2, weight_le, sizeof weight_le, error);
  if (t_weight == NULL)
    return FALSE;
  t_steps = tensor_from_values (ST_DTYPE_I64, NULL, 0, &steps, sizeof steps, error);
  if (t_steps == NULL)
    return FALSE;
  t_mask = tensor_from_values (ST_DTYPE_BOOL, mask_shape, 1, mask, sizeof mask, error);
  if (t_mask == NULL)
    return FALSE;

  if (!st_file_set_tensor (file, "layer.weight", t_weight, error) ||
      !st_file_set_tensor (file, "optimizer.steps", t_steps, error) ||
      !st_file_set_tensor (file, "layer.mask", t_mask, error))
    return FALSE;

  st_file_set_metadata_value (file, "format", "pt");
  st_file_set_metadata_value (file, "description", "a tiny example model");

  return st_file_save_to_path (file, path, NULL, error);
}

static void
print_tensor (STFile     *file,
              const char *name)
{
  STTensor *tensor = st_file_get_tensor (file, name);
  guint n_dims;
  const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
  guint64 begin = 0, end = 0;
  g_autoptr(GString) dims = g_string_new ("[");

  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (dims, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (dims, ']');
  st_file_get_tensor_offsets (file, name, &begin, &end);

  printf ("  %-16s %-4s shape %-8s %3" G_GUINT64_FORMAT " bytes at [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ")\n",
          name, st_dtype_to_string (st_tensor_get_dtype (tensor)), dims->str,
          st_tensor_get_n_bytes (tensor), begin, end);
}

static gboolean
load_and_read (const char *path,
               GError    **error)
{
  g_autoptr(STFile) file = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(GList) keys = NULL;
  g_autoptr(GHashTable) metadata = NULL;
  STTensor *weight;
  const guint8 *values;
  gsize n_bytes;

  /* The file is mapped, not read: tensors are views of the mapping. */
  file = st_file_new_from_path (path, error);
  if (file == NULL)
    return FALSE;

  printf ("%s: %u tensors, header %" G_GUINT64_FORMAT " bytes, data %" G_GUINT64_FORMAT " bytes\n",
          path, st_file_get_n_tensors (file), st_file_get_header_size (file), st_file_get_data_size (file));

  metadata = st_file_dup_metadata (file);
  keys = g_list_sort (g_hash_table_get_keys (metadata), (GCompareFunc) g_strcmp0);
  printf ("metadata:\n");
  for (GList *l = keys; l != NULL; l = l->next)
    printf ("  %s = %s\n", (const char *) l->data, (const char *) g_hash_table_lookup (metadata, l->data));

  printf ("tensors, in the order of their data:\n");
  names = st_file_dup_names_in_file_order (file);
  for (guint i = 0; names[i] != NULL; i++)
    print_tensor (file, names[i]);

  weight = st_file_lookup_tensor (file, "layer.weight", error);
  if (weight == NULL)
    return FALSE;
  values = st_tensor_get_data (weight, &n_bytes);
  printf ("layer.weight =\n");
  for (gsize row = 0; row < 2; row++)
    printf ("  [%8.3f %8.3f %8.3f]\n", f32_from_le (values + 4 * (row * 3)),
            f32_from_le (values + 4 * (row * 3 + 1)), f32_from_le (values + 4 * (row * 3 + 2)));

  {
    const guint8 *steps = st_tensor_get_data (st_file_get_tensor (file, "optimizer.steps"), NULL);
    printf ("optimizer.steps = %" G_GINT64_FORMAT "\n", i64_from_le (steps));
  }

  return TRUE;
}

/* A file whose two tensors claim overlapping bytes: the loader must refuse it. */
static void
reject_hostile_file (void)
{
  static const char header[] =
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint64 n = GUINT64_TO_LE (sizeof header - 1);
  guint8 zeros[12] = { 0 };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(GError) error = NULL;

  g_byte_array_append (data, (const guint8 *) &n, 8);
  g_byte_array_append (data, (const guint8 *) header, sizeof header - 1);
  g_byte_array_append (data, zeros, sizeof zeros);
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&data));

  file = st_file_new_from_bytes (bytes, &error);
  if (g_error_matches (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS))
    printf ("a hostile file is rejected: %s\n", error->message);
  else
    {
      fprintf (stderr, "the hostile file was not rejected as expected\n");
      exit (EXIT_FAILURE);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmpdir = NULL;
  g_autofree char *path = NULL;

  if (argc > 1)
    path = g_strdup (argv[1]);
  else
    {
      tmpdir = g_dir_make_tmp ("st-example-XXXXXX", &error);
      if (tmpdir == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return EXIT_FAILURE;
        }
      path = g_build_filename (tmpdir, "model.safetensors", NULL);
    }

  if (!build_and_save (path, &error) || !load_and_read (path, &error))
    {
      fprintf (stderr, "error: %s\n", error->message);
      return EXIT_FAILURE;
    }
  reject_hostile_file ();

  if (tmpdir != NULL)
    {
      g_unlink (path);
      g_rmdir (tmpdir);
    }
  return EXIT_SUCCESS;
}
