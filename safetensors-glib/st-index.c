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

#include <json-glib/json-glib.h>

#include "st-checkpoint-private.h"
#include "st-error.h"
#include "st-dtype.h"
#include "st-tensor.h"
#include "st-file.h"
#include "st-file-peer-private.h"
#include "st-index.h"
#include "st-index-private.h"
#include "st-progress-private.h"
#include "st-tensor-info-private.h"
#include "st-sniff-private.h"

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
 * Opening an index reads the JSON only; a shard is opened (mapped, see
 * [ctor@ST.File.new_from_path]) the first time one of its tensors is asked
 * for, and stays open as long as the index. All lookups are thread-safe.
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
 * is first asked for; [func@ST.Index.new_from_path_async] opens every shard in
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
  char **shard_names;         /* sorted */

  GHashTable *metadata;       /* string and integer values of "metadata", as text */
  GHashTable *string_metadata;/* only the string values: what merge passes on to the merged file */
  guint64 total_size;
  gboolean has_total_size;

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

/* An index lists a name and a shard per tensor: 256 MiB is millions of tensors, and bounds the memory
 * a hostile index can make the parser take. */
#define ST_MAX_INDEX_SIZE (G_GUINT64_CONSTANT (256) << 20)

static void
st_index_finalize (GObject *object)
{
  STIndex *self = ST_INDEX (object);

  for (guint i = 0; self->items != NULL && self->names[i] != NULL; i++)
    g_clear_object (&self->items[i]);
  g_clear_pointer (&self->items, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->directory, g_free);
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
      g_value_set_uint (value, g_strv_length (self->names));
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
  self->weight_map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->shard_tensors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_ptr_array_unref);
  self->names = g_new0 (char *, 1);
  self->shard_names = g_new0 (char *, 1);
  self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->string_metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->shards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

int
st_compare_strings (gconstpointer a,
                    gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* A shard must be a plain file name in the index's directory. */
gboolean
st_is_plain_file_name (const char *name)
{
  if (name[0] == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return FALSE;
  if (strchr (name, '/') != NULL || strchr (name, '\\') != NULL)
    return FALSE;
  return g_utf8_validate (name, -1, NULL);
}

/* The total_size of an index is a JSON integer; huggingface_hub never writes it as a string, but
 * some hand-made indexes do, so a string of decimal digits is accepted too. */
static gboolean
node_to_size (JsonNode *node,
              guint64  *out_size)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      gint64 v = json_node_get_int (node);

      if (v < 0)
        return FALSE;
      *out_size = (guint64) v;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *text = json_node_get_string (node);

      return text[0] != '\0' && g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, out_size, NULL);
    }
  return FALSE;
}

/* json-glib's parser recurses once per level of nesting: a hostile index of a million '[' would
 * overflow the stack. An index needs three levels; metadata written by other tools may nest a few
 * more. Counted over the raw text, strings skipped. */
#define ST_MAX_INDEX_DEPTH 64

static gboolean
nesting_within_limit (const char *text,
                      gsize       length)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > ST_MAX_INDEX_DEPTH)
            return FALSE;
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }
  return TRUE;
}

static gboolean
load_metadata (STIndex     *self,
               JsonObject  *root,
               const char  *display_name,
               GError     **error)
{
  JsonNode *node = json_object_get_member (root, "metadata");
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The \"metadata\" member is not an object", display_name);
      return FALSE;
    }

  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      GType type;

      if (strcmp (key, ST_INDEX_TOTAL_SIZE_KEY) == 0)
        {
          if (!node_to_size (value, &self->total_size))
            {
              g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                           "%s: The \"total_size\" of the metadata is not a non-negative integer", display_name);
              return FALSE;
            }
          self->has_total_size = TRUE;
          g_hash_table_replace (self->metadata, g_strdup (key),
                                g_strdup_printf ("%" G_GUINT64_FORMAT, self->total_size));
          continue;
        }
      if (!JSON_NODE_HOLDS_VALUE (value))
        continue;  /* objects, arrays and null carry nothing a string map can hold */
      type = json_node_get_value_type (value);
      if (type == G_TYPE_STRING)
        {
          g_hash_table_replace (self->metadata, g_strdup (key), g_strdup (json_node_get_string (value)));
          g_hash_table_replace (self->string_metadata, g_strdup (key), g_strdup (json_node_get_string (value)));
        }
      else if (type == G_TYPE_INT64)
        {
          g_hash_table_replace (self->metadata, g_strdup (key),
                                g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (value)));
        }
    }
  return TRUE;
}

