/* st-io.c: low-level I/O on file descriptors, with errors as GErrors
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "st-io-private.h"

void
st_set_io_error_from_errno (GError     **error,
                            int          errsv,
                            const char  *what,
                            const char  *path)
{
  g_autofree char *shown = g_filename_display_name (path);

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               "%s “%s”: %s", what, shown, g_strerror (errsv));
}

gsize
st_pread_all (int           fd,
              void         *buffer,
              gsize         len,
              guint64       offset,
              gsize         chunk_size,
              GCancellable *cancellable)
{
  guint8 *p = buffer;
  gsize done = 0;

  while (done < len)
    {
      gssize n;

      if (g_cancellable_is_cancelled (cancellable))
        {
          errno = ECANCELED;
          return done;
        }

      n = pread (fd, p + done, MIN (len - done, chunk_size), (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = 0;
          return done;
        }
      done += (gsize) n;
    }

  return done;
}

gsize
st_pwrite_all (int            fd,
               const void    *data,
               gsize          len,
               guint64        offset,
               gsize          chunk_size,
               GCancellable  *cancellable)
{
  const guint8 *p = data;
  gsize done = 0;

  while (done < len)
    {
      gssize n;

      if (g_cancellable_is_cancelled (cancellable))
        {
          errno = ECANCELED;
          return done;
        }

      n = pwrite (fd, p + done, MIN (len - done, chunk_size), (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return done;
        }
      done += (gsize) n;
    }

  return done;
}

gboolean
st_sync_fd (int          fd,
            const char  *shown_path,
            GError     **error)
{
  if (fsync (fd) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not write to disk (fsync)", shown_path);
      return FALSE;
    }
  return TRUE;
}

gboolean
st_sync_directory (const char  *directory,
                   GError     **error)
{
  int fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not open the directory", directory);
      return FALSE;
    }
  ok = st_sync_fd (fd, directory, error);
  close (fd);
  return ok;
}
