/* st-index.c: sharded checkpoints (model.safetensors.index.json)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st-checkpoint-private.h"
#include "st-error.h"
#include "st-dtype.h"
#include "st-tensor.h"
#include "st-file.h"
#include "st-index.h"
#include "st-index-json-private.h"
#include "st-index-private.h"
#include "st-name-index-private.h"
#include "st-index-remote-private.h"
#include "st-file-peer-private.h"
#include "st-progress-private.h"
#include "st-tensor-info-private.h"

/**
 * STIndex:
 *
 * A sharded checkpoint: the index file `model.safetensors.index.json` that
 * transformers and huggingface_hub write beside the shards of a large model,
 * and the shards it names.
 *
 * ```json
 * {"metadata": {"total_size": 1234},
 *  "weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors", ...}}
 * ```
 *
 * Opening an index reads the JSON only, synchronously or in a worker thread
 * alike; a shard is opened (mapped, see [ctor@ST.File.new_from_path]) the
 * first time one of its tensors is asked for, or all of them by
 * [method@ST.Index.validate], and stays open as long as the index, shared
 * read-only by every caller of [method@ST.Index.open_shard]. All lookups are
 * thread-safe.
 *
 * Shard file names are resolved in the directory of the index. A shard name
 * that is not a plain file name (one with a `/` or `\`, or `.` or `..`) is
 * rejected when the index is opened, so an index cannot make the library
 * open a file outside its own directory.
 *
 * [method@ST.File.save_sharded] writes such a set of files, and
 * [method@ST.Index.merge] gathers all the tensors of one back into a single
 * [class@ST.File].
 *
 * An index is a [iface@Gio.ListModel] of [class@ST.TensorInfo] items, one per
 * tensor of the weight map, sorted by name, each naming its shard: a
 * `GtkColumnView` shows them with property expressions alone. An item's
 * dtype, shape and offsets come from its shard, which is opened when the item
 * is first asked for; [method@ST.Index.validate_async] opens every shard in
 * a worker thread beforehand. An item of a shard that cannot be opened has its
 * name and shard only (its [property@ST.TensorInfo:dtype-name] is %NULL).
 *
 * Since: 1.0
 */

struct _STIndex
{
  GObject parent_instance;

  char *path;                 /* nullable for an object made with g_object_new () */
  char *directory;
  int index_fd;               /* the index file read, kept open so that a re-save shows; -1 if none */

  GHashTable *weight_map;     /* tensor name -> shard name (both owned; the shard name is shared) */
  GHashTable *shard_tensors;  /* shard name -> GPtrArray of tensor names (sorted; not owning) */
  char **names;               /* sorted */
  guint n_names;              /* g_strv_length (names), for the list model's calls */
  char **shard_names;         /* sorted */

  GHashTable *metadata;       /* string and integer values of "metadata", as text */
  GHashTable *string_metadata;/* only the string values: what merge passes on to the merged file */
  guint64 total_size;

  char *base_uri;             /* a remote index's address, up to the last '/' included; NULL for a local one */

  GMutex lock;                /* guards shards */
  GHashTable *shards;         /* shard name -> STFile */

  STTensorInfo **items;       /* the list model's, one per name, made on first access; NULL until loaded */
};

static void st_index_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (STIndex, st_index, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, st_index_list_model_init))

