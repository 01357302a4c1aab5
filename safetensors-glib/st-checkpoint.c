/* st-checkpoint.c: the protocol sharded saves and index readers follow in a checkpoint's folder
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A sharded checkpoint is several files, and no POSIX call replaces several files at once. Its shard
 * names are fixed (those of Hugging Face's writers, model-00001-of-00003.safetensors), so a save cannot
 * write its files under new names and switch to them with one rename. Instead:
 *
 * - a save commits (renames its files into place, then removes the old checkpoint's files) holding an
 *   exclusive flock() on the folder, so that two saves never interleave their commits and cleanups;
 * - from before its first rename to after its cleanup, the commit mark exists beside the index: a
 *   reader that finds it knows the shards may come from two saves (a commit under way, or one killed
 *   or failed halfway) and refuses them;
 * - a reader keeps the index file it read open and, after opening a shard, checks that the index's
 *   name still leads to that same file and that no mark exists: a save that committed since the index
 *   was read, or that is committing, is seen. Readers take the folder's lock shared around these
 *   steps, so that, where flock() works, they wait for a commit instead of failing.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-checkpoint-private.h"
#include "st-io-private.h"

struct _StCheckpointLock {
  int fd;  /* the folder, locked; -1 where it could not be opened or locked */
};

StCheckpointLock *
st_checkpoint_lock (const char *directory,
                    gboolean    exclusive)
{
  StCheckpointLock *lock = g_new0 (StCheckpointLock, 1);

  lock->fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (lock->fd >= 0 && flock (lock->fd, exclusive ? LOCK_EX : LOCK_SH) != 0)
    if (errno != EINTR)
      {
        close (lock->fd);
        lock->fd = -1;
      }
  return lock;
}

void
st_checkpoint_unlock (StCheckpointLock *lock)
{
  if (lock == NULL)
    return;
  if (lock->fd >= 0)
    close (lock->fd);
  g_free (lock);
}

#define MARK_PREFIX ".st-commit-"

/* A hash of the index's name keeps the mark's name short whatever the prefix, and one per checkpoint
 * when a folder holds several. */
char *
st_checkpoint_mark_path (const char *directory,
                         const char *index_name)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, index_name, -1);
  g_autofree char *name = g_strdup_printf (MARK_PREFIX "%.16s", hash);

  return g_build_filename (directory, name, NULL);
}

gboolean
st_checkpoint_mark_exists (const char *directory,
                           const char *index_name)
{
  g_autofree char *path = st_checkpoint_mark_path (directory, index_name);
  GStatBuf st;

  return g_lstat (path, &st) == 0;
}

gboolean
st_checkpoint_mark_set (const char   *directory,
                        const char   *index_name,
                        GPtrArray    *file_names,
                        STSaveFlags   flags,
                        GError      **error)
{
  g_autofree char *path = st_checkpoint_mark_path (directory, index_name);
  g_autoptr(GString) text = g_string_new (NULL);
  gsize done = 0;
  int fd;

  for (guint i = 0; i < file_names->len; i++)
    g_string_append_len (text, g_ptr_array_index (file_names, i), strlen (g_ptr_array_index (file_names, i)) + 1);

  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not create the commit mark", path);
      return FALSE;
    }
  while (done < text->len)
    {
      gssize n = write (fd, text->str + done, text->len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;

          close (fd);
          g_unlink (path);
          st_set_io_error_from_errno (error, errsv, "Could not write the commit mark", path);
          return FALSE;
        }
      done += (gsize) n;
    }
  if (((flags & ST_SAVE_FLAGS_SYNC) && fsync (fd) != 0) || close (fd) != 0)
    {
      int errsv = errno;

      g_unlink (path);
      st_set_io_error_from_errno (error, errsv, "Could not write the commit mark", path);
      return FALSE;
    }
  /* With SYNC, the mark is on the disk before the first rename is. */
  return !(flags & ST_SAVE_FLAGS_SYNC) || st_sync_directory (directory, error);
}

