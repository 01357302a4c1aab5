/* test-file-load.c: loading an STFile from every source (st-file-load.c), and failures
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
 * Loading
 */

typedef enum {
  SOURCE_PATH,
  SOURCE_BYTES,
  SOURCE_GFILE,
  SOURCE_STREAM,
} Source;

static const char *source_names[] = { "path", "bytes", "gfile", "stream" };

static STFile *
load_from (Source source, const char *path, GBytes *contents, GError **error)
{
  switch (source)
    {
    case SOURCE_PATH:
      return st_file_new_from_path (path, NULL, error);
    case SOURCE_BYTES:
      return st_file_new_from_bytes (contents, error);
    case SOURCE_GFILE:
      {
        g_autoptr(GFile) gfile = g_file_new_for_path (path);
        return st_file_new_from_gfile (gfile, NULL, error);
      }
    case SOURCE_STREAM:
      {
        g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (contents);
        return st_file_new_from_stream (stream, NULL, error);
      }
    default:
      g_assert_not_reached ();
    }
}

/* Every getter of a loaded sample file, from each source. */
static void
test_file_load_sources (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sample.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  guint64 header_len = read_header_len (contents);
  guint64 data_size = g_bytes_get_size (contents) - 8 - header_len;

  write_file (path, contents);

  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, contents, &error);
      g_auto(GStrv) ordered = NULL;
      guint64 prev_end = 0;

      st_test_note ("loading from %s", source_names[source]);
      g_assert_no_error (error);
      g_assert_nonnull (file);
      st_test_assert_files_equal (file, original);
      g_assert_cmpuint (st_file_get_n_tensors (file), ==, 6);
      g_assert_cmpstr (st_file_get_metadata_value (file, "format"), ==, "pt");
      g_assert_cmpstr (st_file_get_metadata_value (file, "note"), ==,
                       "a \"quoted\"\nline\twith \\ and \x01 and caf\xc3\xa9");
      g_assert_cmpuint (st_file_get_data_size (file), ==, data_size);
      /* the header size is the N of the prefix, padding included */
      g_assert_cmpuint (st_file_get_header_size (file), ==, header_len);
      g_assert_cmpuint (st_file_get_header_size (file) % 8, ==, 0);
      g_assert_cmpuint (st_file_get_data_address (file), !=, 0);
      if (source == SOURCE_BYTES)
        g_assert_cmpuint (st_file_get_data_address (file), ==,
                          (guint64) (guintptr) g_bytes_get_data (contents, NULL) + 8 + header_len);

      /* file order is data order: each tensor begins where the previous one ended */
      ordered = st_file_dup_names_in_file_order (file);
      g_assert_cmpuint (g_strv_length (ordered), ==, 6);
      for (guint i = 0; ordered[i] != NULL; i++)
        {
          STTensor *tensor = st_file_get_tensor (file, ordered[i]);
          guint64 begin = 0, end = 0;

          g_assert_true (st_file_get_tensor_offsets (file, ordered[i], &begin, &end));
          g_assert_cmpuint (begin, ==, prev_end);
          g_assert_cmpuint (end - begin, ==, st_tensor_get_n_bytes (tensor));
          prev_end = end;

          /* path and bytes loads are zero-copy: the tensor lies in the file's data at its offset */
          if ((source == SOURCE_PATH || source == SOURCE_BYTES) && end > begin)
            g_assert_cmpuint (st_tensor_get_data_address (tensor), ==, st_file_get_data_address (file) + begin);
          if (source == SOURCE_BYTES && end > begin)
            g_assert_true ((const guint8 *) st_tensor_get_data (tensor, NULL) ==
                           (const guint8 *) g_bytes_get_data (contents, NULL) + 8 + header_len + begin);
        }
      g_assert_cmpuint (prev_end, ==, data_size);
      /* the writer puts dtypes in reverse enumeration order: I64 first, then ... F4, and BOOL last */
      g_assert_cmpstr (ordered[0], ==, "step");
      g_assert_cmpstr (ordered[4], ==, "packed");
      g_assert_cmpstr (ordered[5], ==, "flags");

      {
        guint64 b = 7, e = 7;
        g_assert_false (st_file_get_tensor_offsets (file, "nope", &b, &e));
      }
    }

  st_test_rm_rf (dir);
}

