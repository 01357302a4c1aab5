/* test-sniff.c: files that are not safetensors files are named for what they are
 *
 * SPDX-FileCopyrightText: 2026 The safetensors-glib authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * What users meet in place of a model: a Git LFS pointer (a clone without git-lfs), an HTML page (a
 * failed download), a PyTorch checkpoint (ZIP or pickle), a GGUF file, an index opened as a file, a
 * download cut short. The loaders' errors say which, once, with the path first.
 */
#include <glib/gstdio.h>

#include "st-test-util.h"

typedef struct {
  const char *label;
  const char *content;
  gsize       length;
  int         code;        /* the ST_ERROR code */
  const char *expected;    /* a fragment of the message */
} Case;

static char *
write_temp (const char *dir,
            const char *name,
            const char *content,
            gsize       length)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, content, (gssize) length, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_sniff_file_loader (void)
{
  static const char lfs[] = "version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 1000\n";
  static const char html[] = "\n  <!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n";
  static const char zip[] = "PK\x03\x04\x14\x00\x00\x00\x08\x00archive/data.pkl";
  static const char pickle[] = "\x80\x02" "}q" "\x00" "(X" "\x0e\x00\x00\x00" "model.weightsq";
  static const char gguf[] = "GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
  static const char index[] = "{\n  \"metadata\": {\"total_size\": 8},\n  \"weight_map\": {\"a\": \"x.safetensors\"}\n}\n";
  /* A header that says 64 bytes, of which the file holds 20. */
  static const char truncated[] = "\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":\"F32\"";
  const Case cases[] = {
    { "lfs", lfs, sizeof lfs - 1, ST_ERROR_HEADER_TOO_LARGE,
      "It is a Git LFS pointer file (fetch the data with “git lfs pull”), not a safetensors file" },
    { "html", html, sizeof html - 1, ST_ERROR_HEADER_TOO_LARGE, "It is an HTML page" },
    { "zip", zip, sizeof zip - 1, ST_ERROR_HEADER_TOO_LARGE, "It is a ZIP archive (a PyTorch .bin or .pt" },
    { "pickle", pickle, sizeof pickle - 1, ST_ERROR_HEADER_TOO_LARGE, "It is a Python pickle" },
    { "gguf", gguf, sizeof gguf - 1, ST_ERROR_HEADER_TOO_LARGE, "It is a GGUF file, not a safetensors file" },
    { "index", index, sizeof index - 1, ST_ERROR_HEADER_TOO_LARGE, "It is the index of a sharded checkpoint" },
    { "truncated", truncated, sizeof truncated - 1, ST_ERROR_HEADER_TOO_LARGE,
      "it is a safetensors file cut short (an interrupted download?)" },
  };
  g_autofree char *dir = g_dir_make_tmp ("st-test-sniff-XXXXXX", NULL);

  g_assert_nonnull (dir);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = write_temp (dir, cases[i].label, cases[i].content, cases[i].length);
      g_autofree char *shown = g_filename_display_name (path);
      g_autoptr(STFile) file = st_file_new_from_path (path, NULL, &error);

      g_test_message ("%s: %s", cases[i].label, error != NULL ? error->message : "(loaded)");
      g_assert_null (file);
      g_assert_error (error, ST_ERROR, cases[i].code);
      /* the path once, at the start, then what the file is */
      g_assert_true (g_str_has_prefix (error->message, shown));
      g_assert_true (g_str_has_prefix (error->message + strlen (shown), ": "));
      g_assert_null (strstr (error->message + strlen (shown), shown));
      g_assert_nonnull (strstr (error->message, cases[i].expected));
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* Files the sniffer used to name wrongly (issue 20, item 11), and the right names it keeps. Expected
 * verdicts are from the bytes, as written out here: a header length whose low byte is ‘{’ or 0x80 0x02
 * is a safetensors file's start, not a JSON document or a pickle. */
static void
test_sniff_only_what_bytes_prove (void)
{
  typedef struct {
    const char *label;
    const char *content;
    gsize       length;
    const char *expected;   /* a fragment of the message; NULL: no "It is" at all */
  } Sniffed;
  /* Length 0x7b (123) with a header that is no JSON object: the low byte of the length is ‘{’ */
  static const char brace_length[] = "{\x00\x00\x00\x00\x00\x00\x00[1, 2, 3]";
  /* Length 0x7b and a truncated object: cut short, not a JSON document */
  static const char brace_length_cut[] = "{\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":\"F32\"";
  /* Length 0x0280 (640): 80 02 opens it as it opens a protocol-2 pickle */
  static const char pickle_length[] = "\x80\x02\x00\x00\x00\x00\x00\x00[\"not a pickle\"]";
  /* 80 03 and then bytes that are no pickle opcodes, and a length of billions */
  static const char pickle_magic_only[] = "\x80\x03\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6";
  /* 80 05 and a FRAME longer than the file */
  static const char pickle_bad_frame[] = "\x80\x05\x95\xff\xff\xff\xff\x00\x00\x00\x00}\x94.";
  /* ‘{’ and then binary: no JSON text */
  static const char brace_binary[] = "{abcdefg\xff\xfe\x01\x02\x03\x04";
  /* ‘{’ and text that a JSON reader rejects, whole */
  static const char brace_not_json[] = "{this is not json, though it is text}";
  /* Right labels: a protocol-2 pickle as torch.save wrote before ZIP (LONG1 magic number, STOP), a
   * protocol-4 pickle with a frame, and a JSON document that is no index */
  static const char torch_legacy[] = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.\x80\x02M\xe9\x03.";
  static const char pickle_frame[] = "\x80\x04\x95\x15\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01" "a" "\x94K\x01s.";
  static const char json[] = "{\n  \"name\": \"config\",\n  \"hidden_size\": 4096\n}\n";
  const Sniffed cases[] = {
    { "brace-length", brace_length, sizeof brace_length - 1, NULL },
    { "brace-length-cut", brace_length_cut, sizeof brace_length_cut - 1, "it is a safetensors file cut short" },
    { "pickle-length", pickle_length, sizeof pickle_length - 1, NULL },
    { "pickle-magic-only", pickle_magic_only, sizeof pickle_magic_only - 1, NULL },
    { "pickle-bad-frame", pickle_bad_frame, sizeof pickle_bad_frame - 1, NULL },
    { "brace-binary", brace_binary, sizeof brace_binary - 1, NULL },
    { "brace-not-json", brace_not_json, sizeof brace_not_json - 1, NULL },
    { "torch-legacy", torch_legacy, sizeof torch_legacy - 1, "It is a Python pickle" },
    { "pickle-frame", pickle_frame, sizeof pickle_frame - 1, "It is a Python pickle" },
    { "json", json, sizeof json - 1, "It is a JSON document, not a safetensors file" },
  };
  g_autofree char *dir = g_dir_make_tmp ("st-test-sniff-XXXXXX", NULL);

  g_assert_nonnull (dir);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = write_temp (dir, cases[i].label, cases[i].content, cases[i].length);
      g_autoptr(STFile) file = st_file_new_from_path (path, NULL, &error);
      g_autofree char *escaped = NULL;

      g_assert_null (file);
      g_assert_nonnull (error);
      escaped = g_strescape (error->message, NULL);
      g_test_message ("%s: %s", cases[i].label, escaped);
      g_assert_error (error, ST_ERROR, error->code);
      if (cases[i].expected == NULL)
        {
          g_assert_null (strstr (error->message, "It is"));
          g_assert_null (strstr (error->message, "it is"));
        }
      else
        g_assert_nonnull (strstr (error->message, cases[i].expected));
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* A file in place of an index is named for what it is, under ST_ERROR_INVALID_INDEX. */
static void
test_sniff_index_loader (void)
{
  static const char lfs[] = "version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 1000\n";
  static const char html[] = "<html><body>404</body></html>";
  g_autofree char *dir = g_dir_make_tmp ("st-test-sniff-XXXXXX", NULL);
  const char *contents[] = { lfs, html };
  const char *expected[] = { "It is a Git LFS pointer file", "It is an HTML page" };

  for (gsize i = 0; i < G_N_ELEMENTS (contents); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = write_temp (dir, "model.safetensors.index.json", contents[i], strlen (contents[i]));
      g_autoptr(STIndex) index = st_index_new_from_path (path, NULL, &error);

      g_test_message ("%s", error != NULL ? error->message : "(loaded)");
      g_assert_null (index);
      g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_INDEX);
      g_assert_nonnull (strstr (error->message, expected[i]));
      g_assert_nonnull (strstr (error->message, "not the index of a sharded checkpoint"));
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* A broken safetensors file that is nothing else keeps the parser's own message, after the path. */
static void
test_sniff_plain_format_error (void)
{
  static const char bad[] = "\x08\x00\x00\x00\x00\x00\x00\x00[]      ";
  g_autofree char *dir = g_dir_make_tmp ("st-test-sniff-XXXXXX", NULL);
  g_autofree char *path = write_temp (dir, "bad.safetensors", bad, sizeof bad - 1);
  g_autofree char *shown = g_filename_display_name (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_path (path, NULL, &error);

  g_assert_null (file);
  g_assert_error (error, ST_ERROR, ST_ERROR_INVALID_HEADER);
  g_assert_true (g_str_has_prefix (error->message, shown));
  g_assert_null (strstr (error->message, "It is"));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sniff/file-loader", test_sniff_file_loader);
  g_test_add_func ("/sniff/index-loader", test_sniff_index_loader);
  g_test_add_func ("/sniff/plain-format-error", test_sniff_plain_format_error);
  g_test_add_func ("/sniff/only-what-bytes-prove", test_sniff_only_what_bytes_prove);

  return g_test_run ();
}
