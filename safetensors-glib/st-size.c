/* st-size.c: byte sizes written as text ("5GB", "500MiB")
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "st-error.h"
#include "st-size.h"

/**
 * st_parse_size:
 * @text: a size, such as `5GB`, `500MB`, `1.5 GiB` or `1024`
 * @out_bytes: (out): return location for the number of bytes
 * @error: return location for a #GError
 *
 * Reads a size as transformers and huggingface_hub accept it for
 * `max_shard_size`: a number, optionally with a fractional part, then
 * optional spaces and a unit. Decimal units are powers of 1000 (`B`, `KB`,
 * `MB`, `GB`, `TB`, `PB`; `kB` also), binary units powers of 1024 (`KiB`,
 * `MiB`, `GiB`, `TiB`, `PiB`); no unit means bytes. Unit letters other than
 * the final `B` may be of either case; a final lowercase `b` (bits, in
 * transformers) is refused rather than guessed at. Up to nine digits of
 * fraction count (`1.5GB` is 1500000000); a fractional number of bytes is
 * rounded down.
 *
 * Returns: %TRUE with *@out_bytes set, or %FALSE with @error set to
 *   %ST_ERROR_INVALID_SIZE when @text is not such a size or does not
 *   fit in 64 bits
 *
 * Since: 1.0
 */
gboolean
st_parse_size (const char  *text,
               guint64     *out_bytes,
               GError     **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  static const struct { const char *unit; guint64 factor; } units[] = {
    { "", 1 }, { "B", 1 },
    { "KB", G_GUINT64_CONSTANT (1000) },
    { "MB", G_GUINT64_CONSTANT (1000000) },
    { "GB", G_GUINT64_CONSTANT (1000000000) },
    { "TB", G_GUINT64_CONSTANT (1000000000000) },
    { "PB", G_GUINT64_CONSTANT (1000000000000000) },
    { "KIB", G_GUINT64_CONSTANT (1) << 10 },
    { "MIB", G_GUINT64_CONSTANT (1) << 20 },
    { "GIB", G_GUINT64_CONSTANT (1) << 30 },
    { "TIB", G_GUINT64_CONSTANT (1) << 40 },
    { "PIB", G_GUINT64_CONSTANT (1) << 50 },
  };

  const char *p = text;
  while (g_ascii_isspace (*p))
    p++;

  /* The integer part and up to nine digits of fraction, in exact integer arithmetic. */
  guint64 whole = 0;
  guint64 fraction = 0, fraction_scale = 1;
  gboolean any_digit = FALSE, overflow = FALSE;
  for (; g_ascii_isdigit (*p); p++)
    {
      any_digit = TRUE;
      guint digit = (guint) (*p - '0');
      if (whole > (G_MAXUINT64 - digit) / 10)
        overflow = TRUE;
      else
        whole = whole * 10 + digit;
    }
  if (*p == '.')
    {
      for (p++; g_ascii_isdigit (*p); p++)
        {
          any_digit = TRUE;
          if (fraction_scale < G_GUINT64_CONSTANT (1000000000))
            {
              fraction = fraction * 10 + (guint) (*p - '0');
              fraction_scale *= 10;
            }
        }
    }
  if (!any_digit)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SIZE,
                   "“%s” is not a size: it must begin with a number (such as 5GB, 500MB or 1024)", text);
      return FALSE;
    }

  while (*p == ' ')
    p++;
  g_autofree char *unit = g_strchomp (g_strdup (p));

  /* A final lowercase b means bits in transformers' reading of "5Gb": refuse it. */
  gsize unit_len = strlen (unit);
  if (unit_len > 0 && unit[unit_len - 1] == 'b')
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SIZE,
                   "“%s”: the unit “%s” is ambiguous (bits or bytes?); write it with a capital B", text, unit);
      return FALSE;
    }

  g_autofree char *upper = g_ascii_strup (unit, -1);
  guint64 factor = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (upper, units[i].unit) == 0)
      factor = units[i].factor;
  if (factor == 0)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SIZE,
                   "“%s” is not a size: unknown unit “%s” (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)",
                   text, unit);
      return FALSE;
    }

  /* fraction / fraction_scale * factor, rounded down: with factor = a * scale + b, this is
   * fraction * a + fraction * b / scale, and both products fit in 64 bits (scale <= 10^9). */
  guint64 a = factor / fraction_scale, b = factor % fraction_scale;
  guint64 extra = fraction * a + fraction * b / fraction_scale;
  if (overflow || (whole != 0 && whole > G_MAXUINT64 / factor) || whole * factor > G_MAXUINT64 - extra)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SIZE,
                   "“%s” is too large a size: it does not fit in 64 bits", text);
      return FALSE;
    }

  *out_bytes = whole * factor + extra;
  return TRUE;
}
