/* st-hub-private.h: the Hugging Face Hub's addresses, endpoint, token and cache layout
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The environment is read as huggingface_hub reads it (constants.py, utils/_auth.py): HF_ENDPOINT
 * (default https://huggingface.co), HF_TOKEN (or HUGGING_FACE_HUB_TOKEN), else the file HF_TOKEN_PATH
 * (default HF_HOME/token), HF_HOME (default $XDG_CACHE_HOME/huggingface, ~/.cache/huggingface),
 * HF_HUB_CACHE (default HF_HOME/hub), HF_HUB_OFFLINE (1, ON, YES or TRUE).
 */
#pragma once

#include "st-source-private.h"

G_BEGIN_DECLS

/* The kinds of repository the Hub has, as huggingface_hub names them (constants.py: REPO_TYPES) */
typedef enum {
  ST_HUB_REPO_MODEL,
  ST_HUB_REPO_DATASET,
  ST_HUB_REPO_SPACE,
} StHubRepoType;

/* A file of a repository at a revision. */
typedef struct {
  StHubRepoType repo_type;
  char *repo_id;    /* "ORG/NAME" */
  char *revision;   /* a branch, tag or commit; "main" when the address names none */
  char *filename;   /* the path in the repository, '/'-separated */
} StHubAddress;

void st_hub_address_clear (StHubAddress *address);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StHubAddress, st_hub_address_clear)

/* Reads `hf://[TYPE/]ORG/NAME[@REVISION]/FILE` or `ENDPOINT/[TYPE/]ORG/NAME/resolve/REVISION/FILE` (the
 * Hub's own address of a file), TYPE being `models`, `datasets` or `spaces` (none: a model). FALSE,
 * without an error, for any other address. */
gboolean st_hub_address_parse (const char   *address,
                               StHubAddress *out);

/* HF_ENDPOINT without a trailing '/' */
char *st_hub_dup_endpoint (void);
/* The token, or NULL. Never put it in a message. */
char *st_hub_dup_token (void);
/* HF_HUB_CACHE */
char *st_hub_dup_cache_dir (void);
gboolean st_hub_is_offline (void);

/* "models", "datasets" or "spaces": the first part of the repository's folder in the cache */
const char *st_hub_repo_type_to_plural (StHubRepoType repo_type);
/* "https://ENDPOINT/[datasets/|spaces/]ORG/NAME/resolve/REVISION/FILE", escaped */
char *st_hub_address_to_url (const StHubAddress *address);
/* "models--ORG--NAME", "datasets--ORG--NAME" or "spaces--ORG--NAME" (huggingface_hub's
 * file_download.py: repo_folder_name()) */
char *st_hub_address_dup_repo_folder (const StHubAddress *address);
/* HF_HUB_CACHE/ and the repository's folder */
char *st_hub_address_dup_repo_dir (const StHubAddress *address);
/* The path of the file in the cache's snapshot of its revision (the commit that refs/REVISION names, or
 * the revision itself when it is a commit hash), when it is there; NULL otherwise. */
char *st_hub_address_dup_cached_path (const StHubAddress *address);

/* The source for @address: an http:// or https:// address (the token sent when its host is the
 * endpoint's), or an hf:// address on the endpoint. *@out_cached_path receives the path of the file in
 * the cache instead, for an address of the Hub under HF_HUB_OFFLINE (an error when it is not there). */
StSource *st_hub_source_new (const char  *address,
                             char       **out_cached_path,
                             GError     **error);

G_END_DECLS
