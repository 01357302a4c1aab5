/* st-tensor-info.c: what a file or an index says about one tensor, as GObject properties
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "st-enum-types.h"
#include "st-tensor-info-private.h"

/**
 * STTensorInfo:
 *
 * The description of one tensor: its name, dtype, shape, size and where its
 * data lies, without its data. [class@ST.File] and [class@ST.Index] are
 * [iface@Gio.ListModel]s of these items, one per tensor (a file's in file
 * order, an index's sorted by name), so that a `GtkColumnView` or `GtkListView`
 * shows the tensors with `GtkPropertyExpression`s on these properties alone,
 * as in this cell of a `GtkBuilderListItemFactory`:
 *
 * ```xml
 * <object class="GtkLabel">
 *   <binding name="label">
 *     <lookup name="dtype-name" type="STTensorInfo">
 *       <lookup name="item">GtkListItem</lookup>
 *     </lookup>
 *   </binding>
 * </object>
 * ```
 *
 * Every property is read-only and never changes: when a tensor of a file is
 * replaced, the file's list model replaces its item (see
 * [signal@Gio.ListModel::items-changed]). An item is shared freely between
 * threads.
 *
 * Since: 1.0
 */
struct _STTensorInfo
{
  GObject parent_instance;

  char *name;
  char *dtype_name;    /* nullable: NULL for an item whose shard could not be opened */
  char *shape_string;  /* nullable, as dtype_name */
  char *shard;         /* nullable */
  gint64 *shape;       /* n_dims entries, at least one slot */
  guint n_dims;
  STDType dtype;
  guint64 n_elements;
  guint64 n_bytes;
  gint64 begin;
  gint64 end;
};