enum {
  PROP_0,
  PROP_PATH,
  PROP_DIRECTORY,
  PROP_N_TENSORS,
  PROP_N_SHARDS,
  PROP_TOTAL_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
st_index_finalize (GObject *object)
{
  STIndex *self = ST_INDEX (object);

  for (guint i = 0; self->items != NULL && self->names[i] != NULL; i++)
    g_clear_object (&self->items[i]);
  g_clear_pointer (&self->items, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->directory, g_free);
  g_clear_pointer (&self->base_uri, g_free);
  g_clear_pointer (&self->shard_tensors, g_hash_table_unref);
  g_clear_pointer (&self->weight_map, g_hash_table_unref);
  g_clear_pointer (&self->names, g_strfreev);
  g_clear_pointer (&self->shard_names, g_strfreev);
  g_clear_pointer (&self->metadata, g_hash_table_unref);
  g_clear_pointer (&self->string_metadata, g_hash_table_unref);
  g_clear_pointer (&self->shards, g_hash_table_unref);
  if (self->index_fd >= 0)
    close (self->index_fd);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (st_index_parent_class)->finalize (object);
}

static void
st_index_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  STIndex *self = ST_INDEX (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_DIRECTORY:
      g_value_set_string (value, self->directory);
      break;
    case PROP_N_TENSORS:
      g_value_set_uint (value, self->n_names);
      break;
    case PROP_N_SHARDS:
      g_value_set_uint (value, g_strv_length (self->shard_names));
      break;
    case PROP_TOTAL_SIZE:
      g_value_set_uint64 (value, self->total_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
st_index_class_init (STIndexClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = st_index_finalize;
  object_class->get_property = st_index_get_property;

  /**
   * STIndex:path:
   *
   * The path of the index file (see [method@ST.Index.get_path]).
   *
   * Since: 1.0
   */
  properties[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL, flags);

  /**
   * STIndex:directory:
   *
   * The directory of the index file, where its shards are.
   *
   * Since: 1.0
   */
  properties[PROP_DIRECTORY] = g_param_spec_string ("directory", NULL, NULL, NULL, flags);

  /**
   * STIndex:n-tensors:
   *
   * The number of tensors of the weight map, which is also the number of
   * items of the index's list model.
   *
   * Since: 1.0
   */
  properties[PROP_N_TENSORS] = g_param_spec_uint ("n-tensors", NULL, NULL, 0, G_MAXUINT, 0, flags);

  /**
   * STIndex:n-shards:
   *
   * The number of shards the weight map names.
   *
   * Since: 1.0
   */
  properties[PROP_N_SHARDS] = g_param_spec_uint ("n-shards", NULL, NULL, 0, G_MAXUINT, 0, flags);

  /**
   * STIndex:total-size:
   *
   * The `total_size` of the index metadata (see
   * [method@ST.Index.get_total_size]).
   *
   * Since: 1.0
   */
  properties[PROP_TOTAL_SIZE] = g_param_spec_uint64 ("total-size", NULL, NULL, 0, G_MAXUINT64, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
st_index_init (STIndex *self)
{
  g_mutex_init (&self->lock);
  self->index_fd = -1;
  self->weight_map = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_free);
  self->shard_tensors = g_hash_table_new_full (st_name_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_ptr_array_unref);
  self->names = g_new0 (char *, 1);
  self->shard_names = g_new0 (char *, 1);
  self->metadata = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_free);
  self->string_metadata = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_free);
  self->shards = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_object_unref);
}

/* The index takes over what its file says, in place of the empty tables of st_index_init(). */
static void
take_index_json (STIndex     *self,
                 StIndexJson *json)
{
  g_clear_pointer (&self->shard_tensors, g_hash_table_unref);
  g_clear_pointer (&self->weight_map, g_hash_table_unref);
  g_clear_pointer (&self->names, g_strfreev);
  g_clear_pointer (&self->shard_names, g_strfreev);
  g_clear_pointer (&self->metadata, g_hash_table_unref);
  g_clear_pointer (&self->string_metadata, g_hash_table_unref);
  self->weight_map = g_steal_pointer (&json->weight_map);
  self->shard_tensors = g_steal_pointer (&json->shard_tensors);
  self->names = g_steal_pointer (&json->names);
  self->n_names = g_strv_length (self->names);
  self->shard_names = g_steal_pointer (&json->shard_names);
  self->metadata = g_steal_pointer (&json->metadata);
  self->string_metadata = g_steal_pointer (&json->string_metadata);
  self->total_size = json->total_size;
}

typedef int StIndexFd;

static STIndex *index_new_from_path (const char    *index_path,
                                     gboolean       take_lock,
                                     GCancellable  *cancellable,
                                     GError       **error);

/**
 * st_index_new_from_path:
 * @index_path: (type filename): the path of the index file, usually
 *   `model.safetensors.index.json`
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads the index of a sharded checkpoint. Only the index file is read: the
 * shards are opened when a tensor of theirs is first needed. A duplicate key
 * in the weight map (which the JSON parser cannot see) counts once, with the
 * last value.
 *
 * The "metadata" object is optional; its `total_size`, when present, must be a
 * non-negative integer. The "weight_map" object is required and maps each
 * tensor name to the file name of its shard.
 *
 * The file must be strict JSON (RFC 8259: no comments, no trailing commas),
 * read in one pass whatever its shape, in time linear in its size.
 *
 * Returns: (transfer full): the index, or %NULL with @error set: in the
 *   `G_IO_ERROR` domain when the file cannot be read, %ST_ERROR_INVALID_INDEX
 *   when it is over 256 MiB, is not a JSON object with a "weight_map" object of
 *   strings (or nests more than 64 levels deep), has a bad "metadata" object or
 *   a shard name that is not a plain file name
 *
 * Since: 1.0
 */
STIndex *
st_index_new_from_path (const char    *index_path,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_return_val_if_fail (index_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return index_new_from_path (index_path, TRUE, cancellable, error);
}

char **
st_index_dup_shard_names_unlocked (const char *index_path)
{
  g_autoptr(STIndex) index = NULL;

  if (!g_file_test (index_path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  index = index_new_from_path (index_path, FALSE, NULL, NULL);
  return index != NULL ? g_strdupv (index->shard_names) : NULL;
}

static void
close_index_fd (StIndexFd *fd)
{
  if (*fd >= 0)
    close (*fd);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StIndexFd, close_index_fd)

/* Reads the index holding the folder's lock shared (@take_lock), so that it is not read during the
 * commit of a save, and keeps the file read open (see check_same_save()). */
static STIndex *
index_new_from_path (const char    *index_path,
                     gboolean       take_lock,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autofree char *directory = g_path_get_dirname (index_path);
  g_autoptr(StCheckpointLock) folder_lock = take_lock ? st_checkpoint_lock (directory, FALSE) : NULL;
  /* Opened before it is read: a file replaced in between makes a reader refuse, never accept, a mix.
   * Without blocking, for a FIFO, which is read as a stream and has no identity to keep. */
  g_auto(StIndexFd) index_fd = open (index_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  g_autoptr(StIndexJson) json = NULL;
  STIndex *self;
  struct stat held;

  json = st_index_json_read (index_path, cancellable, error);
  if (json == NULL)
    return NULL;

  self = g_object_new (ST_TYPE_INDEX, NULL);
  self->path = g_strdup (index_path);
  self->directory = g_steal_pointer (&directory);
  if (index_fd >= 0 && fstat (index_fd, &held) == 0 && S_ISREG (held.st_mode))
    {
      self->index_fd = index_fd;
      index_fd = -1;
    }
  take_index_json (self, json);
  self->items = g_new0 (STTensorInfo *, g_strv_length (self->names) + 1);
  return self;
}

/**
 * st_index_get_path:
 * @self: an index
 *
 * Gets the path of the index file this index was read from.
 *
 * Returns: (type filename) (nullable): the path the index was read from, or
 *   %NULL for an index made with g_object_new()
 *
 * Since: 1.0
 */
const char *
st_index_get_path (STIndex *self)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  return self->path;
}

/**
 * st_index_get_directory:
 * @self: an index
 *
 * Gets the directory where the shards of this index are looked for.
 *
 * Returns: (type filename) (nullable): the directory in which the shards are
 *   looked for: the one that holds the index file
 *
 * Since: 1.0
 */
const char *
st_index_get_directory (STIndex *self)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  return self->directory;
}

/**
 * st_index_get_n_tensors:
 * @self: an index
 *
 * Counts the tensors the index's weight map lists, across all its shards.
 *
 * Returns: the number of tensors in the weight map
 *
 * Since: 1.0
 */
guint
st_index_get_n_tensors (STIndex *self)
{
  g_return_val_if_fail (ST_IS_INDEX (self), 0);
  return g_hash_table_size (self->weight_map);
}

/**
 * st_index_dup_names_sorted:
 * @self: an index
 *
 * Lists the names of every tensor of the checkpoint, without opening any shard.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names of all the
 *   tensors of the weight map, sorted by their UTF-8 bytes
 *
 * Since: 1.0
 */
char **
st_index_dup_names_sorted (STIndex *self)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  return g_strdupv (self->names);
}

/**
 * st_index_contains:
 * @self: an index
 * @name: a tensor name
 *
 * Tells whether the checkpoint has a tensor of this name, without opening any shard.
 *
 * Returns: whether the weight map has a tensor named @name
 *
 * Since: 1.0
 */
gboolean
st_index_contains (STIndex    *self,
                   const char *name)
{
  g_return_val_if_fail (ST_IS_INDEX (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  return g_hash_table_contains (self->weight_map, name);
}

/**
 * st_index_dup_shard_names:
 * @self: an index
 *
 * Lists the shard files the weight map names.
 *
 * Returns: (transfer full) (array zero-terminated=1): the file names of the
 *   shards, each once, sorted (so `model-00001-of-00003.safetensors` comes
 *   first)
 *
 * Since: 1.0
 */
char **
st_index_dup_shard_names (STIndex *self)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  return g_strdupv (self->shard_names);
}

/**
 * st_index_get_shard_name:
 * @self: an index
 * @tensor_name: a tensor name
 *
 * Looks up which shard file holds a tensor, without opening it.
 *
 * Returns: (nullable): the file name of the shard the weight map assigns
 *   @tensor_name to, or %NULL when the index has no such tensor
 *
 * Since: 1.0
 */
const char *
st_index_get_shard_name (STIndex    *self,
                         const char *tensor_name)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (tensor_name != NULL, NULL);
  return g_hash_table_lookup (self->weight_map, tensor_name);
}

/**
 * st_index_dup_shard_tensor_names:
 * @self: an index
 * @shard_name: the file name of a shard
 *
 * Lists the tensors the weight map assigns to one shard, without opening it.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names of the
 *   tensors the weight map assigns to @shard_name, sorted; empty when the index
 *   has no such shard
 *
 * Since: 1.0
 */
char **
st_index_dup_shard_tensor_names (STIndex    *self,
                                 const char *shard_name)
{
  GPtrArray *members;
  char **result;
  guint n;

  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (shard_name != NULL, NULL);

  members = g_hash_table_lookup (self->shard_tensors, shard_name);
  n = members != NULL ? members->len : 0;
  result = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    result[i] = g_strdup (g_ptr_array_index (members, i));
  return result;
}

/**
 * st_index_dup_metadata:
 * @self: an index
 *
 * Copies the entries of the index's "metadata" object that are strings or
 * integers, integers written as decimal text: `total_size` among them when the
 * index has it. Members of other types are left out.
 *
 * Returns: (transfer full) (element-type utf8 utf8): a new table of the
 *   metadata of the index, empty when it has none
 *
 * Since: 1.0
 */
GHashTable *
st_index_dup_metadata (STIndex *self)
{
  GHashTable *copy;
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (ST_IS_INDEX (self), NULL);

  copy = g_hash_table_new_full (st_name_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&iter, self->metadata);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy, g_strdup (key), g_strdup (value));
  return copy;
}

/**
 * st_index_get_metadata_value:
 * @self: an index
 * @key: a metadata key
 *
 * Gives the value of @key in the index's "metadata" object, as
 * [method@ST.Index.dup_metadata] lists it (integers as decimal text).
 *
 * Returns: (transfer none) (nullable): the value, or %NULL when the metadata
 *   has no string or integer value for @key
 *
 * Since: 1.0
 */
const char *
st_index_get_metadata_value (STIndex    *self,
                             const char *key)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_hash_table_lookup (self->metadata, key);
}

