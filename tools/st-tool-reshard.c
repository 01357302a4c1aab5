/* st-tool-reshard.c: reshard, consolidate and split checkpoints, streaming
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Two layouts of one checkpoint:
 *   standard   Hugging Face's: PREFIX.safetensors, or PREFIX-00001-of-0000N.safetensors and
 *              PREFIX.safetensors.index.json, each tensor whole in one file;
 *   per-rank   torch.distributed.checkpoint's with Hugging Face storage (torch 2.8,
 *              HuggingFaceStorageWriter with save_sharded): shard-RRRRR-model-FFFFF-of-NNNNN.safetensors,
 *              each holding slices of logical tensors under the logical names with the slices' own
 *              shapes; __metadata__ "DCP_SHARDING_INFO" is the JSON text of
 *              {name: {"saved_offsets": [offset per dimension]}}. A logical tensor's shape is, per
 *              dimension, the largest offset + size of its slices (as torch's reader computes it).
 *
 * Every tensor that is written is assembled from pieces: boxes of tensors in source files, each placed at
 * its position in the target tensor. The target is written in order, in runs that are contiguous in
 * both the source and the target: a slice along the first dimension is one run (one kernel copy), a
 * slice along another dimension is one run per row. Bytes go from file to file through
 * st_writer_write_from_fd(): no tensor is ever held in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "st-tool.h"

#define SHARDING_INFO_KEY "DCP_SHARDING_INFO"
#define DCP_VERSION_KEY "DCP_VERSION"

/* A file that pieces are copied from: its header (mapped, the data is not touched) and a descriptor. */
typedef struct {
  char    *path;
  STFile  *file;
  int      fd;
  guint64  data_start;    /* of the data buffer, in the file */
} Source;

static void
source_free (Source *source)
{
  if (source->fd >= 0)
    close (source->fd);
  g_clear_object (&source->file);
  g_free (source->path);
  g_free (source);
}

static Source *
source_open (const char  *path,
             STFile      *file,
             GError     **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_autofree char *shown = g_filename_display_name (path);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Could not open “%s”: %s", shown,
                   g_strerror (saved_errno));
      return NULL;
    }
  Source *source = g_new0 (Source, 1);
  source->path = g_strdup (path);
  source->file = g_object_ref (file);
  source->fd = fd;
  source->data_start = 8 + st_file_get_header_size (file);
  return source;
}

/* A box of a source tensor, placed at @dst_start in the target tensor. */
typedef struct {
  Source  *source;       /* borrowed */
  guint64  src_begin;    /* of the source tensor's bytes, in the file */
  gint64  *src_shape;
  gint64  *src_start;
  gint64  *dst_start;
  gint64  *extent;
} Piece;

static void
piece_free (Piece *piece)
{
  g_free (piece->src_shape);
  g_free (piece->src_start);
  g_free (piece->dst_start);
  g_free (piece->extent);
  g_free (piece);
}

/* A tensor to write, and the pieces that tile it. */
typedef struct {
  char      *name;
  STDType    dtype;
  guint      n_dims;
  gint64    *shape;
  GPtrArray *pieces;     /* Piece * */
} Target;

static void
target_free (Target *target)
{
  g_free (target->name);
  g_free (target->shape);
  g_ptr_array_unref (target->pieces);
  g_free (target);
}

static Target *
target_new (const char   *name,
            STDType       dtype,
            const gint64 *shape,
            guint         n_dims)
{
  Target *target = g_new0 (Target, 1);
  target->name = g_strdup (name);
  target->dtype = dtype;
  target->n_dims = n_dims;
  target->shape = g_memdup2 (shape, sizeof (gint64) * MAX (n_dims, 1));
  target->pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) piece_free);
  return target;
}

static guint64
count_elements (const gint64 *shape,
                guint         n_dims)
{
  guint64 n = 1;
  for (guint i = 0; i < n_dims; i++)
    n *= (guint64) shape[i];
  return n;
}

/* The element count of @shape, or FALSE when it does not fit in 64 bits. */
static gboolean
count_elements_checked (const gint64 *shape,
                        guint         n_dims,
                        guint64      *out_n)
{
  guint64 n = 1;
  for (guint i = 0; i < n_dims; i++)
    if (!g_uint64_checked_mul (&n, n, (guint64) shape[i]))
      return FALSE;
  *out_n = n;
  return TRUE;
}

