/* st-file-shard.c: saving a file as a sharded checkpoint (model.safetensors.index.json and its shards)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st-checkpoint-private.h"
#include "st-error.h"
#include "st-file-private.h"
#include "st-io-private.h"
#include "st-pending-file-private.h"
#include "st-file-peer-private.h"
#include "st-file-shard-private.h"
#include "st-progress-private.h"
#include "st-tensor.h"
#include "st-file.h"
#include "st-index-json-private.h"
#include "st-index-private.h"

/**
 * STProgressFunc:
 * @done: how many units of the operation are done
 * @total: how many units the whole operation has
 * @user_data: the data given with the callback
 *
 * Reports the progress of a long operation, such as
 * [method@ST.File.save_sharded] (in bytes of tensor data), or
 * [method@ST.Index.validate_async] and [method@ST.Index.merge_async] (in
 * bytes of the shard files). The callback runs in the thread that called the
 * operation: for an asynchronous one, on the thread-default main context it
 * was started from, never in the worker thread.
 *
 * Since: 1.0
 */

/* Sharded writing */

guint *
st_shard_split (const guint64  *sizes,
                guint           n_tensors,
                guint64         max_shard_size,
                GArray        **out_starts)
{
  g_autofree guint *order = g_new (guint, MAX (n_tensors, 1));
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) current = g_array_new (FALSE, FALSE, sizeof (guint));
  guint64 current_size = 0;
  guint placed = 0;

  for (guint i = 0; i < n_tensors; i++)
    {
      if (sizes[i] > max_shard_size)
        {
          g_array_append_val (starts, placed);
          order[placed++] = i;
          continue;
        }
      if (current_size + sizes[i] > max_shard_size)
        {
          g_array_append_val (starts, placed);
          memcpy (order + placed, current->data, current->len * sizeof (guint));
          placed += current->len;
          g_array_set_size (current, 0);
          current_size = 0;
        }
      g_array_append_val (current, i);
      current_size += sizes[i];
    }
  if (current->len > 0)
    {
      g_array_append_val (starts, placed);
      memcpy (order + placed, current->data, current->len * sizeof (guint));
      placed += current->len;
    }
  g_assert (placed == n_tensors);
  g_array_append_val (starts, placed);
  *out_starts = g_steal_pointer (&starts);
  return g_steal_pointer (&order);
}

typedef struct {
  const char *name;
  const char *shard;
} NameShard;

static int
compare_name_shards (gconstpointer a,
                     gconstpointer b)
{
  return strcmp (((const NameShard *) a)->name, ((const NameShard *) b)->name);
}

/* Matches PREFIX-NNNNN-of-NNNNN.safetensors, the names of shards this library writes. */
static gboolean
is_shard_file_name (const char *file_name,
                    const char *prefix)
{
  gsize prefix_len = strlen (prefix);
  static const char pattern[] = "-#####-of-#####.safetensors";
  const char *rest;

  if (strncmp (file_name, prefix, prefix_len) != 0)
    return FALSE;
  rest = file_name + prefix_len;
  if (strlen (rest) != sizeof pattern - 1)
    return FALSE;
  for (gsize i = 0; i < sizeof pattern - 1; i++)
    if (pattern[i] == '#' ? !g_ascii_isdigit (rest[i]) : rest[i] != pattern[i])
      return FALSE;
  return TRUE;
}

/* The files of the checkpoint this save replaces that it does not write itself, the index first: the
 * old index, PREFIX.safetensors, the shards the old index names, and what the mark of a commit that
 * was interrupted lists. Only these are removed: a file of another save, or of no save, that only looks
 * like a shard stays; and of the names an index or a mark gives, only shard names of this prefix, so
 * that an index naming other files never makes a save remove them. Call it holding the folder's lock,
 * so that no other save's files are taken. */
