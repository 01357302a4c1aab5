/* st-dtype.c: the element types of safetensors
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "st-dtype.h"
#include "st-error.h"
#include "st-dtype-private.h"

typedef struct {
  const char *name;
  guint8      name_len;
  guint8      bits;
} DTypeInfo;

#define DTYPE(n, b) { n, sizeof (n) - 1, b }

/* Indexed by STDType: the names are those of the header, case included. */
static const DTypeInfo dtype_infos[] = {
  [ST_DTYPE_BOOL]        = DTYPE ("BOOL", 8),
  [ST_DTYPE_F4]          = DTYPE ("F4", 4),
  [ST_DTYPE_F6_E2M3]     = DTYPE ("F6_E2M3", 6),
  [ST_DTYPE_F6_E3M2]     = DTYPE ("F6_E3M2", 6),
  [ST_DTYPE_U8]          = DTYPE ("U8", 8),
  [ST_DTYPE_I8]          = DTYPE ("I8", 8),
  [ST_DTYPE_F8_E5M2]     = DTYPE ("F8_E5M2", 8),
  [ST_DTYPE_F8_E4M3]     = DTYPE ("F8_E4M3", 8),
  [ST_DTYPE_F8_E8M0]     = DTYPE ("F8_E8M0", 8),
  [ST_DTYPE_F8_E4M3FNUZ] = DTYPE ("F8_E4M3FNUZ", 8),
  [ST_DTYPE_F8_E5M2FNUZ] = DTYPE ("F8_E5M2FNUZ", 8),
  [ST_DTYPE_I16]         = DTYPE ("I16", 16),
  [ST_DTYPE_U16]         = DTYPE ("U16", 16),
  [ST_DTYPE_F16]         = DTYPE ("F16", 16),
  [ST_DTYPE_BF16]        = DTYPE ("BF16", 16),
  [ST_DTYPE_I32]         = DTYPE ("I32", 32),
  [ST_DTYPE_U32]         = DTYPE ("U32", 32),
  [ST_DTYPE_F32]         = DTYPE ("F32", 32),
  [ST_DTYPE_C64]         = DTYPE ("C64", 64),
  [ST_DTYPE_F64]         = DTYPE ("F64", 64),
  [ST_DTYPE_I64]         = DTYPE ("I64", 64),
  [ST_DTYPE_U64]         = DTYPE ("U64", 64),
};

#undef DTYPE

G_STATIC_ASSERT (G_N_ELEMENTS (dtype_infos) == ST_DTYPE_U64 + 1);

static inline gboolean
dtype_is_valid (STDType dtype)
{
  /* Compared as unsigned: a binding may pass any integer, negative ones included. */
  return (guint) dtype < G_N_ELEMENTS (dtype_infos);
}

/**
 * st_dtype_to_string:
 * @dtype: a dtype
 *
 * Gets the name of @dtype as the safetensors header spells it, for
 * example `"F32"` for %ST_DTYPE_F32 or `"F8_E4M3"` for %ST_DTYPE_F8_E4M3.
 *
 * Returns: (transfer none): the name of @dtype, a static string
 *
 * Since: 1.0
 */
const char *
st_dtype_to_string (STDType dtype)
{
  g_return_val_if_fail (dtype_is_valid (dtype), NULL);

  return dtype_infos[dtype].name;
}

gboolean
st_dtype_lookup (const char *name,
                 gsize       name_len,
                 STDType    *out_dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtype_infos); i++)
    {
      if (dtype_infos[i].name_len == name_len && memcmp (dtype_infos[i].name, name, name_len) == 0)
        {
          *out_dtype = (STDType) i;
          return TRUE;
        }
    }

  return FALSE;
}

/**
 * st_dtype_from_string:
 * @name: the name of a dtype, as the safetensors header spells it (`"F32"`)
 * @out_dtype: (out): return location for the dtype
 * @error: return location for a #GError
 *
 * Finds the dtype of the given name. Names are compared exactly, case
 * included: `"F32"` is %ST_DTYPE_F32, `"f32"` is not a dtype.
 *
 * Returns: %TRUE and sets @out_dtype if @name is a dtype; %FALSE with
 *   %ST_ERROR_INVALID_DTYPE otherwise
 *
 * Since: 1.0
 */
gboolean
st_dtype_from_string (const char *name,
                      STDType    *out_dtype,
                      GError    **error)
{
  STDType dtype;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!st_dtype_lookup (name, strlen (name), &dtype))
    {
      g_autofree char *shown = g_utf8_make_valid (name, -1);

      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_DTYPE, "Unknown dtype “%s”", shown);
      return FALSE;
    }

  if (out_dtype != NULL)
    *out_dtype = dtype;

  return TRUE;
}

