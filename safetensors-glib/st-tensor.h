/* st-tensor.h: one tensor: dtype, shape and bytes
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <glib-object.h>
#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-dtype.h>

G_BEGIN_DECLS

#define ST_TYPE_TENSOR (st_tensor_get_type ())

ST_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (STTensor, st_tensor, ST, TENSOR, GObject)

ST_AVAILABLE_IN_1_0
STTensor *st_tensor_new (STDType       dtype,
                         const gint64 *shape,
                         guint         n_dims,
                         GBytes       *data,
                         GError      **error);

ST_AVAILABLE_IN_1_0
STTensor *st_tensor_new_from_data (STDType       dtype,
                                   const gint64 *shape,
                                   guint         n_dims,
                                   guint64       data_address,
                                   guint64       n_bytes,
                                   GObject      *owner,
                                   GError      **error);

ST_AVAILABLE_IN_1_0
STDType st_tensor_get_dtype (STTensor *self);

ST_AVAILABLE_IN_1_0
const gint64 *st_tensor_get_shape (STTensor *self,
                                   guint    *n_dims);

ST_AVAILABLE_IN_1_0
guint st_tensor_get_n_dims (STTensor *self);

ST_AVAILABLE_IN_1_0
guint64 st_tensor_get_n_elements (STTensor *self);

ST_AVAILABLE_IN_1_0
guint64 st_tensor_get_n_bytes (STTensor *self);

ST_AVAILABLE_IN_1_0
GBytes *st_tensor_get_bytes (STTensor *self);

ST_AVAILABLE_IN_1_0
gconstpointer st_tensor_get_data (STTensor *self,
                                  gsize    *n_bytes);

ST_AVAILABLE_IN_1_0
guint64 st_tensor_get_data_address (STTensor *self);

ST_AVAILABLE_IN_1_0
gboolean st_tensor_equal (STTensor *self,
                          STTensor *other);

/* Values (st-convert.c) */

ST_AVAILABLE_IN_1_0
double *st_tensor_dup_values_as_double (STTensor  *self,
                                        guint64    start,
                                        guint64    count,
                                        gsize     *n_values,
                                        GError   **error);

ST_AVAILABLE_IN_1_0
float *st_tensor_dup_values_as_float (STTensor  *self,
                                      guint64    start,
                                      guint64    count,
                                      gsize     *n_values,
                                      GError   **error);

ST_AVAILABLE_IN_1_0
GBytes *st_tensor_dup_values_as_float_bytes (STTensor  *self,
                                             guint64    start,
                                             guint64    count,
                                             GError   **error);

G_END_DECLS
