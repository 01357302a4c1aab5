/* test-list-model.c: STFile and STIndex as GListModels of STTensorInfo, their properties, and the
 * asynchronous index open, check and merge with progress on the caller's main context
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <gio/gio.h>

#include "st-test-util.h"

static STTensor *
f32_tensor (guint n, float value)
{
  g_autofree float *values = g_new (float, n);
  gint64 shape[] = { 1, n };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  STTensor *tensor;

  for (guint i = 0; i < n; i++)
    values[i] = value;
  bytes = g_bytes_new (values, n * sizeof (float));
  tensor = st_tensor_new (ST_DTYPE_F32, shape, 2, bytes, &error);
  g_assert_no_error (error);
  return tensor;
}

typedef struct {
  guint position, removed, added;
  guint n_calls;
  guint n_notify;
} Changes;

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, Changes *changes)
{
  changes->position = position;
  changes->removed = removed;
  changes->added = added;
  changes->n_calls++;
}

static void
on_notify (GObject *object, GParamSpec *pspec, Changes *changes)
{
  changes->n_notify++;
}

static void
test_file_items (void)
{
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(STTensor) a = f32_tensor (3, 1);
  g_autoptr(STTensor) b = f32_tensor (2, 2);
  g_autoptr(STTensorInfo) item = NULL;
  g_autoptr(STTensorInfo) again = NULL;
  g_autofree char *dtype_name = NULL;
  g_autofree char *shape_string = NULL;
  Changes changes = { 0 };
  guint64 n_bytes = 0;
  gint64 begin = 0;
  guint n_tensors = 99;

  g_assert_true (G_IS_LIST_MODEL (file));
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (file)) == ST_TYPE_TENSOR_INFO);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (file)), ==, 0);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (file), 0));

  g_signal_connect (file, "items-changed", G_CALLBACK (on_items_changed), &changes);
  g_signal_connect (file, "notify::n-tensors", G_CALLBACK (on_notify), &changes);

  g_assert_true (st_file_set_tensor (file, "a", a, &error));
  g_assert_cmpuint (changes.n_calls, ==, 1);
  g_assert_cmpuint (changes.position, ==, 0);
  g_assert_cmpuint (changes.removed, ==, 0);
  g_assert_cmpuint (changes.added, ==, 1);
  g_assert_cmpuint (changes.n_notify, ==, 1);
  g_assert_true (st_file_set_tensor (file, "b", a, &error));
  g_assert_cmpuint (changes.position, ==, 1);
  g_assert_cmpuint (changes.n_notify, ==, 2);

  item = g_list_model_get_item (G_LIST_MODEL (file), 1);
  again = g_list_model_get_item (G_LIST_MODEL (file), 1);
  g_assert_true (item == again);  /* made once, then cached */
  g_object_get (item, "dtype-name", &dtype_name, "shape-string", &shape_string, "n-bytes", &n_bytes,
                "data-begin", &begin, NULL);
  g_assert_cmpstr (st_tensor_info_get_name (item), ==, "b");
  g_assert_cmpstr (dtype_name, ==, "F32");
  g_assert_cmpstr (shape_string, ==, "[1, 3]");
  g_assert_cmpuint (n_bytes, ==, 12);
  g_assert_cmpint (begin, ==, -1);  /* not loaded */
  g_assert_null (st_tensor_info_get_shard (item));

  /* Replaced in place: one item out, one in, at the same position; no count change. */
  g_assert_true (st_file_set_tensor (file, "b", b, &error));
  g_assert_cmpuint (changes.position, ==, 1);
  g_assert_cmpuint (changes.removed, ==, 1);
  g_assert_cmpuint (changes.added, ==, 1);
  g_assert_cmpuint (changes.n_notify, ==, 2);
  {
    g_autoptr(STTensorInfo) replaced = g_list_model_get_item (G_LIST_MODEL (file), 1);
    g_assert_true (replaced != item);
    g_assert_cmpuint (st_tensor_info_get_n_elements (replaced), ==, 2);
  }
  /* The old item is unchanged: items are immutable. */
  g_assert_cmpuint (st_tensor_info_get_n_elements (item), ==, 3);

  g_assert_true (st_file_remove_tensor (file, "a"));
  g_assert_cmpuint (changes.position, ==, 0);
  g_assert_cmpuint (changes.removed, ==, 1);
  g_assert_cmpuint (changes.added, ==, 0);
  g_assert_cmpuint (changes.n_notify, ==, 3);
  g_object_get (file, "n-tensors", &n_tensors, NULL);
  g_assert_cmpuint (n_tensors, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (file)), ==, 1);
}

