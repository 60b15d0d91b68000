"""Proxy mode: the docker CLI through ``csim daemon --upstream`` a private real dockerd."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.api_harness import REPO, Daemon, http, real_dockerd, stop_process, wait_for_socket

SCENARIO: list[list[str]] = [
    ["version", "--format", "{{.Server.APIVersion}}"],
    ["images", "--format", "{{.Repository}}:{{.Tag}}"],
    ["run", "--rm", "--network", "none", "busybox", "echo", "hi"],
    ["run", "--network", "none", "--name", "p3", "busybox", "sh", "-c", "exit 3"],
    ["run", "-d", "--network", "none", "--name", "p1", "busybox", "sleep", "100"],
    ["exec", "p1", "echo", "in"],
    ["inspect", "-f", "{{.State.Status}}", "p1"],
    ["stop", "-t", "1", "p1"],
    ["wait", "p1"],
    ["rm", "p1", "p3"],
    ["stop", "nosuch"],
    ["volume", "create", "pv"],
    ["volume", "rm", "pv"],
]


def _direct(text: str) -> str:
    return text.replace("p1", "d1").replace("p3", "d3").replace("pv", "dv")


@pytest.mark.real
@pytest.mark.slow
def test_proxy_gives_the_real_answers_and_traces_every_request() -> None:
    with real_dockerd() as real:
        base = Path(tempfile.mkdtemp(prefix="csim-proxy-"))
        sock = str(base / "p.sock")
        log = base / "log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "simulator.api.daemon_cmd", "-H", f"unix://{sock}", "--upstream", real.host],
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        try:
            wait_for_socket(sock, proc, log)  # type: ignore[arg-type]
            proxy = Daemon(sock, proc, base)  # type: ignore[arg-type]
            _, _, before = http(sock, "GET", "/csim/trace")
            seen_before = len(before.splitlines())
            logged_before = log.read_text().count(" -> unix://")
            for argv in SCENARIO:
                through = proxy.docker(*argv)
                direct = real.docker(*[_direct(a) for a in argv])  # same engine: its own names
                assert through.returncode == direct.returncode, (argv, through.stderr, direct.stderr)
                if argv[:2] != ["run", "-d"]:
                    assert _direct(through.stdout) == direct.stdout, argv
                    assert _direct(through.stderr) == direct.stderr, argv
            piped = proxy.docker("run", "-i", "--rm", "--network", "none", "busybox", "cat", input="data\n")
            assert (piped.returncode, piped.stdout) == (0, "data\n")
            _, _, body = http(sock, "GET", "/csim/trace")
            spans = [json.loads(line) for line in body.splitlines()][seen_before:]
            cli = [s for s in spans if s["hop"] == "cli"]
            api = [s for s in spans if s["hop"] == "api"]
            requests = log.read_text().count(" -> unix://") - logged_before
            assert len(cli) == len(api) == requests > len(SCENARIO)
            assert all(s["attrs"]["user_agent"].startswith("Docker-Client/") for s in cli)
            assert any(s["name"].endswith("/attach") and s["attrs"]["status"] == 101 for s in api)
        finally:
            assert stop_process(proc) == 0
            shutil.rmtree(base, ignore_errors=True)
