"""The real docker CLI 28 builds through ``csim daemon`` with the classic ``POST /build``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from build_helpers import multi_stage_context

from tests.api_harness import Daemon, csim_daemon, have_docker_cli

pytestmark = pytest.mark.skipif(not have_docker_cli(), reason="the docker CLI is not installed")


@pytest.fixture(scope="module")
def csim() -> Iterator[Daemon]:
    with csim_daemon() as d:
        assert d.docker("pull", "busybox").returncode == 0
        yield d


@pytest.mark.parametrize("buildkit", [None, "0"])
def test_docker_build_through_csim(csim: Daemon, tmp_path: Path, buildkit: str | None) -> None:
    ctx = multi_stage_context(tmp_path)
    env = csim.env()
    env.pop("DOCKER_BUILDKIT", None)
    if buildkit is not None:
        env["DOCKER_BUILDKIT"] = buildkit
    cmd = ["docker", "build", "-t", "demo", str(ctx)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, env=env)
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if line]  # the CLI ends its first line "\r\r\n"
    assert lines[0].startswith("Sending build context to Docker daemon  "), repr(r.stdout[:200])
    assert lines[1] == "Step 1/11 : FROM busybox AS builder", repr(r.stdout[:200])
    assert lines[-1] == "Successfully tagged demo:latest"
    assert "legacy builder is deprecated" in r.stderr
    images = csim.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert "demo:latest" in images
    assert csim.docker("run", "--rm", "demo").stdout == "hi\nhello\nworld\n"


def test_docker_build_failure_exit_code(csim: Daemon, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN exit 3\n", encoding="utf-8")
    r = csim.docker("build", str(tmp_path))
    assert r.returncode == 3
    assert "The command '/bin/sh -c exit 3' returned a non-zero code: 3" in r.stderr
