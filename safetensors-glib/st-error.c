/* st-error.c
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "st-error.h"

/**
 * st_error_quark:
 *
 * The quark of the [error@ST.Error] domain.
 *
 * Returns: the error domain of safetensors-glib
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (st-error-quark, st_error)
