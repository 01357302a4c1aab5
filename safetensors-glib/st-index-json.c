/* st-index-json.c: the JSON of an index (model.safetensors.index.json), read and written
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include <stdarg.h>
#include <string.h>

#include "st-error.h"
#include "st-index-json-private.h"
#include "st-json-string-private.h"
#include "st-json-value-private.h"
#include "st-name-index-private.h"
#include "st-scanner-private.h"
#include "st-sniff-private.h"

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

/* An index needs three levels of nesting; metadata written by other tools may nest a few more. The
 * limit is checked over the raw text (strings skipped) before it is read, so that an index nested too
 * deep is named so whatever else is wrong with it. */
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

/* One member of the weight map, as read. */
typedef struct {
  char    *name;          /* NUL-terminated; the text before a \u0000 when name_has_nul */
  gboolean name_has_nul;
  char    *shard;         /* NULL when the value is not a string */
  gboolean shard_has_nul;
} WeightEntry;

typedef enum {
  SIZE_ABSENT,
  SIZE_VALID,
  SIZE_INVALID,
} SizeState;

/* What one strict pass over the text of an index found, before it is checked. Of members that occur
 * more than once (in the document, in "metadata" or in "weight_map") the last one counts, as with
 * Python's json module and json-glib; the weight map keeps the order in which names first occur. */
typedef struct {
  StScanner   sc;
  gboolean    metadata_not_object;
  GHashTable *metadata;          /* as StIndexJson.metadata, total_size aside */
  GHashTable *string_metadata;
  SizeState   size_state;
  guint64     total_size;
  gboolean    has_weight_map;
  gboolean    weight_map_not_object;
  GArray     *entries;           /* WeightEntry, in the order names first occur */
  GHashTable *entry_of_name;     /* name (borrowed from entries) -> its index + 1; empty while
                                  * names_increasing */
  gboolean    names_increasing;  /* each name so far came after the one before (as transformers
                                  * writes them): none can be a repeat, and no table is needed */
  const char *last_name;         /* the last of them (borrowed from entries) */
} IndexReader;

static void
weight_entry_clear (gpointer data)
{
  WeightEntry *entry = data;

  g_free (entry->name);
  g_free (entry->shard);
}

/* A string just read, as a C string; *@out_has_nul when it held \u0000 (the text before it is kept). */
static char *
string_dup (const StJsonString *str,
            gboolean           *out_has_nul)
{
  *out_has_nul = str->has_nul || memchr (str->data, '\0', str->len) != NULL;
  return g_strndup (str->data, str->len);
}

/* Reads the string at sc->p (after whitespace) into a new C string. */
static gboolean
read_string (StScanner  *sc,
             char      **out_text,
             gboolean   *out_has_nul)
{
  StJsonString str;

  st_scanner_skip_ws (sc);
  if (sc->p >= sc->end || *sc->p != '"')
    return st_scanner_fail_expected (sc, "a string key");
  if (!st_scanner_parse_string (sc, &str))
    return FALSE;
  *out_text = string_dup (&str, out_has_nul);
  return TRUE;
}

static void
forget_metadata (IndexReader *rd)
{
  g_hash_table_remove_all (rd->metadata);
  g_hash_table_remove_all (rd->string_metadata);
  rd->size_state = SIZE_ABSENT;
  rd->metadata_not_object = FALSE;
}

/* The value of total_size, at sc->p: a non-negative JSON integer, or a string of decimal digits (which
 * huggingface_hub never writes, but some hand-made indexes do). */
static gboolean
read_total_size (IndexReader *rd)
{
  StScanner *sc = &rd->sc;

  rd->size_state = SIZE_INVALID;
  if (*sc->p == '"')
    {
      StJsonString str;
      g_autofree char *text = NULL;
      gboolean has_nul;

      if (!st_scanner_parse_string (sc, &str))
        return FALSE;
      text = string_dup (&str, &has_nul);
      if (!has_nul && text[0] != '\0' &&
          g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &rd->total_size, NULL))
        rd->size_state = SIZE_VALID;
      return TRUE;
    }
  if (*sc->p == '-' || st_scanner_is_digit (*sc->p))
    {
      StJsonNumber number;

      if (!st_scanner_parse_number (sc, &number))
        return FALSE;
      if (number.is_integer && !number.overflow && (!number.negative || number.value == 0))
        {
          rd->total_size = number.value;
          rd->size_state = SIZE_VALID;
        }
      return TRUE;
    }
  return st_json_skip_value (sc, NULL, 2);
}

