/* st-name-index.c: names -> values, for the parser's duplicate check and STFile's lookups
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>
#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define HAVE_GETRANDOM 1
#endif
#endif

#include "st-arena-private.h"
#include "st-name-index-private.h"

/* Slots of an index: a power of two, at least 4/3 of the names (linear probing stays short up to a load
 * of 3/4, and a smaller table stays in the caches longer) */
#define NAME_INDEX_MIN_SLOTS 16
/* An index made for an expected number of names starts with at most this many slots (3 MiB) */
#define NAME_INDEX_MAX_PRESIZED_SLOTS ((gsize) 1 << 17)

/* 16 bytes: the name is read through the value (see st-name-index-private.h), so that a slot holds no
 * pointer of its own to it. An index is presized at 4/3 to 8/3 slots per name: for 1,000 tensors a slot of
 * 24 bytes was 48 kB of fresh memory, now 32 kB, which a fresh process faults in at about 1.5 µs per 4 KiB
 * page. A lookup that finds its name reads the value's first member, which the caller reads next anyway. */
typedef struct {
  gpointer    value;   /* NULL for a free slot */
  guint32     hash;    /* its low bits are the name's home slot */
  guint32     len;     /* names are shorter than a header */
} NameSlot;

/* The name @value was inserted under: the first member of what it points to */
static inline const char *
slot_name (const NameSlot *slot)
{
  return *(const char *const *) slot->value;
}

struct _StNameIndex {
  NameSlot *slots;
  gsize     mask;      /* the number of slots - 1 */
  gsize     n_names;
};

static guint64 name_hash_seed;
static gsize name_hash_seeded;

/* A 32-bit hash of @len bytes, 8 at a time, keyed with a random seed per process (each word is mixed
 * with a multiply and a xor-shift, as splitmix64 finishes). Words are read in the CPU's byte order: the
 * hash need only agree with itself within one process. */
static inline guint32
hash_name (const char *name,
           gsize       len)
{
  const guint64 k1 = G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  const guint64 k2 = G_GUINT64_CONSTANT (0x94d049bb133111eb);
  guint64 h = name_hash_seed ^ len;
  guint64 word;

  while (len >= 8)
    {
      memcpy (&word, name, 8);
      h = (h ^ word) * k1;
      h ^= h >> 31;
      name += 8;
      len -= 8;
    }
  if (len > 0)
    {
      word = 0;
      for (gsize i = 0; i < len; i++)
        word |= (guint64) (guint8) name[i] << (8 * i);
      h = (h ^ word) * k1;
      h ^= h >> 31;
    }

  h ^= h >> 29;
  h *= k2;
  h ^= h >> 32;
  return (guint32) h;
}

/* The per-process hash key. From getrandom() where there is one: g_random_int()'s first call sets up
 * GLib's global generator (opening and reading /dev/urandom, then seeding a Mersenne twister: 20,000
 * instructions and three system calls), which every process paid on its first open. */
static guint64
new_hash_seed (void)
{
  /* ST_HASH_SEED fixes the key, as PYTHONHASHSEED does Python's: for measurements that must repeat
   * exactly (the instruction-count tests of tests/c/test-hostile-cost.c), never needed otherwise. */
  const char *fixed = g_getenv ("ST_HASH_SEED");

  if (fixed != NULL && *fixed != '\0')
    return g_ascii_strtoull (fixed, NULL, 0);
#ifdef HAVE_GETRANDOM
  guint64 seed;

  if (getrandom (&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t) sizeof seed)
    return seed;
#endif
  return ((guint64) g_random_int () << 32) | g_random_int ();
}

StNameIndex *
st_name_index_new (void)
{
  return st_name_index_new_sized (0);
}

static void
name_hash_ensure_seed (void)
{
  if (g_once_init_enter (&name_hash_seeded))
    {
      name_hash_seed = new_hash_seed ();
      g_once_init_leave (&name_hash_seeded, 1);
    }
}

/* g_str_hash() is unkeyed: anyone can write thousands of keys that share its value ("aB" and "b!" do, and
 * so does every string made of them), and a GHashTable probes them one after the other, in time
 * quadratic in their number. Tables of names read from files use this instead. */
guint
st_name_hash (gconstpointer name)
{
  name_hash_ensure_seed ();
  return hash_name (name, strlen (name));
}

