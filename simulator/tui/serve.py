"""``csim tui --serve``: the same TUI in a web browser, through textual-serve, on loopback only."""

from __future__ import annotations

import shlex
import sys


def serve_tui(seed: int = 0, host: str = "", lesson: str | None = None, port: int = 8000) -> int:
    """Serve ``csim tui`` on 127.0.0.1:``port``: each visitor gets a process of its own."""
    try:
        from textual_serve.server import Server
    except ImportError:
        sys.stderr.write("csim: --serve needs textual-serve: pip install 'csim[web]'\n")
        return 1
    command = [sys.executable, "-m", "simulator", "tui", "--seed", str(seed)]
    if host:
        command += ["--host", host]
    if lesson:
        command += ["--lesson", lesson]
    Server(shlex.join(command), host="127.0.0.1", port=port, title="csim").serve()
    return 0
