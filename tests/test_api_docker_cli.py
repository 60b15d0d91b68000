"""The real docker CLI 28 against ``csim daemon``, and beside a private real dockerd.

The csim daemon runs as a subprocess (``python -m simulator.api.daemon_cmd``)
on a socket in a temp dir; the docker CLI reaches it with ``DOCKER_HOST``.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api_harness import Daemon, csim_daemon, have_docker_cli, real_dockerd, start_csim, stop_process

pytestmark = pytest.mark.skipif(not have_docker_cli(), reason="the docker CLI is not installed")

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
HEX12 = re.compile(r"\b[0-9a-f]{12}\b")


@pytest.fixture(scope="module")
def csim() -> Iterator[Daemon]:
    with csim_daemon() as d:
        assert d.docker("pull", "busybox").returncode == 0
        yield d


def ok(d: Daemon, *args: str, timeout: float = 60) -> str:
    r = d.docker(*args, timeout=timeout)
    assert r.returncode == 0, f"docker {' '.join(args)}: rc {r.returncode}\n{r.stdout}\n{r.stderr}\n{d.log()[-3000:]}"
    return r.stdout


def test_cli_scenario(csim: Daemon) -> None:
    d = csim
    assert "Server: csim Engine" in ok(d, "version")
    info = ok(d, "info", "--format", "{{.OSType}} {{.Driver}} {{.LoggingDriver}}")
    assert info.strip() == "linux overlay2 json-file"
    pulled = ok(d, "pull", "busybox")
    assert pulled.splitlines()[0] == "Using default tag: latest"
    assert pulled.splitlines()[-1] == "docker.io/library/busybox:latest"
    assert ok(d, "images").splitlines()[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert ok(d, "run", "--rm", "busybox", "echo", "hi") == "hi\n"
    cid = ok(d, "run", "-d", "--name", "web", "nginx").strip().splitlines()[-1]
    assert HEX64.fullmatch(cid)
    ps = ok(d, "ps").splitlines()
    assert ps[0].split()[:3] == ["CONTAINER", "ID", "IMAGE"]
    assert any(line.endswith(" web") for line in ps[1:])
    assert d.docker("run", "--name", "quitter", "busybox", "sh", "-c", "exit 3").returncode == 3
    exited = ok(d, "ps", "-a", "--filter", "status=exited", "--format", "{{.Names}} {{.Status}}")
    assert re.search(r"^quitter Exited \(3\) ", exited, re.M), exited
    assert "Configuration complete" in ok(d, "logs", "web")
    assert ok(d, "inspect", "-f", "{{.State.Status}}", "web") == "running\n"
    assert ok(d, "exec", "web", "echo", "in") == "in\n"
    assert d.docker("exec", "web", "sh", "-c", "exit 4").returncode == 4
    assert ok(d, "pause", "web") == "web\n"
    assert ok(d, "inspect", "-f", "{{.State.Status}}", "web") == "paused\n"
    again = d.docker("pause", "web")
    assert again.returncode == 1 and "is already paused" in again.stderr
    assert ok(d, "unpause", "web") == "web\n"
    assert ok(d, "stop", "web") == "web\n"
    assert ok(d, "stop", "web") == "web\n"  # 304 is a success
    assert ok(d, "start", "web") == "web\n"
    assert ok(d, "restart", "web") == "web\n"
    assert ok(d, "kill", "web") == "web\n"
    assert ok(d, "wait", "web") == "137\n"
    assert ok(d, "rm", "-f", "web") == "web\n"
    gone = d.docker("inspect", "web")
    assert gone.returncode == 1 and "No such object: web" in gone.stderr
    ok(d, "tag", "busybox", "myrepo/bb:v1")
    assert "myrepo/bb" in ok(d, "images")
    assert ok(d, "rmi", "myrepo/bb:v1") == "Untagged: myrepo/bb:v1\n"
    assert HEX64.fullmatch(ok(d, "network", "create", "n1").strip())
    assert re.search(r"^[0-9a-f]{12}\s+n1\s+bridge\s+local$", ok(d, "network", "ls"), re.M)
    assert ok(d, "network", "inspect", "-f", "{{.Name}} {{.Driver}}", "n1") == "n1 bridge\n"
    ok(d, "run", "-d", "--name", "c2", "busybox", "sleep", "1000")
    ok(d, "network", "connect", "n1", "c2")
    assert "n1" in ok(d, "inspect", "-f", "{{json .NetworkSettings.Networks}}", "c2")
    busy = d.docker("network", "rm", "n1")
    assert busy.returncode == 1 and "has active endpoints" in busy.stderr
    ok(d, "rm", "-f", "c2")
    assert ok(d, "network", "rm", "n1") == "n1\n"
    assert ok(d, "volume", "create", "v1") == "v1\n"
    assert re.search(r"^local\s+v1$", ok(d, "volume", "ls"), re.M)
    assert ok(d, "volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}}", "v1") == "v1 local local\n"
    assert ok(d, "volume", "rm", "v1") == "v1\n"
    time.sleep(1.1)  # the CLI sends --until as whole seconds: let this second end first
    events = ok(d, "events", "--since", "2m", "--until", "0s", "--format", "{{.Type}} {{.Action}}")
    for expected in ("image pull", "container create", "container start", "container die", "volume create"):
        assert expected in events
    df = ok(d, "system", "df").splitlines()
    assert df[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert [row.split()[0] for row in df[1:]] == ["Images", "Containers", "Local", "Build"]


def test_piped_stdin_reaches_the_container(csim: Daemon) -> None:
    r = csim.docker("run", "-i", "--rm", "busybox", "cat", input="data\n")
    assert (r.returncode, r.stdout) == (0, "data\n"), r.stderr


def test_errors_and_exit_codes(csim: Daemon) -> None:
    r = csim.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 5")
    assert (r.returncode, r.stdout, r.stderr) == (5, "out\n", "err\n")
    r = csim.docker("stop", "nosuch")
    assert r.returncode == 1
    assert r.stderr == "Error response from daemon: No such container: nosuch\n"
    r = csim.docker("run", "Busybox")
    assert r.returncode == 125 and "must be lowercase" in r.stderr


def test_run_interactive_under_a_pty(csim: Daemon) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe("docker", ["docker", "run", "-it", "--rm", "busybox", "sh"], csim.env())
    out = b""

    def read_for(seconds: float, until: bytes = b"") -> None:
        nonlocal out
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (until and until in out):
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    return

    try:
        read_for(10, until=b"# ")
        os.write(fd, b"echo hi; exit 3\r")
        read_for(10, until=b"hi\r\n")
        _, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
    assert b"hi\r\n" in out, out
    assert os.waitstatus_to_exitcode(status) == 3


def test_fifty_concurrent_runs(csim: Daemon) -> None:
    before = set(csim.docker("ps", "-aq").stdout.split())
    endpoints = csim.docker("network", "inspect", "-f", "{{len .Containers}}", "bridge").stdout

    def one(i: int) -> tuple[int, str, str]:
        r = csim.docker("run", "--rm", "busybox", "hostname", timeout=120)
        return r.returncode, r.stdout, r.stderr

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(50)))
    assert [r[0] for r in results] == [0] * 50, [r for r in results if r[0]][:3]
    hostnames = [r[1].strip() for r in results]
    assert len(set(hostnames)) == 50 and all(HEX12.fullmatch(h) for h in hostnames)  # 50 distinct containers
    assert set(csim.docker("ps", "-aq").stdout.split()) == before  # all removed
    assert csim.docker("network", "inspect", "-f", "{{len .Containers}}", "bridge").stdout == endpoints


def test_state_survives_a_restart() -> None:
    import shutil
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="csim-api-"))
    try:
        d = start_csim(base)
        ok(d, "pull", "busybox")
        ok(d, "create", "--name", "keep", "busybox", "true")
        ok(d, "network", "create", "keepnet")
        ok(d, "volume", "create", "keepvol")
        assert d.proc is not None
        assert stop_process(d.proc) == 0
        assert "stopped" in d.log()
        d = start_csim(base)
        try:
            assert "busybox" in ok(d, "images")
            assert "keep" in ok(d, "ps", "-a", "--format", "{{.Names}}").split()
            assert "keepnet" in ok(d, "network", "ls", "--format", "{{.Name}}").split()
            assert "keepvol" in ok(d, "volume", "ls", "--format", "{{.Name}}").split()
        finally:
            assert d.proc is not None
            stop_process(d.proc)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- side by side with a real dockerd -------------------------------------------------------
COMPARED: list[tuple[str, list[str]]] = [
    # (how to compare, argv)
    ("exact", ["run", "--rm", "--network", "none", "busybox", "echo", "hi"]),
    ("rc", ["run", "--network", "none", "--name", "three", "busybox", "sh", "-c", "exit 3"]),
    ("id", ["run", "-d", "--name", "t1", "--network", "none", "busybox", "sleep", "100"]),
    ("header", ["ps"]),
    ("exact", ["ps", "-a", "--filter", "status=exited", "--format", "{{.Names}} {{.State}}"]),
    ("exact", ["inspect", "-f", "{{.State.Status}} {{.Name}} {{.HostConfig.LogConfig.Type}}", "t1"]),
    ("exact", ["exec", "t1", "echo", "in"]),
    ("rc", ["exec", "t1", "sh", "-c", "exit 4"]),
    ("exact", ["pause", "t1"]),
    ("err", ["pause", "t1"]),
    ("exact", ["unpause", "t1"]),
    ("err", ["unpause", "t1"]),
    ("exact", ["stop", "-t", "1", "t1"]),
    ("exact", ["stop", "t1"]),
    ("exact", ["start", "t1"]),
    ("exact", ["restart", "-t", "1", "t1"]),
    ("exact", ["kill", "t1"]),
    ("err", ["kill", "t1"]),
    ("exact", ["wait", "t1"]),
    ("exact", ["rm", "-f", "t1"]),
    ("err", ["rm", "t1"]),
    ("exact", ["tag", "busybox", "myrepo/bb:v1"]),
    ("exact", ["rmi", "myrepo/bb:v1"]),
    ("err", ["rmi", "nosuchimage"]),
    ("id", ["network", "create", "n1"]),
    ("exact", ["network", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}}", "n1"]),
    ("exact", ["network", "rm", "n1"]),
    ("err", ["network", "rm", "n1"]),
    ("exact", ["volume", "create", "v1"]),
    ("header", ["volume", "ls"]),
    ("exact", ["volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}}", "v1"]),
    ("exact", ["volume", "rm", "v1"]),
    ("err", ["volume", "rm", "v1"]),
    ("header", ["system", "df"]),
    ("err", ["inspect", "nosuch"]),
    ("exact", ["rm", "three"]),
]


def _normalise(text: str) -> str:
    return HEX12.sub("<id>", HEX64.sub("<id>", text))


def _shape(mode: str, r: object) -> tuple[object, ...]:
    rc, out, err = r.returncode, r.stdout, r.stderr  # type: ignore[attr-defined]
    if mode == "exact":
        return rc, _normalise(out)
    if mode == "id":
        return rc, bool(HEX64.fullmatch(out.strip()))
    if mode == "header":
        return rc, out.splitlines()[0].split() if out else []
    if mode == "err":
        return rc, out, err.startswith("Error")
    return (rc,)


@pytest.mark.real
@pytest.mark.slow
def test_same_answers_as_a_real_dockerd() -> None:
    with csim_daemon() as csim, real_dockerd() as real:
        ok(csim, "pull", "busybox")
        for mode, argv in COMPARED:
            mine = csim.docker(*argv)
            theirs = real.docker(*argv)
            assert _shape(mode, mine) == _shape(mode, theirs), (
                f"docker {' '.join(argv)}\ncsim: rc {mine.returncode} {mine.stdout!r} {mine.stderr!r}\n"
                f"dockerd: rc {theirs.returncode} {theirs.stdout!r} {theirs.stderr!r}"
            )
