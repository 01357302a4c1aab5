/* st-named-tmp-private.h: named temporary files that are locked while their writer lives
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Creates, in @directory, a new file for a save to @target under a hidden name that says so
 * (".st-TTTTTTTT-XXXXXX", T a hash of @target's base name), opened for writing, mode 0666 & ~umask, and
 * holding an exclusive flock() on it for as long as the descriptor (or a duplicate, or a forked copy)
 * is open. Sets *@out_path. Returns the descriptor, or -1 with errno set; ENOLCK when the file system
 * has no locks (nothing is then left behind). */
int st_named_tmp_create (const char  *directory,
                         const char  *target,
                         char       **out_path);

/* Removes the files st_named_tmp_create() made in @directory for @target whose lock no process holds:
 * those a killed process left. Best effort: errors leave the file. */
void st_named_tmp_clean (const char *directory,
                         const char *target);

G_END_DECLS
