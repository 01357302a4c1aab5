/* st-tool-values.c: tensor values decoded per dtype; the dump and diff subcommands
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Values come from the library's conversion (st_tensor_dup_values_as_double(), which documents the
 * small float formats); what stays here is formatting: the shortest text that reads back as each value,
 * which for the small floats needs the gap to the neighbouring bit patterns. I64 and U64 are printed from
 * their bytes, exactly (a double rounds them beyond 2^53); C64 is two F32 read here, since a complex
 * number has no single real value to convert to. F6_E2M3 and F6_E3M2 have no defined packing: they are
 * shown as their packed bytes.
 */
#include <math.h>
#include <string.h>

#include "st-tool.h"

gboolean
st_tool_dtype_is_float (STDType dtype)
{
  switch (dtype)
    {
    case ST_DTYPE_F4:
    case ST_DTYPE_F8_E5M2:
    case ST_DTYPE_F8_E4M3:
    case ST_DTYPE_F8_E8M0:
    case ST_DTYPE_F8_E4M3FNUZ:
    case ST_DTYPE_F8_E5M2FNUZ:
    case ST_DTYPE_F16:
    case ST_DTYPE_BF16:
    case ST_DTYPE_F32:
    case ST_DTYPE_F64:
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
st_tool_dtype_is_numeric (STDType dtype)
{
  return dtype != ST_DTYPE_C64 && dtype != ST_DTYPE_F6_E2M3 && dtype != ST_DTYPE_F6_E3M2;
}

static inline guint16
read_u16 (const guint8 *data,
          guint64       i)
{
  guint16 v;
  memcpy (&v, data + i * 2, sizeof v);
  return GUINT16_FROM_LE (v);
}

static inline guint32
read_u32 (const guint8 *data,
          guint64       i)
{
  guint32 v;
  memcpy (&v, data + i * 4, sizeof v);
  return GUINT32_FROM_LE (v);
}

static inline guint64
read_u64 (const guint8 *data,
          guint64       i)
{
  guint64 v;
  memcpy (&v, data + i * 8, sizeof v);
  return GUINT64_FROM_LE (v);
}

static float
read_f32 (const guint8 *data,
          guint64       i)
{
  guint32 bits = read_u32 (data, i);
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

/* The values of elements [@start, @start + @count) of @tensor as doubles, converted by the library; for
 * C64, the real parts (the imaginary ones are read with read_f32 (data, 2 * i + 1)). */
static double *
tensor_values (STTensor *tensor,
               guint64   start,
               guint64   count)
{
  gsize n = 0;

  if (st_tensor_get_dtype (tensor) == ST_DTYPE_C64)
    {
      const guint8 *data = st_tensor_get_data (tensor, NULL);
      double *values = g_new (double, MAX (count, 1));
      for (guint64 i = 0; i < count; i++)
        values[i] = read_f32 (data, 2 * (start + i));
      return values;
    }
  /* The caller asks for numeric dtypes and elements that exist: this cannot fail. */
  return st_tensor_dup_values_as_double (tensor, start, count, &n, NULL);
}

/* The raw bits of element @i of a float of 16 bits or fewer, with the masks of its sign and magnitude. */
static gboolean
small_float_bits (STDType       dtype,
                  const guint8 *data,
                  guint64       i,
                  guint        *bits,
                  guint        *sign_mask,
                  guint        *magnitude_mask)
{
  switch (dtype)
    {
    case ST_DTYPE_F16:
    case ST_DTYPE_BF16:
      *bits = read_u16 (data, i);
      *sign_mask = 0x8000;
      *magnitude_mask = 0x7fff;
      return TRUE;
    case ST_DTYPE_F8_E5M2:
    case ST_DTYPE_F8_E4M3:
    case ST_DTYPE_F8_E4M3FNUZ:
    case ST_DTYPE_F8_E5M2FNUZ:
      *bits = data[i];
      *sign_mask = 0x80;
      *magnitude_mask = 0x7f;
      return TRUE;
    case ST_DTYPE_F8_E8M0:
      *bits = data[i];
      *sign_mask = 0;
      *magnitude_mask = 0xff;
      return TRUE;
    case ST_DTYPE_F4:
      *bits = (data[i / 2] >> ((i % 2) * 4)) & 0xf;
      *sign_mask = 0x8;
      *magnitude_mask = 0x7;
      return TRUE;
    default:
      return FALSE;
    }
}

/* The value of the bit pattern @bits of a small float, converted by the library. */
static double
decode_small_float (STDType dtype,
                    guint   bits)
{
  guint8 raw[2] = { (guint8) (bits & 0xff), (guint8) (bits >> 8) };
  gint64 n_elements = dtype == ST_DTYPE_F4 ? 2 : 1;  /* F4 fills whole bytes two at a time */
  g_autoptr(GBytes) bytes = g_bytes_new (raw, st_dtype_get_bits (dtype) == 16 ? 2 : 1);
  g_autoptr(STTensor) tensor = st_tensor_new (dtype, &n_elements, 1, bytes, NULL);
  g_autofree double *value = tensor_values (tensor, 0, 1);

  return value[0];
}

/* Half the distance from the value of @bits to its nearest neighbour in its format: any number
 * closer than that reads back as this value. */
static double
half_gap (STDType dtype,
          guint   bits,
          guint   sign_mask,
          guint   magnitude_mask)
{
  double value = decode_small_float (dtype, bits);
  guint magnitude = bits & magnitude_mask, sign = bits & sign_mask;
  double gap = INFINITY;
  if (magnitude < magnitude_mask)
    {
      double up = decode_small_float (dtype, sign | (magnitude + 1));
      if (isfinite (up))
        gap = fabs (up - value);
    }
  if (magnitude > 0 || sign_mask != 0)
    {
      guint down_bits = magnitude > 0 ? (sign | (magnitude - 1)) : ((sign ^ sign_mask) | 1);
      double down = decode_small_float (dtype, down_bits);
      if (isfinite (down))
        gap = MIN (gap, fabs (value - down));
    }
  return gap / 2;
}

/* The shortest text that reads back as the same value: as a float for F32 (0.1, not 0.100000001),
 * as a double for F64, and for the smaller floats, any text nearer to the value than to the next one
 * of its format (@tolerance, when not negative: F16 0.0999755859375 prints as 0.1). */
static char *
format_float (double  value,
              STDType dtype,
              double  tolerance)
{
  if (isnan (value))
    return g_strdup ("nan");
  if (isinf (value))
    return g_strdup (value > 0 ? "inf" : "-inf");

  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  char format[8];
  int precision;
  for (precision = 1; precision < 17; precision++)
    {
      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buffer, sizeof buffer, format, value);
      double back = g_ascii_strtod (buffer, NULL);
      if (tolerance >= 0 ? fabs (back - value) < tolerance
                         : dtype == ST_DTYPE_F64 ? back == value : (float) back == (float) value)
        break;
    }
  /* Whole numbers below 10^16 in full (80, not 8e+01). */
  int exponent = value != 0 ? (int) floor (log10 (fabs (value))) : 0;
  if (exponent >= 0 && exponent < 16 && precision <= exponent)
    precision = exponent + 1;
  g_snprintf (format, sizeof format, "%%.%dg", precision);
  g_ascii_formatd (buffer, sizeof buffer, format, value);
  return g_strdup (buffer);
}

/* Element @i of @tensor, whose value (from tensor_values()) is @value, as text. */
static char *
format_value (STTensor *tensor,
              double    value,
              guint64   i)
{
  STDType dtype = st_tensor_get_dtype (tensor);
  const guint8 *data = st_tensor_get_data (tensor, NULL);
  guint bits, sign_mask, magnitude_mask;

  switch (dtype)
    {
    case ST_DTYPE_BOOL:
      return g_strdup (value != 0 ? "true" : "false");
    case ST_DTYPE_C64:
      {
        g_autofree char *re = format_float (value, ST_DTYPE_F32, -1);
        float im = read_f32 (data, 2 * i + 1);
        g_autofree char *im_text = format_float (fabsf (im), ST_DTYPE_F32, -1);
        return g_strdup_printf ("%s%s%sj", re, signbit (im) ? "-" : "+", im_text);
      }
    case ST_DTYPE_I64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) read_u64 (data, i));
    case ST_DTYPE_U64:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, read_u64 (data, i));
    default:
      break;
    }
  if (small_float_bits (dtype, data, i, &bits, &sign_mask, &magnitude_mask))
    return format_float (value, dtype, half_gap (dtype, bits, sign_mask, magnitude_mask));
  if (st_tool_dtype_is_float (dtype))
    return format_float (value, dtype, -1);
  return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) value);  /* integers of 32 bits or fewer: exact */
}

