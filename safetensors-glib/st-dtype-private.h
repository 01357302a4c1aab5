/* st-dtype-private.h: the internals of STDType, shared by the parser and the tensor checks
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-dtype.h"

G_BEGIN_DECLS

/* Finds the dtype named by the @name_len bytes at @name (not NUL-terminated), exactly. */
gboolean st_dtype_lookup (const char *name,
                          gsize       name_len,
                          STDType    *out_dtype);

/* "[2, 3]": a shape for error messages. */
char *st_shape_to_string (const gint64 *shape,
                          guint         n_dims);

G_END_DECLS
