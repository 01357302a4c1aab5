/* st-save-plan-private.h: what a save writes (the layout of the header, the plan of its pieces)
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "st-file.h"
#include "st-header-serializer-private.h"

G_BEGIN_DECLS

/* The header of a file holding @entries and @metadata, as st_header_serialize() makes it (sorting
 * @entries into file order and setting their offsets), checked against the reader's limits, its JSON
 * padded with spaces to at least @min_header_size bytes (0: no more than the usual padding to 8). */
GBytes *st_save_layout (StWriterEntry  *entries,
                        gsize           n_entries,
                        GHashTable     *metadata,
                        guint64         min_header_size,
                        guint64        *out_data_size,
                        GError        **error);

/* A save plan: the serialized header and the byte ranges to write after it, checked
 * against the reader's limits, with references on what they point into. */
typedef struct _StSavePlan StSavePlan;

/* The plan of a file holding @n_entries tensors, whose bytes are at each entry's user_data: the
 * entries are sorted and laid out as st_save_layout() does. @keep_alive (transfer full) holds
 * references on what the entries point into, @source (nullable, referenced) the loaded data they may
 * be slices of. */
StSavePlan *st_save_plan_new_for_entries (StWriterEntry  *entries,
                                          gsize           n_entries,
                                          GHashTable     *metadata,
                                          guint64         min_header_size,
                                          GPtrArray      *keep_alive,
                                          GBytes         *source,
                                          GError        **error);
void st_save_plan_free (StSavePlan *plan);
guint64 st_save_plan_get_size (const StSavePlan *plan);
/* The header (the 8-byte prefix and the JSON), and the pieces: the header, then the tensors' bytes. */
GBytes *st_save_plan_get_header (const StSavePlan *plan);
gsize st_save_plan_get_n_pieces (const StSavePlan *plan);
const GOutputVector *st_save_plan_get_piece (const StSavePlan *plan,
                                             gsize             i);
gboolean st_save_plan_write_to_fd (const StSavePlan  *plan,
                                   int                fd,
                                   const char        *path,
                                   GCancellable      *cancellable,
                                   GError           **error);

gboolean st_save_plan_write_to_stream (const StSavePlan  *plan,
                                       GOutputStream     *stream,
                                       GCancellable      *cancellable,
                                       GError           **error);
/* Writes @plan to @path: through to a special file as a stream, else atomically (a pending file
 * committed over @path). */
gboolean st_save_plan_write_to_path (const StSavePlan  *plan,
                                     const char        *path,
                                     STSaveFlags        flags,
                                     GCancellable      *cancellable,
                                     GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StSavePlan, st_save_plan_free)

G_END_DECLS
