/* st-convert.c: a tensor's values as doubles or floats, whatever its dtype
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every element is read from its little-endian bytes explicitly (never through a native load of the
 * whole word), so the results are the same on big-endian hosts.
 *
 * The small float formats, as the OCP 8-bit floating point (OFP8) and Microscaling (MX v1.0)
 * specifications and PyTorch define them:
 *   F8_E4M3       bias 7, no infinities, S.1111.111 is NaN (PyTorch float8_e4m3fn); largest 448
 *   F8_E5M2       bias 15, IEEE-like: exponent 31 is infinity (mantissa 0) or NaN; largest 57344
 *   F8_E4M3FNUZ   bias 8, no infinities, no negative zero: 0x80 is the only NaN; largest 240
 *   F8_E5M2FNUZ   bias 16, no infinities, no negative zero: 0x80 is the only NaN; largest 57344
 *   F8_E8M0       an unsigned power of two 2^(e - 127), no zero; 0xff is NaN (PyTorch float8_e8m0fnu)
 *   F4 (E2M1)     bias 1, no infinities or NaN: 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives; two
 *                 elements per byte, the first in the low four bits (PyTorch's float4_e2m1fn_x2)
 * F6_E2M3 and F6_E3M2: the MX specification defines the six-bit encodings but not how four of them
 * share three bytes, and safetensors does not either; they are refused rather than guessed at.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "st-dtype.h"
#include "st-tensor.h"

/* A float of @man_bits mantissa bits and exponent @bias, without sign: zero, subnormal or normal.
 * ldexp of an integer of at most 11 bits is exact in a double. */
static inline double
decode_minifloat (guint exponent,
                  guint mantissa,
                  guint man_bits,
                  int   bias)
{
  if (exponent == 0)
    return ldexp ((double) mantissa, 1 - bias - (int) man_bits);
  return ldexp ((double) (mantissa | (1u << man_bits)), (int) exponent - bias - (int) man_bits);
}

static inline double
with_sign (gboolean negative,
           double   magnitude)
{
  return negative ? -magnitude : magnitude;
}

static double
decode_f16 (guint16 bits)
{
  guint exponent = (bits >> 10) & 0x1f;
  guint mantissa = bits & 0x3ff;

  if (exponent == 0x1f)
    return with_sign (bits & 0x8000, mantissa != 0 ? NAN : INFINITY);
  return with_sign (bits & 0x8000, decode_minifloat (exponent, mantissa, 10, 15));
}

static double
decode_f8 (STDType dtype,
           guint8  bits)
{
  gboolean negative = (bits & 0x80) != 0;

  switch (dtype)
    {
    case ST_DTYPE_F8_E4M3:
      if ((bits & 0x7f) == 0x7f)
        return with_sign (negative, NAN);
      return with_sign (negative, decode_minifloat ((bits >> 3) & 0xf, bits & 0x7, 3, 7));
    case ST_DTYPE_F8_E5M2:
      if (((bits >> 2) & 0x1f) == 0x1f)
        return with_sign (negative, (bits & 0x3) != 0 ? NAN : INFINITY);
      return with_sign (negative, decode_minifloat ((bits >> 2) & 0x1f, bits & 0x3, 2, 15));
    case ST_DTYPE_F8_E4M3FNUZ:
      if (bits == 0x80)
        return NAN;
      return with_sign (negative, decode_minifloat ((bits >> 3) & 0xf, bits & 0x7, 3, 8));
    case ST_DTYPE_F8_E5M2FNUZ:
      if (bits == 0x80)
        return NAN;
      return with_sign (negative, decode_minifloat ((bits >> 2) & 0x1f, bits & 0x3, 2, 16));
    case ST_DTYPE_F8_E8M0:
      if (bits == 0xff)
        return NAN;
      return ldexp (1.0, (int) bits - 127);
    default:
      g_assert_not_reached ();
    }
}

static inline double
decode_f4 (guint nibble)
{
  return with_sign (nibble & 0x8, decode_minifloat ((nibble >> 1) & 0x3, nibble & 0x1, 1, 1));
}

static inline guint16
read_u16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
read_u32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static inline guint64
read_u64 (const guint8 *p)
{
  return (guint64) read_u32 (p) | ((guint64) read_u32 (p + 4) << 32);
}

static inline float
float_from_bits (guint32 bits)
{
  float f;

  memcpy (&f, &bits, sizeof f);
  return f;
}

