/* st-bench.c: one C benchmark case per process, run by bench/run
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Usage: st-bench CASE ARGS...
 *
 *   open PATH MIN_SECONDS     st_file_new_from_path (header parse, no data read): the first call in the
 *                             process, then repeated until MIN_SECONDS have passed; "seconds" is the mean
 *                             of the repeats, "first_seconds" the first call, "close_seconds" the mean
 *                             of the g_object_unref() that follows each repeat (not in "seconds")
 *   open-touch PATH MIN_SECONDS
 *                             the same, each open followed by what load-read does after it: every tensor
 *                             got by name (st_file_get_tensor, in file order) and one byte of every page of
 *                             its data read; the cost of the tensor objects beside the cost of opening
 *   save SRC DST              st_file_save_to_path of SRC's tensors, held in one malloc'd buffer
 *   write SRC DST             the floor of save: SRC's bytes, held in one malloc'd buffer, written to DST
 *                             with plain write() calls
 *   steady-save SRC DST N     save and write alternating N times each in one process: medians of each
 *   steady-stream SRC DST N   the streaming writer (STWriter: declare, then each tensor in 16 MiB
 *                             chunks) and write alternating N times each in one process: medians of each
 *   edit PATH MODE            st-tool metadata --set of PATH (load, change the value of the metadata key
 *                             "bench" to another of the same length, save over PATH): MODE "in-place"
 *                             writes the header alone where it can, "whole" saves the whole file (with
 *                             kernel copies unless ST_NO_KERNEL_COPY=1, the path before them)
 *   merge SRC DIR DST         a checkpoint of SRC's tensors in 4 shards (made in DIR once, untimed),
 *                             merged into DST: st_index_new_from_path, st_index_merge, st_file_save_to_path
 *   load-read PATH            st_file_new_from_path, then one byte of every page of every tensor read;
 *                             with the time and page faults of each phase (open, names, tensors)
 *   mmap-read PATH            the floor of load-read: mmap (private, read-write, as the library maps)
 *                             and one byte of every page read; with the time and page faults of each
 *                             phase (map, pages)
 *   steady-read PATH N        load-read and mmap-read alternating N times each in one process: medians of
 *                             each (the file dropped, or unmapped, after each round, untimed)
 *
 * Each prints one JSON object on stdout: seconds, rss_growth_kib (peak RSS during the measured operation
 * minus RSS before it), bytes, and case-specific fields. Failures print the GError and exit 1.
 */

#include <safetensors-glib/safetensors-glib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SIZE_BYTES 4096

static double
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (user and system, every thread): unlike the wall clock, it does not count
 * the time other jobs on a shared machine hold the CPUs. */
static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static gint64
status_kib (const char *field)
{
  g_autofree char *status = NULL;
  gsize field_len = strlen (field);

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;

  for (const char *line = status; line != NULL && *line != '\0';)
    {
      if (strncmp (line, field, field_len) == 0 && line[field_len] == ':')
        return g_ascii_strtoll (line + field_len + 1, NULL, 10);
      line = strchr (line, '\n');
      if (line != NULL)
        line++;
    }
  return -1;
}

/* Peak RSS growth over a measured operation: Linux resets VmHWM when "5" is written to clear_refs. */
typedef struct {
  gint64 rss_before_kib;
} PeakRss;

static void
peak_rss_start (PeakRss *peak)
{
  int fd = open ("/proc/self/clear_refs", O_WRONLY);

  if (fd >= 0)
    {
      if (write (fd, "5", 1) != 1)
        g_printerr ("st-bench: could not reset VmHWM: %s\n", g_strerror (errno));
      close (fd);
    }
  peak->rss_before_kib = status_kib ("VmRSS");
}

static gint64
peak_rss_growth_kib (const PeakRss *peak)
{
  gint64 hwm = status_kib ("VmHWM");

  return MAX (0, hwm - peak->rss_before_kib);
}

/* Reads one byte of every page that [data, data + n) spans; returns their sum so nothing is optimized away. */
static guint64
touch_pages (const guint8 *data,
             gsize         n)
{
  const volatile guint8 *p = data;
  guint64 sum = 0;

  if (n == 0)
    return 0;
  for (gsize i = 0; i < n; i += PAGE_SIZE_BYTES)
    sum += p[i];
  return sum + p[n - 1];
}