/**
 * st_dtype_get_bits:
 * @dtype: a dtype
 *
 * Gets the size of one element of @dtype in bits. It is a multiple of 8
 * except for the sub-byte dtypes: 4 for %ST_DTYPE_F4, 6 for
 * %ST_DTYPE_F6_E2M3 and %ST_DTYPE_F6_E3M2.
 *
 * Returns: the number of bits of one element
 *
 * Since: 1.0
 */
guint
st_dtype_get_bits (STDType dtype)
{
  g_return_val_if_fail (dtype_is_valid (dtype), 0);

  return dtype_infos[dtype].bits;
}

char *
st_shape_to_string (const gint64 *shape,
                    guint         n_dims)
{
  /* A message quotes a hostile shape of a million dimensions by its head only */
  const guint max_shown = 16;
  GString *string = g_string_sized_new (2 + MIN (n_dims, max_shown) * 4);

  g_string_append_c (string, '[');
  for (guint i = 0; i < n_dims && i < max_shown; i++)
    {
      if (i > 0)
        g_string_append (string, ", ");
      g_string_append_printf (string, "%" G_GINT64_FORMAT, shape[i]);
    }
  if (n_dims > max_shown)
    g_string_append_printf (string, ", … (%u dimensions)", n_dims);
  g_string_append_c (string, ']');

  return g_string_free (string, FALSE);
}

/**
 * st_dtype_compute_n_bytes:
 * @dtype: a dtype
 * @shape: (array length=n_dims) (nullable): the size of each dimension
 * @n_dims: the number of dimensions, 0 for a scalar
 * @out_n_bytes: (out) (optional): return location for the number of bytes
 * @error: return location for a #GError
 *
 * Computes how many bytes a tensor of @dtype and @shape holds: the
 * product of the dimensions (1 for a scalar, 0 when any dimension is 0,
 * however large the others are) times the bits of @dtype, divided by 8.
 *
 * It fails with %ST_ERROR_INVALID_SHAPE if a dimension is negative or if
 * the element count or the bit count overflows 64 bits, with
 * %ST_ERROR_MISALIGNED_SUB_BYTE if the bit count of a sub-byte dtype is
 * not a whole number of bytes, and with %ST_ERROR_INVALID_DTYPE if @dtype
 * is not a value of #STDType.
 *
 * Returns: %TRUE and sets @out_n_bytes on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_dtype_compute_n_bytes (STDType       dtype,
                          const gint64 *shape,
                          guint         n_dims,
                          guint64      *out_n_bytes,
                          GError      **error)
{
  gboolean has_zero = FALSE;
  guint64 n_elements = 1;
  guint64 n_bits;

  g_return_val_if_fail (shape != NULL || n_dims == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!dtype_is_valid (dtype))
    {
      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_DTYPE, "Unknown dtype value %d", (int) dtype);
      return FALSE;
    }

  for (guint i = 0; i < n_dims; i++)
    {
      if (shape[i] < 0)
        {
          g_autofree char *shown = st_shape_to_string (shape, n_dims);

          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                       "Shape %s has a negative dimension (%" G_GINT64_FORMAT " at index %u)",
                       shown, shape[i], i);
          return FALSE;
        }
      if (shape[i] == 0)
        has_zero = TRUE;
    }

  /* An empty tensor is valid whatever its other dimensions: [0, 5000000000] holds nothing. */
  if (has_zero)
    n_elements = 0;

  for (guint i = 0; i < n_dims && !has_zero; i++)
    {
      if (!g_uint64_checked_mul (&n_elements, n_elements, (guint64) shape[i]))
        {
          g_autofree char *shown = st_shape_to_string (shape, n_dims);

          g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                       "The element count of shape %s overflows 64 bits", shown);
          return FALSE;
        }
    }

  if (!g_uint64_checked_mul (&n_bits, n_elements, dtype_infos[dtype].bits))
    {
      g_autofree char *shown = st_shape_to_string (shape, n_dims);

      g_set_error (error, ST_ERROR, ST_ERROR_INVALID_SHAPE,
                   "The size in bits of dtype %s and shape %s overflows 64 bits",
                   dtype_infos[dtype].name, shown);
      return FALSE;
    }

  if (n_bits % 8 != 0)
    {
      g_autofree char *shown = st_shape_to_string (shape, n_dims);

      g_set_error (error, ST_ERROR, ST_ERROR_MISALIGNED_SUB_BYTE,
                   "Dtype %s and shape %s make %" G_GUINT64_FORMAT " bits, not a whole number of bytes",
                   dtype_infos[dtype].name, shown, n_bits);
      return FALSE;
    }

  if (out_n_bytes != NULL)
    *out_n_bytes = n_bits / 8;

  return TRUE;
}