static inline double
double_from_bits (guint64 bits)
{
  double d;

  memcpy (&d, &bits, sizeof d);
  return d;
}

/* Round to nearest, ties to even, with overflow to infinity, as IEEE 754 converts; spelled out
 * because C leaves a double outside float's range undefined. 0x1.ffffffp127 is FLT_MAX plus half
 * its ulp: the tie, which goes to the even neighbour, infinity. */
static inline float
double_to_float (double d)
{
  if (isnan (d) || fabs (d) <= FLT_MAX)
    return (float) d;
  if (fabs (d) >= 0x1.ffffffp127)
    return d > 0 ? INFINITY : -INFINITY;
  return d > 0 ? FLT_MAX : -FLT_MAX;
}

/* Element @i of @data (the tensor's bytes) as a double: exact except for I64 and U64 beyond 2^53,
 * which round to nearest even. */
static inline double
element_as_double (STDType       dtype,
                   const guint8 *data,
                   guint64       i)
{
  switch (dtype)
    {
    case ST_DTYPE_BOOL: return data[i] != 0 ? 1.0 : 0.0;
    case ST_DTYPE_U8: return data[i];
    case ST_DTYPE_I8: return (gint8) data[i];
    case ST_DTYPE_I16: return (gint16) read_u16 (data + 2 * i);
    case ST_DTYPE_U16: return read_u16 (data + 2 * i);
    case ST_DTYPE_I32: return (gint32) read_u32 (data + 4 * i);
    case ST_DTYPE_U32: return read_u32 (data + 4 * i);
    case ST_DTYPE_I64: return (double) (gint64) read_u64 (data + 8 * i);
    case ST_DTYPE_U64: return (double) read_u64 (data + 8 * i);
    case ST_DTYPE_F16: return decode_f16 (read_u16 (data + 2 * i));
    case ST_DTYPE_BF16: return float_from_bits ((guint32) read_u16 (data + 2 * i) << 16);
    case ST_DTYPE_F32: return float_from_bits (read_u32 (data + 4 * i));
    case ST_DTYPE_F64: return double_from_bits (read_u64 (data + 8 * i));
    case ST_DTYPE_F4: return decode_f4 ((data[i / 2] >> ((i % 2) * 4)) & 0xf);
    case ST_DTYPE_F8_E5M2:
    case ST_DTYPE_F8_E4M3:
    case ST_DTYPE_F8_E8M0:
    case ST_DTYPE_F8_E4M3FNUZ:
    case ST_DTYPE_F8_E5M2FNUZ:
      return decode_f8 (dtype, data[i]);
    case ST_DTYPE_F6_E2M3:
    case ST_DTYPE_F6_E3M2:
    case ST_DTYPE_C64:
    default:
      g_assert_not_reached ();
    }
}

/* An unsigned integer as the nearest float, ties to even, in integer arithmetic: the compiler's
 * conversion of a 64-bit integer is not correctly rounded everywhere (valgrind, for one, goes through a
 * double and rounds twice). */
static inline float
u64_to_float (guint64 v)
{
  guint64 mantissa, rest, half;
  int shift;

  if (v < (G_GUINT64_CONSTANT (1) << 24))
    return (float) (guint32) v;

  shift = 64 - __builtin_clzll (v) - 24;  /* the bits below float's 24 */
  mantissa = v >> shift;
  rest = v & ((G_GUINT64_CONSTANT (1) << shift) - 1);
  half = G_GUINT64_CONSTANT (1) << (shift - 1);
  if (rest > half || (rest == half && (mantissa & 1) != 0))
    mantissa++;  /* may reach 2^24: still exact */
  return ldexpf ((float) (guint32) mantissa, shift);
}

static inline float
i64_to_float (gint64 v)
{
  /* The magnitude in unsigned arithmetic, so that G_MININT64 has one. */
  return v < 0 ? -u64_to_float (-(guint64) v) : u64_to_float ((guint64) v);
}

/* Element @i as a float, rounded once: integers wider than 24 bits straight from the integer (through
 * a double, I64 and U64 would round twice), F64 with double_to_float(); every other dtype is exact. */
