/* st-dtype.h: the element types of safetensors
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <glib.h>
#include <safetensors-glib/st-version-macros.h>

G_BEGIN_DECLS

/**
 * STDType:
 * @ST_DTYPE_BOOL: boolean, one byte per element
 * @ST_DTYPE_F4: 4-bit float (E2M1), two elements per byte
 * @ST_DTYPE_F6_E2M3: 6-bit float, 2 exponent and 3 mantissa bits
 * @ST_DTYPE_F6_E3M2: 6-bit float, 3 exponent and 2 mantissa bits
 * @ST_DTYPE_U8: unsigned 8-bit integer
 * @ST_DTYPE_I8: signed 8-bit integer
 * @ST_DTYPE_F8_E5M2: 8-bit float, 5 exponent and 2 mantissa bits
 * @ST_DTYPE_F8_E4M3: 8-bit float, 4 exponent and 3 mantissa bits
 * @ST_DTYPE_F8_E8M0: 8-bit float, exponent only (a scale)
 * @ST_DTYPE_F8_E4M3FNUZ: 8-bit float, E4M3, finite, no negative zero
 * @ST_DTYPE_F8_E5M2FNUZ: 8-bit float, E5M2, finite, no negative zero
 * @ST_DTYPE_I16: signed 16-bit integer
 * @ST_DTYPE_U16: unsigned 16-bit integer
 * @ST_DTYPE_F16: IEEE 754 half precision float
 * @ST_DTYPE_BF16: bfloat16
 * @ST_DTYPE_I32: signed 32-bit integer
 * @ST_DTYPE_U32: unsigned 32-bit integer
 * @ST_DTYPE_F32: IEEE 754 single precision float
 * @ST_DTYPE_C64: complex number of two 32-bit floats
 * @ST_DTYPE_F64: IEEE 754 double precision float
 * @ST_DTYPE_I64: signed 64-bit integer
 * @ST_DTYPE_U64: unsigned 64-bit integer
 *
 * The element type of a tensor, named as safetensors names it in the header
 * (`ST_DTYPE_F8_E4M3` is `"F8_E4M3"`). The values are in the order of Hugging
 * Face's implementation, which sorts by alignment: writers place the tensors
 * of the widest types first.
 *
 * This enumeration may grow in later versions.
 *
 * Since: 1.0
 */
typedef enum {
  ST_DTYPE_BOOL,
  ST_DTYPE_F4,
  ST_DTYPE_F6_E2M3,
  ST_DTYPE_F6_E3M2,
  ST_DTYPE_U8,
  ST_DTYPE_I8,
  ST_DTYPE_F8_E5M2,
  ST_DTYPE_F8_E4M3,
  ST_DTYPE_F8_E8M0,
  ST_DTYPE_F8_E4M3FNUZ,
  ST_DTYPE_F8_E5M2FNUZ,
  ST_DTYPE_I16,
  ST_DTYPE_U16,
  ST_DTYPE_F16,
  ST_DTYPE_BF16,
  ST_DTYPE_I32,
  ST_DTYPE_U32,
  ST_DTYPE_F32,
  ST_DTYPE_C64,
  ST_DTYPE_F64,
  ST_DTYPE_I64,
  ST_DTYPE_U64,
} STDType;

ST_AVAILABLE_IN_1_0
const char *st_dtype_to_string (STDType dtype);

ST_AVAILABLE_IN_1_0
gboolean st_dtype_from_string (const char *name,
                               STDType    *out_dtype,
                               GError    **error);

ST_AVAILABLE_IN_1_0
guint st_dtype_get_bits (STDType dtype);

ST_AVAILABLE_IN_1_0
gboolean st_dtype_compute_n_bytes (STDType       dtype,
                                   const gint64 *shape,
                                   guint         n_dims,
                                   guint64      *out_n_bytes,
                                   GError      **error);

G_END_DECLS
