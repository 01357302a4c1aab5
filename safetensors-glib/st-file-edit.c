/* st-file-edit.c: rewriting the header of a file in place, when nothing else changes
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Changing one metadata value of a 10 GB checkpoint need not write 10 GB: when the new header has exactly
 * the length of the old one (the same padding to 8 bytes, or room a writer reserved with spaces) and
 * every tensor's bytes are already where the new header puts them, writing the header is the whole save.
 *
 * The edit goes in steps, so that a file whose rewrite stopped (a kill, a full disk, an I/O error) is
 * never read as a valid file with a torn header, and always goes back to the old header or on to the new
 * one, never to a mix of the two:
 *
 * 0. an exclusive lock on the file (lock_for_edit()), and all the space the edit needs set aside past the
 *    end of the file (reserve_space()): without room, the edit fails here, with nothing written;
 * 1. the 8-byte length prefix gets its top bit set: N | 2^63, a length every reader (Hugging Face's too)
 *    refuses (ours with ST_ERROR_INTERRUPTED_EDIT);
 * 2. the file grows over the space set aside, and a journal is written at its end: a copy of the old JSON
 *    and a trailer with the digests of the old JSON and the new one (st-edit-journal.c);
 * 3. the new JSON is written over the old one (on a copy-on-write file system, with the ballast given
 *    back piece by piece when the overwrite finds no space);
 * 4. the file is cut back to its length;
 * 5. the prefix is written back to N.
 *
 * A failure at any step undoes the ones before as far as it can; what it cannot undo stays marked, and
 * st_file_repair_header() finishes the job: with a whole journal, it accepts the JSON in the header only
 * when its digest is the old one's or the new one's, and otherwise writes the old JSON back from the
 * journal; without one (steps 1, 2 or 4 interrupted), the JSON is the old one untouched or the new one
 * whole, and it checks that it is valid for the data. With ST_SAVE_FLAGS_SYNC each step is on the disk
 * (fdatasync) before the next one starts, so that the same holds after a power loss; without it, as with
 * every save without it, only a crash of the process is covered.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-edit-journal-private.h"
#include "st-error.h"
#include "st-file-edit.h"
#include "st-file-private.h"
#include "st-io-private.h"
#include "st-file-source-private.h"

#define EDIT_MARK ST_EDIT_MARK

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

/* The error of a file that carries the mark of an edit that did not finish: what to run. */
static void
set_interrupted_error (GError     **error,
                       const char  *path)
{
  g_autofree char *shown = g_filename_display_name (path);

  g_set_error (error, ST_ERROR, ST_ERROR_INTERRUPTED_EDIT,
               "“%s” is marked by an in-place edit of its header that did not finish (or is still under "
               "way): run “st-tool metadata --repair %s” (or call st_file_repair_header()) to complete it",
               shown, shown);
}

/* An exclusive lock on the whole file for as long as @fd is open, taken by every editor and by the repair:
 * without it, two editors of one file each set and clear the mark, and the first to finish clears the
 * mark of the other while that one is still writing.
 *
 * An open file description lock (F_OFD_SETLK), not flock() nor a classic F_SETLK lock: like flock() it
 * belongs to this open of the file, so closing another descriptor of the same file in the process (the
 * caller's, a library's) does not drop it, as it would drop a classic lock; and like a classic lock it is a
 * POSIX record lock, which NFS carries to the server (editors on two machines exclude each other) and which
 * conflicts with the fcntl() and lockf() locks of other programs.
 *
 * A second editor does not wait: it fails at once with G_IO_ERROR_BUSY. Its STFile was loaded before the
 * first editor's header was written, so writing it after the wait would silently drop the first edit.
 *
 * *out_no_locks says when the file system cannot lock (ENOLCK, as NFS without lockd; EINVAL, EOPNOTSUPP). */
