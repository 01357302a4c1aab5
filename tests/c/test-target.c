/* test-target.c: what a save does to the file system around its target (issue 20, items 5, 8 and 9)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * - A tensor mapped from an overlayfs file that another program then changes (a copy-up: overlay keeps
 *   the device and inode numbers) is saved with the bytes the process holds, not the file's new ones;
 *   its header is not edited in place over them.
 * - Without O_TMPFILE (a bindfs mount): a process that forks while a writer is open keeps its file when
 *   the child drops its copy; a writer's process that ends without finishing leaves a hidden file that
 *   the next save to the same target removes, and a live writer's file is never removed.
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
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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

/* Unmounts the tmpfs of mount_tmpfs() and removes its folder. */
static void
unmount_tmpfs (const char *root)
{
  g_assert_cmpint (umount2 (root, MNT_DETACH), ==, 0);
  g_assert_cmpint (g_rmdir (root), ==, 0);
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
      unmount_tmpfs (root);
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
  unmount_tmpfs (root);
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
  g_assert_nonnull (strstr (error->message, "on overlayfs and FUSE"));
  g_assert_true (g_file_get_contents (source, &after, &after_length, NULL));
  g_assert_cmpmem (before, before_length, after, after_length);

  g_clear_object (&file);
  unmount_tmpfs (root);
}

static GPid bindfs_pid;

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Whether @path is a mount point in /proc/self/mountinfo. */
static gboolean
is_mounted (const char *path)
{
  g_autofree char *mountinfo = NULL;
  g_autofree char *needle = g_strdup_printf (" %s ", path);

  return g_file_get_contents ("/proc/self/mountinfo", &mountinfo, NULL, NULL) && strstr (mountinfo, needle) != NULL;
}

/* Waits until bindfs (@pid) has mounted @path, woken by changes of the mount table (poll() on
 * /proc/self/mountinfo): FALSE when bindfs exited first. */
static gboolean
wait_for_mount (const char *path,
                GPid        pid)
{
  int fd = open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  gboolean mounted = FALSE;

  g_assert_cmpint (fd, >=, 0);
  for (;;)
    {
      struct pollfd change = { .fd = fd, .events = POLLPRI };
      int status = 0;

      if (is_mounted (path))
        {
          mounted = TRUE;
          break;
        }
      if (waitpid (pid, &status, WNOHANG) == pid)
        break;
      /* The timeout only bounds the look at whether bindfs exited: the mount itself wakes the poll. */
      poll (&change, 1, 1000);
      /* Reading to the end re-arms the notification. */
      {
        char buffer[4096];

        lseek (fd, 0, SEEK_SET);
        while (read (fd, buffer, sizeof buffer) > 0)
          ;
      }
    }
  close (fd);
  return mounted;
}

/* A bindfs (FUSE) mount of a folder of a tmpfs: a file system without O_TMPFILE, where saves write
 * under a hidden name. NULL, with the test skipped, where it cannot be made. */
