/* st-version-macros.h: export, availability and deprecation macros
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every public symbol is declared with ST_AVAILABLE_IN_x_y, the version that added it. An application that
 * defines ST_VERSION_MAX_ALLOWED before including <safetensors-glib/safetensors-glib.h> gets a warning for
 * each symbol newer than that version; one that defines ST_VERSION_MIN_REQUIRED gets a warning for each
 * symbol deprecated in that version or before (ST_DEPRECATED_IN_x_y), and none for later deprecations.
 *
 * Each minor release adds its ST_VERSION_x_y and its block of ST_AVAILABLE_IN_x_y / ST_DEPRECATED_IN_x_y
 * below (doc/api-policy.md).
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

/**
 * ST_DEPRECATED:
 *
 * Marks a declaration as deprecated, unless `ST_DISABLE_DEPRECATION_WARNINGS`
 * is defined. The library uses the versioned forms (`ST_DEPRECATED_IN_x_y`).
 *
 * Since: 1.0
 */

/**
 * ST_DEPRECATED_FOR:
 * @f: the name of the replacement
 *
 * Marks a declaration as deprecated in favour of @f, unless
 * `ST_DISABLE_DEPRECATION_WARNINGS` is defined.
 *
 * Since: 1.0
 */

/**
 * ST_UNAVAILABLE:
 * @maj: the major version that added the declaration
 * @min: the minor version that added the declaration
 *
 * Marks a declaration as newer than `ST_VERSION_MAX_ALLOWED`, unless
 * `ST_DISABLE_DEPRECATION_WARNINGS` is defined.
 *
 * Since: 1.0
 */
#ifdef ST_DISABLE_DEPRECATION_WARNINGS
# define ST_DEPRECATED _ST_EXTERN
# define ST_DEPRECATED_FOR(f) _ST_EXTERN
# define ST_UNAVAILABLE(maj,min) _ST_EXTERN
#else
# define ST_DEPRECATED G_DEPRECATED _ST_EXTERN
# define ST_DEPRECATED_FOR(f) G_DEPRECATED_FOR (f) _ST_EXTERN
# define ST_UNAVAILABLE(maj,min) G_UNAVAILABLE (maj, min) _ST_EXTERN
#endif

/**
 * ST_VERSION_1_0:
 *
 * The encoded representation of version 1.0 of safetensors-glib, for
 * `ST_VERSION_MIN_REQUIRED` and `ST_VERSION_MAX_ALLOWED`.
 *
 * Since: 1.0
 */
#define ST_VERSION_1_0 (ST_ENCODE_VERSION (1, 0))

/**
 * ST_VERSION_1_2:
 *
 * The encoded representation of version 1.2 of safetensors-glib, for
 * `ST_VERSION_MIN_REQUIRED` and `ST_VERSION_MAX_ALLOWED`.
 *
 * Since: 1.2
 */
#define ST_VERSION_1_2 (ST_ENCODE_VERSION (1, 2))

/* The stable version these headers belong to (a development version, odd minor, counts as the next
 * stable one), and the one before it. */
#if ST_MINOR_VERSION % 2
# define ST_VERSION_CUR_STABLE (ST_ENCODE_VERSION (ST_MAJOR_VERSION, ST_MINOR_VERSION + 1))
# define ST_VERSION_PREV_STABLE (ST_ENCODE_VERSION (ST_MAJOR_VERSION, ST_MINOR_VERSION - 1))
#else
# define ST_VERSION_CUR_STABLE (ST_ENCODE_VERSION (ST_MAJOR_VERSION, ST_MINOR_VERSION))
# define ST_VERSION_PREV_STABLE (ST_ENCODE_VERSION (ST_MAJOR_VERSION, ST_MINOR_VERSION > 0 ? ST_MINOR_VERSION - 2 : 0))
#endif

/**
 * ST_VERSION_MIN_REQUIRED:
 *
 * The oldest version of safetensors-glib the application supports: define it
 * (as one of the `ST_VERSION_x_y` macros) before including
 * `<safetensors-glib/safetensors-glib.h>`. Symbols deprecated after that
 * version do not warn. Defaults to the current stable version.
 *
 * Since: 1.0
 */
#ifndef ST_VERSION_MIN_REQUIRED
# define ST_VERSION_MIN_REQUIRED (ST_VERSION_CUR_STABLE)
#endif