static GPtrArray *
previous_files (const char *directory,
                const char *prefix,
                const char *index_name,
                GHashTable *written)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *index_path = g_build_filename (directory, index_name, NULL);
  g_auto(GStrv) old_shards = st_index_dup_shard_names_unlocked (index_path);
  g_autoptr(GPtrArray) interrupted = st_checkpoint_mark_read (directory, index_name);
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (candidates, g_strdup (index_name));
  g_ptr_array_add (candidates, g_strconcat (prefix, ".safetensors", NULL));
  for (guint i = 0; old_shards != NULL && old_shards[i] != NULL; i++)
    if (is_shard_file_name (old_shards[i], prefix))
      g_ptr_array_add (candidates, g_strdup (old_shards[i]));
  for (guint i = 0; interrupted != NULL && i < interrupted->len; i++)
    if (is_shard_file_name (g_ptr_array_index (interrupted, i), prefix))
      g_ptr_array_add (candidates, g_strdup (g_ptr_array_index (interrupted, i)));

  for (guint i = 0; i < candidates->len; i++)
    {
      const char *name = g_ptr_array_index (candidates, i);

      if (g_hash_table_contains (written, name) || g_hash_table_contains (seen, name))
        continue;
      g_hash_table_add (seen, (gpointer) name);
      g_ptr_array_add (names, g_strdup (name));
    }
  return g_steal_pointer (&names);
}

/* Removes @names (previous_files()) from @directory, so that no loader picks up a stale index or
 * stale shards, as huggingface_hub does. */
static gboolean
remove_stale_files (const char  *directory,
                    GPtrArray   *names,
                    GError     **error)
{
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (directory, g_ptr_array_index (names, i), NULL);
      GStatBuf st;

      /* Only files: a directory of that name is not a checkpoint's. */
      if (g_lstat (path, &st) != 0 || S_ISDIR (st.st_mode))
        continue;
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;
          g_autofree char *display = g_filename_display_name (path);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot remove the stale file %s: %s", display, g_strerror (saved_errno));
          return FALSE;
        }
    }
  return TRUE;
}

static STFile *
new_shard_file (STFile     *source,
                GPtrArray  *names,
                guint       first,
                guint       last,
                GError    **error)
{
  g_autoptr(STFile) shard = st_file_new ();
  for (guint i = first; i < last; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      if (!st_file_set_tensor (shard, name, st_file_get_tensor (source, name), error))
        return NULL;
    }

  GHashTable *metadata = st_file_peek_metadata (source);
  if (metadata != NULL)
    st_file_set_metadata (shard, metadata);
  return g_steal_pointer (&shard);
}

/* A sharded save, planned in the caller's thread (so that an async save does not look at the file
 * again) and run in any: the files to write, in order, each with its plan, then the index. */
typedef struct {
  char        *directory;
  char        *prefix;
  STSaveFlags  flags;
  guint64      total_size;   /* bytes of tensor data in all */
  GPtrArray   *file_names;   /* char *: the shards' file names, or the single file's */
  GPtrArray   *plans;        /* StSavePlan *, one per file name */
  GArray      *file_bytes;   /* guint64: bytes of tensor data per file, for progress */
  char        *index_name;   /* NULL for a single file */
  char        *index_json;
} ShardJob;

static void
shard_job_free (ShardJob *job)
{
  g_free (job->directory);
  g_free (job->prefix);
  g_ptr_array_unref (job->file_names);
  g_ptr_array_unref (job->plans);
  g_array_unref (job->file_bytes);
  g_free (job->index_name);
  g_free (job->index_json);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ShardJob, shard_job_free)

/* Adds a file to write: @plan's tensors, @n_bytes of them. */
static void
shard_job_add (ShardJob   *job,
               char       *file_name,
               StSavePlan *plan,
               guint64     n_bytes)
{
  g_ptr_array_add (job->file_names, file_name);
  g_ptr_array_add (job->plans, plan);
  g_array_append_val (job->file_bytes, n_bytes);
}

