/* st-index-remote-private.h: what a remote index (st-index-remote.c) and STIndex (st-index.c) share
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-index.h"

G_BEGIN_DECLS

/* st-index.c: the index of the @length bytes of @contents, named @display_name in messages, without a
 * path or directory. */
STIndex *st_index_new_from_contents (const char  *contents,
                                     gsize        length,
                                     const char  *display_name,
                                     GError     **error);
/* The address shard names are resolved against (up to its last '/' included): makes the index remote. */
void st_index_set_base_uri (STIndex    *self,
                            const char *base_uri);
const char *st_index_get_base_uri (STIndex *self);
/* Checks @shard against the weight map, as st_index_get_shard() does, and keeps it (a new reference)
 * unless a shard of that name is kept already. */
gboolean st_index_adopt_shard (STIndex     *self,
                               const char  *shard_name,
                               STFile      *shard,
                               GError     **error);

/* st-index-remote.c: opens shard @shard_name of the remote index at @base_uri. */
STFile *st_index_open_remote_shard (const char    *base_uri,
                                    const char    *shard_name,
                                    GCancellable  *cancellable,
                                    GError       **error);

G_END_DECLS