/**
 * ST_VERSION_MAX_ALLOWED:
 *
 * The newest version of safetensors-glib whose API the application may use:
 * define it (as one of the `ST_VERSION_x_y` macros) before including
 * `<safetensors-glib/safetensors-glib.h>`. Symbols added after that version
 * warn. Defaults to `ST_VERSION_MIN_REQUIRED` when that is newer than the
 * previous stable version, else to the current stable version.
 *
 * Since: 1.0
 */
#ifndef ST_VERSION_MAX_ALLOWED
# if ST_VERSION_MIN_REQUIRED > ST_VERSION_PREV_STABLE
#  define ST_VERSION_MAX_ALLOWED (ST_VERSION_MIN_REQUIRED)
# else
#  define ST_VERSION_MAX_ALLOWED (ST_VERSION_CUR_STABLE)
# endif
#endif

#if ST_VERSION_MAX_ALLOWED < ST_VERSION_MIN_REQUIRED
# error "ST_VERSION_MAX_ALLOWED must be >= ST_VERSION_MIN_REQUIRED"
#endif
#if ST_VERSION_MIN_REQUIRED < ST_VERSION_1_0
# error "ST_VERSION_MIN_REQUIRED must be >= ST_VERSION_1_0"
#endif

#define ST_AVAILABLE_IN_ALL _ST_EXTERN

/**
 * ST_AVAILABLE_IN_1_0:
 *
 * Declares a symbol added in version 1.0.
 *
 * Since: 1.0
 */

/**
 * ST_DEPRECATED_IN_1_0:
 *
 * Declares a symbol deprecated in version 1.0: it warns when
 * `ST_VERSION_MIN_REQUIRED` is 1.0 or later.
 *
 * Since: 1.0
 */

/**
 * ST_DEPRECATED_IN_1_0_FOR:
 * @f: the name of the replacement
 *
 * Declares a symbol deprecated in version 1.0 in favour of @f: it warns when
 * `ST_VERSION_MIN_REQUIRED` is 1.0 or later.
 *
 * Since: 1.0
 */

/* 1.0 */
#if ST_VERSION_MIN_REQUIRED >= ST_VERSION_1_0
# define ST_DEPRECATED_IN_1_0 ST_DEPRECATED
# define ST_DEPRECATED_IN_1_0_FOR(f) ST_DEPRECATED_FOR (f)
#else
# define ST_DEPRECATED_IN_1_0 _ST_EXTERN
# define ST_DEPRECATED_IN_1_0_FOR(f) _ST_EXTERN
#endif

#if ST_VERSION_MAX_ALLOWED < ST_VERSION_1_0
# define ST_AVAILABLE_IN_1_0 ST_UNAVAILABLE (1, 0)
#else
# define ST_AVAILABLE_IN_1_0 _ST_EXTERN
#endif

/**
 * ST_AVAILABLE_IN_1_2:
 *
 * Declares a symbol added in version 1.2.
 *
 * Since: 1.2
 */

/**
 * ST_DEPRECATED_IN_1_2:
 *
 * Declares a symbol deprecated in version 1.2: it warns when
 * `ST_VERSION_MIN_REQUIRED` is 1.2 or later.
 *
 * Since: 1.2
 */

/**
 * ST_DEPRECATED_IN_1_2_FOR:
 * @f: the name of the replacement
 *
 * Declares a symbol deprecated in version 1.2 in favour of @f: it warns when
 * `ST_VERSION_MIN_REQUIRED` is 1.2 or later.
 *
 * Since: 1.2
 */

/* 1.2 */
#if ST_VERSION_MIN_REQUIRED >= ST_VERSION_1_2
# define ST_DEPRECATED_IN_1_2 ST_DEPRECATED
# define ST_DEPRECATED_IN_1_2_FOR(f) ST_DEPRECATED_FOR (f)
#else
# define ST_DEPRECATED_IN_1_2 _ST_EXTERN
# define ST_DEPRECATED_IN_1_2_FOR(f) _ST_EXTERN
#endif

#if ST_VERSION_MAX_ALLOWED < ST_VERSION_1_2
# define ST_AVAILABLE_IN_1_2 ST_UNAVAILABLE (1, 2)
#else
# define ST_AVAILABLE_IN_1_2 _ST_EXTERN
#endif