GPtrArray *
st_checkpoint_mark_read (const char *directory,
                         const char *index_name)
{
  g_autofree char *path = st_checkpoint_mark_path (directory, index_name);
  g_autofree char *contents = NULL;
  gsize length = 0;
  GPtrArray *names;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return NULL;

  names = g_ptr_array_new_with_free_func (g_free);
  for (gsize start = 0; start < length;)
    {
      const char *name = contents + start;
      gsize name_length = strnlen (name, length - start);

      /* Only names in the folder: a mark never makes a save remove anything outside it. */
      if (name_length < length - start && name_length > 0 && strchr (name, '/') == NULL &&
          strcmp (name, ".") != 0 && strcmp (name, "..") != 0)
        g_ptr_array_add (names, g_strdup (name));
      start += name_length + 1;
    }
  return names;
}

gboolean
st_checkpoint_mark_clear (const char  *directory,
                          const char  *index_name,
                          GError     **error)
{
  g_autofree char *path = st_checkpoint_mark_path (directory, index_name);

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      st_set_io_error_from_errno (error, errno, "Could not remove the commit mark", path);
      return FALSE;
    }
  return TRUE;
}

struct _StCheckpointWorkDir {
  char *path;
  int   fd;  /* the folder, locked exclusively; -1 where flock() is not to be had */
};

#define WORK_DIR_PREFIX ".st-save-"

StCheckpointWorkDir *
st_checkpoint_work_dir_new (const char  *directory,
                            GError     **error)
{
  g_autoptr(StCheckpointWorkDir) work_dir = g_new0 (StCheckpointWorkDir, 1);
  /* A cleaner holds the folder's lock exclusively: it never sees a work folder between its creation
   * and its lock. */
  g_autoptr(StCheckpointLock) lock = st_checkpoint_lock (directory, FALSE);

  work_dir->fd = -1;
  work_dir->path = g_build_filename (directory, WORK_DIR_PREFIX "XXXXXX", NULL);
  if (g_mkdtemp_full (work_dir->path, 0700) == NULL)
    {
      int errsv = errno;

      st_set_io_error_from_errno (error, errsv, "Could not create a work folder in", directory);
      g_clear_pointer (&work_dir->path, g_free);
      return NULL;
    }
  work_dir->fd = open (work_dir->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (work_dir->fd >= 0 && flock (work_dir->fd, LOCK_EX | LOCK_NB) != 0)
    {
      close (work_dir->fd);
      work_dir->fd = -1;
    }
  return g_steal_pointer (&work_dir);
}

const char *
st_checkpoint_work_dir_get_path (StCheckpointWorkDir *work_dir)
{
  return work_dir->path;
}

void
st_checkpoint_work_dir_free (StCheckpointWorkDir *work_dir)
{
  if (work_dir == NULL)
    return;
  if (work_dir->path != NULL)
    g_rmdir (work_dir->path);
  if (work_dir->fd >= 0)
    close (work_dir->fd);
  g_free (work_dir->path);
  g_free (work_dir);
}

/* ".st-" and six letters or digits: the hidden names of pending files (mkstemp's and link_unnamed's). */
static gboolean
is_hidden_pending_name (const char *name)
{
  if (strlen (name) != 10 || strncmp (name, ".st-", 4) != 0)
    return FALSE;
  for (gsize i = 4; i < 10; i++)
    if (!g_ascii_isalnum (name[i]))
      return FALSE;
  return TRUE;
}

static gboolean
is_work_dir_name (const char *name)
{
  gsize prefix_len = strlen (WORK_DIR_PREFIX);

  if (strlen (name) != prefix_len + 6 || strncmp (name, WORK_DIR_PREFIX, prefix_len) != 0)
    return FALSE;
  for (gsize i = prefix_len; i < prefix_len + 6; i++)
    if (!g_ascii_isalnum (name[i]))
      return FALSE;
  return TRUE;
}

/* Empties and removes @path when its owner is gone: the lock on it is free. Removes only the hidden
 * names of pending files, so that a folder someone else put there under such a name stays. */
static void
remove_if_dead (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *entry;
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return;
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      close (fd);
      return;
    }

  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    if (is_hidden_pending_name (entry))
      unlinkat (fd, entry, 0);
  g_rmdir (path);
  close (fd);
}

void
st_checkpoint_remove_dead_work_dirs (const char *directory)
{
  g_autoptr(GDir) dir = g_dir_open (directory, 0, NULL);
  const char *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    if (is_work_dir_name (entry))
      {
        g_autofree char *path = g_build_filename (directory, entry, NULL);

        remove_if_dead (path);
      }
}