static JsonNode *
float_to_json (double value)
{
  if (isnan (value))
    return json_node_init_string (json_node_alloc (), "nan");
  if (isinf (value))
    return json_node_init_string (json_node_alloc (), value > 0 ? "inf" : "-inf");
  return json_node_init_double (json_node_alloc (), value);
}

static JsonNode *
value_to_json (STTensor *tensor,
               double    value,
               guint64   i)
{
  STDType dtype = st_tensor_get_dtype (tensor);
  const guint8 *data = st_tensor_get_data (tensor, NULL);

  if (dtype == ST_DTYPE_BOOL)
    return json_node_init_boolean (json_node_alloc (), value != 0);
  if (dtype == ST_DTYPE_C64)
    {
      JsonArray *pair = json_array_new ();
      json_array_add_element (pair, float_to_json (value));
      json_array_add_element (pair, float_to_json (read_f32 (data, 2 * i + 1)));
      JsonNode *node = json_node_alloc ();
      json_node_take_array (json_node_init (node, JSON_NODE_ARRAY), pair);
      return node;
    }
  if (st_tool_dtype_is_float (dtype))
    return float_to_json (value);
  if (dtype == ST_DTYPE_U64)
    {
      guint64 v = read_u64 (data, i);
      if (v > G_MAXINT64)
        {
          /* JSON numbers this large lose precision in most readers: give the exact digits. */
          g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, v);
          return json_node_init_string (json_node_alloc (), text);
        }
      return json_node_init_int (json_node_alloc (), (gint64) v);
    }
  if (dtype == ST_DTYPE_I64)
    return json_node_init_int (json_node_alloc (), (gint64) read_u64 (data, i));
  return json_node_init_int (json_node_alloc (), (gint64) value);
}

