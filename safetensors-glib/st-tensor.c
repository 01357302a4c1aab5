/* st-tensor.c: one tensor: dtype, shape and bytes
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "st-enum-types.h"
#include "st-error.h"
#include "st-tensor-private.h"
#include "st-tensor.h"

/* The bytes of a tensor are its data pointer and length; the GBytes that st_tensor_get_bytes() gives is
 * made on first request, from what keeps the memory alive: @source (a GBytes the data is a slice of: the
 * mapping of a loaded file) or @owner (an object given to st_tensor_new_from_data()). A tensor made from a
 * GBytes holds that GBytes from the start. So a tensor nobody asks the GBytes of costs no GBytes. */

/**
 * STTensor:
 *
 * One tensor: an element type ([enum@ST.DType]), a shape (a list of non-negative
 * dimensions, possibly empty for a scalar) and the bytes of its elements, row-major,
 * little-endian and packed, as a [struct@GLib.Bytes].
 *
 * A tensor is an immutable value: nothing about it changes after it is made, so it may
 * be shared between threads freely. Its bytes are never copied: a tensor loaded from a
 * [class@ST.File] is a slice of the file's mapping (or buffer) and keeps that memory
 * alive on its own, after the file is gone.
 *
 * A tensor made with `g_object_new (ST_TYPE_TENSOR, NULL)` is a valid empty tensor:
 * dtype `F32`, shape `[0]`, no bytes.
 *
 * Since: 1.0
 */
/* What keeps a tensor's memory alive, besides its GBytes once made (see STTensor.keeper). */
typedef enum {
  KEEPER_NONE,    /* nothing: memory nobody owns, or the tensor's own GBytes */
  KEEPER_SOURCE,  /* a GBytes the data is a slice of: the mapping of a loaded file */
  KEEPER_OWNER,   /* an object given to st_tensor_new_from_data() */
} KeeperKind;

/* The instance is 64 bytes, a g_slice size class of its own: a file of many tensors faults in fresh memory
 * for each of them (at about 1.5 µs per 4 KiB page on the development machine, more than the rest of
 * making the object), so every field counts. The element count and the byte size are not kept (the
 * product of the shape, computed when asked), the two kinds of keeper share one pointer, and the shape is
 * a pointer: to the header of the loaded file the tensor is a view of (st_tensor_new_view(), whose data
 * keeps that header alive), or to a copy the tensor owns. */
struct _STTensor
{
  GObject parent_instance;

  guint16 dtype;        /* an STDType */
  guint8 keeper_kind;   /* a KeeperKind: which member of @keeper is set */
  guint8 owns_shape;    /* whether @shape is a copy of the tensor's own, to free */
  guint n_dims;
  const guint8 *data;   /* NULL only for some empty tensors */
  union {
    GBytes *source;     /* owned: what @data is a slice of (KEEPER_SOURCE) */
    GObject *owner;     /* owned: what owns @data (KEEPER_OWNER) */
  } keeper;
  GBytes *bytes;        /* owned; NULL until made by st_tensor_get_bytes(), then set once, atomically */
  const gint64 *shape;  /* n_dims entries; never NULL */
};

/* On 64-bit systems: a g_slice size class of its own, 64 bytes (see above). */
G_STATIC_ASSERT (GLIB_SIZEOF_VOID_P != 8 || sizeof (STTensor) == 64);

/* The shape of scalars, and of the empty tensor ([0], one dimension) */
static const gint64 no_dims[1] = { 0 };

G_DEFINE_FINAL_TYPE (STTensor, st_tensor, G_TYPE_OBJECT)

/* The product of a shape already checked by st_dtype_compute_n_bytes() or by the header parser. */
static guint64
count_elements (const gint64 *shape,
                guint         n_dims)
{
  guint64 n = 1;

  for (guint i = 0; i < n_dims; i++)
    {
      if (shape[i] == 0)
        return 0;
      n *= (guint64) shape[i];
    }
  return n;
}