static inline float
element_as_float (STDType       dtype,
                  const guint8 *data,
                  guint64       i)
{
  switch (dtype)
    {
    case ST_DTYPE_I32: return i64_to_float ((gint32) read_u32 (data + 4 * i));
    case ST_DTYPE_U32: return u64_to_float (read_u32 (data + 4 * i));
    case ST_DTYPE_I64: return i64_to_float ((gint64) read_u64 (data + 8 * i));
    case ST_DTYPE_U64: return u64_to_float (read_u64 (data + 8 * i));
    default: return double_to_float (element_as_double (dtype, data, i));
    }
}

/* Checks that @self can be converted and that @start is within it; gives the number of values from
 * @start, at most @count, and the tensor's bytes. */
static gboolean
prepare_conversion (STTensor      *self,
                    guint64        start,
                    guint64        count,
                    guint64       *out_n_values,
                    const guint8 **out_data,
                    GError       **error)
{
  STDType dtype = st_tensor_get_dtype (self);
  guint64 n_elements = st_tensor_get_n_elements (self);

  if (dtype == ST_DTYPE_C64)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "A C64 tensor holds complex numbers, which have no single real value: "
                           "read its bytes as pairs of F32 instead");
      return FALSE;
    }
  if (dtype == ST_DTYPE_F6_E2M3 || dtype == ST_DTYPE_F6_E3M2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "The values of a %s tensor cannot be read: neither safetensors nor the OCP "
                   "Microscaling specification defines how four six-bit elements are packed into "
                   "three bytes", st_dtype_to_string (dtype));
      return FALSE;
    }
  if (start > n_elements)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Element %" G_GUINT64_FORMAT " is past the end of a tensor of %" G_GUINT64_FORMAT
                   " elements", start, n_elements);
      return FALSE;
    }

  *out_n_values = MIN (count, n_elements - start);
  *out_data = st_tensor_get_data (self, NULL);
  return TRUE;
}

static gpointer
allocate_values (guint64   n_values,
                 gsize     value_size,
                 GError  **error)
{
  gpointer values = NULL;

  /* Never NULL on success, even for no values: NULL with an error is the failure. */
  if (n_values <= G_MAXSIZE / value_size)
    values = g_try_malloc (MAX ((gsize) n_values * value_size, 1));
  if (values == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                 "Cannot allocate %" G_GUINT64_FORMAT " values of %" G_GSIZE_FORMAT " bytes",
                 n_values, value_size);
  return values;
}

/**
 * st_tensor_dup_values_as_double:
 * @self: a tensor
 * @start: the index of the first element to convert, in row-major order
 * @count: the largest number of elements to convert; fewer when the tensor ends
 *   first (pass %G_MAXUINT64 for all the elements from @start)
 * @n_values: (out): return location for the number of values returned
 * @error: return location for a #GError
 *
 * Converts elements of the tensor to doubles, whatever its dtype: the values
 * a reader of the file means, read from the little-endian bytes (so the same
 * on every host).
 *
 * The conversion is exact for every dtype but I64 and U64, whose values
 * beyond 2^53 are rounded to the nearest double (ties to even). BOOL gives 1
 * for any non-zero byte and 0 otherwise. The small floats follow the OCP 8-bit
 * floating point and Microscaling (MX) specifications, as PyTorch reads them:
 *
 * - `F16` and `BF16`: IEEE 754 half precision and bfloat16, subnormals, signed
 *   zeros, infinities and NaN included;
 * - `F8_E5M2`: bias 15; exponent 31 is infinity (mantissa 0) or NaN;
 * - `F8_E4M3` (`float8_e4m3fn`): bias 7, no infinities; `S.1111.111` is NaN,
 *   the largest value is 448;
 * - `F8_E4M3FNUZ` and `F8_E5M2FNUZ`: biases 8 and 16, no infinities and no
 *   negative zero; `0x80` is NaN, the only one;
 * - `F8_E8M0` (`float8_e8m0fnu`): 2^(byte − 127), from 2^−127 to 2^127; no zero,
 *   no sign; `0xff` is NaN;
 * - `F4` (E2M1): 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives, no infinities
 *   or NaN; two elements per byte, the first in the low four bits (PyTorch's
 *   `float4_e2m1fn_x2`).
 *
 * `F6_E2M3` and `F6_E3M2` fail with %G_IO_ERROR_NOT_SUPPORTED: their six-bit
 * encodings are defined, but neither safetensors nor the MX specification says
 * how four of them are packed into three bytes. `C64` fails the same way (a
 * complex number has no single real value).
 *
 * Returns: (array length=n_values) (transfer full): the values (not %NULL,
 *   even for none), or %NULL with @error set: %G_IO_ERROR_NOT_SUPPORTED for the
 *   dtypes above, %G_IO_ERROR_INVALID_ARGUMENT when @start is past the last
 *   element, %G_IO_ERROR_NO_SPACE when the values cannot be allocated
 *
 * Since: 1.0
 */
