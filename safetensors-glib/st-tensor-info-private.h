/* st-tensor-info-private.h: making STTensorInfo items (for STFile's and STIndex's list models)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-tensor-info.h"

G_BEGIN_DECLS

/* An item for the tensor @name of layout @dtype and @shape (checked already), at data offsets
 * [@begin, @end) of its file (-1 and -1 when it was not loaded from one), in the shard @shard of an
 * index (nullable). */
STTensorInfo *st_tensor_info_new (const char   *name,
                                  STDType       dtype,
                                  const gint64 *shape,
                                  guint         n_dims,
                                  gint64        begin,
                                  gint64        end,
                                  const char   *shard);

/* An item of an index whose shard could not be opened: the name and the shard, nothing else. */
STTensorInfo *st_tensor_info_new_unavailable (const char *name,
                                              const char *shard);

G_END_DECLS