static char *
mount_without_tmpfile (char **out_root)
{
  g_autofree char *root = NULL;
  g_autofree char *backing = NULL;
  g_autofree char *mounted = NULL;
  g_autofree char *bindfs = g_find_program_in_path ("bindfs");
  g_autoptr(GError) error = NULL;
  int fd;

  if (!have_mount_namespace)
    {
      g_test_skip ("mounting a FUSE file system needs root (a mount namespace of the test's own)");
      return NULL;
    }
  if (bindfs == NULL)
    {
      g_test_skip ("bindfs (Debian package bindfs) is not installed");
      return NULL;
    }
  root = mount_tmpfs ();
  backing = g_build_filename (root, "backing", NULL);
  mounted = g_build_filename (root, "mounted", NULL);
  g_assert_cmpint (g_mkdir (backing, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (mounted, 0755), ==, 0);
  {
    /* In the foreground, as a child that dies with this process, whatever ends it: a daemon would keep
     * this mount namespace, and itself, alive after a failed test. */
    const char *argv[] = { bindfs, "-f", backing, mounted, NULL };

    if (!g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                        G_SPAWN_STDERR_TO_DEV_NULL, die_with_parent, NULL, &bindfs_pid, &error))
      {
        g_test_skip ("bindfs does not start here");
        unmount_tmpfs (root);
        return NULL;
      }
    if (!wait_for_mount (mounted, bindfs_pid))
      {
        g_test_skip ("bindfs does not mount here (no /dev/fuse?)");
        bindfs_pid = 0;
        unmount_tmpfs (root);
        return NULL;
      }
  }

  /* The premise: no O_TMPFILE there. */
  fd = open (mounted, O_TMPFILE | O_WRONLY, 0600);
  g_assert_cmpint (fd, <, 0);
  *out_root = g_steal_pointer (&root);
  return g_steal_pointer (&mounted);
}

