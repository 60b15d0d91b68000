"""Hostile and malformed requests: each gets a 4xx/5xx JSON error, and the daemon keeps serving."""

from __future__ import annotations

import json
import random
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.api.listeners import Host
from tests.api_harness import connect, http, read_all

N_REQUESTS = 2000


@pytest.fixture(scope="module")
def sock() -> Iterator[str]:
    from simulator.api.daemon_cmd import serve_in_thread
    from simulator.des.world import World

    base = Path(tempfile.mkdtemp(prefix="csim-fuzz-"))
    path = str(base / "f.sock")
    world = World(seed=7)
    world.api("POST", "/images/create", {"fromImage": "busybox", "tag": "latest"})
    try:
        with serve_in_thread(world, [Host("unix", path=path)], speed=50.0):
            yield path
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _junk(rng: random.Random, n: int) -> bytes:
    return bytes(rng.randrange(256) for _ in range(n))


def _segment(rng: random.Random) -> str:
    choices = ["..", "%00", "%2e%2e", "%ff%fe", "\u00e9", "a" * rng.randrange(1, 3000), "%", "x%zz", "nosuch"]
    return rng.choice(choices) + str(rng.randrange(1000))


ENDPOINTS = [
    ("POST", "/containers/create"),
    ("POST", "/networks/create"),
    ("POST", "/volumes/create"),
    ("POST", "/containers/{x}/start"),
    ("POST", "/containers/{x}/exec"),
    ("POST", "/exec/{x}/start"),
    ("DELETE", "/containers/{x}"),
    ("GET", "/containers/{x}/logs"),
    ("POST", "/networks/{x}/connect"),
    ("POST", "/images/{x}/tag"),
    ("POST", "/containers/{x}/wait"),
]
BAD_BODIES = [b"{", b"[]", b"null x", b'{"Image": 5}', b'{"Name": ["x"]}', b"\xff\xfe", b'"str"', b"{}" * 1000]


def hostile_request(rng: random.Random) -> tuple[bytes, bool]:
    """A request that must fail; the flag says whether it is complete (a truncated one gets no answer)."""
    kind = rng.randrange(8)
    version = rng.choice(["/v1.50", "/v1.24", "", "/v1.99", "/v0.1", "/v1.50.1"])
    if kind == 0:  # unknown paths
        path = version + "/" + "/".join(_segment(rng) for _ in range(rng.randrange(1, 4)))
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
        return f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), True
    if kind == 1:  # known endpoints, bad bodies or unknown objects
        method, path = rng.choice(ENDPOINTS)
        path = version.replace("/v1.50.1", "/v1.50") + path.replace("{x}", "nosuch" + str(rng.randrange(10**6)))
        body = rng.choice(BAD_BODIES)
        ctype = rng.choice(["application/json", "text/plain", "application/x-tar", ""])
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
        if ctype:
            head += f"Content-Type: {ctype}\r\n"
        return head.encode() + b"\r\n" + body, True
    if kind == 2:  # garbage instead of HTTP
        return _junk(rng, rng.randrange(1, 200)) + b"\r\n\r\n", True
    if kind == 3:  # huge header values
        return b"GET /v1.50/info HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * rng.randrange(
            20000, 100000
        ) + b"\r\n\r\n", True
    if kind == 4:  # bad query values
        method, target = rng.choice(
            [
                ("GET", "/containers/json?limit=abc"),
                ("GET", "/containers/json?filters=%7Bnope"),
                ("GET", "/images/json?filters=[1,2]"),
                ("GET", "/networks?filters=%22x%22"),
                ("GET", "/events?since=x.y"),
                ("POST", "/containers/nosuch/stop?t=zz"),
                ("GET", "/containers/nosuch/logs?tail=" + "9" * 50),
            ]
        )
        return f"{method} /v1.50{target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), True
    if kind == 5:  # a body shorter than announced, then the client leaves
        return b'POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"Ima', False
    if kind == 6:  # bad chunked encoding
        return (
            b"POST /v1.50/volumes/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\nxx\r\n0\r\n\r\n",
            True,
        )
    # a request line that is far too long
    return b"GET /v1.50/" + b"a" * rng.randrange(20000, 60000) + b" HTTP/1.1\r\nHost: x\r\n\r\n", True


def _answer(sock: str, raw: bytes, complete: bool) -> tuple[int, bytes, bytes] | None:
    s = connect(sock, timeout=10)
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may refuse before reading everything
        if not complete:
            s.shutdown(socket.SHUT_WR)
            s.close()
            return None
        data = read_all(s, timeout=10)
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.") else 0
    ctype = b""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-type":
            ctype = value.strip()
    if b"chunked" in head.lower():
        body = _dechunk(body)
    return status, ctype, body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


def test_hostile_requests_get_json_errors(sock: str) -> None:
    rng = random.Random(20261123)
    answered = 0
    for i in range(N_REQUESTS):
        raw, complete = hostile_request(rng)
        got = _answer(sock, raw, complete)
        if got is None:
            continue
        status, ctype, body = got
        assert 400 <= status < 600, (i, raw[:200], status, body[:200])
        assert ctype == b"application/json", (i, raw[:200], status, ctype)
        assert isinstance(json.loads(body)["message"], str), (i, raw[:200], body[:200])
        answered += 1
        if i % 250 == 0:
            assert http(sock, "GET", "/_ping")[0] == 200
    assert answered >= N_REQUESTS * 0.8
    # Still serving, and still correct.
    assert http(sock, "GET", "/_ping")[:1] == (200,)
    status, _, body = http(
        sock,
        "POST",
        "/v1.50/containers/create",
        json.dumps({"Image": "busybox", "Cmd": ["true"]}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 201 and len(json.loads(body)["Id"]) == 64
