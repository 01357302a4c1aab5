/* test-roundtrip.c: seeded random round trips
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Random files (all 22 dtypes, ranks 0 to 8, empty tensors, names and metadata full of escapes and
 * non-ASCII) saved to bytes must: equal the bytes of the independent reference writer in st-test-util.h,
 * load back to the same tensors and metadata, and save again to the same bytes.
 *
 * The random seed is printed at the top of the TAP output ("# random seed: ..."); run the binary with
 * --seed=THAT to replay a failure.
 */
#include "st-test-util.h"

/* Pieces of names and metadata: plain, punctuation, JSON escapes, control characters, 2-, 3- and 4-byte
 * UTF-8, and the characters serde_json leaves raw (DEL, U+2028). */
static const char *pieces[] = {
  "a", "b", "z", "A", "Z", "0", "9", "_", ".", "-", " ", "layer", "weight", "bias", "__meta", "metadata",
  "\"", "\\", "/", "\n", "\t", "\r", "\b", "\f", "\x01", "\x1f", "\x7f", "{", "}", "[", "]", ":", ",",
  "\xc3\xa9", "\xc3\x9f", "\xe4\xb8\xad", "\xe2\x80\xa8", "\xef\xbf\xbd", "\xf0\x9f\x98\x80",
  "\\u0000", "\\n",
};

static char *
random_string (guint max_pieces, gboolean allow_empty)
{
  GString *out = g_string_new (NULL);
  guint n = (guint) g_test_rand_int_range (allow_empty ? 0 : 1, (gint32) max_pieces + 1);

  for (guint i = 0; i < n; i++)
    g_string_append (out, pieces[g_test_rand_int_range (0, G_N_ELEMENTS (pieces))]);
  g_assert_true (g_utf8_validate (out->str, -1, NULL));
  return g_string_free (out, FALSE);
}

/* A random tensor of @dtype whose shape has at most @max_elements elements and fills whole bytes. */
static STTensor *
random_tensor (STDType dtype, guint rank, guint max_elements)
{
  /* one 4- or 6-bit element never fills a byte: sub-byte tensors have at least one dimension */
  if (rank == 0 && st_dtype_get_bits (dtype) % 8 != 0)
    rank = 1;

  for (;;)
    {
      g_autofree gint64 *shape = g_new0 (gint64, MAX (rank, 1));
      g_autoptr(GError) error = NULL;
      guint64 n_elements = 1, n_bytes = 0;
      guint8 *data;
      g_autoptr(GBytes) bytes = NULL;
      STTensor *tensor;

      for (guint d = 0; d < rank; d++)
        {
          /* one dimension in ten is 0: empty tensors */
          shape[d] = g_test_rand_int_range (0, 10) == 0 ? 0 : g_test_rand_int_range (1, 6);
          n_elements *= (guint64) shape[d];
        }
      if (n_elements > max_elements)
        continue;
      if (!st_dtype_compute_n_bytes (dtype, shape, rank, &n_bytes, &error))
        {
          /* sub-byte dtypes need a bit count that is a multiple of 8: draw again */
          g_assert_error (error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE);
          continue;
        }

      data = g_malloc (n_bytes > 0 ? n_bytes : 1);
      for (guint64 i = 0; i < n_bytes; i++)
        data[i] = (guint8) g_test_rand_int ();
      bytes = g_bytes_new_take (data, n_bytes);
      tensor = st_tensor_new (dtype, shape, rank, bytes, &error);
      g_assert_no_error (error);
      return tensor;
    }
}

static STFile *
random_file (void)
{
  STFile *file = st_file_new ();
  guint n_tensors = (guint) g_test_rand_int_range (0, 13);
  gint metadata_kind = g_test_rand_int_range (0, 4);

  for (guint i = 0; i < n_tensors; i++)
    {
      g_autofree char *name = random_string (6, g_test_rand_int_range (0, 20) == 0);
      STDType dtype = st_test_dtypes[g_test_rand_int_range (0, ST_TEST_N_DTYPES)].dtype;
      g_autoptr(STTensor) tensor = NULL;
      g_autoptr(GError) error = NULL;

      if (st_file_contains (file, name) || g_str_equal (name, "__metadata__"))
        continue;
      tensor = random_tensor (dtype, (guint) g_test_rand_int_range (0, 9), 2048);
      g_assert_true (st_file_set_tensor (file, name, tensor, &error));
      g_assert_no_error (error);
    }

  if (metadata_kind == 1)
    {
      g_autoptr(GHashTable) empty = g_hash_table_new (g_str_hash, g_str_equal);
      st_file_set_metadata (file, empty);
    }
  else if (metadata_kind >= 2)
    {
      guint n = (guint) g_test_rand_int_range (1, 6);

      for (guint i = 0; i < n; i++)
        {
          g_autofree char *key = random_string (4, g_test_rand_int_range (0, 10) == 0);
          g_autofree char *value = random_string (8, TRUE);

          st_file_set_metadata_value (file, key, value);
        }
    }
  return file;
}