/* A tensor taken from a loaded file keeps the file's memory alive after the file is gone. */
static void
test_file_tensor_outlives_file (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sample.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) kept = NULL;
  g_autoptr(GBytes) kept_bytes = NULL;
  STFile *file;

  write_file (path, contents);
  file = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  kept = g_object_ref (st_file_get_tensor (file, "weight"));
  kept_bytes = g_bytes_ref (st_tensor_get_bytes (st_file_get_tensor (file, "bias")));
  g_object_unref (file);
  st_test_rm_rf (dir);

  g_assert_true (st_tensor_equal (kept, st_file_get_tensor (original, "weight")));
  g_assert_true (g_bytes_equal (kept_bytes, st_tensor_get_bytes (st_file_get_tensor (original, "bias"))));
}

/* Tensors kept past their file, from each source, keep their whole layout: a loaded tensor borrows its
 * shape from the file's header, whose memory its data keeps alive (under valgrind or a sanitizer, a
 * shape read after it was freed fails here). Header and bytes written by hand. */
static void
test_file_tensor_layout_outlives_file (void)
{
  const char *header = "{\"scalar\":{\"dtype\":\"I16\",\"shape\":[],\"data_offsets\":[0,2]},"
                       "\"five\":{\"dtype\":\"U8\",\"shape\":[1,2,1,3,1],\"data_offsets\":[2,8]},"
                       "\"empty\":{\"dtype\":\"F32\",\"shape\":[4,0],\"data_offsets\":[8,8]},"
                       "\"row\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[8,10]}}";
  const guint8 data[] = { 0x34, 0x12, 1, 2, 3, 4, 5, 6, 7, 8 };
  const gint64 five_shape[] = { 1, 2, 1, 3, 1 };
  const gint64 empty_shape[] = { 4, 0 };
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "layout.safetensors", NULL);
  g_autoptr(GBytes) contents = st_test_make_file_full (strlen (header), header, strlen (header), data, sizeof data);

  write_file (path, contents);

  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) input = g_bytes_new (g_bytes_get_data (contents, NULL), g_bytes_get_size (contents));
      STFile *file = load_from (source, path, input, &error);
      g_autoptr(STTensor) scalar = NULL;
      g_autoptr(STTensor) five = NULL;
      g_autoptr(STTensor) empty = NULL;
      g_autoptr(GBytes) row_bytes = NULL;
      const gint64 *shape;
      gsize n_bytes = 0;
      guint n_dims = 99;

      st_test_note ("loading from %s", source_names[source]);
      g_assert_no_error (error);
      scalar = g_object_ref (st_file_get_tensor (file, "scalar"));
      five = g_object_ref (st_file_get_tensor (file, "five"));
      empty = g_object_ref (st_file_get_tensor (file, "empty"));
      row_bytes = g_bytes_ref (st_tensor_get_bytes (st_file_get_tensor (file, "row")));
      g_object_unref (file);
      g_clear_pointer (&input, g_bytes_unref);

      g_assert_cmpint (st_tensor_get_dtype (scalar), ==, ST_DTYPE_I16);
      st_tensor_get_shape (scalar, &n_dims);
      g_assert_cmpuint (n_dims, ==, 0);
      g_assert_cmpuint (st_tensor_get_n_elements (scalar), ==, 1);
      g_assert_cmpmem (st_tensor_get_data (scalar, &n_bytes), n_bytes, data, 2);

      g_assert_cmpint (st_tensor_get_dtype (five), ==, ST_DTYPE_U8);
      shape = st_tensor_get_shape (five, &n_dims);
      g_assert_cmpmem (shape, n_dims * sizeof (gint64), five_shape, sizeof five_shape);
      g_assert_cmpuint (st_tensor_get_n_elements (five), ==, 6);
      g_assert_cmpuint (st_tensor_get_n_bytes (five), ==, 6);
      g_assert_cmpmem (st_tensor_get_data (five, &n_bytes), n_bytes, data + 2, 6);

      shape = st_tensor_get_shape (empty, &n_dims);
      g_assert_cmpmem (shape, n_dims * sizeof (gint64), empty_shape, sizeof empty_shape);
      g_assert_cmpuint (st_tensor_get_n_elements (empty), ==, 0);
      g_assert_cmpuint (st_tensor_get_n_bytes (empty), ==, 0);

      g_assert_cmpmem (g_bytes_get_data (row_bytes, NULL), g_bytes_get_size (row_bytes), data + 8, 2);
    }

  st_test_rm_rf (dir);
}

