/* test-tensor.c: STTensor construction, size checks, ownership and getters
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "st-test-util.h"

static GBytes *
pattern_bytes (gsize len)
{
  guint8 *data = g_malloc (len > 0 ? len : 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i * 13 + 1);
  return g_bytes_new_take (data, len);
}

static void
test_tensor_new_getters (void)
{
  g_autoptr(GError) error = NULL;
  gint64 shape[] = { 2, 3 };
  g_autoptr(GBytes) data = pattern_bytes (24);
  g_autoptr(STTensor) tensor = st_tensor_new (ST_DTYPE_F32, shape, 2, data, &error);
  const gint64 *got_shape;
  guint n_dims = 0;
  gsize n_bytes = 0;
  gconstpointer ptr;
  GBytes *bytes;

  g_assert_no_error (error);
  g_assert_true (ST_IS_TENSOR (tensor));
  g_assert_cmpint (st_tensor_get_dtype (tensor), ==, ST_DTYPE_F32);
  g_assert_cmpuint (st_tensor_get_n_dims (tensor), ==, 2);
  g_assert_cmpuint (st_tensor_get_n_elements (tensor), ==, 6);
  g_assert_cmpuint (st_tensor_get_n_bytes (tensor), ==, 24);

  got_shape = st_tensor_get_shape (tensor, &n_dims);
  g_assert_cmpuint (n_dims, ==, 2);
  g_assert_cmpint (got_shape[0], ==, 2);
  g_assert_cmpint (got_shape[1], ==, 3);

  /* The shape is copied: the caller's array is the caller's. */
  shape[0] = 99;
  got_shape = st_tensor_get_shape (tensor, &n_dims);
  g_assert_cmpint (got_shape[0], ==, 2);

  /* The data is not copied. */
  bytes = st_tensor_get_bytes (tensor);
  g_assert_nonnull (bytes);
  g_assert_true (g_bytes_get_data (bytes, NULL) == g_bytes_get_data (data, NULL));
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 24);
  ptr = st_tensor_get_data (tensor, &n_bytes);
  g_assert_true (ptr == g_bytes_get_data (data, NULL));
  g_assert_cmpuint (n_bytes, ==, 24);
  g_assert_cmpuint (st_tensor_get_data_address (tensor), ==, (guint64) (guintptr) ptr);

  /* The tensor holds its own reference to the data. */
  g_clear_pointer (&data, g_bytes_unref);
  g_assert_cmpmem (st_tensor_get_data (tensor, NULL), 24,
                   g_bytes_get_data (st_tensor_get_bytes (tensor), NULL), 24);
  g_assert_cmpuint (((const guint8 *) st_tensor_get_data (tensor, NULL))[23], ==, (guint8) (23 * 13 + 1));
}

static void
test_tensor_new_scalar (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = pattern_bytes (8);
  g_autoptr(STTensor) tensor = st_tensor_new (ST_DTYPE_F64, NULL, 0, data, &error);
  guint n_dims = 42;

  g_assert_no_error (error);
  st_tensor_get_shape (tensor, &n_dims);
  g_assert_cmpuint (n_dims, ==, 0);
  g_assert_cmpuint (st_tensor_get_n_dims (tensor), ==, 0);
  g_assert_cmpuint (st_tensor_get_n_elements (tensor), ==, 1);
  g_assert_cmpuint (st_tensor_get_n_bytes (tensor), ==, 8);
}

