/* st-pending-file-private.h: where saved bytes land, a new file renamed over its target once complete
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "st-file.h"

G_BEGIN_DECLS

/* Where saved bytes land (st-pending-file.c). A pending file is a new file being written in a
 * directory, with no name (O_TMPFILE) or a short hidden one, until st_pending_file_commit() renames it
 * over its target; st_pending_file_free() discards an uncommitted one. */
typedef struct _StPendingFile StPendingFile;

StPendingFile *st_pending_file_new (const char  *directory,
                                    const char  *target,
                                    GError     **error);
int st_pending_file_get_fd (StPendingFile *pending);
gboolean st_pending_file_reserve (StPendingFile  *pending,
                                  guint64         size,
                                  const char     *target,
                                  GError        **error);
gboolean st_pending_file_park (StPendingFile  *pending,
                               STSaveFlags     flags,
                               GError        **error);
gboolean st_pending_file_commit (StPendingFile  *pending,
                                 const char     *target,
                                 STSaveFlags     flags,
                                 GError        **error);
gboolean st_pending_file_is_committed (StPendingFile *pending);
const char *st_pending_file_get_directory (StPendingFile *pending);
/* The file's hidden name while it has one (a parked file's), else NULL. */
const char *st_pending_file_get_path (StPendingFile *pending);

/* The rule every save to a path follows before it writes anything: a missing @path is a new file; an
 * existing one must be a regular file the caller could open for writing (a save replaces it, which
 * needs only the directory's permission: a read-only file stays). A directory fails with
 * G_IO_ERROR_IS_DIRECTORY. A special file (a device, a FIFO, a socket) sets *@out_special, for a
 * caller that writes such targets as streams; with @out_special NULL it fails with
 * G_IO_ERROR_NOT_REGULAR_FILE. */
gboolean st_check_save_target (const char  *path,
                               gboolean    *out_special,
                               GError     **error);

/* A pending file for a save to @path, after the checks every save makes (not a directory, writable
 * when it exists), with the file it will replace in *@out_target (@path, symbolic links resolved).
 * Returns NULL with *@out_special TRUE and no error when @path is not a regular file (a device, a FIFO,
 * a socket): such targets are written as streams. */
StPendingFile *st_pending_file_new_for_path (const char   *path,
                                             gboolean     *out_special,
                                             char        **out_target,
                                             GError      **error);
void st_pending_file_free (StPendingFile *pending);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StPendingFile, st_pending_file_free)

G_END_DECLS