/**
 * st_index_get_total_size:
 * @self: an index
 *
 * The `total_size` of the index metadata: by the convention of transformers
 * and huggingface_hub, the sum of the byte sizes of all the tensors (the
 * shards' headers are not counted). [method@ST.Index.validate] checks it.
 *
 * Returns: the total size the index states, or 0 when it has none
 *
 * Since: 1.0
 */
guint64
st_index_get_total_size (STIndex *self)
{
  g_return_val_if_fail (ST_IS_INDEX (self), 0);
  return self->total_size;
}

GHashTable *
st_index_peek_string_metadata (STIndex *self)
{
  return self->string_metadata;
}

/* Lists at most a few names, for one readable line of error. */
static char *
join_some_names (GPtrArray *names)
{
  const guint shown = 5;
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < names->len && i < shown; i++)
    g_string_append_printf (text, "%s“%s”", i > 0 ? ", " : "", (const char *) g_ptr_array_index (names, i));
  if (names->len > shown)
    g_string_append_printf (text, " and %u more", names->len - shown);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Whether @shard holds exactly the tensors the weight map assigns to it. A sharded save killed during
 * its last renames can leave shards of two saves beside one index: this is where that shows. */
static gboolean
check_shard_contents (STIndex     *self,
                      const char  *shard_name,
                      STFile      *shard,
                      GError     **error)
{
  GPtrArray *expected;
  g_autoptr(GPtrArray) missing = NULL;
  g_autoptr(GPtrArray) misplaced = NULL;
  g_autoptr(GPtrArray) unknown = NULL;
  g_auto(GStrv) held = NULL;

  expected = g_hash_table_lookup (self->shard_tensors, shard_name);
  missing = g_ptr_array_new ();
  for (guint i = 0; i < expected->len; i++)
    if (!st_file_contains (shard, g_ptr_array_index (expected, i)))
      g_ptr_array_add (missing, g_ptr_array_index (expected, i));
  /* every name assigned, and no more names than that: the shard holds exactly those (its names are
   * distinct), and none is misplaced or unknown; the list of its names is not needed */
  if (missing->len == 0 && st_file_get_n_tensors (shard) == expected->len)
    return TRUE;

  held = st_file_dup_names_sorted (shard);
  misplaced = g_ptr_array_new ();
  unknown = g_ptr_array_new ();
  for (guint i = 0; held[i] != NULL; i++)
    {
      const char *assigned = g_hash_table_lookup (self->weight_map, held[i]);

      if (assigned == NULL)
        g_ptr_array_add (unknown, held[i]);
      else if (strcmp (assigned, shard_name) != 0)
        g_ptr_array_add (misplaced, held[i]);
    }

  if (missing->len > 0)
    {
      g_autofree char *list = join_some_names (missing);

      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "Shard “%s” lacks %u tensor%s the index assigns to it: %s",
                   shard_name, missing->len, missing->len == 1 ? "" : "s", list);
      return FALSE;
    }
  if (misplaced->len > 0)
    {
      const char *first = g_ptr_array_index (misplaced, 0);
      g_autofree char *list = join_some_names (misplaced);

      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "Shard “%s” holds %u tensor%s the index assigns to another shard: %s "
                   "(the index puts “%s” in “%s”)",
                   shard_name, misplaced->len, misplaced->len == 1 ? "" : "s", list,
                   first, (const char *) g_hash_table_lookup (self->weight_map, first));
      return FALSE;
    }
  if (unknown->len > 0)
    {
      g_autofree char *list = join_some_names (unknown);

      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "Shard “%s” holds %u tensor%s the index does not list: %s",
                   shard_name, unknown->len, unknown->len == 1 ? "" : "s", list);
      return FALSE;
    }
  return TRUE;
}