/* The value of the metadata member @key (owned; NULL when it held \u0000, which no C string can
 * hold), at sc->p: strings and integers are kept as text, anything else carries nothing a string map
 * can hold. */
static gboolean
read_metadata_value (IndexReader *rd,
                     char        *key)
{
  StScanner *sc = &rd->sc;
  g_autofree char *owned_key = key;

  if (key != NULL && strcmp (key, ST_INDEX_TOTAL_SIZE_KEY) == 0)
    return read_total_size (rd);

  if (*sc->p == '"')
    {
      StJsonString str;
      gboolean has_nul;
      char *text;

      if (!st_scanner_parse_string (sc, &str))
        return FALSE;
      if (key == NULL)
        return TRUE;
      text = string_dup (&str, &has_nul);
      if (has_nul)
        {
          g_free (text);
          g_hash_table_remove (rd->metadata, key);
          g_hash_table_remove (rd->string_metadata, key);
          return TRUE;
        }
      g_hash_table_replace (rd->string_metadata, g_strdup (key), g_strdup (text));
      g_hash_table_replace (rd->metadata, g_steal_pointer (&owned_key), text);
      return TRUE;
    }

  if (*sc->p == '-' || st_scanner_is_digit (*sc->p))
    {
      StJsonNumber number;

      if (!st_scanner_parse_number (sc, &number))
        return FALSE;
      if (key == NULL)
        return TRUE;
      g_hash_table_remove (rd->string_metadata, key);
      if (number.is_integer && !number.overflow &&
          (!number.negative || number.value <= (guint64) G_MAXINT64 + 1))
        g_hash_table_replace (rd->metadata, g_steal_pointer (&owned_key),
                              g_strdup_printf ("%s%" G_GUINT64_FORMAT,
                                               number.negative && number.value != 0 ? "-" : "",
                                               number.value));
      else
        g_hash_table_remove (rd->metadata, key);
      return TRUE;
    }

  if (!st_json_skip_value (sc, NULL, 2))
    return FALSE;
  if (key != NULL)
    {
      g_hash_table_remove (rd->metadata, key);
      g_hash_table_remove (rd->string_metadata, key);
    }
  return TRUE;
}

/* The value of a "metadata" member, at sc->p: an object, or null (as if there were none). */
static gboolean
read_metadata (IndexReader *rd)
{
  StScanner *sc = &rd->sc;
  gboolean closed = FALSE;

  forget_metadata (rd);
  if (st_scanner_accept_literal (sc, "null", 4))
    return TRUE;
  if (*sc->p != '{')
    {
      rd->metadata_not_object = TRUE;
      return st_json_skip_value (sc, NULL, 1);
    }

  sc->p++;
  if (st_scanner_accept_char (sc, '}'))
    return TRUE;
  while (!closed)
    {
      char *key = NULL;
      gboolean has_nul = FALSE;

      if (!read_string (sc, &key, &has_nul))
        return FALSE;
      if (has_nul)
        g_clear_pointer (&key, g_free);
      if (!st_scanner_expect_char (sc, ':', "‘:’"))
        {
          g_free (key);
          return FALSE;
        }
      st_scanner_skip_ws (sc);
      if (sc->p >= sc->end)
        {
          g_free (key);
          return st_scanner_fail_expected (sc, "a JSON value");
        }
      if (!read_metadata_value (rd, key))
        return FALSE;
      if (!st_scanner_next_or_close (sc, '}', &closed))
        return FALSE;
    }
  return TRUE;
}