/* The byte size of the tensor's data: what its dtype and shape need, which every constructor checked
 * the data against (so that neither the element count nor the bit count overflows). */
static inline gsize
tensor_n_bytes (STTensor *self)
{
  return (gsize) (count_elements (self->shape, self->n_dims) * st_dtype_get_bits (self->dtype) / 8);
}

enum {
  PROP_0,
  PROP_DTYPE,
  PROP_N_DIMS,
  PROP_N_ELEMENTS,
  PROP_N_BYTES,
  PROP_BYTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
st_tensor_finalize (GObject *object)
{
  STTensor *self = ST_TENSOR (object);

  if (self->owns_shape)
    g_free ((gint64 *) self->shape);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  if (self->keeper_kind == KEEPER_SOURCE)
    g_bytes_unref (self->keeper.source);
  else if (self->keeper_kind == KEEPER_OWNER)
    g_object_unref (self->keeper.owner);

  G_OBJECT_CLASS (st_tensor_parent_class)->finalize (object);
}

static void
st_tensor_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  STTensor *self = ST_TENSOR (object);

  switch (prop_id)
    {
    case PROP_DTYPE:
      g_value_set_enum (value, self->dtype);
      break;
    case PROP_N_DIMS:
      g_value_set_uint (value, self->n_dims);
      break;
    case PROP_N_ELEMENTS:
      g_value_set_uint64 (value, st_tensor_get_n_elements (self));
      break;
    case PROP_N_BYTES:
      g_value_set_uint64 (value, tensor_n_bytes (self));
      break;
    case PROP_BYTES:
      g_value_set_boxed (value, st_tensor_get_bytes (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
st_tensor_class_init (STTensorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = st_tensor_finalize;
  object_class->get_property = st_tensor_get_property;

  /**
   * STTensor:dtype:
   *
   * The element type of the tensor.
   *
   * Since: 1.0
   */
  properties[PROP_DTYPE] =
    g_param_spec_enum ("dtype", NULL, NULL,
                       st_dtype_get_type (), ST_DTYPE_F32,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * STTensor:n-dims:
   *
   * The number of dimensions of the tensor: 0 for a scalar.
   *
   * Since: 1.0
   */
  properties[PROP_N_DIMS] =
    g_param_spec_uint ("n-dims", NULL, NULL,
                       0, G_MAXUINT, 1,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * STTensor:n-elements:
   *
   * The number of elements of the tensor: the product of its shape (1 for a scalar).
   *
   * Since: 1.0
   */
  properties[PROP_N_ELEMENTS] =
    g_param_spec_uint64 ("n-elements", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * STTensor:n-bytes:
   *
   * The length of the tensor's data in bytes.
   *
   * Since: 1.0
   */
  properties[PROP_N_BYTES] =
    g_param_spec_uint64 ("n-bytes", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * STTensor:bytes:
   *
   * The tensor's data, shared with the tensor (never copied).
   *
   * Since: 1.0
   */
  properties[PROP_BYTES] =
    g_param_spec_boxed ("bytes", NULL, NULL,
                        G_TYPE_BYTES,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
st_tensor_init (STTensor *self)
{
  /* The empty tensor: a valid object for bindings that call g_object_new(). Its bytes (empty) are made
   * on request, as every tensor's are. */
  self->dtype = ST_DTYPE_F32;
  self->n_dims = 1;
  self->shape = no_dims;
}

/* A tensor with the given layout and no bytes yet: the constructors set data, and bytes or a keeper (or
 * none, for memory nobody owns). The shape is copied, unless it has no dimension. */
static STTensor *
tensor_new_with_layout (STDType       dtype,
                        const gint64 *shape,
                        guint         n_dims)
{
  STTensor *self = g_object_new (ST_TYPE_TENSOR, NULL);

  self->n_dims = n_dims;
  if (n_dims > 0)
    {
      self->shape = g_memdup2 (shape, n_dims * sizeof (gint64));
      self->owns_shape = TRUE;
    }
  self->dtype = (guint16) dtype;
  return self;
}

/* Checks dtype and shape; gives the element count and the byte size they need. The element count
 * follows st_dtype_compute_n_bytes(): any zero dimension makes the tensor empty, and otherwise the
 * product has been checked against overflow there. */
static gboolean
check_layout (STDType        dtype,
              const gint64  *shape,
              guint          n_dims,
              guint64       *out_n_elements,
              guint64       *out_n_bytes,
              GError       **error)
{
  if (!st_dtype_compute_n_bytes (dtype, shape, n_dims, out_n_bytes, error))
    return FALSE;

  *out_n_elements = count_elements (shape, n_dims);
  return TRUE;
}

static void
set_size_mismatch_error (GError       **error,
                         STDType        dtype,
                         const gint64  *shape,
                         guint          n_dims,
                         guint64        expected,
                         guint64        got)
{
  g_autofree char *shown = st_shape_to_string (shape, n_dims);

  g_set_error (error, ST_ERROR, ST_ERROR_SIZE_MISMATCH,
               "A tensor of dtype %s and shape %s: expected %" G_GUINT64_FORMAT " bytes, got %" G_GUINT64_FORMAT,
               st_dtype_to_string (dtype), shown, expected, got);
}

/**
 * st_tensor_new:
 * @dtype: the element type
 * @shape: (array length=n_dims) (nullable): the dimensions; %NULL only when @n_dims is 0
 * @n_dims: the number of dimensions (0 for a scalar)
 * @data: the elements, row-major, little-endian, packed
 * @error: return location for a #GError
 *
 * Makes a tensor over @data, without copying it: the tensor takes a reference on
 * @data. The length of @data must be exactly what @dtype and @shape need.
 *
 * Fails with %ST_ERROR_INVALID_SHAPE for a negative dimension or an element or bit count
 * that overflows 64 bits (a dimension of 0 makes an empty tensor, whatever the others are), %ST_ERROR_MISALIGNED_SUB_BYTE when a sub-byte dtype does not fill
 * whole bytes, %ST_ERROR_INVALID_DTYPE for a value outside [enum@ST.DType], and
 * %ST_ERROR_SIZE_MISMATCH when @data has another length.
 *
 * Returns: (transfer full): a new tensor, or %NULL with @error set
 *
 * Since: 1.0
 */
STTensor *
st_tensor_new (STDType       dtype,
               const gint64 *shape,
               guint         n_dims,
               GBytes       *data,
               GError      **error)
{
  guint64 n_elements = 0;
  guint64 n_bytes = 0;
  STTensor *self;

  g_return_val_if_fail (shape != NULL || n_dims == 0, NULL);
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_layout (dtype, shape, n_dims, &n_elements, &n_bytes, error))
    return NULL;

  if (g_bytes_get_size (data) != n_bytes)
    {
      set_size_mismatch_error (error, dtype, shape, n_dims, n_bytes, g_bytes_get_size (data));
      return NULL;
    }

  self = tensor_new_with_layout (dtype, shape, n_dims);
  self->bytes = g_bytes_ref (data);
  self->data = g_bytes_get_data (data, NULL);
  return self;
}

/* Private: the checks of st_tensor_new_from_data(), shared with st_file_set_tensor_from_data(): the
 * layout, the length it needs, and an address range that is memory. Gives the element count. */
gboolean
st_tensor_check_data (STDType        dtype,
                      const gint64  *shape,
                      guint          n_dims,
                      guint64        data_address,
                      guint64        n_bytes,
                      guint64       *out_n_elements,
                      GError       **error)
{
  guint64 n_elements = 0;
  guint64 expected = 0;

  if (!check_layout (dtype, shape, n_dims, &n_elements, &expected, error))
    return FALSE;

  if (n_bytes != expected)
    {
      set_size_mismatch_error (error, dtype, shape, n_dims, expected, n_bytes);
      return FALSE;
    }

  if (data_address == 0 && n_bytes > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The data address is 0 but the data has %" G_GUINT64_FORMAT " bytes", n_bytes);
      return FALSE;
    }

  if (data_address > G_MAXSIZE || n_bytes > G_MAXSIZE - data_address)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%" G_GUINT64_FORMAT " bytes at address 0x%" G_GINT64_MODIFIER "x do not fit in "
                   "this address space", n_bytes, data_address);
      return FALSE;
    }

  if (out_n_elements != NULL)
    *out_n_elements = n_elements;
  return TRUE;
}

/**
 * st_tensor_new_from_data:
 * @dtype: the element type
 * @shape: (array length=n_dims) (nullable): the dimensions; %NULL only when @n_dims is 0
 * @n_dims: the number of dimensions (0 for a scalar)
 * @data_address: the address of the first byte of the elements, as an integer
 * @n_bytes: the length of the elements in bytes
 * @owner: (nullable) (transfer none): an object that owns the memory at @data_address
 * @error: return location for a #GError
 *
 * Makes a tensor over memory that something else owns, without copying it. This is
 * for bindings that cannot make a [struct@GLib.Bytes] without a copy: Python passes
 * `array.ctypes.data` or `tensor.data_ptr()` and the array as @owner.
 *
 * The tensor holds a reference on @owner for as long as the tensor's bytes are in use
 * (by the tensor, or by anyone holding its [property@ST.Tensor:bytes]), and drops it
 * when the last of them goes. With @owner %NULL nothing is kept alive: the caller
 * guarantees the memory stays valid and unchanged for the whole life of the tensor
 * and of its bytes.
 *
 * An address of 0 is accepted with @n_bytes 0 only. The checks on dtype, shape and
 * length are those of [ctor@ST.Tensor.new].
 *
 * Returns: (transfer full): a new tensor, or %NULL with @error set
 *
 * This call is for language bindings: see [For language bindings](bindings.html).
 *
 * Since: 1.0
 */
STTensor *
st_tensor_new_from_data (STDType       dtype,
                         const gint64 *shape,
                         guint         n_dims,
                         guint64       data_address,
                         guint64       n_bytes,
                         GObject      *owner,
                         GError      **error)
{
  STTensor *self;

  g_return_val_if_fail (shape != NULL || n_dims == 0, NULL);
  g_return_val_if_fail (owner == NULL || G_IS_OBJECT (owner), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!st_tensor_check_data (dtype, shape, n_dims, data_address, n_bytes, NULL, error))
    return NULL;

  self = tensor_new_with_layout (dtype, shape, n_dims);
  self->data = GSIZE_TO_POINTER ((gsize) data_address);
  if (owner != NULL)
    {
      self->keeper.owner = g_object_ref (owner);
      self->keeper_kind = KEEPER_OWNER;
    }
  return self;
}

/* Makes @self a view of @n_bytes at @offset of @source, and returns it. */
static STTensor *
tensor_set_slice (STTensor *self,
                  GBytes   *source,
                  guint64   offset)
{
  const guint8 *base = g_bytes_get_data (source, NULL);

  self->data = base != NULL ? base + offset : NULL;
  self->keeper.source = g_bytes_ref (source);
  self->keeper_kind = KEEPER_SOURCE;
  return self;
}

/* Checks what the private constructors are given: bytes within @source, as many as the layout needs. */
static gboolean
slice_is_valid (STDType       dtype,
                const gint64 *shape,
                guint         n_dims,
                GBytes       *source,
                guint64       offset,
                guint64       n_bytes)
{
  guint64 expected = 0;

  return offset <= g_bytes_get_size (source) && n_bytes <= g_bytes_get_size (source) - offset &&
         st_dtype_compute_n_bytes (dtype, shape, n_dims, &expected, NULL) && expected == n_bytes;
}

/* Private: a zero-copy slice of @source, with a copy of @shape. */
STTensor *
st_tensor_new_slice (STDType       dtype,
                     const gint64 *shape,
                     guint         n_dims,
                     GBytes       *source,
                     guint64       offset,
                     guint64       n_bytes)
{
  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (slice_is_valid (dtype, shape, n_dims, source, offset, n_bytes), NULL);

  return tensor_set_slice (tensor_new_with_layout (dtype, shape, n_dims), source, offset);
}

/* Private: a zero-copy slice of @source that borrows @shape, which lives as long as @source (the loaded
 * file's data owns its header: st-file-load.c). The layout was validated with the header: nothing is
 * checked, nothing allocated but the object. */
STTensor *
st_tensor_new_view (STDType       dtype,
                    const gint64 *shape,
                    guint         n_dims,
                    GBytes       *source,
                    guint64       offset)
{
  STTensor *self = g_object_new (ST_TYPE_TENSOR, NULL);

  self->dtype = (guint16) dtype;
  self->n_dims = n_dims;
  if (n_dims > 0)
    self->shape = shape;
  return tensor_set_slice (self, source, offset);
}

/**
 * st_tensor_get_dtype:
 * @self: a tensor
 *
 * Gives the element type of the tensor.
 *
 * Returns: the dtype
 *
 * Since: 1.0
 */
STDType
st_tensor_get_dtype (STTensor *self)
{
  g_return_val_if_fail (ST_IS_TENSOR (self), ST_DTYPE_F32);

  return self->dtype;
}

/**
 * st_tensor_get_shape:
 * @self: a tensor
 * @n_dims: (out) (optional): return location for the number of dimensions
 *
 * Gives the dimensions of the tensor, outermost first. A scalar has none.
 *
 * Returns: (transfer none) (array length=n_dims): the shape, owned by the tensor
 *
 * Since: 1.0
 */
const gint64 *
st_tensor_get_shape (STTensor *self,
                     guint    *n_dims)
{
  g_return_val_if_fail (ST_IS_TENSOR (self), NULL);

  if (n_dims != NULL)
    *n_dims = self->n_dims;
  return self->shape;
}

/**
 * st_tensor_get_n_dims:
 * @self: a tensor
 *
 * Gives the number of dimensions of the tensor.
 *
 * Returns: the rank: 0 for a scalar
 *
 * Since: 1.0
 */
guint
st_tensor_get_n_dims (STTensor *self)
{
  g_return_val_if_fail (ST_IS_TENSOR (self), 0);

  return self->n_dims;
}

/**
 * st_tensor_get_n_elements:
 * @self: a tensor
 *
 * Gives the number of elements of the tensor: the product of its dimensions.
 *
 * Returns: the element count: 1 for a scalar, 0 when a dimension is 0
 *
 * Since: 1.0
 */
guint64
st_tensor_get_n_elements (STTensor *self)
{
  g_return_val_if_fail (ST_IS_TENSOR (self), 0);

  return count_elements (self->shape, self->n_dims);
}

/**
 * st_tensor_get_n_bytes:
 * @self: a tensor
 *
 * Gives the length of the tensor's data.
 *
 * Returns: the number of bytes
 *
 * Since: 1.0
 */
guint64
st_tensor_get_n_bytes (STTensor *self)
{
  g_return_val_if_fail (ST_IS_TENSOR (self), 0);

  return tensor_n_bytes (self);
}

/**
 * st_tensor_get_bytes:
 * @self: a tensor
 *
 * Gives the tensor's data, without copying it. Take a reference to keep it past the
 * life of the tensor: the bytes keep their memory (a file mapping, say) alive.
 *
 * Returns: (transfer none): the data
 *
 * Since: 1.0
 */
GBytes *
st_tensor_get_bytes (STTensor *self)
{
  GBytes *bytes;

  g_return_val_if_fail (ST_IS_TENSOR (self), NULL);

  bytes = g_atomic_pointer_get (&self->bytes);
  if (bytes != NULL)
    return bytes;

  /* Made on first request. Two threads may get here at once: both make a GBytes, one wins the
   * exchange, the other drops its own and takes the winner's. */
  if (self->keeper_kind == KEEPER_SOURCE)
    {
      const guint8 *base = g_bytes_get_data (self->keeper.source, NULL);

      bytes = g_bytes_new_from_bytes (self->keeper.source, self->data != NULL ? (gsize) (self->data - base) : 0,
                                      tensor_n_bytes (self));
    }
  else if (self->keeper_kind == KEEPER_OWNER)
    bytes = g_bytes_new_with_free_func (self->data, tensor_n_bytes (self), g_object_unref,
                                        g_object_ref (self->keeper.owner));
  else if (self->data != NULL)
    bytes = g_bytes_new_static (self->data, tensor_n_bytes (self));
  else
    bytes = g_bytes_new (NULL, 0);

  if (!g_atomic_pointer_compare_and_exchange (&self->bytes, NULL, bytes))
    {
      g_bytes_unref (bytes);
      bytes = g_atomic_pointer_get (&self->bytes);
    }
  return bytes;
}

/**
 * st_tensor_get_data:
 * @self: a tensor
 * @n_bytes: (out) (optional): return location for the length of the data
 *
 * Gives a pointer to the tensor's data, valid while the tensor lives.
 *
 * The memory of a tensor loaded from a path is a private copy-on-write mapping: it is
 * writable, and writing into it never reaches the file. Tensors are values, though:
 * writing into memory that other tensors share is the caller's responsibility.
 *
 * Returns: (transfer none) (array length=n_bytes) (element-type guint8) (nullable): the
 *   data; %NULL or any pointer when it is empty
 *
 * Since: 1.0
 */
gconstpointer
st_tensor_get_data (STTensor *self,
                    gsize    *n_bytes)
{
  g_return_val_if_fail (ST_IS_TENSOR (self), NULL);

  if (n_bytes != NULL)
    *n_bytes = tensor_n_bytes (self);
  return self->data;
}

/**
 * st_tensor_get_data_address:
 * @self: a tensor
 *
 * Gives the address of the tensor's data as an integer, for bindings that wrap memory
 * without copying it (Python's `ctypes`). The memory stays valid while the tensor, or
 * its [property@ST.Tensor:bytes], is alive.
 *
 * Returns: the address of the first byte, or 0 for some empty tensors
 *
 * This call is for language bindings: see [For language bindings](bindings.html).
 *
 * Since: 1.0
 */
guint64
st_tensor_get_data_address (STTensor *self)
{
  g_return_val_if_fail (ST_IS_TENSOR (self), 0);

  return (guint64) GPOINTER_TO_SIZE (self->data);
}

/**
 * st_tensor_equal:
 * @self: a tensor
 * @other: another tensor
 *
 * Compares two tensors by value: dtype, shape and bytes.
 *
 * Returns: %TRUE when both have the same dtype, the same shape and the same bytes
 *
 * Since: 1.0
 */
gboolean
st_tensor_equal (STTensor *self,
                 STTensor *other)
{
  gsize n_bytes;

  g_return_val_if_fail (ST_IS_TENSOR (self), FALSE);
  g_return_val_if_fail (ST_IS_TENSOR (other), FALSE);

  if (self == other)
    return TRUE;

  n_bytes = tensor_n_bytes (self);
  return self->dtype == other->dtype &&
         self->n_dims == other->n_dims &&
         memcmp (self->shape, other->shape, self->n_dims * sizeof (gint64)) == 0 &&
         (n_bytes == 0 || memcmp (self->data, other->data, n_bytes) == 0);
}
