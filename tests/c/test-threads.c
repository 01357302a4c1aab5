/* test-threads.c: eight threads reading one loaded file at once
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A loaded STFile may be read from several threads at once (tensors are created lazily on first access:
 * that creation must not race). Each round loads the file afresh, releases eight threads together, and each
 * thread reads everything: every tensor by name (in its own order) and its GBytes (also made on first
 * request), the bytes' checksums, the names, the metadata, and a save to bytes. All threads must see
 * identical results, the same tensor and GBytes objects, and the results of a single-threaded read.
 */
#include "st-test-util.h"

#define N_THREADS 8
#define N_TENSORS 3000
#define N_ROUNDS 6

typedef struct {
  STFile *file;
  guint index;

  /* the starting line: an atomic flag rather than a GMutex, so that ThreadSanitizer sees the
   * synchronisation (GLib's GMutex is futex-based, invisible to an uninstrumented GLib) */
  gint *go;

  /* results */
  char *summary;
  STTensor **tensors;  /* by sorted-name index */
  GBytes **bytes;      /* the tensors' GBytes, by sorted-name index */
} Reader;

/* Reads everything and sums it up in one string. */
static char *
read_everything (STFile *file, guint start, STTensor **out_tensors, GBytes **out_bytes)
{
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  g_auto(GStrv) ordered = st_file_dup_names_in_file_order (file);
  g_autoptr(GChecksum) all = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) saved = NULL;
  g_autofree char *saved_sha = NULL;
  g_autofree char *names_joined = g_strjoinv ("|", names);
  g_autofree char *ordered_joined = g_strjoinv ("|", ordered);
  guint n = g_strv_length (names);
  g_autofree char **sums = g_new0 (char *, n + 1);
  g_autofree char *sums_joined = NULL;
  char *summary;

  g_assert_cmpuint (n, ==, st_file_get_n_tensors (file));

  /* each thread starts at a different tensor, so that first accesses collide everywhere */
  for (guint k = 0; k < n; k++)
    {
      guint i = (start * 397 + k) % n;
      STTensor *tensor = st_file_get_tensor (file, names[i]);
      GBytes *bytes;
      gsize len = 0;
      gconstpointer data;

      g_assert_nonnull (tensor);
      bytes = st_tensor_get_bytes (tensor);
      data = st_tensor_get_data (tensor, &len);
      g_assert_nonnull (bytes);
      g_assert_cmpuint (g_bytes_get_size (bytes), ==, len);
      if (len > 0)
        g_assert_true (g_bytes_get_data (bytes, NULL) == data);
      if (out_bytes != NULL)
        out_bytes[i] = bytes;
      sums[i] = g_compute_checksum_for_data (G_CHECKSUM_SHA256, len > 0 ? data : (gconstpointer) "", len);
      if (out_tensors != NULL)
        out_tensors[i] = tensor;
    }
  for (guint i = 0; i < n; i++)
    g_checksum_update (all, (const guchar *) sums[i], -1);
  sums_joined = g_strdup (g_checksum_get_string (all));
  for (guint i = 0; i < n; i++)
    g_free (sums[i]);

  saved = st_file_save_to_bytes (file, &error);
  g_assert_no_error (error);
  saved_sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, saved);

  summary = g_strdup_printf ("n=%u names=%s ordered=%s data=%s meta=%s/%s saved=%s", n,
                             names_joined, ordered_joined, sums_joined,
                             st_file_get_metadata_value (file, "format"),
                             st_file_get_metadata_value (file, "name"), saved_sha);
  return summary;
}

static gpointer
reader_thread (gpointer user_data)
{
  Reader *reader = user_data;

  while (!g_atomic_int_get (reader->go))
    g_thread_yield ();

  reader->summary = read_everything (reader->file, reader->index, reader->tensors, reader->bytes);
  return NULL;
}

