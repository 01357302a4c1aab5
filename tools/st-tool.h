/* st-tool.h: what the st-tool subcommands share
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <stdio.h>

#include <json-glib/json-glib.h>
#include <safetensors-glib/safetensors-glib.h>

G_BEGIN_DECLS

/* Exit statuses, as the man page documents them. */
enum {
  ST_TOOL_EXIT_OK = 0,
  ST_TOOL_EXIT_FAILURE = 1,   /* a problem found (validate, diff) or an operation that failed */
  ST_TOOL_EXIT_USAGE = 2,     /* a bad command line */
  ST_TOOL_EXIT_TROUBLE = 2,   /* diff, as diff(1): a file that cannot be read */
};

/* A subcommand: parses its own arguments (argv[0] is the subcommand name) and returns an exit status. */
typedef int (*StToolCommandFunc) (int argc, char **argv);

typedef struct {
  const char        *name;
  const char        *parameters;   /* for the usage line, e.g. "FILE NAME" */
  const char        *summary;      /* one line, for st-tool --help */
  const char        *description;  /* a paragraph, for st-tool help CMD */
  StToolCommandFunc  run;
} StToolCommand;

/* st-tool.c */
const StToolCommand *st_tool_find_command (const char *name);
GOptionContext *st_tool_option_context_new (const StToolCommand *command,
                                            const GOptionEntry  *entries);
/* Parses; on a bad command line prints the error and a hint, and returns FALSE. */
gboolean st_tool_parse_options (GOptionContext  *context,
                                int             *argc,
                                char          ***argv);
int st_tool_usage_error (const char *command,
                         const char *format,
                         ...) G_GNUC_PRINTF (2, 3);
/* Prints @error, after @context (a path) unless the message names it already, as the library's do. */
void st_tool_print_error (const char   *context,
                          const GError *error);

/* --no-mmap (every command that reads) and --sync (every command that writes). */
extern STLoadFlags st_tool_load_flags;
extern STSaveFlags st_tool_save_flags;
extern const GOptionEntry st_tool_load_entries[];
extern const GOptionEntry st_tool_save_entries[];

/* A file or a sharded checkpoint: what the reading subcommands accept. */
typedef struct {
  char    *path;        /* as given on the command line */
  char    *resolved;    /* the file actually opened (a directory resolves to the model in it) */
  STFile  *file;        /* a plain safetensors file, or NULL */
  STIndex *index;       /* a sharded checkpoint, or NULL */
} StToolSource;

void st_tool_source_free (StToolSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StToolSource, st_tool_source_free)

/* Whether @path names an index (by its name: *.json) rather than a safetensors file. */
gboolean st_tool_is_index_path (const char *path);
/* Resolves a directory to its model.safetensors.index.json or model.safetensors. */
char *st_tool_resolve_path (const char  *path,
                            GError     **error);
/* Whether @path is an address (http://, https://, hf://) rather than a path */
gboolean st_tool_is_address (const char *path);
/* The size of @file: 8 + its header + its data (a remote file's too) */
guint64 st_tool_file_size (STFile *file);
/* Opens a file or an index (shards are not opened), or a file or index by address (its shards' headers
 * read at once, their data left where it is). */
StToolSource *st_tool_source_open (const char  *path,
                                   GError     **error);
/* Every tensor, in order (shard by shard for an index), with the shard it lives in. */
typedef struct {
  char       *name;     /* owned by the array */
  STTensorInfo *info;   /* owned: the layout, without the data (a remote file's is not fetched) */
  char       *shard;    /* owned by the array; NULL for a plain file */
  guint64     begin;
  guint64     end;
} StToolEntry;
GArray *st_tool_source_list (StToolSource  *source,
                             GError       **error);
STTensor *st_tool_source_lookup (StToolSource  *source,
                                 const char    *name,
                                 GError       **error);
/* A new table of the metadata, or NULL for a file without __metadata__. */
GHashTable *st_tool_source_metadata (StToolSource *source);
/* A file, or a checkpoint merged into one STFile (zero-copy: its tensors stay views of the shards). */
/* Makes @output and its parents; says why on standard error (as "st-tool @command: ...") when it cannot. */
gboolean st_tool_make_directory (const char *command,
                                 const char *output);
