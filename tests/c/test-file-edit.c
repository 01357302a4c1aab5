/* test-file-edit.c: in-place header edits, their mark, their lock and their repair
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A file marked by an edit that did not finish (its header length has the top bit set) is reported by
 * every way of loading it with ST_ERROR_INTERRUPTED_EDIT, naming the file and the repair; an edit refuses
 * it, and the repair completes it. An edit while another process holds the file's lock fails with
 * G_IO_ERROR_BUSY and writes nothing. The files are written here byte by byte, as the format defines
 * them; the kills, full disks and concurrent editors are in tests/fault/test_edit_faults.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#include "st-test-util.h"

/* {"__metadata__":{"k":"v1"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}, padded to 80 bytes,
 * then the two floats 1 and 2. */
static const char header_v1[] =
  "{\"__metadata__\":{\"k\":\"v1\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
static const char header_v2[] =
  "{\"__metadata__\":{\"k\":\"v2\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
static const guint8 data_bytes[8] = { 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40 };

#define JSON_SIZE 80

static GBytes *
file_bytes (const char *header,
            gboolean    marked)
{
  GByteArray *out = g_byte_array_new ();
  guint8 prefix[8] = { JSON_SIZE, 0, 0, 0, 0, 0, 0, marked ? 0x80 : 0 };
  gsize len = strlen (header);

  g_assert_cmpuint (len, <=, JSON_SIZE);
  g_byte_array_append (out, prefix, 8);
  g_byte_array_append (out, (const guint8 *) header, (guint) len);
  for (gsize i = len; i < JSON_SIZE; i++)
    g_byte_array_append (out, (const guint8 *) " ", 1);
  g_byte_array_append (out, data_bytes, sizeof data_bytes);
  return g_byte_array_free_to_bytes (out);
}

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("st-test-edit-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "m.safetensors", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_unlink (fixture->path);
  g_assert_cmpint (g_rmdir (fixture->dir), ==, 0);
  g_free (fixture->path);
  g_free (fixture->dir);
}

static void
write_file (const char *path,
            GBytes     *bytes)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

/* Overwrites @path with @bytes of the same length without replacing it: the inode a loaded STFile maps
 * stays the file, as when another editor marks it. */
static void
overwrite_file (const char *path,
                GBytes     *bytes)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), 0), ==,
                   (gssize) g_bytes_get_size (bytes));
  g_assert_cmpint (close (fd), ==, 0);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static void
assert_names_repair (const GError *error,
                     const char   *path)
{
  g_autofree char *repair = g_strdup_printf ("st-tool metadata --repair %s", path);

  g_assert_error (error, ST_ERROR, ST_ERROR_INTERRUPTED_EDIT);
  st_test_note ("%s", error->message);
  g_assert_nonnull (strstr (error->message, repair));
  g_assert_null (strstr (error->message, "over the limit"));
}

static void
test_marked_file_loads_as_interrupted (Fixture       *fixture,
                                       gconstpointer  user_data)
{
  g_autoptr(GBytes) marked = file_bytes (header_v1, TRUE);

  write_file (fixture->path, marked);

  /* Mapped and read into memory alike: the error names the file and the repair. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(STFile) file = st_file_new_from_path_full (fixture->path,
                                                           i == 0 ? ST_LOAD_FLAGS_NONE : ST_LOAD_FLAGS_NO_MMAP,
                                                           NULL, &error);

      g_assert_null (file);
      assert_names_repair (error, fixture->path);
    }

  /* Bytes and streams have no name: the code and the repair command, for the file they came from. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(STFile) file = st_file_new_from_bytes (marked, &error);

    g_assert_null (file);
    g_assert_error (error, ST_ERROR, ST_ERROR_INTERRUPTED_EDIT);
    g_assert_nonnull (strstr (error->message, "st-tool metadata --repair"));
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (marked);
    g_autoptr(STFile) file = st_file_new_from_stream (stream, NULL, &error);

    g_assert_null (file);
    g_assert_error (error, ST_ERROR, ST_ERROR_INTERRUPTED_EDIT);
  }
}

static void
test_top_bit_over_a_length_past_the_input_is_too_large (void)
{
  /* Only a mark over a length that fits the input is the mark of an edit; anything else stays an
   * oversized header, as Hugging Face reports it. */
  guint8 input[16] = { 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0x80, '{', '}', ' ', ' ', ' ', ' ', ' ', ' ' };
  g_autoptr(GBytes) bytes = g_bytes_new (input, sizeof input);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_bytes (bytes, &error);

  g_assert_null (file);
  g_assert_error (error, ST_ERROR, ST_ERROR_HEADER_TOO_LARGE);
}

