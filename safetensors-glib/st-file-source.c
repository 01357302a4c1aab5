/* st-file-source.c: copying tensor bytes that come from a mapped file inside the kernel
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A save whose tensors are slices of a file the library mapped (a loaded file saved again with other
 * metadata, shards merged, a file re-sharded) need not bring their bytes through user space: the kernel
 * copies file ranges itself (copy_file_range), and on file systems with shared extents (XFS with
 * reflink, btrfs) can share them without copying (FICLONERANGE), where source and target offsets are
 * aligned alike on the block size.
 *
 * Every mapping made by the loader is registered here with what it came from (path, device, inode); a
 * save plan looks up each large piece it writes, and the writer reopens the source, checks it is the
 * same file, and checks that the process did not write into those pages of its private mapping (a
 * torch or numpy view written into holds bytes the file does not). Anything unusual falls back to
 * writing the bytes from memory, as before.
 *
 * "Same device and inode" proves the file holds the mapping's bytes only where the mapping is that
 * inode's own page cache. Stacking file systems break this: overlayfs maps the file of the layer below
 * (lower or upper) and keeps the device and inode numbers when a write copies a lower file up, so that
 * a mapping made before the copy-up still holds the old bytes while the path reads the new ones; a FUSE
 * file system may pass mappings through to a backing file the same way. Neither /proc/self/maps nor
 * /proc/self/map_files tells the two files apart (both show the overlay's path, device and inode), so on
 * those file systems the bytes are always written from memory, and headers never edited in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-file-source-private.h"

struct _StFileSource {
  gatomicrefcount  ref_count;
  const guint8    *address;  /* of the mapping */
  gsize            size;
  char            *path;     /* absolute, as it was when loaded */
  dev_t            dev;
  ino_t            ino;
  gboolean         stacked;  /* on a file system whose mappings may be of another file (or unsure) */
};

static GMutex registry_lock;
static GPtrArray *registry;  /* StFileSource *, sorted by address, each holding a reference */

static StFileSource *
st_file_source_ref (StFileSource *source)
{
  g_atomic_ref_count_inc (&source->ref_count);
  return source;
}

void
st_file_source_unref (StFileSource *source)
{
  if (source != NULL && g_atomic_ref_count_dec (&source->ref_count))
    {
      g_free (source->path);
      g_free (source);
    }
}

/* Whether mappings of the file open as @fd may be of another file than the one it is: on overlayfs and
 * FUSE, or when that cannot be told. Asked of the descriptor the loader mapped, not of its path: the
 * answer is then about the mapped file itself, whatever the path names by now (a later use of the path,
 * st_file_source_open() and st_file_source_is_file(), checks that it still names the same device and
 * inode), and costs no walk of the path. */
static gboolean
is_on_stacking_file_system (int fd)
{
  struct statfs fs;

  if (fstatfs (fd, &fs) != 0)
    return TRUE;
  return fs.f_type == OVERLAYFS_SUPER_MAGIC || fs.f_type == FUSE_SUPER_MAGIC;
}

