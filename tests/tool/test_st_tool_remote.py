# test_st_tool_remote.py: st-tool on addresses (http://, hf://) and st-tool download, against a Hub that
# the test starts on 127.0.0.1
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# The server answers as the Hub does (X-Repo-Commit, X-Linked-Etag, X-Linked-Size, Range) and counts the
# requests per path, so each test pins what a command reads: a header, one tensor, or the whole file.

import hashlib
import http.server
import json
import os
import pathlib
import struct
import subprocess
import threading

import pytest

TOOL = os.environ.get("ST_TOOL") or str(pathlib.Path(__file__).resolve().parents[2] / "_build" / "tools" / "st-tool")
COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"


def make_file(tensors, metadata=None):
    """A safetensors file written by hand: tensors is a list of (name, dtype, shape, bytes), in that order."""
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors)


BIG = bytes((7 * i + 3) % 256 for i in range(2_000_000))
MODEL = make_file([("small", "U8", [4], bytes([1, 2, 3, 4])), ("big", "U8", [2000, 1000], BIG)], {"format": "pt"})
SHARDS = {f"model-{i:05d}-of-00002.safetensors": make_file([(f"w{i}", "F32", [2], struct.pack("<2f", i, -i))])
          for i in (1, 2)}
INDEX = json.dumps({"metadata": {"total_size": 16},
                    "weight_map": {f"w{i}": f"model-{i:05d}-of-00002.safetensors" for i in (1, 2)}}).encode()


LARGE = bytes((i * 13 + 5) % 256 for i in range(4_000_000))
LARGE_FILE = make_file([("t", "U8", [len(LARGE)], LARGE)])


class Hub(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.half_sent = threading.Event()
        self.second_head = threading.Event()
        self.heads = 0
        self.release = threading.Event()
        self.hold_path = None
        self.files = {"/org/name/resolve/main/model.safetensors": MODEL,
                      "/org/name/resolve/main/model.safetensors.index.json": INDEX}
        for name, data in SHARDS.items():
            self.files[f"/org/name/resolve/main/{name}"] = data
            self.files[f"/org/name/resolve/{COMMIT}/{name}"] = data
        self.files["/org/large/resolve/main/model.safetensors"] = LARGE_FILE
        self.files["/datasets/org/data/resolve/main/model.safetensors"] = MODEL
        self.files["/spaces/org/demo/resolve/main/model.safetensors"] = MODEL
        self.requests = []
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, body):
        with self.server.lock:
            self.server.requests.append((self.command, self.path, self.headers.get("Range")))
        data = self.server.files.get(self.path)
        if data is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = hashlib.sha256(data).hexdigest() if len(data) > 1000 else hashlib.sha1(data).hexdigest()
        start, end = 0, len(data) - 1
        range_header = self.headers.get("Range")
        if range_header:
            first, last = range_header[len("bytes="):].split("-")
            start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{etag}"')
        self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if body and self.path == self.server.hold_path and not self.server.half_sent.is_set():
            # half the answer, then nothing until the test releases it (having killed the client, or
            # started a second one), then the rest
            half = (end - start + 1) // 2
            self.wfile.write(data[start:start + half])
            self.wfile.flush()
            self.server.half_sent.set()
            self.server.release.wait(60)
            try:
                self.wfile.write(data[start + half:end + 1])
            except OSError:
                self.close_connection = True
            return
        if body:
            self.wfile.write(data[start:end + 1])

    def do_HEAD(self):
        self.answer(False)
        if self.path == self.server.hold_path:
            with self.server.lock:
                self.server.heads += 1
                if self.server.heads == 2:
                    self.server.second_head.set()

    def do_GET(self):
        self.answer(True)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    server = Hub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "HF_TOKEN",
                 "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    server.url = url
    yield server
    server.shutdown()
    server.server_close()


def run(*args, check=0):
    # Bounded, so that a command that hangs fails its own test, naming itself, before meson's timeout
    # ends the whole file without a word (seen twice under load, never reproduced).
    result = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert result.returncode == check, f"st-tool {args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def test_info_reads_the_header_only(hub):
    info = json.loads(run("info", "--json", hub.url + "/org/name/resolve/main/model.safetensors").stdout)
    assert info["n_tensors"] == 2
    assert info["n_parameters"] == 2_000_004
    assert info["file_size"] == len(MODEL)
    assert info["metadata"] == {"format": "pt"}
    assert hub.requests == [("GET", "/org/name/resolve/main/model.safetensors", "bytes=0-99999")]


def test_list_an_hf_address(hub):
    listing = json.loads(run("list", "--json", "hf://org/name/model.safetensors").stdout)
    assert [(t["name"], t["dtype"], t["shape"]) for t in listing] == [("small", "U8", [4]),
                                                                      ("big", "U8", [2000, 1000])]
    assert len(hub.requests) == 1


def test_dump_fetches_one_tensor(hub):
    values = json.loads(run("dump", "--json", "hf://org/name/model.safetensors", "small").stdout)
    assert values["values"] == [1, 2, 3, 4]
    # the header, then the 4 bytes of "small": never the 2 MB of "big"
    assert len(hub.requests) == 2
    size = len(MODEL) - len(BIG) - 4
    assert hub.requests[1][2] == f"bytes={size}-{size + 3}"