/* Whether a shard just opened comes from the save the index was read from: no commit is under way or was
 * left halfway (the commit mark, st-checkpoint.c), and the index's name still leads to the file read. A
 * save that committed since, or is committing, would otherwise give shards of two saves, which hold the
 * same tensor names when the layout did not change. Checked after the open, so that it holds even
 * where the folder's lock is not to be had. */
static gboolean
check_same_save (STIndex     *self,
                 const char  *shard_name,
                 GError     **error)
{
  g_autofree char *index_name = NULL;
  g_autofree char *display_index = NULL;
  struct stat held, now;

  if (self->path == NULL)
    return TRUE;
  index_name = g_path_get_basename (self->path);
  display_index = g_filename_display_name (index_name);
  if (st_checkpoint_mark_exists (self->directory, index_name))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "Shard “%s” may come from another save than its index “%s”: a save of the checkpoint "
                   "is under way or was interrupted (save it again)", shard_name, display_index);
      return FALSE;
    }
  if (self->index_fd >= 0 && fstat (self->index_fd, &held) == 0 &&
      (stat (self->path, &now) != 0 || now.st_dev != held.st_dev || now.st_ino != held.st_ino))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "Shard “%s” comes from another save than its index “%s”: the checkpoint was saved again "
                   "since the index was read (open the index again)", shard_name, display_index);
      return FALSE;
    }
  return TRUE;
}