static gboolean
load_weight_map (STIndex     *self,
                 JsonObject  *root,
                 const char  *display_name,
                 GError     **error)
{
  JsonNode *node = json_object_get_member (root, "weight_map");
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GPtrArray) shard_names = g_ptr_array_new ();
  JsonObjectIter iter;
  const char *tensor_name;
  JsonNode *value;
  GHashTableIter shards_iter;
  gpointer members;

  if (node == NULL)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The index has no \"weight_map\" object", display_name);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The \"weight_map\" member is not an object", display_name);
      return FALSE;
    }

  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &tensor_name, &value))
    {
      g_autofree char *shown_name = g_utf8_make_valid (tensor_name, -1);
      const char *shard_name;
      GPtrArray *shard_members;
      char *owned_name;

      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                       "%s: The shard of tensor “%s” is not a string", display_name, shown_name);
          return FALSE;
        }
      shard_name = json_node_get_string (value);
      if (!st_is_plain_file_name (shard_name))
        {
          g_autofree char *shown_shard = g_utf8_make_valid (shard_name, -1);

          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                       "%s: The shard “%s” of tensor “%s” is not a plain file name in the index's directory",
                       display_name, shown_shard, shown_name);
          return FALSE;
        }
      if (!g_utf8_validate (tensor_name, -1, NULL) || strcmp (tensor_name, "__metadata__") == 0)
        {
          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                       "%s: “%s” cannot be the name of a tensor", display_name, shown_name);
          return FALSE;
        }

      shard_members = g_hash_table_lookup (self->shard_tensors, shard_name);
      if (shard_members == NULL)
        {
          shard_members = g_ptr_array_new ();
          g_hash_table_insert (self->shard_tensors, g_strdup (shard_name), shard_members);
          g_ptr_array_add (shard_names, g_strdup (shard_name));
        }
      owned_name = g_strdup (tensor_name);
      g_hash_table_insert (self->weight_map, owned_name, g_strdup (shard_name));
      g_ptr_array_add (shard_members, owned_name);
      g_ptr_array_add (names, g_strdup (tensor_name));
    }

  g_hash_table_iter_init (&shards_iter, self->shard_tensors);
  while (g_hash_table_iter_next (&shards_iter, NULL, &members))
    g_ptr_array_sort (members, st_compare_strings);

  g_ptr_array_sort (names, st_compare_strings);
  g_ptr_array_add (names, NULL);
  g_strfreev (self->names);
  self->names = (char **) g_ptr_array_steal (names, NULL);

  g_ptr_array_sort (shard_names, st_compare_strings);
  g_ptr_array_add (shard_names, NULL);
  g_strfreev (self->shard_names);
  self->shard_names = (char **) g_ptr_array_steal (shard_names, NULL);
  return TRUE;
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
  g_autofree char *display_name = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) json_error = NULL;
  g_autoptr(STIndex) self = NULL;
  JsonNode *root;
  StSniffKind kind;
  struct stat held;

  display_name = g_filename_display_name (index_path);
  file = g_file_new_for_path (index_path);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (info == NULL)
    return NULL;
  if ((guint64) g_file_info_get_size (info) > ST_MAX_INDEX_SIZE)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The index is %" G_GUINT64_FORMAT " bytes long, over the limit of %" G_GUINT64_FORMAT,
                   display_name, (guint64) g_file_info_get_size (info), (guint64) ST_MAX_INDEX_SIZE);
      return NULL;
    }

  if (!g_file_load_contents (file, cancellable, &contents, &length, NULL, error))
    return NULL;

  kind = st_sniff_bytes ((const guint8 *) contents, length, length);
  if (kind == ST_SNIFF_GIT_LFS_POINTER || kind == ST_SNIFF_HTML || kind == ST_SNIFF_ZIP ||
      kind == ST_SNIFF_PICKLE || kind == ST_SNIFF_GGUF)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX, "%s: It is %s, not the index of a sharded checkpoint",
                   display_name, st_sniff_describe (kind));
      return NULL;
    }

  if (!g_utf8_validate_len (contents, length, NULL))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The index is not UTF-8 text", display_name);
      return NULL;
    }

  if (!nesting_within_limit (contents, length))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The index nests arrays or objects more than %u deep", display_name, ST_MAX_INDEX_DEPTH);
      return NULL;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, contents, (gssize) length, &json_error))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The index is not valid JSON: %s", display_name, json_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The index is not a JSON object", display_name);
      return NULL;
    }

  self = g_object_new (ST_TYPE_INDEX, NULL);
  self->path = g_strdup (index_path);
  self->directory = g_steal_pointer (&directory);
  if (index_fd >= 0 && fstat (index_fd, &held) == 0 && S_ISREG (held.st_mode))
    {
      self->index_fd = index_fd;
      index_fd = -1;
    }

  if (!load_metadata (self, json_node_get_object (root), display_name, error) ||
      !load_weight_map (self, json_node_get_object (root), display_name, error))
    return NULL;
  self->items = g_new0 (STTensorInfo *, g_strv_length (self->names) + 1);

  return g_steal_pointer (&self);
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

  copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
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

