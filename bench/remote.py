#!/usr/bin/python3
"""The remote benchmarks (issue 16): models over HTTP behind a delaying, rate-limiting proxy.

Usage: bench/remote.py [--quick] [--build DIR] [--out FILE|-] [--json FILE] [--reps N] [--rtt MS] [--rate MBIT]
                       [--download-mb N] [--rss-gb N] [--scratch DIR] [--trace] [--only CASE]...

Everything runs on the loopback interface: an origin (Python's http.server with Range, ETag,
X-Repo-Commit and X-Linked-Size, counting requests) and, for the 8-shard open, a Hub and its CDN as
the Hub serves a checkpoint (the index answered by the Hub on 127.0.0.1, every shard's resolve a 302
with X-Linked-Etag/X-Linked-Size to a signed address on the CDN, on 127.0.0.2, which answers the
ranges with its own ETag); in front of each server a proxy that delays every chunk by half the
round-trip time each way, the TCP handshake's round trip included, and paces the downstream at the
link rate (this kernel has no netem qdisc). Each measurement runs in a fresh process and times only
its own call.

Cases (ratios within one run):
  open-8-shards     header-only open of an 8-shard checkpoint (ST.Index.new_from_uri) against one of
                    its shards' headers alone (ST.File.new_from_uri), on the Hub-like pair (hf://, the
                    issue's target) and on the plain origin (shown beside it, no target: its floor is
                    3 round trips against 2); requests per file counted by the servers
  fetch-tensor      one tensor fetched on an open file, against one round trip plus its bytes at the
                    link rate
  download          a file downloaded into the cache (ST.hub_download) against curl fetching the same
                    URL through the same proxy, and against the link rate
  download-rss      peak RSS of st-tool download for a file of --rss-gb GB (no proxy; 0 leaves it out)

Writes a Markdown table to --out (default: bench/remote-results.md; "-" for none) and, with --json, the
rows with their targets and verdicts (what bench/run puts in results.md). --quick runs each case once
on small files (a 4 MiB download, a 64 MiB RSS case), in a few seconds: it checks that they run.
The two sides of a comparison alternate, their order swapped every repetition.
"""

import argparse
import asyncio
import hashlib
import http.server
import json
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
COMMIT = "0" * 39 + "1"
MIB = 1024 * 1024


# The workloads: files written here, header by hand

def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, dtype, shape, size in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        block = bytes(range(256)) * 4096
        left = offset
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n


def make_workloads(scratch, download_mb, rss_gb):
    ckpt = os.path.join(scratch, "org", "ckpt", "resolve", "main")
    os.makedirs(ckpt)
    weight_map = {}
    for s in range(8):
        name = f"model-{s + 1:05d}-of-00008.safetensors"
        # 300 tensors a shard: a header of about 30 kB, as a real shard has
        tensors = [(f"layers.{s}.{i}.weight", "F16", [64, 16], 2048) for i in range(300)]
        write_safetensors(os.path.join(ckpt, name), tensors)
        weight_map.update({t[0]: name for t in tensors})
    # as transformers writes it: json.dumps(index, indent=2, sort_keys=True) + "\n"
    with open(os.path.join(ckpt, "model.safetensors.index.json"), "w") as f:
        f.write(json.dumps({"metadata": {"total_size": 8 * 300 * 2048}, "weight_map": weight_map}, indent=2,
                           sort_keys=True) + "\n")
    big = os.path.join(scratch, "org", "big", "resolve", "main")
    os.makedirs(big)
    write_safetensors(os.path.join(big, "model.safetensors"),
                      [("small", "F32", [4], 16), ("large", "U8", [download_mb * MIB], download_mb * MIB)])
    if rss_gb:
        huge = os.path.join(scratch, "org", "huge", "resolve", "main")
        os.makedirs(huge)
        size = int(rss_gb * 1024) * MIB
        write_safetensors(os.path.join(huge, "model.safetensors"), [("t", "U8", [size], size)])


# The origin

class Origin(http.server.ThreadingHTTPServer):
    """One server: the plain origin (every file straight from it), the Hub (the index answered itself,
    every shard's resolve a 302 to the CDN) or the CDN (the shards' blobs by their SHA-256)."""
    daemon_threads = True
    # socketserver's default backlog of 5 overflows when eight shards' connections open at once: the
    # kernel drops a SYN, and the proxy's connect to the origin waits for its retransmission, one second
    # later (one open in three took a second more than the protocol needs)
    request_queue_size = 128

    def __init__(self, root, name="origin", host="127.0.0.1"):
        super().__init__((host, 0), OriginHandler)
        self.root = root
        self.name = name
        self.counts = {}
        self.lock = threading.Lock()
        self.etags = {}
        self.blobs = {}         # the CDN's paths: /blobs/SHA256 -> a file under root
        self.redirect = None    # the Hub's: a function of a path under root giving the CDN address, or None

    def etag(self, path):
        if path not in self.etags:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(MIB), b""):
                    h.update(block)
            self.etags[path] = h.hexdigest()
        return self.etags[path]


class OriginHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, body):
        server = self.server
        with server.lock:
            server.counts[self.path] = server.counts.get(self.path, 0) + 1
        trace(f"{server.name}: {self.command} {self.path.rsplit('/', 1)[-1]} {self.headers.get('Range') or ''}")
        bare = self.path.split("?", 1)[0]
        path = server.blobs.get(bare) or os.path.join(server.root, bare.lstrip("/"))
        if not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = os.path.getsize(path)
        location = server.redirect(path) if server.redirect else None
        if location:
            # the Hub's answer for a file stored in LFS: the blob's hash and size, and where it is
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", '"' + server.etag(path)[:40] + '"')
            self.send_header("X-Linked-Etag", '"' + server.etag(path) + '"')
            self.send_header("X-Linked-Size", str(size))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = 0, size - 1
        if self.headers.get("Range"):
            first, last = self.headers["Range"][len("bytes="):].split("-")
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        if not server.blobs:
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("X-Linked-Size", str(size))
        self.send_header("ETag", '"' + server.etag(path) + '"')
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if not body:
            return
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left:
                block = f.read(min(left, MIB))
                self.wfile.write(block)
                left -= len(block)

    def do_HEAD(self):
        self.answer(False)

    def do_GET(self):
        self.answer(True)


# What --trace prints: (time, event) of the proxy's connections and the origin's requests

TRACE = []


def trace(event):
    TRACE.append((time.monotonic(), event))


# The proxy: half the round trip each way, the downstream paced at the link rate

class Link:
    def __init__(self, rtt, rate_bytes):
        self.delay = rtt / 2
        self.rate = rate_bytes

    async def pump(self, reader, writer, paced):
        queue = asyncio.Queue(maxsize=64)

        async def deliver():
            while True:
                item = await queue.get()
                if item is None:
                    break
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            writer.close()

        task = asyncio.create_task(deliver())
        free_at = 0.0
        try:
            while True:
                data = await reader.read(64 * 1024)
                if not data:
                    break
                now = time.monotonic()
                if paced and self.rate:
                    free_at = max(free_at, now) + len(data) / self.rate
                    due = free_at + self.delay
                else:
                    due = now + self.delay
                await queue.put((due, data))
        except ConnectionError:
            pass
        await queue.put(None)
        await task

    async def handle(self, client_reader, client_writer, origin):
        # The kernel completes the client's connect at once; on a real link the handshake costs a
        # round trip before the request can leave: the upstream starts a round trip late.
        opened = time.monotonic()
        trace(f"proxy: connection {id(client_writer) % 10000} to {origin[0]} accepted")
        try:
            origin_reader, origin_writer = await asyncio.open_connection(*origin)
        except OSError:
            client_writer.close()
            return
        wait = opened + 2 * self.delay - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        await asyncio.gather(self.pump(client_reader, origin_writer, False),
                             self.pump(origin_reader, client_writer, True), return_exceptions=True)


def start_proxy(origin, rtt, rate_bytes):
    """A proxy in front of @origin (a server), listening on the same loopback address: its port."""
    loop = asyncio.new_event_loop()
    link = Link(rtt, rate_bytes)
    ready = threading.Event()
    port = []
    host, origin_port = origin.server_address[:2]

    async def main():
        server = await asyncio.start_server(lambda r, w: link.handle(r, w, (host, origin_port)), host, 0)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await server.serve_forever()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait()
    return port[0]


# Measurements, each in a fresh process

