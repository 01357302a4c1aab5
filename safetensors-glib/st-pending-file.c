/* st-pending-file.c: where saved bytes land: files replaced atomically, special files written through
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A save to a path must leave the old file or the new one, whole, whatever happens: a full disk, an
 * I/O error, a cancellation, a kill. The new file is written beside its target with no name at all
 * (O_TMPFILE) where the file system allows it, so that a killed save leaves nothing behind, and is
 * given a name only once complete; where it does not, under a short hidden name (".st-XXXXXX", which
 * fits beside any legal name). rename() then replaces the target. A target that is not a regular file
 * (a device, a FIFO, a socket) is not replaced but written to, as a stream.
 *
 * Without O_TMPFILE, the hidden file of a save to a path is locked while it is written
 * (st-named-tmp.c), so that the next save to the same target removes what a killed one left. A hidden
 * name is only ever removed by the process that made it: a child forked during a save (Python's
 * multiprocessing, for one) that drops its copy of the writer closes its descriptors and nothing more.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-error.h"
#include "st-io-private.h"
#include "st-kept-attributes-private.h"
#include "st-named-tmp-private.h"
#include "st-pending-file-private.h"

struct _StPendingFile {
  int       fd;          /* -1 once parked or committed */
  int       old_fd;      /* an O_PATH reference on the file the commit replaced, or -1 */
  char     *directory;
  char     *tmp_path;    /* the hidden name, once the file has one; NULL while it has none */
  gboolean  locked;      /* tmp_path is locked while fd or lock_fd is open (st-named-tmp.c) */
  int       lock_fd;     /* a duplicate of fd that holds the lock once fd is closed, or -1 */
  pid_t     owner;       /* the process that made the file: the only one that may remove tmp_path */
  gboolean  committed;
};

/* The hidden name: short, so that it fits in a directory whatever the target's name. */
#define TMP_TEMPLATE ".st-XXXXXX"

/* With @recoverable, a file given a hidden name (no O_TMPFILE) is one that st_named_tmp_clean() may
 * remove once its writer is gone, and the leftovers of earlier saves to @target are removed first. */
static StPendingFile *
pending_file_new (const char  *directory,
                  const char  *target,
                  gboolean     recoverable,
                  GError     **error)
{
  g_autoptr(StPendingFile) pending = g_new0 (StPendingFile, 1);

  pending->fd = -1;
  pending->old_fd = -1;
  pending->lock_fd = -1;
  pending->owner = getpid ();
  pending->directory = g_strdup (directory);

  /* Mode 0666 gives 0666 & ~umask, what a plain create gives. */
  pending->fd = open (directory, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  if (pending->fd >= 0)
    return g_steal_pointer (&pending);

  /* File systems without O_TMPFILE say so in one of these ways; anything else is a real failure
   * (permission, read-only file system, no space) that a named file would meet as well. */
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOTSUP)
    {
      st_set_io_error_from_errno (error, errno, "Could not create a new file beside", target);
      return NULL;
    }

  if (recoverable)
    {
      st_named_tmp_clean (directory, target);
      pending->fd = st_named_tmp_create (directory, target, &pending->tmp_path);
      if (pending->fd >= 0)
        {
          pending->locked = TRUE;
          return g_steal_pointer (&pending);
        }
      if (errno != ENOLCK)
        {
          st_set_io_error_from_errno (error, errno, "Could not create a new file beside", target);
          return NULL;
        }
      /* A file system without locks: a plain hidden name, as below. */
    }

  pending->tmp_path = g_build_filename (directory, TMP_TEMPLATE, NULL);
  pending->fd = g_mkstemp_full (pending->tmp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (pending->fd < 0)
    {
      g_clear_pointer (&pending->tmp_path, g_free);
      st_set_io_error_from_errno (error, errno, "Could not create a new file beside", target);
      return NULL;
    }

  return g_steal_pointer (&pending);
}

StPendingFile *
st_pending_file_new (const char  *directory,
                     const char  *target,
                     GError     **error)
{
  return pending_file_new (directory, target, FALSE, error);
}

int
st_pending_file_get_fd (StPendingFile *pending)
{
  return pending->fd;
}

/* Reserves the file's blocks before it is written: a disk too small fails here, before a byte is
 * written, and ext4 has no delayed allocation left to do when a rename replaces a file with this one
 * (auto_da_alloc flushes it inside rename(), milliseconds during which a kill leaves the hidden name
 * or shards of two saves). File systems without fallocate() are written as they are. */
gboolean
st_pending_file_reserve (StPendingFile  *pending,
                         guint64         size,
                         const char     *target,
                         GError        **error)
{
  if (size == 0 || size > G_MAXINT64)
    return TRUE;
  if (fallocate (pending->fd, 0, 0, (off_t) size) == 0)
    return TRUE;
  if (errno == ENOSPC || errno == EFBIG || errno == EDQUOT)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", target);
      return FALSE;
    }
  return TRUE;
}

