/* st-target-helper.c: the streaming saves that tests/fault/test_target_faults.py kills and checks
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 *   st-target-helper writer PATH SEED CHUNKS
 *       writes with an STWriter one U8 tensor "t" of CHUNKS blocks of 64 KiB, every byte SEED % 251,
 *       metadata {"seed": SEED}; prints "open" once the writer is open and "chunk I" after each block
 *       (flushed, so that the test can kill it at a known point), then "done" after finish()
 *   st-target-helper save PATH SEED CHUNKS
 *       saves the same file with st_file_save_to_path()
 *   st-target-helper shard DIR SEED N
 *       saves N U8 tensors "tI" of one 64 KiB block each, every byte SEED % 251, metadata {"seed": SEED},
 *       as a sharded checkpoint of N shards "model-…" (st_file_save_sharded)
 *   st-target-helper edit PATH KEY VALUE
 *       loads PATH (mapped), sets the metadata KEY to VALUE and writes the header in place where it can
 *       (st_file_save_header_in_place), else the whole file (st_file_save_to_path), as st-tool
 *       metadata --set does; prints "in-place" or "rewritten"
 *   st-target-helper check PATH
 *       loads PATH, checks that every byte of "t" is SEED % 251 for the SEED of its metadata, prints
 *       "seed SEED"
 *
 * Exit status 0 on success; 1 with the GError's message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <safetensors-glib/safetensors-glib.h>

#define BLOCK_SIZE (64 * 1024)

static int
fail (const GError *error)
{
  fprintf (stderr, "%s\n", error->message);
  return 1;
}

static int
write_file (const char *path,
            guint64     seed,
            guint64     chunks)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STWriter) writer = st_writer_new ();
  g_autofree guint8 *block = g_malloc (BLOCK_SIZE);
  g_autofree char *seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);
  gint64 shape[1] = { (gint64) (chunks * BLOCK_SIZE) };

  memset (block, (int) (seed % 251), BLOCK_SIZE);
  st_writer_set_metadata_value (writer, "seed", seed_text);
  if (!st_writer_add_tensor (writer, "t", ST_DTYPE_U8, shape, 1, &error) ||
      !st_writer_open (writer, path, ST_SAVE_FLAGS_NONE, NULL, &error))
    return fail (error);
  printf ("open\n");
  fflush (stdout);
  for (guint64 i = 0; i < chunks; i++)
    {
      if (!st_writer_write (writer, "t", block, BLOCK_SIZE, &error))
        return fail (error);
      printf ("chunk %" G_GUINT64_FORMAT "\n", i);
      fflush (stdout);
    }
  if (!st_writer_finish (writer, &error))
    return fail (error);
  printf ("done\n");
  return 0;
}

static int
save_file (const char *path,
           guint64     seed,
           guint64     chunks)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(STTensor) tensor = NULL;
  g_autofree char *seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);
  gsize size = (gsize) (chunks * BLOCK_SIZE);
  gint64 shape[1] = { (gint64) size };
  guint8 *data = g_malloc (MAX (size, 1));

  memset (data, (int) (seed % 251), size);
  bytes = g_bytes_new_take (data, size);
  tensor = st_tensor_new (ST_DTYPE_U8, shape, 1, bytes, &error);
  if (tensor == NULL || !st_file_set_tensor (file, "t", tensor, &error))
    return fail (error);
  st_file_set_metadata_value (file, "seed", seed_text);
  return st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error) ? 0 : fail (error);
}

static int
shard_file (const char *directory,
            guint64     seed,
            guint64     n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new ();
  g_autofree char *seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);
  gint64 shape[1] = { BLOCK_SIZE };

  for (guint64 i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%03" G_GUINT64_FORMAT, i);
      guint8 *data = g_malloc (BLOCK_SIZE);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(STTensor) tensor = NULL;

      memset (data, (int) (seed % 251), BLOCK_SIZE);
      bytes = g_bytes_new_take (data, BLOCK_SIZE);
      tensor = st_tensor_new (ST_DTYPE_U8, shape, 1, bytes, &error);
      if (tensor == NULL || !st_file_set_tensor (file, name, tensor, &error))
        return fail (error);
    }
  st_file_set_metadata_value (file, "seed", seed_text);
  return st_file_save_sharded (file, directory, "model", BLOCK_SIZE, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL, &error)
    ? 0 : fail (error);
}

static int
edit_file (const char *path,
           const char *key,
           const char *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_path (path, NULL, &error);

  if (file == NULL)
    return fail (error);
  st_file_set_metadata_value (file, key, value);
  if (st_file_save_header_in_place (file, path, ST_SAVE_FLAGS_NONE, &error))
    {
      printf ("in-place\n");
      return 0;
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    return fail (error);
  g_clear_error (&error);
  if (!st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error))
    return fail (error);
  printf ("rewritten\n");
  return 0;
}

static int
check_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_path (path, NULL, &error);
  const char *seed_text;
  const guint8 *data;
  STTensor *tensor;
  guint64 seed;
  gsize n = 0;

  if (file == NULL)
    return fail (error);
  seed_text = st_file_get_metadata_value (file, "seed");
  tensor = st_file_get_tensor (file, "t");
  if (seed_text == NULL || tensor == NULL || !g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT64, &seed, NULL))
    {
      fprintf (stderr, "no seed or no tensor \"t\"\n");
      return 1;
    }
  data = st_tensor_get_data (tensor, &n);
  for (gsize i = 0; i < n; i++)
    if (data[i] != seed % 251)
      {
        fprintf (stderr, "byte %" G_GSIZE_FORMAT " is %u, not %u\n", i, data[i], (guint) (seed % 251));
        return 1;
      }
  printf ("seed %" G_GUINT64_FORMAT "\n", seed);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  if (argc == 5 && strcmp (argv[1], "writer") == 0)
    return write_file (argv[2], g_ascii_strtoull (argv[3], NULL, 10), g_ascii_strtoull (argv[4], NULL, 10));
  if (argc == 5 && strcmp (argv[1], "save") == 0)
    return save_file (argv[2], g_ascii_strtoull (argv[3], NULL, 10), g_ascii_strtoull (argv[4], NULL, 10));
  if (argc == 5 && strcmp (argv[1], "shard") == 0)
    return shard_file (argv[2], g_ascii_strtoull (argv[3], NULL, 10), g_ascii_strtoull (argv[4], NULL, 10));
  if (argc == 5 && strcmp (argv[1], "edit") == 0)
    return edit_file (argv[2], argv[3], argv[4]);
  if (argc == 3 && strcmp (argv[1], "check") == 0)
    return check_file (argv[2]);

  fprintf (stderr, "usage: see the head of st-target-helper.c\n");
  return 2;
}