static gboolean
piece_contains (const Piece  *piece,
                const gint64 *at,
                guint         n_dims)
{
  for (guint i = 0; i < n_dims; i++)
    if (at[i] < piece->dst_start[i] || at[i] >= piece->dst_start[i] + piece->extent[i])
      return FALSE;
  return TRUE;
}

/* Writes @target's bytes in order, run by run. The pieces must tile it (checked before). With no @writer,
 * only checks that every run starts and ends on a byte (elements smaller than a byte). */
static gboolean
write_target (STWriter  *writer,
              Target    *target,
              GError   **error)
{
  guint n = target->n_dims;
  guint64 total = count_elements (target->shape, n);
  guint bits = st_dtype_get_bits (target->dtype);
  g_autofree gint64 *at = g_new0 (gint64, MAX (n, 1));
  g_autofree guint64 *strides = g_new0 (guint64, MAX (n, 1));
  g_autofree guint64 *src_strides = g_new0 (guint64, MAX (n, 1));
  guint64 linear = 0;
  guint last = G_MAXUINT;   /* the piece of the previous run */

  if (writer == NULL && bits % 8 == 0)
    return TRUE;   /* whole bytes: every run starts and ends on one */

  for (guint i = n; i-- > 0;)
    strides[i] = i + 1 < n ? strides[i + 1] * (guint64) target->shape[i + 1] : 1;

  while (linear < total)
    {
      /* The search starts after the last piece found: along a row, the next run is in the next slice. */
      Piece *piece = NULL;
      guint n_pieces = target->pieces->len;
      for (guint tried = 0; tried < n_pieces && piece == NULL; tried++)
        {
          guint p = (last + 1 + tried) % n_pieces;
          if (piece_contains (g_ptr_array_index (target->pieces, p), at, n))
            {
              piece = g_ptr_array_index (target->pieces, p);
              last = p;
            }
        }
      if (piece == NULL)
        {
          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                       "tensor “%s”: element %" G_GUINT64_FORMAT " is in none of its slices", target->name, linear);
          return FALSE;
        }

      for (guint i = n; i-- > 0;)
        src_strides[i] = i + 1 < n ? src_strides[i + 1] * (guint64) piece->src_shape[i + 1] : 1;

      /* The run goes on over the trailing dimensions that the piece spans whole, in the source and in
       * the target, and along the first one it does not, to the piece's edge. */
      gint k = (gint) n - 1;
      while (k >= 0 && piece->extent[k] == target->shape[k] && piece->extent[k] == piece->src_shape[k])
        k--;
      guint64 run;
      if (k < 0)
        run = total - linear;
      else
        {
          guint64 inner = 1, trailing = 0;
          for (guint i = (guint) k + 1; i < n; i++)
            {
              inner *= (guint64) piece->extent[i];
              trailing += (guint64) at[i] * strides[i];
            }
          run = (guint64) (piece->dst_start[k] + piece->extent[k] - at[k]) * inner - trailing;
        }

      guint64 src_index = 0;
      for (guint i = 0; i < n; i++)
        src_index += (guint64) (at[i] - piece->dst_start[i] + piece->src_start[i]) * src_strides[i];

      if ((src_index * bits) % 8 != 0 || (run * bits) % 8 != 0)
        {
          g_set_error (error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE,
                       "tensor “%s”: a slice (of %s) starts or ends inside a byte: %s elements are "
                       "smaller than a byte", target->name, piece->source->path,
                       st_dtype_to_string (target->dtype));
          return FALSE;
        }
      if (writer != NULL &&
          !st_writer_write_from_fd (writer, target->name, piece->source->fd,
                                    piece->source->data_start + piece->src_begin + src_index * bits / 8,
                                    run * bits / 8, error))
        return FALSE;


      linear += run;
      guint64 rest = linear;
      for (guint i = 0; i < n; i++)
        {
          at[i] = (gint64) (rest / strides[i]);
          rest %= strides[i];
        }
    }
  return TRUE;
}

