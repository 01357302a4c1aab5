/* st-header-serializer-private.h: the safetensors header, written byte for byte as Hugging Face writes it
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-dtype-private.h"

G_BEGIN_DECLS

typedef struct {
  const char   *name;
  STDType       dtype;
  const gint64 *shape;
  guint         n_dims;
  guint64       n_bytes;
  gpointer      user_data;  /* the caller's, carried along by the sort */
  guint64       begin;      /* set by st_header_serialize */
  guint64       end;
} StWriterEntry;

/*
 * st_header_serialize:
 * Sorts @entries in place into the order Hugging Face writes them (dtype from U64 down to BOOL, then name
 * by bytes, strcmp), assigns each its data offsets (begin, end: consecutive from 0 in that order), and
 * returns the 8-byte prefix followed by the compact JSON header padded with spaces to a multiple of 8
 * bytes, exactly as Hugging Face's safetensors writes it. @metadata (nullable: no __metadata__ key at
 * all; empty: "__metadata__":{}) is written first with its keys sorted. The caller guarantees what the
 * writer cannot check: names unique and not "__metadata__", names and metadata valid UTF-8, dtypes valid,
 * shape entries >= 0, n_bytes the size of each tensor. *out_data_size (optional) receives the total data
 * length. It cannot fail.
 */
GBytes *st_header_serialize (StWriterEntry *entries,
                             gsize          n_entries,
                             GHashTable    *metadata,
                             guint64       *out_data_size);

G_END_DECLS
