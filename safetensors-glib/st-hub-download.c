/* st-hub-download.c: downloads from the Hub into the Hugging Face cache, as huggingface_hub lays it out
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The layout (huggingface_hub's file_download.py, read for these facts):
 *
 *   HF_HUB_CACHE/models--ORG--NAME/blobs/ETAG                  the file's bytes, named by its entity tag
 *   HF_HUB_CACHE/models--ORG--NAME/blobs/ETAG.incomplete       a download under way, or interrupted
 *   HF_HUB_CACHE/models--ORG--NAME/snapshots/COMMIT/FILE       a relative symbolic link to the blob
 *   HF_HUB_CACHE/models--ORG--NAME/refs/REVISION               the commit hash REVISION names
 *   HF_HUB_CACHE/.locks/models--ORG--NAME/ETAG.lock            taken (flock) while the blob is fetched
 *   HF_HUB_CACHE/CACHEDIR.TAG                                  so that backup tools skip the cache
 *
 * with datasets--ORG--NAME and spaces--ORG--NAME for datasets and Spaces (repo_folder_name()).
 *
 * The commit, entity tag and size come from a HEAD of the resolve address (X-Repo-Commit,
 * X-Linked-Etag or ETag, X-Linked-Size or Content-Length). A download appends to ETAG.incomplete,
 * continuing an interrupted one by Range from its length; once the size is reached, the SHA-256 of the
 * whole is checked against the entity tag when that is a SHA-256 (the Hub's tag of a large file), the
 * file synced, and renamed to its final name: a blob under its final name is always whole and checked.
 * Two processes fetching the same blob take turns on its lock, and the second finds the blob there.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "st-error.h"
#include "st-io-private.h"
#include "st-hub.h"
#include "st-hub-private.h"
#include "st-index.h"
#include "st-parallel-private.h"
#include "st-progress-private.h"
#include "st-source-private.h"

#define MAX_PARALLEL_DOWNLOADS 4

static gboolean
is_hex (const char *text,
        gsize       len)
{
  if (strlen (text) != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (text[i]) && !(text[i] >= 'a' && text[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* An entity tag becomes a file name: it must be one */
static gboolean
is_safe_etag (const char *etag)
{
  return etag != NULL && etag[0] != '\0' && etag[0] != '.' && strchr (etag, '/') == NULL &&
         strchr (etag, '\\') == NULL && strlen (etag) < 200;
}

/* The caller's per-file callback: freed (its notify called) on the caller's context, after every
 * report of every file (st-progress.c queues them in order) */
typedef struct {
  STHubFileProgressFunc func;
  gpointer              data;
  GDestroyNotify        notify;
} FileCallback;

static void
file_callback_free (gpointer data)
{
  FileCallback *callback = data;

  if (callback->notify != NULL)
    callback->notify (callback->data);
  g_free (callback);
}

static void
no_progress (guint64  done,
             guint64  total,
             gpointer data)
{
}

/* One file's reports: the callback (borrowed) and the file's name */
typedef struct {
  const FileCallback *callback;
  char               *filename;
} FileReport;

static void
file_report_free (gpointer data)
{
  FileReport *report = data;

  g_free (report->filename);
  g_free (report);
}

static void
file_report_deliver (guint64  done,
                     guint64  total,
                     gpointer data)
{
  FileReport *report = data;

  report->callback->func (report->filename, done, total, report->callback->data);
}

/* Progress of a download: bytes of all its files, from any thread; and per file */
typedef struct {
  StProgress   *progress;       /* the total's; NULL without a callback */
  StProgress   *file_holder;    /* holds the per-file callback (FileCallback) until the end */
  FileCallback *file_callback;  /* borrowed from file_holder; NULL without a per-file callback */
  GMainContext *context;        /* the caller's */
  GMutex        lock;
  guint64       done;
  guint64       total;
} Progress;

/* One file of a download */
typedef struct {
  StHubAddress   address;
  StHttpFileInfo info;
  char          *path;           /* the snapshot's link, once done */
  Progress      *progress;       /* the download's; nullable */
  StProgress    *file_progress;  /* this file's reports; nullable */
  guint64        file_done;
} Item;