static void
test_tensor_new_empty (void)
{
  const gint64 shape[] = { 0, 3 };
  const gint64 huge_zero[] = { G_GINT64_CONSTANT (5000000000), 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(STTensor) tensor = st_tensor_new (ST_DTYPE_BF16, shape, 2, empty, &error);
  g_autoptr(STTensor) tensor2 = NULL;
  gsize n_bytes = 99;

  g_assert_no_error (error);
  g_assert_cmpuint (st_tensor_get_n_elements (tensor), ==, 0);
  g_assert_cmpuint (st_tensor_get_n_bytes (tensor), ==, 0);
  st_tensor_get_data (tensor, &n_bytes);
  g_assert_cmpuint (n_bytes, ==, 0);
  g_assert_nonnull (st_tensor_get_bytes (tensor));
  g_assert_cmpuint (g_bytes_get_size (st_tensor_get_bytes (tensor)), ==, 0);

  tensor2 = st_tensor_new (ST_DTYPE_F4, huge_zero, 2, empty, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st_tensor_get_n_elements (tensor2), ==, 0);
}

static void
expect_new_error (STDType dtype, const gint64 *shape, guint n_dims, gsize n_bytes, STError code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = pattern_bytes (n_bytes);
  g_autoptr(STTensor) tensor = st_tensor_new (dtype, shape, n_dims, data, &error);

  g_assert_null (tensor);
  st_test_assert_st_error (error, code);
}

/* The data must be exactly as long as dtype and shape say. */
static void
test_tensor_new_size_checks (void)
{
  const gint64 s23[] = { 2, 3 };
  const gint64 s3[] = { 3 };
  const gint64 neg[] = { -2 };
  const gint64 overflow[] = { G_GINT64_CONSTANT (4294967296), G_GINT64_CONSTANT (4294967296) };

  expect_new_error (ST_DTYPE_F32, s23, 2, 23, ST_ERROR_SIZE_MISMATCH);
  expect_new_error (ST_DTYPE_F32, s23, 2, 25, ST_ERROR_SIZE_MISMATCH);
  expect_new_error (ST_DTYPE_F32, s23, 2, 0, ST_ERROR_SIZE_MISMATCH);
  expect_new_error (ST_DTYPE_F64, NULL, 0, 4, ST_ERROR_SIZE_MISMATCH);
  expect_new_error (ST_DTYPE_F32, overflow, 2, 16, ST_ERROR_INVALID_SHAPE);
  expect_new_error (ST_DTYPE_U8, neg, 1, 2, ST_ERROR_INVALID_SHAPE);
  expect_new_error (ST_DTYPE_F4, s3, 1, 2, ST_ERROR_MISALIGNED_SUB_BYTE);
  expect_new_error (ST_DTYPE_F6_E2M3, s3, 1, 3, ST_ERROR_MISALIGNED_SUB_BYTE);

  /* and the right sizes pass, sub-byte ones included */
  {
    const gint64 s4[] = { 4 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) three = pattern_bytes (3);
    g_autoptr(GBytes) two = pattern_bytes (2);
    g_autoptr(STTensor) f6 = st_tensor_new (ST_DTYPE_F6_E3M2, s4, 1, three, &error);
    g_autoptr(STTensor) f4 = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (st_tensor_get_n_bytes (f6), ==, 3);
    g_assert_cmpuint (st_tensor_get_n_elements (f6), ==, 4);
    f4 = st_tensor_new (ST_DTYPE_F4, s4, 1, two, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (st_tensor_get_n_bytes (f4), ==, 2);
  }
}

/* An owner whose finalization frees the buffer, as a binding's array object would. */
static GObject *
make_owner (gsize len, guint8 **out_buffer)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  guint8 *buffer = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    buffer[i] = (guint8) (255 - i);
  g_object_set_data_full (owner, "buffer", buffer, g_free);
  *out_buffer = buffer;
  return owner;
}

/* The owner lives exactly as long as the tensor or any GBytes it handed out still points at its memory. */
static void
test_tensor_new_from_data_owner (void)
{
  const gint64 shape[] = { 4, 4 };
  g_autoptr(GError) error = NULL;
  guint8 *buffer = NULL;
  GObject *owner = make_owner (32, &buffer);
  STTensor *tensor;
  GBytes *bytes;

  g_object_add_weak_pointer (owner, (gpointer *) &owner);

  tensor = st_tensor_new_from_data (ST_DTYPE_I16, shape, 2, (guint64) (guintptr) buffer, 32, owner, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tensor);

  /* we drop our reference: the tensor keeps the owner */
  g_object_unref (owner);
  g_assert_nonnull (owner);

  /* zero-copy: the tensor's data is the owner's buffer */
  g_assert_cmpuint (st_tensor_get_data_address (tensor), ==, (guint64) (guintptr) buffer);
  g_assert_true (st_tensor_get_data (tensor, NULL) == buffer);
  g_assert_cmpuint (st_tensor_get_n_bytes (tensor), ==, 32);
  g_assert_cmpuint (((const guint8 *) st_tensor_get_data (tensor, NULL))[31], ==, 255 - 31);

  /* a GBytes taken from the tensor outlives it and keeps the owner too */
  bytes = g_bytes_ref (st_tensor_get_bytes (tensor));
  g_assert_true (g_bytes_get_data (bytes, NULL) == buffer);
  g_object_unref (tensor);
  g_assert_nonnull (owner);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (bytes, NULL))[0], ==, 255);

  /* the last user gone, the owner goes */
  g_bytes_unref (bytes);
  g_assert_null (owner);
}

