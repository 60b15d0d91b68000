"""The HTTP server on its own: headers, errors, flushing, hijacked streams, the trace feed."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.api.framing import FrameDecoder
from simulator.api.listeners import Host
from tests.api_harness import connect, http, read_all, read_head


@pytest.fixture(scope="module")
def sock() -> Iterator[str]:
    from simulator.api.daemon_cmd import serve_in_thread
    from simulator.des.world import World

    base = Path(tempfile.mkdtemp(prefix="csim-api-"))
    path = str(base / "s.sock")
    world = World()
    world.api("POST", "/images/create", {"fromImage": "busybox", "tag": "latest"})
    try:
        with serve_in_thread(world, [Host("unix", path=path)], speed=10.0):
            yield path
    finally:
        shutil.rmtree(base, ignore_errors=True)


def create(sock: str, cmd: list[str], **extra: object) -> str:
    body = json.dumps({"Image": "busybox", "Cmd": cmd, **extra}).encode()
    status, _, data = http(sock, "POST", "/v1.50/containers/create", body, {"Content-Type": "application/json"})
    assert status == 201, data
    return str(json.loads(data)["Id"])


def test_ping_headers(sock: str) -> None:
    for method in ("GET", "HEAD"):
        status, headers, body = http(sock, method, "/_ping")
        assert status == 200
        assert headers["Api-Version"] == "1.50"
        assert headers["Ostype"] == "linux"
        assert headers["Docker-Experimental"] == "false"
        assert headers["Server"].startswith("Docker/")
        assert body == (b"OK" if method == "GET" else b"")


def test_unknown_path_and_errors_are_docker_json(sock: str) -> None:
    status, headers, body = http(sock, "GET", "/v1.50/no/such/thing")
    assert (status, headers["Content-Type"], body) == (404, "application/json", b'{"message":"page not found"}\n')
    status, headers, body = http(sock, "POST", "/v1.50/containers/nosuch/start")
    assert (status, json.loads(body)) == (404, {"message": "No such container: nosuch"})
    assert headers["Content-Type"] == "application/json"
    status, _, body = http(sock, "GET", "/v1.99/version")
    assert status == 400 and b"is too new" in body
    status, _, body = http(sock, "POST", "/v1.50/containers/create", b"{not json", {"Content-Type": "application/json"})
    assert status == 400 and json.loads(body)["message"].startswith("invalid JSON")


def test_oversized_body_is_refused(sock: str) -> None:
    s = connect(sock)
    s.sendall(b"POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 70000000\r\n\r\n")
    s.sendall(b"x" * (1 << 20))
    head, _ = read_head(s)
    s.close()
    assert head.startswith(b"HTTP/1.1 413")


def test_chunked_request_body(sock: str) -> None:
    s = connect(sock)
    body = json.dumps({"Name": "chunky"}).encode()
    s.sendall(
        b"POST /v1.50/volumes/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    data = read_all(s)
    assert data.startswith(b"HTTP/1.1 201") and b'"chunky"' in data


def test_wait_headers_come_before_the_exit(sock: str) -> None:
    cid = create(sock, ["sh", "-c", "exit 3"])
    s = connect(sock)
    s.sendall(f"POST /v1.50/containers/{cid}/wait?condition=next-exit HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head, rest = read_head(s)  # before /start: the CLI waits for these headers
    assert head.startswith(b"HTTP/1.1 200") and b"Transfer-Encoding: chunked" in head
    assert http(sock, "POST", f"/v1.50/containers/{cid}/start")[0] == 204
    data = rest
    while b"StatusCode" not in data:
        data += s.recv(4096)
    s.close()
    assert b'"StatusCode":3' in data


def test_attach_is_101_with_frames_and_buffered_stdin(sock: str) -> None:
    cid = create(
        sock, ["sh", "-c", "read x; echo got $x; echo err >&2"], OpenStdin=True, StdinOnce=True, AttachStdin=True
    )
    s = connect(sock)
    s.sendall(
        f"POST /v1.50/containers/{cid}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n".encode()
        + b"Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: text/plain\r\n\r\n"
    )
    head, rest = read_head(s)
    assert head.startswith(b"HTTP/1.1 101 UPGRADED")
    assert b"Content-Type: application/vnd.docker.multiplexed-stream" in head
    assert rest == b""  # nothing in the 101's packet (docker-py would lose it)
    s.sendall(b"hello\n")  # stdin before /start is kept until the process reads it
    s.shutdown(1)  # half-close: output must still arrive
    assert http(sock, "POST", f"/v1.50/containers/{cid}/start")[0] == 204
    frames = list(FrameDecoder().feed(read_all(s)))
    s.close()
    assert (1, b"got hello\n") in frames and (2, b"err\n") in frames


def test_logs_stream_is_framed(sock: str) -> None:
    cid = create(sock, ["sh", "-c", "echo a; echo b >&2"])
    assert http(sock, "POST", f"/v1.50/containers/{cid}/start")[0] == 204
    http(sock, "POST", f"/v1.50/containers/{cid}/wait")
    status, headers, body = http(sock, "GET", f"/v1.50/containers/{cid}/logs?stdout=1&stderr=1")
    assert status == 200 and headers["Content-Type"] == "application/vnd.docker.multiplexed-stream"
    assert list(FrameDecoder().feed(body)) == [(1, b"a\n"), (2, b"b\n")]


def test_trace_feed_shows_clients_by_user_agent(sock: str) -> None:
    http(sock, "GET", "/v1.50/containers/json", headers={"User-Agent": "Docker-Client/28.2.2 (linux)"})
    status, headers, body = http(sock, "GET", "/csim/trace")
    spans = [json.loads(line) for line in body.splitlines()]
    assert status == 200 and headers["Content-Type"] == "application/json"
    cli = [sp for sp in spans if sp["hop"] == "cli" and sp["name"] == "Docker-Client/28.2.2 GET /containers/json"]
    assert cli and cli[-1]["attrs"]["user_agent"] == "Docker-Client/28.2.2 (linux)"
    api = [sp for sp in spans if sp["hop"] == "api" and sp["parent_id"] == cli[-1]["span_id"]]
    assert api and api[0]["name"] == "GET /containers/json"


def test_trace_feed_follows_live(sock: str) -> None:
    s = connect(sock)
    s.sendall(b"GET /csim/trace?follow=1&since=999999999 HTTP/1.1\r\nHost: x\r\n\r\n")
    head, rest = read_head(s)
    assert head.startswith(b"HTTP/1.1 200")
    http(sock, "GET", "/v1.50/version", headers={"User-Agent": "live-test/1"})
    data = rest
    deadline = time.monotonic() + 5
    while b'"name":"live-test/1 GET /version"' not in data and time.monotonic() < deadline:
        data += s.recv(65536)
    s.close()
    assert b'"name":"live-test/1 GET /version"' in data


def test_command_spans_parent_the_csim_cli_requests(sock: str) -> None:
    status, _, body = http(sock, "POST", "/csim/commands", json.dumps({"argv": ["ps"]}).encode())
    assert status == 201
    opened = json.loads(body)
    http(sock, "GET", "/v1.50/containers/json", headers={"X-Csim-Parent": str(opened["span_id"])})
    assert http(sock, "POST", f"/csim/commands/{opened['span_id']}/end", b'{"exit_code": 0}')[0] == 204
    _, _, body = http(sock, "GET", f"/csim/trace?trace_id={opened['trace_id']}")
    spans = [json.loads(line) for line in body.splitlines()]
    assert [(sp["hop"], sp["name"]) for sp in spans] == [("api", "GET /containers/json"), ("cli", "docker ps")]
    assert http(sock, "GET", "/csim/clock")[0] == 200
