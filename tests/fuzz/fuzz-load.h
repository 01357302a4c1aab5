/* fuzz-load.h: the fuzz target's entry point, shared with the crash-regression test
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Runs one input through every check of fuzz-load.c; aborts on a finding. */
int st_fuzz_load_one_input (const uint8_t *data, size_t size);
