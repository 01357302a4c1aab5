/* test-target.c: what a save does to the file system around its target (issue 20, items 5, 8 and 9)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * - A tensor mapped from an overlayfs file that another program then changes (a copy-up: overlay keeps
 *   the device and inode numbers) is saved with the bytes the process holds, not the file's new ones;
 *   its header is not edited in place over them.
 * - A process that forks while a writer is open keeps its file when the child drops its copy.
 * - A re-saved file keeps its POSIX ACL and its mode exactly.
 *
 * The mounts need root: the tests that make them run in a mount namespace of their own (gone when the
 * process exits) and skip, saying why, when the process cannot make one.
 *
 * Expected bytes are written by hand here (the safetensors layout is simple enough), never by the
 * library's own writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "st-test-util.h"

/* Large enough for a kernel copy (st-file-save.c copies pieces of 256 KiB and more in the kernel). */
#define DATA_SIZE (1024 * 1024)

static gboolean have_mount_namespace;

/* Writes, by hand, a file of one U8 tensor "t" of DATA_SIZE bytes, each @value, and the metadata
 * {"k": "a"}, as Hugging Face's writer lays it out. */
static void
write_file_by_hand (const char *path,
                    guint8      value)
{
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  guint8 prefix[8];
  guint64 n;

  g_string_printf (json, "{\"__metadata__\":{\"k\":\"a\"},"
                   "\"t\":{\"dtype\":\"U8\",\"shape\":[%d],\"data_offsets\":[0,%d]}}", DATA_SIZE, DATA_SIZE);
  while (json->len % 8 != 0)
    g_string_append_c (json, ' ');
  n = json->len;
  for (guint i = 0; i < 8; i++)
    prefix[i] = (guint8) (n >> (8 * i));
  g_byte_array_append (bytes, prefix, 8);
  g_byte_array_append (bytes, (const guint8 *) json->str, json->len);
  g_byte_array_set_size (bytes, 8 + json->len + DATA_SIZE);
  memset (bytes->data + 8 + json->len, value, DATA_SIZE);
  g_assert_true (g_file_set_contents (path, (const char *) bytes->data, bytes->len, NULL));
}

/* The number of the last DATA_SIZE bytes of @path that are not @value, or -1 when it has no such tail. */
static gssize
count_data_bytes_other_than (const char *path,
                             guint8      value)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  gssize other = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL) || length < DATA_SIZE)
    return -1;
  for (gsize i = length - DATA_SIZE; i < length; i++)
    other += (guint8) contents[i] != value;
  return other;
}

/* A tmpfs in a new temporary folder (in this process's own mount namespace). */
static char *
mount_tmpfs (void)
{
  g_autofree char *dir = g_dir_make_tmp ("st-target-XXXXXX", NULL);

  g_assert_nonnull (dir);
  g_assert_cmpint (mount ("tmpfs", dir, "tmpfs", 0, "size=64m"), ==, 0);
  return g_steal_pointer (&dir);
}

/* The overlay's merged folder, over lower/upper/work folders of a tmpfs, with @lower_file written
 * (by hand, every data byte 1) in the lower folder. */