/**
 * st_index_get_shard:
 * @self: an index
 * @shard_name: the file name of a shard, as the weight map gives it
 * @error: return location for a #GError
 *
 * Opens the shard @shard_name (or returns it, when it is already open). The
 * shard stays open, and mapped, as long as the index. Safe to call from
 * several threads at once.
 *
 * Opening checks that the shard holds exactly the tensors the weight map
 * assigns to it, and that it comes from the save the index was read from:
 * the index file must still be the one read, and no save of the checkpoint
 * may be committing or have been interrupted while committing (see
 * [method@ST.File.save_sharded]). Shards of two different saves fail here,
 * naming the shard.
 *
 * The file is the shard as loaded: treat it as read-only, for other threads
 * may be reading it.
 *
 * Returns: (transfer none): the shard, or %NULL with @error set:
 *   %ST_ERROR_NOT_FOUND when the weight map names no shard @shard_name,
 *   %ST_ERROR_INVALID_INDEX when the shard does not hold what the weight map
 *   says, or may come from another save than the index (see
 *   [Durability](durability.html)),
 *   or any error of [ctor@ST.File.new_from_path], its message naming the shard
 *
 * Since: 1.0
 */
STFile *
st_index_get_shard (STIndex     *self,
                    const char  *shard_name,
                    GError     **error)
{
  G_GNUC_UNUSED g_autoptr(StCheckpointLock) folder_lock = NULL;
  G_GNUC_UNUSED g_autoptr(GMutexLocker) locker = NULL;
  g_autofree char *path = NULL;
  STFile *shard;

  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (shard_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

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

  /* The folder's lock before the mutex, never while holding it: a thread waiting for a save's commit
   * to end does not hold up the lookups of shards already open. */
  g_clear_pointer (&locker, g_mutex_locker_free);
  folder_lock = st_checkpoint_lock (self->directory, FALSE);
  locker = g_mutex_locker_new (&self->lock);
  shard = g_hash_table_lookup (self->shards, shard_name);
  if (shard != NULL)
    return shard;

  /* The loader's errors name the shard's path, and what the file is when it is not safetensors. */
  path = g_build_filename (self->directory, shard_name, NULL);
  shard = st_file_new_from_path (path, NULL, error);
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
 * st_index_dup_tensor:
 * @self: an index
 * @name: a tensor name
 * @error: return location for a #GError
 *
 * Finds the tensor @name: looks up its shard in the weight map, opens the
 * shard if it is not open yet, and returns the tensor from it (a zero-copy
 * view of the shard's mapping). Safe to call from several threads at once.
 *
 * Returns: (transfer full): the tensor, or %NULL with @error set:
 *   %ST_ERROR_NOT_FOUND when the weight map has no tensor @name,
 *   %ST_ERROR_INVALID_INDEX when its shard does not hold it, or the error of
 *   opening the shard
 *
 * Since: 1.0
 */
STTensor *
st_index_dup_tensor (STIndex     *self,
                     const char  *name,
                     GError     **error)
{
  const char *shard_name;
  STFile *shard;
  STTensor *tensor;

  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  shard_name = g_hash_table_lookup (self->weight_map, name);
  if (shard_name == NULL)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_NOT_FOUND,
                   "The index has no tensor “%s”", name);
      return NULL;
    }

  shard = st_index_get_shard (self, shard_name, error);
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

/**
 * st_index_validate_shard:
 * @self: an index
 * @shard_name: the file name of a shard, as the weight map gives it
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Checks one shard: that it exists, that it is a valid safetensors file (see
 * [ctor@ST.File.new_from_path]: only its header is read) and that it holds
 * exactly the tensors the weight map assigns to it. The shard stays open.
 *
 * Returns: %TRUE when the shard is right; otherwise %FALSE with @error set:
 *   the error of opening it (a Git LFS pointer or an HTML page in place of the
 *   shard is named as such), or %ST_ERROR_INVALID_INDEX for a tensor the
 *   weight map assigns to it that it lacks, or that it holds and the weight map
 *   does not assign to it
 *
 * Since: 1.0
 */
gboolean
st_index_validate_shard (STIndex       *self,
                         const char    *shard_name,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), FALSE);
  g_return_val_if_fail (shard_name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* Opening a shard checks what it holds. */
  return st_index_get_shard (self, shard_name, error) != NULL;
}

/* Sum of the byte sizes of the tensors the weight map assigns to @shard (already validated). */
static guint64
shard_tensor_bytes (STIndex    *self,
                    STFile     *shard,
                    const char *shard_name)
{
  GPtrArray *members = g_hash_table_lookup (self->shard_tensors, shard_name);
  guint64 total = 0;

  for (guint i = 0; i < members->len; i++)
    total += st_tensor_get_n_bytes (st_file_get_tensor (shard, g_ptr_array_index (members, i)));
  return total;
}

/**
 * st_index_validate:
 * @self: an index
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Checks the whole checkpoint: every shard with
 * [method@ST.Index.validate_shard], in order, then that the `total_size` of
 * the index metadata, when it has one, is the sum of the byte sizes of all the
 * tensors. Only the shards' headers are read, never their tensor data.
 *
 * Returns: %TRUE when the checkpoint is consistent; otherwise %FALSE with
 *   @error set to the first problem found: see
 *   [method@ST.Index.validate_shard], and %ST_ERROR_INVALID_INDEX for a wrong
 *   `total_size`
 *
 * Since: 1.0
 */
gboolean
st_index_validate (STIndex       *self,
                   GCancellable  *cancellable,
                   GError       **error)
{
  guint64 total = 0;

  g_return_val_if_fail (ST_IS_INDEX (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; self->shard_names[i] != NULL; i++)
    {
      STFile *shard;

      if (!st_index_validate_shard (self, self->shard_names[i], cancellable, error))
        return FALSE;
      shard = st_index_get_shard (self, self->shard_names[i], error);
      total += shard_tensor_bytes (self, shard, self->shard_names[i]);
    }

  if (self->has_total_size && total != self->total_size)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "The index states a total_size of %" G_GUINT64_FORMAT " bytes, but its tensors "
                   "hold %" G_GUINT64_FORMAT " bytes", self->total_size, total);
      return FALSE;
    }
  return TRUE;
}