/* dump */

static char *
format_index (const gint64 *shape,
              guint         n_dims,
              guint64       flat)
{
  g_autofree guint64 *position = g_new0 (guint64, MAX (n_dims, 1));
  for (guint d = n_dims; d > 0; d--)
    {
      guint64 extent = (guint64) shape[d - 1];
      position[d - 1] = flat % extent;
      flat /= extent;
    }
  GString *out = g_string_new ("[");
  for (guint d = 0; d < n_dims; d++)
    g_string_append_printf (out, "%s%" G_GUINT64_FORMAT, d > 0 ? ", " : "", position[d]);
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

static gboolean
is_f6 (STDType dtype)
{
  return dtype == ST_DTYPE_F6_E2M3 || dtype == ST_DTYPE_F6_E3M2;
}

int
st_tool_cmd_dump (int    argc,
                  char **argv)
{
  gint64 limit = 100;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT64, &limit,
      "Print at most N values (default 100; 0 for all)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("dump"), entries);
  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc != 3)
    return st_tool_usage_error ("dump", "expected a file and a tensor name");
  if (limit < 0)
    return st_tool_usage_error ("dump", "--limit must be 0 or more");

  g_autoptr(GError) error = NULL;
  g_autoptr(StToolSource) source = st_tool_source_open (argv[1], &error);
  if (source == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }
  g_autoptr(STTensor) tensor = st_tool_source_lookup (source, argv[2], &error);
  if (tensor == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_FAILURE;
    }

  STDType dtype = st_tensor_get_dtype (tensor);
  guint n_dims = 0;
  const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
  guint64 n_elements = st_tensor_get_n_elements (tensor);
  gsize n_bytes = 0;
  const guint8 *data = st_tensor_get_data (tensor, &n_bytes);
  g_autofree char *shape_text = st_tool_format_shape (tensor);

  /* F6: the bytes as stored, three per four elements (their packing is not defined; see above). */
  guint64 n_items = is_f6 (dtype) ? n_bytes : n_elements;
  guint64 shown = limit == 0 ? n_items : MIN (n_items, (guint64) limit);
  g_autofree double *values = is_f6 (dtype) ? NULL : tensor_values (tensor, 0, shown);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, argv[2]);
      json_builder_set_member_name (builder, "dtype");
      json_builder_add_string_value (builder, st_dtype_to_string (dtype));
      json_builder_set_member_name (builder, "shape");
      st_tool_json_add_shape (builder, tensor);
      json_builder_set_member_name (builder, "n_elements");
      json_builder_add_int_value (builder, (gint64) n_elements);
      json_builder_set_member_name (builder, is_f6 (dtype) ? "packed_bytes" : "values");
      json_builder_begin_array (builder);
      for (guint64 i = 0; i < shown; i++)
        {
          if (is_f6 (dtype))
            json_builder_add_int_value (builder, data[i]);
          else
            json_builder_add_value (builder, value_to_json (tensor, values[i], i));
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "truncated");
      json_builder_add_boolean_value (builder, shown < n_items);
      json_builder_end_object (builder);
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      st_tool_print_json (root);
      return ST_TOOL_EXIT_OK;
    }

  g_autofree char *count = st_tool_format_count (n_elements);
  printf ("%s: %s %s, %s element%s\n", argv[2], st_dtype_to_string (dtype), shape_text, count,
          n_elements == 1 ? "" : "s");

  if (is_f6 (dtype))
    {
      printf ("(%s packs four elements into three bytes in a layout the format does not define: "
              "the bytes as stored)\n", st_dtype_to_string (dtype));
      for (guint64 i = 0; i < shown; i += 16)
        {
          printf ("%08" G_GINT64_MODIFIER "x ", i);
          for (guint64 j = i; j < MIN (i + 16, shown); j++)
            printf (" %02x", data[j]);
          printf ("\n");
        }
    }
  else
    {
      g_autoptr(StToolTable) table = st_tool_table_new (2, "INDEX", ">VALUE");
      for (guint64 i = 0; i < shown; i++)
        {
          g_autofree char *index = format_index (shape, n_dims, i);
          g_autofree char *value = format_value (tensor, values[i], i);
          st_tool_table_add (table, index, value);
        }
      if (shown > 0)
        st_tool_table_print (table, stdout, "");
    }

  if (shown < n_items)
    {
      g_autofree char *rest = st_tool_format_count (n_items - shown);
      printf ("… %s more %s (--limit 0 shows all)\n", rest, is_f6 (dtype) ? "bytes" : "values");
    }
  return ST_TOOL_EXIT_OK;
}

