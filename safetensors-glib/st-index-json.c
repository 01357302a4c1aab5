/* st-index-json.c: the JSON of an index (model.safetensors.index.json), read and written
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include <string.h>

#include <json-glib/json-glib.h>

#include "st-error.h"
#include "st-index-json-private.h"
#include "st-json-string-private.h"
#include "st-sniff-private.h"

/* An index lists a name and a shard per tensor: 256 MiB is millions of tensors, and bounds the memory
 * a hostile index can make the parser take. */

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
load_metadata (StIndexJson *self,
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
load_weight_map (StIndexJson *self,
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

static StIndexJson *
index_json_new (void)
{
  StIndexJson *self = g_new0 (StIndexJson, 1);

  self->weight_map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->shard_tensors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_ptr_array_unref);
  self->names = g_new0 (char *, 1);
  self->shard_names = g_new0 (char *, 1);
  self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->string_metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
st_index_json_free (StIndexJson *json)
{
  if (json == NULL)
    return;
  /* shard_tensors points into weight_map's keys: it goes first. */
  g_clear_pointer (&json->shard_tensors, g_hash_table_unref);
  g_clear_pointer (&json->weight_map, g_hash_table_unref);
  g_clear_pointer (&json->names, g_strfreev);
  g_clear_pointer (&json->shard_names, g_strfreev);
  g_clear_pointer (&json->metadata, g_hash_table_unref);
  g_clear_pointer (&json->string_metadata, g_hash_table_unref);
  g_free (json);
}

StIndexJson *
st_index_json_read (const char    *index_path,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autofree char *display_name = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

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
  return st_index_json_parse (contents, length, display_name, error);
}

StIndexJson *
st_index_json_parse (const char  *contents,
                     gsize        length,
                     const char  *display_name,
                     GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) json_error = NULL;
  g_autoptr(StIndexJson) self = NULL;
  JsonNode *root;
  StSniffKind kind;

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

  self = index_json_new ();
  if (!load_metadata (self, json_node_get_object (root), display_name, error) ||
      !load_weight_map (self, json_node_get_object (root), display_name, error))
    return NULL;
  return g_steal_pointer (&self);
}


/* json.dumps (index, indent=2, sort_keys=True) + "\n", as transformers writes the index. */
char *
st_index_json_format (GHashTable *metadata,
                      guint64     total_size,
                      GPtrArray  *names,
                      GPtrArray  *name_shards)
{
  g_autoptr(GString) out = g_string_new ("{\n  \"metadata\": {");

  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  if (metadata != NULL)
    {
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (strcmp (key, ST_INDEX_TOTAL_SIZE_KEY) != 0)
          g_ptr_array_add (keys, key);
    }
  g_ptr_array_add (keys, (gpointer) ST_INDEX_TOTAL_SIZE_KEY);
  g_ptr_array_sort (keys, st_compare_strings);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);
      g_string_append (out, i > 0 ? ",\n    " : "\n    ");
      st_json_append_string (out, key, TRUE);
      g_string_append (out, ": ");
      if (strcmp (key, ST_INDEX_TOTAL_SIZE_KEY) == 0)
        g_string_append_printf (out, "%" G_GUINT64_FORMAT, total_size);
      else
        st_json_append_string (out, g_hash_table_lookup (metadata, key), TRUE);
    }
  g_string_append (out, "\n  },\n  \"weight_map\": {");

  /* @names is sorted; name_shards[i] is the shard of names[i]. */
  for (guint i = 0; i < names->len; i++)
    {
      g_string_append (out, i > 0 ? ",\n    " : "\n    ");
      st_json_append_string (out, g_ptr_array_index (names, i), TRUE);
      g_string_append (out, ": ");
      st_json_append_string (out, g_ptr_array_index (name_shards, i), TRUE);
    }
  g_string_append (out, names->len > 0 ? "\n  }\n}\n" : "}\n}\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}