static ShardJob *
shard_job_new (STFile       *self,
               const char   *directory,
               const char   *prefix,
               guint64       max_shard_size,
               STSaveFlags   flags,
               GError      **error)
{
  g_autoptr(ShardJob) job = NULL;

  if (max_shard_size == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "The maximum shard size must be at least one byte");
      return NULL;
    }
  if (!st_is_plain_file_name (prefix))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The shard prefix “%s” is not a plain file name", prefix);
      return NULL;
    }

  job = g_new0 (ShardJob, 1);
  job->directory = g_strdup (directory);
  job->prefix = g_strdup (prefix);
  job->flags = flags;
  job->file_names = g_ptr_array_new_with_free_func (g_free);
  job->plans = g_ptr_array_new_with_free_func ((GDestroyNotify) st_save_plan_free);
  job->file_bytes = g_array_new (FALSE, FALSE, sizeof (guint64));

  /* Plan: HF's greedy split. Each shard is a run of names in @plan_names, [starts[k], starts[k+1]). */
  g_auto(GStrv) ordered = st_file_dup_names_in_file_order (self);
  guint n_names = g_strv_length (ordered);
  g_autofree guint64 *sizes = g_new (guint64, MAX (n_names, 1));
  g_autoptr(GPtrArray) plan_names = g_ptr_array_sized_new (n_names);
  g_autoptr(GArray) starts = NULL;
  g_autofree guint *order = NULL;
  guint64 total_size = 0;
  for (guint i = 0; i < n_names; i++)
    {
      sizes[i] = st_tensor_get_n_bytes (st_file_get_tensor (self, ordered[i]));
      total_size += sizes[i];
    }
  order = st_shard_split (sizes, n_names, max_shard_size, &starts);
  for (guint i = 0; i < n_names; i++)
    g_ptr_array_add (plan_names, ordered[order[i]]);
  guint n_shards = starts->len - 1;
  job->total_size = total_size;

  if (n_shards <= 1)
    {
      StSavePlan *plan = st_save_plan_new (self, error);
      if (plan == NULL)
        return NULL;
      shard_job_add (job, g_strconcat (prefix, ".safetensors", NULL), plan, total_size);
      return g_steal_pointer (&job);
    }

  if (n_shards > 99999)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%u shards would not fit the five-digit shard names; use a larger maximum shard size",
                   n_shards);
      return NULL;
    }

  g_autoptr(GArray) name_shards = g_array_sized_new (FALSE, FALSE, sizeof (NameShard), plan_names->len);
  for (guint k = 0; k < n_shards; k++)
    {
      guint first = g_array_index (starts, guint, k);
      guint last = g_array_index (starts, guint, k + 1);
      char *file_name = g_strdup_printf ("%s-%05u-of-%05u.safetensors", prefix, k + 1, n_shards);
      guint64 shard_bytes = 0;

      g_autoptr(STFile) shard = new_shard_file (self, plan_names, first, last, error);
      if (shard == NULL)
        {
          g_free (file_name);
          return NULL;
        }
      StSavePlan *plan = st_save_plan_new (shard, error);
      if (plan == NULL)
        {
          g_free (file_name);
          return NULL;
        }

      for (guint i = first; i < last; i++)
        {
          NameShard entry = { g_ptr_array_index (plan_names, i), file_name };
          g_array_append_val (name_shards, entry);
          shard_bytes += st_tensor_get_n_bytes (st_file_get_tensor (self, entry.name));
        }
      shard_job_add (job, file_name, plan, shard_bytes);
    }

  g_array_sort (name_shards, compare_name_shards);
  g_autoptr(GPtrArray) sorted_names = g_ptr_array_sized_new (name_shards->len);
  g_autoptr(GPtrArray) sorted_shards = g_ptr_array_sized_new (name_shards->len);
  for (guint i = 0; i < name_shards->len; i++)
    {
      NameShard *entry = &g_array_index (name_shards, NameShard, i);
      g_ptr_array_add (sorted_names, (gpointer) entry->name);
      g_ptr_array_add (sorted_shards, (gpointer) entry->shard);
    }

  job->index_json = st_index_json_format (st_file_peek_metadata (self), total_size, sorted_names, sorted_shards);
  job->index_name = g_strconcat (prefix, ".safetensors.index.json", NULL);
  return g_steal_pointer (&job);
}

