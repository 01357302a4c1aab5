/* st-fault-helper.c: the saves and loads that tests/fault/test_fault.py interrupts and checks
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 *   st-fault-helper save PATH MIB SEED [sync]
 *       saves four tensors of MIB/4 MiB each, every byte SEED % 251, metadata {"seed": SEED}
 *   st-fault-helper shard DIR MIB SEED N_SHARDS [sync]
 *       saves the same as a sharded checkpoint of N_SHARDS shards; the tensor names depend on the
 *       parity of SEED, so that two saves with seeds of different parity have different layouts
 *   st-fault-helper check PATH
 *       loads a file or an index, checks that every byte of every tensor is SEED % 251 for the one
 *       SEED of its metadata, prints "seed SEED"
 *   st-fault-helper metadata PATH BYTES
 *       saves a file without tensors whose metadata value "k" has BYTES bytes, then loads it back
 *   st-fault-helper read PATH [no-mmap]
 *       opens PATH, reads the first and last byte of every tensor, prints "hwm KIB" (the peak RSS)
 *
 * Exit status 0 on success; 1 with the GError's message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <safetensors-glib/safetensors-glib.h>

#define N_TENSORS 8

static int
fail (const GError *error)
{
  fprintf (stderr, "%s\n", error->message);
  return 1;
}

static STFile *
make_file (guint64 mib,
           guint64 seed)
{
  g_autoptr(STFile) file = st_file_new ();
  guint64 bytes = MAX (mib * 1024 * 1024 / N_TENSORS, 1);
  g_autofree char *seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);

  for (guint i = 0; i < N_TENSORS; i++)
    {
      guint8 *data = g_malloc (bytes);
      gint64 shape[1] = { (gint64) bytes };
      g_autoptr(GBytes) owned = NULL;
      g_autoptr(STTensor) tensor = NULL;
      g_autofree char *name = g_strdup_printf ("layer%u.%s", i, seed % 2 == 0 ? "even" : "odd");

      memset (data, (int) (seed % 251), bytes);
      owned = g_bytes_new_take (data, bytes);
      tensor = st_tensor_new (ST_DTYPE_U8, shape, 1, owned, NULL);
      g_assert (tensor != NULL);
      g_assert (st_file_set_tensor (file, name, tensor, NULL));
    }
  st_file_set_metadata_value (file, "seed", seed_text);
  return g_steal_pointer (&file);
}

static gboolean
check_file (STFile  *file,
            guint64 *out_seed,
            GError **error)
{
  const char *seed_text = st_file_get_metadata_value (file, "seed");
  g_auto(GStrv) names = st_file_dup_names_sorted (file);
  guint64 seed;

  if (seed_text == NULL || !g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT64, &seed, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no seed in the metadata");
      return FALSE;
    }
  if (g_strv_length (names) != N_TENSORS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%u tensors, not %u", g_strv_length (names), N_TENSORS);
      return FALSE;
    }
  for (guint i = 0; names[i] != NULL; i++)
    {
      gsize n;
      const guint8 *data = st_tensor_get_data (st_file_get_tensor (file, names[i]), &n);

      for (gsize j = 0; j < n; j++)
        if (data[j] != seed % 251)
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "tensor %s byte %" G_GSIZE_FORMAT " is %u, not %u "
                         "(seed %" G_GUINT64_FORMAT ")", names[i], j, data[j], (guint) (seed % 251), seed);
            return FALSE;
          }
    }
  *out_seed = seed;
  return TRUE;
}

static guint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmHWM:");
  return line != NULL ? g_ascii_strtoull (line + 6, NULL, 10) : 0;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;

  if (argc >= 5 && strcmp (argv[1], "save") == 0)
    {
      g_autoptr(STFile) file = make_file (g_ascii_strtoull (argv[3], NULL, 10), g_ascii_strtoull (argv[4], NULL, 10));
      STSaveFlags flags = argc > 5 && strcmp (argv[5], "sync") == 0 ? ST_SAVE_FLAGS_SYNC : ST_SAVE_FLAGS_NONE;

      return st_file_save_to_path (file, argv[2], flags, NULL, &error) ? 0 : fail (error);
    }

  if (argc >= 6 && strcmp (argv[1], "shard") == 0)
    {
      guint64 mib = g_ascii_strtoull (argv[3], NULL, 10);
      g_autoptr(STFile) file = make_file (mib, g_ascii_strtoull (argv[4], NULL, 10));
      guint64 n_shards = MAX (g_ascii_strtoull (argv[5], NULL, 10), 1);
      guint64 max_shard_size = MAX (mib * 1024 * 1024 / n_shards, 1);
      STSaveFlags flags = argc > 6 && strcmp (argv[6], "sync") == 0 ? ST_SAVE_FLAGS_SYNC : ST_SAVE_FLAGS_NONE;

      return st_file_save_sharded (file, argv[2], "model", max_shard_size, flags, NULL, NULL, NULL, &error)
        ? 0 : fail (error);
    }

  if (argc == 3 && strcmp (argv[1], "check") == 0)
    {
      g_autoptr(STFile) file = NULL;
      guint64 seed;

      if (g_str_has_suffix (argv[2], ".json"))
        {
          g_autoptr(STIndex) index = st_index_new_from_path (argv[2], NULL, &error);

          if (index == NULL)
            return fail (error);
          file = st_index_merge (index, NULL, &error);
        }
      else
        file = st_file_new_from_path (argv[2], NULL, &error);
      if (file == NULL || !check_file (file, &seed, &error))
        return fail (error);
      printf ("seed %" G_GUINT64_FORMAT "\n", seed);
      return 0;
    }

  if (argc == 4 && strcmp (argv[1], "metadata") == 0)
    {
      g_autoptr(STFile) file = st_file_new ();
      g_autoptr(STFile) loaded = NULL;
      gsize size = (gsize) g_ascii_strtoull (argv[3], NULL, 10);
      g_autofree char *value = g_malloc (size + 1);

      memset (value, 'v', size);
      value[size] = '\0';
      st_file_set_metadata_value (file, "k", value);
      if (!st_file_save_to_path (file, argv[2], ST_SAVE_FLAGS_NONE, NULL, &error))
        return fail (error);
      loaded = st_file_new_from_path (argv[2], NULL, &error);
      if (loaded == NULL)
        return fail (error);
      printf ("header %" G_GUINT64_FORMAT "\n", st_file_get_header_size (loaded));
      return strlen (st_file_get_metadata_value (loaded, "k")) == size ? 0 : 1;
    }

  if (argc >= 3 && strcmp (argv[1], "read") == 0)
    {
      STLoadFlags flags = argc > 3 && strcmp (argv[3], "no-mmap") == 0 ? ST_LOAD_FLAGS_NO_MMAP : ST_LOAD_FLAGS_NONE;
      g_autoptr(STFile) file = st_file_new_from_path_full (argv[2], flags, NULL, &error);
      g_auto(GStrv) names = NULL;
      guint sum = 0;

      if (file == NULL)
        return fail (error);
      names = st_file_dup_names_sorted (file);
      for (guint i = 0; names[i] != NULL; i++)
        {
          gsize n;
          const guint8 *data = st_tensor_get_data (st_file_get_tensor (file, names[i]), &n);

          if (n > 0)
            sum += data[0] + data[n - 1];
        }
      printf ("hwm %" G_GUINT64_FORMAT " sum %u\n", peak_rss_kib (), sum);
      return 0;
    }

  fprintf (stderr, "usage: see the head of st-fault-helper.c\n");
  return 2;
}
