/* st-fault-inject.c: an LD_PRELOAD module that acts at a counted point of a process's file I/O
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The fault tests stop, kill or fail a process at an exact point of its reads, writes and renames,
 * chosen by counting instead of by racing a clock. One point, one action:
 *
 *   ST_FAULT_AT=POINT:N    where POINT is one of
 *     read-bytes    once pread() has returned N bytes or more in all (after that call);
 *     write-bytes   at byte N of what pwrite() writes in all: the pwrite() that crosses it writes its
 *                   bytes up to N first (N = 0: before the first byte);
 *     write-done    right after the N-th pwrite() that wrote something;
 *     write-call    before the N-th pwrite() attempt;
 *     file-call     before the N-th call of pwrite(), ftruncate(), fdatasync() or fsync();
 *     name-call     before the N-th call of rename(), linkat() or unlink(): the calls that give saved
 *                   files their names and take old ones away;
 *   ST_FAULT_DO=ACTION     what happens there (default kill):
 *     kill          SIGKILL of itself;
 *     stop          SIGSTOP of itself: the test waits with waitpid (WUNTRACED), acts, then sends SIGCONT
 *                   or SIGKILL;
 *     pause         writes "paused\n" to stdout and blocks reading stdin until a line comes, so that a test
 *                   acts while the process holds what it holds, then kills it or lets it go on;
 *     enospc        the call fails with ENOSPC, as on a full disk (write-call, file-call and name-call);
 *   ST_FAULT_TIMES=K       the action happens at K points in a row from the N-th (default 1; for the
 *                          *-call points, K calls in a row: 2 outlasts a writer that tries once more);
 *   ST_FAULT_SHORT_WRITES=1   every pwrite() writes at most half of what it is asked (at least one byte),
 *                          as the kernel may: a writer that loops gets more points to stop at.
 *
 * After a stop or a pause the process goes on as if nothing happened. Without ST_FAULT_AT the calls pass
 * through unchanged (apart from the short writes).
 */
/* Both names of each call are defined here (pread and pread64, ...): without the build's 64-bit off_t
 * renaming, and without the fortified inline wrappers (Debian's builds set _FORTIFY_SOURCE), which would
 * be the definitions of the same names. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef enum
{
  POINT_NONE,
  POINT_READ_BYTES,
  POINT_WRITE_BYTES,
  POINT_WRITE_DONE,
  POINT_WRITE_CALL,
  POINT_FILE_CALL,
  POINT_NAME_CALL,
} Point;

typedef enum
{
  ACTION_KILL,
  ACTION_STOP,
  ACTION_PAUSE,
  ACTION_ENOSPC,
} Action;

static pthread_once_t configured = PTHREAD_ONCE_INIT;
static Point point = POINT_NONE;
static Action action = ACTION_KILL;
static long long at;           /* N of ST_FAULT_AT */
static long long times = 1;    /* K of ST_FAULT_TIMES */
static int short_writes;

static atomic_llong count;     /* what the point counts: bytes or calls */
static atomic_flag fired = ATOMIC_FLAG_INIT;   /* read-bytes has acted */

static void
configure (void)
{
  static const struct { const char *name; Point point; } points[] = {
    { "read-bytes:", POINT_READ_BYTES }, { "write-bytes:", POINT_WRITE_BYTES },
    { "write-done:", POINT_WRITE_DONE }, { "write-call:", POINT_WRITE_CALL },
    { "file-call:", POINT_FILE_CALL }, { "name-call:", POINT_NAME_CALL },
  };
  static const struct { const char *name; Action action; } actions[] = {
    { "kill", ACTION_KILL }, { "stop", ACTION_STOP }, { "pause", ACTION_PAUSE }, { "enospc", ACTION_ENOSPC },
  };
  const char *value;
  size_t i;

  if ((value = getenv ("ST_FAULT_AT")) != NULL)
    {
      for (i = 0; i < sizeof points / sizeof points[0]; i++)
        if (strncmp (value, points[i].name, strlen (points[i].name)) == 0)
          {
            point = points[i].point;
            at = atoll (value + strlen (points[i].name));
          }
      if (point == POINT_NONE)
        {
          fprintf (stderr, "st-fault-inject: ST_FAULT_AT=%s names no point\n", value);
          abort ();
        }
    }
  if ((value = getenv ("ST_FAULT_DO")) != NULL)
    {
      for (i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp (value, actions[i].name) == 0)
          break;
      if (i == sizeof actions / sizeof actions[0])
        {
          fprintf (stderr, "st-fault-inject: ST_FAULT_DO=%s names no action\n", value);
          abort ();
        }
      action = actions[i].action;
    }
  if ((value = getenv ("ST_FAULT_TIMES")) != NULL)
    times = atoll (value);
  value = getenv ("ST_FAULT_SHORT_WRITES");
  short_writes = value != NULL && strcmp (value, "1") == 0;
}

static void
configure_once (void)
{
  pthread_once (&configured, configure);
}

/* Acts; returns 0 when the call goes on, -1 (errno set) when it fails instead. */
static int
act (void)
{
  static const char message[] = "paused\n";
  char c;

  switch (action)
    {
    case ACTION_KILL:
      raise (SIGKILL);
      break;
    case ACTION_STOP:
      raise (SIGSTOP);
      break;
    case ACTION_PAUSE:
      if (write (STDOUT_FILENO, message, sizeof message - 1) < 0)
        raise (SIGKILL);
      while (read (STDIN_FILENO, &c, 1) == 1 && c != '\n')
        ;
      break;
    case ACTION_ENOSPC:
      errno = ENOSPC;
      return -1;
    }
  return 0;
}