static void
check_round_trip (STFile *file)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) expected = st_test_reference_serialize (file);
  g_autoptr(GBytes) saved = st_file_save_to_bytes (file, &error);
  g_autoptr(STFile) reloaded = NULL;
  g_autoptr(GBytes) saved_again = NULL;
  g_auto(GStrv) ordered = NULL;
  guint64 prev_end = 0;

  g_assert_no_error (error);
  st_test_assert_bytes_equal (saved, expected);

  reloaded = st_file_new_from_bytes (saved, &error);
  g_assert_no_error (error);
  st_test_assert_files_equal (reloaded, file);

  /* the loaded file order is the writer's order, and the offsets tile the data */
  ordered = st_file_dup_names_in_file_order (reloaded);
  for (guint i = 0; ordered[i] != NULL; i++)
    {
      guint64 begin = 0, end = 0;

      g_assert_true (st_file_get_tensor_offsets (reloaded, ordered[i], &begin, &end));
      g_assert_cmpuint (begin, ==, prev_end);
      prev_end = end;
      if (i > 0)
        {
          STDType prev = st_tensor_get_dtype (st_file_get_tensor (reloaded, ordered[i - 1]));
          STDType cur = st_tensor_get_dtype (st_file_get_tensor (reloaded, ordered[i]));

          g_assert_cmpint (prev, >=, cur);
          if (prev == cur)
            g_assert_cmpint (strcmp (ordered[i - 1], ordered[i]), <, 0);
        }
    }
  g_assert_cmpuint (prev_end, ==, st_file_get_data_size (reloaded));

  saved_again = st_file_save_to_bytes (reloaded, &error);
  g_assert_no_error (error);
  st_test_assert_bytes_equal (saved_again, saved);
}

static void
test_roundtrip_random (void)
{
  guint iterations = g_test_thorough () ? 2000 : 300;

  for (guint i = 0; i < iterations; i++)
    {
      g_autoptr(STFile) file = random_file ();

      check_round_trip (file);
    }
}

/* Every dtype at every rank from 0 to 8, in one file. */
static void
test_roundtrip_all_dtypes_all_ranks (void)
{
  g_autoptr(STFile) file = st_file_new ();

  for (gsize i = 0; i < ST_TEST_N_DTYPES; i++)
    {
      for (guint rank = 0; rank <= 8; rank++)
        {
          g_autofree gint64 *shape = g_new0 (gint64, MAX (rank, 1));
          g_autofree char *name = g_strdup_printf ("%s.rank%u", st_test_dtypes[i].name, rank);
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) bytes = NULL;
          g_autoptr(STTensor) tensor = NULL;
          guint64 n_bytes = 0;
          guint8 *data;

          /* a sub-byte scalar cannot fill a byte */
          if (rank == 0 && st_test_dtypes[i].bits % 8 != 0)
            continue;
          for (guint d = 0; d < rank; d++)
            shape[d] = d == 0 ? 4 : 2;
          g_assert_true (st_dtype_compute_n_bytes (st_test_dtypes[i].dtype, shape, rank, &n_bytes, &error));
          g_assert_no_error (error);
          data = g_malloc (n_bytes);
          for (guint64 b = 0; b < n_bytes; b++)
            data[b] = (guint8) g_test_rand_int ();
          bytes = g_bytes_new_take (data, n_bytes);
          tensor = st_tensor_new (st_test_dtypes[i].dtype, shape, rank, bytes, &error);
          g_assert_no_error (error);
          g_assert_true (st_file_set_tensor (file, name, tensor, &error));
          g_assert_no_error (error);
        }

      /* and an empty tensor of each */
      {
        const gint64 empty_shape[] = { 3, 0, 2 };
        g_autofree char *name = g_strdup_printf ("%s.empty", st_test_dtypes[i].name);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = g_bytes_new (NULL, 0);
        g_autoptr(STTensor) tensor = st_tensor_new (st_test_dtypes[i].dtype, empty_shape, 3, bytes, &error);

        g_assert_no_error (error);
        g_assert_true (st_file_set_tensor (file, name, tensor, &error));
      }
    }
  st_file_set_metadata_value (file, "format", "pt");
  check_round_trip (file);
}

/* Names that sort differently as bytes and as anything else (case, UTF-8 against ASCII, prefixes). */
static void
test_roundtrip_name_order (void)
{
  const char *names[] = { "b", "B", "a", "a.b", "a_b", "ab", "\xc3\xa9", "z", "", "~", "a b", "0" };
  g_autoptr(STFile) file = st_file_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const gint64 shape[] = { 1 };
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = g_bytes_new ("abcd", 4);
      g_autoptr(STTensor) tensor = st_tensor_new (ST_DTYPE_F32, shape, 1, bytes, &error);

      g_assert_no_error (error);
      g_assert_true (st_file_set_tensor (file, names[i], tensor, &error));
      g_assert_no_error (error);
    }
  check_round_trip (file);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/roundtrip/random", test_roundtrip_random);
  g_test_add_func ("/roundtrip/all-dtypes-all-ranks", test_roundtrip_all_dtypes_all_ranks);
  g_test_add_func ("/roundtrip/name-order", test_roundtrip_name_order);

  return g_test_run ();
}