/* More files than this are named (hidden) and closed as soon as written, not kept open. */
#define MAX_OPEN_PENDING 64

typedef void (*ProgressEmit) (guint64  done,
                              guint64  total,
                              gpointer emit_data);

/* Where a save to @path writes: the file a symbolic link points to, whose link stays (as open() would
 * write through it, and as a save of a single file does), or @path itself. Sets *@out_followed when
 * @path is a link. */
char *
st_shard_resolve_target (const char *path,
                         gboolean   *out_followed)
{
  GStatBuf st;
  char *resolved;
  char *target;

  *out_followed = FALSE;
  if (g_lstat (path, &st) != 0 || !S_ISLNK (st.st_mode))
    return g_strdup (path);
  /* A dangling link is replaced, as for a single file. */
  resolved = realpath (path, NULL);
  if (resolved == NULL)
    return g_strdup (path);
  *out_followed = TRUE;
  target = g_strdup (resolved);
  free (resolved);
  return target;
}

/* Whether new files in @directory can be made without a name (O_TMPFILE): where they cannot (FUSE, some
 * network file systems), each gets a hidden name until the commit, which a kill would leave behind. */
static gboolean
has_unnamed_files (const char *directory)
{
  int fd = open (directory, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

  if (fd >= 0)
    {
      close (fd);
      return TRUE;
    }
  /* As st_pending_file_new() tells; a real failure is its to report. */
  return errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOTSUP;
}

/* Takes back the new names given so far by a commit that replaced nothing yet. */
static void
take_back_new_names (GPtrArray *pending,
                     GPtrArray *targets,
                     guint      n_files)
{
  for (guint j = 0; j < n_files; j++)
    if (st_pending_file_is_committed (g_ptr_array_index (pending, j)))
      g_unlink (g_ptr_array_index (targets, j));
}

/* The commit, holding the folder's lock: the mark, the renames (files that replace nothing first, the
 * index last), the removal of the old checkpoint's other files, then the mark's removal. A failure
 * before the first file that replaces an old one leaves the folder as it was; after it, the mark stays,
 * so that readers refuse the mix and the next save cleans up. */
gboolean
st_shard_commit (const char   *directory,
                 const char   *prefix,
                 const char   *written_index_name,
                 GPtrArray    *file_names,
                 GPtrArray    *pending,
                 GPtrArray    *targets,
                 STSaveFlags   flags,
                 GError      **error)
{
  g_autoptr(StCheckpointLock) lock = st_checkpoint_lock (directory, TRUE);
  g_autofree char *index_name = g_strconcat (prefix, ".safetensors.index.json", NULL);
  g_autoptr(GHashTable) written = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) stale = NULL;
  g_autoptr(GPtrArray) marked = g_ptr_array_new ();
  guint n_files = file_names->len;
  gboolean replaced_any = FALSE;

  for (guint k = 0; k < n_files; k++)
    g_hash_table_add (written, g_ptr_array_index (file_names, k));
  if (written_index_name != NULL)
    g_hash_table_add (written, (gpointer) written_index_name);

  st_checkpoint_remove_dead_work_dirs (directory);

  stale = previous_files (directory, prefix, index_name, written);
  g_ptr_array_extend (marked, file_names, NULL, NULL);
  if (written_index_name != NULL)
    g_ptr_array_add (marked, (gpointer) written_index_name);
  g_ptr_array_extend (marked, stale, NULL, NULL);
  if (!st_checkpoint_mark_set (directory, index_name, marked, flags, error))
    return FALSE;

  /* Files that replace nothing (a new shard count gives all new names) change nothing that a loader of
   * the old checkpoint reads; the others replace old shards of the same name. */
  for (int replacing = 0; replacing <= 1; replacing++)
    for (guint k = 0; k < n_files; k++)
      {
        StPendingFile *file = g_ptr_array_index (pending, k);
        const char *target = g_ptr_array_index (targets, k);

        if (st_pending_file_is_committed (file) || g_file_test (target, G_FILE_TEST_EXISTS) != (replacing == 1))
          continue;
        if (!st_pending_file_commit (file, target, flags, error))
          {
            if (!replaced_any)
              {
                take_back_new_names (pending, targets, n_files);
                st_checkpoint_mark_clear (directory, index_name, NULL);
              }
            return FALSE;
          }
        replaced_any |= replacing == 1;
      }
  if (written_index_name != NULL &&
      !st_pending_file_commit (g_ptr_array_index (pending, n_files), g_ptr_array_index (targets, n_files),
                               flags, error))
    {
      if (!replaced_any)
        {
          take_back_new_names (pending, targets, n_files);
          st_checkpoint_mark_clear (directory, index_name, NULL);
        }
      return FALSE;
    }

  if ((flags & ST_SAVE_FLAGS_SYNC) && !st_sync_directory (directory, error))
    return FALSE;

  if (!remove_stale_files (directory, stale, error) ||
      !st_checkpoint_mark_clear (directory, index_name, error))
    return FALSE;

  /* The replaced files are freed only now, after the mark is gone (see st_pending_file_commit): freeing
   * their blocks takes milliseconds, during which a kill would leave the mark and readers refusing. */
  g_ptr_array_set_size (pending, 0);
  return TRUE;
}