static gboolean
lock_for_edit (int          fd,
               const char  *path,
               gboolean    *out_no_locks,
               GError     **error)
{
  struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0, .l_pid = 0 };
  g_autofree char *shown = NULL;
  int errsv;

  *out_no_locks = FALSE;
  while (fcntl (fd, F_OFD_SETLK, &lock) != 0)
    {
      errsv = errno;
      if (errsv == EINTR)
        continue;
      shown = g_filename_display_name (path);
      if (errsv == EAGAIN || errsv == EACCES)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                     "The header of “%s” is being edited by another process: try again when it is done", shown);
      else if (errsv == ENOLCK || errsv == EINVAL || errsv == EOPNOTSUPP)
        {
          *out_no_locks = TRUE;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "The header of “%s” cannot be rewritten in place: its file system cannot lock it", shown);
        }
      else
        st_set_io_error_from_errno (error, errsv, "Could not lock", path);
      return FALSE;
    }
  return TRUE;
}

/* Space for an edit, set aside before the header is touched.
 *
 * All the blocks the edit appends are allocated first, past the end of the file (fallocate with
 * FALLOC_FL_KEEP_SIZE, so that the length of the file, which readers go by, does not change yet): the
 * journal's, and a ballast for the writes that need new space only where an overwrite does, on a file
 * system that copies on write (btrfs; XFS for blocks shared with a reflinked copy): there every overwrite
 * of the header takes new blocks. A disk without room for all of it fails the edit before anything is
 * written. Once the file is marked, it grows over these blocks (st-edit-journal-private.h has the layout),
 * and when an overwrite fails for want of space, a piece of the ballast is given back (punched out, and
 * the file system committed so that the space is free at once) and the write is tried again. The ballast
 * is two pieces, each larger than the header: one for the new JSON, one for putting the old one back; each
 * is allocated by a call of its own, so that it is an extent of its own, which a punch frees whole.
 * Cutting the file back to its length frees whatever is left. A file system that cannot allocate ahead
 * (EOPNOTSUPP) edits without a reservation. */
typedef struct {
  int     fd;
  guint64 start;  /* the ballast is [start, end), in pieces of piece bytes */
  guint64 end;
  guint64 piece;
} Ballast;

/* The ballast of an edit of a file of @data_end bytes with a @json_size-byte header. */
static void
ballast_init (Ballast *ballast,
              int      fd,
              guint64  data_end,
              guint64  json_size)
{
  ballast->fd = fd;
  ballast->piece = st_edit_ballast_piece (json_size);
  ballast->start = st_edit_ballast_start (data_end);
  ballast->end = ballast->start + 2 * ballast->piece;
}

/* Frees what an edit allocated past @data_end, the length of the file again: a punch past the end frees
 * it on XFS and ext4, a truncation to the same length on btrfs. Errors do not matter: nothing reads these
 * blocks. */
static void
forget_reservation (int      fd,
                    guint64  data_end,
                    guint64  json_size)
{
  int errsv = errno;
  int punched = fallocate (fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) data_end,
                           (off_t) (st_edit_journal_end (data_end, json_size) - data_end));
  int truncated = ftruncate (fd, (off_t) data_end);

  (void) punched;
  (void) truncated;
  errno = errsv;
}

static gboolean
is_out_of_room (int errsv)
{
  return errsv == ENOSPC || errsv == EDQUOT || errsv == EFBIG;
}

/* Sets the journal's blocks and the ballast aside. FALSE, with errno set (ENOSPC, EDQUOT, EFBIG), when
 * there is no room: nothing is left allocated then. Where the file system cannot allocate ahead
 * (EOPNOTSUPP, or any other error), the edit goes on without a reservation, as far as the space lasts. */
static gboolean
reserve_space (Ballast  *ballast,
               int       fd,
               guint64   data_end,
               guint64   json_size)
{
  guint64 journal = st_edit_journal_offset (data_end, json_size);

  ballast_init (ballast, fd, data_end, json_size);
  if (fallocate (fd, FALLOC_FL_KEEP_SIZE, (off_t) journal, (off_t) (json_size + ST_EDIT_TRAILER_SIZE)) != 0)
    {
      if (!is_out_of_room (errno))
        {
          ballast->end = ballast->start;
          return TRUE;
        }
      forget_reservation (fd, data_end, json_size);
      return FALSE;
    }
  for (guint64 at = ballast->start; at < ballast->end; at += ballast->piece)
    if (fallocate (fd, FALLOC_FL_KEEP_SIZE, (off_t) at, (off_t) ballast->piece) != 0)
      {
        if (!is_out_of_room (errno))
          {
            ballast->end = at;
            return TRUE;
          }
        forget_reservation (fd, data_end, json_size);
        return FALSE;
      }
  return TRUE;
}