/* Before every save and write (not timed): writes back the dirty pages earlier cases left, so that no
 * case pays for its predecessor's writeback. */
static void
settle_writeback (void)
{
  sync ();
}

static int
fail (const char *what,
      const GError *error)
{
  g_printerr ("st-bench: %s: %s\n", what, error != NULL ? error->message : "failed");
  return 1;
}

static guint64
file_size (const char *path)
{
  struct stat st;

  if (stat (path, &st) != 0)
    return 0;
  return (guint64) st.st_size;
}

/* Every tensor of @file got by name, in file order, and one byte of every page of its data read: what a
 * caller that uses the whole file does after opening it. Returns the sum of the bytes read. */
static guint64
touch_named_tensors (STFile  *file,
                     char   **names)
{
  guint64 sum = 0;

  for (guint i = 0; names[i] != NULL; i++)
    {
      gsize n = 0;
      const guint8 *data = st_tensor_get_data (st_file_get_tensor (file, names[i]), &n);

      sum += touch_pages (data, n);
    }
  return sum;
}

static guint64
touch_tensors (STFile *file)
{
  g_auto(GStrv) names = st_file_dup_names_in_file_order (file);

  return touch_named_tensors (file, names);
}

/* st_file_new_from_path, and with @touch every tensor touched (touch_tensors()). */
static STFile *
open_file (const char  *path,
           gboolean     touch,
           guint64     *sum,
           GError     **error)
{
  STFile *file = st_file_new_from_path (path, NULL, error);

  if (file != NULL && touch)
    *sum += touch_tensors (file);
  return file;
}

static int
case_open (const char *path,
           double      min_seconds,
           gboolean    touch)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) first = NULL;
  PeakRss peak;
  double t0, t1, c0, c1, start, first_seconds, first_cpu;
  double elapsed = 0, cpu = 0, close_elapsed = 0, close_cpu = 0;
  gint64 growth;
  guint iterations = 0;
  guint n_tensors;
  guint64 header_size;
  guint64 sum = 0;

  peak_rss_start (&peak);
  c0 = cpu_seconds ();
  t0 = now_seconds ();
  first = open_file (path, touch, &sum, &error);
  t1 = now_seconds ();
  first_cpu = cpu_seconds () - c0;
  if (first == NULL)
    return fail (path, error);
  growth = peak_rss_growth_kib (&peak);
  first_seconds = t1 - t0;
  n_tensors = st_file_get_n_tensors (first);
  header_size = st_file_get_header_size (first);
  g_clear_object (&first);

  /* Steady state: the one-time costs of the first call (type registration, lazy symbol binding,
   * first-touch of malloc arenas) out of the way. Each repeat times the open (and the touching) apart
   * from the close that follows it: "seconds" is what the first call measures, and "close_seconds"
   * what dropping the file (and, after touching, its tensor objects) costs. */
  start = now_seconds ();
  do
    {
      g_autoptr(STFile) again = NULL;

      c0 = cpu_seconds ();
      t0 = now_seconds ();
      again = open_file (path, touch, &sum, &error);
      t1 = now_seconds ();
      c1 = cpu_seconds ();
      if (again == NULL)
        return fail (path, error);
      elapsed += t1 - t0;
      cpu += c1 - c0;
      g_clear_object (&again);
      close_elapsed += now_seconds () - t1;
      close_cpu += cpu_seconds () - c1;
      iterations++;
    }
  while (now_seconds () - start < min_seconds || iterations < 3);

  g_print ("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"first_seconds\": %.9g, \"first_cpu_seconds\": %.9g, "
           "\"close_seconds\": %.9g, \"close_cpu_seconds\": %.9g, \"iterations\": %u, \"rss_growth_kib\": %" G_GINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
           ", \"header_bytes\": %" G_GUINT64_FORMAT ", \"n_tensors\": %u, \"checksum\": %" G_GUINT64_FORMAT "}\n",
           elapsed / iterations, cpu / iterations, first_seconds, first_cpu, close_elapsed / iterations,
           close_cpu / iterations, iterations, growth, file_size (path),
           header_size, n_tensors, sum);
  return 0;
}

