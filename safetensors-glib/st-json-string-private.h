/* st-json-string-private.h: JSON string text, as the scanner reads it and the writers write it
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 1 for the bytes that end a run of plain string text: the quote, the backslash and control chars. */
extern const guint8 st_json_string_special[256];

G_END_DECLS