/* Gives back the last piece of the ballast, which lies inside the file (it has grown over it), and
 * commits the file system so that its space is free at once. FALSE when there is no ballast left. */
static gboolean
give_back (Ballast *ballast)
{
  if (ballast == NULL || ballast->end < ballast->start + ballast->piece)
    return FALSE;
  ballast->end -= ballast->piece;
  if (fallocate (ballast->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) ballast->end,
                 (off_t) ballast->piece) != 0)
    return FALSE;
  syncfs (ballast->fd);
  return TRUE;
}

/* Writes @len bytes at @offset, made durable with @sync. A write that fails for want of space (on a
 * copy-on-write file system, any overwrite can) is tried again after each piece of @ballast given back,
 * and once more after a commit of the file system, which frees what a cut-off journal held. */
static gboolean
overwrite (int            fd,
           const guint8  *data,
           gsize          len,
           guint64        offset,
           gboolean       sync,
           Ballast       *ballast)
{
  gboolean committed = FALSE;

  for (;;)
    {
      int errsv;

      if (pwrite_all (fd, data, len, offset) && (!sync || fdatasync (fd) == 0))
        return TRUE;
      errsv = errno;
      if ((errsv != ENOSPC && errsv != EDQUOT) || committed)
        return FALSE;
      if (!give_back (ballast))
        {
          syncfs (fd);
          committed = TRUE;
        }
      errno = errsv;
    }
}

/* Writes the length prefix, as overwrite() does. */
static gboolean
set_prefix (int       fd,
            guint64   value,
            gboolean  sync,
            Ballast  *ballast)
{
  guint8 prefix[8];

  for (guint i = 0; i < 8; i++)
    prefix[i] = (guint8) (value >> (8 * i));
  return overwrite (fd, prefix, 8, 0, sync, ballast);
}

/* Undoes the steps of a failed edit, each only once the one before has succeeded: the old JSON back when
 * @json_written, the journal cut off, the mark cleared. What stops halfway leaves the mark and the journal
 * for st_file_repair_header(). */
static void
roll_back (int            fd,
           const guint8  *old_json,
           gsize          json_size,
           guint64        data_end,
           gboolean       json_written,
           gboolean       sync,
           Ballast       *ballast)
{
  if (json_written && !overwrite (fd, old_json, json_size, 8, sync, ballast))
    return;
  if (ftruncate (fd, (off_t) data_end) != 0 || (sync && fdatasync (fd) != 0))
    return;
  forget_reservation (fd, data_end, json_size);
  set_prefix (fd, json_size, sync, NULL);
}

/* Reports the failure of step @what, once roll_back() is done: a plain I/O error when the file is as it
 * was (no mark), or ST_ERROR_INTERRUPTED_EDIT with the cause and what to do when it stays marked. */
