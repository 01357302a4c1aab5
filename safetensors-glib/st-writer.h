/* st-writer.h: writing a safetensors file tensor by tensor, in bounded memory
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#if !defined(__SAFETENSORS_GLIB_H_INSIDE__) && !defined(ST_COMPILATION)
#error "Only <safetensors-glib/safetensors-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include <safetensors-glib/st-version-macros.h>
#include <safetensors-glib/st-dtype.h>
#include <safetensors-glib/st-file.h>

G_BEGIN_DECLS

#define ST_TYPE_WRITER (st_writer_get_type ())

ST_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (STWriter, st_writer, ST, WRITER, GObject)

ST_AVAILABLE_IN_1_0
STWriter *st_writer_new (void);

ST_AVAILABLE_IN_1_0
gboolean st_writer_add_tensor (STWriter      *self,
                               const char    *name,
                               STDType        dtype,
                               const gint64  *shape,
                               guint          n_dims,
                               GError       **error);

ST_AVAILABLE_IN_1_0
void st_writer_set_metadata_value (STWriter   *self,
                                   const char *key,
                                   const char *value);

ST_AVAILABLE_IN_1_0
void st_writer_set_min_header_size (STWriter *self,
                                    guint64   n_bytes);

ST_AVAILABLE_IN_1_0
gboolean st_writer_open (STWriter      *self,
                         const char    *path,
                         STSaveFlags    flags,
                         GCancellable  *cancellable,
                         GError       **error);

ST_AVAILABLE_IN_1_0
gboolean st_writer_write (STWriter      *self,
                          const char    *name,
                          const guint8  *data,
                          gsize          len,
                          GError       **error);

ST_AVAILABLE_IN_1_0
gboolean st_writer_write_bytes (STWriter    *self,
                                const char  *name,
                                GBytes      *bytes,
                                GError     **error);

ST_AVAILABLE_IN_1_0
gboolean st_writer_write_from_address (STWriter    *self,
                                       const char  *name,
                                       guint64      data_address,
                                       guint64      n_bytes,
                                       GError     **error);

ST_AVAILABLE_IN_1_2
gboolean st_writer_write_from_fd (STWriter      *self,
                                  const char    *name,
                                  int            fd,
                                  guint64        offset,
                                  guint64        n_bytes,
                                  GError       **error);

ST_AVAILABLE_IN_1_0
gboolean st_writer_finish (STWriter      *self,
                           GError       **error);

ST_AVAILABLE_IN_1_0
void st_writer_close (STWriter *self);

ST_AVAILABLE_IN_1_0
guint64 st_writer_get_size (STWriter *self);

ST_AVAILABLE_IN_1_0
guint64 st_writer_get_bytes_written (STWriter *self);

ST_AVAILABLE_IN_1_0
guint64 st_writer_get_tensor_remaining (STWriter   *self,
                                        const char *name);

G_END_DECLS
