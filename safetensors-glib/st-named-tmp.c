/* st-named-tmp.c: named temporary files that are locked while their writer lives
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Where the file system has no O_TMPFILE (FUSE file systems, vfat, some network file systems), a save
 * writes its new file under a hidden name, and a process killed before the rename leaves that file. The
 * next save to the same target removes such leftovers, and must never remove the file of a save still
 * running, in this process or another. The writer holds an exclusive flock() on its file from the
 * moment it exists until it is renamed or removed; the kernel drops the lock when the last descriptor
 * of that open file goes, that is when the process dies (or, after a fork, when every process that
 * inherited it closed it or died). A file whose lock can be taken is therefore a leftover.
 *
 * The name carries a hash of the target's base name, so that a save looks only at the leftovers of
 * saves to its own target, and so that the other hidden files of the library (the parked shards of a
 * sharded save, ".st-XXXXXX", which are closed while they wait for their rename) never match.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-named-tmp-private.h"

/* ".st-" TAG "-" and 6 characters that g_mkstemp() chooses. */
#define TAG_LENGTH 8
#define RANDOM_LENGTH 6

/* The tag of @target: FNV-1a of its base name, as 8 hexadecimal digits (stable across versions and
 * processes, unlike a seeded hash). */
static void
make_tag (const char *target,
          char        tag[TAG_LENGTH + 1])
{
  g_autofree char *base = g_path_get_basename (target);
  guint32 hash = 2166136261u;

  for (const guchar *p = (const guchar *) base; *p != '\0'; p++)
    {
      hash ^= *p;
      hash *= 16777619u;
    }
  g_snprintf (tag, TAG_LENGTH + 1, "%08x", hash);
}

static gboolean
same_file (const struct stat *a,
           const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int
st_named_tmp_create (const char  *directory,
                     const char  *target,
                     char       **out_path)
{
  char tag[TAG_LENGTH + 1];

  make_tag (target, tag);
  for (int attempt = 0; attempt < 16; attempt++)
    {
      g_autofree char *path = g_strdup_printf ("%s/.st-%s-XXXXXX", directory, tag);
      struct stat opened, named;
      int fd = g_mkstemp_full (path, O_WRONLY | O_CLOEXEC, 0666);

      if (fd < 0)
        return -1;

      if (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          int errsv = errno;

          close (fd);
          /* Another save took it for a leftover between its creation and now, and removes it. */
          if (errsv == EWOULDBLOCK)
            continue;
          g_unlink (path);
          errno = ENOLCK;
          return -1;
        }

      /* Or it took it, removed it and let it go before our lock: the name must still be this file. */
      if (fstat (fd, &opened) == 0 && lstat (path, &named) == 0 && same_file (&opened, &named))
        {
          *out_path = g_steal_pointer (&path);
          return fd;
        }
      close (fd);
    }

  errno = EEXIST;
  return -1;
}

static gboolean
is_tmp_name (const char *name,
             const char *prefix)
{
  gsize prefix_length = strlen (prefix);

  if (strncmp (name, prefix, prefix_length) != 0 || strlen (name) != prefix_length + RANDOM_LENGTH)
    return FALSE;
  for (const char *p = name + prefix_length; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

void
st_named_tmp_clean (const char *directory,
                    const char *target)
{
  g_autoptr(GDir) dir = g_dir_open (directory, 0, NULL);
  g_autofree char *prefix = NULL;
  char tag[TAG_LENGTH + 1];
  const char *name;
  int dir_fd;

  if (dir == NULL)
    return;
  dir_fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return;

  make_tag (target, tag);
  prefix = g_strdup_printf (".st-%s-", tag);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      struct stat opened, named;
      int fd;

      if (!is_tmp_name (name, prefix))
        continue;
      /* Write access: network file systems emulate flock() with record locks, which need it. */
      fd = openat (dir_fd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (fd < 0)
        continue;
      /* Held: the save that writes it is alive. Taken: the name is removed while the lock is held, so
       * that its writer, had it just created it, sees it gone and picks another. */
      if (flock (fd, LOCK_EX | LOCK_NB) == 0 && fstat (fd, &opened) == 0 && S_ISREG (opened.st_mode) &&
          fstatat (dir_fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 && same_file (&opened, &named))
        unlinkat (dir_fd, name, 0);
      close (fd);
    }
  close (dir_fd);
}
