/* st-hub.c: the Hugging Face Hub's addresses, endpoint, token and cache lookups
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Addresses: `hf://ORG/NAME[@REVISION]/PATH` (the form of huggingface_hub's HfFileSystem, for model
 * repositories) and the Hub's own `ENDPOINT/ORG/NAME/resolve/REVISION/PATH`. The token is sent to the
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

gboolean
st_hub_address_parse (const char   *address,
                      StHubAddress *out)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *revision = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  memset (out, 0, sizeof *out);
  if (g_str_has_prefix (address, "hf://"))
    {
      char *at;

      parts = g_strsplit (address + 5, "/", 3);
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
      parts = g_strsplit (address + strlen (prefix), "/", 5);
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

  return g_strdup_printf ("%s/%s/resolve/%s/%s", endpoint, address->repo_id, revision, filename);
}

char *
st_hub_address_dup_repo_dir (const StHubAddress *address)
{
  g_autofree char *cache = st_hub_dup_cache_dir ();
  g_auto(GStrv) parts = g_strsplit (address->repo_id, "/", 2);
  g_autofree char *folder = g_strconcat ("models--", parts[0], "--", parts[1], NULL);

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
                   "Not a valid Hub address: “%s” (hf://ORG/NAME/FILE or hf://ORG/NAME@REVISION/FILE)", address);
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