static void
unmount_without_tmpfile (const char *root,
                         const char *mounted)
{
  int status = 0;

  g_assert_cmpint (umount2 (mounted, MNT_DETACH), ==, 0);
  g_assert_cmpint (kill (bindfs_pid, SIGTERM), ==, 0);
  g_assert_cmpint (waitpid (bindfs_pid, &status, 0), ==, bindfs_pid);
  bindfs_pid = 0;
  unmount_tmpfs (root);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The names in @directory, sorted, joined with spaces. */
static char *
list_directory (const char *directory)
{
  g_autoptr(GDir) dir = g_dir_open (directory, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* A writer of one U8 tensor "t" of DATA_SIZE bytes, open on @path, every byte @value written. */
static STWriter *
open_full_writer (const char *path,
                  guint8      value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autofree guint8 *data = g_malloc (DATA_SIZE);
  gint64 shape[1] = { DATA_SIZE };

  memset (data, value, DATA_SIZE);
  g_assert_true (st_writer_add_tensor (writer, "t", ST_DTYPE_U8, shape, 1, &error));
  g_assert_true (st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (st_writer_write (writer, "t", data, DATA_SIZE, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&writer);
}

/* A child forked while a writer is open drops its copy of the writer (as Python's garbage collector
 * does in a multiprocessing worker): the parent's file stays, and its finish() renames it. */
static void
test_fork_child_drops_writer (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STWriter) writer = NULL;
  g_autofree char *root = NULL;
  g_autofree char *mounted = mount_without_tmpfile (&root);
  g_autofree char *target = NULL;
  g_autofree char *listing = NULL;
  int status = 0;
  pid_t child;

  if (mounted == NULL)
    return;
  target = g_build_filename (mounted, "model.safetensors", NULL);
  writer = open_full_writer (target, 7);
  listing = list_directory (mounted);
  g_assert_true (g_str_has_prefix (listing, ".st-"));  /* the hidden name of a file system without O_TMPFILE */

  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      /* Everything the child holds is freed before it exits, so that a leak checker running the test
       * (valgrind's --error-exitcode) has nothing to report in the child and its status stays 0. */
      g_clear_object (&writer);
      g_clear_pointer (&listing, g_free);
      g_clear_pointer (&target, g_free);
      g_clear_pointer (&mounted, g_free);
      g_clear_pointer (&root, g_free);
      _exit (0);
    }
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);

  g_assert_true (st_writer_finish (writer, &error));
  g_assert_no_error (error);
  g_clear_pointer (&listing, g_free);
  listing = list_directory (mounted);
  g_assert_cmpstr (listing, ==, "model.safetensors");
  g_assert_cmpint (count_data_bytes_other_than (target, 7), ==, 0);

  unmount_without_tmpfile (root, mounted);
}

/* A child that made a writer and exits without finishing it (as a killed process would: no cleanup
 * runs) leaves its hidden file; the next save to the same target removes it. */
static void
test_leftover_removed_by_next_save (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autofree char *root = NULL;
  g_autofree char *mounted = mount_without_tmpfile (&root);
  g_autofree char *target = NULL;
  g_autofree char *other = NULL;
  g_autofree char *source = NULL;
  g_autofree char *listing = NULL;
  int status = 0;
  pid_t child;

  if (mounted == NULL)
    return;
  target = g_build_filename (mounted, "model.safetensors", NULL);
  other = g_build_filename (mounted, "other.safetensors", NULL);
  source = g_build_filename (root, "source.safetensors", NULL);
  write_file_by_hand (source, 3);

  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      STWriter *leaked = open_full_writer (target, 9);

      /* Killed with its writer open, as a crash would leave it (a kill, not an exit: nothing runs after
       * it, not even a leak checker's report). */
      (void) leaked;
      kill (getpid (), SIGKILL);
      _exit (1);
    }
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  listing = list_directory (mounted);
  g_assert_true (g_str_has_prefix (listing, ".st-") && strchr (listing, ' ') == NULL);

  file = st_file_new_from_path (source, NULL, &error);
  g_assert_no_error (error);

  /* A save to another target leaves it: it is not its leftover. */
  g_assert_true (st_file_save_to_path (file, other, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&listing, g_free);
  listing = list_directory (mounted);
  g_assert_true (g_str_has_prefix (listing, ".st-") && g_str_has_suffix (listing, " other.safetensors"));

  g_assert_true (st_file_save_to_path (file, target, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&listing, g_free);
  listing = list_directory (mounted);
  g_assert_cmpstr (listing, ==, "model.safetensors other.safetensors");
  g_assert_cmpint (count_data_bytes_other_than (target, 3), ==, 0);

  g_clear_object (&file);
  unmount_without_tmpfile (root, mounted);
}

/* A save to a target that a live writer (here, in the same process) is writing leaves that writer's
 * file alone: it is locked. */
static void
test_live_writer_kept_by_other_save (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  g_autoptr(STWriter) writer = NULL;
  g_autofree char *root = NULL;
  g_autofree char *mounted = mount_without_tmpfile (&root);
  g_autofree char *target = NULL;
  g_autofree char *source = NULL;
  g_autofree char *listing = NULL;

  if (mounted == NULL)
    return;
  target = g_build_filename (mounted, "model.safetensors", NULL);
  source = g_build_filename (root, "source.safetensors", NULL);
  write_file_by_hand (source, 3);

  writer = open_full_writer (target, 5);
  file = st_file_new_from_path (source, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (st_file_save_to_path (file, target, ST_SAVE_FLAGS_NONE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_data_bytes_other_than (target, 3), ==, 0);

  g_assert_true (st_writer_finish (writer, &error));
  g_assert_no_error (error);
  listing = list_directory (mounted);
  g_assert_cmpstr (listing, ==, "model.safetensors");
  g_assert_cmpint (count_data_bytes_other_than (target, 5), ==, 0);

  g_clear_object (&file);
  unmount_without_tmpfile (root, mounted);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* Mounts made in a namespace of the process's own vanish with it, whatever happens to the test. */
  have_mount_namespace = geteuid () == 0 && unshare (CLONE_NEWNS) == 0 &&
                         mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0;

  g_test_add_func ("/target/overlay/copied-up-source", test_overlay_copied_up_source);
  g_test_add_func ("/target/overlay/copied-up-source-in-place", test_overlay_copied_up_source_in_place);

  g_test_add_func ("/target/no-tmpfile/fork-child-drops-writer", test_fork_child_drops_writer);
  g_test_add_func ("/target/no-tmpfile/leftover-removed-by-next-save", test_leftover_removed_by_next_save);
  g_test_add_func ("/target/no-tmpfile/live-writer-kept-by-other-save", test_live_writer_kept_by_other_save);

  return g_test_run ();
}