/* The shard @shard_name, opened once and kept by the index (transfer none): what every shard lookup of
 * the index goes through. */
static STFile *
lookup_open_shard (STIndex       *self,
                   const char    *shard_name,
                   GCancellable  *cancellable,
                   GError       **error)
{
  G_GNUC_UNUSED g_autoptr(StCheckpointLock) folder_lock = NULL;
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = NULL;
  g_autofree char *path = NULL;
  STFile *shard;

  if (!g_hash_table_contains (self->shard_tensors, shard_name))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND,
                   "The index has no shard “%s”", shard_name);
      return NULL;
    }

  locker = g_mutex_locker_new (&self->lock);
  shard = g_hash_table_lookup (self->shards, shard_name);
  if (shard != NULL)
    return shard;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* The folder's lock before the mutex, never while holding it: a thread waiting for a save's commit
   * to end does not hold up the lookups of shards already open. A remote index has no folder. */
  if (self->base_uri == NULL)
    {
      g_clear_pointer (&locker, g_mutex_locker_free);
      folder_lock = st_checkpoint_lock (self->directory, FALSE);
      locker = g_mutex_locker_new (&self->lock);
      shard = g_hash_table_lookup (self->shards, shard_name);
      if (shard != NULL)
        return shard;
    }

  /* The loader's errors name the shard's path, and what the file is when it is not safetensors. */
  if (self->base_uri != NULL)
    shard = st_index_open_remote_shard (self->base_uri, shard_name, cancellable, error);  /* st-index-remote.c */
  else
    {
      path = g_build_filename (self->directory, shard_name, NULL);
      shard = st_file_new_from_path (path, cancellable, error);
    }
  if (shard == NULL)
    return NULL;
  if (!check_same_save (self, shard_name, error) || !check_shard_contents (self, shard_name, shard, error))
    {
      g_object_unref (shard);
      return NULL;
    }
  g_hash_table_insert (self->shards, g_strdup (shard_name), shard);
  return shard;
}

