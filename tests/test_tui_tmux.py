"""Smoke test: the installed ``csim`` in a real terminal (tmux), read back with ``capture-pane``.

Pilot tests drive the app in-process; this one checks what a student actually
gets from ``python -m simulator`` in a 120x40 terminal: the diagram's
component names are on screen, and after typing ``run -d --name web nginx``
the containers panel shows ``web`` running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

COMPONENTS = ("CLI", "REST API", "dockerd", "containerd", "shim", "runc", "kernel", "registry")


def _tmux(*args: str) -> str:
    done = subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10, check=False)
    return done.stdout


def _wait_for(session: str, ready: Callable[[str], bool], seconds: float = 45.0) -> str:
    screen = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if ready(screen):
            return screen
        time.sleep(0.2)
    return screen


def test_csim_in_tmux_shows_the_diagram_and_a_running_container(tmp_path: Path) -> None:
    session = f"csim-smoke-{uuid.uuid4().hex[:8]}"
    repo = Path(__file__).resolve().parents[1]
    env = {
        "CSIM_STATE": str(tmp_path / "state"),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "PYTHONPATH": str(repo),
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
    }
    exports = " ".join(f"{k}={v!r}" for k, v in env.items())
    command = f"cd {str(repo)!r} && env -i {exports} {sys.executable} -m simulator tui"
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)
    try:
        screen = _wait_for(session, lambda s: "containerd" in s and "kernel" in s)
        for name in COMPONENTS:
            assert name in screen, f"{name!r} not on screen:\n{screen}"
        _tmux("send-keys", "-t", session, "-l", "run -d --name web nginx")
        _tmux("send-keys", "-t", session, "Enter")
        # Once the command has printed, jump the animation to the request's end (Escape leaves the bar).
        _wait_for(session, lambda s: "Status: Downloaded newer image" in s or "Error" in s)
        _tmux("send-keys", "-t", session, "Escape")
        _tmux("send-keys", "-t", session, "End")
        screen = _wait_for(session, lambda s: any("web" in line and "running" in line for line in s.splitlines()))
        row = next(line for line in screen.splitlines() if "web" in line and "running" in line)
        assert "nginx" in row, screen
        assert "Status: Downloaded newer image for nginx:latest" in screen
    finally:
        _tmux("kill-session", "-t", session)


def test_csim_tui_lesson_opens_the_lesson_pane(tmp_path: Path) -> None:
    """``csim tui --lesson image-layers`` (the entry point's flag) opens with the lesson beside the console."""
    session = f"csim-lesson-{uuid.uuid4().hex[:8]}"
    repo = Path(__file__).resolve().parents[1]
    env = {"CSIM_STATE": str(tmp_path / "state"), "LANG": "C.UTF-8", "TERM": "xterm-256color",
           "PYTHONPATH": str(repo), "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}  # fmt: skip
    exports = " ".join(f"{k}={v!r}" for k, v in env.items())
    command = f"cd {str(repo)!r} && env -i {exports} {sys.executable} -m simulator tui --lesson image-layers"
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)
    try:
        screen = _wait_for(session, lambda s: "step 1/4" in s)
        assert "LESSON · Images are stacks" in screen and "step 1/4 · Layer by layer" in screen, screen
        _tmux("send-keys", "-t", session, "-l", "pull nginx")
        _tmux("send-keys", "-t", session, "Enter")
        screen = _wait_for(session, lambda s: "✔ checked" in s)
        assert "✔ checked" in screen, screen
    finally:
        _tmux("kill-session", "-t", session)
    progress = tmp_path / "state" / "lesson-progress.json"
    assert progress.exists() and '"image-layers"' in progress.read_text(encoding="utf-8")