G_DEFINE_FINAL_TYPE (STTensorInfo, st_tensor_info, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DTYPE,
  PROP_DTYPE_NAME,
  PROP_N_DIMS,
  PROP_SHAPE_STRING,
  PROP_N_ELEMENTS,
  PROP_N_BYTES,
  PROP_DATA_BEGIN,
  PROP_DATA_END,
  PROP_SHARD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
st_tensor_info_finalize (GObject *object)
{
  STTensorInfo *self = ST_TENSOR_INFO (object);

  g_free (self->name);
  g_free (self->dtype_name);
  g_free (self->shape_string);
  g_free (self->shard);
  g_free (self->shape);

  G_OBJECT_CLASS (st_tensor_info_parent_class)->finalize (object);
}

static void
st_tensor_info_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  STTensorInfo *self = ST_TENSOR_INFO (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_DTYPE:
      g_value_set_enum (value, self->dtype);
      break;
    case PROP_DTYPE_NAME:
      g_value_set_string (value, self->dtype_name);
      break;
    case PROP_N_DIMS:
      g_value_set_uint (value, self->n_dims);
      break;
    case PROP_SHAPE_STRING:
      g_value_set_string (value, self->shape_string);
      break;
    case PROP_N_ELEMENTS:
      g_value_set_uint64 (value, self->n_elements);
      break;
    case PROP_N_BYTES:
      g_value_set_uint64 (value, self->n_bytes);
      break;
    case PROP_DATA_BEGIN:
      g_value_set_int64 (value, self->begin);
      break;
    case PROP_DATA_END:
      g_value_set_int64 (value, self->end);
      break;
    case PROP_SHARD:
      g_value_set_string (value, self->shard);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
st_tensor_info_class_init (STTensorInfoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = st_tensor_info_finalize;
  object_class->get_property = st_tensor_info_get_property;

  /**
   * STTensorInfo:name:
   *
   * The name of the tensor.
   *
   * Since: 1.0
   */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, "", flags);

  /**
   * STTensorInfo:dtype:
   *
   * The element type of the tensor (`F32` for an item whose shard could not be
   * opened: see [property@ST.TensorInfo:dtype-name]).
   *
   * Since: 1.0
   */
  properties[PROP_DTYPE] = g_param_spec_enum ("dtype", NULL, NULL, st_dtype_get_type (), ST_DTYPE_F32, flags);

  /**
   * STTensorInfo:dtype-name:
   *
   * The element type as the header names it, such as `BF16`: the property to
   * show in a label. %NULL for an item of an [class@ST.Index] whose shard
   * could not be opened.
   *
   * Since: 1.0
   */
  properties[PROP_DTYPE_NAME] = g_param_spec_string ("dtype-name", NULL, NULL, NULL, flags);

  /**
   * STTensorInfo:n-dims:
   *
   * The number of dimensions: 0 for a scalar.
   *
   * Since: 1.0
   */
  properties[PROP_N_DIMS] = g_param_spec_uint ("n-dims", NULL, NULL, 0, G_MAXUINT, 0, flags);

  /**
   * STTensorInfo:shape-string:
   *
   * The shape as text: `[2, 3]`, or `[]` for a scalar. The dimensions themselves are
   * given by [method@ST.TensorInfo.get_shape]. %NULL for an item of an
   * [class@ST.Index] whose shard could not be opened.
   *
   * Since: 1.0
   */
  properties[PROP_SHAPE_STRING] = g_param_spec_string ("shape-string", NULL, NULL, NULL, flags);

  /**
   * STTensorInfo:n-elements:
   *
   * The number of elements: the product of the dimensions (1 for a scalar).
   *
   * Since: 1.0
   */
  properties[PROP_N_ELEMENTS] = g_param_spec_uint64 ("n-elements", NULL, NULL, 0, G_MAXUINT64, 0, flags);

  /**
   * STTensorInfo:n-bytes:
   *
   * The size of the tensor's data in bytes.
   *
   * Since: 1.0
   */
  properties[PROP_N_BYTES] = g_param_spec_uint64 ("n-bytes", NULL, NULL, 0, G_MAXUINT64, 0, flags);

  /**
   * STTensorInfo:data-begin:
   *
   * Where the tensor's data begins in the data buffer of the file it was
   * loaded from (the first of its `data_offsets`), or -1 for a tensor set in
   * memory since (or in a file that was not loaded).
   *
   * Since: 1.0
   */
  properties[PROP_DATA_BEGIN] = g_param_spec_int64 ("data-begin", NULL, NULL, -1, G_MAXINT64, -1, flags);

  /**
   * STTensorInfo:data-end:
   *
   * One past the last byte of the tensor's data in the data buffer of the
   * file it was loaded from (the second of its `data_offsets`), or -1 as for
   * [property@ST.TensorInfo:data-begin].
   *
   * Since: 1.0
   */
  properties[PROP_DATA_END] = g_param_spec_int64 ("data-end", NULL, NULL, -1, G_MAXINT64, -1, flags);

  /**
   * STTensorInfo:shard:
   *
   * For a tensor of an [class@ST.Index], the file name of the shard that
   * holds it; %NULL for a tensor of an [class@ST.File].
   *
   * Since: 1.0
   */
  properties[PROP_SHARD] = g_param_spec_string ("shard", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
st_tensor_info_init (STTensorInfo *self)
{
  self->name = g_strdup ("");
  self->shape = g_new0 (gint64, 1);
  self->dtype = ST_DTYPE_F32;
  self->begin = -1;
  self->end = -1;
}

static char *
format_shape (const gint64 *shape,
              guint         n_dims)
{
  GString *string = g_string_new ("[");

  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (string, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", shape[i]);
  g_string_append_c (string, ']');
  return g_string_free (string, FALSE);
}

STTensorInfo *
st_tensor_info_new (const char   *name,
                    STDType       dtype,
                    const gint64 *shape,
                    guint         n_dims,
                    gint64        begin,
                    gint64        end,
                    const char   *shard)
{
  STTensorInfo *self = g_object_new (ST_TYPE_TENSOR_INFO, NULL);
  guint64 n_elements = 1;

  g_free (self->name);
  self->name = g_strdup (name);
  self->dtype = dtype;
  self->dtype_name = g_strdup (st_dtype_to_string (dtype));
  self->n_dims = n_dims;
  g_free (self->shape);
  self->shape = g_new0 (gint64, MAX (n_dims, 1));
  if (n_dims > 0)
    memcpy (self->shape, shape, n_dims * sizeof (gint64));
  self->shape_string = format_shape (shape, n_dims);
  for (guint i = 0; i < n_dims; i++)
    n_elements = shape[i] == 0 ? 0 : n_elements * (guint64) shape[i];  /* the caller checked the shape */
  self->n_elements = n_elements;
  /* The layout was checked when the tensor was made: its byte count is whole and fits. */
  if (!st_dtype_compute_n_bytes (dtype, shape, n_dims, &self->n_bytes, NULL))
    self->n_bytes = 0;
  self->begin = begin;
  self->end = end;
  self->shard = g_strdup (shard);
  return self;
}

STTensorInfo *
st_tensor_info_new_unavailable (const char *name,
                                const char *shard)
{
  STTensorInfo *self = g_object_new (ST_TYPE_TENSOR_INFO, NULL);

  g_free (self->name);
  self->name = g_strdup (name);
  self->shard = g_strdup (shard);
  return self;
}

/**
 * st_tensor_info_get_name:
 * @self: a tensor description
 *
 * Gives the name of the tensor.
 *
 * Returns: the name
 *
 * Since: 1.0
 */
const char *
st_tensor_info_get_name (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), NULL);
  return self->name;
}

/**
 * st_tensor_info_get_dtype:
 * @self: a tensor description
 *
 * Gives the element type of the tensor.
 *
 * Returns: the dtype
 *
 * Since: 1.0
 */
STDType
st_tensor_info_get_dtype (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), ST_DTYPE_F32);
  return self->dtype;
}

