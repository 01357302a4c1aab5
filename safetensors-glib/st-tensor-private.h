/* st-tensor-private.h: STTensor internals for the rest of the library
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "st-dtype-private.h"
#include "st-tensor.h"

G_BEGIN_DECLS

/* A tensor whose bytes are a zero-copy slice of @source: @n_bytes at @offset, exactly what @dtype and @shape
 * need. The tensor keeps a copy of @shape. */
STTensor *st_tensor_new_slice (STDType       dtype,
                               const gint64 *shape,
                               guint         n_dims,
                               GBytes       *source,
                               guint64       offset,
                               guint64       n_bytes);

/* The same for a tensor of a loaded file, whose layout the header parser validated, at no cost but the
 * object: @shape is borrowed, and must live as long as @source does (the data of a loaded file owns its
 * header). */
STTensor *st_tensor_new_view (STDType       dtype,
                              const gint64 *shape,
                              guint         n_dims,
                              GBytes       *source,
                              guint64       offset);

/* The checks of st_tensor_new_from_data() (dtype, shape, length, address range), with the element
 * count they give (@out_n_elements is optional). */
gboolean st_tensor_check_data (STDType        dtype,
                               const gint64  *shape,
                               guint          n_dims,
                               guint64        data_address,
                               guint64        n_bytes,
                               guint64       *out_n_elements,
                               GError       **error);

G_END_DECLS
