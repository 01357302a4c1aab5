/* st-sniff.c: what a file that is not a safetensors file really is
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A safetensors loader that meets a Git LFS pointer reads its first 8 bytes ("version ") as a header
 * length of 2,336,927,755,350,992,246 bytes: true, and no help. The loaders (st-file.c, st-index.c)
 * ask here what the file is instead, and say that.
 */
#include <string.h>

#include "st-header-private.h"
#include "st-sniff-private.h"

static gboolean
has_prefix (const guint8 *head,
            gsize         head_len,
            const char   *prefix)
{
  gsize n = strlen (prefix);

  return head_len >= n && memcmp (head, prefix, n) == 0;
}

static gboolean
has_prefix_ascii_nocase (const guint8 *head,
                         gsize         head_len,
                         const char   *prefix)
{
  gsize n = strlen (prefix);

  return head_len >= n && g_ascii_strncasecmp ((const char *) head, prefix, n) == 0;
}

/* Whether the JSON text in @head has a "weight_map" member (a plain search: the head may be cut short). */
static gboolean
mentions_weight_map (const guint8 *head,
                     gsize         head_len)
{
  static const char key[] = "\"weight_map\"";

  for (gsize i = 0; i + sizeof key - 1 <= head_len; i++)
    {
      if (memcmp (head + i, key, sizeof key - 1) == 0)
        return TRUE;
    }
  return FALSE;
}

StSniffKind
st_sniff_bytes (const guint8 *head,
                gsize         head_len,
                guint64       file_size)
{
  const guint8 *text = head;
  gsize text_len = head_len;
  guint64 header_len;

  /* A safetensors file first: 8 bytes of a length a reader accepts, then (perhaps after spaces) the
   * header's object. Its first bytes can be anything else's magic (a length of 0x0280 begins like a
   * pickle), so the other kinds are only looked for in what cannot be a safetensors file. */
  if (head_len >= 9 && (head[8] == '{' || g_ascii_isspace (head[8])))
    {
      memcpy (&header_len, head, sizeof header_len);
      header_len = GUINT64_FROM_LE (header_len);
      if (header_len <= ST_MAX_HEADER_SIZE)
        return header_len > file_size - 8 ? ST_SNIFF_TRUNCATED : ST_SNIFF_UNKNOWN;
    }

  if (has_prefix (head, head_len, "version https://git-lfs.github.com/spec/"))
    return ST_SNIFF_GIT_LFS_POINTER;
  if (has_prefix (head, head_len, "PK\x03\x04"))
    return ST_SNIFF_ZIP;
  if (has_prefix (head, head_len, "GGUF"))
    return ST_SNIFF_GGUF;
  /* Pickle protocols 2 to 5 open with PROTO (0x80) and the protocol number. */
  if (head_len >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
    return ST_SNIFF_PICKLE;

  if (has_prefix (text, text_len, "\xef\xbb\xbf"))
    {
      text += 3;
      text_len -= 3;
    }
  while (text_len > 0 && g_ascii_isspace (*text))
    {
      text++;
      text_len--;
    }
  if (has_prefix_ascii_nocase (text, text_len, "<!DOCTYPE html") || has_prefix_ascii_nocase (text, text_len, "<html"))
    return ST_SNIFF_HTML;
  if (text_len > 0 && text[0] == '{')
    return mentions_weight_map (text, text_len) ? ST_SNIFF_INDEX : ST_SNIFF_JSON;
  return ST_SNIFF_UNKNOWN;
}

const char *
st_sniff_describe (StSniffKind kind)
{
  switch (kind)
    {
    case ST_SNIFF_UNKNOWN:
      return NULL;
    case ST_SNIFF_TRUNCATED:
      return "a safetensors file cut short (an interrupted download?)";
    case ST_SNIFF_GIT_LFS_POINTER:
      return "a Git LFS pointer file (fetch the data with “git lfs pull”)";
    case ST_SNIFF_HTML:
      return "an HTML page (a failed download, or a web page saved in place of the file)";
    case ST_SNIFF_ZIP:
      return "a ZIP archive (a PyTorch .bin or .pt checkpoint?)";
    case ST_SNIFF_PICKLE:
      return "a Python pickle (an old PyTorch .bin or .pt checkpoint?)";
    case ST_SNIFF_GGUF:
      return "a GGUF file";
    case ST_SNIFF_INDEX:
      return "the index of a sharded checkpoint (open it as an index)";
    case ST_SNIFF_JSON:
      return "a JSON document";
    }
  return NULL;
}