/**
 * st_index_open_shard:
 * @self: an index
 * @shard_name: the file name of a shard, as the weight map gives it
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Opens the shard @shard_name, or gives it again when it is already open.
 * The index opens (maps) each shard once and keeps it as long as itself;
 * every caller gets a new reference to that one shared file. Safe to call
 * from several threads at once.
 *
 * Opening checks that the shard holds exactly the tensors the weight map
 * assigns to it, and that it comes from the save the index was read from:
 * the index file must still be the one read, and no save of the checkpoint
 * may be committing or have been interrupted while committing (see
 * [method@ST.File.save_sharded]). Shards of two different saves fail here,
 * naming the shard.
 *
 * The file is shared and read-only: other threads, the index's list model
 * and [method@ST.Index.merge] read it, so do not set or remove its tensors or
 * metadata (to change a shard, load it with [ctor@ST.File.new_from_path] or
 * build a new [class@ST.File] from its tensors). It is shared rather than
 * copied because only the loaded file knows its header size and its tensors'
 * data offsets, and because a copy per call would cost a table of all its
 * tensors each time; its tensors are immutable and keep the mapping alive on
 * their own.
 *
 * Returns: (transfer full): the shard, or %NULL with @error set:
 *   %ST_ERROR_NOT_FOUND when the weight map names no shard @shard_name,
 *   %ST_ERROR_INVALID_INDEX when the shard does not hold what the weight map
 *   says, or may come from another save than the index (see
 *   [Durability](durability.html)), `G_IO_ERROR_CANCELLED`, or any error of [ctor@ST.File.new_from_path], its
 *   message naming the shard
 *
 * Since: 1.0
 */
STFile *
st_index_open_shard (STIndex       *self,
                     const char    *shard_name,
                     GCancellable  *cancellable,
                     GError       **error)
{
  STFile *shard;

  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (shard_name != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  shard = lookup_open_shard (self, shard_name, cancellable, error);
  return shard != NULL ? g_object_ref (shard) : NULL;
}

static void
open_shard_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  GError *error = NULL;
  STFile *shard = st_index_open_shard (ST_INDEX (source_object), task_data, cancellable, &error);

  if (shard == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, shard, g_object_unref);
}

/**
 * st_index_open_shard_async:
 * @self: an index
 * @shard_name: the file name of a shard, as the weight map gives it
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when the shard is open
 * @user_data: data for @callback
 *
 * Does what [method@ST.Index.open_shard] does, in a worker thread.
 *
 * Since: 1.0
 */
