/* st-example-inspect.c: print what a safetensors file holds, with the first values of each tensor
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Build: cc st-example-inspect.c $(pkg-config --cflags --libs safetensors-glib-1.0)
 * Run:   ./st-example-inspect model.safetensors
 */
#include <stdlib.h>
#include <string.h>

#include <safetensors-glib/safetensors-glib.h>

#define MAX_SHOWN 4

/* safetensors stores every value little-endian: read_le assembles one from its bytes, whatever the byte
 * order of the host (on a big-endian machine, such as s390x, a plain memcpy would give other numbers). Data
 * offsets need not be aligned, so nothing is read through a cast pointer. */
static guint64
read_le (const guint8 *p,
         gsize         n_bytes)
{
  guint64 v = 0;

  for (gsize i = n_bytes; i > 0; i--)
    v = (v << 8) | p[i - 1];
  return v;
}

/* Prints up to MAX_SHOWN values of the dtypes C has a type for; the data is read in place, from
 * the mapping. */
static void
print_first_values (STTensor *tensor)
{
  gsize n_bytes;
  const guint8 *data = st_tensor_get_data (tensor, &n_bytes);
  guint64 n = MIN (st_tensor_get_n_elements (tensor), MAX_SHOWN);

  for (guint64 i = 0; i < n; i++)
    {
      const char *sep = i == 0 ? "" : ", ";

      switch (st_tensor_get_dtype (tensor))
        {
        case ST_DTYPE_F32:
          {
            guint32 bits = (guint32) read_le (data + i * 4, 4);
            float v;
            memcpy (&v, &bits, sizeof v);
            g_print ("%s%g", sep, v);
            break;
          }
        case ST_DTYPE_F64:
          {
            guint64 bits = read_le (data + i * 8, 8);
            double v;
            memcpy (&v, &bits, sizeof v);
            g_print ("%s%g", sep, v);
            break;
          }
        case ST_DTYPE_I32:
          g_print ("%s%" G_GINT32_FORMAT, sep, (gint32) read_le (data + i * 4, 4));
          break;
        case ST_DTYPE_I64:
          g_print ("%s%" G_GINT64_FORMAT, sep, (gint64) read_le (data + i * 8, 8));
          break;
        case ST_DTYPE_U8:
        case ST_DTYPE_BOOL:
          g_print ("%s%u", sep, data[i]);
          break;
        default:
          g_print ("%s(raw)", sep);
          return;
        }
    }
  if (st_tensor_get_n_elements (tensor) > MAX_SHOWN)
    g_print (", ...");
}

static int
compare_keys (gconstpointer a,
              gconstpointer b,
              gpointer      user_data G_GNUC_UNUSED)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static char *
shape_to_string (STTensor *tensor)
{
  guint n_dims;
  const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
  GString *text = g_string_new ("[");

  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (text, "%s%" G_GINT64_FORMAT, i == 0 ? "" : ", ", shape[i]);
  g_string_append_c (text, ']');
  return g_string_free (text, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(GHashTable) metadata = NULL;

  if (argc != 2)
    {
      g_printerr ("usage: %s FILE.safetensors\n", argv[0]);
      return EXIT_FAILURE;
    }

  file = st_file_new_from_path (argv[1], &error);
  if (file == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }

  g_print ("%s: %u tensors\n", argv[1], st_file_get_n_tensors (file));

  metadata = st_file_dup_metadata (file);
  if (g_hash_table_size (metadata) > 0)
    {
      g_autofree const char **keys = (const char **) g_hash_table_get_keys_as_array (metadata, NULL);

      g_qsort_with_data (keys, g_hash_table_size (metadata), sizeof (char *),
                         compare_keys, NULL);
      for (guint i = 0; keys[i] != NULL; i++)
        g_print ("  metadata %s = %s\n", keys[i], (const char *) g_hash_table_lookup (metadata, keys[i]));
    }

  names = st_file_dup_names_sorted (file);
  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *tensor = st_file_get_tensor (file, names[i]);
      g_autofree char *shape = shape_to_string (tensor);

      g_print ("  %-12s %-5s %-10s ", names[i], st_dtype_to_string (st_tensor_get_dtype (tensor)), shape);
      print_first_values (tensor);
      g_print ("\n");
    }

  return EXIT_SUCCESS;
}
