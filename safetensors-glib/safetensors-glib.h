/* safetensors-glib.h: the umbrella header
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The safetensors format, byte for byte:
 *
 *   offset 0      8 bytes   N, the header length: unsigned 64-bit little-endian, at most 100,000,000
 *   offset 8      N bytes   the header: UTF-8 JSON, one object, padded with trailing spaces
 *                             {"__metadata__": {"key": "value", ...},          (optional, strings only)
 *                              "name": {"dtype": "F32",                          (see STDType)
 *                                       "shape": [2, 3],                         (non-negative integers)
 *                                       "data_offsets": [begin, end]},           (relative to offset 8 + N)
 *                              ...}
 *   offset 8 + N  the rest  the data buffer: every tensor's bytes, row-major, little-endian, packed
 *
 * The tensors' [begin, end) ranges tile the data buffer exactly: sorted by begin, the first begins at 0, each
 * begins where the previous ends, each is as long as its dtype and shape require, and the last ends at the end
 * of the file. No name appears twice; no key appears twice in any object.
 */
#pragma once

#define __SAFETENSORS_GLIB_H_INSIDE__

#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-version.h>
#include <safetensors-glib/st-error.h>
#include <safetensors-glib/st-dtype.h>
#include <safetensors-glib/st-enum-types.h>
#include <safetensors-glib/st-tensor.h>
#include <safetensors-glib/st-tensor-info.h>
#include <safetensors-glib/st-file.h>
#include <safetensors-glib/st-file-bulk.h>
#include <safetensors-glib/st-index.h>
#include <safetensors-glib/st-size.h>
#include <safetensors-glib/st-writer.h>
#include <safetensors-glib/st-file-edit.h>
#include <safetensors-glib/st-file-remote.h>
#include <safetensors-glib/st-index-remote.h>
#include <safetensors-glib/st-hub.h>
#include <safetensors-glib/st-ranges.h>
#include <safetensors-glib/st-planned-save.h>

#undef __SAFETENSORS_GLIB_H_INSIDE__