/* The index of the first source whose address is >= @address. */
static guint
registry_search (const guint8 *address)
{
  guint lo = 0, hi = registry->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const StFileSource *source = g_ptr_array_index (registry, mid);

      if (source->address < address)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

StFileSource *
st_file_source_register (gconstpointer       address,
                         gsize               size,
                         int                 fd,
                         const char         *path,
                         const struct stat  *st)
{
  StFileSource *source = g_new0 (StFileSource, 1);

  g_atomic_ref_count_init (&source->ref_count);
  source->address = address;
  source->size = size;
  source->path = g_canonicalize_filename (path, NULL);
  source->dev = st->st_dev;
  source->ino = st->st_ino;
  source->stacked = is_on_stacking_file_system (fd);

  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_ptr_array_new ();
  g_ptr_array_insert (registry, (gint) registry_search (source->address), st_file_source_ref (source));
  g_mutex_unlock (&registry_lock);

  return source;
}

void
st_file_source_unregister (StFileSource *source)
{
  guint i;

  g_mutex_lock (&registry_lock);
  i = registry_search (source->address);
  g_assert (i < registry->len && g_ptr_array_index (registry, i) == source);
  g_ptr_array_remove_index (registry, i);
  g_mutex_unlock (&registry_lock);

  st_file_source_unref (source);  /* the registry's */
  st_file_source_unref (source);  /* the caller's */
}

StFileSource *
st_file_source_lookup (gconstpointer  data,
                       gsize          size,
                       guint64       *out_offset)
{
  const guint8 *p = data;
  StFileSource *found = NULL;

  g_mutex_lock (&registry_lock);
  if (registry != NULL && registry->len > 0)
    {
      /* The last mapping that starts at or before @data. */
      guint i = registry_search (p + 1);

      if (i > 0)
        {
          StFileSource *source = g_ptr_array_index (registry, i - 1);

          if (p >= source->address && (gsize) (p - source->address) <= source->size &&
              size <= source->size - (gsize) (p - source->address))
            {
              found = st_file_source_ref (source);
              *out_offset = (guint64) (p - source->address);
            }
        }
    }
  g_mutex_unlock (&registry_lock);

  return found;
}

const char *
st_file_source_get_path (StFileSource *source)
{
  return source->path;
}

gboolean
st_file_source_is_stacked (StFileSource *source)
{
  return source->stacked;
}

gboolean
st_file_source_is_file (StFileSource      *source,
                        const struct stat *st)
{
  return !source->stacked && st->st_dev == source->dev && st->st_ino == source->ino;
}

int
st_file_source_open (StFileSource *source)
{
  struct stat st;
  int fd;

  /* Nothing this process may look at proves that the file a stacked file system would read now is
   * the one it mapped (/proc/self/map_files names the overlay's file too): write from memory. */
  if (source->stacked)
    return -1;

  fd = open (source->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) != 0 || st.st_dev != source->dev || st.st_ino != source->ino ||
      (guint64) st.st_size < source->size)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Bits of an entry of /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT   (G_GUINT64_CONSTANT (1) << 63)
#define PM_SWAPPED   (G_GUINT64_CONSTANT (1) << 62)
#define PM_FILE      (G_GUINT64_CONSTANT (1) << 61)
/* Bits 57 to 60: a page write-protected by userfaultfd (57), in a guard region (58), and two that are
 * zero: none of them is set on a page just written into a mapping of the process's own. */
#define PM_ZERO_ON_PROBE (G_GUINT64_CONSTANT (0xf) << 57)

/* Pages of the probe of /proc/self/pagemap: the even ones written, the odd ones never touched. */
#define PAGEMAP_PROBE_PAGES 16

static gboolean
entry_is_written (guint64 entry)
{
  /* A page the process wrote into is its own (anonymous) page, in memory or in swap. */
  return (entry & PM_SWAPPED) || ((entry & PM_PRESENT) && !(entry & PM_FILE));
}

/* Whether the entries of the probe's pages read, in the byte order @swapped says, as a probe's must: the
 * written ones present, private and anonymous, and none of bits 57 to 60 set (a page written a moment ago
 * is not in swap yet, and if it were, the probe would only fail, which is safe), the others neither
 * present nor in swap. Read in the wrong order, the seven bits 57 to 63 that the written pages' test
 * looks at are bits 1 to 7 of a frame number, the low byte of which must then be 0x80 or 0x81 on every
 * written page: frames the kernel hands out one after the other have low bytes one after the other,
 * so that a looser test (present, not swapped, not a file page: any byte of 0x80 to 0x9f) let both
 * orders fit one probe in ten as root. */
static gboolean
probe_reads_as (const guint64 *entries,
                gsize          n_pages,
                gboolean       swapped)
{
  for (gsize i = 0; i < n_pages; i++)
    {
      guint64 entry = swapped ? GUINT64_SWAP_LE_BE (entries[i]) : entries[i];
      guint64 flags = entry & (PM_PRESENT | PM_SWAPPED | PM_FILE | PM_ZERO_ON_PROBE);

      if (i % 2 == 0 ? flags != PM_PRESENT : (entry & (PM_PRESENT | PM_SWAPPED)) != 0)
        return FALSE;
    }
  return TRUE;
}

/* The pagemap entries of @n_pages pages of a new private anonymous mapping, of which the process wrote
 * into the even ones and never touched the odd ones: how to read pagemap from them.
 *
 * The kernel writes its entries in its own byte order. A user-mode emulator of another byte order
 * (qemu-s390x on x86-64, as build-aux/test-s390x runs the big-endian tests) passes the host kernel's
 * entries through unchanged: read in the program's order, the flags of a written page are the low bits
 * of its frame number (zero without CAP_SYS_ADMIN, so the page reads as absent and unwritten; random
 * with it, so that a probe of a single written page often passed, and an in-place edit then lost a
 * byte written into a tensor). Each order is tried on the whole pattern; one that fits it, and only
 * one, is used (both fitting means nothing can be told: pagemap is then not trusted, which is safe).
 * An emulator that maps the guest's memory elsewhere than at its addresses gives the entries of other
 * pages, which fit neither order but by chance. */
StPagemapOrder
st_pagemap_order_from_probe (const guint64 *entries,
                             gsize          n_pages)
{
  gboolean native = probe_reads_as (entries, n_pages, FALSE);
  gboolean swapped = probe_reads_as (entries, n_pages, TRUE);

  if (native == swapped)
    return ST_PAGEMAP_UNTRUSTED;
  return native ? ST_PAGEMAP_NATIVE : ST_PAGEMAP_SWAPPED;
}

/* Probes /proc/self/pagemap, open as @fd: see st_pagemap_order_from_probe(). */
static StPagemapOrder
probe_pagemap (int   fd,
               gsize page)
{
  gsize size = PAGEMAP_PROBE_PAGES * page;
  guint8 *probe = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  guint64 entries[PAGEMAP_PROBE_PAGES] = { 0 };
  StPagemapOrder order = ST_PAGEMAP_UNTRUSTED;

  if (probe == MAP_FAILED)
    return ST_PAGEMAP_UNTRUSTED;
#ifdef MADV_NOHUGEPAGE
  /* A write must fault in its own page only: a large folio (transparent huge pages of 16 kB and more,
   * where the system enables them) would make the untouched pages beside it present too. */
  madvise (probe, size, MADV_NOHUGEPAGE);
#endif
  for (gsize i = 0; i < PAGEMAP_PROBE_PAGES; i += 2)
    *(volatile guint8 *) (probe + i * page) = 1;
  if (pread (fd, entries, sizeof entries, (off_t) (((guintptr) probe / page) * sizeof (guint64))) ==
      (gssize) sizeof entries)
    order = st_pagemap_order_from_probe (entries, PAGEMAP_PROBE_PAGES);
  munmap (probe, size);
  return order;
}

gboolean
st_file_source_is_unmodified (StFileSource *source,
                              guint64       offset,
                              gsize         size)
{
  static const gsize batch = 8192;
  g_autofree guint64 *entries = NULL;
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  guintptr first = ((guintptr) (source->address + offset)) / page;
  guintptr last = ((guintptr) (source->address + offset) + size - 1) / page;
  gboolean unmodified = TRUE;
  StPagemapOrder order;
  int fd;

  if (size == 0)
    return TRUE;

  fd = open ("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  order = probe_pagemap (fd, page);
  if (order == ST_PAGEMAP_UNTRUSTED)
    {
      close (fd);
      return FALSE;
    }

  entries = g_new (guint64, batch);
  for (guintptr at = first; at <= last && unmodified;)
    {
      gsize n = (gsize) MIN ((guintptr) batch, last - at + 1);
      gssize got = pread (fd, entries, n * sizeof (guint64), (off_t) (at * sizeof (guint64)));

      if (got <= 0 || got % sizeof (guint64) != 0)
        {
          unmodified = FALSE;
          break;
        }
      n = (gsize) got / sizeof (guint64);
      for (gsize i = 0; i < n; i++)
        {
          if (entry_is_written (order == ST_PAGEMAP_SWAPPED ? GUINT64_SWAP_LE_BE (entries[i]) : entries[i]))
            {
              unmodified = FALSE;
              break;
            }
        }
      at += n;
    }

  close (fd);
  return unmodified;
}

/* Shares @len bytes from @src_fd at @src_offset into @dst_fd at @dst_offset (both aligned on the block
 * size, as @len): 0 or an errno. */
static int
clone_range (int      src_fd,
             guint64  src_offset,
             int      dst_fd,
             guint64  dst_offset,
             guint64  len)
{
  struct file_clone_range range = {
    .src_fd = src_fd,
    .src_offset = src_offset,
    .src_length = len,
    .dest_offset = dst_offset,
  };

  return ioctl (dst_fd, FICLONERANGE, &range) == 0 ? 0 : errno;
}

/* copy_file_range() of @len bytes, in calls of at most 1 GiB; returns the bytes copied, and sets errno
 * when that is less than @len. */
static guint64
copy_range (int      src_fd,
            guint64  src_offset,
            int      dst_fd,
            guint64  dst_offset,
            guint64  len)
{
  guint64 done = 0;

  while (done < len)
    {
      loff_t in = (loff_t) (src_offset + done);
      loff_t out = (loff_t) (dst_offset + done);
      ssize_t n = copy_file_range (src_fd, &in, dst_fd, &out, (size_t) MIN (len - done, (guint64) 1 << 30), 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;  /* the source ended early: it was truncated since it was mapped */
          break;
        }
      done += (guint64) n;
    }
  return done;
}

guint64
st_copy_file_range (int      src_fd,
                    guint64  src_offset,
                    int      dst_fd,
                    guint64  dst_offset,
                    guint64  len,
                    guint64  block_size,
                    gboolean *clone_ok)
{
  guint64 done = 0;

  /* Extents can be shared when both offsets sit at the same place within a block: the aligned middle is
   * cloned, the ends copied. */
  if (*clone_ok && block_size > 0 && src_offset % block_size == dst_offset % block_size)
    {
      guint64 head = (block_size - src_offset % block_size) % block_size;
      guint64 middle = len > head ? (len - head) / block_size * block_size : 0;

      if (middle > 0)
        {
          guint64 copied = head > 0 ? copy_range (src_fd, src_offset, dst_fd, dst_offset, head) : 0;

          if (copied < head)
            return copied;
          done = head;
          if (clone_range (src_fd, src_offset + done, dst_fd, dst_offset + done, middle) == 0)
            done += middle;
          else
            *clone_ok = FALSE;  /* not on this file system: do not try again in this save */
        }
    }

  return done + copy_range (src_fd, src_offset + done, dst_fd, dst_offset + done, len - done);
}