static STFile *
make_many_tensors (void)
{
  STFile *file = st_file_new ();

  for (guint i = 0; i < N_TENSORS; i++)
    {
      const gint64 shape[] = { 1 + i % 7, 3 };
      STDType dtype = st_test_dtypes[(i % ST_TEST_N_DTYPES)].dtype;
      g_autofree char *name = g_strdup_printf ("model.layers.%u.weight", i);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(STTensor) tensor = NULL;
      guint64 n_bytes = 0;
      guint8 *data;
      gint64 fixed_shape[2] = { shape[0], shape[1] };

      /* sub-byte dtypes: an even number of rows of 4 elements keeps whole bytes */
      if (st_test_dtypes[i % ST_TEST_N_DTYPES].bits % 8 != 0)
        fixed_shape[1] = 4;
      g_assert_true (st_dtype_compute_n_bytes (dtype, fixed_shape, 2, &n_bytes, &error));
      g_assert_no_error (error);
      data = g_malloc (n_bytes);
      for (guint64 b = 0; b < n_bytes; b++)
        data[b] = (guint8) (i * 131 + b * 7);
      bytes = g_bytes_new_take (data, n_bytes);
      tensor = st_tensor_new (dtype, fixed_shape, 2, bytes, &error);
      g_assert_no_error (error);
      g_assert_true (st_file_set_tensor (file, name, tensor, &error));
      g_assert_no_error (error);
    }
  st_file_set_metadata_value (file, "format", "pt");
  st_file_set_metadata_value (file, "name", "threads");
  return file;
}

static void
run_rounds (gboolean from_path)
{
  g_autoptr(STFile) original = make_many_tensors ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) contents = st_file_save_to_bytes (original, &error);
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "threads.safetensors", NULL);
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  g_file_set_contents (path, g_bytes_get_data (contents, NULL), (gssize) g_bytes_get_size (contents), &error);
  g_assert_no_error (error);

  /* what a single thread sees */
  {
    g_autoptr(STFile) single = st_file_new_from_bytes (contents, &error);

    g_assert_no_error (error);
    expected = read_everything (single, 0, NULL, NULL);
  }

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      g_autoptr(STFile) file = from_path ? st_file_new_from_path (path, NULL, &error)
                                         : st_file_new_from_bytes (contents, &error);
      Reader readers[N_THREADS];
      GThread *threads[N_THREADS];
      gint go = 0;

      g_assert_no_error (error);

      for (guint t = 0; t < N_THREADS; t++)
        {
          readers[t] = (Reader) {
            .file = file, .index = t, .go = &go,
            .tensors = g_new0 (STTensor *, N_TENSORS),
            .bytes = g_new0 (GBytes *, N_TENSORS),
          };
          threads[t] = g_thread_new ("reader", reader_thread, &readers[t]);
        }

      g_atomic_int_set (&go, 1);

      for (guint t = 0; t < N_THREADS; t++)
        g_thread_join (threads[t]);

      for (guint t = 0; t < N_THREADS; t++)
        {
          g_assert_cmpstr (readers[t].summary, ==, expected);
          /* every thread got the very same tensor objects: lazily made once, not once per thread */
          for (guint i = 0; i < N_TENSORS; i++)
            g_assert_true (readers[t].tensors[i] == readers[0].tensors[i]);
          /* and the very same GBytes of each */
          for (guint i = 0; i < N_TENSORS; i++)
            g_assert_true (readers[t].bytes[i] == readers[0].bytes[i]);
        }
      for (guint t = 0; t < N_THREADS; t++)
        {
          g_free (readers[t].summary);
          g_free (readers[t].tensors);
          g_free (readers[t].bytes);
        }
    }

  st_test_rm_rf (dir);
}

static void
test_threads_from_path (void)
{
  run_rounds (TRUE);
}

static void
test_threads_from_bytes (void)
{
  run_rounds (FALSE);
}

#define IN_ORDER_TENSORS 64

typedef struct {
  STFile   *file;
  guint     stride;   /* the order a reader asks in: i * stride mod IN_ORDER_TENSORS */
  gint     *go;
  gboolean  ok;
} IndexReader;

static gpointer
index_reader_thread (gpointer data)
{
  IndexReader *reader = data;

  while (!g_atomic_int_get (reader->go))
    g_thread_yield ();
  reader->ok = !st_file_contains (reader->file, "missing");
  for (guint i = 0; i < IN_ORDER_TENSORS; i++)
    {
      guint k = (i * reader->stride) % IN_ORDER_TENSORS;
      char name[8];
      STTensor *tensor;

      g_snprintf (name, sizeof name, "t%02u", k);
      tensor = st_file_get_tensor (reader->file, name);
      reader->ok = reader->ok && tensor != NULL && ((const guint8 *) st_tensor_get_data (tensor, NULL))[0] == k;
    }
  return NULL;
}