/* Loading a path maps it privately: writing into a tensor changes the tensor, never the file. */
static void
test_file_private_mapping (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sample.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(STFile) again = NULL;
  STTensor *weight;
  guint8 *data;
  gsize len = 0;

  write_file (path, contents);
  file = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  weight = st_file_get_tensor (file, "weight");
  data = (guint8 *) st_tensor_get_data (weight, &len);
  g_assert_cmpuint (len, ==, 24);
  memset (data, 0xAB, len);
  g_assert_cmpuint (((const guint8 *) st_tensor_get_data (weight, NULL))[5], ==, 0xAB);

  /* the file on disk is unchanged, and so is a second load of it */
  assert_file_contents (path, contents);
  again = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (st_tensor_equal (st_file_get_tensor (again, "weight"), st_file_get_tensor (original, "weight")));

  st_test_rm_rf (dir);
}

/* A missing file is the I/O error "not found" (st-error.h: I/O errors pass through in G_IO_ERROR). */
static void
test_file_load_missing (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "missing.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) gfile = g_file_new_for_path (path);
  STFile *file;

  file = st_file_new_from_path (path, NULL, &error);
  g_assert_null (file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "missing.safetensors"));
  g_clear_error (&error);

  file = st_file_new_from_gfile (gfile, NULL, &error);
  g_assert_null (file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* a directory is not a safetensors file either */
  file = st_file_new_from_path (dir, NULL, &error);
  g_assert_null (file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
  st_test_note ("directory: %s", error->message);
  g_clear_error (&error);

  st_test_rm_rf (dir);
}

/* A format error loading a path names the path (st_file_new_from_path: "the path before the message"). */
static void
test_file_load_error_names_path (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "broken-model.safetensors", NULL);
  g_autoptr(GBytes) bad = st_test_make_file ("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  write_file (path, bad);
  file = st_file_new_from_path (path, NULL, &error);
  g_assert_null (file);
  st_test_assert_st_error (error, ST_ERROR_INVALID_DTYPE);
  g_assert_nonnull (strstr (error->message, "broken-model.safetensors"));
  g_assert_nonnull (strstr (error->message, "F128"));
  st_test_rm_rf (dir);
}

typedef struct {
  char *path;
  GBytes *contents;
} FifoWriter;

static gpointer
fifo_writer_thread (gpointer user_data)
{
  FifoWriter *writer = user_data;
  FILE *fifo = fopen (writer->path, "wb");
  gsize len = g_bytes_get_size (writer->contents);

  g_assert_nonnull (fifo);
  /* in small pieces, so that the reader sees short reads */
  for (gsize done = 0; done < len; done += 7)
    {
      g_assert_cmpuint (fwrite ((const guint8 *) g_bytes_get_data (writer->contents, NULL) + done, 1,
                                MIN (7, len - done), fifo), ==, MIN (7, len - done));
      fflush (fifo);
    }
  fclose (fifo);
  return NULL;
}

/* A path that is not a regular file is read as a stream: a named pipe loads, /dev/null is too small. */
static void
test_file_load_not_regular (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "pipe.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(STFile) null_file = NULL;
  FifoWriter writer = { path, contents };
  GThread *thread;

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  thread = g_thread_new ("fifo-writer", fifo_writer_thread, &writer);
  file = st_file_new_from_path (path, NULL, &error);
  g_thread_join (thread);
  g_assert_no_error (error);
  st_test_assert_files_equal (file, original);

  null_file = st_file_new_from_path ("/dev/null", NULL, &error);
  g_assert_null (null_file);
  st_test_assert_st_error (error, ST_ERROR_HEADER_TOO_SMALL);

  st_test_rm_rf (dir);
}

/* A zero-length file (which cannot be mapped) is too small, from every source. */
static void
test_file_load_zero_length (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "zero.safetensors", NULL);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);

  write_file (path, empty);
  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, empty, &error);

      st_test_note ("loading from %s", source_names[source]);
      g_assert_null (file);
      st_test_assert_st_error (error, ST_ERROR_HEADER_TOO_SMALL);
    }
  st_test_rm_rf (dir);
}