/* The byte size of each shard file (0 for one that cannot be read: opening it will say why), then
 * their sum: the units of an index's progress reports. */
static GArray *
shard_file_sizes (STIndex *self)
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

static STFile *merge_shards (STIndex       *self,
                             GCancellable  *cancellable,
                             StProgress    *progress,
                             GError       **error);

/**
 * st_index_merge:
 * @self: an index
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Gathers every tensor of the checkpoint into one new [class@ST.File],
 * without copying tensor data: the tensors are views of the shards' mappings,
 * which they keep alive. Each shard is checked as
 * [method@ST.Index.validate_shard] does. The tensors come in shard order,
 * then in the order of the data in each shard.
 *
 * The metadata of the result is the union of the shards' `__metadata__`
 * (the first shard wins where they differ) and the string values of the
 * index metadata, which the shards' metadata takes precedence over.
 * [method@ST.File.save_sharded] writes the file's metadata into every shard
 * and into the index, so a checkpoint it wrote merges back to the file it
 * split.
 *
 * Returns: (transfer full): a new file with all the tensors, or %NULL with
 *   @error set (see [method@ST.Index.validate_shard])
 *
 * Since: 1.0
 */
STFile *
st_index_merge (STIndex       *self,
                GCancellable  *cancellable,
                GError       **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return merge_shards (self, cancellable, NULL, error);
}

