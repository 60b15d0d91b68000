"""Hostile and unlucky input: cut-off uploads, crashes, restarts, bad addresses."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_registry_helpers import RegistryThread, http_call, registry, sha256

from simulator.model.errors import InvalidParameter
from simulator.registry import errors
from simulator.registry.server import parse_addr
from simulator.registry.storage import RegistryStorage

__all__ = ["registry"]

GIB = 1 << 30


def _send_and_vanish(reg: RegistryThread, head: str, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", reg.port), timeout=10) as sock:
        sock.sendall(head.encode() + payload)
    # Closing with bytes still "owed" is what a crashed client looks like.


def _wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_declared_1gb_monolithic_upload_cut_off_leaves_nothing(registry: RegistryThread) -> None:
    digest = sha256(b"never completes")
    head = (
        f"POST /v2/big/blobs/uploads/?digest={digest} HTTP/1.1\r\n"
        f"Host: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {GIB}\r\n\r\n"
    )
    _send_and_vanish(registry, head, os.urandom(4 << 20))
    uploads = registry.root / "uploads"
    _wait_for(lambda: list(uploads.iterdir()) == [])
    assert http_call(registry, "HEAD", f"/v2/big/blobs/{digest}").status == 404
    assert [p for p in (registry.root / "blobs").rglob("*") if p.is_file()] == []
    assert http_call(registry, "GET", "/v2/").status == 200


def test_cut_off_chunk_is_rolled_back_and_session_resumes(registry: RegistryThread) -> None:
    location = http_call(registry, "POST", "/v2/r/blobs/uploads/").headers["Location"]
    assert http_call(registry, "PATCH", location, b"abc", {"Content-Range": "0-2"}).status == 202
    head = f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Range: 3-{GIB + 2}\r\nContent-Length: {GIB}\r\n\r\n"
    _send_and_vanish(registry, head, b"J" * (2 << 20))
    uuid = location.rsplit("/", 1)[1]
    data = registry.root / "uploads" / uuid / "data"
    _wait_for(lambda: data.stat().st_size == 3)
    time.sleep(0.1)
    assert http_call(registry, "GET", location).headers["Range"] == "0-2"
    # The running hash was rolled back too: the right digest still commits.
    assert http_call(registry, "PATCH", location, b"def", {"Content-Range": "3-5"}).status == 202
    done = http_call(registry, "PUT", f"{location}?digest={sha256(b'abcdef')}")
    assert done.status == 201


def test_short_body_for_declared_range_is_size_invalid(registry: RegistryThread) -> None:
    location = http_call(registry, "POST", "/v2/r/blobs/uploads/").headers["Location"]
    # Content-Range promises 10 bytes, Content-Length says 4: refused before reading.
    reply = http_call(registry, "PATCH", location, b"abcd", {"Content-Range": "0-9"})
    assert reply.error_codes() == ["SIZE_INVALID"]
    assert http_call(registry, "GET", location).headers["Range"] == "0-0"


def test_upload_survives_a_restart_and_is_rehashed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    reg = RegistryThread(root).start()
    try:
        location = http_call(reg, "POST", "/v2/r/blobs/uploads/").headers["Location"]
        http_call(reg, "PATCH", location, b"before ", {"Content-Range": "0-6"})
    finally:
        reg.stop()
    reg = RegistryThread(root).start()
    try:
        assert http_call(reg, "GET", location).headers["Range"] == "0-6"
        http_call(reg, "PATCH", location, b"after", {"Content-Range": "7-11"})
        bad = http_call(reg, "PUT", f"{location}?digest={sha256(b'something else')}")
        assert bad.error_codes() == ["DIGEST_INVALID"]
        location = http_call(reg, "POST", "/v2/r/blobs/uploads/").headers["Location"]
        http_call(reg, "PATCH", location, b"before after")
        ok = http_call(reg, "PUT", f"{location}?digest={sha256(b'before after')}")
        assert ok.status == 201
    finally:
        reg.stop()


def test_sessions_resumed_after_restart_rehash_from_disk(tmp_path: Path) -> None:
    storage = RegistryStorage(tmp_path)
    upload = storage.start_upload("r")
    with upload.writer() as w:
        w.write(b"persisted")
    # A new process: no in-memory hash, so commit must read the file.
    again = RegistryStorage(tmp_path).get_upload("r", upload.uuid)
    assert again.sha256 is None
    assert again.size == 9
    digest = "sha512:" + hashlib.sha512(b"persisted").hexdigest()
    assert RegistryStorage(tmp_path).stat_blob("r", digest) is None
    storage2 = RegistryStorage(tmp_path)
    resumed = storage2.get_upload("r", upload.uuid)
    assert storage2.commit_upload(resumed, digest) == 9
    assert storage2.stat_blob("r", digest) == 9


def test_crash_leftovers_are_invisible_and_cleaned(tmp_path: Path) -> None:
    storage = RegistryStorage(tmp_path)
    digest = storage.put_blob("r", b"linked")
    # A blob whose link was never written (crash between rename and link).
    orphan = sha256(b"orphan")
    path = storage.blob_path(orphan)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"orphan")
    # A half-written temp file (crash before rename).
    (tmp_path / "tmp" / "deadbeef").write_bytes(b"partial")
    restarted = RegistryStorage(tmp_path)
    assert restarted.stat_blob("r", digest) == 6
    assert restarted.stat_blob("r", orphan) is None
    assert list((tmp_path / "tmp").iterdir()) == []


def test_writer_rolls_back_on_exception(tmp_path: Path) -> None:
    storage = RegistryStorage(tmp_path)
    upload = storage.start_upload("r")
    with upload.writer() as w:
        w.write(b"keep")
    with pytest.raises(RuntimeError), upload.writer() as w:
        w.write(b"drop me")
        raise RuntimeError("connection lost")
    assert upload.size == 4
    assert upload.data_path.read_bytes() == b"keep"
    assert upload.digest("sha256") == sha256(b"keep")


def test_stale_uploads_are_purged(tmp_path: Path) -> None:
    storage = RegistryStorage(tmp_path)
    old = storage.start_upload("r")
    fresh = storage.start_upload("r")
    past = time.time() - 30 * 24 * 3600
    os.utime(old.data_path, (past, past))
    assert storage.purge_uploads() == 1
    assert not old.directory.exists()
    assert fresh.directory.exists()
    with pytest.raises(errors.RegistryError) as info:
        storage.get_upload("r", old.uuid)
    assert info.value.code is errors.BLOB_UPLOAD_UNKNOWN


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("127.0.0.1:5000", ("127.0.0.1", 5000)),
        ("localhost:0", ("localhost", 0)),
        ("[::1]:5000", ("::1", 5000)),
        (":5001", ("127.0.0.1", 5001)),
    ],
)
def test_parse_addr_accepts_loopback(addr: str, expected: tuple[str, int]) -> None:
    assert parse_addr(addr) == expected


@pytest.mark.parametrize("addr", ["0.0.0.0:5000", "192.0.2.1:5000", "example.com:80"])
def test_parse_addr_refuses_remote(addr: str) -> None:
    with pytest.raises(InvalidParameter, match="not a loopback address"):
        parse_addr(addr)
    assert parse_addr(addr, allow_remote=True)[1] in (5000, 80)


@pytest.mark.parametrize("addr", ["5000", "host:port", "127.0.0.1:99999"])
def test_parse_addr_refuses_garbage(addr: str) -> None:
    with pytest.raises(InvalidParameter, match="invalid registry address"):
        parse_addr(addr)


def test_run_registry_prints_start_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path;"
        "from simulator.registry.server import run_registry;"
        "sys.exit(run_registry('127.0.0.1:0', Path(sys.argv[1])))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "root")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("csim registry listening on http://127.0.0.1:")
        port = int(line.split("http://127.0.0.1:", 1)[1].split(" ", 1)[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "csim registry stopped" in out
    assert "Traceback" not in err