/* The save proper: every file is written completely (unnamed where the file system allows it) before
 * any is renamed into place; then the commit. A failure or cancellation before the commit leaves the
 * folder as it was. */
static gboolean
shard_job_run (ShardJob      *job,
               GCancellable  *cancellable,
               ProgressEmit   emit,
               gpointer       emit_data,
               GError       **error)
{
  /* Declared before @pending, so freed after it: the work folder is removed once empty. */
  g_autoptr(StCheckpointWorkDir) work_dir = NULL;
  g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func ((GDestroyNotify) st_pending_file_free);
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) followed = g_ptr_array_new ();
  guint n_files = job->file_names->len + (job->index_name != NULL ? 1 : 0);
  gboolean park = n_files > MAX_OPEN_PENDING;
  guint64 done = 0;

  /* Every target must be a new name or a regular file the caller could open for writing, as for a
   * single file: known before anything is written. */
  for (guint k = 0; k < n_files; k++)
    {
      gboolean is_index = k == job->file_names->len;
      const char *file_name = is_index ? job->index_name : g_ptr_array_index (job->file_names, k);
      g_autofree char *link = g_build_filename (job->directory, file_name, NULL);
      gboolean is_link;
      char *target = st_shard_resolve_target (link, &is_link);

      g_ptr_array_add (targets, target);
      g_ptr_array_add (followed, GINT_TO_POINTER (is_link));

      if (!st_check_save_target (target, NULL, error))
        return FALSE;
    }

  /* Files with names, parked or not, go into a work folder of the save's own, which the next save
   * removes when a kill left it. */
  if (park || !has_unnamed_files (job->directory))
    {
      work_dir = st_checkpoint_work_dir_new (job->directory, error);
      if (work_dir == NULL)
        return FALSE;
    }

  for (guint k = 0; k < n_files; k++)
    {
      gboolean is_index = k == job->file_names->len;
      const char *target = g_ptr_array_index (targets, k);
      gboolean is_link = GPOINTER_TO_INT (g_ptr_array_index (followed, k));
      g_autofree char *link_directory = is_link ? g_path_get_dirname (target) : NULL;
      StPendingFile *file;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      /* A file is written in the folder it will be renamed in: the work folder, or the folder of the
       * file a link points to. */
      if (is_link)
        file = st_pending_file_new (link_directory, target, error);
      else
        file = st_pending_file_new (work_dir != NULL ? st_checkpoint_work_dir_get_path (work_dir) : job->directory,
                                    target, error);
      if (file == NULL)
        return FALSE;
      g_ptr_array_add (pending, file);

      if (is_index)
        {
          gsize length = strlen (job->index_json);

          /* The new file is empty: its bytes go from offset 0 on */
          if (st_pwrite_all (st_pending_file_get_fd (file), job->index_json, length, 0, G_MAXSIZE, NULL) != length)
            {
              st_set_io_error_from_errno (error, errno, "Could not write", target);
              return FALSE;
            }
        }
      else
        {
          StSavePlan *plan = g_ptr_array_index (job->plans, k);

          if (!st_pending_file_reserve (file, st_save_plan_get_size (plan), target, error) ||
              !st_save_plan_write_to_fd (plan, st_pending_file_get_fd (file), target, cancellable, error))
            return FALSE;
        }

      if (park && !st_pending_file_park (file, job->flags, error))
        return FALSE;

      if (!is_index)
        {
          done += g_array_index (job->file_bytes, guint64, k);
          if (emit != NULL)
            emit (done, job->total_size, emit_data);
        }
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  return st_shard_commit (job->directory, job->prefix, job->index_name, job->file_names, pending, targets,
                          job->flags, error);
}