/* Writes @targets (and @metadata) to @path with one STWriter: atomic, as every save. */
static gboolean
write_file (const char  *path,
            GPtrArray   *targets,
            GHashTable  *metadata,
            GError     **error)
{
  g_autoptr(STWriter) writer = st_writer_new ();
  for (guint i = 0; i < targets->len; i++)
    {
      Target *target = g_ptr_array_index (targets, i);
      if (!st_writer_add_tensor (writer, target->name, target->dtype, target->shape, target->n_dims, error))
        return FALSE;
    }
  if (metadata != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;
      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        st_writer_set_metadata_value (writer, key, value);
    }
  if (!st_writer_open (writer, path, st_tool_save_flags, NULL, error))
    return FALSE;

  guint64 total = st_writer_get_size (writer);
  g_autoptr(StToolProgress) progress = st_tool_progress_new ("Writing", total, TRUE);
  for (guint i = 0; i < targets->len; i++)
    {
      if (!write_target (writer, g_ptr_array_index (targets, i), error))
        return FALSE;
      st_tool_progress_update (progress, st_writer_get_bytes_written (writer));
    }
  return st_writer_finish (writer, error);
}

/* reshard */

int
st_tool_cmd_reshard (int    argc,
                     char **argv)
{
  g_auto(StToolLayoutOptions) options = { 0 };
  int status;
  if (!st_tool_parse_layout_options ("reshard", FALSE, "checkpoint", &argc, &argv, &options, &status))
    return status;

  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_tool_open_as_file (argv[1], &error);
  if (file == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }
  if (!st_tool_make_directory ("reshard", options.output))
    return ST_TOOL_EXIT_FAILURE;
  if (!st_tool_save_standard (file, options.output, options.prefix, options.max_shard_size, &error))
    {
      st_tool_print_error (options.output, error);
      return ST_TOOL_EXIT_FAILURE;
    }
  return ST_TOOL_EXIT_OK;
}

/* consolidate */

static gboolean
is_per_rank_name (const char *name)
{
  static const char pattern[] = "shard-#####-model-#####-of-#####.safetensors";
  if (strlen (name) != sizeof pattern - 1)
    return FALSE;
  for (gsize i = 0; pattern[i] != '\0'; i++)
    if (pattern[i] == '#' ? !g_ascii_isdigit (name[i]) : name[i] != pattern[i])
      return FALSE;
  return TRUE;
}

static gint
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The per-rank files of @directory, sorted. */
static GPtrArray *
list_per_rank_files (const char  *directory,
                     GError     **error)
{
  g_autoptr(GDir) dir = g_dir_open (directory, 0, error);
  if (dir == NULL)
    return NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (is_per_rank_name (name))
      g_ptr_array_add (names, g_build_filename (directory, name, NULL));
  if (names->len == 0)
    {
      g_autofree char *shown = g_filename_display_name (directory);
      g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND,
                   "“%s” holds no per-rank files (shard-XXXXX-model-XXXXX-of-XXXXX.safetensors)", shown);
      return NULL;
    }
  g_ptr_array_sort (names, compare_paths);
  return g_steal_pointer (&names);
}

/* The offsets DCP_SHARDING_INFO gives the slice @name of @path holds. */
static gint64 *
read_saved_offsets (JsonObject  *info,
                    const char  *name,
                    guint        n_dims,
                    const char  *path,
                    GError     **error)
{
  JsonNode *entry = json_object_get_member (info, name);
  JsonNode *offsets = entry != NULL && JSON_NODE_HOLDS_OBJECT (entry)
                      ? json_object_get_member (json_node_get_object (entry), "saved_offsets") : NULL;
  if (offsets == NULL || !JSON_NODE_HOLDS_ARRAY (offsets))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_METADATA,
                   "tensor “%s”: %s has no saved_offsets for it in " SHARDING_INFO_KEY, name, path);
      return NULL;
    }
  JsonArray *array = json_node_get_array (offsets);
  if (json_array_get_length (array) != n_dims)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                   "tensor “%s”: %s gives %u saved_offsets for a slice of %u dimensions", name, path,
                   json_array_get_length (array), n_dims);
      return NULL;
    }
  g_autofree gint64 *values = g_new0 (gint64, MAX (n_dims, 1));
  for (guint i = 0; i < n_dims; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
          json_node_get_int (node) < 0)
        {
          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                       "tensor “%s”: %s gives saved_offsets that are not non-negative integers", name, path);
          return NULL;
        }
      values[i] = json_node_get_int (node);
    }
  return g_steal_pointer (&values);
}

