/* st-file-shard-private.h: the pieces of a sharded save that a save planned elsewhere shares
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * st_file_save_sharded() (st-file-shard.c) and STPlannedSave (st-planned-save.c), whose files other
 * processes write, split tensors into shards alike and commit the files alike.
 */
#pragma once

#include <gio/gio.h>

#include "st-file.h"

G_BEGIN_DECLS

/* Hugging Face's greedy split of @n_tensors tensors of @sizes bytes, in that order, into shards of
 * at most @max_shard_size bytes (a larger tensor alone, at once). Returns the order the tensors go
 * in (indices into @sizes, n_tensors of them) and sets *@out_starts to where each shard begins in
 * that order, with one more value, @n_tensors, at the end (a new array of guint). */
guint *st_shard_split (const guint64  *sizes,
                       guint           n_tensors,
                       guint64         max_shard_size,
                       GArray        **out_starts);

/* Where a save to @path writes: the file a symbolic link points to, or @path. Sets *@out_followed
 * when @path is a link. */
char *st_shard_resolve_target (const char *path,
                               gboolean   *out_followed);

/* The commit of a sharded save whose files are all written: @pending (StPendingFile *) are the
 * files of @file_names, then the index's when @index_name is not NULL, to be renamed over @targets
 * (one per pending file). Holding the folder's lock: the commit mark, the renames, the removal of
 * the replaced checkpoint's other files, then of the mark. A failure before the first rename that
 * replaces a file leaves the folder as it was; after it, the mark stays. */
gboolean st_shard_commit (const char   *directory,
                          const char   *prefix,
                          const char   *index_name,
                          GPtrArray    *file_names,
                          GPtrArray    *pending,
                          GPtrArray    *targets,
                          STSaveFlags   flags,
                          GError      **error);

G_END_DECLS
