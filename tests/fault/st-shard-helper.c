/* st-shard-helper.c: the sharded saves and loads that tests/fault/test_shard_faults.py runs at once
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 *   st-shard-helper save DIR N_SHARDS SEED
 *       saves N_SHARDS tensors of 4 KiB, one per shard (N_SHARDS > 1), every byte SEED % 251, metadata
 *       {"seed": SEED}; the tensor names depend on the parity of SEED (two saves with seeds of the same
 *       parity and count have the same layout)
 *   st-shard-helper save-killed DIR N_SHARDS SEED KILL_AFTER
 *       the same save, killed by SIGKILL (from its progress callback: a counted point, not a timed one)
 *       once KILL_AFTER shards are written
 *   st-shard-helper check INDEX
 *       loads the checkpoint, checks that every byte of every tensor is SEED % 251 for the SEED of its
 *       metadata, prints "seed SEED"
 *   st-shard-helper read-loop INDEX STOP_FILE MAX_LOADS
 *       prints "ready" after a first load, then loads the checkpoint (a new STIndex each time, every
 *       tensor read) until STOP_FILE exists or MAX_LOADS loads were made; prints
 *       "loads L whole W refused R mixed M": a mixed load is one the library accepted whose tensors do not
 *       all hold the bytes of its metadata's seed (shards of two saves); refused ones print their error on
 *       stderr
 *
 * Exit status 0 on success; 1 with the GError's message on stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <safetensors-glib/safetensors-glib.h>

#define TENSOR_BYTES 4096

static int
fail (const GError *error)
{
  fprintf (stderr, "%s\n", error->message);
  return 1;
}

static STFile *
make_file (guint   n_tensors,
           guint64 seed)
{
  g_autoptr(STFile) file = st_file_new ();
  g_autofree char *seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);

  for (guint i = 0; i < n_tensors; i++)
    {
      guint8 *data = g_malloc (TENSOR_BYTES);
      gint64 shape[1] = { TENSOR_BYTES };
      g_autoptr(GBytes) owned = NULL;
      g_autoptr(STTensor) tensor = NULL;
      g_autofree char *name = g_strdup_printf ("layer%03u.%s", i, seed % 2 == 0 ? "even" : "odd");

      memset (data, (int) (seed % 251), TENSOR_BYTES);
      owned = g_bytes_new_take (data, TENSOR_BYTES);
      tensor = st_tensor_new (ST_DTYPE_U8, shape, 1, owned, NULL);
      g_assert (tensor != NULL);
      g_assert (st_file_set_tensor (file, name, tensor, NULL));
    }
  st_file_set_metadata_value (file, "seed", seed_text);
  return g_steal_pointer (&file);
}

static void
kill_self_after (guint64  done,
                 guint64  total,
                 gpointer user_data)
{
  if (done >= *(guint64 *) user_data)
    raise (SIGKILL);
}

/* Loads the checkpoint of @index_path: %FALSE with @error when the library refuses it; otherwise
 * *@out_whole says whether every byte is its seed's. */
static gboolean
load (const char *index_path,
      gboolean   *out_whole,
      guint64    *out_seed,
      GError    **error)
{
  g_autoptr(STIndex) index = st_index_new_from_path (index_path, NULL, error);
  g_autoptr(STFile) file = NULL;
  g_auto(GStrv) names = NULL;
  const char *seed_text;
  guint64 seed;

  if (index == NULL)
    return FALSE;
  file = st_index_merge (index, NULL, error);
  if (file == NULL)
    return FALSE;

  *out_whole = FALSE;
  seed_text = st_file_get_metadata_value (file, "seed");
  if (seed_text == NULL || !g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT64, &seed, NULL))
    return TRUE;
  *out_seed = seed;
  names = st_file_dup_names_sorted (file);
  for (guint i = 0; names[i] != NULL; i++)
    {
      gsize n;
      const guint8 *data = st_tensor_get_data (st_file_get_tensor (file, names[i]), &n);

      for (gsize j = 0; j < n; j++)
        if (data[j] != seed % 251)
          return TRUE;
    }
  *out_whole = TRUE;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;

  if (argc == 5 && strcmp (argv[1], "save") == 0)
    {
      guint n_shards = (guint) g_ascii_strtoull (argv[3], NULL, 10);
      g_autoptr(STFile) file = make_file (n_shards, g_ascii_strtoull (argv[4], NULL, 10));

      return st_file_save_sharded (file, argv[2], "model", TENSOR_BYTES, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL, &error)
        ? 0 : fail (error);
    }

  if (argc == 6 && strcmp (argv[1], "save-killed") == 0)
    {
      guint n_shards = (guint) g_ascii_strtoull (argv[3], NULL, 10);
      g_autoptr(STFile) file = make_file (n_shards, g_ascii_strtoull (argv[4], NULL, 10));
      guint64 kill_at = g_ascii_strtoull (argv[5], NULL, 10) * TENSOR_BYTES;

      st_file_save_sharded (file, argv[2], "model", TENSOR_BYTES, ST_SAVE_FLAGS_NONE, NULL, kill_self_after, &kill_at,
                            &error);
      fprintf (stderr, "the save was not killed: %s\n", error != NULL ? error->message : "it succeeded");
      return 1;
    }

  if (argc == 3 && strcmp (argv[1], "check") == 0)
    {
      gboolean whole = FALSE;
      guint64 seed = 0;

      if (!load (argv[2], &whole, &seed, &error))
        return fail (error);
      if (!whole)
        {
          fprintf (stderr, "the tensors do not all hold the bytes of seed %" G_GUINT64_FORMAT "\n", seed);
          return 1;
        }
      printf ("seed %" G_GUINT64_FORMAT "\n", seed);
      return 0;
    }

  if (argc == 5 && strcmp (argv[1], "read-loop") == 0)
    {
      guint64 max_loads = g_ascii_strtoull (argv[4], NULL, 10);
      guint64 loads = 0, whole_loads = 0, refused = 0, mixed = 0;

      for (; loads < max_loads; loads++)
        {
          gboolean whole = FALSE;
          guint64 seed = 0;
          g_autoptr(GError) load_error = NULL;

          if (loads > 0 && g_file_test (argv[3], G_FILE_TEST_EXISTS))
            break;
          if (!load (argv[2], &whole, &seed, &load_error))
            {
              refused++;
              fprintf (stderr, "%s\n", load_error->message);
            }
          else if (whole)
            whole_loads++;
          else
            mixed++;
          if (loads == 0)
            {
              printf ("ready\n");
              fflush (stdout);
            }
        }
      printf ("loads %" G_GUINT64_FORMAT " whole %" G_GUINT64_FORMAT " refused %" G_GUINT64_FORMAT
              " mixed %" G_GUINT64_FORMAT "\n", loads, whole_loads, refused, mixed);
      return 0;
    }

  fprintf (stderr, "usage: see the head of st-shard-helper.c\n");
  return 2;
}
