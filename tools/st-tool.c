/* st-tool.c: inspect, validate, diff, edit and shard safetensors files
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * One program with subcommands (as git and flatpak have them). Each subcommand lives in its own
 * function, parses its own options with GOption, and returns an exit status: 0 for success, 1 for a
 * problem found or an operation that failed, 2 for a bad command line.
 */
#include <locale.h>
#include <stdarg.h>
#include <string.h>

#include "st-tool.h"

static const StToolCommand commands[] = {
  { "info", "FILE|INDEX…",
    "Summarize files: tensors, parameters and bytes per dtype, metadata",
    "Prints, for each safetensors file or sharded checkpoint (its index, or a directory holding one), "
    "the number of tensors, the number of parameters and of bytes per dtype, the metadata and the size "
    "of the header. Only headers are read.",
    st_tool_cmd_info },
  { "list", "FILE|INDEX",
    "List the tensors: name, dtype, shape, data offsets",
    "Lists every tensor in the order of the data: name, dtype, shape, data offsets (relative to the start "
    "of the data buffer) and size; for a sharded checkpoint, the shard too. Only headers are read.",
    st_tool_cmd_list },
  { "validate", "FILE|INDEX…",
    "Check files completely; exit status 1 when any is invalid",
    "Checks each file against every rule of the format (header, JSON, dtypes, shapes, offsets that tile "
    "the data exactly, file length) and each sharded checkpoint against its index (every shard present "
    "and valid, holding exactly the tensors the index assigns to it, total_size right). Prints one line "
    "per problem and exits with status 1 when there is any. Recognises a Git LFS pointer file and an HTML "
    "page saved in place of a model. Tensor data is never read.",
    st_tool_cmd_validate },
  { "dump", "FILE|INDEX NAME",
    "Print the values of a tensor",
    "Prints the values of tensor NAME, one per line with its index, decoded to numbers: F16, BF16, the F8 "
    "and the F4 and F6 floats as their real values, integers exactly, BOOL as true or false, C64 as "
    "complex numbers.",
    st_tool_cmd_dump },
  { "diff", "A B",
    "Compare two files: missing, extra and changed tensors",
    "Compares two files or sharded checkpoints: tensors only in A, only in B, with another dtype or shape, "
    "and for tensors of equal shape the largest absolute difference of their values; and the metadata. "
    "Exits with status 0 when they hold the same tensors and metadata, 1 otherwise.",
    st_tool_cmd_diff },
  { "metadata", "FILE",
    "Print or rewrite the __metadata__ of a file",
    "Without options, prints the __metadata__ of FILE. With --set and --remove, rewrites it: in place "
    "(the header alone when it keeps its length; otherwise atomically: a temporary file beside it is renamed "
    "over it) or into the file given with --output.",
    st_tool_cmd_metadata },
  { "shard", "FILE|INDEX",
    "Split a file into shards with an index",
    "Writes the tensors of FILE as a sharded checkpoint in DIR, as transformers and huggingface_hub do: "
    "shards PREFIX-00001-of-0000N.safetensors of at most SIZE bytes of tensor data each (a larger tensor "
    "gets a shard of its own), and the index PREFIX.safetensors.index.json. When everything fits in one "
    "shard, writes PREFIX.safetensors and no index.",
    st_tool_cmd_shard },
  { "merge", "INDEX",
    "Join the shards of a checkpoint into one file",
    "Writes every tensor of the sharded checkpoint INDEX into one safetensors file, atomically.",
    st_tool_cmd_merge },
  { "reshard", "FILE|INDEX",
    "Rewrite a checkpoint with another shard size, or as one file",
    "Writes the tensors of a file or sharded checkpoint into DIR as the standard layout: shards "
    "PREFIX-00001-of-0000N.safetensors of at most SIZE bytes of tensor data each with the index "
    "PREFIX.safetensors.index.json, or, without --max-shard-size or when everything fits, the one file "
    "PREFIX.safetensors. Streaming: the bytes are copied from file to file in the kernel (extents shared "
    "where the file system can), never held in memory. The new checkpoint replaces the old one in DIR "
    "atomically.",
    st_tool_cmd_reshard },
  { "consolidate", "DIR",
    "Assemble torch's per-rank files into the standard layout",
    "Reads the per-rank files that torch.distributed.checkpoint writes with Hugging Face storage "
    "(shard-XXXXX-model-XXXXX-of-XXXXX.safetensors in DIR, each slice placed by DCP_SHARDING_INFO in "
    "its __metadata__) and writes each logical tensor whole, into one file PREFIX.safetensors in the "
    "output directory or, with --max-shard-size, into shards with an index. Checks that the slices of "
    "each tensor agree on dtype and rank, do not overlap and leave no element out. Slices along the first "
    "dimension are copied in one kernel copy each, others row by row; memory does not grow with the "
    "checkpoint.",
    st_tool_cmd_consolidate },
  { "split", "FILE|INDEX",
    "Split a checkpoint into torch's per-rank files",
    "The inverse of consolidate: writes, for N ranks, the files shard-00001-model-00001-of-00001.safetensors "
    "to shard-N-… in the output directory, rank r holding the r-th slice of each tensor along its "
    "dimension (--dim, or --tensor-dim NAME=DIM for one tensor; the first size % N slices one longer, as "
    "torch.tensor_split cuts), with DCP_SHARDING_INFO, DCP_VERSION and format in its __metadata__ as "
    "torch writes them. Scalars, empty tensors, tensors with fewer dimensions and those given as "
    "NAME=none stay whole, in the first rank's file; a rank with nothing to hold gets no file.",
    st_tool_cmd_split },
  { "download", "ADDRESS…",
    "Download files of the Hugging Face Hub into its cache",
    "Downloads each file (hf://ORG/NAME/FILE, hf://ORG/NAME@REVISION/FILE, hf://datasets/ORG/NAME/FILE and "
    "hf://spaces/ORG/NAME/FILE for datasets and Spaces, or the Hub's ENDPOINT/[datasets/|spaces/]ORG/NAME/resolve/"
    "REVISION/FILE address) into the Hugging Face cache (HF_HUB_CACHE, by default "
    "~/.cache/huggingface/hub), as huggingface_hub does, and prints its path there; an index "
    "(*.index.json) brings its shards along. An interrupted download resumes; what is downloaded is checked "
    "(size, and SHA-256 where the Hub gives it). The other commands take these addresses, and http:// and "
    "https:// ones, where they take files: they read the headers, and only the tensors they need.",
    st_tool_cmd_download },
};

