/* fuzz-load.c: the libFuzzer target for st_file_new_from_bytes
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * For any input: the header parser's ways of reading agree; loading from bytes either fails with an
 * ST_ERROR, or succeeds; a stream load of the same bytes gives the same verdict. A file that loads reads back consistently (tensors tile the data), saves, and
 * the saved bytes load back to the same tensors and metadata and save again to the same bytes.
 *
 * Built as a libFuzzer binary with -Dfuzzing=true (tests/fuzz/meson.build), and linked into
 * tests/c/test-fuzz-crashes, which replays tests/fuzz/crashes/ and the fixtures through it in every
 * `meson test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gio/gio.h>
#include <safetensors-glib/safetensors-glib.h>

#include "fuzz-load.h"
#include "st-header-private.h"

#define FUZZ_CHECK(cond)                                                                   \
  G_STMT_START {                                                                            \
    if (G_UNLIKELY (!(cond)))                                                               \
      {                                                                                     \
        fprintf (stderr, "fuzz-load.c:%d: check failed: %s\n", __LINE__, #cond);           \
        abort ();                                                                           \
      }                                                                                     \
  } G_STMT_END

static void
check_error (const GError *error)
{
  FUZZ_CHECK (error != NULL);
  FUZZ_CHECK (error->domain == ST_ERROR);
  FUZZ_CHECK (error->message != NULL && error->message[0] != '\0');
  FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
}

static void
check_same_files (STFile *a, STFile *b)
{
  g_auto(GStrv) names_a = st_file_dup_names_sorted (a);
  g_auto(GStrv) names_b = st_file_dup_names_sorted (b);
  g_autoptr(GHashTable) meta_a = st_file_has_metadata (a) ? st_file_dup_metadata (a) : NULL;
  g_autoptr(GHashTable) meta_b = st_file_has_metadata (b) ? st_file_dup_metadata (b) : NULL;

  FUZZ_CHECK (g_strv_equal ((const char * const *) names_a, (const char * const *) names_b));
  for (guint i = 0; names_a[i] != NULL; i++)
    FUZZ_CHECK (st_tensor_equal (st_file_get_tensor (a, names_a[i]), st_file_get_tensor (b, names_a[i])));

  FUZZ_CHECK ((meta_a == NULL) == (meta_b == NULL));
  if (meta_a != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      FUZZ_CHECK (g_hash_table_size (meta_a) == g_hash_table_size (meta_b));
      g_hash_table_iter_init (&iter, meta_a);
      while (g_hash_table_iter_next (&iter, &key, &value))
        FUZZ_CHECK (g_strcmp0 (g_hash_table_lookup (meta_b, key), value) == 0);
    }
}

/* Reads everything a loaded file offers and checks it against the input it came from. */
static void
check_loaded (STFile *file, const uint8_t *data, size_t size)
{
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  g_auto(GStrv) ordered = st_file_dup_names_in_file_order (file);
  guint n = st_file_get_n_tensors (file);
  guint64 data_size = st_file_get_data_size (file);
  guint64 prev_end = 0;
  guint64 header_len;

  FUZZ_CHECK (size >= 8);
  memcpy (&header_len, data, 8);
  header_len = GUINT64_FROM_LE (header_len);
  FUZZ_CHECK (header_len <= size - 8);
  /* the data is all of the input after the header: no trailing bytes */
  FUZZ_CHECK (data_size == size - 8 - header_len);

  FUZZ_CHECK (g_strv_length (names) == n);
  FUZZ_CHECK (g_strv_length (ordered) == n);
  for (guint i = 0; i < n; i++)
    {
      STTensor *tensor = st_file_get_tensor (file, ordered[i]);
      guint64 begin = 0, end = 0, expected = 0;
      guint n_dims = 0;
      const gint64 *shape;
      gsize len = 0;
      gconstpointer bytes;

      FUZZ_CHECK (g_utf8_validate (ordered[i], -1, NULL));
      FUZZ_CHECK (strcmp (ordered[i], "__metadata__") != 0);
      FUZZ_CHECK (i == 0 || strcmp (names[i - 1], names[i]) < 0);
      FUZZ_CHECK (tensor != NULL);
      FUZZ_CHECK (st_file_contains (file, ordered[i]));
      FUZZ_CHECK (st_file_get_tensor_offsets (file, ordered[i], &begin, &end));
      FUZZ_CHECK (begin == prev_end);
      FUZZ_CHECK (end >= begin && end <= data_size);
      prev_end = end;

      shape = st_tensor_get_shape (tensor, &n_dims);
      FUZZ_CHECK (st_dtype_compute_n_bytes (st_tensor_get_dtype (tensor), shape, n_dims, &expected, NULL));
      FUZZ_CHECK (expected == end - begin);
      FUZZ_CHECK (st_tensor_get_n_bytes (tensor) == expected);
      bytes = st_tensor_get_data (tensor, &len);
      FUZZ_CHECK (len == expected);
      /* the tensor holds exactly the input bytes at its offsets */
      if (len > 0)
        FUZZ_CHECK (memcmp (bytes, data + 8 + header_len + begin, len) == 0);
    }
  FUZZ_CHECK (prev_end == data_size);

  /* the bulk layout says the same, record by record, in file order */
  {
    gsize n_values = 0, at = 0;
    g_autofree gint64 *layout = st_file_dup_layout (file, &n_values);

    FUZZ_CHECK ((layout == NULL) == (n == 0));
    for (guint i = 0; i < n; i++)
      {
        STTensor *tensor = st_file_get_tensor (file, ordered[i]);
        guint64 begin = 0, end = 0;
        guint n_dims = 0;
        const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);

        FUZZ_CHECK (at + 4 <= n_values);
        FUZZ_CHECK (st_file_get_tensor_offsets (file, ordered[i], &begin, &end));
        FUZZ_CHECK (layout[at] == (gint64) st_tensor_get_dtype (tensor));
        FUZZ_CHECK (layout[at + 1] == (gint64) begin && layout[at + 2] == (gint64) end);
        FUZZ_CHECK (layout[at + 3] == (gint64) n_dims && at + 4 + n_dims <= n_values);
        FUZZ_CHECK (n_dims == 0 || memcmp (layout + at + 4, shape, n_dims * sizeof (gint64)) == 0);
        at += 4 + n_dims;
      }
    FUZZ_CHECK (at == n_values);
  }

  if (st_file_has_metadata (file))
    {
      g_autoptr(GHashTable) metadata = st_file_dup_metadata (file);
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          FUZZ_CHECK (g_utf8_validate (key, -1, NULL));
          FUZZ_CHECK (g_utf8_validate (value, -1, NULL));
          FUZZ_CHECK (g_strcmp0 (st_file_get_metadata_value (file, key), value) == 0);
        }
    }
}