/* @n_bytes more of @data's file (an Item) are in the cache */
static void
item_advance (guint64  n_bytes,
              gpointer data)
{
  Item *item = data;
  Progress *progress = item->progress;

  if (progress == NULL)
    return;
  /* Reported under the lock: the shards' threads queue their reports in the order of their counts,
   * so the caller sees the count grow and its last report is the whole, before the result. */
  g_mutex_lock (&progress->lock);
  progress->done += n_bytes;
  st_progress_report (progress->progress, progress->done, progress->total);
  g_mutex_unlock (&progress->lock);
  /* one thread fetches a file: its own count needs no lock */
  item->file_done += n_bytes;
  st_progress_report (item->file_progress, item->file_done, (guint64) item->info.size);
}

/* The file's reports start (0 of its size) once its size is known */
static void
item_start_progress (Item *item)
{
  Progress *progress = item->progress;
  FileReport *report;

  if (progress == NULL || progress->file_callback == NULL || item->file_progress != NULL)
    return;
  report = g_new0 (FileReport, 1);
  report->callback = progress->file_callback;
  report->filename = g_strdup (item->address.filename);
  item->file_progress = st_progress_new_for_context (file_report_deliver, report, file_report_free,
                                                     progress->context);
  st_progress_report (item->file_progress, 0, (guint64) item->info.size);
}

static void
item_free (gpointer data)
{
  Item *item = data;

  st_hub_address_clear (&item->address);
  st_http_file_info_clear (&item->info);
  g_free (item->path);
  st_progress_free (item->file_progress);
  g_free (item);
}

static gboolean
fetch_info (Item          *item,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autofree char *url = st_hub_address_to_url (&item->address);
  g_autofree char *token = st_hub_dup_token ();
  g_autofree char *endpoint = st_hub_dup_endpoint ();
  gboolean ok;

  ok = st_http_get_file_info (url, token, endpoint, &item->info,
                              cancellable, error);
  if (token != NULL)
    explicit_bzero (token, strlen (token));
  if (!ok)
    return FALSE;
  if (item->info.commit == NULL || !is_hex (item->info.commit, 40))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "“%s”: the server names no commit (X-Repo-Commit): is it the Hub?", url);
      return FALSE;
    }
  if (!is_safe_etag (item->info.etag) || item->info.size < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "“%s”: the server gives no usable entity tag or size for the file", url);
      return FALSE;
    }
  return TRUE;
}

/* Writing the blob */

typedef struct {
  int        fd;
  guint64    offset;
  GChecksum *sha256;  /* NULL when the entity tag is not a SHA-256 */
  const char *path;
} BlobWriter;

static gboolean
blob_write (const guint8  *data,
            gsize          len,
            gpointer       user_data,
            GError       **error)
{
  BlobWriter *writer = user_data;
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = pwrite (writer->fd, data + done, len - done, (off_t) (writer->offset + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          st_set_io_error_from_errno (error, errno, "Could not write", writer->path);
          return FALSE;
        }
      done += (gsize) n;
    }
  if (writer->sha256 != NULL)
    g_checksum_update (writer->sha256, data, (gssize) len);
  writer->offset += len;
  return TRUE;
}

/* Hashes the first @len bytes already in @fd (an interrupted download's) */
static gboolean
hash_existing (int          fd,
               guint64      len,
               GChecksum   *sha256,
               const char  *path,
               GError     **error)
{
  g_autofree guint8 *buffer = g_malloc (1024 * 1024);
  guint64 done = 0;

  while (done < len)
    {
      ssize_t n = pread (fd, buffer, (size_t) MIN (len - done, 1024 * 1024), (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          st_set_io_error_from_errno (error, n < 0 ? errno : EIO, "Could not read", path);
          return FALSE;
        }
      g_checksum_update (sha256, buffer, n);
      done += (guint64) n;
    }
  return TRUE;
}

static gboolean
make_directory (const char  *path,
                GError     **error)
{
  if (g_mkdir_with_parents (path, 0777) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not create the folder", path);
      return FALSE;
    }
  return TRUE;
}

/* Takes the lock huggingface_hub takes for the blob (filelock's flock() on Linux); -1 on failure */
static int
lock_blob (const StHubAddress *address,
           const char         *etag,
           GError            **error)
{
  g_autofree char *cache = st_hub_dup_cache_dir ();
  g_autofree char *folder = st_hub_address_dup_repo_folder (address);
  g_autofree char *locks = g_build_filename (cache, ".locks", folder, NULL);
  g_autofree char *lock_name = g_strconcat (etag, ".lock", NULL);
  g_autofree char *lock_path = g_build_filename (locks, lock_name, NULL);
  int fd;

  if (!make_directory (locks, error))
    return -1;
  fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not open the lock", lock_path);
      return -1;
    }
  while (flock (fd, LOCK_EX) != 0)
    {
      if (errno == EINTR)
        continue;
      st_set_io_error_from_errno (error, errno, "Could not lock", lock_path);
      close (fd);
      return -1;
    }
  return fd;
}

