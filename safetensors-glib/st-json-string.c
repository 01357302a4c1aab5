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

void
st_json_append_string (GString    *out,
                       const char *text,
                       gboolean    ascii_only)
{
  static const char hex[] = "0123456789abcdef";
  const guint8 *p = (const guint8 *) text;

  g_string_append_c (out, '"');

  for (;;)
    {
      const guint8 *run = p;

      if (ascii_only)
        while (*p < 0x7f && !st_json_string_special[*p])
          p++;
      else
        while (!st_json_string_special[*p])
          p++;
      g_string_append_len (out, (const char *) run, p - run);

      switch (*p)
        {
        case '\0': g_string_append_c (out, '"'); return;
        case '"': g_string_append_len (out, "\\\"", 2); break;
        case '\\': g_string_append_len (out, "\\\\", 2); break;
        case '\b': g_string_append_len (out, "\\b", 2); break;
        case '\f': g_string_append_len (out, "\\f", 2); break;
        case '\n': g_string_append_len (out, "\\n", 2); break;
        case '\r': g_string_append_len (out, "\\r", 2); break;
        case '\t': g_string_append_len (out, "\\t", 2); break;
        default:
          if (*p < 0x20)
            {
              char escape[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf] };

              g_string_append_len (out, escape, sizeof escape);
              break;
            }
          else
            {
              /* ascii_only, and a character from U+007F on */
              gunichar c = g_utf8_get_char ((const char *) p);

              if (c < 0x10000)
                g_string_append_printf (out, "\\u%04x", c);
              else
                g_string_append_printf (out, "\\u%04x\\u%04x",
                                        0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff));
              p = (const guint8 *) g_utf8_next_char (p);
              continue;
            }
        }
      p++;
    }
}