const StToolCommand *
st_tool_find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

GOptionContext *
st_tool_option_context_new (const StToolCommand *command,
                            const GOptionEntry  *entries)
{
  g_autofree char *parameters = g_strdup_printf ("%s — %s", command->parameters, command->summary);
  GOptionContext *context = g_option_context_new (parameters);
  g_autofree char *prgname = g_strdup_printf ("st-tool %s", command->name);
  g_set_prgname (prgname);
  g_option_context_set_description (context, command->description);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, st_tool_load_entries, NULL);
  return context;
}

gboolean
st_tool_parse_options (GOptionContext  *context,
                       int             *argc,
                       char          ***argv)
{
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fprintf (stderr, "%s: %s\n", g_get_prgname (), error->message);
      fprintf (stderr, "Run “%s --help” for its options.\n", g_get_prgname ());
      return FALSE;
    }
  return TRUE;
}

int
st_tool_usage_error (const char *command,
                     const char *format,
                     ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "st-tool %s: %s\n", command, message);
  fprintf (stderr, "Run “st-tool %s --help” for its usage.\n", command);
  return ST_TOOL_EXIT_USAGE;
}

void
st_tool_print_error (const char   *context,
                     const GError *error)
{
  g_autofree char *shown = context != NULL ? g_filename_display_name (context) : NULL;

  fflush (stdout);
  /* The library's message for a file left marked by an interrupted edit names the file and the repair. */
  if (g_error_matches (error, ST_ERROR, ST_ERROR_INTERRUPTED_EDIT))
    fprintf (stderr, "%s: %s\n", g_get_prgname (), error->message);
  else if (shown != NULL && strstr (error->message, shown) == NULL)
    fprintf (stderr, "%s: %s: %s\n", g_get_prgname (), shown, error->message);
  else
    fprintf (stderr, "%s: %s\n", g_get_prgname (), error->message);
}

static void
print_main_help (FILE *out)
{
  fprintf (out,
           "Usage: st-tool COMMAND [OPTION…] ARGUMENTS\n"
           "Inspect, validate, compare, edit and shard safetensors files.\n"
           "\n"
           "Commands:\n");
  gsize width = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    width = MAX (width, strlen (commands[i].name));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-*s  %s\n", (int) width, commands[i].name, commands[i].summary);
  fprintf (out,
           "  %-*s  %s\n"
           "\n"
           "Options:\n"
           "  -h, --help     Show this help\n"
           "  --version      Show the version\n"
           "\n"
           "A sharded checkpoint (INDEX) is given by its model.safetensors.index.json or by the\n"
           "directory holding it. “st-tool help COMMAND” shows the options of a command.\n"
           "Exit status: 0 on success, 1 when a problem is found or an operation fails, 2 for a\n"
           "bad command line. See st-tool(1).\n",
           (int) width, "help", "Show the help of a command");
}

static int
run_help (int    argc,
          char **argv)
{
  if (argc < 2)
    {
      print_main_help (stdout);
      return ST_TOOL_EXIT_OK;
    }
  const StToolCommand *command = st_tool_find_command (argv[1]);
  if (command == NULL)
    {
      fprintf (stderr, "st-tool help: no command “%s”. Run “st-tool --help” for the list.\n", argv[1]);
      return ST_TOOL_EXIT_USAGE;
    }
  char *help_argv[] = { (char *) command->name, (char *) "--help", NULL };
  return command->run (2, help_argv);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  /* Numbers are printed for machines too (JSON): never with a locale's decimal comma. */
  setlocale (LC_NUMERIC, "C");
  g_set_prgname ("st-tool");

  if (argc < 2)
    {
      print_main_help (stderr);
      return ST_TOOL_EXIT_USAGE;
    }

  const char *name = argv[1];
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "-?") == 0)
    {
      print_main_help (stdout);
      return ST_TOOL_EXIT_OK;
    }
  if (strcmp (name, "--version") == 0)
    {
      printf ("st-tool %s\n", ST_VERSION_S);
      return ST_TOOL_EXIT_OK;
    }
  if (strcmp (name, "help") == 0)
    return run_help (argc - 1, argv + 1);

  const StToolCommand *command = st_tool_find_command (name);
  if (command == NULL)
    {
      if (name[0] == '-')
        fprintf (stderr, "st-tool: unknown option “%s”: a command comes first.\n", name);
      else
        fprintf (stderr, "st-tool: no command “%s”.\n", name);
      fprintf (stderr, "Run “st-tool --help” for the list of commands.\n");
      return ST_TOOL_EXIT_USAGE;
    }
  return command->run (argc - 1, argv + 1);
}