typedef struct {
  Target    *target;
  GPtrArray *paths;      /* borrowed char *, one per piece */
} Logical;

static void
logical_free (Logical *logical)
{
  target_free (logical->target);
  g_ptr_array_unref (logical->paths);
  g_free (logical);
}

static gboolean
boxes_overlap (const Piece *a,
               const Piece *b,
               guint        n_dims)
{
  for (guint i = 0; i < n_dims; i++)
    if (a->dst_start[i] + a->extent[i] <= b->dst_start[i] || b->dst_start[i] + b->extent[i] <= a->dst_start[i])
      return FALSE;
  return TRUE;
}

/* Checks that the slices of @logical tile it: no two overlap, and together they hold all its elements. */
static gboolean
check_tiling (Logical  *logical,
              GError  **error)
{
  Target *target = logical->target;
  guint64 covered = 0;
  for (guint a = 0; a < target->pieces->len; a++)
    {
      Piece *piece = g_ptr_array_index (target->pieces, a);
      covered += count_elements (piece->extent, target->n_dims);
      for (guint b = 0; b < a; b++)
        if (count_elements (piece->extent, target->n_dims) > 0 &&
            count_elements (((Piece *) g_ptr_array_index (target->pieces, b))->extent, target->n_dims) > 0 &&
            boxes_overlap (piece, g_ptr_array_index (target->pieces, b), target->n_dims))
          {
            g_set_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                         "tensor “%s”: the slices in %s and %s overlap", target->name,
                         (const char *) g_ptr_array_index (logical->paths, b),
                         (const char *) g_ptr_array_index (logical->paths, a));
            return FALSE;
          }
    }
  guint64 total;
  if (!count_elements_checked (target->shape, target->n_dims, &total))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                   "tensor “%s”: its slices (in %s, …) place it past any size", target->name,
                   (const char *) g_ptr_array_index (logical->paths, 0));
      return FALSE;
    }
  if (covered != total)
    {
      g_autoptr(GString) files = g_string_new (NULL);
      for (guint a = 0; a < logical->paths->len; a++)
        g_string_append_printf (files, "%s%s", a > 0 ? ", " : "", (const char *) g_ptr_array_index (logical->paths, a));
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_OFFSETS,
                   "tensor “%s”: its slices (in %s) hold %" G_GUINT64_FORMAT " of its %" G_GUINT64_FORMAT
                   " elements: a slice is missing", target->name, files->str, covered, total);
      return FALSE;
    }
  return TRUE;
}

