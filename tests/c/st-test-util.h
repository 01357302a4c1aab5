/* st-test-util.h: helpers shared by the C tests
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Header-only so that each test binary stays one source file plus this; every helper is static.
 */
#pragma once

#include <stdarg.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <safetensors-glib/safetensors-glib.h>

/* g_test_message for text that may hold anything (error messages naming hostile names): one valid UTF-8 line
 * with control characters escaped, so that the TAP stream stays TAP. */
static inline void st_test_note (const char *format, ...) G_GNUC_PRINTF (1, 2);

static inline void
st_test_note (const char *format, ...)
{
  va_list args;
  g_autofree char *raw = NULL;
  g_autofree char *valid = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  va_start (args, format);
  raw = g_strdup_vprintf (format, args);
  va_end (args);
  valid = g_utf8_make_valid (raw, -1);
  for (const char *p = valid; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 || *p == 0x7f)
        g_string_append_printf (out, "\\x%02x", (guchar) *p);
      else
        g_string_append_c (out, *p);
      if (out->len > 400)
        {
          g_string_append (out, "...");
          break;
        }
    }
  g_test_message ("%s", out->str);
}

/* The largest header length a reader accepts (design.md). */
#define ST_TEST_MAX_HEADER G_GUINT64_CONSTANT (100000000)

/* The 22 dtypes in Hugging Face's order, with their header names and bit widths. */
typedef struct {
  STDType     dtype;
  const char *name;
  guint       bits;
} StTestDType;

static const StTestDType st_test_dtypes[] = {
  { ST_DTYPE_BOOL, "BOOL", 8 },
  { ST_DTYPE_F4, "F4", 4 },
  { ST_DTYPE_F6_E2M3, "F6_E2M3", 6 },
  { ST_DTYPE_F6_E3M2, "F6_E3M2", 6 },
  { ST_DTYPE_U8, "U8", 8 },
  { ST_DTYPE_I8, "I8", 8 },
  { ST_DTYPE_F8_E5M2, "F8_E5M2", 8 },
  { ST_DTYPE_F8_E4M3, "F8_E4M3", 8 },
  { ST_DTYPE_F8_E8M0, "F8_E8M0", 8 },
  { ST_DTYPE_F8_E4M3FNUZ, "F8_E4M3FNUZ", 8 },
  { ST_DTYPE_F8_E5M2FNUZ, "F8_E5M2FNUZ", 8 },
  { ST_DTYPE_I16, "I16", 16 },
  { ST_DTYPE_U16, "U16", 16 },
  { ST_DTYPE_F16, "F16", 16 },
  { ST_DTYPE_BF16, "BF16", 16 },
  { ST_DTYPE_I32, "I32", 32 },
  { ST_DTYPE_U32, "U32", 32 },
  { ST_DTYPE_F32, "F32", 32 },
  { ST_DTYPE_C64, "C64", 64 },
  { ST_DTYPE_F64, "F64", 64 },
  { ST_DTYPE_I64, "I64", 64 },
  { ST_DTYPE_U64, "U64", 64 },
};

#define ST_TEST_N_DTYPES G_N_ELEMENTS (st_test_dtypes)

/* Where tests/fixtures is: ST_FIXTURES_DIR from the meson test environment, else beside the sources. */
static inline char *
st_test_fixtures_dir (void)
{
  const char *env = g_getenv ("ST_FIXTURES_DIR");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_test_build_filename (G_TEST_DIST, "fixtures", NULL);
}

static inline GBytes *
st_test_read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

/* A safetensors file made by hand: the 8-byte little-endian @header_len (which need not match @header),
 * then @header, then @data_len bytes of @data (or of a counting pattern when @data is NULL). */
static inline GBytes *
st_test_make_file_full (guint64 header_len, const char *header, gsize header_bytes,
                        const guint8 *data, gsize data_len)
{
  GByteArray *out = g_byte_array_sized_new (8 + header_bytes + data_len);
  guint64 le = GUINT64_TO_LE (header_len);

  g_byte_array_append (out, (const guint8 *) &le, 8);
  g_byte_array_append (out, (const guint8 *) header, header_bytes);
  for (gsize i = 0; i < data_len; i++)
    {
      guint8 b = data != NULL ? data[i] : (guint8) (i * 7 + 3);
      g_byte_array_append (out, &b, 1);
    }
  return g_byte_array_free_to_bytes (out);
}

/* The common case: header length matches the header. */
static inline GBytes *
st_test_make_file (const char *header, gsize data_len)
{
  return st_test_make_file_full (strlen (header), header, strlen (header), NULL, data_len);
}