static gboolean
fail_edit (GError     **error,
           int          fd,
           const char  *path,
           int          errsv,
           const char  *what)
{
  guint8 prefix[8];
  gboolean marked = !pread_all (fd, prefix, 8, 0) || (read_le64 (prefix) & EDIT_MARK) != 0;
  g_autofree char *shown = g_filename_display_name (path);

  close (fd);
  if (!marked)
    {
      st_set_io_error_from_errno (error, errsv, what, path);
      return FALSE;
    }
  g_set_error (error, ST_ERROR, ST_ERROR_INTERRUPTED_EDIT,
               "%s “%s”: %s. The edit could not be undone: the file stays marked, and no reader takes it until "
               "it is repaired. Once the cause is gone (space freed, for one), run “st-tool metadata --repair %s” "
               "(or call st_file_repair_header()): the file then holds its old header or the new one",
               what, shown, g_strerror (errsv), shown);
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
  /* A rewrite replaces this name only; an edit in place would change every other name of the file
   * too (a snapshot's, a backup's): a file with other names is rewritten, whatever its header. */
  if (st->st_nlink > 1)
    return not_in_place (error, path, "it has other hard links, which keep the old file");

  g_autoptr(StFileSource) first = NULL;

  for (gsize i = 1; i < st_save_plan_get_n_pieces (plan); i++)
    {
      const GOutputVector *piece = st_save_plan_get_piece (plan, i);
      guint64 offset = 0;
      g_autoptr(StFileSource) source = st_file_source_lookup (piece->buffer, piece->size, &offset);

      if (source != NULL && st_file_source_is_stacked (source))
        return not_in_place (error, path, "on overlayfs and FUSE, the file may no longer hold the bytes the process "
                             "loaded from it");
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
 * save the whole file then. The same error comes from a file system that cannot lock files.
 *
 * The edit holds an exclusive lock on the file (an open file description lock,
 * `F_OFD_SETLK`): while another process edits or repairs the header of @path, this fails at
 * once with %G_IO_ERROR_BUSY, without waiting and without writing. A file that carries the
 * mark of an edit that did not finish is refused with %ST_ERROR_INTERRUPTED_EDIT.
 *
 * The file is marked (its header length set over 2^63, which every reader refuses) while
 * the header is rewritten, and a copy of the old header is appended after the data until
 * the new one is whole, so that the file always goes back to the old header or on to the
 * new one. The space this needs (about three times the header, plus 256 KiB, for as long as
 * the edit runs) is set aside before anything is written: a disk without it fails with
 * %G_IO_ERROR_NO_SPACE, the file unchanged. When the edit fails later (an I/O error, or a
 * full disk on a file system that copies on write), it is undone and the error is in
 * the `G_IO_ERROR` domain; when it cannot be undone either, the file stays marked and the
 * error is %ST_ERROR_INTERRUPTED_EDIT: run [func@ST.File.repair_header] once the cause is
 * gone. A process killed during the edit leaves a marked file for
 * [func@ST.File.repair_header] too. With %ST_SAVE_FLAGS_SYNC each step reaches the disk
 * before the next, and the same holds after a power loss. Other processes that read the
 * file while it is rewritten get %ST_ERROR_INTERRUPTED_EDIT, or, when they read the length
 * just before it is marked and the header while it is written, a mix of both headers.
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
  StEditJournal journal;
  Ballast ballast;
  guint8 trailer[ST_EDIT_TRAILER_SIZE];
  guint8 prefix[8];
  guint64 old_json_size;
  guint64 data_end;
  const guint8 *new_json;
  gboolean sync = (flags & ST_SAVE_FLAGS_SYNC) != 0;
  gboolean no_locks;
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
  /* Everything from here on reads the file as it is under the lock. */
  if (!lock_for_edit (fd, path, &no_locks, error))
    {
      close (fd);
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !pread_all (fd, prefix, 8, 0))
    {
      st_set_io_error_from_errno (error, errno, "Could not read", path);
      close (fd);
      return FALSE;
    }
  old_json_size = read_le64 (prefix);
  if ((old_json_size & EDIT_MARK) != 0)
    {
      set_interrupted_error (error, path);
      close (fd);
      return FALSE;
    }
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

  data_end = (guint64) st.st_size;
  st_edit_journal_init (&journal, data_end, old_json, new_json, (gsize) old_json_size);
  st_edit_journal_encode (&journal, trailer);

  /* 0: the space every later step needs, before anything is written. */
  if (!reserve_space (&ballast, fd, data_end, old_json_size))
    {
      st_set_io_error_from_errno (error, errno, "No room to edit the header of", path);
      close (fd);
      return FALSE;
    }

  /* 1: mark the file as being rewritten. */
  if (!set_prefix (fd, old_json_size | EDIT_MARK, sync, NULL))
    {
      int errsv = errno;

      roll_back (fd, old_json, (gsize) old_json_size, data_end, FALSE, sync, NULL);
      return fail_edit (error, fd, path, errsv, "Could not mark the header of");
    }

  /* 2: the journal. The file grows over the space set aside first, so that the ballast can be given back
   * by a punch inside the file, and a repair finds the trailer at the end. */
  if (ftruncate (fd, (off_t) st_edit_journal_end (data_end, old_json_size)) != 0 ||
      !pwrite_all (fd, old_json, (gsize) old_json_size, st_edit_journal_offset (data_end, old_json_size)) ||
      !pwrite_all (fd, trailer, sizeof trailer, st_edit_journal_offset (data_end, old_json_size) + old_json_size) ||
      (sync && fdatasync (fd) != 0))
    {
      int errsv = errno;

      roll_back (fd, old_json, (gsize) old_json_size, data_end, FALSE, sync, &ballast);
      return fail_edit (error, fd, path, errsv, "Could not write the journal of the header of");
    }

  /* 3: the new JSON. */
  if (!overwrite (fd, new_json, (gsize) old_json_size, 8, sync, &ballast))
    {
      int errsv = errno;

      roll_back (fd, old_json, (gsize) old_json_size, data_end, TRUE, sync, &ballast);
      return fail_edit (error, fd, path, errsv, "Could not write the header of");
    }

  /* 4: the new JSON is whole: the journal goes, and what is left of the ballast. */
  if (ftruncate (fd, (off_t) data_end) != 0 || (sync && fdatasync (fd) != 0))
    return fail_edit (error, fd, path, errno, "Could not remove the journal of the header of");
  forget_reservation (fd, data_end, old_json_size);

  /* 5: the file is valid again, with the new header. */
  if (!set_prefix (fd, old_json_size, FALSE, NULL) || (sync && fsync (fd) != 0))
    return fail_edit (error, fd, path, errno, "Could not write the header of");

  if (close (fd) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", path);
      return FALSE;
    }
  return TRUE;
}

/* Checks, as a reader would, that the first @length bytes of the file open as @fd, with its prefix read as
 * @json_size instead of the mark, are a valid safetensors file. */
static gboolean
check_unmarked (int        fd,
                guint64    length,
                guint64    json_size,
                GError   **error)
{
  g_autoptr(STFile) check = NULL;
  gpointer address;

  if (length > G_MAXSIZE)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "The file is too large to map");
      return FALSE;
    }
  address = mmap (NULL, (gsize) length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
  if (address == MAP_FAILED)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "Could not map it: %s", g_strerror (errno));
      return FALSE;
    }
  for (guint i = 0; i < 8; i++)
    ((guint8 *) address)[i] = (guint8) (json_size >> (8 * i));
  {
    g_autoptr(GBytes) bytes = g_bytes_new_static (address, (gsize) length);

    check = st_file_new_from_bytes (bytes, error);
  }
  g_clear_object (&check);
  munmap (address, (gsize) length);
  return *error == NULL;
}

