/* st-file-edit.c: rewriting the header of a file in place, when nothing else changes
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Changing one metadata value of a 10 GB checkpoint need not write 10 GB: when the new header has exactly
 * the length of the old one (the same padding to 8 bytes, or room a writer reserved with spaces) and
 * every tensor's bytes are already where the new header puts them, writing the header is the whole save.
 *
 * The header is written in three steps, so that a file whose rewrite was interrupted is never read as a
 * valid file with a torn header:
 *
 * 1. the 8-byte length prefix gets its top bit set: N | 2^63, a length every reader (Hugging Face's too)
 *    refuses as too large;
 * 2. the JSON is written over the old one;
 * 3. the prefix is written back to N.
 *
 * A kill between 1 and 3 leaves a file no reader accepts; st_file_repair_header() clears the bit when the
 * JSON there is whole (either the old header or the new one) and refuses when it is torn. With
 * ST_SAVE_FLAGS_SYNC each step is on the disk (fdatasync) before the next one starts, so that the same
 * holds after a power loss; without it, as with every save without it, only a crash of the process is
 * covered.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-error.h"
#include "st-file-edit.h"
#include "st-file-private.h"
#include "st-io-private.h"
#include "st-file-source-private.h"

#define EDIT_MARK (G_GUINT64_CONSTANT (1) << 63)

static gboolean
pwrite_all (int            fd,
            const guint8  *data,
            gsize          len,
            guint64        offset)
{
  return st_pwrite_all (fd, data, len, offset, G_MAXSIZE, NULL) == len;
}

/* Reads all @len bytes, or fails with errno set: EIO when the file ends first. */
static gboolean
pread_all (int      fd,
           guint8  *data,
           gsize    len,
           guint64  offset)
{
  if (st_pread_all (fd, data, len, offset, G_MAXSIZE, NULL) == len)
    return TRUE;
  if (errno == 0)
    errno = EIO;
  return FALSE;
}

static gboolean
write_prefix (int      fd,
              guint64  value)
{
  guint8 prefix[8];

  for (guint i = 0; i < 8; i++)
    prefix[i] = (guint8) (value >> (8 * i));
  return pwrite_all (fd, prefix, 8, 0);
}

static guint64
read_le64 (const guint8 *p)
{
  guint64 value = 0;

  for (int i = 7; i >= 0; i--)
    value = (value << 8) | p[i];
  return value;
}

static gboolean
not_in_place (GError     **error,
              const char  *path,
              const char  *why)
{
  g_autofree char *shown = g_filename_display_name (path);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "The header of “%s” cannot be rewritten in place: %s",
               shown, why);
  return FALSE;
}

/* Checks that writing @plan's header is all a save of @plan to the file open as @fd would write. */
static gboolean
check_in_place (const StSavePlan   *plan,
                const struct stat  *st,
                const char         *path,
                guint64             old_json_size,
                GError            **error)
{
  gsize header_len = g_bytes_get_size (st_save_plan_get_header (plan));
  guint64 position = header_len;

  if (header_len != 8 + old_json_size)
    {
      g_autofree char *why = g_strdup_printf ("the new header takes %" G_GSIZE_FORMAT " bytes, the file has room for "
                                              "%" G_GUINT64_FORMAT, header_len - 8, old_json_size);

      return not_in_place (error, path, why);
    }
  if (st_save_plan_get_size (plan) != (guint64) st->st_size)
    return not_in_place (error, path, "the file would change size");

  g_autoptr(StFileSource) first = NULL;

  for (gsize i = 1; i < st_save_plan_get_n_pieces (plan); i++)
    {
      const GOutputVector *piece = st_save_plan_get_piece (plan, i);
      guint64 offset = 0;
      g_autoptr(StFileSource) source = st_file_source_lookup (piece->buffer, piece->size, &offset);

      if (source == NULL || !st_file_source_is_file (source, st) || offset != position ||
          (first != NULL && source != first))
        return not_in_place (error, path, "its tensors are not all already in place");
      if (first == NULL)
        first = g_steal_pointer (&source);
      position += piece->size;
    }
  /* The pieces tile the data of one mapping: one look at its pages covers them all. */
  if (first != NULL &&
      !st_file_source_is_unmodified (first, header_len, (gsize) (position - header_len)))
    return not_in_place (error, path, "the process wrote into some of its tensors");
  return TRUE;
}

