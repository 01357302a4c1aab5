#!/usr/bin/python3
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
"""What the ST typelib exposes is the public C API and nothing else, and every symbol says since when.

Run by meson test (suite 'introspection') with GI_TYPELIB_PATH and LD_LIBRARY_PATH on the build tree;
prints TAP. Arguments: the public header directory (safetensors-glib/ in the source tree), the build's
header directory (generated headers) and the GIR file.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

import gi
import gi._gi as GI  # the typelib reader PyGObject itself uses

CORE = "{http://www.gtk.org/introspection/core/1.0}"
C = "{http://www.gtk.org/introspection/c/1.0}"

results = []


def check(ok, what, detail=""):
    results.append((bool(ok), what, detail))


def public_declarations(source_dir, build_dir):
    """The st_* functions and ST* types declared in the headers safetensors-glib.h includes."""
    umbrella = open(os.path.join(source_dir, "safetensors-glib.h"), encoding="utf-8").read()
    names = re.findall(r"#include <safetensors-glib/([\w-]+\.h)>", umbrella)
    text = ""
    for name in names:
        for directory in (source_dir, build_dir):
            path = os.path.join(directory, name)
            if os.path.exists(path):
                text += open(path, encoding="utf-8").read()
                break
        else:
            check(False, f"public header {name} exists")
    functions = set(re.findall(r"\b(st_\w+)\s*\(", text))
    # G_DECLARE_FINAL_TYPE (STFile, st_file, ...) declares st_file_get_type
    for prefix in re.findall(r"G_DECLARE_FINAL_TYPE\s*\(\s*\w+,\s*(\w+)", text):
        functions.add(prefix + "_get_type")
    types = set(re.findall(r"\b(ST[A-Z_]\w*)\b", text))
    # ... and its class structure, STFileClass
    types.update(name + "Class" for name in re.findall(r"G_DECLARE_FINAL_TYPE\s*\(\s*(\w+),", text))
    return names, functions, types


def typelib_symbols():
    """Every C symbol and every type the ST typelib names."""
    repository = gi.Repository.get_default()
    repository.require("ST", "1.0", 0)
    symbols, types = set(), set()

    for info in repository.get_infos("ST"):
        if isinstance(info, GI.ConstantInfo):
            types.add("_" + info.get_name())  # ST_MAJOR_VERSION: checked as a declared macro
        elif not isinstance(info, GI.FunctionInfo):
            types.add(info.get_name())
        if isinstance(info, GI.FunctionInfo):
            symbols.add(info.get_symbol())
        if isinstance(info, (GI.ObjectInfo, GI.StructInfo, GI.EnumInfo)):
            for method in info.get_methods():
                symbols.add(method.get_symbol())
        if isinstance(info, (GI.ObjectInfo, GI.EnumInfo)) and info.get_type_init():
            symbols.add(info.get_type_init())
    return symbols, types


def main():
    source_dir, build_dir, gir_path = sys.argv[1:4]
    headers, declared, declared_types = public_declarations(source_dir, build_dir)
    check(not any(h.endswith("-private.h") for h in headers), "the umbrella header includes no private header")

    symbols, types = typelib_symbols()
    check(len(symbols) > 50, f"the typelib has the library's functions ({len(symbols)})")
    for symbol in sorted(symbols):
        check(symbol in declared, f"{symbol} is declared in a public header")
    for name in sorted(types):
        # internal types are St*, public ones ST*: the typelib names them without the prefix
        check(f"ST{name}" in declared_types, f"{name} is a public type or constant (ST{name})")

    # Since: on everything the GIR documents (gi-docgen shows it; the ABI policy needs it)
    root = ET.parse(gir_path).getroot()
    kinds = ("function", "method", "constructor", "class", "enumeration", "bitfield", "callback",
             "constant", "property", "signal", "interface")
    for element in root.iter():
        kind = element.tag.replace(CORE, "")
        if kind not in kinds or element.get("introspectable") == "0":
            continue
        name = element.get(C + "identifier") or element.get(C + "type") or element.get("name")
        check(element.get("version") is not None, f"{kind} {name} has Since:")

    print(f"1..{len(results)}")
    for n, (ok, what, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {n} {what}{(' # ' + detail) if detail else ''}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