/**
 * st_file_save_sharded:
 * @self: a file
 * @directory: (type filename): the directory to write into; it must exist
 * @prefix: the name the files begin with, usually `model`
 * @max_shard_size: the largest sum of tensor bytes a shard may hold, unless
 *   it holds a single tensor larger than that
 * @flags: how to write; %ST_SAVE_FLAGS_SYNC syncs every file and the
 *   directory before returning
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope call) (closure progress_data): called
 *   after each shard is written, with the bytes of tensor data written so far
 *   and in all
 * @progress_data: data for @progress
 * @error: return location for a #GError
 *
 * Saves the file as a sharded checkpoint, the way transformers and
 * huggingface_hub do: the tensors are taken in the order of
 * [method@ST.File.dup_names_in_file_order] and put in the current shard until the
 * next one would take it over @max_shard_size bytes of tensor data, then a new
 * shard begins; a tensor larger than @max_shard_size goes into a shard of its
 * own at once (so it may come before the shard being filled).
 *
 * With two shards or more, the shards are written as
 * `@prefix-00001-of-0000N.safetensors` and so on, then the index
 * `@prefix.safetensors.index.json`: `{"metadata": {"total_size": N, ...},
 * "weight_map": {...}}`, with two-space indentation and sorted keys, as
 * transformers writes it. The file's `__metadata__` goes into every shard
 * (transformers requires `"format": "pt"` in each shard it loads) and into
 * the index metadata, where `total_size`, the sum of all the tensors' byte
 * sizes, takes precedence over a `total_size` key of the file's metadata.
 *
 * With one shard (or no tensors at all) the file is written as a plain
 * `@prefix.safetensors` and no index.
 *
 * The save is atomic as a whole, as far as POSIX allows: every shard and the
 * index are first written completely as new files without a name (or with a
 * short hidden one), and checked against the reader's limits before that.
 * A full disk, an I/O error, a cancellation or a kill during that phase
 * leaves the directory as it was. Then, holding a lock on the directory (so
 * that two saves into it commit one after the other), the files are renamed
 * into place: first those whose names are new (all of them when the shard
 * count changed: the old checkpoint still loads), then those that replace an
 * old shard of the same name, then the index. During these renames a commit
 * mark exists beside the index: [class@ST.Index] refuses a shard, naming it,
 * while the mark exists (a commit under way, or one a kill interrupted) or
 * when the index was replaced since it was read, so that shards of two saves
 * are never read as one checkpoint. Once all is renamed, the files of the
 * checkpoint this save replaces that it did not write (the old index,
 * `@prefix.safetensors`, the shards the old index names) are removed, so that
 * no reader picks them up, and then the mark. A symbolic link in place of a
 * shard or of the index is followed, and the file it points to replaced, as
 * [method@ST.File.save_to_path] does. See [Durability](durability.html).
 *
 * Returns: %TRUE on success; otherwise %FALSE with @error set:
 *   `G_IO_ERROR_INVALID_ARGUMENT` for a @max_shard_size of 0 or a @prefix
 *   that is not a plain file name, or any error of
 *   [method@ST.File.save_to_path]
 *
 * Since: 1.0
 */
