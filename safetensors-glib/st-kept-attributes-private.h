/* st-kept-attributes-private.h: what a file replaced by a save keeps of the file it replaces
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Gives the new file (open as @to_fd, or named @to_path when @to_fd is -1) the extended attributes of
 * the file @from that a re-save keeps: its POSIX access ACL (system.posix_acl_access; a new file that
 * inherited a default ACL its predecessor did not have loses it) and the attributes of the "user."
 * namespace. The mode is the caller's to set, after this (setting an ACL sets the mode's bits). @target
 * names the file in errors. */
gboolean st_kept_attributes_copy (const char  *from,
                                  int          to_fd,
                                  const char  *to_path,
                                  const char  *target,
                                  GError     **error);

G_END_DECLS