/* The value of a "weight_map" member, at sc->p. */
static gboolean
read_weight_map (IndexReader *rd)
{
  StScanner *sc = &rd->sc;
  gboolean closed = FALSE;

  g_hash_table_remove_all (rd->entry_of_name);
  g_array_set_size (rd->entries, 0);
  rd->names_increasing = TRUE;
  rd->last_name = NULL;
  rd->has_weight_map = TRUE;
  rd->weight_map_not_object = *sc->p != '{';
  if (rd->weight_map_not_object)
    return st_json_skip_value (sc, NULL, 1);

  sc->p++;
  if (st_scanner_accept_char (sc, '}'))
    return TRUE;
  while (!closed)
    {
      WeightEntry entry = { NULL, FALSE, NULL, FALSE };
      gpointer found;

      if (!read_string (sc, &entry.name, &entry.name_has_nul))
        return FALSE;
      if (!st_scanner_expect_char (sc, ':', "‘:’"))
        {
          weight_entry_clear (&entry);
          return FALSE;
        }
      st_scanner_skip_ws (sc);
      if (sc->p < sc->end && *sc->p == '"')
        {
          StJsonString str;

          if (!st_scanner_parse_string (sc, &str))
            {
              weight_entry_clear (&entry);
              return FALSE;
            }
          entry.shard = string_dup (&str, &entry.shard_has_nul);
        }
      else if (!st_json_skip_value (sc, NULL, 2))
        {
          weight_entry_clear (&entry);
          return FALSE;
        }

      /* A name that holds \u0000 is never a tensor's: it stays apart, for the check to reject */
      if (entry.name_has_nul ||
          (rd->names_increasing && (rd->last_name == NULL || strcmp (rd->last_name, entry.name) < 0)))
        found = NULL;
      else
        {
          if (rd->names_increasing)
            {
              /* the first name out of order: from here on, the table of the names so far */
              for (guint j = 0; j < rd->entries->len; j++)
                {
                  WeightEntry *earlier = &g_array_index (rd->entries, WeightEntry, j);

                  if (!earlier->name_has_nul)
                    g_hash_table_insert (rd->entry_of_name, earlier->name, GUINT_TO_POINTER (j + 1));
                }
              rd->names_increasing = FALSE;
            }
          found = g_hash_table_lookup (rd->entry_of_name, entry.name);
        }
      if (found != NULL)
        {
          WeightEntry *kept = &g_array_index (rd->entries, WeightEntry, GPOINTER_TO_UINT (found) - 1);

          g_free (kept->shard);
          kept->shard = g_steal_pointer (&entry.shard);
          kept->shard_has_nul = entry.shard_has_nul;
          weight_entry_clear (&entry);
        }
      else
        {
          g_array_append_val (rd->entries, entry);
          if (entry.name_has_nul)
            ;
          else if (rd->names_increasing)
            rd->last_name = entry.name;
          else
            g_hash_table_insert (rd->entry_of_name, entry.name, GUINT_TO_POINTER (rd->entries->len));
        }

      if (!st_scanner_next_or_close (sc, '}', &closed))
        return FALSE;
    }
  return TRUE;
}

/* The whole text: one JSON object, strictly (RFC 8259), and nothing after it. FALSE with sc.error set
 * when it is not JSON; *@out_is_object is FALSE when it is JSON but not an object. */
static gboolean
read_document (IndexReader *rd,
               gboolean    *out_is_object)
{
  StScanner *sc = &rd->sc;
  gboolean closed = FALSE;

  *out_is_object = FALSE;
  st_scanner_skip_ws (sc);
  if (sc->p >= sc->end || *sc->p != '{')
    {
      if (!st_json_skip_value (sc, NULL, 0))
        return FALSE;
    }
  else
    {
      *out_is_object = TRUE;
      sc->p++;
      closed = st_scanner_accept_char (sc, '}');
      while (!closed)
        {
          StJsonString key;
          enum { OTHER, METADATA, WEIGHT_MAP } member;

          st_scanner_skip_ws (sc);
          if (sc->p >= sc->end || *sc->p != '"')
            return st_scanner_fail_expected (sc, "a string key");
          if (!st_scanner_parse_string (sc, &key))
            return FALSE;
          if (st_scanner_str_equal (&key, "metadata", 8))
            member = METADATA;
          else if (st_scanner_str_equal (&key, "weight_map", 10))
            member = WEIGHT_MAP;
          else
            member = OTHER;
          if (!st_scanner_expect_char (sc, ':', "‘:’"))
            return FALSE;
          st_scanner_skip_ws (sc);
          if (sc->p >= sc->end)
            return st_scanner_fail_expected (sc, "a JSON value");
          if (member == METADATA ? !read_metadata (rd) :
              member == WEIGHT_MAP ? !read_weight_map (rd) :
              !st_json_skip_value (sc, NULL, 1))
            return FALSE;
          if (!st_scanner_next_or_close (sc, '}', &closed))
            return FALSE;
        }
    }

  st_scanner_skip_ws (sc);
  if (sc->p < sc->end)
    return st_scanner_fail_expected (sc, "the end of the index");
  return TRUE;
}

/* The checks of what was read, in the order json-glib's loader made them: the metadata, then the
 * weight map in the order of its names. */
static gboolean
check_metadata (IndexReader *rd,
                StIndexJson *self,
                const char  *display_name,
                GError     **error)
{
  if (rd->metadata_not_object)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The \"metadata\" member is not an object", display_name);
      return FALSE;
    }
  if (rd->size_state == SIZE_INVALID)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The \"total_size\" of the metadata is not a non-negative integer", display_name);
      return FALSE;
    }

  g_clear_pointer (&self->metadata, g_hash_table_unref);
  g_clear_pointer (&self->string_metadata, g_hash_table_unref);
  self->metadata = g_steal_pointer (&rd->metadata);
  self->string_metadata = g_steal_pointer (&rd->string_metadata);
  if (rd->size_state == SIZE_VALID)
    {
      self->has_total_size = TRUE;
      self->total_size = rd->total_size;
      g_hash_table_replace (self->metadata, g_strdup (ST_INDEX_TOTAL_SIZE_KEY),
                            g_strdup_printf ("%" G_GUINT64_FORMAT, self->total_size));
    }
  return TRUE;
}

