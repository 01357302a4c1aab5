/* st-index-private.h: what the index reader (st-index.c) and the sharded writer (st-file-shard.c) share
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The index file of transformers' convention names the metadata key this way. */
#define ST_INDEX_TOTAL_SIZE_KEY "total_size"

/* strcmp() for a sort of an array of strings. */
int st_compare_strings (gconstpointer a,
                        gconstpointer b);

/* A shard must be a plain file name in the index's directory: not empty, not "." or "..", no '/' or
 * '\\', valid UTF-8. */
gboolean st_is_plain_file_name (const char *name);

/* The shard names of the index at @index_path (a new array), or NULL when there is none that reads:
 * for a save, which holds the folder's lock exclusively, to know the checkpoint it replaces. */
char **st_index_dup_shard_names_unlocked (const char *index_path);

G_END_DECLS
