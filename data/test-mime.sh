#!/bin/sh
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
# Usage: test-mime.sh MIME-XML FIXTURE
# Builds a mime database from MIME-XML alone in a scratch XDG data directory and checks the content types that
# GIO (shared-mime-info's reader) gives a safetensors file and an index file.
set -eu
xml="$1"
fixture="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/share/mime/packages" "$tmp/files"
cp "$xml" "$tmp/share/mime/packages/"
export XDG_DATA_HOME="$tmp/share" XDG_DATA_DIRS="$tmp/share:/usr/share"
update-mime-database "$tmp/share/mime"
cp "$fixture" "$tmp/files/model.safetensors"
printf '{"metadata": {}, "weight_map": {}}\n' >"$tmp/files/model.safetensors.index.json"
check () {
  got="$(gio info -a standard::content-type "$1" | sed -n 's/^ *standard::content-type: //p')"
  echo "$1: $got"
  [ "$got" = "$2" ] || { echo "expected $2" >&2; exit 1; }
}
check "$tmp/files/model.safetensors" application/x-safetensors
check "$tmp/files/model.safetensors.index.json" application/x-safetensors-index+json