static void
test_edit_refuses_a_marked_file_and_repair_completes_it (Fixture       *fixture,
                                                         gconstpointer  user_data)
{
  g_autoptr(GBytes) clean = file_bytes (header_v1, FALSE);
  g_autoptr(GBytes) marked = file_bytes (header_v1, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  gboolean repaired = TRUE;

  write_file (fixture->path, clean);
  file = st_file_new_from_path (fixture->path, NULL, &error);
  g_assert_no_error (error);

  /* Marked after the load, as another editor that stopped would leave it. */
  overwrite_file (fixture->path, marked);
  st_file_set_metadata_value (file, "k", "v2");
  g_assert_false (st_file_save_header_in_place (file, fixture->path, ST_SAVE_FLAGS_NONE, &error));
  assert_names_repair (error, fixture->path);
  g_clear_error (&error);
  {
    g_autoptr(GBytes) now = read_file (fixture->path);
    g_assert_true (g_bytes_equal (now, marked));
  }

  g_assert_true (st_file_repair_header (fixture->path, ST_SAVE_FLAGS_SYNC, &repaired, &error));
  g_assert_no_error (error);
  g_assert_true (repaired);
  {
    g_autoptr(GBytes) now = read_file (fixture->path);
    g_assert_true (g_bytes_equal (now, clean));
  }
  g_assert_true (st_file_repair_header (fixture->path, ST_SAVE_FLAGS_NONE, &repaired, &error));
  g_assert_false (repaired);
}

static void
test_edit_writes_the_new_header_and_nothing_else (Fixture       *fixture,
                                                  gconstpointer  user_data)
{
  g_autoptr(GBytes) v1 = file_bytes (header_v1, FALSE);
  g_autoptr(GBytes) v2 = file_bytes (header_v2, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(GBytes) now = NULL;
  GStatBuf before, after;


  write_file (fixture->path, v1);
  g_assert_cmpint (g_stat (fixture->path, &before), ==, 0);
  file = st_file_new_from_path (fixture->path, NULL, &error);
  g_assert_no_error (error);
  st_file_set_metadata_value (file, "k", "v2");
  g_assert_true (st_file_save_header_in_place (file, fixture->path, ST_SAVE_FLAGS_SYNC, &error));
  g_assert_no_error (error);

  now = read_file (fixture->path);
  g_assert_true (g_bytes_equal (now, v2));
  g_assert_cmpint (g_stat (fixture->path, &after), ==, 0);
  g_assert_cmpuint (after.st_ino, ==, before.st_ino);
  /* The journal and the space set aside are gone: the file holds no more blocks than its bytes need. */
  g_assert_cmpint ((gint64) after.st_blocks * 512, <=, MAX ((gint64) 65536, (gint64) before.st_blocks * 512));
}

/* Takes the lock an editor takes, from another open of the file: what a second process holds. */
static int
hold_edit_lock (const char *path)
{
  struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0, .l_pid = 0 };
  int fd = open (path, O_RDWR | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fcntl (fd, F_OFD_SETLK, &lock), ==, 0);
  return fd;
}

static void
test_a_locked_file_is_busy (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(GBytes) v1 = file_bytes (header_v1, FALSE);
  g_autoptr(GBytes) marked = file_bytes (header_v1, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  gboolean repaired = TRUE;
  int holder;


  write_file (fixture->path, v1);
  file = st_file_new_from_path (fixture->path, NULL, &error);
  g_assert_no_error (error);
  st_file_set_metadata_value (file, "k", "v2");

  holder = hold_edit_lock (fixture->path);
  g_assert_false (st_file_save_header_in_place (file, fixture->path, ST_SAVE_FLAGS_NONE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);
  {
    g_autoptr(GBytes) now = read_file (fixture->path);
    g_assert_true (g_bytes_equal (now, v1));
  }

  /* A repair does not touch the mark of an editor that still holds the file. */
  overwrite_file (fixture->path, marked);
  close (holder);
  holder = hold_edit_lock (fixture->path);
  g_assert_false (st_file_repair_header (fixture->path, ST_SAVE_FLAGS_NONE, &repaired, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_false (repaired);
  g_clear_error (&error);
  {
    g_autoptr(GBytes) now = read_file (fixture->path);
    g_assert_true (g_bytes_equal (now, marked));
  }

  /* Once the holder is gone, both go ahead. */
  close (holder);
  g_assert_true (st_file_repair_header (fixture->path, ST_SAVE_FLAGS_NONE, &repaired, &error));
  g_assert_no_error (error);
  g_assert_true (repaired);
  g_assert_true (st_file_save_header_in_place (file, fixture->path, ST_SAVE_FLAGS_NONE, &error));
  g_assert_no_error (error);
  {
    g_autoptr(GBytes) v2 = file_bytes (header_v2, FALSE);
    g_autoptr(GBytes) now = read_file (fixture->path);
    g_assert_true (g_bytes_equal (now, v2));
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/file-edit/marked/loads-as-interrupted", Fixture, NULL, fixture_set_up,
              test_marked_file_loads_as_interrupted, fixture_tear_down);
  g_test_add_func ("/file-edit/marked/top-bit-past-the-input-is-too-large",
                   test_top_bit_over_a_length_past_the_input_is_too_large);
  g_test_add ("/file-edit/marked/edit-refuses-repair-completes", Fixture, NULL, fixture_set_up,
              test_edit_refuses_a_marked_file_and_repair_completes_it, fixture_tear_down);
  g_test_add ("/file-edit/edit/new-header-only", Fixture, NULL, fixture_set_up,
              test_edit_writes_the_new_header_and_nothing_else, fixture_tear_down);
  g_test_add ("/file-edit/lock/busy", Fixture, NULL, fixture_set_up, test_a_locked_file_is_busy,
              fixture_tear_down);

  return g_test_run ();
}
