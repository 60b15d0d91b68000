"""The csim CLI over HTTP (``-H``/``CSIM_HOST``/``DOCKER_HOST``) against ``csim daemon``."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.api.listeners import Host
from simulator.client.http_transport import HttpTransport, host_from_env


@pytest.fixture(scope="module")
def host() -> Iterator[str]:
    from simulator.api.daemon_cmd import serve_in_thread
    from simulator.des.world import World

    base = Path(tempfile.mkdtemp(prefix="csim-http-"))
    path = str(base / "h.sock")
    try:
        with serve_in_thread(World(), [Host("unix", path=path)], speed=20.0):
            yield f"unix://{path}"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def csim(host: str, *argv: str) -> tuple[int, str, str]:
    from simulator.client.main import execute

    out, err = io.StringIO(), io.StringIO()
    code = execute(None, list(argv), out, err, transport=HttpTransport(host))
    return code, out.getvalue(), err.getvalue()


def test_commands_over_http(host: str) -> None:
    assert csim(host, "pull", "busybox")[0] == 0
    assert csim(host, "run", "--rm", "busybox", "echo", "hi") == (0, "hi\n", "")
    code, out, _ = csim(host, "run", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (code, out) == (3, "out\n")
    code, cid, _ = csim(host, "run", "-d", "--name", "h1", "busybox", "sleep", "1000")
    assert code == 0 and len(cid.strip()) == 64
    assert "h1" in csim(host, "ps")[1]
    assert csim(host, "exec", "h1", "echo", "in")[:2] == (0, "in\n")
    assert csim(host, "inspect", "-f", "{{.State.Status}}", "h1")[:2] == (0, "running\n")
    assert csim(host, "rm", "-f", "h1")[:2] == (0, "h1\n")
    code, _, err = csim(host, "stop", "nosuch")
    assert (code, err) == (1, "Error response from daemon: No such container: nosuch\n")


def test_the_trace_has_a_cli_hop_over_the_api(host: str) -> None:
    transport = HttpTransport(host)
    from simulator.client.main import execute

    out, err = io.StringIO(), io.StringIO()
    assert execute(None, ["--trace", "ps"], out, err, transport=transport) == 0
    spans = transport.spans()
    cli = [s for s in spans if s.hop == "cli" and s.name == "docker --trace ps"]
    assert cli
    children = [s for s in spans if s.parent_id == cli[-1].span_id]
    assert [s.name for s in children] == ["GET /containers/json"] and children[0].hop == "api"


def test_unreachable_daemon_message(tmp_path: Path) -> None:
    code, _, err = csim(f"unix://{tmp_path}/none.sock", "ps")
    assert code == 1
    assert err == f"Cannot connect to the csim daemon at unix://{tmp_path}/none.sock. Is the daemon running?\n"


def test_host_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSIM_HOST", raising=False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert host_from_env() is None
    monkeypatch.setenv("DOCKER_HOST", "unix:///d.sock")
    assert host_from_env() == "unix:///d.sock"
    monkeypatch.setenv("CSIM_HOST", "unix:///c.sock")
    assert host_from_env() == "unix:///c.sock"
    assert host_from_env("tcp://127.0.0.1:2375") == "tcp://127.0.0.1:2375"