/* Counts one call of the kind @kind; acts first when it is one of the calls asked for. */
static int
count_call (Point kind)
{
  long long n;

  configure_once ();
  if (point != kind)
    return 0;
  n = atomic_fetch_add (&count, 1) + 1;
  if (n >= at && n - at < times)
    return act ();
  return 0;
}

/* Adds @n to a running total of the point @kind; acts when the total reaches the point's N: read-bytes
 * once, write-done at ST_FAULT_TIMES writes in a row. */
static void
count_after (Point kind,
             long long n)
{
  long long before, after;

  if (point != kind || n <= 0)
    return;
  before = atomic_fetch_add (&count, n);
  after = before + n;
  if (kind == POINT_WRITE_DONE)
    {
      if (after >= at && after - at < times)
        act ();
    }
  else if (after >= at && !atomic_flag_test_and_set (&fired))
    act ();
}

#define REAL(name, type) ((type) dlsym (RTLD_NEXT, name))

typedef ssize_t (*PreadFunc) (int, void *, size_t, off64_t);
typedef ssize_t (*PwriteFunc) (int, const void *, size_t, off64_t);

static ssize_t
counting_pread (int      fd,
                void    *buf,
                size_t   len,
                off64_t  offset)
{
  ssize_t n = REAL ("pread64", PreadFunc) (fd, buf, len, offset);

  configure_once ();
  count_after (POINT_READ_BYTES, n);
  return n;
}

ssize_t
pread (int fd, void *buf, size_t len, off_t offset)
{
  return counting_pread (fd, buf, len, offset);
}

ssize_t
pread64 (int fd, void *buf, size_t len, off64_t offset)
{
  return counting_pread (fd, buf, len, offset);
}

/* Both names reach the 64-bit call: pwrite64 takes the same arguments as pwrite wherever off_t is 64 bits
 * wide, and a 64-bit offset wherever it is not. */
static ssize_t
counting_pwrite (int          fd,
                 const void  *buf,
                 size_t       len,
                 off64_t      offset)
{
  PwriteFunc real = REAL ("pwrite64", PwriteFunc);
  ssize_t n;

  if (count_call (POINT_FILE_CALL) < 0 || count_call (POINT_WRITE_CALL) < 0)
    return -1;
  if (short_writes && len > 1)
    len /= 2;
  if (point == POINT_WRITE_BYTES)
    {
      long long written = atomic_load (&count);

      if (written <= at && written + (long long) len >= at && written + (long long) len > 0)
        {
          size_t part = (size_t) (at - written);
          ssize_t done = part > 0 ? real (fd, buf, part, offset) : 0;

          if (done > 0)
            atomic_fetch_add (&count, done);
          if (done < 0 || (size_t) done < part)
            return done;
          atomic_fetch_add (&count, 1);   /* past the point: it does not act again */
          if (act () < 0)
            return done > 0 ? done : -1;
          /* Let go after a stop or a pause: the rest of the write, as if nothing happened. */
          ssize_t rest = part < len ? real (fd, (const char *) buf + part, len - part, offset + (off64_t) part) : 0;
          return rest < 0 ? (done > 0 ? done : rest) : done + rest;
        }
      n = real (fd, buf, len, offset);
      if (n > 0)
        atomic_fetch_add (&count, n);
      return n;
    }
  n = real (fd, buf, len, offset);
  count_after (POINT_WRITE_DONE, n > 0 ? 1 : 0);
  return n;
}

ssize_t
pwrite (int fd, const void *buf, size_t len, off_t offset)
{
  return counting_pwrite (fd, buf, len, offset);
}

ssize_t
pwrite64 (int fd, const void *buf, size_t len, off64_t offset)
{
  return counting_pwrite (fd, buf, len, offset);
}

int
ftruncate (int fd, off_t length)
{
  if (count_call (POINT_FILE_CALL) < 0)
    return -1;
  return REAL ("ftruncate", int (*) (int, off_t)) (fd, length);
}

int
ftruncate64 (int fd, off64_t length)
{
  if (count_call (POINT_FILE_CALL) < 0)
    return -1;
  return REAL ("ftruncate64", int (*) (int, off64_t)) (fd, length);
}

int
fdatasync (int fd)
{
  if (count_call (POINT_FILE_CALL) < 0)
    return -1;
  return REAL ("fdatasync", int (*) (int)) (fd);
}

int
fsync (int fd)
{
  if (count_call (POINT_FILE_CALL) < 0)
    return -1;
  return REAL ("fsync", int (*) (int)) (fd);
}

int
rename (const char *oldpath,
        const char *newpath)
{
  if (count_call (POINT_NAME_CALL) < 0)
    return -1;
  return REAL ("rename", int (*) (const char *, const char *)) (oldpath, newpath);
}

int
linkat (int         olddirfd,
        const char *oldpath,
        int         newdirfd,
        const char *newpath,
        int         flags)
{
  if (count_call (POINT_NAME_CALL) < 0)
    return -1;
  return REAL ("linkat", int (*) (int, const char *, int, const char *, int)) (olddirfd, oldpath, newdirfd,
                                                                              newpath, flags);
}

int
unlink (const char *path)
{
  if (count_call (POINT_NAME_CALL) < 0)
    return -1;
  return REAL ("unlink", int (*) (const char *)) (path);
}
