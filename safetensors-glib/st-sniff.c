/* st-sniff.c: what a file that is not a safetensors file really is
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A safetensors loader that meets a Git LFS pointer reads its first 8 bytes ("version ") as a header
 * length of 2,336,927,755,350,992,246 bytes: true, and no help. The loaders (st-file.c, st-index.c)
 * ask here what the file is instead, and say that: only what the bytes prove, since a wrong name
 * misleads more than none. A file whose first 8 bytes are a length a reader accepts is a (broken)
 * safetensors file, whatever follows; a pickle is named for opcodes that all exist, not for its first
 * two bytes; a JSON document for text that is JSON as far as it goes.
 */
#include <string.h>

#include "st-header-private.h"
#include "st-json-value-private.h"
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

/* Whether @text, which opens with ‘{’, is JSON as far as the bytes go: UTF-8 (the last character may be
 * cut when @whole is FALSE) with no control character but whitespace and, when @whole, one strict JSON
 * value (read by the header's own JSON reader, iterative and bounded in depth: json-glib recurses, and a
 * file that is no JSON document may nest a million levels deep). */
static gboolean
looks_like_json (const guint8 *text,
                 gsize         text_len,
                 gboolean      whole)
{
  g_autoptr(GError) error = NULL;
  StScanner sc = { 0 };
  StJsonKeys keys;
  const char *valid_end;
  gboolean is_json;

  if (!g_utf8_validate_len ((const char *) text, text_len, &valid_end) &&
      (whole || (gsize) ((const char *) text + text_len - valid_end) >= 4))
    return FALSE;
  for (const guint8 *p = text; p < (const guint8 *) valid_end; p++)
    if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
      return FALSE;
  if (!whole)
    return TRUE;

  sc.start = text;
  sc.p = text;
  sc.end = text + text_len;
  sc.validated = sc.end;
  sc.scratch = g_string_new (NULL);
  sc.error = &error;
  st_json_keys_init (&keys);
  is_json = st_json_skip_value (&sc, &keys, 0);
  if (is_json)
    {
      st_scanner_skip_ws (&sc);
      is_json = sc.p == sc.end;
    }
  st_json_keys_clear (&keys);
  g_string_free (sc.scratch, TRUE);
  return is_json;
}

/* How the bytes after a pickle opcode are laid out. */
enum {
  ARG_NONE,
  ARG_FIXED,    /* @size bytes */
  ARG_LENGTH,   /* a little-endian length of @size bytes, then that many bytes */
  ARG_LINES,    /* @size lines, each ended by a newline */
};

typedef struct {
  guint8 kind;
  guint8 size;
} PickleArg;

/* The opcodes of pickle protocols 0 to 5 (Python's Lib/pickletools.py), by their byte; kind 0xff for the
 * bytes that are none. */
static PickleArg
pickle_opcode_arg (guint8 op)
{
  switch (op)
    {
    case '(': case '.': case '0': case '1': case '2': case 'N': case 'Q': case 'R': case 'a': case 'b':
    case 'd': case '}': case 'e': case 'l': case ']': case 'o': case 's': case 't': case ')': case 'u':
    case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90: case 0x91:
    case 0x92: case 0x93: case 0x94: case 0x97: case 0x98:
      return (PickleArg) { ARG_NONE, 0 };
    case 'K': case 'h': case 'q': case 0x82:
      return (PickleArg) { ARG_FIXED, 1 };
    case 'M': case 0x83:
      return (PickleArg) { ARG_FIXED, 2 };
    case 'J': case 'j': case 'r': case 0x84:
      return (PickleArg) { ARG_FIXED, 4 };
    case 'G': case 0x95:
      return (PickleArg) { ARG_FIXED, 8 };
    case 'U': case 'C': case 0x8a: case 0x8c:
      return (PickleArg) { ARG_LENGTH, 1 };
    case 'T': case 'X': case 'B': case 0x8b:
      return (PickleArg) { ARG_LENGTH, 4 };
    case 0x8d: case 0x8e: case 0x96:
      return (PickleArg) { ARG_LENGTH, 8 };
    case 'F': case 'I': case 'L': case 'P': case 'S': case 'V': case 'g': case 'p':
      return (PickleArg) { ARG_LINES, 1 };
    case 'c': case 'i':
      return (PickleArg) { ARG_LINES, 2 };
    default:
      return (PickleArg) { 0xff, 0 };
    }
}