/* Bytes after the last tensor are rejected from every source: they are how polyglot files hide. */
static void
test_file_load_trailing_bytes (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "trailing.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GByteArray) longer = g_byte_array_new ();
  g_autoptr(GBytes) with_trailer = NULL;

  g_byte_array_append (longer, g_bytes_get_data (contents, NULL), g_bytes_get_size (contents));
  g_byte_array_append (longer, (const guint8 *) "X", 1);
  with_trailer = g_bytes_new (longer->data, longer->len);
  write_file (path, with_trailer);

  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, with_trailer, &error);

      st_test_note ("loading from %s", source_names[source]);
      g_assert_null (file);
      st_test_assert_st_error (error, ST_ERROR_INCOMPLETE_BUFFER);
    }
  st_test_rm_rf (dir);
}

/* A file cut short in its data is incomplete, from every source. */
static void
test_file_load_truncated (void)
{
  g_autofree char *dir = st_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "truncated.safetensors", NULL);
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (contents, 0, g_bytes_get_size (contents) - 1);

  write_file (path, truncated);
  for (Source source = SOURCE_PATH; source <= SOURCE_STREAM; source++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = load_from (source, path, truncated, &error);

      st_test_note ("loading from %s", source_names[source]);
      g_assert_null (file);
      st_test_assert_st_error (error, ST_ERROR_INCOMPLETE_BUFFER);
    }
  st_test_rm_rf (dir);
}

/* ---------------------------------------------------------------------------------------------------------
 * Streams that misbehave
 */

/* An input stream that gives at most @chunk bytes per read and can fail after @fail_after bytes. */
#define TEST_TYPE_TRICKLE_STREAM (test_trickle_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestTrickleStream, test_trickle_stream, TEST, TRICKLE_STREAM, GInputStream)

struct _TestTrickleStream
{
  GInputStream parent_instance;
  GBytes *bytes;
  gsize pos;
  gsize chunk;
  gsize fail_after;  /* G_MAXSIZE: never */
  gboolean endless;  /* after the bytes, an endless run of 'x' */
};

G_DEFINE_FINAL_TYPE (TestTrickleStream, test_trickle_stream, G_TYPE_INPUT_STREAM)

static gssize
test_trickle_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                          GError **error)
{
  TestTrickleStream *self = TEST_TRICKLE_STREAM (stream);
  gsize size = g_bytes_get_size (self->bytes);
  gsize n;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  if (self->pos >= self->fail_after)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "the test stream broke at byte %"
                   G_GSIZE_FORMAT, self->pos);
      return -1;
    }
  n = MIN (count, self->chunk);
  if (self->endless && self->pos >= size)
    {
      /* give up after 64 MB all the same, so that a reader that reads to the end fails the test and
       * does not take the machine down */
      n = self->pos < size + 64 * 1024 * 1024 ? n : 0;
      memset (buffer, 'x', n);
      self->pos += n;
      return (gssize) n;
    }
  n = MIN (n, size - self->pos);
  n = MIN (n, self->fail_after - self->pos);
  memcpy (buffer, (const guint8 *) g_bytes_get_data (self->bytes, NULL) + self->pos, n);
  self->pos += n;
  return (gssize) n;
}

static gboolean
test_trickle_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
test_trickle_stream_finalize (GObject *object)
{
  g_bytes_unref (TEST_TRICKLE_STREAM (object)->bytes);
  G_OBJECT_CLASS (test_trickle_stream_parent_class)->finalize (object);
}