/* Fetches the blob of @item into @blob_path, resuming @blob_path.incomplete; holds the lock. */
static gboolean
fetch_blob (Item          *item,
            const char    *blob_path,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autofree char *incomplete = g_strconcat (blob_path, ".incomplete", NULL);
  g_autofree char *token = NULL;
  g_autofree char *endpoint = NULL;
  g_autoptr(StSource) source = NULL;
  g_autoptr(GChecksum) sha256 = NULL;
  guint64 size = (guint64) item->info.size;
  BlobWriter writer = { -1, 0, NULL, incomplete };
  struct stat st;
  gboolean ok = FALSE;

  writer.fd = open (incomplete, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (writer.fd < 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not create", incomplete);
      return FALSE;
    }
  if (fstat (writer.fd, &st) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not read", incomplete);
      goto out;
    }
  writer.offset = (guint64) st.st_size;
  /* longer than the file: not a prefix of it */
  if (writer.offset > size)
    {
      if (ftruncate (writer.fd, 0) != 0)
        {
          st_set_io_error_from_errno (error, errno, "Could not truncate", incomplete);
          goto out;
        }
      writer.offset = 0;
    }
  if (is_hex (item->info.etag, 64))
    {
      sha256 = g_checksum_new (G_CHECKSUM_SHA256);
      writer.sha256 = sha256;
      if (!hash_existing (writer.fd, writer.offset, sha256, incomplete, error))
        goto out;
    }
  item_advance (writer.offset, item);

  if (writer.offset < size)
    {
      token = st_hub_dup_token ();
      endpoint = st_hub_dup_endpoint ();
      source = st_source_new_for_uri (item->info.location, token,
                                      endpoint, error);
      if (token != NULL)
        explicit_bzero (token, strlen (token));
      if (source == NULL ||
          !st_source_stream (source, writer.offset, size - writer.offset, blob_write, &writer,
                             item_advance, item, cancellable, error))
        goto out;
    }
  if (source != NULL && st_source_get_size (source) != G_MAXUINT64 && st_source_get_size (source) != size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s of %s: the server sent a file of %" G_GUINT64_FORMAT " bytes where the Hub announced %"
                   G_GUINT64_FORMAT, item->address.filename, item->address.repo_id, st_source_get_size (source), size);
      g_unlink (incomplete);
      goto out;
    }
  if (sha256 != NULL && strcmp (g_checksum_get_string (sha256), item->info.etag) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s of %s: the bytes received do not have the SHA-256 the Hub announced (%s): the partial "
                   "download was removed", item->address.filename, item->address.repo_id, item->info.etag);
      g_unlink (incomplete);
      goto out;
    }
  if (fdatasync (writer.fd) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not write", incomplete);
      goto out;
    }
  if (g_rename (incomplete, blob_path) != 0)
    {
      st_set_io_error_from_errno (error, errno, "Could not rename", incomplete);
      goto out;
    }
  ok = TRUE;

out:
  close (writer.fd);
  return ok;
}