static void
test_tensor_new_from_data_owner_released (void)
{
  const gint64 shape[] = { 8 };
  g_autoptr(GError) error = NULL;
  guint8 *buffer = NULL;
  GObject *owner = make_owner (8, &buffer);
  STTensor *tensor;

  g_object_add_weak_pointer (owner, (gpointer *) &owner);
  tensor = st_tensor_new_from_data (ST_DTYPE_U8, shape, 1, (guint64) (guintptr) buffer, 8, owner, &error);
  g_assert_no_error (error);
  g_object_unref (owner);
  g_assert_nonnull (owner);
  g_object_unref (tensor);
  g_assert_null (owner);
}

/* A failed construction neither keeps nor drops the caller's owner. */
static void
test_tensor_new_from_data_error (void)
{
  const gint64 shape[] = { 4, 4 };
  g_autoptr(GError) error = NULL;
  guint8 *buffer = NULL;
  GObject *owner = make_owner (32, &buffer);
  STTensor *tensor;

  g_object_add_weak_pointer (owner, (gpointer *) &owner);
  tensor = st_tensor_new_from_data (ST_DTYPE_F32, shape, 2, (guint64) (guintptr) buffer, 32, owner, &error);
  g_assert_null (tensor);
  st_test_assert_st_error (error, ST_ERROR_SIZE_MISMATCH);
  g_assert_nonnull (owner);
  g_assert_cmpint (G_OBJECT (owner)->ref_count, ==, 1);
  g_object_unref (owner);
  g_assert_null (owner);
}

/* An empty tensor from a binding may have no memory at all: address 0 is fine with 0 bytes, and only then. */
static void
test_tensor_new_from_data_null_address (void)
{
  const gint64 s0[] = { 0, 7 };
  const gint64 s4[] = { 4 };
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) empty = st_tensor_new_from_data (ST_DTYPE_F32, s0, 2, 0, 0, NULL, &error);
  g_autoptr(STTensor) bad = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (st_tensor_get_n_bytes (empty), ==, 0);
  g_assert_cmpuint (g_bytes_get_size (st_tensor_get_bytes (empty)), ==, 0);

  bad = st_tensor_new_from_data (ST_DTYPE_U8, s4, 1, 0, 4, NULL, &error);
  g_assert_null (bad);
  g_assert_nonnull (error);
  st_test_note ("expected error: %s", error->message);
}

/* Static memory needs no owner. */
static void
test_tensor_new_from_data_no_owner (void)
{
  static const guint8 data[6] = { 1, 2, 3, 4, 5, 6 };
  const gint64 shape[] = { 3 };
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) tensor = st_tensor_new_from_data (ST_DTYPE_U16, shape, 1, (guint64) (guintptr) data, 6,
                                                        NULL, &error);

  g_assert_no_error (error);
  g_assert_true (st_tensor_get_data (tensor, NULL) == data);
}