/* The order of the signals of one change, as text: "items(0,0,1) n-tensors" */
static void
on_items_changed_logged (GListModel *model, guint position, guint removed, guint added, GString *log)
{
  g_string_append_printf (log, "%sitems(%u,%u,%u)", log->len > 0 ? " " : "", position, removed, added);
}

static void
on_notify_logged (GObject *object, GParamSpec *pspec, GString *log)
{
  g_string_append_printf (log, "%s%s", log->len > 0 ? " " : "", g_param_spec_get_name (pspec));
}

/* As GTK's own models (GListStore, GtkStringList): a handler of :n-tensors finds the model changed and
 * its views told, in adding and in removing alike. */
static void
test_file_signal_order (void)
{
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(STTensor) a = f32_tensor (3, 1);
  g_autoptr(STTensor) b = f32_tensor (2, 2);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  g_signal_connect (file, "items-changed", G_CALLBACK (on_items_changed_logged), log);
  g_signal_connect (file, "notify::n-tensors", G_CALLBACK (on_notify_logged), log);

  g_assert_true (st_file_set_tensor (file, "a", a, &error));
  g_assert_cmpstr (log->str, ==, "items(0,0,1) n-tensors");

  g_string_truncate (log, 0);
  g_assert_true (st_file_set_tensor (file, "b", b, &error));
  g_assert_cmpstr (log->str, ==, "items(1,0,1) n-tensors");

  /* Replaced in place: the count does not change, so only the items signal. */
  g_string_truncate (log, 0);
  g_assert_true (st_file_set_tensor (file, "a", b, &error));
  g_assert_cmpstr (log->str, ==, "items(0,1,1)");

  g_string_truncate (log, 0);
  g_assert_true (st_file_set_tensor_from_data (file, "c", ST_DTYPE_U8, (gint64[]) { 2 }, 1,
                                               (guint64) (guintptr) "xy", 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, "items(2,0,1) n-tensors");

  g_string_truncate (log, 0);
  g_assert_true (st_file_remove_tensor (file, "a"));
  g_assert_cmpstr (log->str, ==, "items(0,1,0) n-tensors");

  /* With nobody on items-changed, :n-tensors still comes. */
  g_signal_handlers_disconnect_by_func (file, on_items_changed_logged, log);
  g_string_truncate (log, 0);
  g_assert_true (st_file_set_tensor (file, "d", a, &error));
  g_assert_cmpstr (log->str, ==, "n-tensors");
}

static void
test_file_loaded_items (void)
{
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(STTensor) a = f32_tensor (4, 1);
  g_autoptr(STTensor) b = f32_tensor (2, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) saved = NULL;
  g_autoptr(STFile) loaded = NULL;
  guint64 header_size = 0, data_size = 0;

  st_file_set_tensor (file, "a", a, &error);
  st_file_set_tensor (file, "b", b, &error);
  saved = st_file_save_to_bytes (file, &error);
  g_assert_no_error (error);
  loaded = st_file_new_from_bytes (saved, &error);
  g_assert_no_error (error);

  g_object_get (loaded, "header-size", &header_size, "data-size", &data_size, NULL);
  g_assert_cmpuint (header_size, ==, st_file_get_header_size (loaded));
  g_assert_cmpuint (data_size, ==, 24);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(STTensorInfo) item = g_list_model_get_item (G_LIST_MODEL (loaded), i);
      guint64 begin = 0, end = 0;

      g_assert_true (st_file_get_tensor_offsets (loaded, st_tensor_info_get_name (item), &begin, &end));
      g_assert_cmpint (st_tensor_info_get_data_begin (item), ==, (gint64) begin);
      g_assert_cmpint (st_tensor_info_get_data_end (item), ==, (gint64) end);
    }
}

/* Many threads ask for the items of one loaded file at once: they agree on one object each. */
static gpointer
read_items (gpointer data)
{
  GListModel *model = data;
  GPtrArray *seen = g_ptr_array_new ();

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      STTensorInfo *item = g_list_model_get_item (model, i);
      g_ptr_array_add (seen, item);
      g_object_unref (item);  /* the file keeps it */
    }
  return seen;
}

