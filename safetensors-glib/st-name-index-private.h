/* st-name-index-private.h: names -> values, for the parser's duplicate check and STFile's lookups
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A name index: NUL-terminated names shorter than 4 GiB (borrowed, never copied) -> values. A value
 * points to a structure whose first member is the name it is inserted under (`const char *`, as
 * StHeaderEntry and FileEntry begin): the index reads the name there instead of keeping a pointer of its
 * own. Open addressing with linear probing and a hash keyed per process, so that a file cannot be crafted
 * to collide; a few dozen instructions an insertion. The parser fills one for its duplicate check (when
 * the names are out of order), STFile one for its lookups (on first use). Not thread-safe for writing;
 * lookups may run in parallel. */
typedef struct _StNameIndex StNameIndex;

StNameIndex *st_name_index_new (void);
/* An index with room for @n_names names before it grows (within a limit) */
StNameIndex *st_name_index_new_sized (gsize n_names);
void         st_name_index_free (StNameIndex *index);
guint        st_name_index_get_size (const StNameIndex *index);
gpointer     st_name_index_lookup (const StNameIndex *index,
                                   const char        *name);
/* Adds @name (of @name_len bytes, NUL-terminated) -> @value, whose first member is @name itself, or
 * returns FALSE if @name is there (which keeps its value). */
gboolean     st_name_index_insert (StNameIndex *index,
                                   const char  *name,
                                   gsize        name_len,
                                   gpointer     value);
gboolean     st_name_index_remove (StNameIndex *index,
                                   const char  *name);
/* Starts loading the slot where @name would go into the cache, and returns its hash: a parser that
 * has work to do before it inserts @name (its entry to read) then finds the slot there, however large
 * the index. */
guint32      st_name_index_prefetch (const StNameIndex *index,
                                     const char        *name,
                                     gsize              name_len);
/* st_name_index_insert() for a @hash from st_name_index_prefetch() */
gboolean     st_name_index_insert_hashed (StNameIndex *index,
                                          const char  *name,
                                          gsize        name_len,
                                          guint32      hash,
                                          gpointer     value);
/* A #GHashFunc for NUL-terminated names, keyed per process like the index: for every GHashTable whose
 * keys come from a file (g_str_hash() lets a file make them all collide). */
guint        st_name_hash (gconstpointer name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StNameIndex, st_name_index_free)

G_END_DECLS
