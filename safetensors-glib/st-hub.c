/* st-hub.c: the Hugging Face Hub's addresses, endpoint, token and cache lookups
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Addresses: `hf://[TYPE/]ORG/NAME[@REVISION]/PATH` (the form of huggingface_hub's HF URIs and
 * HfFileSystem) and the Hub's own `ENDPOINT/[TYPE/]ORG/NAME/resolve/REVISION/PATH`, TYPE being
 * `models` (the default), `datasets` or `spaces` as huggingface_hub's constants.py maps them
 * (HF_URI_TYPE_PREFIXES, REPO_TYPES_URL_PREFIXES). Its other types (kernels, buckets) are not
 * addressed: such an address is refused rather than read as an organisation of that name. The token is sent to the
 * endpoint's host only: the source (st-source-http.c) drops it on a redirect to any other host, so the
 * CDN the Hub redirects large files to never sees it.
 */
#include <string.h>

#include "st-hub-private.h"

#define DEFAULT_ENDPOINT "https://huggingface.co"

void
st_hub_address_clear (StHubAddress *address)
{
  g_clear_pointer (&address->repo_id, g_free);
  g_clear_pointer (&address->revision, g_free);
  g_clear_pointer (&address->filename, g_free);
}

static gboolean
env_is_true (const char *name)
{
  const char *value = g_getenv (name);

  return value != NULL && (g_ascii_strcasecmp (value, "1") == 0 || g_ascii_strcasecmp (value, "ON") == 0 ||
                           g_ascii_strcasecmp (value, "YES") == 0 || g_ascii_strcasecmp (value, "TRUE") == 0);
}

gboolean
st_hub_is_offline (void)
{
  return env_is_true ("HF_HUB_OFFLINE") || env_is_true ("TRANSFORMERS_OFFLINE");
}

char *
st_hub_dup_endpoint (void)
{
  const char *endpoint = g_getenv ("HF_ENDPOINT");
  char *copy = g_strdup (endpoint != NULL && *endpoint != '\0' ? endpoint : DEFAULT_ENDPOINT);
  gsize len = strlen (copy);

  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';
  return copy;
}

static char *
dup_hf_home (void)
{
  const char *home = g_getenv ("HF_HOME");

  if (home != NULL && *home != '\0')
    return g_strdup (home);
  /* g_get_user_cache_dir() is $XDG_CACHE_HOME or ~/.cache, as huggingface_hub has it */
  return g_build_filename (g_get_user_cache_dir (), "huggingface", NULL);
}

char *
st_hub_dup_cache_dir (void)
{
  const char *cache = g_getenv ("HF_HUB_CACHE");
  g_autofree char *home = NULL;

  if (cache == NULL || *cache == '\0')
    cache = g_getenv ("HUGGINGFACE_HUB_CACHE");
  if (cache != NULL && *cache != '\0')
    return g_strdup (cache);
  home = dup_hf_home ();
  return g_build_filename (home, "hub", NULL);
}

/* A token as huggingface_hub cleans it: surrounding white space stripped, empty as none. */
static char *
clean_token (char *token)
{
  if (token == NULL)
    return NULL;
  g_strstrip (token);
  if (*token == '\0')
    {
      g_free (token);
      return NULL;
    }
  return token;
}

char *
st_hub_dup_token (void)
{
  const char *env = g_getenv ("HF_TOKEN");
  const char *token_path = g_getenv ("HF_TOKEN_PATH");
  g_autofree char *path = NULL;
  char *contents = NULL;

  if (env == NULL || *env == '\0')
    env = g_getenv ("HUGGING_FACE_HUB_TOKEN");
  if (env != NULL && *env != '\0')
    return clean_token (g_strdup (env));

  if (token_path != NULL && *token_path != '\0')
    path = g_strdup (token_path);
  else
    {
      g_autofree char *home = dup_hf_home ();

      path = g_build_filename (home, "token", NULL);
    }
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return clean_token (contents);
}

