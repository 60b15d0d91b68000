"""Shared helpers for the Engine API tests: a csim daemon process, a private real dockerd, raw HTTP."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Daemon:
    """A running daemon: its socket, its process (None for in-process ones) and its log."""

    sock: str
    proc: subprocess.Popen[bytes] | None
    base: Path

    @property
    def host(self) -> str:
        return f"unix://{self.sock}"

    def log(self) -> str:
        path = self.base / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.host
        env.pop("DOCKER_CONTEXT", None)
        env["DOCKER_CONFIG"] = str(self.base / "docker-config")
        return env

    def docker(self, *args: str, timeout: float = 60, **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False, env=self.env(), **kw
        )


def wait_for_socket(sock: str, proc: subprocess.Popen[bytes] | None, log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the daemon exited: {log.read_text(errors='replace')[-2000:]}")
        if os.path.exists(sock):
            try:
                status, _, _ = http(sock, "GET", "/_ping", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"the daemon did not answer in {seconds} s: {log.read_text(errors='replace')[-2000:]}")


def start_csim(base: Path, *extra: str) -> Daemon:
    """``python -m simulator.api.daemon_cmd`` on ``base/csim.sock`` with its data in ``base/data``."""
    sock = str(base / "csim.sock")
    log = base / "log"
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulator.api.daemon_cmd",
                "-H",
                f"unix://{sock}",
                "--data-root",
                str(base / "data"),
                *extra,
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    d = Daemon(sock, proc, base)
    try:
        wait_for_socket(sock, proc, log)
    except RuntimeError:
        stop_process(proc)
        raise
    return d


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


@contextmanager
def csim_daemon(*extra: str) -> Iterator[Daemon]:
    base = Path(tempfile.mkdtemp(prefix="csim-api-"))
    d = start_csim(base, *extra)
    try:
        yield d
    finally:
        assert d.proc is not None
        stop_process(d.proc)
        shutil.rmtree(base, ignore_errors=True)


def have_docker_cli() -> bool:
    return shutil.which("docker") is not None


@contextmanager
def real_dockerd() -> Iterator[Daemon]:
    """A private Debian dockerd (bridge none, no iptables) with busybox:latest loaded from our bootstrap image."""
    if os.geteuid() != 0:
        pytest.skip("a private dockerd needs root")
    if shutil.which("dockerd") is None or not have_docker_cli():
        pytest.skip("dockerd or the docker CLI is not installed")
    from simulator.daemon.archive import save_archive_bytes
    from simulator.daemon.bootstrap import bootstrap_busybox, find_busybox

    if find_busybox() is None:
        pytest.skip("no busybox binary to build an image from")
    base = Path(tempfile.mkdtemp(prefix="csim-dockerd-"))
    sock = str(base / "d.sock")
    log = base / "log"
    fh = log.open("w")
    proc = subprocess.Popen(
        [
            "dockerd", "--data-root", str(base / "data"), "--exec-root", str(base / "exec"),
            "-H", f"unix://{sock}", "--pidfile", str(base / "pid"), "--bridge=none",
            "--iptables=false", "--ip-masq=false",
        ],
        stdout=fh,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    d = Daemon(sock, proc, base)  # type: ignore[arg-type]
    try:
        try:
            wait_for_socket(sock, proc, log, 30)  # type: ignore[arg-type]
        except RuntimeError as err:
            pytest.skip(f"no private dockerd: {err}")
        archive = base / "bb.tar"
        archive.write_bytes(save_archive_bytes([bootstrap_busybox(tag="busybox:latest")]))
        loaded = d.docker("load", "-i", str(archive))
        if loaded.returncode != 0:
            pytest.skip(f"could not load busybox into dockerd: {loaded.stderr}")
        yield d
    finally:
        subprocess.run(
            ["docker", "-H", f"unix://{sock}", "rm", "-f", "-v", *_all_ids(d)], capture_output=True, check=False
        )
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        fh.close()
        subprocess.run(["umount", "-R", str(base / "data")], capture_output=True, check=False)
        subprocess.run(["umount", "-R", str(base / "exec")], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


def _all_ids(d: Daemon) -> list[str]:
    out = d.docker("ps", "-aq", timeout=20).stdout.split()
    return out or ["--"]


# -- raw HTTP over a unix socket -----------------------------------------------------------
def connect(sock: str, timeout: float = 10) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    return s


def http(
    sock: str,
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], bytes]:
    """One request with http.client over the unix socket; returns status, headers, body."""
    import http.client

    class Conn(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = connect(sock, timeout)

    conn = Conn("localhost", timeout=timeout)
    try:
        conn.request(method, target, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), data
    finally:
        conn.close()


def read_head(s: socket.socket) -> tuple[bytes, bytes]:
    """Read a response head; returns (head, bytes already read past it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def read_all(s: socket.socket, initial: bytes = b"", timeout: float = 10) -> bytes:
    s.settimeout(timeout)
    data = initial
    while True:
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data