static void
test_trickle_stream_class_init (TestTrickleStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_trickle_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = test_trickle_stream_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = test_trickle_stream_close;
}

static void
test_trickle_stream_init (TestTrickleStream *self)
{
}

static GInputStream *
trickle_stream_new (GBytes *bytes, gsize chunk, gsize fail_after)
{
  TestTrickleStream *self = g_object_new (TEST_TYPE_TRICKLE_STREAM, NULL);

  self->bytes = g_bytes_ref (bytes);
  self->chunk = chunk;
  self->fail_after = fail_after;
  return G_INPUT_STREAM (self);
}

/* Short reads are normal for streams: one byte at a time still loads the same file. */
static void
test_file_stream_short_reads (void)
{
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  const gsize chunks[] = { 1, 3, 7, 4096 };

  for (gsize i = 0; i < G_N_ELEMENTS (chunks); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInputStream) stream = trickle_stream_new (contents, chunks[i], G_MAXSIZE);
      g_autoptr(STFile) file = st_file_new_from_stream (stream, NULL, &error);

      g_assert_no_error (error);
      st_test_assert_files_equal (file, original);
    }
}

/* An I/O error in the middle of the data passes through unchanged. */
static void
test_file_stream_io_error (void)
{
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  const gsize fail_points[] = { 0, 4, 8, 20, g_bytes_get_size (contents) - 1 };

  for (gsize i = 0; i < G_N_ELEMENTS (fail_points); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInputStream) stream = trickle_stream_new (contents, 5, fail_points[i]);
      g_autoptr(STFile) file = st_file_new_from_stream (stream, NULL, &error);

      g_assert_null (file);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
    }
}

/* A header that claims a terabyte of data, on a stream that has sixteen bytes: a clean error, and no
 * attempt to allocate the terabyte first. The same for a header length that claims 100 MB. */
static void
test_file_stream_hostile_claims (void)
{
  const char *header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[1099511627776],"
                       "\"data_offsets\":[0,1099511627776]}}";
  g_autoptr(GBytes) tera = st_test_make_file (header, 16);
  g_autoptr(GBytes) big_header = st_test_make_file_full (ST_TEST_MAX_HEADER, "{\"a\":", 5, NULL, 11);
  GBytes *inputs[] = { tera, big_header };

  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInputStream) memory = g_memory_input_stream_new_from_bytes (inputs[i]);
      g_autoptr(GInputStream) trickle = trickle_stream_new (inputs[i], 3, G_MAXSIZE);
      g_autoptr(STFile) file = st_file_new_from_stream (memory, NULL, &error);
      g_autoptr(STFile) file2 = NULL;

      g_assert_null (file);
      g_assert_nonnull (error);
      g_assert_true (error->domain == ST_ERROR);
      st_test_note ("memory stream: %s", error->message);
      g_clear_error (&error);

      file2 = st_file_new_from_stream (trickle, NULL, &error);
      g_assert_null (file2);
      g_assert_nonnull (error);
      g_assert_true (error->domain == ST_ERROR);
      st_test_note ("trickle stream: %s", error->message);
      g_clear_error (&error);

      /* and from bytes */
      g_assert_null (st_file_new_from_bytes (inputs[i], &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == ST_ERROR);
    }

  /* the terabyte claim in particular is an incomplete buffer */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GInputStream) memory = g_memory_input_stream_new_from_bytes (tera);
    g_autoptr(STFile) file = st_file_new_from_stream (memory, NULL, &error);

    g_assert_null (file);
    st_test_assert_st_error (error, ST_ERROR_INCOMPLETE_BUFFER);
  }
}

/* A stream that never ends after a valid file: trailing bytes, found by reading one byte past the data,
 * not by reading the stream to its end. */
static void
test_file_stream_endless (void)
{
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GInputStream) stream = trickle_stream_new (contents, 1 << 20, G_MAXSIZE);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  TEST_TRICKLE_STREAM (stream)->endless = TRUE;
  file = st_file_new_from_stream (stream, NULL, &error);
  g_assert_null (file);
  st_test_assert_st_error (error, ST_ERROR_INCOMPLETE_BUFFER);
  st_test_note ("read %" G_GSIZE_FORMAT " bytes of an endless stream after a %" G_GSIZE_FORMAT "-byte file",
                TEST_TRICKLE_STREAM (stream)->pos, g_bytes_get_size (contents));
  g_assert_cmpuint (TEST_TRICKLE_STREAM (stream)->pos, <=, g_bytes_get_size (contents) + 1024 * 1024);
}

