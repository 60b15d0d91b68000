"""Docker's json-file log format, written by the shim and tailed by the daemon.

Each chunk a container prints becomes one line per output line:
``{"log":"hi\\n","stream":"stdout","time":"2024-05-01T12:00:00.123456789Z"}``,
the format ``docker logs`` reads from ``<container>-json.log``. The shim is
the writer because it outlives the daemon: output printed while the daemon is
down is still recorded.

Invalid UTF-8 is kept as surrogate escapes so the daemon can forward the
exact bytes; Docker itself replaces such bytes with U+FFFD.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

STREAMS = {1: "stdout", 2: "stderr"}
_STREAM_NUMBERS = {name: number for number, name in STREAMS.items()}


def rfc3339nano(ns: int | None = None) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: trailing zeros of the fraction are trimmed."""
    if ns is None:
        ns = time.time_ns()
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    digits = f"{fraction:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def encode(stream: int, data: bytes, ns: int | None = None) -> bytes:
    """The json-file lines for one chunk of output (one entry per line, partial last line kept)."""
    stamp = rfc3339nano(ns)
    name = STREAMS.get(stream, "stdout")
    out: list[str] = []
    for line in data.decode("utf-8", "surrogateescape").splitlines(keepends=True):
        entry = {"log": line, "stream": name, "time": stamp}
        out.append(json.dumps(entry, separators=(",", ":")) + "\n")
    return "".join(out).encode("utf-8", "surrogatepass")


def decode(line: bytes) -> tuple[int, bytes, str]:
    """One json-file line -> (stream number, raw bytes, RFC 3339 time)."""
    entry = json.loads(line.decode("utf-8", "surrogatepass"))
    data = str(entry.get("log", "")).encode("utf-8", "surrogateescape")
    return _STREAM_NUMBERS.get(str(entry.get("stream")), 1), data, str(entry.get("time", ""))


class LogTail:
    """Reads complete json-file lines appended to a log since the last call."""

    def __init__(self, path: str, offset: int = 0) -> None:
        self.path = path
        self.offset = offset
        self._partial = b""

    def read(self) -> Iterator[tuple[int, bytes]]:
        """Yield (stream, data) for every complete new entry."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if line.strip():
                stream, data, _ = decode(line)
                yield stream, data
