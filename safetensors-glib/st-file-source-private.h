/* st-file-source-private.h: where mapped bytes came from, and copies between files in the kernel
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where mapped bytes came from (st-file-source.c): every file mapping the loader makes is registered with
 * the file it maps, so that a save can copy its tensors' bytes inside the kernel. */
typedef struct _StFileSource StFileSource;

struct stat;

/* @fd is the descriptor the mapping was made from, @path the path it was opened by and @st its fstat(). */
StFileSource *st_file_source_register (gconstpointer       address,
                                       gsize               size,
                                       int                 fd,
                                       const char         *path,
                                       const struct stat  *st);
/* Drops the registration and the reference st_file_source_register() returned. */
void st_file_source_unregister (StFileSource *source);
/* The source that @size bytes at @data are a slice of, with their offset in it (a new reference), or
 * NULL. */
StFileSource *st_file_source_lookup (gconstpointer  data,
                                     gsize          size,
                                     guint64       *out_offset);
void st_file_source_unref (StFileSource *source);
const char *st_file_source_get_path (StFileSource *source);
/* Whether @source is on a file system whose mappings may be of another file than its path names
 * (overlayfs, FUSE), or on one that could not be told. */
gboolean st_file_source_is_stacked (StFileSource *source);
/* Whether @st describes the file @source maps (same device and inode), on a file system whose mappings
 * are the file's own pages (not overlayfs or FUSE, which may map another file under the same numbers). */
gboolean st_file_source_is_file (StFileSource      *source,
                                 const struct stat *st);
/* The source file opened for reading, when it is still the file that was mapped (same device and inode,
 * no shorter) on a file system whose mappings are the file's own pages (not overlayfs or FUSE); -1
 * otherwise. */
int st_file_source_open (StFileSource *source);
/* Whether the process wrote into none of the pages of its private mapping that hold @size bytes at
 * @offset (/proc/self/pagemap): only then does the file hold what the memory holds. FALSE when pagemap
 * cannot be read or trusted. */
gboolean st_file_source_is_unmodified (StFileSource *source,
                                       guint64       offset,
                                       gsize         size);
/* Copies @len bytes between files in the kernel: extents shared (FICLONERANGE) where the offsets are
 * aligned alike on @block_size and *@clone_ok (cleared when cloning fails), copy_file_range() for the
 * rest. Returns the bytes copied, with errno set when fewer than @len. */
guint64 st_copy_file_range (int       src_fd,
                            guint64   src_offset,
                            int       dst_fd,
                            guint64   dst_offset,
                            guint64   len,
                            guint64   block_size,
                            gboolean *clone_ok);

/* How this process reads /proc/self/pagemap (see st_pagemap_order_from_probe()). */
typedef enum {
  ST_PAGEMAP_UNTRUSTED,  /* its entries say nothing true of this process's pages */
  ST_PAGEMAP_NATIVE,     /* in this process's byte order */
  ST_PAGEMAP_SWAPPED,    /* in the other byte order: a user-mode emulator passes the host kernel's through */
} StPagemapOrder;

/* Judges the pagemap entries of @n_pages probe pages, of which the even ones were written and the odd
 * ones never touched. */
StPagemapOrder st_pagemap_order_from_probe (const guint64 *entries,
                                            gsize          n_pages);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StFileSource, st_file_source_unref)

G_END_DECLS
