/* st-index-private.h: what STIndex's own files (st-index.c, st-index-merge.c, st-index-validate.c) share
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-index.h"

G_BEGIN_DECLS

/* The byte size of each shard file, in the order of st_index_dup_shard_names() (0 for one that cannot be
 * read: opening it will say why), then their sum: the units of an index's progress reports. */
GArray *st_index_dup_shard_file_sizes (STIndex *self);

/* The string values of the index's "metadata" (transfer none): what a merge passes on to the merged file. */
GHashTable *st_index_peek_string_metadata (STIndex *self);

/* The shard names of the index at @index_path (a new array), or NULL when there is none that reads:
 * for a save, which holds the folder's lock exclusively, to know the checkpoint it replaces. */
char **st_index_dup_shard_names_unlocked (const char *index_path);

G_END_DECLS