double *
st_tensor_dup_values_as_double (STTensor  *self,
                                guint64    start,
                                guint64    count,
                                gsize     *n_values,
                                GError   **error)
{
  const guint8 *data = NULL;
  guint64 n = 0;
  double *values;
  STDType dtype;

  g_return_val_if_fail (ST_IS_TENSOR (self), NULL);
  g_return_val_if_fail (n_values != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  *n_values = 0;
  if (!prepare_conversion (self, start, count, &n, &data, error))
    return NULL;
  values = allocate_values (n, sizeof (double), error);
  if (values == NULL)
    return NULL;

  dtype = st_tensor_get_dtype (self);
  for (guint64 i = 0; i < n; i++)
    values[i] = element_as_double (dtype, data, start + i);

  *n_values = (gsize) n;
  return values;
}

/**
 * st_tensor_dup_values_as_float:
 * @self: a tensor
 * @start: the index of the first element to convert, in row-major order
 * @count: the largest number of elements to convert; fewer when the tensor ends
 *   first (pass %G_MAXUINT64 for all the elements from @start)
 * @n_values: (out): return location for the number of values returned
 * @error: return location for a #GError
 *
 * Converts elements of the tensor to single-precision floats, as
 * [method@ST.Tensor.dup_values_as_double] does to doubles (same dtypes, same
 * errors, same reading of the small floats).
 *
 * Every value of the 16-bit and smaller dtypes is exact in a float. I32, U32,
 * I64, U64 and F64 are rounded once, to the nearest float with ties to even
 * (the integers directly, not through a double); an F64 beyond the largest
 * float gives an infinity exactly when IEEE 754 rounding does (from
 * `0x1.ffffffp127` up), the largest float below that; an F64 NaN stays NaN.
 *
 * Returns: (array length=n_values) (transfer full): the values (not %NULL,
 *   even for none), or %NULL with @error set as for
 *   [method@ST.Tensor.dup_values_as_double]
 *
 * Since: 1.0
 */
float *
st_tensor_dup_values_as_float (STTensor  *self,
                               guint64    start,
                               guint64    count,
                               gsize     *n_values,
                               GError   **error)
{
  const guint8 *data = NULL;
  guint64 n = 0;
  float *values;
  STDType dtype;

  g_return_val_if_fail (ST_IS_TENSOR (self), NULL);
  g_return_val_if_fail (n_values != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  *n_values = 0;
  if (!prepare_conversion (self, start, count, &n, &data, error))
    return NULL;
  values = allocate_values (n, sizeof (float), error);
  if (values == NULL)
    return NULL;

  dtype = st_tensor_get_dtype (self);
  for (guint64 i = 0; i < n; i++)
    values[i] = element_as_float (dtype, data, start + i);

  *n_values = (gsize) n;
  return values;
}

/**
 * st_tensor_dup_values_as_float_bytes:
 * @self: a tensor
 * @start: the index of the first element to convert, in row-major order
 * @count: the largest number of elements to convert; fewer when the tensor ends
 *   first (pass %G_MAXUINT64 for all the elements from @start)
 * @error: return location for a #GError
 *
 * Converts elements of the tensor to floats as
 * [method@ST.Tensor.dup_values_as_float] does, into a #GBytes of packed
 * floats in the host's byte order. This is for language bindings: a
 * `GLib.Bytes` becomes a JavaScript `Float32Array` or a Python `memoryview`
 * without a conversion of each element by the binding.
 *
 * Returns: (transfer full): the values, 4 bytes each, native byte order, or
 *   %NULL with @error set as for [method@ST.Tensor.dup_values_as_double]
 *
 * Since: 1.0
 */
GBytes *
st_tensor_dup_values_as_float_bytes (STTensor  *self,
                                     guint64    start,
                                     guint64    count,
                                     GError   **error)
{
  gsize n_values = 0;
  float *values;

  g_return_val_if_fail (ST_IS_TENSOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  values = st_tensor_dup_values_as_float (self, start, count, &n_values, error);
  if (values == NULL)
    return NULL;
  return g_bytes_new_take (values, n_values * sizeof (float));
}
