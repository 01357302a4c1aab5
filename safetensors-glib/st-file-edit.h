/* st-file-edit.h: rewriting the header of a file in place
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
#include <safetensors-glib/st-file.h>

G_BEGIN_DECLS

ST_AVAILABLE_IN_1_0
gboolean st_file_save_header_in_place (STFile       *self,
                                       const char   *path,
                                       STSaveFlags   flags,
                                       GError      **error);

ST_AVAILABLE_IN_1_0
gboolean st_file_repair_header (const char   *path,
                                STSaveFlags   flags,
                                gboolean     *out_repaired,
                                GError      **error);

G_END_DECLS