/* A repository id: two non-empty plain names */
static gboolean
is_repo_id (const char *org,
            const char *name)
{
  return org[0] != '\0' && name[0] != '\0' && strcmp (org, ".") != 0 && strcmp (org, "..") != 0 &&
         strcmp (name, ".") != 0 && strcmp (name, "..") != 0 && strchr (org, '\\') == NULL &&
         strchr (name, '\\') == NULL;
}

/* A path in a repository: no empty, "." or ".." component, so that it stays inside a snapshot */
static gboolean
is_repo_path (const char *path)
{
  g_auto(GStrv) parts = NULL;

  if (path == NULL || path[0] == '\0' || strchr (path, '\\') != NULL)
    return FALSE;
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0 || strcmp (parts[i], "..") == 0)
      return FALSE;
  return TRUE;
}

static gboolean
is_revision (const char *revision)
{
  return revision[0] != '\0' && strcmp (revision, ".") != 0 && strcmp (revision, "..") != 0 &&
         strchr (revision, '\\') == NULL && strstr (revision, "..") == NULL;
}

const char *
st_hub_repo_type_to_plural (StHubRepoType repo_type)
{
  switch (repo_type)
    {
    case ST_HUB_REPO_DATASET:
      return "datasets";
    case ST_HUB_REPO_SPACE:
      return "spaces";
    case ST_HUB_REPO_MODEL:
    default:
      return "models";
    }
}

/* The repository type a first component names, if it names one: *@rest then points past it. FALSE for
 * huggingface_hub's types that are not addressed here. */
static gboolean
read_repo_type (const char     *text,
                StHubRepoType  *out_type,
                const char    **rest)
{
  static const struct { const char *prefix; StHubRepoType type; } types[] = {
    { "models/", ST_HUB_REPO_MODEL },
    { "datasets/", ST_HUB_REPO_DATASET },
    { "spaces/", ST_HUB_REPO_SPACE },
  };

  *out_type = ST_HUB_REPO_MODEL;
  *rest = text;
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_has_prefix (text, types[i].prefix))
      {
        *out_type = types[i].type;
        *rest = text + strlen (types[i].prefix);
        return TRUE;
      }
  return !g_str_has_prefix (text, "kernels/") && !g_str_has_prefix (text, "buckets/");
}

gboolean
st_hub_address_parse (const char   *address,
                      StHubAddress *out)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *revision = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  StHubRepoType repo_type;
  const char *rest;

  memset (out, 0, sizeof *out);
  if (g_str_has_prefix (address, "hf://"))
    {
      char *at;

      if (!read_repo_type (address + 5, &repo_type, &rest))
        return FALSE;
      parts = g_strsplit (rest, "/", 3);
      if (g_strv_length (parts) < 3)
        return FALSE;
      name = g_strdup (parts[1]);
      at = strchr (name, '@');
      if (at != NULL)
        {
          *at = '\0';
          revision = g_uri_unescape_string (at + 1, NULL);
        }
      path = g_strdup (parts[2]);
    }
  else
    {
      g_autofree char *endpoint = st_hub_dup_endpoint ();
      g_autofree char *prefix = g_strconcat (endpoint, "/", NULL);
      g_autoptr(GUri) uri = NULL;

      if (!g_str_has_prefix (address, prefix))
        return FALSE;
      uri = g_uri_parse (address, G_URI_FLAGS_ENCODED_PATH, NULL);
      if (uri == NULL)
        return FALSE;
      /* the Hub's pages have no models/ prefix: a model's address starts with its organisation */
      if (!read_repo_type (address + strlen (prefix), &repo_type, &rest) ||
          (repo_type == ST_HUB_REPO_MODEL && rest != address + strlen (prefix)))
        return FALSE;
      parts = g_strsplit (rest, "/", 5);
      /* ORG / NAME / resolve / REVISION / PATH, and nothing after the path */
      if (g_strv_length (parts) < 5 || strcmp (parts[2], "resolve") != 0 || strpbrk (parts[4], "?#") != NULL)
        return FALSE;
      name = g_strdup (parts[1]);
      revision = g_uri_unescape_string (parts[3], NULL);
      path = g_uri_unescape_string (parts[4], NULL);
    }
  if (revision == NULL)
    revision = g_strdup ("main");
  if (!is_repo_id (parts[0], name) || !is_revision (revision) || !is_repo_path (path))
    return FALSE;
  out->repo_type = repo_type;
  out->repo_id = g_strconcat (parts[0], "/", name, NULL);
  out->revision = g_steal_pointer (&revision);
  out->filename = g_steal_pointer (&path);
  return TRUE;
}

