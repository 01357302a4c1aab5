/* st-json-value.c: JSON values of no interest to the schema (unknown fields), validated and skipped
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The only place a header may nest is the value of a field the schema does not know: it is checked as
 * strict JSON, duplicate keys included, without recursion (an explicit stack bounded by
 * ST_MAX_JSON_DEPTH), and skipped.
 */
#include <string.h>

#include "st-header-private.h"
#include "st-json-value-private.h"

/* A key of an object inside an unknown field: @len bytes at @offset in StJsonKeys.text. Keys are kept
 * as 16 bytes plus their text, without an allocation each, so that a hostile object of millions of
 * keys costs a small multiple of its own size. */
typedef struct {
  gsize offset;
  gsize len;
} KeyRef;

void
st_json_keys_init (StJsonKeys *keys)
{
  keys->refs = g_array_new (FALSE, FALSE, sizeof (KeyRef));
  keys->text = g_string_new (NULL);
}

void
st_json_keys_clear (StJsonKeys *keys)
{
  g_array_unref (keys->refs);
  g_string_free (keys->text, TRUE);
}

guint
st_json_keys_get_n (const StJsonKeys *keys)
{
  return keys->refs->len;
}

static gint
compare_keys (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  const KeyRef *ka = a;
  const KeyRef *kb = b;
  const char *text = user_data;
  int order = memcmp (text + ka->offset, text + kb->offset, MIN (ka->len, kb->len));

  if (order != 0)
    return order;
  if (ka->len != kb->len)
    return ka->len < kb->len ? -1 : 1;
  return 0;
}

void
st_json_keys_add (StJsonKeys         *keys,
                  const StJsonString *key)
{
  KeyRef ref = { keys->text->len, key->len };

  g_string_append_len (keys->text, key->data, key->len);
  g_array_append_val (keys->refs, ref);
}

gboolean
st_json_keys_check_and_drop (StJsonKeys   *kept,
                             StScanner    *sc,
                             guint         base,
                             const guint8 *open,
                             const char   *where)
{
  guint n_keys = kept->refs->len - base;
  KeyRef *keys;
  gsize text_base;

  if (n_keys == 0)
    return TRUE;

  keys = &g_array_index (kept->refs, KeyRef, base);

  /* The keys were added in order: the first one's text is where this object's text begins */
  text_base = keys[0].offset;
  g_qsort_with_data (keys, (gint) n_keys, sizeof (KeyRef), compare_keys, kept->text->str);

  for (guint i = 1; i < n_keys; i++)
    {
      if (compare_keys (&keys[i - 1], &keys[i], kept->text->str) == 0)
        {
          g_autofree char *shown = st_scanner_shown_name (kept->text->str + keys[i].offset, keys[i].len);

          return st_scanner_fail_at (sc, open, ST_ERROR_DUPLICATE_NAME, "Duplicate key “%s” in %s", shown, where);
        }
    }

  g_array_set_size (kept->refs, base);
  g_string_truncate (kept->text, text_base);
  return TRUE;
}

gboolean
st_json_skip_value (StScanner  *sc,
                    StJsonKeys *keys,
                    guint       depth)
{
  struct {
    guint8        kind;       /* '{' or '[' */
    guint         key_base;   /* for objects: where their keys start in keys */
    const guint8 *open;
  } stack[ST_MAX_JSON_DEPTH];
  guint n_open = 0;
  enum { VALUE, KEY, AFTER_VALUE } state = VALUE;

  for (;;)
    {
      switch (state)
        {
        case VALUE:
          st_scanner_skip_ws (sc);
          if (sc->p >= sc->end)
            return st_scanner_fail_expected (sc, "a JSON value");

          switch (*sc->p)
            {
            case '{':
            case '[':
              if (depth + n_open + 1 > ST_MAX_JSON_DEPTH)
                return st_scanner_fail_at (sc, sc->p, ST_ERROR_INVALID_HEADER,
                                           "JSON nested deeper than %d levels", ST_MAX_JSON_DEPTH);
              stack[n_open].kind = *sc->p;
              stack[n_open].key_base = keys != NULL ? keys->refs->len : 0;
              stack[n_open].open = sc->p;
              n_open++;
              sc->p++;
              if (st_scanner_accept_char (sc, stack[n_open - 1].kind == '{' ? '}' : ']'))
                {
                  n_open--;
                  state = AFTER_VALUE;
                }
              else if (stack[n_open - 1].kind == '{')
                state = KEY;
              else
                state = VALUE;
              break;

            case '"':
              {
                StJsonString str;

                if (!st_scanner_parse_string (sc, &str))
                  return FALSE;
                state = AFTER_VALUE;
                break;
              }

            case '-':
            case '0': case '1': case '2': case '3': case '4':
            case '5': case '6': case '7': case '8': case '9':
              if (!st_scanner_parse_any_number (sc))
                return FALSE;
              state = AFTER_VALUE;
              break;

            default:
              if (!st_scanner_parse_literal (sc))
                return FALSE;
              state = AFTER_VALUE;
              break;
            }
          break;

        case KEY:
          {
            StJsonString key;

            st_scanner_skip_ws (sc);
            if (sc->p >= sc->end || *sc->p != '"')
              return st_scanner_fail_expected (sc, "a string key");
            if (!st_scanner_parse_string (sc, &key))
              return FALSE;
            if (keys != NULL)
              st_json_keys_add (keys, &key);
            if (!st_scanner_expect_char (sc, ':', "‘:’"))
              return FALSE;
            state = VALUE;
            break;
          }

        case AFTER_VALUE:
          {
            gboolean is_object;
            gboolean closed;

            if (n_open == 0)
              return TRUE;

            is_object = stack[n_open - 1].kind == '{';
            if (!st_scanner_next_or_close (sc, is_object ? '}' : ']', &closed))
              return FALSE;
            if (!closed)
              {
                state = is_object ? KEY : VALUE;
                break;
              }

            n_open--;
            if (is_object && keys != NULL &&
                !st_json_keys_check_and_drop (keys, sc, stack[n_open].key_base, stack[n_open].open, "an object"))
              return FALSE;
            break;
          }
        }
    }
}

