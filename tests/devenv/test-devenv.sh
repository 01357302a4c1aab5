#!/bin/sh
# test-devenv.sh: the build tree used without installing it, as README.md tells a newcomer to.
#   1. `meson devenv` runs Python (safetensors_glib and gi.repository.ST) and GJS (gi://ST and the ES
#      module) from the build tree, in an environment that has none of the test suite's variables;
#   2. a C program builds against the build tree with the uninstalled .pc (meson-uninstalled/) and runs.
# Each reads a file written by Hugging Face's safetensors (tests/fixtures/valid/hf_simple_i32.safetensors:
# one I32 tensor "test" of shape [2, 2], all zeros), checked against those hand-written values.
# Usage: test-devenv.sh MESON BUILDDIR FIXTURE CC...
set -eu
meson="$1" build="$2" fixture="$3"
shift 3

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM

clean () {
  env -u GI_TYPELIB_PATH -u LD_LIBRARY_PATH -u PYTHONPATH -u ST_GJS_MODULE_DIR -u PKG_CONFIG_PATH "$@"
}
devenv () {
  clean "$meson" devenv -C "$build" "$@"
}

echo "# Python in meson devenv"
devenv /usr/bin/python3 - "$fixture" "$build" <<'PY'
import os
import sys

import gi
gi.require_version("ST", "1.0")
gi.require_version("GIRepository", "2.0")
from gi.repository import GIRepository, ST

import safetensors_glib
from safetensors_glib.numpy import load_file

fixture, build = sys.argv[1], os.path.realpath(sys.argv[2])
typelib = os.path.realpath(GIRepository.Repository.get_default().get_typelib_path("ST"))
assert typelib.startswith(build + os.sep), f"the typelib is the build tree's: {typelib}"
assert os.environ.get("MESON_DEVENV") == "1", "run by meson devenv"
tensors = load_file(fixture)
assert list(tensors) == ["test"], list(tensors)
assert tensors["test"].dtype.name == "int32" and tensors["test"].shape == (2, 2), tensors["test"]
assert tensors["test"].tolist() == [[0, 0], [0, 0]]
assert ST.File.new_from_path(fixture).dup_names_sorted() == ["test"]
print("ok: python", safetensors_glib.__version__)
PY

if command -v gjs >/dev/null 2>&1 && [ -f "$build/safetensors-glib/ST-1.0.typelib" ]; then
  echo "# GJS in meson devenv"
  cat > "$work/check.js" <<'JS'
import GLib from 'gi://GLib';
import ST from 'gi://ST?version=1.0';
import System from 'system';

const [fixture] = ARGV;
const Safetensors = await import(`file://${GLib.getenv('ST_GJS_MODULE_DIR')}/safetensors.js`);
const file = await Safetensors.loadAsync(fixture).catch(e => {
    printerr(e.message);
    System.exit(1);
});
const values = Safetensors.typedArray(file.get_tensor('test'));
if (values.constructor !== Int32Array || values.join(',') !== '0,0,0,0' ||
    file.get_tensor('test').get_shape().join(',') !== '2,2' || ST.DType.to_string(file.get_tensor('test').get_dtype()) !== 'I32') {
    printerr(`unexpected tensor: ${values}`);
    System.exit(1);
}
print('ok: gjs');
JS
  devenv gjs -m "$work/check.js" "$fixture"
fi

echo "# C against the uninstalled .pc"
cat > "$work/check.c" <<'C'
#include <safetensors-glib/safetensors-glib.h>

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(STFile) file = st_file_new_from_path (argv[1], NULL, &error);
  STTensor *tensor;
  const gint32 *values;
  const gint64 *shape;
  guint n_dims = 0;
  gsize n = 0;

  if (file == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  tensor = st_file_get_tensor (file, "test");
  if (tensor == NULL || st_tensor_get_dtype (tensor) != ST_DTYPE_I32)
    return 1;
  shape = st_tensor_get_shape (tensor, &n_dims);
  values = st_tensor_get_data (tensor, &n);
  if (n_dims != 2 || shape[0] != 2 || shape[1] != 2 || n != 16 || values[0] != 0 || values[3] != 0)
    return 1;
  g_print ("ok: C, headers of %d.%d.%d\n", ST_MAJOR_VERSION, ST_MINOR_VERSION, ST_MICRO_VERSION);
  return 0;
}
C
export PKG_CONFIG_PATH="$build/meson-uninstalled"
flags="$(pkg-config --cflags --libs safetensors-glib-1.0)"
libdir="$(pkg-config --variable=st_libdir safetensors-glib-1.0)"
[ "$(cd "$libdir" && pwd -P)" = "$(cd "$build/safetensors-glib" && pwd -P)" ] || { echo "st_libdir is $libdir" >&2; exit 1; }
# shellcheck disable=SC2086
"$@" -o "$work/check" "$work/check.c" $flags
unset PKG_CONFIG_PATH
devenv "$work/check" "$fixture"
