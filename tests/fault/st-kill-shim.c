/* st-kill-shim.c: an LD_PRELOAD library that kills its process at a counted file-system call
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * With ST_KILL_AT_CALL=N in the environment, the process sends itself SIGKILL just before its Nth call
 * of rename(), linkat() or unlink(), the calls that give saved files their names and take old ones
 * away: tests/fault/test_shard_faults.py kills a sharded save at every step of its commit in turn, a
 * counted point instead of a timed one. Without the variable, the calls pass through unchanged.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_long calls;

static void
count_call (void)
{
  const char *kill_at = getenv ("ST_KILL_AT_CALL");

  if (kill_at != NULL && atomic_fetch_add (&calls, 1) + 1 == atol (kill_at))
    raise (SIGKILL);
}

int
rename (const char *oldpath,
        const char *newpath)
{
  int (*next) (const char *, const char *) = (int (*) (const char *, const char *)) dlsym (RTLD_NEXT, "rename");

  count_call ();
  return next (oldpath, newpath);
}

int
linkat (int         olddirfd,
        const char *oldpath,
        int         newdirfd,
        const char *newpath,
        int         flags)
{
  int (*next) (int, const char *, int, const char *, int) =
    (int (*) (int, const char *, int, const char *, int)) dlsym (RTLD_NEXT, "linkat");

  count_call ();
  return next (olddirfd, oldpath, newdirfd, newpath, flags);
}

int
unlink (const char *path)
{
  int (*next) (const char *) = (int (*) (const char *)) dlsym (RTLD_NEXT, "unlink");

  count_call ();
  return next (path);
}
