/* st-pause-read.c: an LD_PRELOAD library that stops its process with SIGSTOP, once, as soon as pread()
 * has returned $ST_PAUSE_AFTER_BYTES bytes or more in all. test_fault.py waits for the stop (waitpid
 * with WUNTRACED), changes the file being read (truncates it), and sends SIGCONT: the change falls in
 * the middle of the load, at a byte offset the test chose, with no timing involved.
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
/* Both symbols are defined here, pread and pread64: without the build's 64-bit off_t renaming. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static unsigned long long total;
static int paused;

static void
count (ssize_t n)
{
  const char *after = getenv ("ST_PAUSE_AFTER_BYTES");

  if (n <= 0 || paused || after == NULL)
    return;
  total += (unsigned long long) n;
  if (total >= strtoull (after, NULL, 10))
    {
      paused = 1;
      raise (SIGSTOP);
    }
}

ssize_t
pread (int fd, void *buf, size_t len, off_t offset)
{
  static __typeof__ (&pread) real;
  ssize_t n;

  if (real == NULL)
    real = (__typeof__ (&pread)) dlsym (RTLD_NEXT, "pread");
  n = real (fd, buf, len, offset);
  count (n);
  return n;
}

ssize_t
pread64 (int fd, void *buf, size_t len, off64_t offset)
{
  static __typeof__ (&pread64) real;
  ssize_t n;

  if (real == NULL)
    real = (__typeof__ (&pread64)) dlsym (RTLD_NEXT, "pread64");
  n = real (fd, buf, len, offset);
  count (n);
  return n;
}