/* A file of IN_ORDER_TENSORS tensors of one byte, written by hand: tensor "tNN" holds the byte NN; listed
 * (and laid out) by increasing names, or by decreasing ones. */
static STFile *
make_one_byte_tensors (gboolean increasing)
{
  g_autoptr(GString) header = g_string_new ("{");
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GError) error = NULL;
  guint8 data[IN_ORDER_TENSORS];
  STFile *file;

  for (guint i = 0; i < IN_ORDER_TENSORS; i++)
    {
      guint k = increasing ? i : IN_ORDER_TENSORS - 1 - i;

      g_string_append_printf (header, "%s\"t%02u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[%u,%u]}",
                              i > 0 ? "," : "", k, i, i + 1);
      data[i] = (guint8) k;
    }
  g_string_append_c (header, '}');
  contents = st_test_make_file_full (header->len, header->str, header->len, data, sizeof data);
  file = st_file_new_from_bytes (contents, &error);
  g_assert_no_error (error);
  return file;
}

/* Eight threads ask @file for every tensor at once, each in its own order, and for one it lacks */
static void
read_in_threads (STFile *file)
{
  IndexReader readers[8];
  GThread *threads[8];
  gint go = 0;

  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    {
      readers[i] = (IndexReader) { file, 2 * i + 1, &go, FALSE };
      threads[i] = g_thread_new ("index-reader", index_reader_thread, &readers[i]);
    }
  g_atomic_int_set (&go, 1);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (readers[i].ok);
    }
}

/* A loaded file makes its name index on the first lookup that needs one (st_file_get_index()), whether its
 * header needed one for its duplicate check (names out of order) or not (names in order). Readers in
 * several threads asking at once, each in its own order, all find every tensor; then setting and
 * removing tensors uses that index. */
static void
test_threads_index_on_first_use (void)
{
  g_autoptr(STFile) decreasing = make_one_byte_tensors (FALSE);
  g_autoptr(STFile) file = make_one_byte_tensors (TRUE);
  g_autoptr(STTensor) replacement = NULL;
  g_autoptr(GBytes) replacement_bytes = g_bytes_new_static ("\xff", 1);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  const gint64 one[] = { 1 };

  read_in_threads (decreasing);
  read_in_threads (file);

  /* replaced in place, keeping its position; removed; added at the end */
  replacement = st_tensor_new (ST_DTYPE_U8, one, 1, replacement_bytes, &error);
  g_assert_no_error (error);
  g_assert_true (st_file_set_tensor (file, "t10", replacement, &error));
  g_assert_no_error (error);
  g_assert_true (st_file_get_tensor (file, "t10") == replacement);
  g_assert_true (st_file_remove_tensor (file, "t20"));
  g_assert_false (st_file_contains (file, "t20"));
  g_assert_true (st_file_set_tensor (file, "t99", replacement, &error));
  g_assert_no_error (error);
  names = st_file_dup_names_in_file_order (file);
  g_assert_cmpuint (g_strv_length (names), ==, IN_ORDER_TENSORS);
  g_assert_cmpstr (names[10], ==, "t10");
  g_assert_cmpstr (names[20], ==, "t21");
  g_assert_cmpstr (names[IN_ORDER_TENSORS - 1], ==, "t99");
  g_assert_cmpuint (((const guint8 *) st_tensor_get_data (st_file_get_tensor (file, "t63"), NULL))[0], ==, 63);
  g_assert_true (st_file_get_tensor (file, "t99") == replacement);
}

typedef struct {
  STFile        *file;
  gint          *go;
  STTensorInfo **items;  /* by position, one reference each */
} ItemReader;

static gpointer
item_reader_thread (gpointer data)
{
  ItemReader *reader = data;

  while (!g_atomic_int_get (reader->go))
    g_thread_yield ();
  for (guint i = 0; i < IN_ORDER_TENSORS; i++)
    reader->items[i] = g_list_model_get_item (G_LIST_MODEL (reader->file), i);
  return NULL;
}

