/* st-json-value-private.h: JSON values of no interest to the schema (unknown fields), validated and skipped
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-scanner-private.h"

G_BEGIN_DECLS

/* The keys of the objects open inside unknown fields, kept for the duplicate check: each as 16 bytes
 * plus its text, without an allocation each. */
typedef struct {
  GArray  *refs;  /* KeyRef (st-json-value.c), one per key, in the order read */
  GString *text;  /* the bytes of those keys, one after the other */
} StJsonKeys;

void  st_json_keys_init (StJsonKeys *keys);
void  st_json_keys_clear (StJsonKeys *keys);
/* How many keys are kept: where an object's keys begin, for st_json_keys_check_and_drop(). */
guint st_json_keys_get_n (const StJsonKeys *keys);
void  st_json_keys_add (StJsonKeys         *keys,
                        const StJsonString *key);
/* Checks that the keys from @base on, of the object opening at @open (@where, for the message), are
 * distinct, then drops them; fails with ST_ERROR_DUPLICATE_NAME. Sorting and comparing neighbours
 * keeps hostile objects with millions of keys linear-log. */
gboolean st_json_keys_check_and_drop (StJsonKeys   *kept,
                                      StScanner    *sc,
                                      guint         base,
                                      const guint8 *open,
                                      const char   *where);

/* Validates the JSON value at sc->p and skips it. @depth is the depth of the object or array that
 * holds it. Iterative: an explicit stack of the containers opened here. @keys may be NULL: then
 * duplicate keys are not looked for (JSON read as Python's json module reads it, the last one wins). */
gboolean st_json_skip_value (StScanner  *sc,
                             StJsonKeys *keys,
                             guint       depth);

G_END_DECLS