/* SRC's tensors copied into one malloc'd buffer, as a model held in memory would be. */
static STFile *
file_in_memory (const char  *src,
                GError     **error)
{
  g_autoptr(STFile) source = st_file_new_from_path (src, NULL, error);
  g_autoptr(STFile) copy = NULL;
  g_autoptr(GBytes) buffer = NULL;
  g_auto(GStrv) names = NULL;
  guint8 *data;
  guint64 total = 0, offset = 0;

  if (source == NULL)
    return NULL;

  names = st_file_dup_names_in_file_order (source);
  for (guint i = 0; names[i] != NULL; i++)
    total += st_tensor_get_n_bytes (st_file_get_tensor (source, names[i]));

  data = g_malloc (MAX (total, 1));
  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *tensor = st_file_get_tensor (source, names[i]);
      gsize n = 0;
      gconstpointer src_data = st_tensor_get_data (tensor, &n);

      if (n > 0)
        memcpy (data + offset, src_data, n);
      offset += n;
    }
  buffer = g_bytes_new_take (data, total);

  copy = st_file_new ();
  offset = 0;
  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *tensor = st_file_get_tensor (source, names[i]);
      guint n_dims = 0;
      const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);
      guint64 n = st_tensor_get_n_bytes (tensor);
      g_autoptr(GBytes) slice = g_bytes_new_from_bytes (buffer, offset, n);
      g_autoptr(STTensor) moved = st_tensor_new (st_tensor_get_dtype (tensor), shape, n_dims, slice, error);

      if (moved == NULL || !st_file_set_tensor (copy, names[i], moved, error))
        return NULL;
      offset += n;
    }

  if (st_file_has_metadata (source))
    {
      g_autoptr(GHashTable) metadata = st_file_dup_metadata (source);
      st_file_set_metadata (copy, metadata);
    }

  return g_steal_pointer (&copy);
}

static int
case_save (const char *src,
           const char *dst)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = file_in_memory (src, &error);
  PeakRss peak;
  double t0, t1, c0, c1;
  gint64 growth;

  if (file == NULL)
    return fail (src, error);

  unlink (dst);
  settle_writeback ();
  peak_rss_start (&peak);
  c0 = cpu_seconds ();
  t0 = now_seconds ();
  if (!st_file_save_to_path (file, dst, ST_SAVE_FLAGS_NONE, NULL, &error))
    return fail (dst, error);
  t1 = now_seconds ();
  c1 = cpu_seconds ();
  growth = peak_rss_growth_kib (&peak);

  g_print ("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rss_growth_kib\": %" G_GINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT "}\n",
           t1 - t0, c1 - c0, growth, file_size (dst));
  unlink (dst);
  return 0;
}