static void
test_file_stream_cancelled (void)
{
  g_autoptr(STFile) original = make_sample_file ();
  g_autoptr(GBytes) contents = save_to_bytes (original);
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (contents);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;

  g_cancellable_cancel (cancellable);
  file = st_file_new_from_stream (stream, cancellable, &error);
  g_assert_null (file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A GFile with no local path (here a GResource compiled into this test) is read as a stream: same
 * tensors as the mapped file, same verdict on a hostile one, and the same through the async stream load. */
static void
test_file_gfile_not_native (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fixtures = st_test_fixtures_dir ();
  g_autofree char *path = g_build_filename (fixtures, "valid", "all_dtypes.safetensors", NULL);
  g_autoptr(GFile) resource = g_file_new_for_uri ("resource:///org/gnome/safetensors-glib/tests/valid/all_dtypes.safetensors");
  g_autoptr(GFile) hostile = g_file_new_for_uri ("resource:///org/gnome/safetensors-glib/tests/invalid/offsets_overlap.safetensors");
  g_autoptr(STFile) mapped = NULL;
  g_autoptr(STFile) streamed = NULL;
  g_autoptr(STFile) rejected = NULL;
  g_auto(GStrv) names = NULL;

  g_assert_null (g_file_get_path (resource));

  mapped = st_file_new_from_path (path, NULL, &error);
  g_assert_no_error (error);
  streamed = st_file_new_from_gfile (resource, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (streamed);

  g_assert_cmpuint (st_file_get_n_tensors (streamed), ==, st_file_get_n_tensors (mapped));
  g_assert_cmpuint (st_file_get_header_size (streamed), ==, st_file_get_header_size (mapped));
  names = st_file_dup_names_sorted (mapped);
  for (guint i = 0; names[i] != NULL; i++)
    g_assert_true (st_tensor_equal (st_file_get_tensor (mapped, names[i]),
                                    st_file_get_tensor (streamed, names[i])));

  rejected = st_file_new_from_gfile (hostile, NULL, &error);
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS);
  g_assert_null (rejected);
  g_clear_error (&error);

  /* A GFile that does not exist: GIO's not-found error, passed through. */
  {
    g_autoptr(GFile) missing = g_file_new_for_uri ("resource:///org/gnome/safetensors-glib/tests/none.safetensors");
    g_autoptr(STFile) none = st_file_new_from_gfile (missing, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/file/load/sources", test_file_load_sources);
  g_test_add_func ("/file/load/tensor-outlives-file", test_file_tensor_outlives_file);
  g_test_add_func ("/file/load/tensor-layout-outlives-file", test_file_tensor_layout_outlives_file);
  g_test_add_func ("/file/load/private-mapping", test_file_private_mapping);
  g_test_add_func ("/file/load/missing", test_file_load_missing);
  g_test_add_func ("/file/load/zero-length", test_file_load_zero_length);
  g_test_add_func ("/file/load/error-names-path", test_file_load_error_names_path);
  g_test_add_func ("/file/load/not-regular", test_file_load_not_regular);
  g_test_add_func ("/file/load/trailing-bytes", test_file_load_trailing_bytes);
  g_test_add_func ("/file/load/truncated", test_file_load_truncated);
  g_test_add_func ("/file/stream/short-reads", test_file_stream_short_reads);
  g_test_add_func ("/file/stream/io-error", test_file_stream_io_error);
  g_test_add_func ("/file/stream/hostile-claims", test_file_stream_hostile_claims);
  g_test_add_func ("/file/stream/cancelled", test_file_stream_cancelled);
  g_test_add_func ("/file/stream/endless", test_file_stream_endless);
  g_test_add_func ("/file/gfile/not-native", test_file_gfile_not_native);

  return g_test_run ();
}