/* Adds the slices @path holds to @logicals (name -> Logical *), and its metadata to @metadata. */
static gboolean
add_per_rank_file (const char  *path,
                   GPtrArray   *sources,
                   GHashTable  *logicals,
                   GPtrArray   *order,
                   GHashTable  *metadata,
                   GError     **error)
{
  g_autoptr(STFile) file = st_file_new_from_path_full (path, st_tool_load_flags, NULL, error);
  if (file == NULL)
    return FALSE;
  const char *text = st_file_get_metadata_value (file, SHARDING_INFO_KEY);
  if (text == NULL)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_METADATA,
                   "%s has no " SHARDING_INFO_KEY " in its __metadata__: it was not written by "
                   "torch.distributed.checkpoint's per-rank layout", path);
      return FALSE;
    }
  g_autoptr(JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_METADATA,
                   "%s: its " SHARDING_INFO_KEY " is not a JSON object", path);
      return FALSE;
    }
  JsonObject *info = json_node_get_object (json_parser_get_root (parser));

  Source *source = source_open (path, file, error);
  if (source == NULL)
    return FALSE;
  g_ptr_array_add (sources, source);

  g_autoptr(GHashTable) file_metadata = st_file_dup_metadata (file);
  if (file_metadata != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;
      g_hash_table_iter_init (&iter, file_metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (strcmp (key, SHARDING_INFO_KEY) != 0 && strcmp (key, DCP_VERSION_KEY) != 0 &&
            !g_hash_table_contains (metadata, key))
          g_hash_table_insert (metadata, g_strdup (key), g_strdup (value));
    }

  g_auto(GStrv) names = st_file_dup_names_in_file_order (file);
  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *tensor = st_file_get_tensor (file, names[i]);
      guint n_dims = 0;
      const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
      STDType dtype = st_tensor_get_dtype (tensor);
      g_autofree gint64 *offsets = read_saved_offsets (info, names[i], (guint) n_dims, path, error);
      if (offsets == NULL)
        return FALSE;

      Logical *logical = g_hash_table_lookup (logicals, names[i]);
      if (logical == NULL)
        {
          logical = g_new0 (Logical, 1);
          logical->target = target_new (names[i], dtype, shape, (guint) n_dims);
          memset (logical->target->shape, 0, sizeof (gint64) * MAX (n_dims, 1));
          logical->paths = g_ptr_array_new ();
          g_hash_table_insert (logicals, logical->target->name, logical);
          g_ptr_array_add (order, logical->target->name);
        }
      else if (logical->target->dtype != dtype)
        {
          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_DTYPE, "tensor “%s”: %s in %s but %s in %s", names[i],
                       st_dtype_to_string (logical->target->dtype), (const char *) g_ptr_array_index (logical->paths, 0),
                       st_dtype_to_string (dtype), path);
          return FALSE;
        }
      else if (logical->target->n_dims != n_dims)
        {
          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                       "tensor “%s”: %u dimensions in %s but %u in %s", names[i], logical->target->n_dims,
                       (const char *) g_ptr_array_index (logical->paths, 0), (guint) n_dims, path);
          return FALSE;
        }

      Piece *piece = g_new0 (Piece, 1);
      piece->source = source;
      st_file_get_tensor_offsets (file, names[i], &piece->src_begin, NULL);
      piece->src_shape = g_memdup2 (shape, sizeof (gint64) * MAX (n_dims, 1));
      piece->extent = g_memdup2 (shape, sizeof (gint64) * MAX (n_dims, 1));
      piece->src_start = g_new0 (gint64, MAX (n_dims, 1));
      piece->dst_start = g_steal_pointer (&offsets);
      for (guint d = 0; d < n_dims; d++)
        {
          if (piece->dst_start[d] > G_MAXINT64 - shape[d])
            {
              piece_free (piece);
              g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                           "tensor “%s”: %s places its slice past any size", names[i], path);
              return FALSE;
            }
          logical->target->shape[d] = MAX (logical->target->shape[d], piece->dst_start[d] + shape[d]);
        }
      g_ptr_array_add (logical->target->pieces, piece);
      g_ptr_array_add (logical->paths, source->path);
    }
  return TRUE;
}

/* Removes the hidden files that consolidate runs killed in their sharding step left in @output: those
 * named for a process that no longer exists. */
static void
remove_dead_staging_files (const char *output,
                           const char *prefix)
{
  g_autoptr(GDir) dir = g_dir_open (output, 0, NULL);
  g_autofree char *start = g_strdup_printf (".%s.consolidating-", prefix);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      guint64 pid = 0;
      g_autofree char *digits = NULL;
      if (!g_str_has_prefix (name, start) || !g_str_has_suffix (name, ".safetensors"))
        continue;
      digits = g_strndup (name + strlen (start), strlen (name) - strlen (start) - strlen (".safetensors"));
      if (!g_ascii_string_to_unsigned (digits, 10, 1, G_MAXINT, &pid, NULL) ||
          (kill ((pid_t) pid, 0) != 0 && errno == ESRCH))
        {
          g_autofree char *path = g_build_filename (output, name, NULL);
          unlink (path);
        }
    }
}

