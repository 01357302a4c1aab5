/* st-file-peer-private.h: what STFile's peers (STIndex, the sharded save) may ask of a file
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Functions, never the struct: only STFile's own files (st-file*.c) see the struct.
 */
#pragma once

#include "st-file.h"

G_BEGIN_DECLS

/* The file's own metadata table (transfer none), NULL when it has none: for the library's writers. */
GHashTable *st_file_peek_metadata (STFile *self);

/* The dtype and shape of tensor @name without making its tensor (so without fetching a remote one's
 * bytes); NULL when there is no such tensor. The shape lives as long as the tensor stays in @self. */
const gint64 *st_file_peek_layout (STFile     *self,
                                   const char *name,
                                   STDType    *out_dtype,
                                   guint      *out_n_dims);

G_END_DECLS
