/* st-arena-private.h: the arena that holds a parsed header's entries, names and shapes
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Memory cut from large chunks and freed all at once, with no allocation per tensor; large blocks are
 * mapped in huge pages where Linux offers them (st_big_block_alloc(), which the name index uses too).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _StArenaChunk StArenaChunk;

struct _StArenaChunk {
  StArenaChunk *next;   /* the chunk filled before this one */
  gsize         size;   /* bytes of data */
  gsize         used;
  guint64       data[]; /* 8-byte aligned */
};

/* An arena being filled: the chunk being filled first, the older ones after it. */
typedef struct {
  StArenaChunk *chunks;
  gsize         next_chunk_size;  /* the size of the next chunk; later chunks double */
} StArena;

StArenaChunk *st_arena_grow (StArena *arena,
                             gsize    size);

/* @size bytes, 8-byte aligned, that live as long as the arena. */
static inline gpointer
st_arena_alloc (StArena *arena,
                gsize    size)
{
  StArenaChunk *chunk = arena->chunks;
  gpointer block;

  size = (size + 7) & ~(gsize) 7;
  if (G_UNLIKELY (chunk == NULL || chunk->size - chunk->used < size))
    chunk = st_arena_grow (arena, size);

  block = (guint8 *) chunk->data + chunk->used;
  chunk->used += size;
  return block;
}

/* @size bytes of uninitialized memory in a chunk of their own, added to the list @chunks. */
gpointer st_arena_chunks_add (StArenaChunk **chunks,
                              gsize          size);
/* Frees @chunks and every chunk after it. */
void     st_arena_chunks_free (StArenaChunk *chunks);

/* @size bytes (zeroed if @zeroed); free them with st_big_block_free() and the same @size. */
gpointer st_big_block_alloc (gsize    size,
                             gboolean zeroed);
void     st_big_block_free  (gpointer block,
                             gsize    size);

G_END_DECLS