static char *
mount_overlay (char       **out_root,
               const char  *lower_file)
{
  g_autofree char *root = mount_tmpfs ();
  g_autofree char *lower = g_build_filename (root, "lower", NULL);
  g_autofree char *upper = g_build_filename (root, "upper", NULL);
  g_autofree char *work = g_build_filename (root, "work", NULL);
  g_autofree char *merged = g_build_filename (root, "merged", NULL);
  g_autofree char *file = g_build_filename (lower, lower_file, NULL);
  g_autofree char *options = NULL;

  g_assert_cmpint (g_mkdir (lower, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (upper, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (work, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (merged, 0755), ==, 0);
  write_file_by_hand (file, 1);

  options = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
  if (mount ("overlay", merged, "overlay", 0, options) != 0)
    {
      g_autofree char *why = g_strdup_printf ("overlayfs does not mount here: %s", g_strerror (errno));

      g_test_skip (why);
      umount2 (root, MNT_DETACH);
      return NULL;
    }
  *out_root = g_steal_pointer (&root);
  return g_steal_pointer (&merged);
}

/* Another program writes every data byte of @path to @value, in place (on overlayfs: a copy-up). */
static void
overwrite_data_in_place (const char *path,
                         guint8      value)
{
  g_autofree guint8 *block = g_malloc (DATA_SIZE);
  struct stat st;
  int fd = open (path, O_WRONLY);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  memset (block, value, DATA_SIZE);
  g_assert_cmpint (pwrite (fd, block, DATA_SIZE, st.st_size - DATA_SIZE), ==, DATA_SIZE);
  g_assert_cmpint (close (fd), ==, 0);
}

/* Loads merged/model.safetensors (mapped, every data byte 1) and lets another program change it to 2 (a
 * copy-up): the process still holds the 1s. */
static STFile *
load_then_copy_up (const char *source)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_path (source, NULL, &error);
  const guint8 *data;
  gsize n = 0;

  g_assert_no_error (error);
  overwrite_data_in_place (source, 2);
  g_assert_cmpint (count_data_bytes_other_than (source, 2), ==, 0);

  /* overlayfs mapped the lower file, which the copy-up leaves as it was. */
  data = st_tensor_get_data (st_file_get_tensor (file, "t"), &n);
  g_assert_cmpuint (n, ==, DATA_SIZE);
  g_assert_cmpuint (data[0], ==, 1);
  g_assert_cmpuint (data[n - 1], ==, 1);
  return g_steal_pointer (&file);
}

/* A save into the same overlay (where a kernel copy between the two files works) writes the 1s. */
static void
test_overlay_copied_up_source (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autofree char *root = NULL;
  g_autofree char *merged = NULL;
  g_autofree char *source = NULL;
  g_autofree char *saved = NULL;

  if (!have_mount_namespace)
    {
      g_test_skip ("mounting overlayfs needs root (a mount namespace of the test's own)");
      return;
    }
  merged = mount_overlay (&root, "model.safetensors");
  if (merged == NULL)
    return;
  source = g_build_filename (merged, "model.safetensors", NULL);
  saved = g_build_filename (merged, "saved.safetensors", NULL);

  file = load_then_copy_up (source);
  st_file_set_metadata_value (file, "k", "v");
  g_assert_true (st_file_save_to_path (file, saved, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_data_bytes_other_than (saved, 1), ==, 0);

  g_clear_object (&file);
  g_assert_cmpint (umount2 (root, MNT_DETACH), ==, 0);
}

/* An in-place header edit would keep the file's 2s under a header the process wrote for its 1s: it is
 * refused (a whole save is the way), and the file is left as the other program wrote it. */
static void
test_overlay_copied_up_source_in_place (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autofree char *root = NULL;
  g_autofree char *merged = NULL;
  g_autofree char *source = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_length = 0, after_length = 0;

  if (!have_mount_namespace)
    {
      g_test_skip ("mounting overlayfs needs root (a mount namespace of the test's own)");
      return;
    }
  merged = mount_overlay (&root, "model.safetensors");
  if (merged == NULL)
    return;
  source = g_build_filename (merged, "model.safetensors", NULL);

  /* The same edit of the same file on a plain tmpfs is made in place. */
  {
    g_autofree char *plain = g_build_filename (root, "plain.safetensors", NULL);
    g_autoptr(STFile) loaded = NULL;

    write_file_by_hand (plain, 1);
    loaded = st_file_new_from_path (plain, NULL, &error);
    g_assert_no_error (error);
    st_file_set_metadata_value (loaded, "k", "b");
    g_assert_true (st_file_save_header_in_place (loaded, plain, ST_SAVE_FLAGS_NONE, &error));
    g_assert_no_error (error);
  }

  file = load_then_copy_up (source);
  g_assert_true (g_file_get_contents (source, &before, &before_length, NULL));
  st_file_set_metadata_value (file, "k", "b");
  g_assert_false (st_file_save_header_in_place (file, source, ST_SAVE_FLAGS_NONE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  st_test_note ("%s", error->message);
  g_assert_true (g_file_get_contents (source, &after, &after_length, NULL));
  g_assert_cmpmem (before, before_length, after, after_length);

  g_clear_object (&file);
  g_assert_cmpint (umount2 (root, MNT_DETACH), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* Mounts made in a namespace of the process's own vanish with it, whatever happens to the test. */
  have_mount_namespace = geteuid () == 0 && unshare (CLONE_NEWNS) == 0 &&
                         mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;

  g_test_add_func ("/target/overlay/copied-up-source", test_overlay_copied_up_source);
  g_test_add_func ("/target/overlay/copied-up-source-in-place", test_overlay_copied_up_source_in_place);

  return g_test_run ();
}
