/* test-file-util.h: helpers the STFile tests share (test-file*.c)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "st-test-util.h"

G_BEGIN_DECLS

/* An asynchronous call's result, waited for in a main loop of its own. */
typedef struct {
  GMainLoop *loop;
  GAsyncResult *result;
  GThread *thread;
} AsyncData;

STTensor * make_tensor (STDType dtype, const gint64 *shape, guint n_dims, guint8 seed);
void add_tensor (STFile *file, const char *name, STDType dtype, const gint64 *shape, guint n_dims, guint8 seed);
STFile * make_sample_file (void);
GBytes * save_to_bytes (STFile *file);
STFile * load_bytes (GBytes *bytes);
void write_file (const char *path, GBytes *bytes);
void assert_file_contents (const char *path, GBytes *expected);
void assert_dir_entries (const char *dir, const char * const *expected);
guint64 read_header_len (GBytes *bytes);
void on_ready (GObject *source, GAsyncResult *result, gpointer user_data);
void async_data_init (AsyncData *data);
void async_data_wait (AsyncData *data);
void async_data_clear (AsyncData *data);

G_END_DECLS
