/* st-ranges.h: reading and writing many byte ranges of one file, in few system calls
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <safetensors-glib/st-version-macros.h>

G_BEGIN_DECLS

ST_AVAILABLE_IN_1_2
gboolean st_read_ranges (int             fd,
                         const guint64  *ranges,
                         gsize           n_values,
                         GCancellable   *cancellable,
                         GError        **error);

ST_AVAILABLE_IN_1_2
gboolean st_write_ranges (int             fd,
                          const guint64  *ranges,
                          gsize           n_values,
                          GCancellable   *cancellable,
                          GError        **error);

G_END_DECLS