/* Writes a single file at @path from @targets, as the standard layout's one file. */
static gboolean
consolidate_into (GPtrArray   *targets,
                  GHashTable  *metadata,
                  const char  *output,
                  const char  *prefix,
                  guint64      max_shard_size,
                  GError     **error)
{
  g_autofree char *single = g_strconcat (prefix, ".safetensors", NULL);
  guint64 total = 0;
  for (guint i = 0; i < targets->len; i++)
    {
      Target *target = g_ptr_array_index (targets, i);
      total += (count_elements (target->shape, target->n_dims) * st_dtype_get_bits (target->dtype) + 7) / 8;
    }

  if (total <= max_shard_size)
    {
      g_autofree char *path = g_build_filename (output, single, NULL);
      if (!write_file (path, targets, metadata, error))
        return FALSE;
      printf ("%s\n", path);
      return TRUE;
    }

  /* More than one shard: the tensors are assembled into one hidden file first, which the library's
   * sharded save then splits with kernel copies (shared extents where the file system has them) and
   * commits as one checkpoint. */
  remove_dead_staging_files (output, prefix);
  g_autofree char *staging_name = g_strdup_printf (".%s.consolidating-%d.safetensors", prefix, (int) getpid ());
  g_autofree char *staging = g_build_filename (output, staging_name, NULL);
  if (!write_file (staging, targets, metadata, error))
    return FALSE;
  g_autoptr(STFile) file = st_file_new_from_path (staging, NULL, error);
  gboolean ok = file != NULL && st_tool_save_standard (file, output, prefix, max_shard_size, error);
  unlink (staging);
  return ok;
}

int
st_tool_cmd_consolidate (int    argc,
                         char **argv)
{
  g_auto(StToolLayoutOptions) options = { 0 };
  int status;
  if (!st_tool_parse_layout_options ("consolidate", FALSE, "directory of per-rank files", &argc, &argv, &options, &status))
    return status;

  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) paths = list_per_rank_files (argv[1], &error);
  if (paths == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }

  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) source_free);
  g_autoptr(GHashTable) logicals = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) logical_free);
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  g_autoptr(GHashTable) metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < paths->len; i++)
    if (!add_per_rank_file (g_ptr_array_index (paths, i), sources, logicals, order, metadata, &error))
      {
        st_tool_print_error (NULL, error);
        return ST_TOOL_EXIT_FAILURE;
      }

  g_autoptr(GPtrArray) targets = g_ptr_array_new ();
  for (guint i = 0; i < order->len; i++)
    {
      Logical *logical = g_hash_table_lookup (logicals, g_ptr_array_index (order, i));
      if (!check_tiling (logical, &error))
        {
          st_tool_print_error (NULL, error);
          return ST_TOOL_EXIT_FAILURE;
        }
      if (!write_target (NULL, logical->target, &error))
        {
          st_tool_print_error (NULL, error);
          return ST_TOOL_EXIT_FAILURE;
        }
      g_ptr_array_add (targets, logical->target);
    }

  if (!st_tool_make_directory ("consolidate", options.output))
    return ST_TOOL_EXIT_FAILURE;
  if (!consolidate_into (targets, g_hash_table_size (metadata) > 0 ? metadata : NULL, options.output,
                         options.prefix, options.max_shard_size, &error))
    {
      st_tool_print_error (options.output, error);
      return ST_TOOL_EXIT_FAILURE;
    }
  return ST_TOOL_EXIT_OK;
}

/* split */

/* --tensor-dim NAME=D: D a dimension, or "none" (the tensor stays whole, in the first rank's file). */
static gboolean
parse_tensor_dims (char       **specs,
                   GHashTable  *dims,
                   GError     **error)
{
  for (guint i = 0; specs != NULL && specs[i] != NULL; i++)
    {
      const char *equals = strrchr (specs[i], '=');
      guint64 dim = 0;
      if (equals == NULL || equals == specs[i] ||
          (strcmp (equals + 1, "none") != 0 &&
           !g_ascii_string_to_unsigned (equals + 1, 10, 0, 64, &dim, NULL)))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--tensor-dim takes NAME=DIM or NAME=none, not “%s”", specs[i]);
          return FALSE;
        }
      gint value = strcmp (equals + 1, "none") == 0 ? -1 : (gint) dim;
      g_hash_table_insert (dims, g_strndup (specs[i], (gsize) (equals - specs[i])), GINT_TO_POINTER (value));
    }
  return TRUE;
}

static void
free_gstring (gpointer string)
{
  g_string_free (string, TRUE);
}

/* The __metadata__ of a checkpoint's files: of the file, or of an index's first shard (an index's own
 * "metadata" is about the index: total_size). */
