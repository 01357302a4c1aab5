/* st-json-string.c: JSON string text, as the scanner reads it and the writers write it
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "st-json-string-private.h"

/* 1 for the bytes that end a run of plain string text: the quote, the backslash and control chars. */
const guint8 st_json_string_special[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  ['"'] = 1,
  ['\\'] = 1,
};