char *
st_hub_address_to_url (const StHubAddress *address)
{
  g_autofree char *endpoint = st_hub_dup_endpoint ();
  g_autofree char *revision = g_uri_escape_string (address->revision, NULL, FALSE);
  g_autofree char *filename = g_uri_escape_string (address->filename, "/", FALSE);

  const char *type_prefix = address->repo_type == ST_HUB_REPO_DATASET ? "datasets/"
                            : address->repo_type == ST_HUB_REPO_SPACE ? "spaces/"
                            : "";

  return g_strdup_printf ("%s/%s%s/resolve/%s/%s", endpoint, type_prefix, address->repo_id, revision, filename);
}

char *
st_hub_address_dup_repo_folder (const StHubAddress *address)
{
  g_auto(GStrv) parts = g_strsplit (address->repo_id, "/", 2);

  return g_strconcat (st_hub_repo_type_to_plural (address->repo_type), "--", parts[0], "--", parts[1], NULL);
}

char *
st_hub_address_dup_repo_dir (const StHubAddress *address)
{
  g_autofree char *cache = st_hub_dup_cache_dir ();
  g_autofree char *folder = st_hub_address_dup_repo_folder (address);

  return g_build_filename (cache, folder, NULL);
}

static gboolean
is_commit_hash (const char *revision)
{
  if (strlen (revision) != 40)
    return FALSE;
  for (guint i = 0; i < 40; i++)
    if (!g_ascii_isdigit (revision[i]) && !(revision[i] >= 'a' && revision[i] <= 'f'))
      return FALSE;
  return TRUE;
}

char *
st_hub_address_dup_cached_path (const StHubAddress *address)
{
  g_autofree char *repo_dir = st_hub_address_dup_repo_dir (address);
  g_autofree char *commit = NULL;
  g_autofree char *path = NULL;

  if (is_commit_hash (address->revision))
    commit = g_strdup (address->revision);
  else
    {
      g_autofree char *ref = g_build_filename (repo_dir, "refs", address->revision, NULL);

      if (!g_file_get_contents (ref, &commit, NULL, NULL))
        return NULL;
      /* huggingface_hub writes the hash alone; a stray newline is forgiven */
      g_strstrip (commit);
      if (!is_commit_hash (commit))
        return NULL;
    }
  path = g_build_filename (repo_dir, "snapshots", commit, address->filename, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  return g_steal_pointer (&path);
}

StSource *
st_hub_source_new (const char  *address,
                   char       **out_cached_path,
                   GError     **error)
{
  g_auto(StHubAddress) hub = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *endpoint = st_hub_dup_endpoint ();
  g_autofree char *token = NULL;
  StSource *source;

  *out_cached_path = NULL;
  if (st_hub_address_parse (address, &hub))
    {
      if (st_hub_is_offline ())
        {
          *out_cached_path = st_hub_address_dup_cached_path (&hub);
          if (*out_cached_path == NULL)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                         "“%s” of %s at revision “%s” is not in the Hugging Face cache, and HF_HUB_OFFLINE forbids "
                         "fetching it", hub.filename, hub.repo_id, hub.revision);
          return NULL;
        }
      url = st_hub_address_to_url (&hub);
    }
  else if (g_str_has_prefix (address, "hf://"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Not a valid Hub address: “%s” (hf://ORG/NAME/FILE or hf://ORG/NAME@REVISION/FILE, after "
                   "datasets/ or spaces/ for those repositories)", address);
      return NULL;
    }
  else
    {
      url = g_strdup (address);
    }

  token = st_hub_dup_token ();
  source = st_source_new_for_uri (url, token, endpoint, error);
  if (token != NULL)
    explicit_bzero (token, strlen (token));
  return source;
}
