/* st-edit-journal.c: the record an in-place header edit leaves at the end of the file
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The trailer, all integers little-endian:
 *
 *   0   8   magic "STEDITJ1"
 *   8   8   data_end
 *   16  8   json_size
 *   24  32  SHA-256 of the old JSON
 *   56  32  SHA-256 of the new JSON
 *   88  32  SHA-256 of bytes 0 to 88: a trailer cut short, or bytes that only look like one, do not count
 *
 * A digest, not a copy, identifies the new JSON: the repair never needs to write it, only to recognise it.
 */
#include <string.h>

#include "st-edit-journal-private.h"

#define MAGIC "STEDITJ1"
#define FIELDS_SIZE 88

G_STATIC_ASSERT (FIELDS_SIZE + ST_EDIT_DIGEST_SIZE == ST_EDIT_TRAILER_SIZE);

static void
digest (const guint8 *data,
        gsize         len,
        guint8        out[ST_EDIT_DIGEST_SIZE])
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize out_len = ST_EDIT_DIGEST_SIZE;

  /* g_checksum_update() takes a gssize: feed a header of any length in pieces. */
  while (len > 0)
    {
      gsize piece = MIN (len, (gsize) G_MAXINT32);

      g_checksum_update (checksum, data, (gssize) piece);
      data += piece;
      len -= piece;
    }
  g_checksum_get_digest (checksum, out, &out_len);
  g_assert (out_len == ST_EDIT_DIGEST_SIZE);
}

static void
put_le64 (guint8  *p,
          guint64  value)
{
  for (guint i = 0; i < 8; i++)
    p[i] = (guint8) (value >> (8 * i));
}

static guint64
get_le64 (const guint8 *p)
{
  guint64 value = 0;

  for (int i = 7; i >= 0; i--)
    value = (value << 8) | p[i];
  return value;
}

static guint64
round_up (guint64 value)
{
  return (value + ST_EDIT_GRAIN - 1) / ST_EDIT_GRAIN * ST_EDIT_GRAIN;
}

guint64
st_edit_ballast_start (guint64 data_end)
{
  return round_up (data_end);
}

guint64
st_edit_ballast_piece (guint64 json_size)
{
  return round_up (json_size) + 2 * ST_EDIT_GRAIN;
}

guint64
st_edit_journal_offset (guint64 data_end,
                        guint64 json_size)
{
  return st_edit_ballast_start (data_end) + 2 * st_edit_ballast_piece (json_size);
}

guint64
st_edit_journal_end (guint64 data_end,
                     guint64 json_size)
{
  return st_edit_journal_offset (data_end, json_size) + json_size + ST_EDIT_TRAILER_SIZE;
}

void
st_edit_journal_init (StEditJournal *journal,
                      guint64        data_end,
                      const guint8  *old_json,
                      const guint8  *new_json,
                      gsize          json_size)
{
  journal->data_end = data_end;
  journal->json_size = json_size;
  digest (old_json, json_size, journal->old_digest);
  digest (new_json, json_size, journal->new_digest);
}

void
st_edit_journal_encode (const StEditJournal *journal,
                        guint8               trailer[ST_EDIT_TRAILER_SIZE])
{
  memcpy (trailer, MAGIC, 8);
  put_le64 (trailer + 8, journal->data_end);
  put_le64 (trailer + 16, journal->json_size);
  memcpy (trailer + 24, journal->old_digest, ST_EDIT_DIGEST_SIZE);
  memcpy (trailer + 56, journal->new_digest, ST_EDIT_DIGEST_SIZE);
  digest (trailer, FIELDS_SIZE, trailer + FIELDS_SIZE);
}

gboolean
st_edit_journal_decode (const guint8   trailer[ST_EDIT_TRAILER_SIZE],
                        guint64        file_size,
                        guint64        json_size,
                        StEditJournal *out_journal)
{
  guint8 check[ST_EDIT_DIGEST_SIZE];
  guint64 data_end;

  if (memcmp (trailer, MAGIC, 8) != 0)
    return FALSE;
  digest (trailer, FIELDS_SIZE, check);
  if (memcmp (check, trailer + FIELDS_SIZE, ST_EDIT_DIGEST_SIZE) != 0)
    return FALSE;

  data_end = get_le64 (trailer + 8);
  /* data_end is at most the length of a file, far from overflowing the sums of the layout. */
  if (get_le64 (trailer + 16) != json_size || data_end < 8 + json_size || data_end > file_size ||
      st_edit_journal_end (data_end, json_size) != file_size)
    return FALSE;

  out_journal->data_end = data_end;
  out_journal->json_size = json_size;
  memcpy (out_journal->old_digest, trailer + 24, ST_EDIT_DIGEST_SIZE);
  memcpy (out_journal->new_digest, trailer + 56, ST_EDIT_DIGEST_SIZE);
  return TRUE;
}

StEditJsonState
st_edit_journal_classify (const StEditJournal *journal,
                          const guint8        *json)
{
  guint8 found[ST_EDIT_DIGEST_SIZE];

  digest (json, (gsize) journal->json_size, found);
  if (memcmp (found, journal->new_digest, ST_EDIT_DIGEST_SIZE) == 0)
    return ST_EDIT_JSON_NEW;
  if (memcmp (found, journal->old_digest, ST_EDIT_DIGEST_SIZE) == 0)
    return ST_EDIT_JSON_OLD;
  return ST_EDIT_JSON_TORN;
}

gboolean
st_edit_journal_holds_old (const StEditJournal *journal,
                           const guint8        *old_json)
{
  guint8 found[ST_EDIT_DIGEST_SIZE];

  digest (old_json, (gsize) journal->json_size, found);
  return memcmp (found, journal->old_digest, ST_EDIT_DIGEST_SIZE) == 0;
}