/* What shard, reshard and consolidate share: --max-shard-size, --output and --prefix, the save options,
 * and one operand. */
typedef struct {
  guint64  max_shard_size;   /* G_MAXUINT64 (one file) unless --max-shard-size was given */
  char    *output;
  char    *prefix;           /* "model" unless --prefix was given */
} StToolLayoutOptions;

void st_tool_layout_options_clear (StToolLayoutOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StToolLayoutOptions, st_tool_layout_options_clear)
/* Parses @command's options into @options, leaving its one operand in (*@argv)[1]: with @size_required
 * --max-shard-size must be given (otherwise its default is one file); @operand says what the operand is
 * ("file", "checkpoint"...), for the usage error. Returns TRUE to go on, or FALSE with the exit status in
 * *@out_status (a usage error, already printed). */
gboolean st_tool_parse_layout_options (const char           *command,
                                       gboolean              size_required,
                                       const char           *operand,
                                       int                  *argc,
                                       char               ***argv,
                                       StToolLayoutOptions  *options,
                                       int                  *out_status);
/* Saves @file as the standard layout in @output (shards of @max_shard_size with an index, or one
 * file), with a progress bar, then prints what it wrote. */
gboolean st_tool_save_standard (STFile      *file,
                                const char  *output,
                                const char  *prefix,
                                guint64      max_shard_size,
                                GError     **error);
STFile *st_tool_open_as_file (const char  *path,
                              GError     **error);

/* Formatting */
char *st_tool_format_size (guint64 bytes);               /* "1.2 MB" */
char *st_tool_format_count (guint64 n);                  /* "3,211,264" */
char *st_tool_format_shape (STTensor *tensor);
char *st_tool_format_dims (const gint64 *shape, guint n_dims);  /* "[2, 3]" */           /* "[2, 3]" */
GPtrArray *st_tool_sorted_keys (GHashTable *table);      /* borrowed keys, sorted by bytes */

/* A table printed with aligned columns. */
typedef struct _StToolTable StToolTable;
StToolTable *st_tool_table_new (guint n_columns, ...);   /* headers; a header starting with '>' is right-aligned */
StToolTable *st_tool_table_new_headless (guint n_columns);
void st_tool_table_add (StToolTable *table, ...);        /* n_columns strings, copied */
void st_tool_table_print (StToolTable *table, FILE *out, const char *indent);
void st_tool_table_free (StToolTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StToolTable, st_tool_table_free)
/* Metadata as a KEY/VALUE table sorted by key, one line per entry (values escaped). */
void st_tool_print_metadata_table (GHashTable *metadata, const char *indent);

/* JSON output */
void st_tool_print_json (JsonNode *root);
void st_tool_json_add_shape (JsonBuilder *builder, STTensor *tensor);
void st_tool_json_add_dims (JsonBuilder *builder, const gint64 *shape, guint n_dims);
void st_tool_json_add_metadata (JsonBuilder *builder, GHashTable *metadata);

/* A progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct _StToolProgress StToolProgress;
StToolProgress *st_tool_progress_new (const char *label, guint64 total, gboolean bytes);
void st_tool_progress_update (StToolProgress *progress, guint64 done);
void st_tool_progress_free (StToolProgress *progress);   /* clears the line */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StToolProgress, st_tool_progress_free)
void st_tool_progress_callback (guint64 done, guint64 total, gpointer user_data);

/* Values (st-tool-values.c) */
gboolean st_tool_dtype_is_numeric (STDType dtype);       /* has a real value per element (not C64) */
gboolean st_tool_dtype_is_float (STDType dtype);

/* The subcommands */
int st_tool_cmd_info (int argc, char **argv);
int st_tool_cmd_list (int argc, char **argv);
int st_tool_cmd_validate (int argc, char **argv);
int st_tool_cmd_dump (int argc, char **argv);
int st_tool_cmd_diff (int argc, char **argv);
int st_tool_cmd_metadata (int argc, char **argv);
int st_tool_cmd_shard (int argc, char **argv);
int st_tool_cmd_merge (int argc, char **argv);
int st_tool_cmd_reshard (int argc, char **argv);
int st_tool_cmd_consolidate (int argc, char **argv);
int st_tool_cmd_split (int argc, char **argv);
int st_tool_cmd_download (int argc, char **argv);

G_END_DECLS