static STFile *
merge_shards (STIndex       *self,
              GCancellable  *cancellable,
              StProgress    *progress,
              GError       **error)
{
  g_autoptr(STFile) merged = NULL;
  g_autoptr(GHashTable) metadata = NULL;
  g_autoptr(GArray) sizes = shard_file_sizes (self);
  gboolean any_metadata;
  GHashTableIter iter;
  gpointer key, value;
  guint64 done = 0;

  merged = st_file_new ();
  metadata = g_hash_table_new (g_str_hash, g_str_equal);
  any_metadata = g_hash_table_size (self->string_metadata) > 0;
  for (guint i = 0; self->shard_names[i] != NULL; i++)
    {
      g_auto(GStrv) ordered = NULL;
      GHashTable *shard_metadata;
      STFile *shard;

      if (!st_index_validate_shard (self, self->shard_names[i], cancellable, error))
        return NULL;
      shard = st_index_get_shard (self, self->shard_names[i], error);

      ordered = st_file_dup_names_in_file_order (shard);
      for (guint j = 0; ordered[j] != NULL; j++)
        if (!st_file_set_tensor (merged, ordered[j], st_file_get_tensor (shard, ordered[j]), error))
          return NULL;

      done += g_array_index (sizes, guint64, i);
      st_progress_report (progress, done, g_array_index (sizes, guint64, sizes->len - 1));

      shard_metadata = st_file_peek_metadata (shard);
      if (shard_metadata != NULL)
        {
          any_metadata = TRUE;
          g_hash_table_iter_init (&iter, shard_metadata);
          while (g_hash_table_iter_next (&iter, &key, &value))
            if (!g_hash_table_contains (metadata, key))
              g_hash_table_insert (metadata, key, value);
        }
    }

  g_hash_table_iter_init (&iter, self->string_metadata);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (metadata, key))
      g_hash_table_insert (metadata, key, value);

  /* Set the values while the shards, which own the strings, are alive. */
  if (any_metadata)
    {
      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        st_file_set_metadata_value (merged, key, value);
    }

  return g_steal_pointer (&merged);
}

/* Opening and merging in a worker thread, with progress on the caller's main context */

typedef struct {
  char       *path;      /* for an open */
  StProgress *progress;
} IndexJob;

static void
index_job_free (gpointer data)
{
  IndexJob *job = data;

  g_free (job->path);
  st_progress_free (job->progress);
  g_free (job);
}

static GTask *
index_task_new (gpointer              source_object,
                GCancellable         *cancellable,
                const char           *path,
                STProgressFunc        progress,
                gpointer              progress_data,
                GDestroyNotify        progress_notify,
                GAsyncReadyCallback   callback,
                gpointer              user_data,
                gpointer              source_tag)
{
  GTask *task = g_task_new (source_object, cancellable, callback, user_data);
  IndexJob *job = g_new0 (IndexJob, 1);

  g_task_set_source_tag (task, source_tag);
  job->path = g_strdup (path);
  job->progress = st_progress_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, job, index_job_free);
  return task;
}

/* Opens and checks every shard, reporting the bytes of the shards opened so far. */
static gboolean
open_all_shards (STIndex       *self,
                 GCancellable  *cancellable,
                 StProgress    *progress,
                 GError       **error)
{
  g_autoptr(GArray) sizes = shard_file_sizes (self);
  guint64 total = g_array_index (sizes, guint64, sizes->len - 1);
  guint64 done = 0;

  st_progress_report (progress, 0, total);
  for (guint i = 0; self->shard_names[i] != NULL; i++)
    {
      if (!st_index_validate_shard (self, self->shard_names[i], cancellable, error))
        return FALSE;
      done += g_array_index (sizes, guint64, i);
      st_progress_report (progress, done, total);
    }
  return TRUE;
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  IndexJob *job = task_data;
  GError *error = NULL;
  g_autoptr(STIndex) index = st_index_new_from_path (job->path, cancellable, &error);
  gboolean ok = index != NULL && open_all_shards (index, cancellable, job->progress, &error);

  /* No report follows: the caller's progress data is released before the result reaches it. */
  g_clear_pointer (&job->progress, st_progress_free);
  if (!ok)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&index), g_object_unref);
}

/**
 * st_index_new_from_path_async:
 * @index_path: (type filename): the path of the index file
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called on the thread-default main context of the caller as the shards are
 *   opened, with the bytes of the shard files opened so far and in all
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data, on the same main context,
 *   after the last report
 * @callback: (scope async) (closure user_data): called when the index is open
 * @user_data: data for @callback
 *
 * Opens an index in a worker thread, as [ctor@ST.Index.new_from_path] does,
 * then opens and checks every shard as [method@ST.Index.validate_shard] does
 * (their headers only: the tensor data is mapped, not read), so that the
 * items of the index's list model carry every tensor's dtype, shape and
 * offsets without I/O in the caller's thread.
 *
 * Progress is reported on the caller's main context, never from the worker:
 * first 0 of the total, then after each shard; every report comes before
 * @callback runs. A progress bar is driven with `done / total` (the total is
 * 0 for an index without shards).
 *
 * Since: 1.0
 */
