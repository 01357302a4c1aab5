/* st-kept-attributes.c: what a file replaced by a save keeps of the file it replaces
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A save replaces its target with a new file (a rename), which starts with the caller's mode and no
 * extended attributes. An in-place header edit keeps the file itself, with everything it has: for a
 * re-save to mean the same whichever way it goes, the new file gets what the old one had of:
 * - its POSIX access ACL: without it, the mode's group bits (which, with an ACL, are the ACL's mask)
 *   would give the owning group what the mask gave the named users and groups, and those users would
 *   lose their access;
 * - its "user." extended attributes (what tools tag files with: origins, checksums, labels).
 * Not the "security." and "trusted." ones (a security label is the system's to set for a new file, and
 * needs privileges to copy), nor a default ACL (directories only).
 */
#include <errno.h>
#include <string.h>
#include <sys/xattr.h>

#include "st-kept-attributes-private.h"
#include "st-io-private.h"

#define ACCESS_ACL "system.posix_acl_access"

/* The value of attribute @name of @path (NULL with errno set). */
static GBytes *
get_attribute (const char *path,
               const char *name)
{
  for (int attempt = 0; attempt < 8; attempt++)
    {
      ssize_t size = getxattr (path, name, NULL, 0);
      g_autofree char *value = NULL;

      if (size < 0)
        return NULL;
      value = g_malloc (MAX (size, 1));
      size = getxattr (path, name, value, (size_t) size);
      if (size >= 0)
        return g_bytes_new_take (g_steal_pointer (&value), (gsize) size);
      if (errno != ERANGE)  /* ERANGE: it grew in between */
        return NULL;
    }
  errno = ERANGE;
  return NULL;
}

/* The names of @path's extended attributes, each ending with a NUL (NULL with errno set). */
static char *
list_attributes (const char *path,
                 gsize      *out_size)
{
  for (int attempt = 0; attempt < 8; attempt++)
    {
      ssize_t size = listxattr (path, NULL, 0);
      g_autofree char *names = NULL;

      if (size < 0)
        return NULL;
      names = g_malloc (MAX (size, 1));
      size = listxattr (path, names, (size_t) size);
      if (size >= 0)
        {
          *out_size = (gsize) size;
          return g_steal_pointer (&names);
        }
      if (errno != ERANGE)
        return NULL;
    }
  errno = ERANGE;
  return NULL;
}

static int
set_attribute (int         to_fd,
               const char *to_path,
               const char *name,
               GBytes     *value)
{
  gsize size = 0;
  gconstpointer data = g_bytes_get_data (value, &size);

  return to_fd >= 0 ? fsetxattr (to_fd, name, data, size, 0) : setxattr (to_path, name, data, size, 0);
}

static gboolean
is_unsupported (int errsv)
{
  return errsv == ENOTSUP || errsv == EOPNOTSUPP || errsv == ENOSYS;
}

gboolean
st_kept_attributes_copy (const char  *from,
                         int          to_fd,
                         const char  *to_path,
                         const char  *target,
                         GError     **error)
{
  g_autofree char *names = NULL;
  gboolean had_acl = FALSE;
  gsize size = 0;

  names = list_attributes (from, &size);
  if (names == NULL)
    {
      /* A file system without extended attributes: the new file has none either. */
      if (is_unsupported (errno))
        return TRUE;
      st_set_io_error_from_errno (error, errno, "Could not read the extended attributes of", target);
      return FALSE;
    }

  for (gsize at = 0; at < size; at += strlen (names + at) + 1)
    {
      const char *name = names + at;
      g_autoptr(GBytes) value = NULL;

      if (strcmp (name, ACCESS_ACL) != 0 && !g_str_has_prefix (name, "user."))
        continue;
      value = get_attribute (from, name);
      if (value == NULL)
        {
          if (errno == ENODATA)  /* removed since it was listed */
            continue;
          st_set_io_error_from_errno (error, errno, "Could not read the extended attributes of", target);
          return FALSE;
        }
      if (set_attribute (to_fd, to_path, name, value) != 0)
        {
          st_set_io_error_from_errno (error, errno, "Could not give the new file the extended attributes of", target);
          return FALSE;
        }
      had_acl |= strcmp (name, ACCESS_ACL) == 0;
    }

  /* The folder's default ACL gave the new file one that the old file did not have. */
  if (!had_acl &&
      (to_fd >= 0 ? fremovexattr (to_fd, ACCESS_ACL) : removexattr (to_path, ACCESS_ACL)) != 0 &&
      errno != ENODATA && !is_unsupported (errno))
    {
      st_set_io_error_from_errno (error, errno, "Could not give the new file the permissions of", target);
      return FALSE;
    }
  return TRUE;
}