/* Links the open file @fd to @name: through /proc, or without it with AT_EMPTY_PATH (which needs
 * CAP_DAC_READ_SEARCH). Returns 0 or an errno. */
static int
link_fd (int         fd,
         const char *name)
{
  g_autofree char *proc_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  int errsv;

  if (linkat (AT_FDCWD, proc_path, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
    return 0;
  errsv = errno;
  if (errsv != EEXIST && linkat (fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0)
    return 0;
  return errsv;
}

/* Gives the unnamed file of @pending a name: @path, or a new hidden name when @path is NULL. Sets errno
 * on failure. */
static gboolean
link_unnamed (StPendingFile *pending,
              const char    *path)
{
  static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  int errsv;

  if (path != NULL)
    {
      errsv = link_fd (pending->fd, path);
      errno = errsv;
      return errsv == 0;
    }

  for (int attempt = 0; attempt < 100; attempt++)
    {
      char random_part[7];
      g_autofree char *name = NULL;

      for (gsize i = 0; i < 6; i++)
        random_part[i] = letters[g_random_int_range (0, sizeof letters - 1)];
      random_part[6] = '\0';
      name = g_strdup_printf ("%s/.st-%s", pending->directory, random_part);

      errsv = link_fd (pending->fd, name);
      if (errsv == 0)
        {
          pending->tmp_path = g_steal_pointer (&name);
          return TRUE;
        }
      if (errsv != EEXIST)
        break;
    }

  errno = errsv;
  return FALSE;
}

static gboolean
close_fd (StPendingFile  *pending,
          const char     *shown_path,
          GError        **error)
{
  int fd = pending->fd;

  pending->fd = -1;
  /* A network file system may report a failed write only here. */
  if (close (fd) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", shown_path);
      return FALSE;
    }
  return TRUE;
}

/* Names the file (under a hidden name) and closes it: for sharded saves, which write more files than
 * they may keep open. @flags' SYNC is done here, while the descriptor is open. */
gboolean
st_pending_file_park (StPendingFile  *pending,
                      STSaveFlags     flags,
                      GError        **error)
{
  /* Closed, a locked file would look like a leftover: only files made by st_pending_file_new() park. */
  g_return_val_if_fail (!pending->locked, FALSE);

  if (pending->fd < 0)
    return TRUE;
  if ((flags & ST_SAVE_FLAGS_SYNC) && !st_sync_fd (pending->fd, pending->directory, error))
    return FALSE;
  if (pending->tmp_path == NULL && !link_unnamed (pending, NULL))
    {
      st_set_io_error_from_errno (error, errno, "Could not name a new file in", pending->directory);
      return FALSE;
    }
  return close_fd (pending, pending->tmp_path, error);
}

/* Gives the file @target's mode, its access ACL and "user." extended attributes
 * (st-kept-attributes.c), and its owner and group where the process may. */
static gboolean
keep_attributes (StPendingFile      *pending,
                 const struct stat  *old,
                 const char         *target,
                 GError            **error)
{
  struct stat now;
  int fd = pending->fd;

  if (fd >= 0 ? fstat (fd, &now) != 0 : stat (pending->tmp_path, &now) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not read the attributes of the new", target);
      return FALSE;
    }

  /* Only root (or the owner, for the group) may give a file away: where that fails, the file is the
   * caller's, as any file the caller creates. chown may clear set-id bits: chmod comes after it. */
  if (now.st_uid != old->st_uid || now.st_gid != old->st_gid)
    {
      int ignored = fd >= 0 ? fchown (fd, old->st_uid, old->st_gid)
                            : chown (pending->tmp_path, old->st_uid, old->st_gid);

      (void) ignored;
    }

  /* Setting an ACL sets the mode's bits too: the mode comes last, and exactly (with an ACL, its group
   * bits are the ACL's mask, as they were). */
  if (!st_kept_attributes_copy (target, fd, pending->tmp_path, target, error))
    return FALSE;
  if (fd >= 0 ? fstat (fd, &now) != 0 : stat (pending->tmp_path, &now) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not read the attributes of the new", target);
      return FALSE;
    }

  if ((now.st_mode & 07777) != (old->st_mode & 07777) &&
      (fd >= 0 ? fchmod (fd, old->st_mode & 07777) : chmod (pending->tmp_path, old->st_mode & 07777)) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not give the new file the mode of", target);
      return FALSE;
    }

  return TRUE;
}

/* Closes the locked, named file of @pending (close() may report a write error) and renames it over
 * @target, holding its lock on a duplicate descriptor until the rename: unlocked before, the file would
 * look like a killed save's leftover to another save to @target. */
static gboolean
commit_locked (StPendingFile  *pending,
               const char     *target,
               GError        **error)
{
  int lock_fd = fcntl (pending->fd, F_DUPFD_CLOEXEC, 0);
  gboolean ok;

  if (lock_fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", target);
      return FALSE;
    }
  ok = close_fd (pending, target, error);
  if (ok && g_rename (pending->tmp_path, target) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not replace", target);
      ok = FALSE;
    }
  if (!ok)
    {
      /* st_pending_file_free() removes the name, then lets the lock go. */
      pending->lock_fd = lock_fd;
      return FALSE;
    }
  pending->committed = TRUE;
  close (lock_fd);
  return TRUE;
}

/* Replaces @target (a regular file, or a missing path) with the pending file. */
gboolean
st_pending_file_commit (StPendingFile  *pending,
                        const char     *target,
                        STSaveFlags     flags,
                        GError        **error)
{
  struct stat old;
  gboolean exists = stat (target, &old) == 0 && S_ISREG (old.st_mode);

  if (exists && !keep_attributes (pending, &old, target, error))
    return FALSE;

  /* A rename that drops the last name of a large file frees its blocks before it returns: milliseconds,
   * during which a kill leaves the hidden name (or, for a sharded save, shards of two saves). Holding
   * the old file open moves that work to st_pending_file_free(), after the commit. */
  if (exists && pending->old_fd < 0)
    pending->old_fd = open (target, O_PATH | O_CLOEXEC);

  if (pending->fd >= 0)
    {
      if ((flags & ST_SAVE_FLAGS_SYNC) && !st_sync_fd (pending->fd, target, error))
        return FALSE;

      if (pending->tmp_path == NULL)
        {
          /* Only local file systems have O_TMPFILE, and their close() reports no write error: the
           * descriptor is closed after the file has its name, so that the hidden name below lives
           * from one system call to the next, and a kill in between is as unlikely as can be. */
          if (!exists && link_unnamed (pending, target))
            {
              /* A new name is given in one step, with nothing to replace. */
              pending->committed = TRUE;
              close_fd (pending, target, NULL);
              return TRUE;
            }
          if (!link_unnamed (pending, NULL))
            {
              st_set_io_error_from_errno (error, errno, "Could not name the new file for", target);
              return FALSE;
            }
          if (g_rename (pending->tmp_path, target) != 0)
            {
              st_set_io_error_from_errno (error, errno, "Could not replace", target);
              return FALSE;
            }
          pending->committed = TRUE;
          close_fd (pending, target, NULL);
          return TRUE;
        }

      if (pending->locked)
        return commit_locked (pending, target, error);
      if (!close_fd (pending, target, error))
        return FALSE;
    }
  /* Otherwise the file was parked by a sharded save, which did the sync then. */

  if (g_rename (pending->tmp_path, target) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not replace", target);
      return FALSE;
    }

  pending->committed = TRUE;
  return TRUE;
}

gboolean
st_pending_file_is_committed (StPendingFile *pending)
{
  return pending->committed;
}

void
st_pending_file_free (StPendingFile *pending)
{
  if (pending == NULL)
    return;
  /* Only the process that made the hidden name removes it (a forked child's copy does not), and while
   * it still holds the file's lock. */
  if (!pending->committed && pending->tmp_path != NULL && getpid () == pending->owner)
    g_unlink (pending->tmp_path);
  if (pending->fd >= 0)
    close (pending->fd);
  if (pending->lock_fd >= 0)
    close (pending->lock_fd);
  if (pending->old_fd >= 0)
    close (pending->old_fd);
  g_free (pending->tmp_path);
  g_free (pending->directory);
  g_free (pending);
}

/* Where to write for @path: the file a symbolic link points to (as open() would write through it), or
 * @path itself. */
static char *
resolve_target (const char *path)
{
  char *resolved = realpath (path, NULL);
  char *target;

  if (resolved == NULL)
    return g_strdup (path);

  target = g_strdup (resolved);
  free (resolved);
  return target;
}

gboolean
st_check_save_target (const char  *path,
                      gboolean    *out_special,
                      GError     **error)
{
  struct stat st;

  if (out_special != NULL)
    *out_special = FALSE;

  if (stat (path, &st) != 0)
    {
      if (errno == ENOENT)
        return TRUE;
      st_set_io_error_from_errno (error, errno, "Could not save to", path);
      return FALSE;
    }

  if (S_ISDIR (st.st_mode))
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "Could not save to “%s”: it is a directory",
                   shown);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_autofree char *shown = NULL;

      if (out_special != NULL)
        {
          *out_special = TRUE;
          return TRUE;
        }
      shown = g_filename_display_name (path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "Could not save to “%s”: it is a special file, not a regular file", shown);
      return FALSE;
    }

  /* Replacing a file needs only the directory's permission; a plain save would open the file
   * itself for writing. Refuse what that would refuse, so that a read-only file stays. */
  if (faccessat (AT_FDCWD, path, W_OK, AT_EACCESS) != 0)
    {
      /* Gone since the stat(): another save replaced or removed it (a sharded save's cleanup, say).
       * A target that does not exist is one this save may create, as above. */
      if (errno == ENOENT)
        return TRUE;
      st_set_io_error_from_errno (error, errno, "Could not open for writing", path);
      return FALSE;
    }

  return TRUE;
}

StPendingFile *
st_pending_file_new_for_path (const char   *path,
                              gboolean     *out_special,
                              char        **out_target,
                              GError      **error)
{
  g_autofree char *target = NULL;
  g_autofree char *directory = NULL;
  StPendingFile *pending;

  if (!st_check_save_target (path, out_special, error) || *out_special)
    return NULL;

  target = resolve_target (path);
  directory = g_path_get_dirname (target);
  pending = pending_file_new (directory, target, TRUE, error);
  if (pending != NULL)
    *out_target = g_steal_pointer (&target);
  return pending;
}

const char *
st_pending_file_get_directory (StPendingFile *pending)
{
  return pending->directory;
}

const char *
st_pending_file_get_path (StPendingFile *pending)
{
  return pending->committed ? NULL : pending->tmp_path;
}
