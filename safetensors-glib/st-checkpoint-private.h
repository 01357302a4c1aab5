/* st-checkpoint-private.h: the protocol sharded saves and index readers follow in a checkpoint's folder
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

#include "st-file.h"

G_BEGIN_DECLS

/* The folder lock (flock() on the folder itself): exclusive for a sharded save's commit and cleanup,
 * shared for a reader reading an index or opening a shard. Never fails: where the folder cannot be
 * opened or locked (no permission to read it, a file system without flock()), the lock holds nothing,
 * and the commit mark and the index's identity still make a mix detectable. */
typedef struct _StCheckpointLock StCheckpointLock;

StCheckpointLock *st_checkpoint_lock (const char *directory,
                                      gboolean    exclusive);
void st_checkpoint_unlock (StCheckpointLock *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StCheckpointLock, st_checkpoint_unlock)

/* The commit mark: a hidden file, ".st-commit-" and a hash of the index's file name, that exists from
 * before a sharded save's first rename to after its cleanup. It lists (NUL-separated) every file of
 * the old checkpoint and of the new one. A reader refuses a checkpoint whose mark exists; the next
 * save of that checkpoint removes what the mark lists and it did not write, then the mark. */
char *st_checkpoint_mark_path (const char *directory,
                               const char *index_name);
gboolean st_checkpoint_mark_exists (const char *directory,
                                    const char *index_name);
gboolean st_checkpoint_mark_set (const char   *directory,
                                 const char   *index_name,
                                 GPtrArray    *file_names,
                                 STSaveFlags   flags,
                                 GError      **error);
/* The file names an existing mark lists (a new array of char *), or NULL when there is none. */
GPtrArray *st_checkpoint_mark_read (const char *directory,
                                    const char *index_name);
gboolean st_checkpoint_mark_clear (const char  *directory,
                                   const char  *index_name,
                                   GError     **error);

/* A save's work folder, ".st-save-XXXXXX" in the checkpoint's folder: where a save of more files than
 * it may keep open parks the ones it has written (under hidden names) until its commit. The save holds
 * an exclusive flock() on it as long as it lives; a work folder nobody holds belongs to a killed save,
 * and the next save in that folder removes it. */
typedef struct _StCheckpointWorkDir StCheckpointWorkDir;

StCheckpointWorkDir *st_checkpoint_work_dir_new (const char  *directory,
                                                 GError     **error);
const char *st_checkpoint_work_dir_get_path (StCheckpointWorkDir *work_dir);
/* Removes the folder (emptied by then) and releases it. */
void st_checkpoint_work_dir_free (StCheckpointWorkDir *work_dir);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StCheckpointWorkDir, st_checkpoint_work_dir_free)

/* Removes the work folders of killed saves in @directory, and what they hold. Call it holding the
 * folder's exclusive lock. */
void st_checkpoint_remove_dead_work_dirs (const char *directory);

G_END_DECLS
