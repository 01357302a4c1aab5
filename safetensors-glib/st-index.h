/* st-index.h: sharded checkpoints (model.safetensors.index.json)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <safetensors-glib/st-file.h>

G_BEGIN_DECLS

G_END_DECLS
