/* st-tensor-name.c: the rules every tensor name follows
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "st-error.h"
#include "st-tensor-name-private.h"

/* The rules every tensor name follows, whatever sets it. */
gboolean
st_file_check_tensor_name (const char  *name,
                           GError     **error)
{
  if (!g_utf8_validate (name, -1, NULL))
    {
      g_autofree char *shown = g_utf8_make_valid (name, -1);

      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_NAME, "The tensor name “%s” is not valid UTF-8", shown);
      return FALSE;
    }

  if (strcmp (name, "__metadata__") == 0)
    {
      g_set_error_literal (error, ST_ERROR, ST_ERROR_INVALID_NAME,
                           "“__metadata__” is reserved for the metadata: no tensor may have that name");
      return FALSE;
    }

  return TRUE;
}