/* A dtype value outside the enumeration (a binding can pass any integer) is an error, not a crash. */
static void
test_tensor_new_bad_dtype (void)
{
  const gint64 shape[] = { 4 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = pattern_bytes (4);
  g_autoptr(STTensor) tensor = st_tensor_new ((STDType) 22, shape, 1, data, &error);
  g_autoptr(STTensor) tensor2 = NULL;

  g_assert_null (tensor);
  st_test_assert_st_error (error, ST_ERROR_INVALID_DTYPE);
  g_clear_error (&error);
  tensor2 = st_tensor_new ((STDType) -1, shape, 1, data, &error);
  g_assert_null (tensor2);
  st_test_assert_st_error (error, ST_ERROR_INVALID_DTYPE);
}

/* The read-only properties mirror the getters. */
static void
test_tensor_properties (void)
{
  const gint64 shape[] = { 2, 5 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = pattern_bytes (20);
  g_autoptr(STTensor) tensor = st_tensor_new (ST_DTYPE_BF16, shape, 2, data, &error);
  g_autoptr(GBytes) bytes = NULL;
  STDType dtype = ST_DTYPE_BOOL;
  guint n_dims = 0;
  guint64 n_elements = 0, n_bytes = 0;

  g_assert_no_error (error);
  g_object_get (tensor, "dtype", &dtype, "n-dims", &n_dims, "n-elements", &n_elements,
                "n-bytes", &n_bytes, "bytes", &bytes, NULL);
  g_assert_cmpint (dtype, ==, ST_DTYPE_BF16);
  g_assert_cmpuint (n_dims, ==, 2);
  g_assert_cmpuint (n_elements, ==, 10);
  g_assert_cmpuint (n_bytes, ==, 20);
  g_assert_true (bytes == data || g_bytes_equal (bytes, data));
}

static void
test_tensor_default_object (void)
{
  g_autoptr(STTensor) tensor = g_object_new (ST_TYPE_TENSOR, NULL);
  g_autoptr(GError) error = NULL;
  guint n_dims = 0;
  const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
  guint64 expected = 0;
  gsize n_bytes = 1234;
  GBytes *bytes;

  /* whatever the default is, it is a consistent tensor */
  g_assert_cmpuint (n_dims, ==, st_tensor_get_n_dims (tensor));
  g_assert_true (n_dims == 0 || shape != NULL);
  g_assert_true (st_dtype_compute_n_bytes (st_tensor_get_dtype (tensor), shape, n_dims, &expected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st_tensor_get_n_bytes (tensor), ==, expected);
  bytes = st_tensor_get_bytes (tensor);
  g_assert_nonnull (bytes);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, expected);
  st_tensor_get_data (tensor, &n_bytes);
  g_assert_cmpuint (n_bytes, ==, expected);
  st_tensor_get_data_address (tensor);
  g_assert_true (st_tensor_equal (tensor, tensor));

  /* and a file can store it and read it back */
  {
    g_autoptr(STFile) file = st_file_new ();
    g_autoptr(GBytes) saved = NULL;
    g_autoptr(STFile) reloaded = NULL;
    STTensor *back;

    g_assert_true (st_file_set_tensor (file, "default", tensor, &error));
    g_assert_no_error (error);
    saved = st_file_save_to_bytes (file, &error);
    g_assert_no_error (error);
    reloaded = st_file_new_from_bytes (saved, &error);
    g_assert_no_error (error);
    back = st_file_get_tensor (reloaded, "default");
    g_assert_nonnull (back);
    g_assert_true (st_tensor_equal (tensor, back));
  }
}

static STTensor *
make_tensor (STDType dtype, const gint64 *shape, guint n_dims, const char *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);
  STTensor *tensor = st_tensor_new (dtype, shape, n_dims, bytes, &error);

  g_assert_no_error (error);
  return tensor;
}

static void
test_tensor_equal (void)
{
  const gint64 s23[] = { 2, 3 };
  const gint64 s32[] = { 3, 2 };
  const gint64 s6[] = { 6 };
  const gint64 s0[] = { 0 };
  const gint64 s00[] = { 0, 0 };
  g_autoptr(STTensor) a = make_tensor (ST_DTYPE_U8, s23, 2, "abcdef", 6);
  g_autoptr(STTensor) same = make_tensor (ST_DTYPE_U8, s23, 2, "abcdef", 6);
  g_autoptr(STTensor) other_dtype = make_tensor (ST_DTYPE_I8, s23, 2, "abcdef", 6);
  g_autoptr(STTensor) other_shape = make_tensor (ST_DTYPE_U8, s32, 2, "abcdef", 6);
  g_autoptr(STTensor) other_rank = make_tensor (ST_DTYPE_U8, s6, 1, "abcdef", 6);
  g_autoptr(STTensor) other_data = make_tensor (ST_DTYPE_U8, s23, 2, "abcdeg", 6);
  g_autoptr(STTensor) empty1 = make_tensor (ST_DTYPE_F32, s0, 1, "", 0);
  g_autoptr(STTensor) empty2 = make_tensor (ST_DTYPE_F32, s0, 1, "", 0);
  g_autoptr(STTensor) empty_rank2 = make_tensor (ST_DTYPE_F32, s00, 2, "", 0);
  g_autoptr(STTensor) scalar = make_tensor (ST_DTYPE_F32, NULL, 0, "wxyz", 4);
  g_autoptr(STTensor) scalar2 = make_tensor (ST_DTYPE_F32, NULL, 0, "wxyz", 4);

  g_assert_true (st_tensor_equal (a, a));
  g_assert_true (st_tensor_equal (a, same));
  g_assert_true (st_tensor_equal (same, a));
  g_assert_false (st_tensor_equal (a, other_dtype));
  g_assert_false (st_tensor_equal (a, other_shape));
  g_assert_false (st_tensor_equal (a, other_rank));
  g_assert_false (st_tensor_equal (a, other_data));
  g_assert_true (st_tensor_equal (empty1, empty2));
  g_assert_false (st_tensor_equal (empty1, empty_rank2));
  g_assert_true (st_tensor_equal (scalar, scalar2));
  g_assert_false (st_tensor_equal (scalar, empty1));
}

/* Shapes of every rank from 0 to 6 read back as given, from st_tensor_new() and from a loaded file:
 * ranks up to four are kept inside the tensor and higher ones apart, and both must give the same. */
static void
test_tensor_shape_ranks (void)
{
  const gint64 dims[] = { 2, 1, 3, 1, 2, 1 };
  const guint64 n_elements[] = { 1, 2, 2, 6, 6, 12, 12 };  /* by hand: products of the first dims */
  const char *header = "{\"s0\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]},"
                       "\"s5\":{\"dtype\":\"U8\",\"shape\":[2,1,3,1,2],\"data_offsets\":[1,13]},"
                       "\"s6\":{\"dtype\":\"U8\",\"shape\":[2,1,3,1,2,1],\"data_offsets\":[13,25]}}";
  const struct { const char *name; guint rank; guint8 first; } loaded[] = {
    { "s0", 0, 0 }, { "s5", 5, 1 }, { "s6", 6, 13 },
  };
  guint8 data[25];
  g_autoptr(GBytes) file_bytes = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(GError) error = NULL;

  for (guint rank = 0; rank <= 6; rank++)
    {
      g_autoptr(GBytes) bytes = pattern_bytes ((gsize) n_elements[rank]);
      g_autoptr(STTensor) tensor = st_tensor_new (ST_DTYPE_U8, dims, rank, bytes, &error);
      const gint64 *shape;
      guint n_dims = 99;

      g_assert_no_error (error);
      shape = st_tensor_get_shape (tensor, &n_dims);
      g_assert_nonnull (shape);
      g_assert_cmpuint (n_dims, ==, rank);
      g_assert_cmpuint (st_tensor_get_n_dims (tensor), ==, rank);
      for (guint d = 0; d < rank; d++)
        g_assert_cmpint (shape[d], ==, dims[d]);
      g_assert_cmpuint (st_tensor_get_n_elements (tensor), ==, n_elements[rank]);
      g_assert_cmpuint (st_tensor_get_n_bytes (tensor), ==, n_elements[rank]);
    }

  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) i;
  file_bytes = st_test_make_file_full (strlen (header), header, strlen (header), data, sizeof data);
  file = st_file_new_from_bytes (file_bytes, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (loaded); i++)
    {
      STTensor *tensor = st_file_get_tensor (file, loaded[i].name);
      const gint64 *shape;
      guint n_dims = 99;
      gsize n_bytes = 0;
      const guint8 *got;

      g_assert_nonnull (tensor);
      shape = st_tensor_get_shape (tensor, &n_dims);
      g_assert_nonnull (shape);
      g_assert_cmpuint (n_dims, ==, loaded[i].rank);
      for (guint d = 0; d < n_dims; d++)
        g_assert_cmpint (shape[d], ==, dims[d]);
      g_assert_cmpuint (st_tensor_get_n_elements (tensor), ==, n_elements[loaded[i].rank]);
      got = st_tensor_get_data (tensor, &n_bytes);
      g_assert_cmpuint (n_bytes, ==, n_elements[loaded[i].rank]);
      for (gsize b = 0; b < n_bytes; b++)
        g_assert_cmpuint (got[b], ==, loaded[i].first + b);
    }
}

