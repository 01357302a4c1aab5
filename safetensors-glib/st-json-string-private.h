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

/* Appends @text (NUL-terminated UTF-8) to @out as a JSON string, quoted. `"`, `\` and the control
 * characters are escaped as serde_json escapes them (\n \t \r \b \f, else \u00XX), everything else
 * is raw UTF-8: the header as Hugging Face writes it. With @ascii_only, every character from U+007F
 * on is escaped as well (\uXXXX, a surrogate pair above U+FFFF): Python's json.dumps with
 * ensure_ascii, as transformers writes an index. */
void st_json_append_string (GString    *out,
                            const char *text,
                            gboolean    ascii_only);

G_END_DECLS