/* Whether @head is the start of a pickle of protocol 2 to 5: PROTO and its number, then opcodes that
 * all exist, with their arguments where they say, up to STOP or the end of @head (at least two of
 * them). Two bytes alone are no proof: 80 02 is also the header length 0x0280 and more. */
static gboolean
looks_like_pickle (const guint8 *head,
                   gsize         head_len,
                   guint64       file_size)
{
  gsize at = 2;
  guint n_opcodes = 0;

  if (head_len < 3 || head[0] != 0x80 || head[1] < 2 || head[1] > 5)
    return FALSE;

  while (at < head_len && n_opcodes < 64)
    {
      guint8 op = head[at];
      PickleArg arg = pickle_opcode_arg (op);
      guint64 length = 0;

      if (arg.kind == 0xff)
        return FALSE;
      n_opcodes++;
      at++;
      if (op == '.')
        return n_opcodes >= 2;

      switch (arg.kind)
        {
        case ARG_FIXED:
          /* A FRAME says how long it is: no longer than the file */
          if (op == 0x95 && head_len - at >= 8)
            {
              for (guint i = 8; i > 0; i--)
                length = (length << 8) | head[at + i - 1];
              if (length > file_size)
                return FALSE;
            }
          at += arg.size;
          break;
        case ARG_LENGTH:
          if (head_len - at < arg.size)
            return n_opcodes >= 2;
          for (guint i = arg.size; i > 0; i--)
            length = (length << 8) | head[at + i - 1];
          if (length > file_size)
            return FALSE;
          at += arg.size;
          if (length > head_len - at)
            return n_opcodes >= 2;
          at += (gsize) length;
          break;
        case ARG_LINES:
          for (guint line = 0; line < arg.size; line++)
            {
              const guint8 *newline = memchr (head + at, '\n', head_len - at);

              if (newline == NULL)
                return n_opcodes >= 2;
              at = (gsize) (newline - head) + 1;
            }
          break;
        default:
          break;
        }
    }

  return n_opcodes >= 2;
}

StSniffKind
st_sniff_bytes (const guint8 *head,
                gsize         head_len,
                guint64       file_size)
{
  const guint8 *text = head;
  gsize text_len = head_len;
  guint64 header_len;

  /* A safetensors file first: 8 bytes of a length a reader accepts. Such a file may be broken in any
   * way after them, and its first bytes can be anything else's start (a length of 0x0280 begins like a
   * pickle, one of 0x7b like a JSON object), so it is never called anything else. Nothing else named
   * here begins with such a length: their magic numbers and text make lengths of billions (JSON text
   * holds no NUL byte), and a cut-short header is only called so where its object begins. */
  if (head_len >= 8)
    {
      memcpy (&header_len, head, sizeof header_len);
      header_len = GUINT64_FROM_LE (header_len);
      if (header_len <= ST_MAX_HEADER_SIZE)
        {
          if (head_len >= 9 && (head[8] == '{' || g_ascii_isspace (head[8])) && header_len > file_size - 8)
            return ST_SNIFF_TRUNCATED;
          return ST_SNIFF_UNKNOWN;
        }
    }

  if (has_prefix (head, head_len, "version https://git-lfs.github.com/spec/"))
    return ST_SNIFF_GIT_LFS_POINTER;
  if (has_prefix (head, head_len, "PK\x03\x04"))
    return ST_SNIFF_ZIP;
  if (has_prefix (head, head_len, "GGUF"))
    return ST_SNIFF_GGUF;
  if (looks_like_pickle (head, head_len, file_size))
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
  if (text_len > 0 && text[0] == '{' && looks_like_json (text, text_len, head_len >= file_size))
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