def test_validate_and_info_of_a_remote_checkpoint(hub):
    address = "hf://org/name/model.safetensors.index.json"
    run("validate", address)
    info = json.loads(run("info", "--json", address).stdout)
    assert info["n_tensors"] == 2
    assert [s["name"] for s in info["shards"]] == list(SHARDS)


def test_diff_remote_and_local(hub, tmp_path):
    local = tmp_path / "model.safetensors"
    local.write_bytes(MODEL)
    run("diff", "hf://org/name/model.safetensors", local)


def test_missing_file_is_named(hub):
    result = run("info", "hf://org/name/nope.safetensors", check=1)
    assert "does not exist" in result.stderr


def test_download(hub, tmp_path):
    path = run("download", "hf://org/name/model.safetensors.index.json").stdout.strip()
    cache = tmp_path / "cache" / "models--org--name"
    assert path == str(cache / "snapshots" / COMMIT / "model.safetensors.index.json")
    assert (cache / "refs" / "main").read_text() == COMMIT
    for name, data in SHARDS.items():
        link = cache / "snapshots" / COMMIT / name
        assert os.readlink(link) == "../../blobs/" + hashlib.sha1(data).hexdigest()
        assert link.read_bytes() == data
    # from the cache, offline: no request
    before = len(hub.requests)
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        info = json.loads(run("info", "--json", "hf://org/name/model.safetensors.index.json").stdout)
    finally:
        del os.environ["HF_HUB_OFFLINE"]
    assert info["n_tensors"] == 2
    assert len(hub.requests) == before


def test_download_dataset_and_space(hub, tmp_path):
    """hf://datasets/ and hf://spaces/ addresses: the Hub's /datasets/ and /spaces/ URLs, and the cache
    folders huggingface_hub's repo_folder_name() gives them."""
    out = run("download", "hf://datasets/org/data/model.safetensors", "hf://spaces/org/demo/model.safetensors")
    cache = tmp_path / "cache"
    assert out.stdout.split() == [str(cache / "datasets--org--data" / "snapshots" / COMMIT / "model.safetensors"),
                                  str(cache / "spaces--org--demo" / "snapshots" / COMMIT / "model.safetensors")]
    assert ("HEAD", "/datasets/org/data/resolve/main/model.safetensors", None) in hub.requests
    assert ("HEAD", "/spaces/org/demo/resolve/main/model.safetensors", None) in hub.requests
    assert not (cache / "models--org--data").exists()
    info = json.loads(run("info", "--json", "hf://datasets/org/data/model.safetensors").stdout)
    assert info["n_tensors"] == json.loads(run("info", "--json", "hf://org/name/model.safetensors").stdout)["n_tensors"]


def test_download_killed_then_resumed(hub, tmp_path):
    """A download killed (SIGKILL) in the middle of the body leaves blobs/ETAG.incomplete and no blob;
    the next download asks for the rest only, and the blob is whole."""
    hub.hold_path = "/org/large/resolve/main/model.safetensors"
    process = subprocess.Popen([TOOL, "download", "hf://org/large/model.safetensors"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert hub.half_sent.wait(60), "the download never started"
        process.kill()
        process.wait()
    finally:
        hub.release.set()
    assert process.returncode == -9
    etag = hashlib.sha256(LARGE_FILE).hexdigest()
    blobs = tmp_path / "cache" / "models--org--large" / "blobs"
    assert not (blobs / etag).exists()
    partial = (blobs / (etag + ".incomplete")).stat().st_size
    assert partial <= len(LARGE_FILE) // 2

    before = len(hub.requests)
    path = run("download", "hf://org/large/model.safetensors").stdout.strip()
    assert pathlib.Path(path).read_bytes() == LARGE_FILE
    assert not (blobs / (etag + ".incomplete")).exists()
    gets = [r for r in hub.requests[before:] if r[0] == "GET"]
    assert gets == [("GET", "/org/large/resolve/main/model.safetensors", f"bytes={partial}-{len(LARGE_FILE) - 1}")]


def test_two_downloads_of_one_blob(hub, tmp_path):
    """Two processes download the same file at once: the second waits on the blob's lock (the one
    huggingface_hub takes) while the first fetches, then finds the blob: one GET in all."""
    hub.hold_path = "/org/large/resolve/main/model.safetensors"
    first = subprocess.Popen([TOOL, "download", "hf://org/large/model.safetensors"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert hub.half_sent.wait(60), "the first download never started"
        second = subprocess.Popen([TOOL, "download", "hf://org/large/model.safetensors"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # the second has asked for the metadata: it goes for the lock next, which the first holds
        assert hub.second_head.wait(60), "the second download never started"
    finally:
        hub.release.set()
    out_first, err_first = first.communicate(timeout=120)
    out_second, err_second = second.communicate(timeout=120)
    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    assert out_first == out_second
    assert pathlib.Path(out_first.strip()).read_bytes() == LARGE_FILE
    gets = [r for r in hub.requests if r[0] == "GET" and r[1] == hub.hold_path]
    assert len(gets) == 1
