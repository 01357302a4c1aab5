/* st-file-bulk.h: every tensor's name in one buffer, and the tensors as runs, for bindings
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <safetensors-glib/st-file.h>

G_BEGIN_DECLS

ST_AVAILABLE_IN_1_2
GBytes *st_file_dup_names_bytes (STFile *self);

ST_AVAILABLE_IN_1_2
gint64 *st_file_dup_runs (STFile *self,
                          gsize  *n_values);

G_END_DECLS
