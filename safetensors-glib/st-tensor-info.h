/* st-tensor-info.h: what a file or an index says about one tensor, as GObject properties
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

#define ST_TYPE_TENSOR_INFO (st_tensor_info_get_type ())

ST_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (STTensorInfo, st_tensor_info, ST, TENSOR_INFO, GObject)

ST_AVAILABLE_IN_1_0
const char *st_tensor_info_get_name (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
STDType st_tensor_info_get_dtype (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
const char *st_tensor_info_get_dtype_name (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
const gint64 *st_tensor_info_get_shape (STTensorInfo *self,
                                        guint        *n_dims);

ST_AVAILABLE_IN_1_0
guint st_tensor_info_get_n_dims (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
const char *st_tensor_info_get_shape_string (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
guint64 st_tensor_info_get_n_elements (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
guint64 st_tensor_info_get_n_bytes (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
gint64 st_tensor_info_get_data_begin (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
gint64 st_tensor_info_get_data_end (STTensorInfo *self);

ST_AVAILABLE_IN_1_0
const char *st_tensor_info_get_shard (STTensorInfo *self);

G_END_DECLS