def measure(build, code, env_extra=None):
    env = dict(os.environ)
    libdir = os.path.join(build, "safetensors-glib")
    env.update({"GI_TYPELIB_PATH": libdir, "LD_LIBRARY_PATH": libdir, "no_proxy": "127.0.0.1,127.0.0.2",
                "HF_TOKEN_PATH": "/nonexistent/st-bench/token"})
    for name in ("http_proxy", "HTTP_PROXY", "HF_TOKEN", "HF_HUB_OFFLINE"):
        env.pop(name, None)
    env.update(env_extra or {})
    prelude = ("import gi, time, json, sys\ngi.require_version('ST', '1.0')\nfrom gi.repository import ST\n")
    out = subprocess.run([PYTHON, "-c", prelude + code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def verdict(ok):
    """A row's verdict: None for a row shown beside a target without one of its own."""
    return "—" if ok is None else ("PASS" if ok else "**MISS**")


def median_of(values):
    return statistics.median(values) if values else None


def run_cases(args, build, scratch, log=None):
    """Runs every case; returns the rows of the report, each a dict: case, ours, baseline, ratio (text),
    target (text), ok (True, False or None when there is no target), and the raw figures."""
    rtt = args.rtt / 1000
    rate_bytes = args.rate * 1e6 / 8
    make_workloads(scratch, args.download_mb, args.rss_gb)
    origin = Origin(scratch)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    origin_port = origin.server_address[1]
    proxy_port = start_proxy(origin, rtt, rate_bytes)
    proxied = f"http://127.0.0.1:{proxy_port}"
    # the Hub-like pair: the Hub answers the index itself and redirects every shard to its CDN, on
    # another loopback address behind a proxy of its own with the same delay and rate
    ckpt_dir = os.path.join(scratch, "org", "ckpt", "resolve", "main")
    cdn = Origin(scratch, "cdn", "127.0.0.2")
    hub = Origin(scratch, "hub")
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    cdn_proxied = f"http://127.0.0.2:{start_proxy(cdn, rtt, rate_bytes)}"
    hub_proxied = f"http://127.0.0.1:{start_proxy(hub, rtt, rate_bytes)}"
    for name in os.listdir(ckpt_dir):
        if name.endswith(".safetensors"):
            path = os.path.join(ckpt_dir, name)
            cdn.blobs["/blobs/" + cdn.etag(path)] = path
    hub.redirect = lambda path: (f"{cdn_proxied}/blobs/{cdn.etag(path)}?X-Amz-Signature=bench"
                                 if path.endswith(".safetensors") else None)
    rows = []

    def wanted(case):
        return not args.only or case in args.only

    def say(text):
        if log:
            log(text)

    # open-8-shards, on the plain origin and on the Hub-like pair: one shard's header and the whole
    # checkpoint's alternate, their order and the two servers' swapped every repetition, so that drift
    # hits all alike
    if wanted("open-8-shards"):
        shard = "model-00001-of-00008.safetensors"
        variants = {
            "plain": {"one": f"ST.File.new_from_uri('{proxied}/org/ckpt/resolve/main/{shard}', None)",
                      "eight": f"ST.Index.new_from_uri('{proxied}/org/ckpt/resolve/main/model.safetensors.index.json', "
                               "None).get_n_items()",
                      "env": None, "servers": (origin,)},
            "hub": {"one": f"ST.File.new_from_uri('hf://org/ckpt/{shard}', None)",
                    "eight": "ST.Index.new_from_uri('hf://org/ckpt/model.safetensors.index.json', None).get_n_items()",
                    "env": {"HF_ENDPOINT": hub_proxied}, "servers": (hub, cdn)},
        }
        times = {(v, w): [] for v in variants for w in ("one", "eight")}
        counts = {}
        for rep in range(args.reps):
            order = [(v, w) for v in variants for w in ("one", "eight")]
            for v, w in (order if rep % 2 == 0 else order[::-1]):
                variant = variants[v]
                for server in variant["servers"]:
                    server.counts.clear()
                TRACE.clear()
                times[v, w].append(measure(build, f"t = time.monotonic(); {variant[w]}\n"
                                                  "print(json.dumps(time.monotonic() - t))", variant["env"]))
                if w == "eight":
                    counts[v] = [dict(server.counts) for server in variant["servers"]]
                    if args.trace and TRACE:
                        t0 = TRACE[0][0]
                        say(f"{v}:\n" + "\n".join(f"  {(t - t0) * 1000:7.1f} ms  {event}" for t, event in sorted(TRACE)))
            say(f"open-8-shards {rep + 1}/{args.reps}: " + ", ".join(
                f"{v}: one shard {times[v, 'one'][-1] * 1000:.0f} ms, eight {times[v, 'eight'][-1] * 1000:.0f} ms"
                for v in variants))

        # requests per file, as the servers counted them in the last repetition
        (plain_counts,) = counts["plain"]
        plain_per_file = sorted(set(plain_counts.values()))
        plain_ok = plain_per_file == [1]
        plain_text = f"{plain_per_file} request(s) a file"
        hub_counts, cdn_counts = counts["hub"]
        index_requests = sum(n for p, n in hub_counts.items() if p.endswith(".index.json"))
        redirects = sorted(set(n for p, n in hub_counts.items() if p.endswith(".safetensors")))
        ranges = sorted(set(cdn_counts.values()))
        n_shards = sum(1 for p in hub_counts if p.endswith(".safetensors"))
        # the protocol's need: the index one request; each shard its redirect, then one range (its header
        # is shorter than the first read)
        hub_ok = index_requests == 1 and redirects == [1] and ranges == [1] and n_shards == len(cdn_counts) == 8
        hub_text = (f"index {index_requests}, each shard {'/'.join(map(str, redirects))} redirect(s) + "
                    f"{'/'.join(map(str, ranges))} range(s)")

        t1, t8 = median_of(times["hub", "one"]), median_of(times["hub", "eight"])
        rows.append({"case": "open-8-shards (Hub: redirects to a CDN)", "ours": f"{t8 * 1000:.0f} ms",
                     "baseline": f"one shard's header: {t1 * 1000:.0f} ms",
                     "ratio": f"{t8 / t1:.2f}; requests: {hub_text}",
                     "target": "header-only open of an 8-shard checkpoint ≤ 1.5x one shard's header alone, "
                               "requests per file what the protocol needs (the redirect, then at most two ranges)",
                     "measured": f"{t8 / t1:.2f}x; {hub_text}", "ok": t8 / t1 <= 1.5 and hub_ok,
                     "seconds": t8, "baseline_seconds": t1})
        t1, t8 = median_of(times["plain", "one"]), median_of(times["plain", "eight"])
        rows.append({"case": "open-8-shards (plain origin, no redirect)", "ours": f"{t8 * 1000:.0f} ms",
                     "baseline": f"one shard's header: {t1 * 1000:.0f} ms",
                     "ratio": f"{t8 / t1:.2f}; requests: {plain_text}",
                     "target": None, "floor": "3 round trips against 2: 1.5 at zero overhead (bench/README.md)",
                     "measured": f"{t8 / t1:.2f}x; {plain_text}", "ok": None if plain_ok else False,
                     "seconds": t8, "baseline_seconds": t1})

    # fetch-tensor: 4 MiB on a warm connection
    if wanted("fetch-tensor"):
        fetch = []
        fetch_bytes = (4 if args.download_mb >= 4 else args.download_mb) * MIB
        for rep in range(args.reps):
            fetch.append(measure(build, f"""
f = ST.File.new_from_uri('{proxied}/org/big/resolve/main/model.safetensors', None)
t = time.monotonic(); r = f.fetch_slice('large', 0, {fetch_bytes}, None)
print(json.dumps(time.monotonic() - t))"""))
            say(f"fetch-tensor {rep + 1}/{args.reps}: {fetch[-1] * 1000:.0f} ms")
        tf = median_of(fetch)
        transfer = fetch_bytes / rate_bytes
        round_trips = (tf - transfer) / rtt
        rows.append({"case": f"fetch-tensor ({fetch_bytes / MIB:.0f} MiB)", "ours": f"{tf * 1000:.0f} ms",
                     "baseline": f"1 RTT + bytes: {(rtt + transfer) * 1000:.0f} ms",
                     "ratio": f"{tf / (rtt + transfer):.2f}; {round_trips:.2f} round trips",
                     "target": "one tensor fetched by range: one round trip plus its bytes at the link rate "
                               "(round trips = (time - bytes / rate) / RTT < 1.5)",
                     "measured": f"{round_trips:.2f} round trips", "ok": round_trips < 1.5,
                     "seconds": tf, "baseline_seconds": rtt + transfer})

    # download vs curl vs the link
    if wanted("download"):
        ours, curl = [], []
        url = f"{proxied}/org/big/resolve/main/model.safetensors"
        size = os.path.getsize(os.path.join(scratch, "org/big/resolve/main/model.safetensors"))
        for rep in range(args.reps):
            cache = os.path.join(scratch, f"cache-{rep}")
            for which in (("ours", "curl") if rep % 2 == 0 else ("curl", "ours")):
                if which == "ours":
                    ours.append(measure(build, """
t = time.monotonic(); p = ST.hub_download('hf://org/big/model.safetensors', None)
print(json.dumps(time.monotonic() - t))""", {"HF_ENDPOINT": proxied, "HF_HUB_CACHE": cache}))
                    shutil.rmtree(cache)
                else:
                    t = time.monotonic()
                    subprocess.run(["curl", "-sS", "--noproxy", "*", "-o", os.path.join(scratch, "curl.out"), url],
                                   check=True)
                    curl.append(time.monotonic() - t)
            say(f"download {rep + 1}/{args.reps}: ours {ours[-1]:.2f} s, curl {curl[-1]:.2f} s")
        td, tc = median_of(ours), median_of(curl)
        link = size / rate_bytes
        rows.append({"case": f"download ({size / MIB:.0f} MiB)", "ours": f"{size * 8 / td / 1e6:.0f} Mbit/s",
                     "baseline": f"curl: {size * 8 / tc / 1e6:.0f} Mbit/s; link {args.rate:.0f} Mbit/s",
                     "ratio": f"{link / td:.2f} of the link, {tc / td:.2f} of curl's rate",
                     "target": f"a download over a {args.rate:g} Mbit/s, {args.rtt:g} ms link at ≥ 0.9 of the link rate "
                               "(curl beside it)",
                     "measured": f"{link / td:.2f} of the link ({tc / td:.2f} of curl's)", "ok": link / td >= 0.9,
                     "seconds": td, "baseline_seconds": tc})

    # download-rss, straight to the origin
    if args.rss_gb and wanted("download-rss"):
        cache = os.path.join(scratch, "cache-rss")
        env = dict(os.environ, HF_ENDPOINT=f"http://127.0.0.1:{origin_port}", HF_HUB_CACHE=cache,
                   no_proxy="127.0.0.1", HF_TOKEN_PATH="/nonexistent/st-bench/token",
                   LD_LIBRARY_PATH=os.path.join(build, "safetensors-glib"))
        env.pop("http_proxy", None)
        t = time.monotonic()
        process = subprocess.Popen([os.path.join(build, "tools", "st-tool"), "download",
                                    "hf://org/huge/model.safetensors"], env=env, stdout=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.monotonic() - t
        if status != 0:
            raise SystemExit("st-tool download failed")
        rss_mib = usage.ru_maxrss / 1024
        say(f"download-rss: {rss_mib:.1f} MiB in {elapsed:.1f} s")
        rows.append({"case": f"download-rss ({args.rss_gb:g} GB)", "ours": f"{rss_mib:.1f} MiB peak RSS",
                     "baseline": "target < 64 MiB", "ratio": f"{elapsed:.1f} s",
                     "target": f"peak RSS of st-tool download < 64 MiB ({args.rss_gb:g} GB file)",
                     "measured": f"{rss_mib:.1f} MiB", "ok": rss_mib < 64, "rss_mib": rss_mib,
                     "seconds": elapsed})
        shutil.rmtree(cache)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(SRC, "_build"))
    parser.add_argument("--out", default=os.path.join(SRC, "bench", "remote-results.md"))
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    parser.add_argument("--quick", action="store_true",
                        help="one repetition, a 4 MiB download, a 64 MiB RSS case: checks every case runs")
    parser.add_argument("--reps", type=int)
    parser.add_argument("--rtt", type=float, default=50.0, help="round-trip time in ms")
    parser.add_argument("--rate", type=float, default=200.0, help="link rate in Mbit/s")
    parser.add_argument("--download-mb", type=int)
    parser.add_argument("--rss-gb", type=float)
    parser.add_argument("--scratch")
    parser.add_argument("--only", action="append", choices=["open-8-shards", "fetch-tensor", "download", "download-rss"],
                        help="run this case only (may be given more than once)")
    parser.add_argument("--trace", action="store_true",
                        help="print the timeline of every 8-shard open: connections accepted, requests received")
    args = parser.parse_args()
    if args.reps is None:
        args.reps = 1 if args.quick else 5
    if args.download_mb is None:
        args.download_mb = 4 if args.quick else 100
    if args.rss_gb is None:
        args.rss_gb = 0.0625 if args.quick else 2.0

    scratch = args.scratch or tempfile.mkdtemp(prefix="st-bench-remote-")
    try:
        rows = run_cases(args, args.build, scratch, log=lambda text: print(text, file=sys.stderr, flush=True))
        lines = [f"# Remote benchmarks ({args.reps} repetitions, medians; RTT {args.rtt:g} ms, "
                 f"{args.rate:g} Mbit/s, through bench/remote.py's proxy on 127.0.0.1)", "",
                 "| case | ours | baseline | ratio | target | verdict |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['case']} | {r['ours']} | {r['baseline']} | {r['ratio']} | "
                  f"{r['target'] or 'none; floor: ' + r['floor']} | {verdict(r['ok'])} |" for r in rows]
        text = "\n".join(lines) + "\n"
        if args.out != "-":
            with open(args.out, "w") as f:
                f.write(text)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"reps": args.reps, "rtt_ms": args.rtt, "rate_mbit": args.rate, "quick": args.quick,
                           "rows": rows}, f, indent=1)
        print(text)
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
