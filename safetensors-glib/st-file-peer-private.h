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

G_END_DECLS