typedef struct {
  STTensor *tensor;
  gint *go;     /* the starting line: an atomic flag, visible to ThreadSanitizer */
  GBytes *got;
} BytesReader;

static gpointer
bytes_reader_thread (gpointer user_data)
{
  BytesReader *reader = user_data;

  while (!g_atomic_int_get (reader->go))
    g_thread_yield ();
  reader->got = st_tensor_get_bytes (reader->tensor);
  return NULL;
}

/* A loaded tensor's GBytes is made when first asked for: threads asking at once all get one and the
 * same object, over the tensor's data (no copy), the property gives it too, and it keeps the file's
 * memory alive after the file and the tensor are gone. Bytes written by hand. */
static void
test_tensor_bytes_on_request (void)
{
  const char *header = "{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
  const guint8 data[] = { 10, 20, 30, 40 };
  g_autoptr(GBytes) file_bytes = st_test_make_file_full (strlen (header), header, strlen (header), data, 4);
  g_autoptr(GError) error = NULL;
  STFile *file = st_file_new_from_bytes (file_bytes, &error);
  STTensor *tensor;
  BytesReader readers[8];
  GThread *threads[8];
  GBytes *from_property = NULL;
  GBytes *kept;
  gint go = 0;

  g_assert_no_error (error);
  tensor = g_object_ref (st_file_get_tensor (file, "w"));
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    {
      readers[i] = (BytesReader) { tensor, &go, NULL };
      threads[i] = g_thread_new ("bytes-reader", bytes_reader_thread, &readers[i]);
    }
  g_atomic_int_set (&go, 1);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    g_thread_join (threads[i]);

  g_assert_nonnull (readers[0].got);
  for (guint i = 1; i < G_N_ELEMENTS (readers); i++)
    g_assert_true (readers[i].got == readers[0].got);
  g_assert_true (st_tensor_get_bytes (tensor) == readers[0].got);
  g_assert_true (g_bytes_get_data (readers[0].got, NULL) == st_tensor_get_data (tensor, NULL));
  g_assert_cmpuint (g_bytes_get_size (readers[0].got), ==, 4);
  g_object_get (tensor, "bytes", &from_property, NULL);
  g_assert_true (from_property == readers[0].got);
  g_bytes_unref (from_property);

  kept = g_bytes_ref (readers[0].got);
  g_object_unref (file);
  g_object_unref (tensor);
  g_clear_pointer (&file_bytes, g_bytes_unref);
  g_assert_cmpmem (g_bytes_get_data (kept, NULL), g_bytes_get_size (kept), data, sizeof data);
  g_bytes_unref (kept);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tensor/new/getters", test_tensor_new_getters);
  g_test_add_func ("/tensor/new/scalar", test_tensor_new_scalar);
  g_test_add_func ("/tensor/new/empty", test_tensor_new_empty);
  g_test_add_func ("/tensor/new/size-checks", test_tensor_new_size_checks);
  g_test_add_func ("/tensor/new-from-data/owner", test_tensor_new_from_data_owner);
  g_test_add_func ("/tensor/new-from-data/owner-released", test_tensor_new_from_data_owner_released);
  g_test_add_func ("/tensor/new-from-data/error", test_tensor_new_from_data_error);
  g_test_add_func ("/tensor/new-from-data/null-address", test_tensor_new_from_data_null_address);
  g_test_add_func ("/tensor/new-from-data/no-owner", test_tensor_new_from_data_no_owner);
  g_test_add_func ("/tensor/new/bad-dtype", test_tensor_new_bad_dtype);
  g_test_add_func ("/tensor/properties", test_tensor_properties);
  g_test_add_func ("/tensor/default-object", test_tensor_default_object);
  g_test_add_func ("/tensor/equal", test_tensor_equal);
  g_test_add_func ("/tensor/shape/ranks", test_tensor_shape_ranks);
  g_test_add_func ("/tensor/bytes/on-request", test_tensor_bytes_on_request);

  return g_test_run ();
}
