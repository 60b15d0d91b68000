"""The user's terminal during ``run -it``, ``exec -it`` and ``attach``: raw mode and a stdin pump."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

Post = Callable[[Callable[[], None]], None]


NOT_A_TTY = "the input device is not a TTY"
"""The docker CLI's answer to ``run -it``/``exec -it`` when its stdin is no terminal (exit 1)."""


def process_stdin() -> BinaryIO | None:
    """This process's stdin as bytes, for a command line typed in a shell (None if it has none)."""
    return None if sys.stdin is None else sys.stdin.buffer


def is_terminal(stream: BinaryIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # closed
        return False


def stdin_pump(stdin: BinaryIO, feed: Callable[[bytes | None], None]) -> Callable[[Post], None]:
    """A starter that reads ``stdin`` on a thread and hands each chunk to ``feed`` via ``post``.

    End of input (Ctrl-D at a line start, or a closed pipe) is passed on as ``None``,
    the half-close the docker CLI sends.
    """

    def start(post: Post) -> None:
        fd = stdin.fileno()

        def reader() -> None:
            while True:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    post(lambda: feed(None))
                    return
                post(lambda chunk=data: feed(chunk))  # type: ignore[misc]

        threading.Thread(target=reader, name="csim-stdin", daemon=True).start()

    return start


@contextlib.contextmanager
def raw_terminal(stdin: BinaryIO | None, enabled: bool) -> Iterator[None]:
    """Put the terminal ``stdin`` in raw mode (keys go to the container's pty as typed), and restore it."""
    if not enabled or stdin is None or not is_terminal(stdin):
        yield
        return
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def write_raw(stream: Any, data: bytes) -> None:
    """Write container bytes as they are (a tty's ``\\r\\n`` included) and flush at once."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", "replace"))
    stream.flush()