/* diff */

typedef struct {
  double   max;
  gboolean any_nan;
} MaxDiff;

/* Values are compared a slice at a time, converted by the library. */
#define COMPARE_CHUNK ((guint64) 65536)

static void
compare_values (STTensor *a,
                STTensor *b,
                MaxDiff  *result)
{
  const guint8 *data_a = st_tensor_get_data (a, NULL);
  const guint8 *data_b = st_tensor_get_data (b, NULL);
  guint64 n = st_tensor_get_n_elements (a);
  gboolean complex = st_tensor_get_dtype (a) == ST_DTYPE_C64;

  result->max = 0;
  result->any_nan = FALSE;
  for (guint64 start = 0; start < n; start += COMPARE_CHUNK)
    {
      guint64 count = MIN (COMPARE_CHUNK, n - start);
      g_autofree double *xs = tensor_values (a, start, count);
      g_autofree double *ys = tensor_values (b, start, count);

      for (guint64 k = 0; k < count; k++)
        {
          guint64 i = start + k;
          double x = xs[k], y = ys[k];
          double d;
          if (complex)
            {
              double dx = x - y;
              double dy = (double) read_f32 (data_a, 2 * i + 1) - read_f32 (data_b, 2 * i + 1);
              d = sqrt (dx * dx + dy * dy);
              if (x == y && read_f32 (data_a, 2 * i + 1) == read_f32 (data_b, 2 * i + 1))
                d = 0;
            }
          else if (x == y || (isnan (x) && isnan (y)))
            d = 0;  /* equal, or NaN in both: the same value; equal infinities too */
          else
            d = fabs (x - y);
          if (isnan (d))
            result->any_nan = TRUE;
          else if (d > result->max)
            result->max = d;
        }
    }
}

