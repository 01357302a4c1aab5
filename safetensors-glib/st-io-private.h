/* st-io-private.h: low-level I/O on file descriptors, with errors as GErrors
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The lowest floor of the library's file handling: it includes no other private header, and every
 * part that reads or writes a descriptor (STFile's files, STWriter, the pending file) uses it instead
 * of its own loop.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Sets a G_IO_ERROR from @errsv: "WHAT “PATH”: strerror". */
void st_set_io_error_from_errno (GError     **error,
                                 int          errsv,
                                 const char  *what,
                                 const char  *path);

/* Reads @len bytes at @offset of @fd into @buffer, in calls of at most @chunk_size bytes, retrying
 * those a signal interrupts and looking at @cancellable (nullable) before each call. Returns the
 * number of bytes read: @len, or fewer with errno set to the error, to 0 when the file ended first,
 * or to ECANCELED when @cancellable was cancelled. */
gsize st_pread_all (int           fd,
                    void         *buffer,
                    gsize         len,
                    guint64       offset,
                    gsize         chunk_size,
                    GCancellable *cancellable);

/* Writes @len bytes of @data at @offset of @fd, as st_pread_all() reads them. Returns the number of
 * bytes written: @len, or fewer with errno set to the error (EIO when a write wrote nothing), or to
 * ECANCELED when @cancellable was cancelled. */
gsize st_pwrite_all (int            fd,
                     const void    *data,
                     gsize          len,
                     guint64        offset,
                     gsize          chunk_size,
                     GCancellable  *cancellable);

/* fsync() of @fd, with "Could not write to disk (fsync) “@shown_path”" on failure. */
gboolean st_sync_fd (int          fd,
                     const char  *shown_path,
                     GError     **error);

/* fsync() of a directory, after renames into it. */
gboolean st_sync_directory (const char  *directory,
                            GError     **error);

G_END_DECLS