static GHashTable *
checkpoint_file_metadata (StToolSource *source,
                          GArray       *list)
{
  g_autoptr(STFile) file = source->file != NULL ? g_object_ref (source->file) : NULL;
  if (source->index != NULL && list->len > 0)
    file = st_index_open_shard (source->index, g_array_index (list, StToolEntry, 0).shard, NULL, NULL);
  if (file == NULL || !st_file_has_metadata (file))
    return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return st_file_dup_metadata (file);
}

/* The DCP_SHARDING_INFO of a rank's file: as Python's json.dumps() writes it, the way torch does. */
static void
append_sharding_info (GString      *info,
                      const char   *name,
                      const gint64 *offsets,
                      guint         n_dims)
{
  g_autoptr(JsonNode) key = json_node_init_string (json_node_alloc (), name);
  g_autofree char *quoted = json_to_string (key, FALSE);
  g_string_append_printf (info, "%s%s: {\"saved_offsets\": [", info->len > 1 ? ", " : "", quoted);
  for (guint d = 0; d < n_dims; d++)
    g_string_append_printf (info, "%s%" G_GINT64_FORMAT, d > 0 ? ", " : "", offsets[d]);
  g_string_append (info, "]}");
}

int
st_tool_cmd_split (int    argc,
                   char **argv)
{
  gint n_ranks = 0;
  gint default_dim = 0;
  g_auto(GStrv) tensor_dims = NULL;
  g_autofree char *output = NULL;
  const GOptionEntry entries[] = {
    { "ranks", 'n', 0, G_OPTION_ARG_INT, &n_ranks, "The number of ranks (required)", "N" },
    { "dim", 'd', 0, G_OPTION_ARG_INT, &default_dim, "The dimension tensors are split along (default: 0)", "DIM" },
    { "tensor-dim", 't', 0, G_OPTION_ARG_STRING_ARRAY, &tensor_dims,
      "The dimension for one tensor, or none to keep it whole (repeatable)", "NAME=DIM" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The directory to write into, made if needed (required)", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("split"), entries);
  g_option_context_add_main_entries (context, st_tool_save_entries, NULL);
  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc != 2)
    return st_tool_usage_error ("split", "expected one checkpoint");
  if (output == NULL)
    return st_tool_usage_error ("split", "--output is required");
  if (n_ranks < 1 || n_ranks > 99999)
    return st_tool_usage_error ("split", "--ranks must be between 1 and 99999");
  if (default_dim < 0)
    return st_tool_usage_error ("split", "--dim must not be negative");

  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) dims = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!parse_tensor_dims (tensor_dims, dims, &error))
    return st_tool_usage_error ("split", "%s", error->message);

  g_autoptr(StToolSource) source = st_tool_source_open (argv[1], &error);
  g_autoptr(GArray) list = source != NULL ? st_tool_source_list (source, &error) : NULL;
  if (list == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }
  GHashTableIter dims_iter;
  gpointer dims_key;
  g_hash_table_iter_init (&dims_iter, dims);
  while (g_hash_table_iter_next (&dims_iter, &dims_key, NULL))
    if (st_tool_source_lookup (source, dims_key, NULL) == NULL)
      {
        fprintf (stderr, "st-tool split: --tensor-dim names “%s”, which %s does not hold\n",
                 (const char *) dims_key, argv[1]);
        return ST_TOOL_EXIT_FAILURE;
      }

  /* One source per file the tensors are in. */
  g_autoptr(GHashTable) sources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) source_free);
  g_autoptr(GPtrArray) rank_targets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GPtrArray) rank_info = g_ptr_array_new_with_free_func (free_gstring);
  for (gint r = 0; r < n_ranks; r++)
    {
      g_ptr_array_add (rank_targets, g_ptr_array_new_with_free_func ((GDestroyNotify) target_free));
      g_ptr_array_add (rank_info, g_string_new ("{"));
    }

  for (guint i = 0; i < list->len; i++)
    {
      StToolEntry *entry = &g_array_index (list, StToolEntry, i);
      const char *key = entry->shard != NULL ? entry->shard : source->resolved;
      Source *from = g_hash_table_lookup (sources, key);
      if (from == NULL)
        {
          g_autoptr(STFile) file = entry->shard != NULL ? st_index_open_shard (source->index, entry->shard, NULL, &error)
                                                        : g_object_ref (source->file);
          g_autofree char *path = entry->shard != NULL
                                  ? g_build_filename (st_index_get_directory (source->index), entry->shard, NULL)
                                  : g_strdup (source->resolved);
          from = file != NULL ? source_open (path, file, &error) : NULL;
          if (from == NULL)
            {
              st_tool_print_error (argv[1], error);
              return ST_TOOL_EXIT_FAILURE;
            }
          g_hash_table_insert (sources, (gpointer) key, from);
        }

      guint n_dims = 0;
      const gint64 *shape = st_tensor_info_get_shape (entry->info, &n_dims);
      gpointer chosen;
      gint dim = g_hash_table_lookup_extended (dims, entry->name, NULL, &chosen) ? GPOINTER_TO_INT (chosen) : default_dim;
      if (dim >= (gint) n_dims || count_elements (shape, (guint) n_dims) == 0)
        dim = -1;   /* a scalar, a tensor with fewer dimensions, or an empty one: whole, in the first file */

      gint64 size = dim >= 0 ? shape[dim] : 0;
      gint64 at = 0;
      for (gint r = 0; r < n_ranks; r++)
        {
          /* As torch.tensor_split: the first size % N ranks get one more. */
          gint64 length = dim >= 0 ? size / n_ranks + (r < size % n_ranks ? 1 : 0) : (r == 0 ? 1 : 0);
          if (length == 0)
            continue;
          Piece *piece = g_new0 (Piece, 1);
          piece->source = from;
          piece->src_begin = entry->begin;
          piece->src_shape = g_memdup2 (shape, sizeof (gint64) * MAX (n_dims, 1));
          piece->extent = g_memdup2 (shape, sizeof (gint64) * MAX (n_dims, 1));
          piece->src_start = g_new0 (gint64, MAX (n_dims, 1));
          piece->dst_start = g_new0 (gint64, MAX (n_dims, 1));
          if (dim >= 0)
            {
              piece->src_start[dim] = at;
              piece->extent[dim] = length;
            }
          Target *target = target_new (entry->name, st_tensor_info_get_dtype (entry->info), piece->extent, (guint) n_dims);
          append_sharding_info (g_ptr_array_index (rank_info, r), entry->name, piece->src_start, (guint) n_dims);
          g_ptr_array_add (target->pieces, piece);
          g_ptr_array_add (g_ptr_array_index (rank_targets, r), target);
          at += length;
        }
    }

  /* Slices of elements smaller than a byte must start and end on bytes: checked before any file is
   * written. */
  for (gint r = 0; r < n_ranks; r++)
    {
      GPtrArray *targets = g_ptr_array_index (rank_targets, r);
      for (guint i = 0; i < targets->len; i++)
        if (!write_target (NULL, g_ptr_array_index (targets, i), &error))
          {
            st_tool_print_error (NULL, error);
            return ST_TOOL_EXIT_FAILURE;
          }
    }

  if (!st_tool_make_directory ("split", output))
    return ST_TOOL_EXIT_FAILURE;

  g_autoptr(GHashTable) metadata = checkpoint_file_metadata (source, list);
  for (gint r = 0; r < n_ranks; r++)
    {
      GPtrArray *targets = g_ptr_array_index (rank_targets, r);
      if (targets->len == 0)
        continue;   /* as torch: a rank with nothing to save writes no file */
      GString *info = g_ptr_array_index (rank_info, r);
      g_string_append (info, "}");
      g_hash_table_insert (metadata, g_strdup (SHARDING_INFO_KEY), g_strdup (info->str));
      g_hash_table_insert (metadata, g_strdup (DCP_VERSION_KEY), g_strdup ("1.0"));
      g_hash_table_insert (metadata, g_strdup ("format"), g_strdup ("pt"));
      g_autofree char *name = g_strdup_printf ("shard-%05d-model-00001-of-00001.safetensors", r + 1);
      g_autofree char *path = g_build_filename (output, name, NULL);
      if (!write_file (path, targets, metadata, &error))
        {
          st_tool_print_error (path, error);
          return ST_TOOL_EXIT_FAILURE;
        }
      printf ("%s\n", path);
    }
  return ST_TOOL_EXIT_OK;
}
