"""`kill -9` of `csim daemon --backend linux` with containers running, then a restart (live restore).

Containers are owned by their shims, not by the daemon: they keep running while no
daemon exists, and a new daemon re-attaches to them. One that exits meanwhile shows
its real exit code. Nothing is left behind after `rm`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux"),
]


class Daemon:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.sock = root / "csim.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.root / "daemon.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", "daemon", "--backend", "linux", "-H", f"unix://{self.sock}",
             "--data-root", str(self.root / "data")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.sock.exists() and self.csim("version").returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError((self.root / "daemon.log").read_text())

    def csim(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CSIM_HOST": f"unix://{self.sock}"}
        return subprocess.run(
            [sys.executable, "-m", "simulator", *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    d = Daemon(tmp_path)
    d.start()
    try:
        yield d
    finally:
        if d.proc is not None and d.proc.poll() is None:
            ids = d.csim("ps", "-aq").stdout.split()
            if ids:
                d.csim("rm", "-f", *ids)
        d.stop()


def _mounts(root: Path) -> int:
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if str(root) in line)


def test_containers_survive_kill_9_of_the_daemon(daemon: Daemon, tmp_path: Path) -> None:
    trap = "trap 'exit 5' TERM; while true; do sleep 0.1; done"
    for name in ("r1", "r2", "r3"):
        assert daemon.csim("run", "-d", "--name", name, "busybox", "sh", "-c", trap).returncode == 0
    assert daemon.csim("run", "-d", "--name", "quits", "busybox", "sh", "-c", "sleep 1; exit 9").returncode == 0
    daemon.kill9()
    time.sleep(2)  # `quits` exits while no daemon runs
    daemon.start()
    ps = daemon.csim("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout.split("\n")
    assert {"r1 running", "r2 running", "r3 running", "quits exited"} <= set(ps)
    assert daemon.csim("inspect", "-f", "{{.State.ExitCode}}", "quits").stdout.strip() == "9"
    assert daemon.csim("exec", "r1", "echo", "alive").stdout == "alive\n"
    assert daemon.csim("stop", "r2").returncode == 0
    assert daemon.csim("inspect", "-f", "{{.State.ExitCode}}", "r2").stdout.strip() == "5"
    assert daemon.csim("rm", "-f", "r1", "r2", "r3", "quits").returncode == 0
    assert _mounts(tmp_path) == 0
    leftovers = [p for p in (tmp_path / "data" / "linux" / "containers").iterdir() if not p.name.startswith(".")]
    assert leftovers == []  # hidden entries are the runtimes' own roots, not containers