/* Sorts @strings by strcmp(), in one pass when they are sorted already (transformers writes an
 * index's names sorted, and a shard's names then come sorted too). */
static void
sort_strings (GPtrArray *strings)
{
  for (guint i = 1; i < strings->len; i++)
    if (strcmp (g_ptr_array_index (strings, i - 1), g_ptr_array_index (strings, i)) > 0)
      {
        g_ptr_array_sort (strings, st_compare_strings);
        return;
      }
}

static gboolean
check_weight_map (IndexReader *rd,
                  StIndexJson *self,
                  const char  *display_name,
                  GError     **error)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) shard_names = g_ptr_array_new ();
  GHashTableIter shards_iter;
  gpointer members;
  GPtrArray *shard_members = NULL;
  const char *shard = NULL;

  if (!rd->has_weight_map)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The index has no \"weight_map\" object", display_name);
      return FALSE;
    }
  if (rd->weight_map_not_object)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                   "%s: The \"weight_map\" member is not an object", display_name);
      return FALSE;
    }

  /* The names need no UTF-8 check of their own: the whole text was validated, and the scanner
   * decodes escapes to valid code points only (a lone surrogate is an error). A shard's name is
   * checked once for a run of names in the same shard (an index lists a shard's names together). */
  for (guint i = 0; i < rd->entries->len; i++)
    {
      WeightEntry *entry = &g_array_index (rd->entries, WeightEntry, i);
      const WeightEntry *previous = i > 0 ? &g_array_index (rd->entries, WeightEntry, i - 1) : NULL;

      if (entry->shard == NULL)
        {
          g_autofree char *shown_name = g_utf8_make_valid (entry->name, -1);

          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                       "%s: The shard of tensor “%s” is not a string", display_name, shown_name);
          return FALSE;
        }
      if (entry->shard_has_nul ||
          ((previous == NULL || strcmp (entry->shard, previous->shard) != 0) && !st_is_plain_file_name (entry->shard)))
        {
          g_autofree char *shown_name = g_utf8_make_valid (entry->name, -1);
          g_autofree char *shown_shard = g_utf8_make_valid (entry->shard, -1);

          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                       "%s: The shard “%s” of tensor “%s” is not a plain file name in the index's directory",
                       display_name, shown_shard, shown_name);
          return FALSE;
        }
      if (entry->name_has_nul || strcmp (entry->name, "__metadata__") == 0)
        {
          g_autofree char *shown_name = g_utf8_make_valid (entry->name, -1);

          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX,
                       "%s: “%s” cannot be the name of a tensor", display_name, shown_name);
          return FALSE;
        }
    }

  /* Every name is now distinct and every shard a plain file name: the tables take them over */
  names = g_ptr_array_new_full (rd->entries->len + 1, NULL);
  for (guint i = 0; i < rd->entries->len; i++)
    {
      WeightEntry *entry = &g_array_index (rd->entries, WeightEntry, i);
      char *name = g_steal_pointer (&entry->name);

      /* a run of names in one shard looks its table up once */
      if (shard_members == NULL || strcmp (entry->shard, shard) != 0)
        shard_members = g_hash_table_lookup (self->shard_tensors, entry->shard);
      if (shard_members == NULL)
        {
          shard_members = g_ptr_array_new ();
          g_hash_table_insert (self->shard_tensors, g_strdup (entry->shard), shard_members);
          g_ptr_array_add (shard_names, g_strdup (entry->shard));
        }
      shard = entry->shard;  /* owned by weight_map from here on */
      g_hash_table_insert (self->weight_map, name, g_steal_pointer (&entry->shard));
      g_ptr_array_add (shard_members, name);
      g_ptr_array_add (names, g_strdup (name));
    }

  g_hash_table_iter_init (&shards_iter, self->shard_tensors);
  while (g_hash_table_iter_next (&shards_iter, NULL, &members))
    sort_strings (members);

  sort_strings (names);
  g_ptr_array_add (names, NULL);
  g_strfreev (self->names);
  self->names = (char **) g_ptr_array_steal (names, NULL);

  sort_strings (shard_names);
  g_ptr_array_add (shard_names, NULL);
  g_strfreev (self->shard_names);
  self->shard_names = (char **) g_ptr_array_steal (shard_names, NULL);
  return TRUE;
}