static void
test_file_items_threads (void)
{
  g_autoptr(STFile) file = st_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) saved = NULL;
  g_autoptr(STFile) loaded = NULL;
  GThread *threads[4];
  GPtrArray *results[4];

  for (guint i = 0; i < 64; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%02u", i);
      g_autoptr(STTensor) tensor = f32_tensor (i + 1, (float) i);
      st_file_set_tensor (file, name, tensor, &error);
    }
  saved = st_file_save_to_bytes (file, &error);
  loaded = st_file_new_from_bytes (saved, &error);
  g_assert_no_error (error);

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    threads[t] = g_thread_new ("items", read_items, loaded);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    results[t] = g_thread_join (threads[t]);
  for (guint t = 1; t < G_N_ELEMENTS (threads); t++)
    for (guint i = 0; i < 64; i++)
      g_assert_true (g_ptr_array_index (results[t], i) == g_ptr_array_index (results[0], i));
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_ptr_array_unref (results[t]);
}

/* A sharded checkpoint of three shards in a new temporary directory. */
static char *
make_checkpoint (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new ();
  char *dir = g_dir_make_tmp ("st-list-model-XXXXXX", &error);

  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("layer%u.weight", i);
      g_autoptr(STTensor) tensor = f32_tensor (10, (float) i);
      st_file_set_tensor (file, name, tensor, &error);
    }
  g_assert_true (st_file_save_sharded (file, dir, "model", 40, ST_SAVE_FLAGS_NONE, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return dir;
}

static void
remove_checkpoint (const char *dir)
{
  const char *names[] = { "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                          "model-00003-of-00003.safetensors", "model.safetensors.index.json" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

typedef struct {
  GMainLoop *loop;
  GThread   *main_thread;
  GArray    *reports;   /* guint64 pairs */
  gboolean   notified;
  gboolean   finished;
  GObject   *result;
  GError    *error;
} AsyncState;

static void
on_progress (guint64 done, guint64 total, gpointer data)
{
  AsyncState *state = data;

  g_assert_true (g_thread_self () == state->main_thread);
  g_assert_false (state->finished);  /* every report comes before the callback */
  g_array_append_val (state->reports, done);
  g_array_append_val (state->reports, total);
}

static void
on_progress_done (gpointer data)
{
  AsyncState *state = data;

  g_assert_true (g_thread_self () == state->main_thread);
  state->notified = TRUE;
}

static void
on_opened (GObject *source, GAsyncResult *result, gpointer data)
{
  AsyncState *state = data;

  state->finished = TRUE;
  state->result = G_OBJECT (st_index_new_from_path_finish (result, &state->error));
  g_main_loop_quit (state->loop);
}

static void
on_validated (GObject *source, GAsyncResult *result, gpointer data)
{
  AsyncState *state = data;

  state->finished = TRUE;
  if (st_index_validate_finish (ST_INDEX (source), result, &state->error))
    state->result = g_object_ref (source);
  g_main_loop_quit (state->loop);
}

static void
on_merged (GObject *source, GAsyncResult *result, gpointer data)
{
  AsyncState *state = data;

  state->finished = TRUE;
  state->result = G_OBJECT (st_index_merge_finish (ST_INDEX (source), result, &state->error));
  g_main_loop_quit (state->loop);
}

static void
check_reports (AsyncState *state, guint min_reports)
{
  guint n = state->reports->len / 2;
  guint64 total = g_array_index (state->reports, guint64, 1);

  g_assert_cmpuint (n, >=, min_reports);
  g_assert_cmpuint (total, >, 0);
  for (guint i = 1; i < n; i++)
    g_assert_cmpuint (g_array_index (state->reports, guint64, 2 * i), >=,
                      g_array_index (state->reports, guint64, 2 * i - 2));
  g_assert_cmpuint (g_array_index (state->reports, guint64, 2 * n - 2), ==, total);
}

static void
test_index_async (void)
{
  g_autofree char *dir = make_checkpoint ();
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  AsyncState state = { 0 };
  g_autoptr(STIndex) index = NULL;
  g_autoptr(STFile) merged = NULL;
  guint n_shards = 0;

  state.loop = g_main_loop_new (NULL, FALSE);
  state.main_thread = g_thread_self ();
  state.reports = g_array_new (FALSE, FALSE, sizeof (guint64));

  st_index_new_from_path_async (index_path, NULL, on_opened, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  index = ST_INDEX (state.result);
  g_assert_cmpuint (state.reports->len, ==, 0);

  /* Then every shard, with progress. */
  state.finished = FALSE;
  state.result = NULL;
  st_index_validate_async (index, NULL, on_progress, &state, on_progress_done, on_validated, &state);
  /* The worker reports while this thread is not iterating the default context: the reports must
   * still wait for it (g_main_context_invoke() would run them in the worker). Wait for the event, not
   * for a time: until the worker has put its first report (or its result) on this context, checked
   * without dispatching anything; nothing may have run yet. */
  while (!g_main_context_pending (NULL))
    g_thread_yield ();
  g_assert_cmpuint (state.reports->len, ==, 0);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_true (state.result == G_OBJECT (index));
  g_object_unref (state.result);
  /* 0 of the total, then one report per shard */
  check_reports (&state, 4);
  g_assert_cmpuint (g_array_index (state.reports, guint64, 0), ==, 0);
  /* The notify may come after the callback, but on this context: run it. */
  while (!state.notified)
    g_main_context_iteration (NULL, TRUE);

  g_object_get (index, "n-shards", &n_shards, NULL);
  g_assert_cmpuint (n_shards, ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (index)), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(STTensorInfo) item = g_list_model_get_item (G_LIST_MODEL (index), i);
      g_autofree char *expected = g_strdup_printf ("layer%u.weight", i);

      g_assert_cmpstr (st_tensor_info_get_name (item), ==, expected);
      g_assert_cmpstr (st_tensor_info_get_dtype_name (item), ==, "F32");
      g_assert_cmpstr (st_tensor_info_get_shape_string (item), ==, "[1, 10]");
      g_assert_cmpstr (st_tensor_info_get_shard (item), ==, st_index_get_shard_name (index, expected));
      g_assert_cmpint (st_tensor_info_get_data_end (item), ==, 40);
    }

  /* Merge, with progress the same way. */
  g_array_set_size (state.reports, 0);
  state.finished = state.notified = FALSE;
  st_index_merge_async (index, NULL, on_progress, &state, on_progress_done, on_merged, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  merged = ST_FILE (state.result);
  g_assert_cmpuint (st_file_get_n_tensors (merged), ==, 3);
  check_reports (&state, 3);
  while (!state.notified)
    g_main_context_iteration (NULL, TRUE);

  g_array_unref (state.reports);
  g_main_loop_unref (state.loop);
  remove_checkpoint (dir);
}

static void
test_index_async_errors (void)
{
  g_autofree char *dir = make_checkpoint ();
  g_autofree char *index_path = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autofree char *shard = g_build_filename (dir, "model-00002-of-00003.safetensors", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(STIndex) index = NULL;
  AsyncState state = { 0 };

  state.loop = g_main_loop_new (NULL, FALSE);
  state.main_thread = g_thread_self ();
  state.reports = g_array_new (FALSE, FALSE, sizeof (guint64));

  /* Cancelled before it starts */
  g_cancellable_cancel (cancellable);
  st_index_new_from_path_async (index_path, cancellable, on_opened, &state);
  g_main_loop_run (state.loop);
  g_assert_error (state.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (state.result);
  g_clear_error (&state.error);

  /* A shard that is not a safetensors file: opening the index does the work of the synchronous open,
   * the index file only, and succeeds as it does; checking the shards then fails, naming it. */
  g_assert_true (g_file_set_contents (shard, "<html>", -1, NULL));
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(STIndex) sync_index = st_index_new_from_path (index_path, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (sync_index);
  }
  state.finished = FALSE;
  st_index_new_from_path_async (index_path, NULL, on_opened, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  index = ST_INDEX (g_steal_pointer (&state.result));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (index)), ==, 3);

  state.finished = FALSE;
  st_index_validate_async (index, NULL, on_progress, &state, NULL, on_validated, &state);
  g_main_loop_run (state.loop);
  g_assert_nonnull (state.error);
  g_assert_null (state.result);
  g_assert_nonnull (strstr (state.error->message, "model-00002-of-00003.safetensors"));
  g_clear_error (&state.error);

  /* Cancelled: the shards are not checked. */
  state.finished = FALSE;
  st_index_validate_async (index, cancellable, NULL, NULL, NULL, on_validated, &state);
  g_main_loop_run (state.loop);
  g_assert_error (state.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&state.error);

  g_array_unref (state.reports);
  g_main_loop_unref (state.loop);
  remove_checkpoint (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/list-model/file/items", test_file_items);
  g_test_add_func ("/list-model/file/signal-order", test_file_signal_order);
  g_test_add_func ("/list-model/file/loaded", test_file_loaded_items);
  g_test_add_func ("/list-model/file/threads", test_file_items_threads);
  g_test_add_func ("/list-model/index/async", test_index_async);
  g_test_add_func ("/list-model/index/async-errors", test_index_async_errors);

  return g_test_run ();
}