static gboolean
refuse_torn (GError     **error,
             int          fd,
             const char  *path,
             const char  *why)
{
  g_autofree char *shown = g_filename_display_name (path);

  g_set_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER,
               "The header of “%s” was being rewritten in place when the writer stopped, and is torn (%s): "
               "restore the file from a copy", shown, why);
  close (fd);
  return FALSE;
}

/**
 * st_file_repair_header:
 * @path: (type filename): a safetensors file
 * @flags: %ST_SAVE_FLAGS_SYNC to make the repair durable
 * @out_repaired: (out) (optional): set to whether the file needed a repair
 * @error: return location for a #GError
 *
 * Completes a file whose header rewrite ([method@ST.File.save_header_in_place]) did not
 * finish: such a file has its header length marked (over 2^63), and loading it fails with
 * %ST_ERROR_INTERRUPTED_EDIT. The file is then made to hold exactly its old header or the
 * new one, never a mix of the two: when the header in the file is either of them (by the
 * digests the edit recorded), it stays; when it is torn, the old one is written back from
 * the copy the edit kept at the end of the file. The copy is then removed, the mark cleared,
 * and the file loads again. A file without the mark is left alone (@out_repaired %FALSE).
 *
 * Fails with %ST_ERROR_INVALID_HEADER, changing nothing, when the header is torn and no whole
 * copy of the old one is there (a file marked by an editor older than 1.1, or damaged), or
 * when the resulting file would not load: the file must then be restored from a copy.
 * Writing the old header back needs free space on a file system that copies on write
 * (btrfs): when there is none, this fails with %G_IO_ERROR_NO_SPACE, the file stays marked,
 * and a repair after space is freed completes it.
 *
 * The repair takes the lock an edit takes, and fails with %G_IO_ERROR_BUSY while another
 * process edits or repairs the file.
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
  gboolean sync = (flags & ST_SAVE_FLAGS_SYNC) != 0;
  guint8 trailer[ST_EDIT_TRAILER_SIZE];
  StEditJournal journal;
  Ballast ballast;
  gboolean no_locks;
  guint8 prefix[8];
  guint64 value;
  guint64 json_size;
  guint64 file_size;
  guint64 data_end;
  struct stat st;
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
  /* Where files cannot be locked, no edit could have run with the lock: repair without it. */
  if (!lock_for_edit (fd, path, &no_locks, &local_error) && !no_locks)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      close (fd);
      return FALSE;
    }
  g_clear_error (&local_error);
  if (fstat (fd, &st) != 0 || !pread_all (fd, prefix, 8, 0))
    {
      st_set_io_error_from_errno (error, errno, "Could not read", path);
      close (fd);
      return FALSE;
    }
  value = read_le64 (prefix);
  if (!(value & EDIT_MARK) || !S_ISREG (st.st_mode))
    {
      close (fd);
      return TRUE;
    }
  json_size = value & ~EDIT_MARK;
  file_size = (guint64) st.st_size;
  if (json_size > ST_MAX_HEADER_SIZE || json_size > file_size - 8)
    return refuse_torn (error, fd, path, "its marked header length is not valid");

  if (file_size >= 8 + json_size + ST_EDIT_TRAILER_SIZE &&
      pread_all (fd, trailer, sizeof trailer, file_size - ST_EDIT_TRAILER_SIZE) &&
      st_edit_journal_decode (trailer, file_size, json_size, &journal))
    {
      /* A whole journal: the header is the old JSON, the new one, or torn between them. */
      g_autofree guint8 *json = g_malloc (MAX (json_size, 1));

      if (!pread_all (fd, json, (gsize) json_size, 8))
        {
          st_set_io_error_from_errno (error, errno, "Could not read", path);
          close (fd);
          return FALSE;
        }
      if (st_edit_journal_classify (&journal, json) == ST_EDIT_JSON_TORN)
        {
          if (!pread_all (fd, json, (gsize) json_size, st_edit_journal_offset (journal.data_end, json_size)))
            {
              st_set_io_error_from_errno (error, errno, "Could not read", path);
              close (fd);
              return FALSE;
            }
          if (!st_edit_journal_holds_old (&journal, json))
            return refuse_torn (error, fd, path, "and the copy of its old header is damaged");
          /* What is left of the stopped edit's ballast is the space to write with. */
          ballast_init (&ballast, fd, journal.data_end, json_size);
          if (!overwrite (fd, json, (gsize) json_size, 8, sync, &ballast))
            {
              st_set_io_error_from_errno (error, errno, "Could not write the old header back into", path);
              close (fd);
              return FALSE;
            }
        }
      data_end = journal.data_end;
      if (!check_unmarked (fd, data_end, json_size, &local_error))
        return refuse_torn (error, fd, path, local_error->message);
    }
  else
    {
      /* No whole journal: the edit stopped before its journal was written (the JSON is the old one,
       * untouched) or after the new JSON was whole (the journal is cut off only then). Either way the
       * header says where the data ends; the file is that long, or as long as the edit made it. */
      g_autofree guint8 *json = g_malloc (MAX (json_size, 1));
      g_autoptr(StHeader) header = NULL;

      if (!pread_all (fd, json, (gsize) json_size, 8))
        {
          st_set_io_error_from_errno (error, errno, "Could not read", path);
          close (fd);
          return FALSE;
        }
      header = st_header_parse ((const char *) json, (gsize) json_size, &local_error);
      if (header == NULL)
        return refuse_torn (error, fd, path, local_error->message);
      data_end = 8 + json_size + header->data_size;
      if (header->data_size > file_size || (data_end != file_size &&
                                            st_edit_journal_end (data_end, json_size) != file_size))
        return refuse_torn (error, fd, path, "its length is neither that of its data nor that of an edit");
      if (!check_unmarked (fd, data_end, json_size, &local_error))
        return refuse_torn (error, fd, path, local_error->message);
    }

  if (data_end < file_size && (ftruncate (fd, (off_t) data_end) != 0 || (sync && fdatasync (fd) != 0)))
    {
      st_set_io_error_from_errno (error, errno, "Could not remove the journal of the header of", path);
      close (fd);
      return FALSE;
    }
  forget_reservation (fd, data_end, json_size);
  if (!set_prefix (fd, json_size, FALSE, NULL) || (sync && fsync (fd) != 0))
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
