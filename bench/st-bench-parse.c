/* st-bench-parse.c: the header parser alone (st_header_parse), for the parse-throughput figure
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Usage: st-bench-parse PATH MIN_SECONDS
 *
 * Reads PATH's header into memory, then parses it repeatedly until MIN_SECONDS have passed. Prints one JSON
 * object: seconds (mean per parse), first_seconds, iterations, header_bytes, n_tensors. Comparing it with
 * "st-bench open" on the same file separates the parser from the rest of opening (mapping, tensor objects).
 */

#include "st-header-private.h"

#include <time.h>

static double
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  guint64 header_size = 0;
  double min_seconds, t0, c0, first_seconds, first_cpu, elapsed, cpu;
  guint iterations = 0, n_tensors;

  if (argc != 3)
    {
      g_printerr ("usage: st-bench-parse PATH MIN_SECONDS\n");
      return 2;
    }
  min_seconds = g_ascii_strtod (argv[2], NULL);

  if (!g_file_get_contents (argv[1], &contents, &length, &error) ||
      !st_header_read_size ((const guint8 *) contents, length, length, &header_size, &error))
    {
      g_printerr ("st-bench-parse: %s: %s\n", argv[1], error->message);
      return 1;
    }

  c0 = cpu_seconds ();
  t0 = now_seconds ();
  {
    g_autoptr(StHeader) header = st_header_parse (contents + 8, header_size, &error);

    first_seconds = now_seconds () - t0;
    first_cpu = cpu_seconds () - c0;
    if (header == NULL)
      {
        g_printerr ("st-bench-parse: %s: %s\n", argv[1], error->message);
        return 1;
      }
    n_tensors = header->entries->len;
  }

  c0 = cpu_seconds ();
  t0 = now_seconds ();
  do
    {
      g_autoptr(StHeader) header = st_header_parse (contents + 8, header_size, &error);

      if (header == NULL)
        {
          g_printerr ("st-bench-parse: %s: %s\n", argv[1], error->message);
          return 1;
        }
      iterations++;
      elapsed = now_seconds () - t0;
    }
  while (elapsed < min_seconds || iterations < 3);
  cpu = cpu_seconds () - c0;

  g_print ("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"first_seconds\": %.9g, \"first_cpu_seconds\": %.9g, "
           "\"iterations\": %u, \"header_bytes\": %" G_GUINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
           ", \"n_tensors\": %u}\n",
           elapsed / iterations, cpu / iterations, first_seconds, first_cpu, iterations, header_size, header_size,
           n_tensors);
  return 0;
}
