/* st-index-json-private.h: the JSON of an index (model.safetensors.index.json), read and written
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * STIndex (st-index.c) reads an index through st_index_json_read(); the sharded save (st-file-shard.c)
 * writes one with st_index_json_format(). Both keep to the convention of transformers and
 * huggingface_hub, and to the rule that a shard is a plain file name in the index's directory.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* An index lists a name and a shard per tensor: 256 MiB is millions of tensors, and bounds the memory
 * a hostile index can make the parser take (a remote index's too, st-index-remote.c). */
#define ST_MAX_INDEX_SIZE (G_GUINT64_CONSTANT (256) << 20)

/* The index file of transformers' convention names the metadata key this way. */
#define ST_INDEX_TOTAL_SIZE_KEY "total_size"

/* What an index file says, as read and checked by st_index_json_read(). */
typedef struct {
  GHashTable *weight_map;      /* tensor name -> shard name (both owned) */
  GHashTable *shard_tensors;   /* shard name -> GPtrArray of tensor names (sorted; pointing into weight_map) */
  char **names;                /* the tensor names, sorted */
  char **shard_names;          /* the shard names, sorted */
  GHashTable *metadata;        /* string and integer values of "metadata", as text */
  GHashTable *string_metadata; /* only the string values */
  guint64 total_size;
  gboolean has_total_size;
} StIndexJson;

/* Reads and checks the index file at @index_path. Errors: G_IO_ERROR when it cannot be read,
 * ST_ERROR_INVALID_INDEX for everything wrong with its contents, each message starting with the
 * file's display name. */
StIndexJson *st_index_json_read (const char    *index_path,
                                 GCancellable  *cancellable,
                                 GError       **error);

/* The same for the @length bytes of @contents (at most ST_MAX_INDEX_SIZE), named @display_name in
 * messages: a remote index's. */
StIndexJson *st_index_json_parse (const char  *contents,
                                  gsize        length,
                                  const char  *display_name,
                                  GError     **error);

void st_index_json_free (StIndexJson *json);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StIndexJson, st_index_json_free)

/* The text of an index: json.dumps (index, indent=2, sort_keys=True) + "\n", as transformers writes
 * it. @metadata (nullable) holds the string values to write beside @total_size; @names is sorted and
 * @name_shards[i] is the shard of @names[i]. */
char *st_index_json_format (GHashTable *metadata,
                            guint64     total_size,
                            GPtrArray  *names,
                            GPtrArray  *name_shards);

/* strcmp() for a sort of an array of strings. */
int st_compare_strings (gconstpointer a,
                        gconstpointer b);

/* A shard must be a plain file name in the index's directory: not empty, not "." or "..", no '/' or
 * '\\', valid UTF-8. */
gboolean st_is_plain_file_name (const char *name);

G_END_DECLS