StNameIndex *
st_name_index_new_sized (gsize n_names)
{
  StNameIndex *index = g_new0 (StNameIndex, 1);
  gsize n_slots = NAME_INDEX_MIN_SLOTS;

  name_hash_ensure_seed ();
  while (n_slots < NAME_INDEX_MAX_PRESIZED_SLOTS && n_slots * 3 < n_names * 4)
    n_slots *= 2;
  index->slots = st_big_block_alloc (n_slots * sizeof (NameSlot), TRUE);
  index->mask = n_slots - 1;
  return index;
}

void
st_name_index_free (StNameIndex *index)
{
  if (index == NULL)
    return;

  st_big_block_free (index->slots, (index->mask + 1) * sizeof (NameSlot));
  g_free (index);
}

guint
st_name_index_get_size (const StNameIndex *index)
{
  return (guint) index->n_names;
}

static void
name_index_grow (StNameIndex *index)
{
  gsize n_slots = (index->mask + 1) * 2;
  NameSlot *slots = st_big_block_alloc (n_slots * sizeof (NameSlot), TRUE);
  gsize mask = n_slots - 1;

  for (gsize i = 0; i <= index->mask; i++)
    {
      const NameSlot *slot = &index->slots[i];
      gsize at;

      if (slot->value == NULL)
        continue;
      for (at = slot->hash & mask; slots[at].value != NULL; at = (at + 1) & mask)
        ;
      slots[at] = *slot;
    }

  st_big_block_free (index->slots, (index->mask + 1) * sizeof (NameSlot));
  index->slots = slots;
  index->mask = mask;
}

/* The slot of @name, or the free slot where it would go. */
static inline gsize
name_index_find (const StNameIndex *index,
                 const char        *name,
                 gsize              name_len,
                 guint32            hash)
{
  gsize at;

  for (at = hash & index->mask; index->slots[at].value != NULL; at = (at + 1) & index->mask)
    {
      const NameSlot *slot = &index->slots[at];

      if (slot->hash == hash && slot->len == name_len && memcmp (slot_name (slot), name, name_len) == 0)
        break;
    }
  return at;
}

gpointer
st_name_index_lookup (const StNameIndex *index,
                      const char        *name)
{
  gsize len = strlen (name);

  return index->slots[name_index_find (index, name, len, hash_name (name, len))].value;
}

/* Starts loading the slot where @name would go into the cache, and returns its hash: a parser that
 * has work to do before it inserts @name (its entry to read) then finds the slot there, however large
 * the index. */
guint32
st_name_index_prefetch (const StNameIndex *index,
                        const char        *name,
                        gsize              name_len)
{
  guint32 hash = hash_name (name, name_len);

#if defined(__GNUC__)
  __builtin_prefetch (&index->slots[hash & index->mask], 1);
#endif
  return hash;
}

/* st_name_index_insert() for a @hash from st_name_index_prefetch() */
gboolean
st_name_index_insert_hashed (StNameIndex *index,
                             const char  *name,
                             gsize        name_len,
                             guint32      hash,
                             gpointer     value)
{
  gsize at = name_index_find (index, name, name_len, hash);

  g_return_val_if_fail (value != NULL && *(const char *const *) value == name, FALSE);

  if (index->slots[at].value != NULL)
    return FALSE;

  index->slots[at].value = value;
  index->slots[at].hash = hash;
  index->slots[at].len = (guint32) name_len;
  index->n_names++;
  if (index->n_names * 4 > (index->mask + 1) * 3)
    name_index_grow (index);
  return TRUE;
}

gboolean
st_name_index_insert (StNameIndex *index,
                      const char  *name,
                      gsize        name_len,
                      gpointer     value)
{
  return st_name_index_insert_hashed (index, name, name_len, hash_name (name, name_len), value);
}

gboolean
st_name_index_remove (StNameIndex *index,
                      const char  *name)
{
  gsize len = strlen (name);
  gsize hole = name_index_find (index, name, len, hash_name (name, len));
  gsize at = hole;

  if (index->slots[hole].value == NULL)
    return FALSE;

  /* Backward-shift deletion: move up each later name of the run that may fill the hole (its home slot
   * is not between the hole and where it is), so that no lookup meets a free slot before its name. */
  for (;;)
    {
      gsize home;

      at = (at + 1) & index->mask;
      if (index->slots[at].value == NULL)
        break;
      home = index->slots[at].hash & index->mask;
      if (((at - home) & index->mask) >= ((at - hole) & index->mask))
        {
          index->slots[hole] = index->slots[at];
          hole = at;
        }
    }

  index->slots[hole].value = NULL;
  index->n_names--;
  return TRUE;
}
