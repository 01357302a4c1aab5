/* st-arena.c: the arena that holds a parsed header's entries, names and shapes
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "st-arena-private.h"

/* The size of a transparent huge page on x86-64 and most 64-bit Linux systems */
#define HUGE_PAGE_SIZE ((gsize) 2 * 1024 * 1024)
/* Blocks from this size on are mapped on their own (see st_big_block_alloc()). Half a huge page: the
 * blocks of a header of 10,000 tensors and more (its arena, its entries) then never come from malloc,
 * whose heap a process that has just freed many small objects (the tensors of the file it closed) gives
 * back to the kernel, so that the next open took a 4 KiB page fault per page again: opening the
 * 20,000-tensor file cost 2.5 times more in a loop that also touched every tensor than in one that did
 * not. A quarter of a huge page, not half: on the development machine a huge page's first fault costs
 * 80 µs and a 4 KiB page's 1.3 µs, so a block that is filled (the name index is, its names being spread
 * by their hash) costs less in a huge page from about 60 pages on; a block of 0.5 to 2 MiB reserves a
 * whole one, the price of one fault instead of 128 to 512. With the name index presized for typical
 * entries, the 20,000-tensor file's is 768 kB: from malloc, a first open in a process took 0.2 ms more
 * than with the index in a huge page; and the 10,000-tensor file's first open (arena and entries of
 * 0.5 to 1 MiB) costs a quarter less. */
#define BIG_BLOCK_MIN (HUGE_PAGE_SIZE / 4)

static gsize
big_block_mapped_size (gsize size)
{
  return (size + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
}

/* @size bytes (zeroed if @zeroed) for the arena and the name index. A large header needs megabytes of fresh
 * memory (15 MB for 100,000 tensors), and the kernel hands it out a 4 KiB page fault at a time, which on a
 * virtual machine cost more than parsing: on Linux, a block of BIG_BLOCK_MIN or more is its own mapping,
 * aligned to 2 MiB and marked for transparent huge pages, so that it takes one fault per 2 MiB where the
 * system allows it (madvise mode). Free it with st_big_block_free() and the same @size. */
gpointer
st_big_block_alloc (gsize    size,
                    gboolean zeroed)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (size >= BIG_BLOCK_MIN && size <= G_MAXSIZE - 2 * HUGE_PAGE_SIZE)
    {
      gsize mapped_size = big_block_mapped_size (size);
      gsize reserved = mapped_size + HUGE_PAGE_SIZE;
      guint8 *base = mmap (NULL, reserved, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

      if (base != MAP_FAILED)
        {
          guint8 *aligned = (guint8 *) (((guintptr) base + HUGE_PAGE_SIZE - 1) & ~(guintptr) (HUGE_PAGE_SIZE - 1));
          guint8 *tail = aligned + mapped_size;

          if (aligned > base)
            munmap (base, (gsize) (aligned - base));
          if (base + reserved > tail)
            munmap (tail, (gsize) (base + reserved - tail));
          madvise (aligned, mapped_size, MADV_HUGEPAGE);
          return aligned;
        }
    }
#endif

  return zeroed ? g_malloc0 (size) : g_malloc (size);
}

void
st_big_block_free (gpointer block,
                   gsize    size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (size >= BIG_BLOCK_MIN && size <= G_MAXSIZE - 2 * HUGE_PAGE_SIZE)
    {
      munmap (block, big_block_mapped_size (size));
      return;
    }
#endif

  g_free (block);
}

StArenaChunk *
st_arena_grow (StArena *arena,
               gsize    size)
{
  gsize chunk_size = MAX (arena->next_chunk_size, size);
  StArenaChunk *chunk = st_big_block_alloc (sizeof (StArenaChunk) + chunk_size, FALSE);

  chunk->next = arena->chunks;
  chunk->size = chunk_size;
  chunk->used = 0;
  arena->chunks = chunk;
  arena->next_chunk_size = chunk_size * 2;
  return chunk;
}

gpointer
st_arena_chunks_add (StArenaChunk **chunks,
                     gsize          size)
{
  StArenaChunk *chunk = st_big_block_alloc (sizeof (StArenaChunk) + size, FALSE);

  chunk->next = *chunks;
  chunk->size = size;
  chunk->used = size;
  *chunks = chunk;
  return chunk->data;
}

void
st_arena_chunks_free (StArenaChunk *chunk)
{
  while (chunk != NULL)
    {
      StArenaChunk *next = chunk->next;

      st_big_block_free (chunk, sizeof (StArenaChunk) + chunk->size);
      chunk = next;
    }
}
