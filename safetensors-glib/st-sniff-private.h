/* st-sniff-private.h: what a file that is not a safetensors file really is
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the first bytes of a file say it is. */
typedef enum {
  ST_SNIFF_UNKNOWN,           /* nothing recognisable: a safetensors file, perhaps a broken one */
  ST_SNIFF_TRUNCATED,         /* a safetensors header that the end of the file cuts short */
  ST_SNIFF_GIT_LFS_POINTER,   /* "version https://git-lfs.github.com/spec/v1", the stand-in Git LFS leaves */
  ST_SNIFF_HTML,              /* a web page, as a failed download saves it */
  ST_SNIFF_ZIP,               /* a ZIP archive: PyTorch's .bin and .pt checkpoints since 1.6 */
  ST_SNIFF_PICKLE,            /* a Python pickle: PyTorch's older checkpoints */
  ST_SNIFF_GGUF,              /* a GGUF file (llama.cpp) */
  ST_SNIFF_INDEX,             /* a JSON object with a "weight_map": a sharded checkpoint's index */
  ST_SNIFF_JSON,              /* any other JSON document */
} StSniffKind;

/* Looks at @head, the first @head_len bytes of a file of @file_size bytes (at least 4096 of them, or the
 * whole file, for a sure answer). */
StSniffKind st_sniff_bytes (const guint8 *head,
                            gsize         head_len,
                            guint64       file_size);

/* A phrase that names @kind for an error message, such as "a Git LFS pointer file, not the data (fetch
 * it with “git lfs pull”)": to follow "it is". NULL for ST_SNIFF_UNKNOWN. */
const char *st_sniff_describe (StSniffKind kind);

G_END_DECLS
