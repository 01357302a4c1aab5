/* st-size.h: byte sizes written as text ("5GB", "500MiB")
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <glib.h>
#include <safetensors-glib/st-version-macros.h>

G_BEGIN_DECLS

ST_AVAILABLE_IN_1_0
gboolean st_parse_size (const char  *text,
                        guint64     *out_bytes,
                        GError     **error);

G_END_DECLS
