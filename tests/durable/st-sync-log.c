/* st-sync-log.c: an LD_PRELOAD library that logs every fsync(), fdatasync() and syncfs(), and every
 * rename and link that names a file, to the file named by $ST_SYNC_LOG, one line each:
 *   fsync file DEV:INO PATH      (or fdatasync/syncfs; "dir" for a directory)
 *   rename NEWPATH               (rename, renameat, renameat2)
 *   link NEWPATH                 (link, linkat)
 * Devices and inodes identify the file even when the descriptor is an unnamed O_TMPFILE: the
 * durable-save tests compare them with the saved files' (test_sync.py).
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
log_line (const char *format, ...)
{
  const char *log_path = getenv ("ST_SYNC_LOG");
  char line[8192];
  va_list args;
  int len, fd, saved_errno = errno;

  if (log_path == NULL)
    return;
  va_start (args, format);
  len = vsnprintf (line, sizeof line - 1, format, args);
  va_end (args);
  if (len < 0)
    goto out;
  if (len > (int) sizeof line - 2)
    len = (int) sizeof line - 2;
  line[len++] = '\n';
  /* One write() of one line with O_APPEND: lines of threads and processes never mix. */
  fd = open (log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      if (write (fd, line, (size_t) len) != len)
        abort ();
      close (fd);
    }
out:
  errno = saved_errno;
}

static void
log_sync (const char *call,
          int         fd)
{
  char proc_path[64], path[4096];
  struct stat st;
  ssize_t n;

  snprintf (proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
  n = readlink (proc_path, path, sizeof path - 1);
  path[n < 0 ? 0 : n] = '\0';
  if (fstat (fd, &st) != 0)
    log_line ("%s bad -:- %s", call, path);
  else
    log_line ("%s %s %llu:%llu %s", call, S_ISDIR (st.st_mode) ? "dir" : "file",
              (unsigned long long) st.st_dev, (unsigned long long) st.st_ino, path);
}

static void
log_name (const char *what,
          int         dirfd,
          const char *name)
{
  char proc_path[64], dir[4096];
  ssize_t n;

  if (name[0] == '/' || dirfd == AT_FDCWD)
    {
      if (name[0] == '/' || getcwd (dir, sizeof dir) == NULL)
        log_line ("%s %s", what, name);
      else
        log_line ("%s %s/%s", what, dir, name);
      return;
    }
  snprintf (proc_path, sizeof proc_path, "/proc/self/fd/%d", dirfd);
  n = readlink (proc_path, dir, sizeof dir - 1);
  dir[n < 0 ? 0 : n] = '\0';
  log_line ("%s %s/%s", what, dir, name);
}

/* The libc function this one stands in for. */
#define REAL(name) \
  static __typeof__ (&name) real_##name; \
  if (real_##name == NULL) \
    real_##name = (__typeof__ (&name)) dlsym (RTLD_NEXT, #name)

int
fsync (int fd)
{
  REAL (fsync);
  int ret = real_fsync (fd);
  if (ret == 0)
    log_sync ("fsync", fd);
  return ret;
}

int
fdatasync (int fd)
{
  REAL (fdatasync);
  int ret = real_fdatasync (fd);
  if (ret == 0)
    log_sync ("fdatasync", fd);
  return ret;
}

int
syncfs (int fd)
{
  REAL (syncfs);
  int ret = real_syncfs (fd);
  if (ret == 0)
    log_sync ("syncfs", fd);
  return ret;
}

int
rename (const char *old_path, const char *new_path)
{
  REAL (rename);
  int ret = real_rename (old_path, new_path);
  if (ret == 0)
    log_name ("rename", AT_FDCWD, new_path);
  return ret;
}

int
renameat (int old_dirfd, const char *old_path, int new_dirfd, const char *new_path)
{
  REAL (renameat);
  int ret = real_renameat (old_dirfd, old_path, new_dirfd, new_path);
  if (ret == 0)
    log_name ("rename", new_dirfd, new_path);
  return ret;
}

int
renameat2 (int old_dirfd, const char *old_path, int new_dirfd, const char *new_path, unsigned int flags)
{
  REAL (renameat2);
  int ret = real_renameat2 (old_dirfd, old_path, new_dirfd, new_path, flags);
  if (ret == 0)
    log_name ("rename", new_dirfd, new_path);
  return ret;
}

int
link (const char *old_path, const char *new_path)
{
  REAL (link);
  int ret = real_link (old_path, new_path);
  if (ret == 0)
    log_name ("link", AT_FDCWD, new_path);
  return ret;
}

int
linkat (int old_dirfd, const char *old_path, int new_dirfd, const char *new_path, int flags)
{
  REAL (linkat);
  int ret = real_linkat (old_dirfd, old_path, new_dirfd, new_path, flags);
  if (ret == 0)
    log_name ("link", new_dirfd, new_path);
  return ret;
}