/* snapshots/COMMIT/FILE -> ../../blobs/ETAG (one more ../ per folder in FILE), replaced atomically */
static gboolean
link_snapshot (const char  *repo_dir,
               const Item  *item,
               char       **out_path,
               GError     **error)
{
  g_autofree char *path = g_build_filename (repo_dir, "snapshots", item->info.commit, item->address.filename, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *tmp = g_strconcat (path, ".st-link-XXXXXX", NULL);
  g_autoptr(GString) target = g_string_new ("../../");
  g_autofree char *existing = NULL;

  for (const char *p = item->address.filename; *p != '\0'; p++)
    if (*p == '/')
      g_string_append (target, "../");
  g_string_append_printf (target, "blobs/%s", item->info.etag);

  if (!make_directory (dir, error))
    return FALSE;
  existing = g_file_read_link (path, NULL);
  if (g_strcmp0 (existing, target->str) != 0)
    {
      /* a unique name for the new link, then a rename over the old one */
      int fd = g_mkstemp (tmp);

      if (fd < 0)
        {
          st_set_io_error_from_errno (error, errno, "Could not create a file in", dir);
          return FALSE;
        }
      close (fd);
      g_unlink (tmp);
      if (symlink (target->str, tmp) != 0 || g_rename (tmp, path) != 0)
        {
          st_set_io_error_from_errno (error, errno, "Could not link", path);
          g_unlink (tmp);
          return FALSE;
        }
    }
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

static gboolean
write_ref (const char  *repo_dir,
           const Item  *item,
           GError     **error)
{
  g_autofree char *ref = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *current = NULL;

  if (strcmp (item->address.revision, item->info.commit) == 0)
    return TRUE;
  ref = g_build_filename (repo_dir, "refs", item->address.revision, NULL);
  dir = g_path_get_dirname (ref);
  if (g_file_get_contents (ref, &current, NULL, NULL) && strcmp (current, item->info.commit) == 0)
    return TRUE;
  return make_directory (dir, error) && g_file_set_contents (ref, item->info.commit, -1, error);
}

/* The cache directory tag (https://bford.info/cachedir/) huggingface_hub leaves too, so that backup
 * tools skip the cache; written once, by whoever comes first. */
static void
tag_cache_dir (void)
{
  g_autofree char *cache = st_hub_dup_cache_dir ();
  g_autofree char *tag = g_build_filename (cache, "CACHEDIR.TAG", NULL);

  if (!g_file_test (tag, G_FILE_TEST_EXISTS) && g_mkdir_with_parents (cache, 0777) == 0)
    g_file_set_contents (tag, "Signature: 8a477f597d28d172789f06886806bc55\n"
                              "# This file is a cache directory tag created by safetensors-glib.\n"
                              "# For information about cache directory tags, see:\n"
                              "#\thttps://bford.info/cachedir/\n", -1, NULL);
}

/* Downloads one file whose info is fetched */
static gboolean
download_item (Item          *item,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autofree char *repo_dir = st_hub_address_dup_repo_dir (&item->address);
  g_autofree char *blobs = g_build_filename (repo_dir, "blobs", NULL);
  g_autofree char *blob = g_build_filename (blobs, item->info.etag, NULL);

  item_start_progress (item);
  if (!g_file_test (blob, G_FILE_TEST_IS_REGULAR))
    {
      int lock_fd;
      gboolean ok = TRUE;

      if (!make_directory (blobs, error))
        return FALSE;
      lock_fd = lock_blob (&item->address, item->info.etag, error);
      if (lock_fd < 0)
        return FALSE;
      /* another process may have fetched it while we waited */
      if (!g_file_test (blob, G_FILE_TEST_IS_REGULAR))
        ok = fetch_blob (item, blob, cancellable, error);
      else
        item_advance ((guint64) item->info.size, item);
      close (lock_fd);
      if (!ok)
        return FALSE;
    }
  else
    {
      item_advance ((guint64) item->info.size, item);
    }
  return link_snapshot (repo_dir, item, &item->path, error) && write_ref (repo_dir, item, error);
}

/* Several items at once, by up to MAX_PARALLEL_DOWNLOADS threads: their info, or their bytes */
static gboolean
fetch_item_info (guint          index,
                 gpointer       items,
                 GCancellable  *cancellable,
                 GError       **error)
{
  return fetch_info (g_ptr_array_index ((GPtrArray *) items, index), cancellable, error);
}

static gboolean
download_nth_item (guint          index,
                   gpointer       items,
                   GCancellable  *cancellable,
                   GError       **error)
{
  return download_item (g_ptr_array_index ((GPtrArray *) items, index), cancellable, error);
}

static gboolean
run_items (GPtrArray     *items,
           gboolean       info_only,
           GCancellable  *cancellable,
           GError       **error)
{
  return st_parallel_run (items->len, MAX_PARALLEL_DOWNLOADS, "st-hub-download",
                          info_only ? fetch_item_info : download_nth_item, items, cancellable, error);
}

static Item *
item_new (const StHubAddress *address,
          const char         *revision,
          const char         *filename,
          Progress           *progress)
{
  Item *item = g_new0 (Item, 1);

  item->progress = progress;
  item->address.repo_type = address->repo_type;
  item->address.repo_id = g_strdup (address->repo_id);
  item->address.revision = g_strdup (revision);
  item->address.filename = g_strdup (filename);
  return item;
}

/* Downloads @address; @st_progress and @file_holder (nullable) report on @context */
static char *
download (const char     *address,
          StProgress     *st_progress,
          StProgress     *file_holder,
          FileCallback   *file_callback,
          GMainContext   *context,
          GCancellable   *cancellable,
          GError        **error)
{
  g_auto(StHubAddress) hub = { 0 };
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (item_free);
  g_autoptr(GPtrArray) shards = g_ptr_array_new_with_free_func (item_free);
  Progress progress = { st_progress, file_holder, file_holder != NULL ? file_callback : NULL, context, { 0 }, 0, 0 };
  Progress *maybe_progress = st_progress != NULL || file_holder != NULL ? &progress : NULL;
  Item *main_item;
  char *result = NULL;

  if (!st_hub_address_parse (address, &hub))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Not an address of the Hub: “%s” (hf://[datasets/|spaces/]ORG/NAME[@REVISION]/FILE, or "
                   "ENDPOINT/[datasets/|spaces/]ORG/NAME/resolve/REVISION/FILE)", address);
      return NULL;
    }
  if (st_hub_is_offline ())
    {
      char *cached = st_hub_address_dup_cached_path (&hub);

      if (cached == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "“%s” of %s at revision “%s” is not in the Hugging Face cache, and HF_HUB_OFFLINE forbids "
                     "fetching it", hub.filename, hub.repo_id, hub.revision);
      return cached;
    }

  g_mutex_init (&progress.lock);
  main_item = item_new (&hub, hub.revision, hub.filename, maybe_progress);
  g_ptr_array_add (items, main_item);
  if (!fetch_info (main_item, cancellable, error))
    goto out;
  tag_cache_dir ();
  progress.total = (guint64) main_item->info.size;
  st_progress_report (st_progress, 0, progress.total);
  if (!download_item (main_item, cancellable, error))
    goto out;

  /* a sharded checkpoint: its shards, at the index's commit, at once */
  if (g_str_has_suffix (hub.filename, ".index.json"))
    {
      g_autoptr(STIndex) index = st_index_new_from_path (main_item->path, cancellable, error);
      g_auto(GStrv) names = NULL;
      g_autofree char *dir = g_path_get_dirname (hub.filename);

      if (index == NULL)
        goto out;
      names = st_index_dup_shard_names (index);
      for (guint i = 0; names[i] != NULL; i++)
        {
          g_autofree char *filename = strcmp (dir, ".") == 0 ? g_strdup (names[i])
                                                             : g_strconcat (dir, "/", names[i], NULL);

          g_ptr_array_add (shards, item_new (&hub, main_item->info.commit, filename, maybe_progress));
        }
      if (!run_items (shards, TRUE, cancellable, error))
        goto out;
      g_mutex_lock (&progress.lock);
      for (guint i = 0; i < shards->len; i++)
        progress.total += (guint64) ((Item *) shards->pdata[i])->info.size;
      g_mutex_unlock (&progress.lock);
      if (!run_items (shards, FALSE, cancellable, error))
        goto out;
    }
  result = g_strdup (main_item->path);

out:
  g_mutex_clear (&progress.lock);
  return result;
}

/**
 * st_hub_download:
 * @address: a file of the Hub: `hf://ORG/NAME[@REVISION]/FILE` (`hf://datasets/ORG/NAME…` and
 *   `hf://spaces/ORG/NAME…` for datasets and Spaces) or
 *   `ENDPOINT/[datasets/|spaces/]ORG/NAME/resolve/REVISION/FILE`
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Downloads a file of the Hub into the Hugging Face cache (`HF_HUB_CACHE`, by default
 * `~/.cache/huggingface/hub`), laid out as huggingface_hub lays it out, so that transformers and
 * diffusers find it there, and returns its path in the cache's snapshot of the revision: a
 * symbolic link to the blob, which [ctor@ST.File.new_from_path] maps. A file of the index of a
 * sharded checkpoint (a name ending in `.index.json`) brings its shards along, at the index's
 * commit, up to four at once.
 *
 * A download resumes what an interrupted one left (`blobs/ETAG.incomplete`), checks the size, and
 * the SHA-256 where the Hub gives it (its entity tag of a large file), and renames the blob to its
 * final name only then; two processes fetching the same blob take turns on huggingface_hub's lock.
 * A file already in the cache is not fetched again. Memory stays bounded (a megabyte per file being
 * fetched) whatever the size. With `HF_HUB_OFFLINE=1`, the cache alone answers.
 *
 * This call does network I/O and blocks until every file is in: use
 * [func@ST.hub_download_async] from a user interface, for its progress too.
 *
 * Returns: (transfer full) (type filename): the path of the file in the cache, or %NULL with
 *   @error set: %G_IO_ERROR_INVALID_ARGUMENT for an address that is not the Hub's, the errors of
 *   [ctor@ST.File.new_from_uri], %G_IO_ERROR_NO_SPACE for a full disk (what was fetched stays, to
 *   resume), %G_IO_ERROR_INVALID_DATA for bytes that fail the checks
 *
 * Since: 1.2
 */
char *
st_hub_download (const char    *address,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return download (address, NULL, NULL, NULL, NULL, cancellable, error);
}

typedef struct {
  char         *address;
  StProgress   *progress;
  StProgress   *file_holder;    /* its data is the FileCallback */
  FileCallback *file_callback;
  GMainContext *context;
} DownloadJob;

static void
download_job_free (gpointer data)
{
  DownloadJob *job = data;

  g_free (job->address);
  st_progress_free (job->progress);
  st_progress_free (job->file_holder);
  g_main_context_unref (job->context);
  g_free (job);
}

static void
download_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  DownloadJob *job = task_data;
  GError *error = NULL;
  char *path;

  if (g_task_return_error_if_cancelled (task))
    return;
  path = download (job->address, job->progress, job->file_holder, job->file_callback, job->context, cancellable,
                   &error);
  /* the items' reports are queued: the callbacks' data go after them, before the completion */
  g_clear_pointer (&job->progress, st_progress_free);
  g_clear_pointer (&job->file_holder, st_progress_free);
  if (path == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, path, g_free);
}