/**
 * st_file_save_header_in_place:
 * @self: a file loaded from @path (mapped), whose metadata may have changed since
 * @path: (type filename): the file to rewrite
 * @flags: how to write: %ST_SAVE_FLAGS_SYNC makes each step durable before the next
 * @error: return location for a #GError
 *
 * Saves @self over @path by writing its header only, when that is all a whole save
 * ([method@ST.File.save_to_path]) would change: the new header has exactly the length of the
 * one in the file (the same padding to 8 bytes, or room that a writer reserved, such as
 * [method@ST.Writer.set_min_header_size]: the new JSON is padded with spaces to that
 * length), and every tensor is the one mapped from @path, at the same offset, with no page of
 * it written into by the process. The resulting file is the one a whole save writes with
 * that padding.
 *
 * Otherwise nothing is written and this fails with %G_IO_ERROR_NOT_SUPPORTED, saying why:
 * save the whole file then.
 *
 * The header is replaced in three writes (the length prefix marked invalid, the JSON, the
 * prefix restored): a process killed in between leaves a file that every reader refuses
 * (its header length is over 2^63) instead of one with a torn header, and
 * [func@ST.File.repair_header] restores it when the JSON is whole. With
 * %ST_SAVE_FLAGS_SYNC each write reaches the disk before the next, and the same holds after
 * a power loss. Other processes that read the file while it is rewritten may see the
 * marked prefix or a mix of both headers.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_save_header_in_place (STFile       *self,
                              const char   *path,
                              STSaveFlags   flags,
                              GError      **error)
{
  g_autoptr(StSavePlan) plan = NULL;
  g_autofree guint8 *old_json = NULL;
  guint8 prefix[8];
  guint64 old_json_size;
  const guint8 *new_json;
  gboolean sync = (flags & ST_SAVE_FLAGS_SYNC) != 0;
  struct stat st;
  int fd;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fd = open (path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not open for writing", path);
      return FALSE;
    }

  if (fstat (fd, &st) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not read the attributes of", path);
      close (fd);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) || st.st_size < 8)
    {
      close (fd);
      return not_in_place (error, path, "it is not a regular safetensors file");
    }
  if (!pread_all (fd, prefix, 8, 0))
    {
      st_set_io_error_from_errno (error, errno, "Could not read", path);
      close (fd);
      return FALSE;
    }
  old_json_size = read_le64 (prefix);
  if (old_json_size > ST_MAX_HEADER_SIZE || old_json_size > (guint64) st.st_size - 8)
    {
      close (fd);
      return not_in_place (error, path, "its header length is not valid");
    }

  plan = st_save_plan_new_full (self, old_json_size, error);
  if (plan == NULL || !check_in_place (plan, &st, path, old_json_size, error))
    {
      close (fd);
      return FALSE;
    }

  old_json = g_malloc (MAX (old_json_size, 1));
  if (!pread_all (fd, old_json, (gsize) old_json_size, 8))
    {
      st_set_io_error_from_errno (error, errno, "Could not read", path);
      close (fd);
      return FALSE;
    }
  new_json = (const guint8 *) g_bytes_get_data (st_save_plan_get_header (plan), NULL) + 8;
  if (memcmp (old_json, new_json, (gsize) old_json_size) == 0)
    {
      close (fd);
      return TRUE;
    }

  /* 1: mark the file as being rewritten. Nothing has changed yet if this fails. */
  if (!write_prefix (fd, old_json_size | EDIT_MARK) || (sync && fdatasync (fd) != 0))
    {
      int errsv = errno;

      write_prefix (fd, old_json_size);
      st_set_io_error_from_errno (error, errsv, "Could not write", path);
      close (fd);
      return FALSE;
    }

  /* 2: the new JSON. On failure, the old one is put back as well as can be; the mark stays unless
   * that succeeded. */
  if (!pwrite_all (fd, new_json, (gsize) old_json_size, 8) || (sync && fdatasync (fd) != 0))
    {
      int errsv = errno;

      if (pwrite_all (fd, old_json, (gsize) old_json_size, 8) && (!sync || fdatasync (fd) == 0))
        write_prefix (fd, old_json_size);
      st_set_io_error_from_errno (error, errsv, "Could not write the header of", path);
      close (fd);
      return FALSE;
    }

  /* 3: the file is valid again, with the new header. */
  if (!write_prefix (fd, old_json_size) || (sync && fsync (fd) != 0))
    {
      st_set_io_error_from_errno (error, errno, "Could not write", path);
      close (fd);
      return FALSE;
    }

  if (close (fd) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", path);
      return FALSE;
    }
  return TRUE;
}

