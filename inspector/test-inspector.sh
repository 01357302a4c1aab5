#!/bin/sh
# test-inspector.sh: runs the inspector under Xvfb on a demo model, a sharded checkpoint and a hostile
# file. Each run checks its own window (--self-check) and saves a screenshot into OUTDIR.
# Usage: test-inspector.sh GJS APPDIR OUTDIR HOSTILE_FILE   (APPDIR: the build tree's inspector/)
set -eu
gjs="$1" srcdir="$2" outdir="$3" hostile="$4"

if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "xvfb-run is missing (build-aux/install-deps test installs xvfb)" >&2
  exit 77
fi
if ! "$gjs" -c "imports.gi.versions.Gtk = '4.0'; imports.gi.versions.Adw = '1'; imports.gi.Adw;" 2>/dev/null; then
  echo "GTK 4 or libadwaita typelibs are missing (gir1.2-gtk-4.0, gir1.2-adw-1)" >&2
  exit 77
fi
mkdir -p "$outdir"
rm -f "$outdir"/*.png
"$gjs" -m "$srcdir/make-demo-model.js" "$outdir"

# No session bus, no accessibility bus: GTK runs without them; cairo renders the same everywhere.
export GTK_A11Y=none GSK_RENDERER=cairo GDK_BACKEND=x11 NO_AT_BRIDGE=1
run () {
  xvfb-run -a -s "-screen 0 1280x800x24" "$gjs" -m "$srcdir/main.js" "$@"
}

start=$(date +%s)
run --self-check=tensors --select=norm.weight --expect-values="1  -2  0.15625  3.1406" \
    --screenshot="$outdir/inspector-file.png" "$outdir/demo.safetensors"
run --self-check=tensors --select=head.bias --expect-values="1  -1  0.5" \
    --screenshot="$outdir/inspector-index.png" "$outdir/sharded/model.safetensors.index.json"
run --self-check=error --screenshot="$outdir/inspector-error.png" "$hostile"
# The same by address ("Open address…"), served from 127.0.0.1 by Python's http.server, which ignores
# Range: the window reads what it needs and stops. The server writes its port into a FIFO when it listens.
fifo="$outdir/port.fifo"
rm -f "$fifo"
mkfifo "$fifo"
/usr/bin/python3 -c 'import functools, http.server, sys
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
    functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1]))
server.RequestHandlerClass.log_message = lambda *args: None
open(sys.argv[2], "w").write("%d\n" % server.server_address[1])
server.serve_forever()' "$outdir" "$fifo" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null' EXIT
read -r port < "$fifo"
rm -f "$fifo"
export no_proxy=127.0.0.1 HF_TOKEN_PATH=/nonexistent/st-inspector/token
unset http_proxy HTTP_PROXY HF_TOKEN HF_HUB_OFFLINE
# typed into the "Open address…" dialog, as a user opens an address
run --self-check=tensors --select=norm.weight --expect-values="1  -2  0.15625  3.1406" \
    --open-address="http://127.0.0.1:$port/demo.safetensors"
run --self-check=tensors --select=head.bias --expect-values="1  -1  0.5" \
    "http://127.0.0.1:$port/sharded/model.safetensors.index.json"
kill $server_pid
trap - EXIT
for png in inspector-file inspector-index inspector-error; do
  # A real picture: a PNG signature and more than a blank window's worth of bytes.
  [ "$(head -c 8 "$outdir/$png.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "$png: not a PNG" >&2; exit 1; }
  [ "$(wc -c < "$outdir/$png.png")" -gt 10000 ] || { echo "$png: too small to show anything" >&2; exit 1; }
done
echo "five runs in $(( $(date +%s) - start )) s; screenshots in $outdir"
