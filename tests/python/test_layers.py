# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""The layers of the Python binding: the package stands on the introspected API and its own
binding layer, and the PyGObject override is a thin face over that layer.

- safetensors_glib works whatever override PyGObject finds first (another version's, or one
  with no additions at all), and never rewrites gi.overrides;
- the override may be imported first (from gi.repository import ST) without a circular import;
- the override's helpers are the package's own objects.
"""

import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np

BINDINGS = str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python")


def run(code, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([BINDINGS, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_package_needs_no_override(tmp_path):
    # An override folder put first whose ST.py adds nothing: PyGObject loads it instead of ours.
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "ST.py").write_text("__all__ = []\n")
    path = tmp_path / "m.safetensors"
    out = run(f"""
        import gi.overrides
        gi.overrides.__path__.insert(0, {str(foreign)!r})
        before = list(gi.overrides.__path__)
        import numpy as np
        from safetensors_glib.numpy import load_file, save_file
        from safetensors_glib import safe_open
        save_file({{"w": np.arange(6, dtype=np.float32).reshape(2, 3)}}, {str(path)!r})
        with safe_open({str(path)!r}, framework="np") as f:
            print(f.get_tensor("w")[1].tolist(), end=" ")
        print(load_file({str(path)!r})["w"].sum(), end=" ")
        import sys
        print(sys.modules["gi.overrides.ST"].__file__ == {str(foreign / "ST.py")!r},
              gi.overrides.__path__ == before)
    """, tmp_path)
    assert out == ["[3.0,", "4.0,", "5.0]", "15.0", "True", "True"]


def test_the_override_first_then_the_package(tmp_path):
    out = run("""
        import gi
        gi.require_version("ST", "1.0")
        from gi.repository import ST
        import numpy as np
        tensor = ST.Tensor.new_from_array(np.arange(4, dtype=np.int16))
        import safetensors_glib, safetensors_glib._binding as binding, sys
        override = sys.modules["gi.overrides.ST"]
        print(tensor.numpy().tolist() == [0, 1, 2, 3], override.Owner is binding.Owner,
              override.memory_view is binding.memory_view, safetensors_glib.safe_open.__name__)
    """, tmp_path)
    assert out == ["True", "True", "True", "safe_open"]


def test_the_binding_layer_loads_without_the_typelib(tmp_path):
    # What the override imports while PyGObject is loading ST must not require ST in turn.
    out = run("""
        import sys
        import safetensors_glib._binding as binding
        print("gi.repository.ST" in sys.modules, binding.DTYPES["BF16"], sorted(binding.__all__)[0])
    """, tmp_path)
    assert out == ["False", "(None,", "'bfloat16')", "BIG_ENDIAN"]


def test_owner_keeps_python_memory_alive():
    from safetensors_glib._binding import Owner, memory_view

    data = np.arange(3, dtype=np.uint8)
    owner = Owner(data)
    view = memory_view(data.ctypes.data, 3, owner)
    del data
    assert view.tolist() == [0, 1, 2] and isinstance(owner.objects, np.ndarray)


def test_st_file_is_a_mapping_of_names_and_still_a_list_model():
    # doc/python.md: Python's len/iter/[] are the mapping's (sorted names); the Gio.ListModel that
    # C and GJS see (items in file order) stays reachable through get_n_items()/get_item().
    import gi

    gi.require_version("ST", "1.0")
    from gi.repository import Gio, ST

    f = ST.File.new()
    f["b"] = ST.Tensor.new_from_array(np.arange(3, dtype=np.int32))
    f["a"] = ST.Tensor.new_from_array(np.arange(2, dtype=np.int8))
    assert isinstance(f, Gio.ListModel)
    assert len(f) == 2 and list(f) == ["a", "b"] and f["b"].numpy().tolist() == [0, 1, 2]
    assert f.get_n_items() == 2
    assert [f.get_item(i).props.name for i in range(2)] == ["b", "a"]
    assert f.get_item(0).props.dtype_name == "I32" and f.get_item(0).props.n_bytes == 12