void
st_index_open_shard_async (STIndex             *self,
                           const char          *shard_name,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (ST_IS_INDEX (self));
  g_return_if_fail (shard_name != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_index_open_shard_async);
  g_task_set_task_data (task, g_strdup (shard_name), g_free);
  g_task_run_in_thread (task, open_shard_thread);
}

/**
 * st_index_open_shard_finish:
 * @self: an index
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.Index.open_shard_async].
 *
 * Returns: (transfer full): the shard, shared and read-only as
 *   [method@ST.Index.open_shard] describes, or %NULL with @error set as it
 *   sets it
 *
 * Since: 1.0
 */
STFile *
st_index_open_shard_finish (STIndex       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_index_open_shard_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * st_index_get_shard:
 * @self: an index
 * @shard_name: the file name of a shard, as the weight map gives it
 * @error: return location for a #GError
 *
 * Opens the shard @shard_name as [method@ST.Index.open_shard] does, without a
 * #GCancellable, and returns the index's own reference to it.
 *
 * Returns: (transfer none): the shard, shared and read-only, or %NULL with
 *   @error set as [method@ST.Index.open_shard] sets it
 *
 * Since: 1.0
 *
 * Deprecated: 1.0: Use [method@ST.Index.open_shard], which takes a
 *   #GCancellable and returns a reference of the caller's own.
 */
STFile *
st_index_get_shard (STIndex     *self,
                    const char  *shard_name,
                    GError     **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (shard_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return lookup_open_shard (self, shard_name, NULL, error);
}

/**
 * st_index_dup_tensor:
 * @self: an index
 * @name: a tensor name
 * @cancellable: (nullable): a #GCancellable, for the opening of the shard
 * @error: return location for a #GError
 *
 * Finds the tensor @name: looks up its shard in the weight map, opens the
 * shard if it is not open yet (see [method@ST.Index.open_shard]), and returns
 * the tensor from it (a zero-copy view of the shard's mapping). Safe to call
 * from several threads at once.
 *
 * Returns: (transfer full): the tensor, or %NULL with @error set:
 *   %ST_ERROR_NOT_FOUND when the weight map has no tensor @name,
 *   %ST_ERROR_INVALID_INDEX when its shard does not hold it, or the error of
 *   opening the shard (`G_IO_ERROR_CANCELLED` among them)
 *
 * Since: 1.0
 */
STTensor *
st_index_dup_tensor (STIndex       *self,
                     const char    *name,
                     GCancellable  *cancellable,
                     GError       **error)
{
  const char *shard_name;
  STFile *shard;
  STTensor *tensor;

  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  shard_name = g_hash_table_lookup (self->weight_map, name);
  if (shard_name == NULL)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND,
                   "The index has no tensor “%s”", name);
      return NULL;
    }

  shard = lookup_open_shard (self, shard_name, cancellable, error);
  if (shard == NULL)
    return NULL;

  tensor = st_file_get_tensor (shard, name);
  if (tensor == NULL)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "Tensor “%s” is not in its shard “%s”, as the index says", name, shard_name);
      return NULL;
    }
  return g_object_ref (tensor);
}

GArray *
st_index_dup_shard_file_sizes (STIndex *self)
{
  guint n_shards = g_strv_length (self->shard_names);
  GArray *sizes = g_array_sized_new (FALSE, TRUE, sizeof (guint64), n_shards + 1);
  guint64 total = 0;

  for (guint i = 0; i < n_shards; i++)
    {
      g_autofree char *path = g_build_filename (self->directory, self->shard_names[i], NULL);
      GStatBuf info;
      guint64 size = g_stat (path, &info) == 0 ? (guint64) info.st_size : 0;

      g_array_append_val (sizes, size);
      total += size;
    }
  g_array_append_val (sizes, total);
  return sizes;
}

/* Reading an index in a worker thread */

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  STIndex *index = st_index_new_from_path (task_data, cancellable, &error);

  if (index == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, index, g_object_unref);
}

/**
 * st_index_new_from_path_async:
 * @index_path: (type filename): the path of the index file
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when the index is read
 * @user_data: data for @callback
 *
 * Reads an index in a worker thread: the same work as
 * [ctor@ST.Index.new_from_path], the index file only. To open and check every
 * shard as well (so that the items of the index's list model carry every
 * tensor's dtype, shape and offsets without I/O in the caller's thread),
 * follow it with [method@ST.Index.validate_async].
 *
 * Since: 1.0
 */