static inline char *
st_test_sha256 (gconstpointer data, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

static inline char *
st_test_tensor_sha256 (STTensor *tensor)
{
  gsize len = 0;
  gconstpointer data = st_tensor_get_data (tensor, &len);

  g_assert_cmpuint (len, ==, st_tensor_get_n_bytes (tensor));
  return st_test_sha256 (len > 0 ? data : "", len);
}

/* The number of metadata entries of @file (0 without metadata). */
static inline guint
st_test_metadata_size (STFile *file)
{
  g_autoptr(GHashTable) metadata = st_file_dup_metadata (file);

  return g_hash_table_size (metadata);
}

/* Asserts that two files hold the same tensors (names, dtypes, shapes, bytes) and metadata. */
static inline void
st_test_assert_files_equal (STFile *a, STFile *b)
{
  g_auto(GStrv) names_a = st_file_dup_names_sorted (a);
  g_auto(GStrv) names_b = st_file_dup_names_sorted (b);
  g_autoptr(GHashTable) meta_a = st_file_has_metadata (a) ? st_file_dup_metadata (a) : NULL;
  g_autoptr(GHashTable) meta_b = st_file_has_metadata (b) ? st_file_dup_metadata (b) : NULL;

  g_assert_cmpuint (st_file_get_n_tensors (a), ==, st_file_get_n_tensors (b));
  g_assert_cmpstrv (names_a, names_b);
  for (guint i = 0; names_a[i] != NULL; i++)
    {
      STTensor *ta = st_file_get_tensor (a, names_a[i]);
      STTensor *tb = st_file_get_tensor (b, names_a[i]);
      gsize len_a = 0, len_b = 0;
      gconstpointer da, db;
      guint nd_a = 0, nd_b = 0;
      const gint64 *sa, *sb;

      g_assert_nonnull (ta);
      g_assert_nonnull (tb);
      g_assert_cmpint (st_tensor_get_dtype (ta), ==, st_tensor_get_dtype (tb));
      sa = st_tensor_get_shape (ta, &nd_a);
      sb = st_tensor_get_shape (tb, &nd_b);
      g_assert_cmpuint (nd_a, ==, nd_b);
      for (guint d = 0; d < nd_a; d++)
        g_assert_cmpint (sa[d], ==, sb[d]);
      da = st_tensor_get_data (ta, &len_a);
      db = st_tensor_get_data (tb, &len_b);
      g_assert_cmpmem (len_a ? da : "", len_a, len_b ? db : "", len_b);
      g_assert_true (st_tensor_equal (ta, tb));
    }

  g_assert_true ((meta_a == NULL) == (meta_b == NULL));
  if (meta_a != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_assert_cmpuint (g_hash_table_size (meta_a), ==, g_hash_table_size (meta_b));
      g_hash_table_iter_init (&iter, meta_a);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_assert_cmpstr (g_hash_table_lookup (meta_b, key), ==, value);
    }
}

/* Asserts that @error is set, in the ST_ERROR domain, and prints it (the test log shows every message). */
#define st_test_assert_st_error(error, code)                                   \
  G_STMT_START {                                                                \
    g_assert_error ((error), ST_ERROR, (gint) (code));                                 \
    st_test_note ("expected error: %s", (error)->message);                      \
  } G_STMT_END

/* A fresh scratch directory, removed by st_test_rm_rf. */
static inline char *
st_test_make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("st-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static inline void
st_test_rm_rf (const char *path)
{
  GDir *dir;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_remove (path);
      return;
    }
  g_chmod (path, 0700);
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          st_test_rm_rf (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static inline int
st_test_compare_strings (gconstpointer a, gconstpointer b)
{
  /* g_ptr_array_sort passes pointers to the elements */
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The sorted names of the entries of @path (a directory). */
static inline GStrv
st_test_list_dir (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open (path, 0, &error);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, st_test_compare_strings);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* An independent writer of the bytes Hugging Face's safetensors writes (design.md, "Writing"), to check
 * st_file_save_* against: serde_json escaping, __metadata__ first with sorted keys, tensors by dtype from
 * U64 down to BOOL then by name, fields in the order dtype, shape, data_offsets, spaces to a multiple of 8. */
static inline void
st_test_json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const guint8 *p = (const guint8 *) s; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

static STFile *st_test_sort_file;

static inline int
st_test_compare_writer_order (gconstpointer a, gconstpointer b)
{
  const char *na = *(const char * const *) a;
  const char *nb = *(const char * const *) b;
  STDType da = st_tensor_get_dtype (st_file_get_tensor (st_test_sort_file, na));
  STDType db = st_tensor_get_dtype (st_file_get_tensor (st_test_sort_file, nb));

  if (da != db)
    return da > db ? -1 : 1;
  return strcmp (na, nb);
}

static inline GBytes *
st_test_reference_serialize (STFile *file)
{
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  g_autoptr(GHashTable) metadata = st_file_has_metadata (file) ? st_file_dup_metadata (file) : NULL;
  g_autoptr(GString) json = g_string_new ("{");
  GByteArray *out;
  guint64 offset = 0, header_len;
  gboolean first = TRUE;

  for (guint i = 0; names[i] != NULL; i++)
    g_ptr_array_add (order, names[i]);
  st_test_sort_file = file;
  g_ptr_array_sort (order, st_test_compare_writer_order);
  st_test_sort_file = NULL;

  if (metadata != NULL)
    {
      g_autoptr(GPtrArray) keys = g_ptr_array_new ();
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (keys, key);

      g_ptr_array_sort (keys, st_test_compare_strings);
      g_string_append (json, "\"__metadata__\":{");
      for (guint i = 0; i < keys->len; i++)
        {
          if (i > 0)
            g_string_append_c (json, ',');
          st_test_json_string (json, keys->pdata[i]);
          g_string_append_c (json, ':');
          st_test_json_string (json, g_hash_table_lookup (metadata, keys->pdata[i]));
        }
      g_string_append_c (json, '}');
      first = FALSE;
    }

  for (guint i = 0; i < order->len; i++)
    {
      STTensor *tensor = st_file_get_tensor (file, order->pdata[i]);
      guint n_dims = 0;
      const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
      guint64 n_bytes = st_tensor_get_n_bytes (tensor);

      if (!first)
        g_string_append_c (json, ',');
      first = FALSE;
      st_test_json_string (json, order->pdata[i]);
      g_string_append_printf (json, ":{\"dtype\":\"%s\",\"shape\":[",
                              st_dtype_to_string (st_tensor_get_dtype (tensor)));
      for (guint d = 0; d < n_dims; d++)
        g_string_append_printf (json, "%s%" G_GINT64_FORMAT, d > 0 ? "," : "", shape[d]);
      g_string_append_printf (json, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + n_bytes);
      offset += n_bytes;
    }
  g_string_append_c (json, '}');
  while (json->len % 8 != 0)
    g_string_append_c (json, ' ');

  header_len = GUINT64_TO_LE ((guint64) json->len);
  out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) &header_len, 8);
  g_byte_array_append (out, (const guint8 *) json->str, json->len);
  for (guint i = 0; i < order->len; i++)
    {
      gsize len = 0;
      gconstpointer data = st_tensor_get_data (st_file_get_tensor (file, order->pdata[i]), &len);

      if (len > 0)
        g_byte_array_append (out, data, len);
    }
  return g_byte_array_free_to_bytes (out);
}

static inline char *
st_test_escape_window (const guint8 *p, gsize len, gsize at)
{
  GString *out = g_string_new (NULL);

  for (gsize i = at; i < len && i < at + 48; i++)
    {
      if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
        g_string_append_c (out, (char) p[i]);
      else
        g_string_append_printf (out, "\\x%02x", p[i]);
    }
  return g_string_free (out, FALSE);
}

static inline void
st_test_report_difference (GBytes *a, GBytes *b)
{
  gsize la = g_bytes_get_size (a), lb = g_bytes_get_size (b), i = 0;
  const guint8 *pa = g_bytes_get_data (a, NULL), *pb = g_bytes_get_data (b, NULL);
  g_autofree char *wa = NULL, *wb = NULL;

  while (i < la && i < lb && pa[i] == pb[i])
    i++;
  if (i == la && i == lb)
    return;
  wa = st_test_escape_window (pa, la, i);
  wb = st_test_escape_window (pb, lb, i);
  st_test_note ("bytes differ at offset %" G_GSIZE_FORMAT " (lengths %" G_GSIZE_FORMAT " and %"
                  G_GSIZE_FORMAT "): got \"%s\", expected \"%s\"", i, la, lb, wa, wb);
}

/* Compares two byte strings and, when they differ, says where (g_assert_cmpmem only says that they do). */
#define st_test_assert_bytes_equal(a, b)                                                       \
  G_STMT_START {                                                                                \
    st_test_report_difference ((a), (b));                                                       \
    g_assert_cmpmem (g_bytes_get_data ((a), NULL), g_bytes_get_size (a),                        \
                     g_bytes_get_data ((b), NULL), g_bytes_get_size (b));                       \
  } G_STMT_END