gboolean
st_file_save_sharded (STFile          *self,
                      const char      *directory,
                      const char      *prefix,
                      guint64          max_shard_size,
                      STSaveFlags      flags,
                      GCancellable    *cancellable,
                      STProgressFunc   progress,
                      gpointer         progress_data,
                      GError         **error)
{
  g_autoptr(ShardJob) job = NULL;

  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (directory != NULL, FALSE);
  g_return_val_if_fail (prefix != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job = shard_job_new (self, directory, prefix, max_shard_size, flags, error);
  if (job == NULL)
    return FALSE;

  return shard_job_run (job, cancellable, (ProgressEmit) progress, progress_data, error);
}

/* An async save's progress reaches the caller on the main context it called from (st-progress.c). */
typedef struct {
  ShardJob   *job;
  StProgress *progress;  /* NULL without a progress callback */
} ShardTaskData;

static void
shard_task_data_free (ShardTaskData *data)
{
  g_clear_pointer (&data->job, shard_job_free);
  st_progress_free (data->progress);
  g_free (data);
}

static void
emit_progress_async (guint64  done,
                     guint64  total,
                     gpointer progress)
{
  st_progress_report (progress, done, total);
}

static void
save_sharded_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  ShardTaskData *data = task_data;
  GError *error = NULL;
  gboolean ok;

  ok = shard_job_run (data->job, cancellable, data->progress != NULL ? emit_progress_async : NULL,
                      data->progress, &error);
  /* No report follows: release the caller's progress data now, so that its notify is queued before the
   * result and runs even while the caller keeps the result (and so the task) alive. */
  g_clear_pointer (&data->progress, st_progress_free);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * st_file_save_sharded_async:
 * @self: a file
 * @directory: (type filename): the directory to write into; it must exist
 * @prefix: the name the files begin with, usually `model`
 * @max_shard_size: the largest sum of tensor bytes a shard may hold, unless
 *   it holds a single tensor larger than that
 * @flags: how to write
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called after each shard is written, with the bytes of tensor data written
 *   so far and in all
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data once @progress will not be called again
 * @callback: (scope async): called when the save is done
 * @user_data: (closure callback): data for @callback
 *
 * Saves the file as [method@ST.File.save_sharded] does, in a thread. The file is
 * captured when this function is called (its tensors' memory is read while the save
 * runs: do not write into it meanwhile).
 *
 * @progress runs in the thread-default main context of the caller, never in the thread
 * that writes, so that it may update a user interface; so do @progress_notify and
 * @callback. Call [method@ST.File.save_sharded_finish] from @callback.
 *
 * Since: 1.0
 */
void
st_file_save_sharded_async (STFile              *self,
                            const char          *directory,
                            const char          *prefix,
                            guint64              max_shard_size,
                            STSaveFlags          flags,
                            GCancellable        *cancellable,
                            STProgressFunc       progress,
                            gpointer             progress_data,
                            GDestroyNotify       progress_notify,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  ShardTaskData *data;

  g_return_if_fail (ST_IS_FILE (self));
  g_return_if_fail (directory != NULL);
  g_return_if_fail (prefix != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_file_save_sharded_async);

  data = g_new0 (ShardTaskData, 1);
  data->progress = st_progress_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, data, (GDestroyNotify) shard_task_data_free);

  data->job = shard_job_new (self, directory, prefix, max_shard_size, flags, &error);
  if (data->job == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* As for a single file: the thread looks at the cancellable itself, up to the renames. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, save_sharded_thread);
}

/**
 * st_file_save_sharded_finish:
 * @self: a file
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@ST.File.save_sharded_async]. A save cancelled before its renames
 * began fails with %G_IO_ERROR_CANCELLED and leaves the directory as it was.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
st_file_save_sharded_finish (STFile        *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (ST_IS_FILE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_file_save_sharded_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
