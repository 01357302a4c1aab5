/* st-error.h: the ST_ERROR domain
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
 * ST_ERROR:
 *
 * The error domain of safetensors-glib. Errors in this domain are from
 * the [error@ST.Error] enumeration. I/O failures are reported in the
 * `G_IO_ERROR` domain instead, unchanged.
 *
 * Since: 1.0
 */
#define ST_ERROR (st_error_quark ())

/**
 * STError:
 * @ST_ERROR_HEADER_TOO_SMALL: the input is shorter than the 8-byte header length
 * @ST_ERROR_HEADER_TOO_LARGE: the header length is over 100,000,000 bytes, or past the end of the input
 * @ST_ERROR_INVALID_HEADER: the header is not UTF-8, not strict JSON, not an object, nested too deeply,
 *   or a tensor entry is not an object with `dtype`, `shape` and `data_offsets`
 * @ST_ERROR_INVALID_DTYPE: an unknown dtype name
 * @ST_ERROR_INVALID_SHAPE: a shape entry that is not a non-negative 64-bit integer, or an element or
 *   byte count that overflows 64 bits
 * @ST_ERROR_INVALID_OFFSETS: data offsets that are not two non-negative 64-bit integers, or that do not
 *   tile the data buffer exactly (holes, overlaps, sizes that disagree with dtype and shape)
 * @ST_ERROR_INCOMPLETE_BUFFER: the data buffer is shorter or longer than the tensors cover
 * @ST_ERROR_INVALID_METADATA: `__metadata__` is not an object of string values
 * @ST_ERROR_DUPLICATE_NAME: a tensor name, or any key of any object, appears twice
 * @ST_ERROR_NOT_FOUND: no tensor of that name
 * @ST_ERROR_SIZE_MISMATCH: tensor data of a different length than its dtype and shape need
 * @ST_ERROR_MISALIGNED_SUB_BYTE: a sub-byte dtype (F4, F6_*) whose bits do not fill whole bytes
 * @ST_ERROR_INVALID_NAME: a tensor name that cannot be stored (`__metadata__`, or not UTF-8)
 * @ST_ERROR_INVALID_INDEX: the index of a sharded checkpoint (`model.safetensors.index.json`) is not
 *   a JSON object with a "weight_map" object of plain shard file names and an optional "metadata"
 *   object, or disagrees with its shards (a tensor missing from its shard, a tensor the index does
 *   not assign to that shard, a wrong `total_size`)
 * @ST_ERROR_INVALID_SIZE: a byte size written as text (such as `5GB`) that cannot be read
 * @ST_ERROR_INTERRUPTED_EDIT: the file carries the mark of an in-place header edit
 *   ([method@ST.File.save_header_in_place]) that did not finish: its header length has the top
 *   bit set, so that no reader takes a header that may be half written. Run
 *   `st-tool metadata --repair FILE`, or call [func@ST.File.repair_header], to complete it; the
 *   file then holds the old header or the new one. Since: 1.0
 *
 * The failures reported in the [error@ST.Error] domain. The message of each error names the tensor,
 * key or byte offset concerned.
 *
 * This enumeration may grow in later versions.
 *
 * Since: 1.0
 */
typedef enum {
  ST_ERROR_HEADER_TOO_SMALL,
  ST_ERROR_HEADER_TOO_LARGE,
  ST_ERROR_INVALID_HEADER,
  ST_ERROR_INVALID_DTYPE,
  ST_ERROR_INVALID_SHAPE,
  ST_ERROR_INVALID_OFFSETS,
  ST_ERROR_INCOMPLETE_BUFFER,
  ST_ERROR_INVALID_METADATA,
  ST_ERROR_DUPLICATE_NAME,
  ST_ERROR_NOT_FOUND,
  ST_ERROR_SIZE_MISMATCH,
  ST_ERROR_MISALIGNED_SUB_BYTE,
  ST_ERROR_INVALID_NAME,
  ST_ERROR_INVALID_INDEX,
  ST_ERROR_INVALID_SIZE,
  ST_ERROR_INTERRUPTED_EDIT,
} STError;

ST_AVAILABLE_IN_1_0
GQuark st_error_quark (void);

G_END_DECLS