/**
 * st_tensor_info_get_dtype_name:
 * @self: a tensor description
 *
 * Gives the element type as the header names it, such as `BF16`.
 *
 * Returns: (nullable): the dtype's name, or %NULL for an item of an index
 *   whose shard could not be opened
 *
 * Since: 1.0
 */
const char *
st_tensor_info_get_dtype_name (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), NULL);
  return self->dtype_name;
}

/**
 * st_tensor_info_get_shape:
 * @self: a tensor description
 * @n_dims: (out) (optional): return location for the number of dimensions
 *
 * Gives the dimensions of the tensor, outermost first.
 *
 * Returns: (array length=n_dims) (transfer none): the shape, owned by @self
 *
 * Since: 1.0
 */
const gint64 *
st_tensor_info_get_shape (STTensorInfo *self,
                          guint        *n_dims)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), NULL);

  if (n_dims != NULL)
    *n_dims = self->n_dims;
  return self->shape;
}

/**
 * st_tensor_info_get_n_dims:
 * @self: a tensor description
 *
 * Gives the number of dimensions of the tensor.
 *
 * Returns: the rank: 0 for a scalar
 *
 * Since: 1.0
 */
guint
st_tensor_info_get_n_dims (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), 0);
  return self->n_dims;
}

/**
 * st_tensor_info_get_shape_string:
 * @self: a tensor description
 *
 * Gives the shape as text: `[2, 3]`, or `[]` for a scalar.
 *
 * Returns: (nullable): the shape, or %NULL for an item of an index whose
 *   shard could not be opened
 *
 * Since: 1.0
 */
const char *
st_tensor_info_get_shape_string (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), NULL);
  return self->shape_string;
}

/**
 * st_tensor_info_get_n_elements:
 * @self: a tensor description
 *
 * Gives the number of elements of the tensor.
 *
 * Returns: the element count: 1 for a scalar, 0 when a dimension is 0
 *
 * Since: 1.0
 */
guint64
st_tensor_info_get_n_elements (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), 0);
  return self->n_elements;
}

/**
 * st_tensor_info_get_n_bytes:
 * @self: a tensor description
 *
 * Gives the size of the tensor's data.
 *
 * Returns: the size in bytes
 *
 * Since: 1.0
 */
guint64
st_tensor_info_get_n_bytes (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), 0);
  return self->n_bytes;
}

/**
 * st_tensor_info_get_data_begin:
 * @self: a tensor description
 *
 * Gives where the tensor's data begins in the data buffer of the file it was
 * loaded from.
 *
 * Returns: the offset, or -1 for a tensor that was not loaded from a file
 *
 * Since: 1.0
 */
gint64
st_tensor_info_get_data_begin (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), -1);
  return self->begin;
}

/**
 * st_tensor_info_get_data_end:
 * @self: a tensor description
 *
 * Gives where the tensor's data ends (one past its last byte) in the data
 * buffer of the file it was loaded from.
 *
 * Returns: the offset, or -1 for a tensor that was not loaded from a file
 *
 * Since: 1.0
 */
gint64
st_tensor_info_get_data_end (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), -1);
  return self->end;
}

/**
 * st_tensor_info_get_shard:
 * @self: a tensor description
 *
 * Gives the file name of the shard that holds the tensor, for a tensor of an
 * [class@ST.Index].
 *
 * Returns: (nullable): the shard's file name, or %NULL for a tensor of an
 *   [class@ST.File]
 *
 * Since: 1.0
 */
const char *
st_tensor_info_get_shard (STTensorInfo *self)
{
  g_return_val_if_fail (ST_IS_TENSOR_INFO (self), NULL);
  return self->shard;
}