/**
 * st_hub_download_async:
 * @address: a file of the Hub (see [func@ST.hub_download])
 * @cancellable: (nullable): a #GCancellable
 * @progress: (nullable) (scope notified) (closure progress_data) (destroy progress_notify):
 *   called with the bytes in the cache so far and in all (of every file of a sharded checkpoint)
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data once @progress will not be called again
 * @file_progress: (nullable) (scope notified) (closure file_progress_data) (destroy file_progress_notify):
 *   called per file (the index, then each shard) with its name in the repository, its bytes in the
 *   cache so far and its size: first 0, last its size
 * @file_progress_data: data for @file_progress
 * @file_progress_notify: (nullable): frees @file_progress_data once @file_progress will not be
 *   called again
 * @callback: (scope async) (closure user_data): called when every file is in
 * @user_data: data for @callback
 *
 * Downloads as [func@ST.hub_download] does, in worker threads. @progress, @file_progress, their
 * notifies and @callback run in the thread-default main context of the caller, every report before
 * @callback.
 *
 * Since: 1.2
 */
void
st_hub_download_async (const char          *address,
                       GCancellable        *cancellable,
                       STProgressFunc         progress,
                       gpointer               progress_data,
                       GDestroyNotify         progress_notify,
                       STHubFileProgressFunc  file_progress,
                       gpointer               file_progress_data,
                       GDestroyNotify         file_progress_notify,
                       GAsyncReadyCallback    callback,
                       gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  DownloadJob *job;

  g_return_if_fail (address != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, st_hub_download_async);
  job = g_new0 (DownloadJob, 1);
  job->address = g_strdup (address);
  job->progress = st_progress_new (progress, progress_data, progress_notify);
  job->context = g_main_context_ref_thread_default ();
  if (file_progress != NULL)
    {
      job->file_callback = g_new0 (FileCallback, 1);
      job->file_callback->func = file_progress;
      job->file_callback->data = file_progress_data;
      job->file_callback->notify = file_progress_notify;
      job->file_holder = st_progress_new (no_progress, job->file_callback, file_callback_free);
    }
  else if (file_progress_notify != NULL)
    {
      file_progress_notify (file_progress_data);
    }
  g_task_set_task_data (task, job, download_job_free);
  g_task_run_in_thread (task, download_thread);
}

/**
 * st_hub_download_finish:
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@ST.hub_download_async].
 *
 * Returns: (transfer full) (type filename): the path of the file in the cache, or %NULL with
 *   @error set
 *
 * Since: 1.2
 */
char *
st_hub_download_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == st_hub_download_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