static char *
format_difference (const MaxDiff *diff)
{
  if (diff->any_nan)
    return g_strdup ("nan");
  return format_float (diff->max, ST_DTYPE_F64, -1);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The union of two string sets, sorted. */
static GPtrArray *
sorted_union (char **a,
              char **b)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *all = g_ptr_array_new ();
  for (char **list = a; list != NULL; list = list == a ? b : NULL)
    for (guint i = 0; list[i] != NULL; i++)
      if (g_hash_table_add (seen, list[i]))
        g_ptr_array_add (all, list[i]);
  g_ptr_array_sort (all, compare_strings);
  return all;
}

static char **
metadata_keys (GHashTable *metadata)
{
  if (metadata == NULL)
    return g_new0 (char *, 1);
  return (char **) g_hash_table_get_keys_as_array (metadata, NULL);
}

int
st_tool_cmd_diff (int    argc,
                  char **argv)
{
  gboolean json = FALSE;
  gboolean quiet = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing; only the exit status tells", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = st_tool_option_context_new (st_tool_find_command ("diff"), entries);
  if (!st_tool_parse_options (context, &argc, &argv))
    return ST_TOOL_EXIT_USAGE;
  if (argc != 3)
    return st_tool_usage_error ("diff", "expected two files");

  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) a = st_tool_open_as_file (argv[1], &error);
  if (a == NULL)
    {
      st_tool_print_error (argv[1], error);
      return ST_TOOL_EXIT_TROUBLE;
    }
  g_autoptr(STFile) b = st_tool_open_as_file (argv[2], &error);
  if (b == NULL)
    {
      st_tool_print_error (argv[2], error);
      return ST_TOOL_EXIT_TROUBLE;
    }

  g_auto(GStrv) names_a = st_file_dup_names_sorted (a);
  g_auto(GStrv) names_b = st_file_dup_names_sorted (b);
  g_autoptr(GPtrArray) names = sorted_union (names_a, names_b);

  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) only_a = g_ptr_array_new ();
  g_autoptr(GPtrArray) only_b = g_ptr_array_new ();
  guint n_changed = 0, n_same = 0;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "changed");
  json_builder_begin_array (builder);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      STTensor *ta = st_file_get_tensor (a, name);
      STTensor *tb = st_file_get_tensor (b, name);
      if (tb == NULL)
        {
          g_ptr_array_add (only_a, (gpointer) name);
          g_ptr_array_add (lines, g_strdup_printf ("- %s: only in %s", name, argv[1]));
          continue;
        }
      if (ta == NULL)
        {
          g_ptr_array_add (only_b, (gpointer) name);
          g_ptr_array_add (lines, g_strdup_printf ("+ %s: only in %s", name, argv[2]));
          continue;
        }

      STDType dtype_a = st_tensor_get_dtype (ta), dtype_b = st_tensor_get_dtype (tb);
      g_autofree char *shape_a = st_tool_format_shape (ta);
      g_autofree char *shape_b = st_tool_format_shape (tb);
      gboolean same_dtype = dtype_a == dtype_b;
      gboolean same_shape = strcmp (shape_a, shape_b) == 0;
      gsize len_a = 0, len_b = 0;
      const guint8 *bytes_a = st_tensor_get_data (ta, &len_a);
      const guint8 *bytes_b = st_tensor_get_data (tb, &len_b);
      if (same_dtype && same_shape && len_a == len_b && (len_a == 0 || memcmp (bytes_a, bytes_b, len_a) == 0))
        {
          n_same++;
          continue;
        }

      n_changed++;
      g_autoptr(GString) line = g_string_new (NULL);
      g_string_append_printf (line, "~ %s:", name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name);
      if (!same_dtype)
        {
          g_string_append_printf (line, " dtype %s → %s", st_dtype_to_string (dtype_a), st_dtype_to_string (dtype_b));
          json_builder_set_member_name (builder, "dtype");
          json_builder_begin_array (builder);
          json_builder_add_string_value (builder, st_dtype_to_string (dtype_a));
          json_builder_add_string_value (builder, st_dtype_to_string (dtype_b));
          json_builder_end_array (builder);
        }
      if (!same_shape)
        {
          g_string_append_printf (line, "%s shape %s → %s", same_dtype ? "" : ",", shape_a, shape_b);
          json_builder_set_member_name (builder, "shape");
          json_builder_begin_array (builder);
          st_tool_json_add_shape (builder, ta);
          st_tool_json_add_shape (builder, tb);
          json_builder_end_array (builder);
        }
      else
        {
          gboolean comparable = (st_tool_dtype_is_numeric (dtype_a) && st_tool_dtype_is_numeric (dtype_b)) ||
                                (dtype_a == ST_DTYPE_C64 && dtype_b == ST_DTYPE_C64);
          json_builder_set_member_name (builder, "max_abs_diff");
          if (comparable)
            {
              MaxDiff diff;
              compare_values (ta, tb, &diff);
              g_autofree char *text = format_difference (&diff);
              g_string_append_printf (line, "%s max abs difference %s", same_dtype ? "" : ",", text);
              if (diff.any_nan)
                json_builder_add_string_value (builder, "nan");
              else if (isinf (diff.max))
                json_builder_add_string_value (builder, "inf");
              else
                json_builder_add_double_value (builder, (double) diff.max);
            }
          else
            {
              g_string_append_printf (line, "%s data differs", same_dtype ? "" : ",");
              json_builder_add_null_value (builder);
            }
        }
      json_builder_end_object (builder);
      g_ptr_array_add (lines, g_string_free (g_steal_pointer (&line), FALSE));
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "only_in_a");
  json_builder_begin_array (builder);
  for (guint i = 0; i < only_a->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (only_a, i));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "only_in_b");
  json_builder_begin_array (builder);
  for (guint i = 0; i < only_b->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (only_b, i));
  json_builder_end_array (builder);

  /* The metadata, key by key */
  g_autoptr(GHashTable) meta_a = st_file_has_metadata (a) ? st_file_dup_metadata (a) : NULL;
  g_autoptr(GHashTable) meta_b = st_file_has_metadata (b) ? st_file_dup_metadata (b) : NULL;
  g_autofree char **keys_a = metadata_keys (meta_a);
  g_autofree char **keys_b = metadata_keys (meta_b);
  g_autoptr(GPtrArray) keys = sorted_union (keys_a, keys_b);
  guint n_metadata = 0;
  json_builder_set_member_name (builder, "metadata");
  json_builder_begin_object (builder);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);
      const char *va = meta_a != NULL ? g_hash_table_lookup (meta_a, key) : NULL;
      const char *vb = meta_b != NULL ? g_hash_table_lookup (meta_b, key) : NULL;
      if (g_strcmp0 (va, vb) == 0)
        continue;
      n_metadata++;
      if (vb == NULL)
        g_ptr_array_add (lines, g_strdup_printf ("- __metadata__[%s]: only in %s (“%s”)", key, argv[1], va));
      else if (va == NULL)
        g_ptr_array_add (lines, g_strdup_printf ("+ __metadata__[%s]: only in %s (“%s”)", key, argv[2], vb));
      else
        g_ptr_array_add (lines, g_strdup_printf ("~ __metadata__[%s]: “%s” → “%s”", key, va, vb));
      json_builder_set_member_name (builder, key);
      json_builder_begin_array (builder);
      if (va != NULL)
        json_builder_add_string_value (builder, va);
      else
        json_builder_add_null_value (builder);
      if (vb != NULL)
        json_builder_add_string_value (builder, vb);
      else
        json_builder_add_null_value (builder);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);

  gboolean identical = n_changed == 0 && only_a->len == 0 && only_b->len == 0 && n_metadata == 0;
  json_builder_set_member_name (builder, "n_identical");
  json_builder_add_int_value (builder, n_same);
  json_builder_set_member_name (builder, "identical");
  json_builder_add_boolean_value (builder, identical);
  json_builder_end_object (builder);

  if (quiet)
    ;
  else if (json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      st_tool_print_json (root);
    }
  else
    {
      for (guint i = 0; i < lines->len; i++)
        printf ("%s\n", (const char *) g_ptr_array_index (lines, i));
      if (identical)
        printf ("The files hold the same %u tensor%s and metadata.\n", n_same, n_same == 1 ? "" : "s");
      else
        printf ("%u only in %s, %u only in %s, %u changed, %u identical; %u metadata difference%s.\n",
                only_a->len, argv[1], only_b->len, argv[2], n_changed, n_same, n_metadata,
                n_metadata == 1 ? "" : "s");
    }
  return identical ? ST_TOOL_EXIT_OK : ST_TOOL_EXIT_FAILURE;
}
