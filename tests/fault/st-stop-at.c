/* st-stop-at.c: an LD_PRELOAD module that stops a process at an exact point of its writes
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * It counts the bytes the process writes with pwrite() and the calls it makes to pwrite(), ftruncate(),
 * fdatasync() and fsync() on files, and when a count reaches the one asked for:
 *
 *   ST_STOP_AFTER_BYTES=B   the pwrite() that crosses byte B writes its bytes up to B, then the process
 *                           stops there;
 *   ST_STOP_AT_CALL=K       the process stops before the K-th of those calls (1 is the first);
 *
 * where "stops" is a SIGKILL of itself, or with ST_STOP_PAUSE=1 a pause: it writes "paused\n" to stdout
 * and then blocks reading stdin, so that a test acts while the process is stopped at that point (holding
 * what it holds), then kills it or lets it go on (a line on stdin). A kill here is a real SIGKILL at an
 * exact byte, chosen by counting instead of by racing a clock.
 */
/* Both names of each call are defined here: without the redirection of one to the other. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long long bytes_left = -1;   /* -1: no byte limit */
static long long calls_left = -1;   /* -1: no call limit */
static int pause_instead;
static int configured;

static void
configure (void)
{
  const char *value;

  if (configured)
    return;
  configured = 1;
  if ((value = getenv ("ST_STOP_AFTER_BYTES")) != NULL)
    bytes_left = atoll (value);
  if ((value = getenv ("ST_STOP_AT_CALL")) != NULL)
    calls_left = atoll (value);
  value = getenv ("ST_STOP_PAUSE");
  pause_instead = value != NULL && strcmp (value, "1") == 0;
}

static void
stop (void)
{
  static const char message[] = "paused\n";
  char c;

  bytes_left = -1;
  calls_left = -1;
  if (!pause_instead)
    raise (SIGKILL);
  if (write (STDOUT_FILENO, message, sizeof message - 1) < 0)
    raise (SIGKILL);
  while (read (STDIN_FILENO, &c, 1) == 1 && c != '\n')
    ;
}

/* Counts one call; stops first when it is the one asked for. */
static void
count_call (void)
{
  configure ();
  if (calls_left > 0 && --calls_left == 0)
    stop ();
}

#define REAL(name, type) ((type) dlsym (RTLD_NEXT, name))

typedef ssize_t (*Pwrite64Func) (int, const void *, size_t, off64_t);

/* Both names reach the 64-bit call: pwrite64 takes the same arguments as pwrite wherever off_t is
 * 64 bits wide, and a 64-bit offset wherever it is not. */
static ssize_t
stopping_pwrite (int          fd,
                 const void  *buf,
                 size_t       count,
                 off64_t      offset)
{
  Pwrite64Func real = REAL ("pwrite64", Pwrite64Func);

  count_call ();
  if (bytes_left >= 0 && (long long) count >= bytes_left)
    {
      size_t part = (size_t) bytes_left;
      ssize_t done = part > 0 ? real (fd, buf, part, offset) : 0;

      stop ();
      if (done < 0 || (size_t) done < part)
        return done;
      /* Let go after a pause: the rest of the write, as if nothing happened. */
      ssize_t rest = real (fd, (const char *) buf + part, count - part, offset + (off64_t) part);
      return rest < 0 ? (done > 0 ? done : rest) : done + rest;
    }
  ssize_t n = real (fd, buf, count, offset);
  if (n > 0 && bytes_left > 0)
    bytes_left -= n;
  return n;
}

ssize_t
pwrite (int fd, const void *buf, size_t count, off_t offset)
{
  return stopping_pwrite (fd, buf, count, offset);
}

ssize_t
pwrite64 (int fd, const void *buf, size_t count, off64_t offset)
{
  return stopping_pwrite (fd, buf, count, offset);
}

int
ftruncate (int fd, off_t length)
{
  count_call ();
  return REAL ("ftruncate", int (*) (int, off_t)) (fd, length);
}

int
ftruncate64 (int fd, off64_t length)
{
  count_call ();
  return REAL ("ftruncate64", int (*) (int, off64_t)) (fd, length);
}

int
fdatasync (int fd)
{
  count_call ();
  return REAL ("fdatasync", int (*) (int)) (fd);
}

int
fsync (int fd)
{
  count_call ();
  return REAL ("fsync", int (*) (int)) (fd);
}