/* The tables of an index are keyed by names from its file: with st_name_hash(), keyed per process,
 * so that no file can make its names collide (g_str_hash() would let it). */
static GHashTable *
name_table_new (GDestroyNotify value_destroy)
{
  return g_hash_table_new_full (st_name_hash, g_str_equal, g_free, value_destroy);
}

static StIndexJson *
index_json_new (void)
{
  StIndexJson *self = g_new0 (StIndexJson, 1);

  self->weight_map = name_table_new (g_free);
  self->shard_tensors = name_table_new ((GDestroyNotify) g_ptr_array_unref);
  self->names = g_new0 (char *, 1);
  self->shard_names = g_new0 (char *, 1);
  self->metadata = name_table_new (g_free);
  self->string_metadata = name_table_new (g_free);
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

static void
index_reader_init (IndexReader *rd,
                   const char  *text,
                   gsize        length,
                   GError     **error)
{
  memset (rd, 0, sizeof *rd);
#ifdef HAVE_SSE2
  rd->sc.simd = TRUE;
#endif
  rd->sc.start = (const guint8 *) text;
  rd->sc.p = rd->sc.start;
  rd->sc.end = rd->sc.start + length;
  rd->sc.validated = rd->sc.end;  /* the caller validated the UTF-8 of the whole text */
  rd->sc.scratch = g_string_new (NULL);
  rd->sc.error = error;
  rd->sc.subject = "index";
  rd->metadata = name_table_new (g_free);
  rd->string_metadata = name_table_new (g_free);
  rd->entries = g_array_new (FALSE, FALSE, sizeof (WeightEntry));
  g_array_set_clear_func (rd->entries, weight_entry_clear);
  rd->entry_of_name = g_hash_table_new (st_name_hash, g_str_equal);
}

static void
index_reader_clear (IndexReader *rd)
{
  g_string_free (rd->sc.scratch, TRUE);
  g_clear_pointer (&rd->metadata, g_hash_table_unref);
  g_clear_pointer (&rd->string_metadata, g_hash_table_unref);
  g_clear_pointer (&rd->entry_of_name, g_hash_table_unref);
  g_clear_pointer (&rd->entries, g_array_unref);
}

/* The text is no index: sniffed only now, to say what it is when the bytes prove it. */
static void
fail_not_json (GError     **error,
               const char  *contents,
               gsize        length,
               const char  *display_name,
               const char  *format,
               ...) G_GNUC_PRINTF (5, 6);

static void
fail_not_json (GError     **error,
               const char  *contents,
               gsize        length,
               const char  *display_name,
               const char  *format,
               ...)
{
  StSniffKind kind = st_sniff_bytes ((const guint8 *) contents, length, length);
  g_autofree char *message = NULL;
  va_list args;

  if (kind == ST_SNIFF_GIT_LFS_POINTER || kind == ST_SNIFF_HTML || kind == ST_SNIFF_ZIP ||
      kind == ST_SNIFF_PICKLE || kind == ST_SNIFF_GGUF)
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX, "%s: It is %s, not the index of a sharded checkpoint",
                   display_name, st_sniff_describe (kind));
      return;
    }

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX, "%s: %s", display_name, message);
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
  g_autoptr(GError) json_error = NULL;
  g_autoptr(StIndexJson) self = NULL;
  IndexReader rd;
  gboolean is_json;
  gboolean is_object;

  if (!g_utf8_validate_len (contents, length, NULL))
    {
      fail_not_json (error, contents, length, display_name, "The index is not UTF-8 text");
      return NULL;
    }

  if (!nesting_within_limit (contents, length))
    {
      fail_not_json (error, contents, length, display_name,
                     "The index nests arrays or objects more than %u deep", ST_MAX_INDEX_DEPTH);
      return NULL;
    }

  index_reader_init (&rd, contents, length, &json_error);
  is_json = read_document (&rd, &is_object);
  if (!is_json || !is_object)
    {
      index_reader_clear (&rd);
      if (!is_json)
        fail_not_json (error, contents, length, display_name, "The index is not valid JSON: %s", json_error->message);
      else
        fail_not_json (error, contents, length, display_name, "The index is not a JSON object");
      return NULL;
    }

  self = index_json_new ();
  if (!check_metadata (&rd, self, display_name, error) ||
      !check_weight_map (&rd, self, display_name, error))
    {
      index_reader_clear (&rd);
      return NULL;
    }
  index_reader_clear (&rd);
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