/* The header parser's ways of reading (SSE2 or scalar scanning, with or without the fast path for plain
 * entries) agree on the header of any input: the same entries, or the same error. */
static void
check_parser_ways (const uint8_t *data, size_t size)
{
  static const StHeaderParseFlags ways[] = {
    ST_HEADER_PARSE_SCALAR,
    ST_HEADER_PARSE_GENERAL_ONLY,
    ST_HEADER_PARSE_SCALAR | ST_HEADER_PARSE_GENERAL_ONLY,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(StHeader) header = NULL;
  guint64 header_size;

  if (!st_header_read_size (data, size, size, &header_size, NULL))
    return;

  header = st_header_parse ((const char *) data + 8, header_size, &error);
  for (gsize w = 0; w < G_N_ELEMENTS (ways); w++)
    {
      g_autoptr(GError) other_error = NULL;
      g_autoptr(StHeader) other = st_header_parse_with_flags ((const char *) data + 8, header_size, ways[w],
                                                              &other_error);

      FUZZ_CHECK ((header == NULL) == (other == NULL));
      if (header == NULL)
        {
          FUZZ_CHECK (error->code == other_error->code);
          FUZZ_CHECK (strcmp (error->message, other_error->message) == 0);
          continue;
        }

      FUZZ_CHECK (header->entries->len == other->entries->len);
      FUZZ_CHECK (header->data_size == other->data_size);
      for (guint i = 0; i < header->entries->len; i++)
        {
          const StHeaderEntry *a = g_ptr_array_index (header->entries, i);
          const StHeaderEntry *b = g_ptr_array_index (other->entries, i);

          FUZZ_CHECK (strcmp (a->name, b->name) == 0);
          FUZZ_CHECK (a->dtype == b->dtype && a->n_dims == b->n_dims);
          FUZZ_CHECK (a->begin == b->begin && st_header_entry_get_end (a) == st_header_entry_get_end (b));
          FUZZ_CHECK (a->n_dims == 0 || memcmp (a->shape, b->shape, a->n_dims * sizeof (gint64)) == 0);
        }
      FUZZ_CHECK ((header->metadata == NULL) == (other->metadata == NULL));
      FUZZ_CHECK (header->metadata == NULL ||
                  g_hash_table_size (header->metadata) == g_hash_table_size (other->metadata));
    }
}

int
st_fuzz_load_one_input (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) input = g_bytes_new_static (size > 0 ? data : (const uint8_t *) "", size);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) stream_error = NULL;
  g_autoptr(STFile) file = st_file_new_from_bytes (input, &error);
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (input);
  g_autoptr(STFile) from_stream = st_file_new_from_stream (stream, NULL, &stream_error);
  g_autoptr(GBytes) saved = NULL;
  g_autoptr(GBytes) saved_again = NULL;
  g_autoptr(STFile) reloaded = NULL;

  check_parser_ways (data, size);

  /* the same verdict from bytes and from a stream */
  FUZZ_CHECK ((file == NULL) == (from_stream == NULL));
  if (file == NULL)
    {
      check_error (error);
      check_error (stream_error);
      return 0;
    }
  FUZZ_CHECK (error == NULL && stream_error == NULL);

  check_loaded (file, data, size);
  check_same_files (file, from_stream);

  saved = st_file_save_to_bytes (file, &error);
  FUZZ_CHECK (saved != NULL && error == NULL);
  reloaded = st_file_new_from_bytes (saved, &error);
  FUZZ_CHECK (reloaded != NULL && error == NULL);
  check_same_files (file, reloaded);
  saved_again = st_file_save_to_bytes (reloaded, &error);
  FUZZ_CHECK (saved_again != NULL && error == NULL);
  FUZZ_CHECK (g_bytes_equal (saved, saved_again));
  return 0;
}

#ifdef ST_FUZZ_LIBFUZZER
int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* a critical or a warning from the library or GLib is a finding too */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return st_fuzz_load_one_input (data, size);
}
#endif