void
st_index_new_from_path_async (const char          *index_path,
                              GCancellable        *cancellable,
                              STProgressFunc       progress,
                              gpointer             progress_data,
                              GDestroyNotify       progress_notify,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (index_path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = index_task_new (NULL, cancellable, index_path, progress, progress_data, progress_notify,
                         callback, user_data, st_index_new_from_path_async);
  g_task_run_in_thread (task, open_thread);
}

/**
 * st_index_new_from_path_finish:
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@ST.Index.new_from_path_async].
 *
 * Returns: (transfer full): the index with all its shards open, or %NULL with
 *   @error set: any error of [ctor@ST.Index.new_from_path] or
 *   [method@ST.Index.validate_shard], or `G_IO_ERROR_CANCELLED`
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

static void
merge_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  IndexJob *job = task_data;
  GError *error = NULL;
  STFile *merged = merge_shards (ST_INDEX (source_object), cancellable, job->progress, &error);

  g_clear_pointer (&job->progress, st_progress_free);
  if (merged == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, merged, g_object_unref);
}

/**
 * st_index_merge_async:
 * @self: an index
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called on the thread-default main context of the caller after each shard,
 *   with the bytes of the shard files merged so far and in all
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data, on the same main context,
 *   after the last report
 * @callback: (scope async) (closure user_data): called when the merge is done
 * @user_data: data for @callback
 *
 * Does what [method@ST.Index.merge] does, in a worker thread, reporting
 * progress as [func@ST.Index.new_from_path_async] does.
 *
 * Since: 1.0
 */
void
st_index_merge_async (STIndex             *self,
                      GCancellable        *cancellable,
                      STProgressFunc       progress,
                      gpointer             progress_data,
                      GDestroyNotify       progress_notify,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (ST_IS_INDEX (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = index_task_new (self, cancellable, NULL, progress, progress_data, progress_notify,
                         callback, user_data, st_index_merge_async);
  g_task_run_in_thread (task, merge_thread);
}

/**
 * st_index_merge_finish:
 * @self: an index
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.Index.merge_async].
 *
 * Returns: (transfer full): a new file with all the tensors, or %NULL with
 *   @error set as [method@ST.Index.merge] sets it, or `G_IO_ERROR_CANCELLED`
 *
 * Since: 1.0
 */
STFile *
st_index_merge_finish (STIndex       *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (ST_IS_INDEX (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_index_merge_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The list model: one STTensorInfo per tensor of the weight map, sorted by name */

static GType
st_index_get_item_type (GListModel *model)
{
  return ST_TYPE_TENSOR_INFO;
}

static guint
st_index_get_n_items (GListModel *model)
{
  return g_strv_length (ST_INDEX (model)->names);
}

/* The item of the tensor @name, from its shard; an item with only the name and shard when the
 * shard cannot be opened (not kept: a later call tries again). */
static STTensorInfo *
make_item (STIndex    *self,
           const char *name,
           gboolean   *out_complete)
{
  const char *shard_name = g_hash_table_lookup (self->weight_map, name);
  STFile *shard = st_index_get_shard (self, shard_name, NULL);
  STTensor *tensor = shard != NULL ? st_file_get_tensor (shard, name) : NULL;
  guint64 begin = 0, end = 0;
  const gint64 *shape;
  guint n_dims = 0;

  *out_complete = tensor != NULL;
  if (tensor == NULL)
    return st_tensor_info_new_unavailable (name, shard_name);

  shape = st_tensor_get_shape (tensor, &n_dims);
  st_file_get_tensor_offsets (shard, name, &begin, &end);
  return st_tensor_info_new (name, st_tensor_get_dtype (tensor), shape, n_dims,
                             (gint64) begin, (gint64) end, shard_name);
}

static gpointer
st_index_get_item (GListModel *model,
                   guint       position)
{
  STIndex *self = ST_INDEX (model);
  STTensorInfo *item;
  gboolean complete;

  if (self->items == NULL || position >= g_strv_length (self->names))
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
