/* st-file-remote-private.h: what the rest of STFile and STIndex need of remote files
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A remote file (st-file-remote.c) is a loaded file without a data buffer: its entries' tensors are
 * fetched from its byte source on first use.
 */
#pragma once

#include "st-file-private.h"
#include "st-source-private.h"

G_BEGIN_DECLS

/* Reads and checks the header of @source, in at most two reads (a prefix of 100 kB, then the rest of a
 * longer header), and makes a remote file of it that keeps @source. */
STFile *st_file_new_from_source (StSource      *source,
                                 GCancellable  *cancellable,
                                 GError       **error);

/* The tensor of @entry (transfer none), fetched now if it was not; NULL with @error set when the fetch
 * fails. Only for a loaded entry of a file whose data buffer is NULL (st-file.c asks). */
STTensor *st_file_remote_fetch_entry (STFile     *self,
                                      FileEntry  *entry,
                                      GError    **error);

/* Fetches every tensor not fetched yet; TRUE at once for a file that is not remote. */
gboolean st_file_remote_fetch_all (STFile        *self,
                                   GCancellable  *cancellable,
                                   GError       **error);

G_END_DECLS
