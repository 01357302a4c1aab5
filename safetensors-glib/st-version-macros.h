/* st-version-macros.h: export and availability macros
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <glib.h>

#include "st-version.h"

#ifndef _ST_EXTERN
# define _ST_EXTERN __attribute__((visibility("default"))) extern
#endif

#define ST_VERSION_1_0 (ST_ENCODE_VERSION (1, 0))

#define ST_VERSION_CUR_STABLE (ST_ENCODE_VERSION (ST_MAJOR_VERSION, ST_MINOR_VERSION))

#ifndef ST_VERSION_MIN_REQUIRED
# define ST_VERSION_MIN_REQUIRED (ST_VERSION_CUR_STABLE)
#endif

#ifndef ST_VERSION_MAX_ALLOWED
# define ST_VERSION_MAX_ALLOWED (ST_VERSION_CUR_STABLE)
#endif

#define ST_AVAILABLE_IN_ALL _ST_EXTERN
#define ST_AVAILABLE_IN_1_0 _ST_EXTERN