/**
 * st_file_repair_header:
 * @path: (type filename): a safetensors file
 * @flags: %ST_SAVE_FLAGS_SYNC to make the repair durable
 * @out_repaired: (out) (optional): set to whether the file needed a repair
 * @error: return location for a #GError
 *
 * Completes a file whose header rewrite ([method@ST.File.save_header_in_place]) was
 * interrupted: such a file has its header length marked (over 2^63), and no reader accepts
 * it. When the JSON behind the mark is a whole valid header (the old one or the new one)
 * for the file's data, the mark is cleared and the file loads again. A file without the
 * mark is left alone (@out_repaired %FALSE).
 *
 * Fails with %ST_ERROR_INVALID_HEADER, changing nothing, when the marked header is torn (a
 * mix of old and new that the reader refuses): the file must then be restored from a copy,
 * or its header rewritten by hand.
 *
 * Returns: %TRUE when the file is now valid or had no mark, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_repair_header (const char   *path,
                       STSaveFlags   flags,
                       gboolean     *out_repaired,
                       GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(STFile) check = NULL;
  guint8 prefix[8];
  guint64 value;
  struct stat st;
  gpointer address;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (out_repaired != NULL)
    *out_repaired = FALSE;

  fd = open (path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not open for writing", path);
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !pread_all (fd, prefix, 8, 0))
    {
      st_set_io_error_from_errno (error, errno, "Could not read", path);
      close (fd);
      return FALSE;
    }
  value = read_le64 (prefix);
  if (!(value & EDIT_MARK) || !S_ISREG (st.st_mode) || (guint64) st.st_size > G_MAXSIZE)
    {
      close (fd);
      return TRUE;
    }

  /* Check the unmarked file as a reader would, through a private mapping whose prefix is unmarked. */
  address = mmap (NULL, (gsize) st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
  if (address == MAP_FAILED)
    {
      st_set_io_error_from_errno (error, errno, "Could not map", path);
      close (fd);
      return FALSE;
    }
  value &= ~EDIT_MARK;
  for (guint i = 0; i < 8; i++)
    ((guint8 *) address)[i] = (guint8) (value >> (8 * i));
  {
    g_autoptr(GBytes) bytes = g_bytes_new_static (address, (gsize) st.st_size);

    check = st_file_new_from_bytes (bytes, &local_error);
  }
  g_clear_object (&check);
  munmap (address, (gsize) st.st_size);

  if (local_error != NULL)
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER,
                   "The header of “%s” was being rewritten in place when the writer stopped, and is torn (%s): "
                   "restore the file from a copy", shown, local_error->message);
      close (fd);
      return FALSE;
    }

  if (!write_prefix (fd, value) || ((flags & ST_SAVE_FLAGS_SYNC) && fsync (fd) != 0))
    {
      st_set_io_error_from_errno (error, errno, "Could not write", path);
      close (fd);
      return FALSE;
    }
  if (close (fd) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", path);
      return FALSE;
    }

  if (out_repaired != NULL)
    *out_repaired = TRUE;
  return TRUE;
}
