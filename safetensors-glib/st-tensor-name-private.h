/* st-tensor-name-private.h: the rules every tensor name follows
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The rules every tensor name follows, whatever sets it (STFile, STWriter): valid UTF-8, and not
 * "__metadata__". Fails with ST_ERROR_INVALID_NAME. */
gboolean st_file_check_tensor_name (const char  *name,
                                    GError     **error);

G_END_DECLS
