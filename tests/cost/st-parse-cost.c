/* st-parse-cost.c: loads one hand-made header from memory, for test_cost.py to count the instructions
 * of the load under callgrind (valgrind --tool=callgrind --instr-atstart=no): only the call of
 * st_file_new_from_bytes() is instrumented, not the making of the input.
 *
 *   st-parse-cost CASE SIZE
 *
 * CASE names an input of about SIZE bytes of header; hostile ones must be rejected, valid ones accepted
 * (the exit status says which happened: 0 accepted, 1 rejected, 2 bad usage):
 *   valid-metadata       {"__metadata__":{"k":"xxxx..."}}: one long string
 *   valid-spaces-object  spaces, then {}
 *   valid-empty-tensors  SIZE/64 empty tensors, all at offset 0
 *   brackets-in-field    {"a":{"x":[[[[... (nesting too deep inside an ignored field)
 *   brackets-at-top      {"a":[[[[...
 *   brackets-in-metadata {"__metadata__":[[[[...
 *   brackets-in-shape    {"a":{"dtype":"F32","shape":[[[[...
 *   spaces               only spaces: not an object
 *   same-offset-tensors  SIZE/64 tensors of 4 bytes, all at offset 0: every one after the first overlaps
 *   continuation-run     a metadata string of 65,536 UTF-8 continuation bytes, then short members
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include <safetensors-glib/safetensors-glib.h>

static GString *
tensors (gsize size,
         const char *shape,
         const char *offsets)
{
  GString *json = g_string_new ("{");

  for (guint i = 0; json->len + 80 < size; i++)
    g_string_append_printf (json, "%s\"t%u\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":%s}",
                            i > 0 ? "," : "", i, shape, offsets);
  g_string_append_c (json, '}');
  return json;
}

static GString *
brackets (const char *prefix,
          gsize       size)
{
  GString *json = g_string_new (prefix);

  while (json->len < size)
    g_string_append_c (json, '[');
  return json;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GString) json = NULL;
  g_autoptr(GByteArray) file = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) loaded = NULL;
  const char *name;
  gsize size, data_size = 0;
  guint64 le;

  if (argc != 3)
    return 2;
  name = argv[1];
  size = (gsize) g_ascii_strtoull (argv[2], NULL, 10);

  if (strcmp (name, "valid-metadata") == 0)
    {
      json = g_string_new ("{\"__metadata__\":{\"k\":\"");
      while (json->len + 3 < size)
        g_string_append_c (json, 'x');
      g_string_append (json, "\"}}");
    }
  else if (strcmp (name, "valid-spaces-object") == 0 || strcmp (name, "spaces") == 0)
    {
      json = g_string_new (NULL);
      while (json->len < size)
        g_string_append_c (json, ' ');
      if (strcmp (name, "valid-spaces-object") == 0)
        {
          json->str[size - 2] = '{';
          json->str[size - 1] = '}';
        }
    }
  else if (strcmp (name, "valid-empty-tensors") == 0)
    json = tensors (size, "[0]", "[0,0]");
  else if (strcmp (name, "same-offset-tensors") == 0)
    {
      json = tensors (size, "[1]", "[0,4]");
      data_size = 4;
    }
  else if (strcmp (name, "continuation-run") == 0)
    {
      /* A run of 65,536 UTF-8 continuation bytes in a string, then many short members (issue 20.10). */
      json = g_string_new ("{\"__metadata__\":{\"k\":\"");
      for (guint i = 0; i < 65536; i++)
        g_string_append_c (json, (char) 0x80);
      g_string_append_c (json, '"');
      for (guint i = 0; json->len + 16 < size; i++)
        g_string_append_printf (json, ",\"m%u\":\"v\"", i);
      g_string_append (json, "}}");
    }
  else if (strcmp (name, "brackets-in-field") == 0)
    json = brackets ("{\"a\":{\"x\":", size);
  else if (strcmp (name, "brackets-at-top") == 0)
    json = brackets ("{\"a\":", size);
  else if (strcmp (name, "brackets-in-metadata") == 0)
    json = brackets ("{\"__metadata__\":", size);
  else if (strcmp (name, "brackets-in-shape") == 0)
    json = brackets ("{\"a\":{\"dtype\":\"F32\",\"shape\":", size);
  else
    return 2;

  le = GUINT64_TO_LE ((guint64) json->len);
  g_byte_array_append (file, (const guint8 *) &le, 8);
  g_byte_array_append (file, (const guint8 *) json->str, json->len);
  for (gsize i = 0; i < data_size; i++)
    g_byte_array_append (file, (const guint8 *) "\0", 1);
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&file));

  CALLGRIND_START_INSTRUMENTATION;
  loaded = st_file_new_from_bytes (bytes, &error);
  CALLGRIND_STOP_INSTRUMENTATION;

  if (loaded == NULL)
    {
      printf ("rejected: %s\n", error->message);
      return 1;
    }
  printf ("accepted: %u tensors\n", st_file_get_n_tensors (loaded));
  return 0;
}
