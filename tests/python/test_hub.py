# test_hub.py: safetensors_glib.hub against a Hub the test starts on 127.0.0.1
#
# SPDX-FileCopyrightText: 2026 The safetensors-glib authors
# SPDX-License-Identifier: Apache-2.0
#
# The file is written here by hand (header as JSON text, data as struct-packed values), so the
# expected values do not come from the library. The server counts requests and the bytes of the
# ranges it is asked for, so each test pins what a call fetched.

import hashlib
import http.server
import json
import os
import struct
import threading

import numpy as np
import pytest

from safetensors_glib import SafetensorError, hub

COMMIT = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
ROWS, COLS = 1000, 64
EMBED = struct.pack(f"<{ROWS * COLS}f", *[float(i) for i in range(ROWS * COLS)])
BIAS = struct.pack("<4h", 1, -2, 3, -4)


def make_file(tensors, metadata=None):
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors)


MODEL = make_file([("bias", "I16", [4], BIAS), ("embed", "F32", [ROWS, COLS], EMBED)], {"format": "pt"})
DATA_START = len(MODEL) - len(BIAS) - len(EMBED)


class Hub(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files = {"/org/name/resolve/main/model.safetensors": MODEL,
                      "/datasets/org/data/resolve/main/train/part.safetensors": MODEL,
                      f"/datasets/org/data/resolve/{COMMIT}/train/part.safetensors": MODEL,
                      "/spaces/org/demo/resolve/v1%2Fbeta/model.safetensors": MODEL}
        self.ranges = []
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, body):
        data = self.server.files.get(self.path)
        if data is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "RepoNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = 0, len(data) - 1
        if self.headers.get("Range"):
            first, last = self.headers["Range"][len("bytes="):].split("-")
            start, end = int(first), min(int(last), len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        with self.server.lock:
            self.server.ranges.append((self.command, start, end))
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
        self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if body:
            self.wfile.write(data[start:end + 1])

    def do_HEAD(self):
        self.answer(False)

    def do_GET(self):
        self.answer(True)


@pytest.fixture
def server(tmp_path, monkeypatch):
    hub_server = Hub()
    thread = threading.Thread(target=hub_server.serve_forever, daemon=True)
    thread.start()
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
                 "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{hub_server.server_address[1]}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    try:
        hub.open_file("hf://org/name/model.safetensors")
    except OSError as e:
        if "no HTTP support" in str(e):
            pytest.skip("this build has no HTTP support (meson option http)")
        raise
    hub_server.ranges.clear()
    yield hub_server
    hub_server.shutdown()
    hub_server.server_close()


def test_open_reads_the_header_only(server):
    with hub.safe_open("hf://org/name/model.safetensors", framework="np") as f:
        assert f.keys() == ["bias", "embed"]
        assert f.metadata() == {"format": "pt"}
        assert f.get_slice("embed").get_shape() == [ROWS, COLS]
        assert f.get_slice("embed").get_dtype() == "F32"
    assert server.ranges == [("GET", 0, 99999)]


def test_get_tensor_fetches_its_bytes(server):
    with hub.safe_open("hf://org/name/model.safetensors", framework="np") as f:
        bias = f.get_tensor("bias")
        assert bias.dtype == np.int16
        assert bias.tolist() == [1, -2, 3, -4]
        assert server.ranges[1:] == [("GET", DATA_START, DATA_START + len(BIAS) - 1)]
        f.get_tensor("bias")
        assert len(server.ranges) == 2


def test_get_slice_fetches_the_rows_only(server):
    with hub.safe_open("hf://org/name/model.safetensors", framework="np") as f:
        rows = f.get_slice("embed")[10:12, 1:3]
        assert rows.tolist() == [[10 * COLS + 1.0, 10 * COLS + 2.0], [11 * COLS + 1.0, 11 * COLS + 2.0]]
        begin = DATA_START + len(BIAS) + 10 * COLS * 4
        assert server.ranges[1:] == [("GET", begin, begin + 2 * COLS * 4 - 1)]
        last = f.get_slice("embed")[-1:]
        assert last.shape == (1, COLS)
        assert last[0, 0] == (ROWS - 1) * COLS


def test_load_torch(server):
    torch = pytest.importorskip("torch")
    state = hub.load("hf://org/name/model.safetensors", framework="pt")
    assert state["bias"].dtype == torch.int16
    assert state["bias"].tolist() == [1, -2, 3, -4]
    assert state["embed"].shape == (ROWS, COLS)
    assert state["embed"][999, 63].item() == ROWS * COLS - 1
    # the header, then both tensors in one request (they lie side by side)
    assert len(server.ranges) == 2


def test_download_then_offline(server, monkeypatch, tmp_path):
    path = hub.download("hf://org/name/model.safetensors")
    assert path == str(tmp_path / "cache" / "models--org--name" / "snapshots" / COMMIT / "model.safetensors")
    assert os.readlink(path) == "../../blobs/" + hashlib.sha256(MODEL).hexdigest()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(server.ranges)
    with hub.safe_open("hf://org/name/model.safetensors", framework="np") as f:
        assert f.get_tensor("bias").tolist() == [1, -2, 3, -4]
    assert len(server.ranges) == before


def test_errors(server):
    with pytest.raises(OSError) as info:
        hub.safe_open("hf://org/missing/model.safetensors", framework="np")
    assert "repository does not exist" in str(info.value)
    with pytest.raises(SafetensorError):
        with hub.safe_open("hf://org/name/model.safetensors", framework="np") as f:
            f.get_tensor("nope")
    with pytest.raises(OSError):
        hub.download("https://example.invalid/model.safetensors")


def test_dataset_and_space(server, tmp_path):
    # the layout huggingface_hub's file_download.py gives them (repo_folder_name(): "datasets--ORG--NAME")
    cache = tmp_path / "cache"
    blob = "blobs/" + hashlib.sha256(MODEL).hexdigest()
    path = hub.hf_hub_download("org/data", "part.safetensors", subfolder="train", repo_type="dataset")
    assert path == str(cache / "datasets--org--data" / "snapshots" / COMMIT / "train" / "part.safetensors")
    assert os.readlink(path) == "../../../" + blob
    assert (cache / "datasets--org--data" / "refs" / "main").read_text() == COMMIT
    path = hub.download("hf://spaces/org/demo@v1%2Fbeta/model.safetensors")
    assert path == str(cache / "spaces--org--demo" / "snapshots" / COMMIT / "model.safetensors")
    assert (cache / "spaces--org--demo" / "refs" / "v1" / "beta").read_text() == COMMIT
    assert not (cache / "models--org--data").exists()
    with hub.safe_open("hf://datasets/org/data/train/part.safetensors", framework="np") as f:
        assert f.get_tensor("bias").tolist() == [1, -2, 3, -4]


def test_address():
    assert hub.address("org/name", "model.safetensors") == "hf://org/name/model.safetensors"
    assert (hub.address("org/data", "a.safetensors", subfolder="x/y", repo_type="dataset", revision="refs/pr/1")
            == "hf://datasets/org/data@refs%2Fpr%2F1/x/y/a.safetensors")
    assert hub.address("org/demo", "m.safetensors", repo_type="space") == "hf://spaces/org/demo/m.safetensors"
    with pytest.raises(ValueError):
        hub.address("org/name", "model.safetensors", repo_type="models")