/* The list model's items of a loaded file, made on first access: eight threads asking for every item at
 * once all get the same objects, which describe the tensors in file order; a tensor replaced or removed
 * drops its item, and one added has its own. */
static void
test_threads_list_model_items (void)
{
  g_autoptr(STFile) file = make_one_byte_tensors (FALSE);
  g_autoptr(GBytes) two_bytes = g_bytes_new_static ("\x01\x02", 2);
  g_autoptr(STTensor) replacement = NULL;
  g_autoptr(STTensorInfo) replaced = NULL;
  g_autoptr(STTensorInfo) added = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 two[] = { 2 };
  ItemReader readers[8];
  GThread *threads[8];
  gint go = 0;

  for (guint t = 0; t < G_N_ELEMENTS (readers); t++)
    {
      readers[t] = (ItemReader) { file, &go, g_new0 (STTensorInfo *, IN_ORDER_TENSORS) };
      threads[t] = g_thread_new ("item-reader", item_reader_thread, &readers[t]);
    }
  g_atomic_int_set (&go, 1);
  for (guint t = 0; t < G_N_ELEMENTS (readers); t++)
    g_thread_join (threads[t]);

  for (guint i = 0; i < IN_ORDER_TENSORS; i++)
    {
      /* laid out by decreasing names: position i holds "t(N-1-i)", data byte i */
      g_autofree char *name = g_strdup_printf ("t%02u", IN_ORDER_TENSORS - 1 - i);
      STTensorInfo *item = readers[0].items[i];

      g_assert_nonnull (item);
      g_assert_cmpstr (st_tensor_info_get_name (item), ==, name);
      g_assert_cmpint (st_tensor_info_get_data_begin (item), ==, i);
      g_assert_cmpint (st_tensor_info_get_data_end (item), ==, i + 1);
      for (guint t = 1; t < G_N_ELEMENTS (readers); t++)
        g_assert_true (readers[t].items[i] == item);
    }

  /* "t60" is at position 3: replaced by a tensor of two bytes, the item asked for next describes it */
  replacement = st_tensor_new (ST_DTYPE_U8, two, 1, two_bytes, &error);
  g_assert_no_error (error);
  g_assert_true (st_file_set_tensor (file, "t60", replacement, &error));
  g_assert_no_error (error);
  replaced = g_list_model_get_item (G_LIST_MODEL (file), 3);
  g_assert_true (replaced != readers[0].items[3]);
  g_assert_cmpstr (st_tensor_info_get_name (replaced), ==, "t60");
  g_assert_cmpuint (st_tensor_info_get_n_bytes (replaced), ==, 2);
  g_assert_cmpint (st_tensor_info_get_data_begin (replaced), ==, -1);
  /* the old item, still held, is as it was */
  g_assert_cmpuint (st_tensor_info_get_n_bytes (readers[0].items[3]), ==, 1);

  /* "t63" (position 0) removed: position 0 is now "t62"'s item, the one made in the threads */
  g_assert_true (st_file_remove_tensor (file, "t63"));
  {
    g_autoptr(STTensorInfo) first = g_list_model_get_item (G_LIST_MODEL (file), 0);

    g_assert_true (first == readers[0].items[1]);
  }
  g_assert_true (st_file_set_tensor (file, "new", replacement, &error));
  g_assert_no_error (error);
  added = g_list_model_get_item (G_LIST_MODEL (file), IN_ORDER_TENSORS - 1);
  g_assert_cmpstr (st_tensor_info_get_name (added), ==, "new");
  {
    g_autoptr(STTensorInfo) again = g_list_model_get_item (G_LIST_MODEL (file), IN_ORDER_TENSORS - 1);

    g_assert_true (again == added);
  }

  for (guint t = 0; t < G_N_ELEMENTS (readers); t++)
    {
      for (guint i = 0; i < IN_ORDER_TENSORS; i++)
        g_object_unref (readers[t].items[i]);
      g_free (readers[t].items);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/threads/from-path", test_threads_from_path);
  g_test_add_func ("/threads/from-bytes", test_threads_from_bytes);
  g_test_add_func ("/threads/index-on-first-use", test_threads_index_on_first_use);
  g_test_add_func ("/threads/list-model-items", test_threads_list_model_items);

  return g_test_run ();
}