/* The floor of a save: @length bytes written to a new @dst with plain write() calls. */
static gboolean
plain_write (const char  *dst,
             const char  *contents,
             gsize        length)
{
  gsize done = 0;
  int fd = open (dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0)
    {
      g_printerr ("st-bench: %s: %s\n", dst, g_strerror (errno));
      return FALSE;
    }
  while (done < length)
    {
      ssize_t n = write (fd, contents + done, MIN (length - done, (gsize) 1 << 30));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_printerr ("st-bench: write %s: %s\n", dst, g_strerror (errno));
          close (fd);
          return FALSE;
        }
      done += (gsize) n;
    }
  if (close (fd) != 0)
    {
      g_printerr ("st-bench: close %s: %s\n", dst, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static int
case_write (const char *src,
            const char *dst)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  PeakRss peak;
  double t0, t1, c0, c1;
  gint64 growth;

  if (!g_file_get_contents (src, &contents, &length, &error))
    return fail (src, error);

  unlink (dst);
  settle_writeback ();
  peak_rss_start (&peak);
  c0 = cpu_seconds ();
  t0 = now_seconds ();
  if (!plain_write (dst, contents, length))
    return 1;
  t1 = now_seconds ();
  c1 = cpu_seconds ();
  growth = peak_rss_growth_kib (&peak);

  g_print ("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rss_growth_kib\": %" G_GINT64_FORMAT ", \"bytes\": %" G_GSIZE_FORMAT "}\n",
           t1 - t0, c1 - c0, growth, length);
  unlink (dst);
  return 0;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median_of (double *values,
           guint   n)
{
  qsort (values, n, sizeof (double), compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* st_file_save_to_path and the write() floor alternating @rounds times in one process, from the same
 * in-memory tensors (the write() floor writes the file bytes from a second buffer): the steady state, where
 * the page cache a write fills comes from memory the previous round freed. Prints a line for each, with
 * the medians over the rounds. */
static int
case_steady_save (const char *src,
                  const char *dst,
                  guint       rounds)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = file_in_memory (src, &error);
  g_autofree char *contents = NULL;
  g_autofree double *wall = g_new0 (double, 2 * MAX (rounds, 1));
  g_autofree double *cpu = g_new0 (double, 2 * MAX (rounds, 1));
  gsize length = 0;

  if (file == NULL)
    return fail (src, error);
  if (!g_file_get_contents (src, &contents, &length, &error))
    return fail (src, error);
  rounds = MAX (rounds, 1);

  for (guint r = 0; r < 2 * rounds; r++)
    {
      /* save, write, write, save, save, write...: neither always goes first */
      gboolean save = ((r + r / 2) % 2) == 0;
      guint slot = (save ? 0 : rounds) + r / 2;
      double t0, c0;

      unlink (dst);
      settle_writeback ();
      c0 = cpu_seconds ();
      t0 = now_seconds ();
      if (save)
        {
          if (!st_file_save_to_path (file, dst, ST_SAVE_FLAGS_NONE, NULL, &error))
            return fail (dst, error);
        }
      else if (!plain_write (dst, contents, length))
        return 1;
      wall[slot] = now_seconds () - t0;
      cpu[slot] = cpu_seconds () - c0;
    }
  unlink (dst);

  g_print ("{\"case\": \"save\", \"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rounds\": %u, \"bytes\": %" G_GSIZE_FORMAT "}\n",
           median_of (wall, rounds), median_of (cpu, rounds), rounds, length);
  g_print ("{\"case\": \"write\", \"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rounds\": %u, \"bytes\": %" G_GSIZE_FORMAT "}\n",
           median_of (wall + rounds, rounds), median_of (cpu + rounds, rounds), rounds, length);
  return 0;
}

/* Writes @file through an STWriter: the tensors declared, then each written in chunks of 16 MiB, in
 * file order. */
static gboolean
stream_file (STFile      *file,
             const char  *dst,
             GError     **error)
{
  g_autoptr(STWriter) writer = st_writer_new ();
  g_auto(GStrv) names = st_file_dup_names_in_file_order (file);

  for (guint i = 0; names[i] != NULL; i++)
    {
      STTensor *tensor = st_file_get_tensor (file, names[i]);
      guint n_dims = 0;
      const gint64 *shape = st_tensor_get_shape (tensor, &n_dims);

      if (!st_writer_add_tensor (writer, names[i], st_tensor_get_dtype (tensor), shape, n_dims, error))
        return FALSE;
    }
  if (st_file_has_metadata (file))
    {
      g_autoptr(GHashTable) metadata = st_file_dup_metadata (file);
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        st_writer_set_metadata_value (writer, key, value);
    }
  if (!st_writer_open (writer, dst, ST_SAVE_FLAGS_NONE, NULL, error))
    return FALSE;
  for (guint i = 0; names[i] != NULL; i++)
    {
      gsize n = 0;
      const guint8 *data = st_tensor_get_data (st_file_get_tensor (file, names[i]), &n);

      for (gsize done = 0; done < n;)
        {
          gsize chunk = MIN (n - done, (gsize) 16 << 20);

          if (!st_writer_write (writer, names[i], data + done, chunk, error))
            return FALSE;
          done += chunk;
        }
    }
  return st_writer_finish (writer, error);
}

/* The streaming writer and the write() floor alternating @rounds times in one process, as steady-save. */
static int
case_steady_stream (const char *src,
                    const char *dst,
                    guint       rounds)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = file_in_memory (src, &error);
  g_autofree char *contents = NULL;
  g_autofree double *wall = g_new0 (double, 2 * MAX (rounds, 1));
  g_autofree double *cpu = g_new0 (double, 2 * MAX (rounds, 1));
  gsize length = 0;

  if (file == NULL)
    return fail (src, error);
  if (!g_file_get_contents (src, &contents, &length, &error))
    return fail (src, error);
  rounds = MAX (rounds, 1);

  for (guint r = 0; r < 2 * rounds; r++)
    {
      gboolean stream = ((r + r / 2) % 2) == 0;
      guint slot = (stream ? 0 : rounds) + r / 2;
      double t0, c0;

      unlink (dst);
      settle_writeback ();
      c0 = cpu_seconds ();
      t0 = now_seconds ();
      if (stream)
        {
          if (!stream_file (file, dst, &error))
            return fail (dst, error);
        }
      else if (!plain_write (dst, contents, length))
        return 1;
      wall[slot] = now_seconds () - t0;
      cpu[slot] = cpu_seconds () - c0;
    }
  unlink (dst);

  g_print ("{\"case\": \"stream\", \"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rounds\": %u, \"bytes\": %" G_GSIZE_FORMAT "}\n",
           median_of (wall, rounds), median_of (cpu, rounds), rounds, length);
  g_print ("{\"case\": \"write\", \"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rounds\": %u, \"bytes\": %" G_GSIZE_FORMAT "}\n",
           median_of (wall + rounds, rounds), median_of (cpu + rounds, rounds), rounds, length);
  return 0;
}

/* Minor page faults of the process so far: the memory a phase touched for the first time, and the pages
 * of files it mapped in. */
static long
minor_faults (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return -1;
  return usage.ru_minflt;
}

/* What open_file (path, TRUE, ...) does, in its three phases, each timed (the clock costs tens of
 * nanoseconds) with the page faults it took (getrusage(), about 0.5 µs here, twice inside the timed part;
 * once in mmap-read's): the open; the list of names; every tensor got and its pages read (and the list
 * freed). */
static int
case_load_read (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  PeakRss peak;
  double t0, t1, c0, c1, t_open, t_names;
  long f0, f_open, f_names, f1;
  gint64 growth;
  guint64 sum = 0;

  peak_rss_start (&peak);
  f0 = minor_faults ();
  c0 = cpu_seconds ();
  t0 = now_seconds ();
  file = st_file_new_from_path (path, NULL, &error);
  if (file == NULL)
    return fail (path, error);
  t_open = now_seconds ();
  f_open = minor_faults ();
  {
    g_auto(GStrv) names = st_file_dup_names_in_file_order (file);

    t_names = now_seconds ();
    f_names = minor_faults ();
    sum += touch_named_tensors (file, names);
  }
  t1 = now_seconds ();
  c1 = cpu_seconds ();
  f1 = minor_faults ();
  growth = peak_rss_growth_kib (&peak);

  g_print ("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rss_growth_kib\": %" G_GINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
           ", \"checksum\": %" G_GUINT64_FORMAT ", \"open_seconds\": %.9g, \"names_seconds\": %.9g, "
           "\"tensors_seconds\": %.9g, \"open_faults\": %ld, \"names_faults\": %ld, \"tensors_faults\": %ld}\n",
           t1 - t0, c1 - c0, growth, file_size (path), sum, t_open - t0, t_names - t_open, t1 - t_names,
           f_open - f0, f_names - f_open, f1 - f_names);
  return 0;
}

/* @path mapped as the library maps it (private, read-write): the floor of load-read, before its pages are
 * read. Gives the mapping, to unmap after the timing, or NULL after printing why. */
static guint8 *
map_like_library (const char *path,
                  gsize      *out_size)
{
  struct stat st;
  void *map;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      g_printerr ("st-bench: %s: %s\n", path, g_strerror (errno));
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  map = mmap (NULL, (size_t) st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close (fd);
  if (map == MAP_FAILED)
    {
      g_printerr ("st-bench: mmap %s: %s\n", path, g_strerror (errno));
      return NULL;
    }
  *out_size = (gsize) st.st_size;
  return map;
}

/* The floor of load-read: map_like_library(), then one byte of every page read. */
static guint8 *
mmap_and_touch (const char *path,
                gsize      *out_size,
                guint64    *sum)
{
  guint8 *map = map_like_library (path, out_size);

  if (map != NULL)
    *sum += touch_pages (map, *out_size);
  return map;
}

/* The floor, its two phases timed as load-read's are: the mapping (open, fstat, mmap), and the pages read. */
static int
case_mmap_read (const char *path)
{
  PeakRss peak;
  double t0, t1, c0, c1, t_map;
  long f0, f_map, f1;
  gint64 growth;
  guint64 sum = 0;
  gsize size = 0;
  guint8 *map;

  peak_rss_start (&peak);
  f0 = minor_faults ();
  c0 = cpu_seconds ();
  t0 = now_seconds ();
  map = map_like_library (path, &size);
  if (map == NULL)
    return 1;
  t_map = now_seconds ();
  f_map = minor_faults ();
  sum += touch_pages (map, size);
  t1 = now_seconds ();
  c1 = cpu_seconds ();
  f1 = minor_faults ();
  growth = peak_rss_growth_kib (&peak);
  munmap (map, size);

  g_print ("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rss_growth_kib\": %" G_GINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
           ", \"checksum\": %" G_GUINT64_FORMAT ", \"map_seconds\": %.9g, \"pages_seconds\": %.9g, "
           "\"map_faults\": %ld, \"pages_faults\": %ld}\n",
           t1 - t0, c1 - c0, growth, (guint64) size, sum, t_map - t0, t1 - t_map, f_map - f0, f1 - f_map);
  return 0;
}

/* load-read and its floor, mmap-read, alternating @rounds times in one process: the steady state, where
 * the types are registered and the memory the open fills (header entries, name index, tensor objects) was
 * freed by the previous round, as in a program that loads many files. Every round of both reads the same
 * pages of the same file; dropping the file (with its tensors) and unmapping are left out of the timings,
 * as in load-read and mmap-read. Prints a line for each, with the medians over the rounds. */
static int
case_steady_read (const char *path,
                  guint       rounds)
{
  g_autoptr(GError) error = NULL;
  g_autofree double *wall = NULL;
  g_autofree double *cpu = NULL;
  guint64 sum = 0;
  gsize size = 0;

  rounds = MAX (rounds, 1);
  wall = g_new0 (double, 2 * rounds);
  cpu = g_new0 (double, 2 * rounds);
  for (guint r = 0; r < 2 * rounds; r++)
    {
      /* load, mmap, mmap, load, load, mmap...: neither always goes first */
      gboolean load = ((r + r / 2) % 2) == 0;
      guint slot = (load ? 0 : rounds) + r / 2;
      g_autoptr(STFile) file = NULL;
      guint8 *map = NULL;
      double t0, c0;

      c0 = cpu_seconds ();
      t0 = now_seconds ();
      if (load)
        {
          file = open_file (path, TRUE, &sum, &error);
          if (file == NULL)
            return fail (path, error);
        }
      else
        {
          map = mmap_and_touch (path, &size, &sum);
          if (map == NULL)
            return 1;
        }
      wall[slot] = now_seconds () - t0;
      cpu[slot] = cpu_seconds () - c0;
      if (map != NULL)
        munmap (map, size);
    }

  g_print ("{\"case\": \"load-read\", \"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rounds\": %u, \"bytes\": %" G_GSIZE_FORMAT
           ", \"checksum\": %" G_GUINT64_FORMAT "}\n",
           median_of (wall, rounds), median_of (cpu, rounds), rounds, size, sum);
  g_print ("{\"case\": \"mmap-read\", \"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rounds\": %u, \"bytes\": %" G_GSIZE_FORMAT "}\n",
           median_of (wall + rounds, rounds), median_of (cpu + rounds, rounds), rounds, size);
  return 0;
}

static int
case_edit (const char *path,
           const char *mode)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = NULL;
  gboolean in_place = FALSE;
  const char *value;
  PeakRss peak;
  double t0, t1, c0, c1;
  gint64 growth;

  settle_writeback ();
  peak_rss_start (&peak);
  c0 = cpu_seconds ();
  t0 = now_seconds ();
  file = st_file_new_from_path (path, NULL, &error);
  if (file == NULL)
    return fail (path, error);
  value = st_file_get_metadata_value (file, "bench");
  st_file_set_metadata_value (file, "bench", g_strcmp0 (value, "0") == 0 ? "1" : "0");
  if (g_str_equal (mode, "in-place"))
    {
      in_place = st_file_save_header_in_place (file, path, ST_SAVE_FLAGS_NONE, &error);
      if (!in_place && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        return fail (path, error);
      g_clear_error (&error);
    }
  if (!in_place && !st_file_save_to_path (file, path, ST_SAVE_FLAGS_NONE, NULL, &error))
    return fail (path, error);
  g_clear_object (&file);
  t1 = now_seconds ();
  c1 = cpu_seconds ();
  growth = peak_rss_growth_kib (&peak);

  g_print ("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rss_growth_kib\": %" G_GINT64_FORMAT ", \"bytes\": %"
           G_GUINT64_FORMAT ", \"in_place\": %s}\n",
           t1 - t0, c1 - c0, growth, file_size (path), in_place ? "true" : "false");
  return 0;
}

static int
case_merge (const char *src,
            const char *dir,
            const char *dst)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autoptr(STIndex) index = NULL;
  g_autoptr(STFile) merged = NULL;
  PeakRss peak;
  double t0, t1, c0, c1;
  gint64 growth;

  if (!g_file_test (index_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(STFile) source = st_file_new_from_path (src, NULL, &error);

      if (source == NULL)
        return fail (src, error);
      g_mkdir_with_parents (dir, 0755);
      if (!st_file_save_sharded (source, dir, "model", st_file_get_data_size (source) / 4 + 1, ST_SAVE_FLAGS_NONE,
                                 NULL, NULL, NULL, &error))
        return fail (dir, error);
    }

  unlink (dst);
  settle_writeback ();
  peak_rss_start (&peak);
  c0 = cpu_seconds ();
  t0 = now_seconds ();
  index = st_index_new_from_path (index_path, NULL, &error);
  if (index == NULL)
    return fail (index_path, error);
  merged = st_index_merge (index, NULL, &error);
  if (merged == NULL || !st_file_save_to_path (merged, dst, ST_SAVE_FLAGS_NONE, NULL, &error))
    return fail (dst, error);
  g_clear_object (&merged);
  g_clear_object (&index);
  t1 = now_seconds ();
  c1 = cpu_seconds ();
  growth = peak_rss_growth_kib (&peak);

  g_print ("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"rss_growth_kib\": %" G_GINT64_FORMAT ", \"bytes\": %"
           G_GUINT64_FORMAT "}\n", t1 - t0, c1 - c0, growth, file_size (dst));
  unlink (dst);
  return 0;
}

static int
usage (void)
{
  g_printerr ("usage: st-bench open PATH MIN_SECONDS | open-touch PATH MIN_SECONDS | save SRC DST | "
              "write SRC DST | steady-save SRC DST ROUNDS | steady-stream SRC DST ROUNDS | edit PATH in-place|whole | "
              "merge SRC DIR DST | load-read PATH | mmap-read PATH | steady-read PATH ROUNDS\n");
  return 2;
}

int
main (int   argc,
      char *argv[])
{
  if (argc < 3)
    return usage ();

  if (g_str_equal (argv[1], "open") && argc == 4)
    return case_open (argv[2], g_ascii_strtod (argv[3], NULL), FALSE);
  if (g_str_equal (argv[1], "open-touch") && argc == 4)
    return case_open (argv[2], g_ascii_strtod (argv[3], NULL), TRUE);
  if (g_str_equal (argv[1], "save") && argc == 4)
    return case_save (argv[2], argv[3]);
  if (g_str_equal (argv[1], "write") && argc == 4)
    return case_write (argv[2], argv[3]);
  if (g_str_equal (argv[1], "steady-save") && argc == 5)
    return case_steady_save (argv[2], argv[3], (guint) g_ascii_strtoull (argv[4], NULL, 10));
  if (g_str_equal (argv[1], "steady-stream") && argc == 5)
    return case_steady_stream (argv[2], argv[3], (guint) g_ascii_strtoull (argv[4], NULL, 10));
  if (g_str_equal (argv[1], "edit") && argc == 4)
    return case_edit (argv[2], argv[3]);
  if (g_str_equal (argv[1], "merge") && argc == 5)
    return case_merge (argv[2], argv[3], argv[4]);
  if (g_str_equal (argv[1], "load-read") && argc == 3)
    return case_load_read (argv[2]);
  if (g_str_equal (argv[1], "mmap-read") && argc == 3)
    return case_mmap_read (argv[2]);
  if (g_str_equal (argv[1], "steady-read") && argc == 4)
    return case_steady_read (argv[2], (guint) g_ascii_strtoull (argv[3], NULL, 10));
  return usage ();
}
