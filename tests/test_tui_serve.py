"""`csim tui --serve` hands the TUI to a browser through textual-serve, on loopback only."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("textual_serve")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_with_the_web_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    env_state = {"CSIM_STATE": str(tmp_path)}
    import os

    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "tui", "--serve", "--port", str(port)],
        env={**os.environ, **env_state},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    body = resp.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert "csim" in body and "<html" in body.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
