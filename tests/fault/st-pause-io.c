/* st-pause-io.c: an LD_PRELOAD library that stops its process with SIGSTOP at a point of its I/O the test
 * chose, so that the test can act there (truncate the file being read, or SIGKILL the process between two
 * writes) with no timing involved: test_fault.py waits for the stop with waitpid (WUNTRACED).
 *
 *   ST_PAUSE_AFTER_BYTES=N    stop once, as soon as pread() has returned N bytes or more in all
 *   ST_PAUSE_AFTER_WRITES=N   stop once, right after the N-th successful pwrite()
 *   ST_SHORT_WRITES=1         make each pwrite() write at most half of what it is asked (at least one
 *                             byte), as the kernel may: a writer that loops gets more points to stop at
 *   ST_FAIL_WRITE=N           make the N-th pwrite() fail with ENOSPC (that one only), as a full disk does
 *   ST_FAIL_WRITE_COUNT=K     with ST_FAIL_WRITE, make K attempts in a row fail from the N-th on (default 1):
 *                             2 outlasts a writer that tries an ENOSPC again once
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
/* Both symbols are defined here, pread and pread64 (pwrite, pwrite64): without the build's 64-bit off_t
 * renaming. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static unsigned long long bytes_read;
static unsigned long long writes, attempted_writes;
static int paused_reading, paused_writing;

static void
count_read (ssize_t n)
{
  const char *after = getenv ("ST_PAUSE_AFTER_BYTES");

  if (n <= 0 || paused_reading || after == NULL)
    return;
  bytes_read += (unsigned long long) n;
  if (bytes_read >= strtoull (after, NULL, 10))
    {
      paused_reading = 1;
      raise (SIGSTOP);
    }
}

static size_t
write_size (size_t len)
{
  const char *short_writes = getenv ("ST_SHORT_WRITES");

  if (short_writes != NULL && short_writes[0] == '1' && len > 1)
    return len / 2;
  return len;
}

/* TRUE when this pwrite() is one of those ST_FAIL_WRITE and ST_FAIL_WRITE_COUNT say must fail. */
static int
fail_this_write (void)
{
  const char *fail = getenv ("ST_FAIL_WRITE");
  const char *count = getenv ("ST_FAIL_WRITE_COUNT");
  unsigned long long first, n;

  if (fail == NULL)
    return 0;
  first = strtoull (fail, NULL, 10);
  n = count != NULL ? strtoull (count, NULL, 10) : 1;
  ++attempted_writes;
  return attempted_writes >= first && attempted_writes - first < n;
}

static void
count_write (ssize_t n)
{
  const char *after = getenv ("ST_PAUSE_AFTER_WRITES");

  if (n <= 0 || paused_writing || after == NULL)
    return;
  if (++writes >= strtoull (after, NULL, 10))
    {
      paused_writing = 1;
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
  count_read (n);
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
  count_read (n);
  return n;
}

ssize_t
pwrite (int fd, const void *buf, size_t len, off_t offset)
{
  static __typeof__ (&pwrite) real;
  ssize_t n;

  if (real == NULL)
    real = (__typeof__ (&pwrite)) dlsym (RTLD_NEXT, "pwrite");
  if (fail_this_write ())
    {
      errno = ENOSPC;
      return -1;
    }
  n = real (fd, buf, write_size (len), offset);
  count_write (n);
  return n;
}

ssize_t
pwrite64 (int fd, const void *buf, size_t len, off64_t offset)
{
  static __typeof__ (&pwrite64) real;
  ssize_t n;

  if (real == NULL)
    real = (__typeof__ (&pwrite64)) dlsym (RTLD_NEXT, "pwrite64");
  if (fail_this_write ())
    {
      errno = ENOSPC;
      return -1;
    }
  n = real (fd, buf, write_size (len), offset);
  count_write (n);
  return n;
}