void
st_index_new_from_path_async (const char          *index_path,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (index_path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_index_new_from_path_async);
  g_task_set_task_data (task, g_strdup (index_path), g_free);
  g_task_run_in_thread (task, open_thread);
}

/**
 * st_index_new_from_path_finish:
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@ST.Index.new_from_path_async].
 *
 * Returns: (transfer full): the index, or %NULL with @error set: any error
 *   of [ctor@ST.Index.new_from_path], or `G_IO_ERROR_CANCELLED`
 *
 * Since: 1.0
 */
STIndex *
st_index_new_from_path_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_index_new_from_path_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The list model: one STTensorInfo per tensor of the weight map, sorted by name */

STIndex *
st_index_new_from_contents (const char  *contents,
                            gsize        length,
                            const char  *display_name,
                            GError     **error)
{
  g_autoptr(StIndexJson) json = st_index_json_parse (contents, length, display_name, error);
  STIndex *self;

  if (json == NULL)
    return NULL;
  self = g_object_new (ST_TYPE_INDEX, NULL);
  take_index_json (self, json);
  self->items = g_new0 (STTensorInfo *, g_strv_length (self->names) + 1);
  return self;
}

void
st_index_set_base_uri (STIndex    *self,
                       const char *base_uri)
{
  g_free (self->base_uri);
  self->base_uri = g_strdup (base_uri);
}

const char *
st_index_get_base_uri (STIndex *self)
{
  return self->base_uri;
}

gboolean
st_index_adopt_shard (STIndex     *self,
                      const char  *shard_name,
                      STFile      *shard,
                      GError     **error)
{
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = NULL;

  if (!check_shard_contents (self, shard_name, shard, error))
    return FALSE;
  locker = g_mutex_locker_new (&self->lock);
  if (!g_hash_table_contains (self->shards, shard_name))
    g_hash_table_insert (self->shards, g_strdup (shard_name), g_object_ref (shard));
  return TRUE;
}

static GType
st_index_get_item_type (GListModel *model)
{
  return ST_TYPE_TENSOR_INFO;
}

static guint
st_index_get_n_items (GListModel *model)
{
  return ST_INDEX (model)->n_names;
}

/* The item of the tensor @name, from its shard; an item with only the name and shard when the
 * shard cannot be opened (not kept: a later call tries again). */
static STTensorInfo *
make_item (STIndex    *self,
           const char *name,
           gboolean   *out_complete)
{
  const char *shard_name = g_hash_table_lookup (self->weight_map, name);
  STFile *shard = lookup_open_shard (self, shard_name, NULL, NULL);
  guint64 begin = 0, end = 0;
  const gint64 *shape = NULL;
  guint n_dims = 0;
  STDType dtype = ST_DTYPE_U8;

  /* the layout, not the tensor: a remote shard's tensor would be fetched */
  *out_complete = shard != NULL && st_file_contains (shard, name);
  if (!*out_complete)
    return st_tensor_info_new_unavailable (name, shard_name);

  shape = st_file_peek_layout (shard, name, &dtype, &n_dims);
  st_file_get_tensor_offsets (shard, name, &begin, &end);
  return st_tensor_info_new (name, dtype, shape, n_dims, (gint64) begin, (gint64) end, shard_name);
}

static gpointer
st_index_get_item (GListModel *model,
                   guint       position)
{
  STIndex *self = ST_INDEX (model);
  STTensorInfo *item;
  gboolean complete;

  if (self->items == NULL || position >= self->n_names)
    return NULL;

  item = g_atomic_pointer_get (&self->items[position]);
  if (item != NULL)
    return g_object_ref (item);

  item = make_item (self, self->names[position], &complete);
  if (!complete)
    return item;
  if (!g_atomic_pointer_compare_and_exchange (&self->items[position], NULL, item))
    {
      g_object_unref (item);
      item = g_atomic_pointer_get (&self->items[position]);
    }
  return g_object_ref (item);
}

/* STIndex is a GListModel of STTensorInfo items: documented on the type. */
static void
st_index_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = st_index_get_item_type;
  iface->get_n_items = st_index_get_n_items;
  iface->get_item = st_index_get_item;
}
