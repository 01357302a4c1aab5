/* st-edit-journal-private.h: the record an in-place header edit leaves at the end of the file
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* While an in-place header edit is under way (st-file-edit.c), the file is
 *
 *   [N | ST_EDIT_MARK][N bytes of JSON][the data][hole][ballast: 2 pieces][the old JSON, N bytes][trailer]
 *
 * where data_end is the length of the file before the edit and after it, the ballast (space the edit set
 * aside for overwrites that need new blocks, and gives back piece by piece) starts at data_end rounded up
 * to ST_EDIT_GRAIN, and each piece is larger than the header. The trailer identifies the old JSON and the
 * new one, so that a repair accepts either, and nothing else. */
#define ST_EDIT_TRAILER_SIZE 120
#define ST_EDIT_DIGEST_SIZE 32  /* SHA-256 */
#define ST_EDIT_GRAIN G_GUINT64_CONSTANT (65536)

guint64 st_edit_ballast_start  (guint64 data_end);
guint64 st_edit_ballast_piece  (guint64 json_size);
/* Where the copy of the old JSON starts, and the length of the file while the edit is under way. */
guint64 st_edit_journal_offset (guint64 data_end,
                                guint64 json_size);
guint64 st_edit_journal_end    (guint64 data_end,
                                guint64 json_size);

typedef struct {
  guint64 data_end;    /* the length of the file without the journal */
  guint64 json_size;   /* N: the length of the old JSON and of the new one */
  guint8  old_digest[ST_EDIT_DIGEST_SIZE];
  guint8  new_digest[ST_EDIT_DIGEST_SIZE];
} StEditJournal;

/* What the JSON in the header of a marked file is. */
typedef enum {
  ST_EDIT_JSON_OLD,
  ST_EDIT_JSON_NEW,
  ST_EDIT_JSON_TORN,   /* neither: a mix of both, or something else */
} StEditJsonState;

void            st_edit_journal_init     (StEditJournal       *journal,
                                          guint64              data_end,
                                          const guint8        *old_json,
                                          const guint8        *new_json,
                                          gsize                json_size);
void            st_edit_journal_encode   (const StEditJournal *journal,
                                          guint8               trailer[ST_EDIT_TRAILER_SIZE]);
/* TRUE when @trailer, the last ST_EDIT_TRAILER_SIZE bytes of a file of @file_size bytes whose marked
 * header length is @json_size, is a whole trailer of a journal that ends the file. */
gboolean        st_edit_journal_decode   (const guint8         trailer[ST_EDIT_TRAILER_SIZE],
                                          guint64              file_size,
                                          guint64              json_size,
                                          StEditJournal       *out_journal);
StEditJsonState st_edit_journal_classify (const StEditJournal *journal,
                                          const guint8        *json);
/* TRUE when @old_json (json_size bytes, as read from the journal) is the old JSON. */
gboolean        st_edit_journal_holds_old (const StEditJournal *journal,
                                           const guint8        *old_json);

G_END_DECLS
