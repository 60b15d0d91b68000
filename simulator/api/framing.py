"""The bytes of Engine API bodies: JSON messages, multiplexed log frames, error bodies.

A route answers with values (dicts, ``LogEntry`` records); this module turns
them into the exact bytes the docker CLI and docker-py expect on the wire, and
back again for the csim HTTP client. It knows nothing about sockets, so the
server, the proxy, the HTTP client and the tests share one definition of each
format.

Formats (see ``pkg/stdcopy`` and ``pkg/jsonmessage`` in moby):

- JSON message streams (pull progress, events, ``/wait``): one compact JSON
  object followed by ``\\n`` per message.
- Logs and attach without a TTY: an 8-byte header ``[stream, 0, 0, 0,
  length uint32 big-endian]`` then the payload; stream 1 is stdout, 2 stderr.
- Logs and attach with a TTY: the raw bytes, stderr merged into stdout.
- Errors: ``{"message": "..."}`` + ``\\n`` with ``Content-Type:
  application/json`` exactly (the CLI decodes nothing else).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any

JSON_TYPE = "application/json"
MULTIPLEXED_TYPE = "application/vnd.docker.multiplexed-stream"
RAW_STREAM_TYPE = "application/vnd.docker.raw-stream"

STDIN, STDOUT, STDERR, SYSTEMERR = 0, 1, 2, 3
STREAM_IDS = {"stdin": STDIN, "stdout": STDOUT, "stderr": STDERR, "systemerr": SYSTEMERR}
STREAM_NAMES = {v: k for k, v in STREAM_IDS.items()}
HEADER = struct.Struct(">BxxxL")
MAX_FRAME = 1 << 20  # split payloads so a reader never needs more than this at once


def json_line(message: Any) -> bytes:
    """One message of a JSON stream: compact JSON and a newline."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def json_body(body: Any) -> bytes:
    """A JSON response body as dockerd writes it (Go's encoder ends with a newline)."""
    return json_line(body)


def error_body(message: str) -> bytes:
    return json_line({"message": message})


def frame(stream_id: int, data: bytes) -> bytes:
    """Frame ``data`` with stdcopy headers, in pieces of at most ``MAX_FRAME`` bytes."""
    if not data:
        return b""
    if len(data) <= MAX_FRAME:
        return HEADER.pack(stream_id, len(data)) + data
    parts = []
    for start in range(0, len(data), MAX_FRAME):
        piece = data[start : start + MAX_FRAME]
        parts.append(HEADER.pack(stream_id, len(piece)) + piece)
    return b"".join(parts)


def log_bytes(entry: Any, tty: bool) -> bytes:
    """The wire bytes of one ``LogEntry`` (``stream`` "stdout"/"stderr", ``data`` bytes)."""
    data = bytes(entry.data)
    if tty:
        return data
    return frame(STREAM_IDS.get(str(entry.stream), STDOUT), data)


def stream_content_type(tty: bool, version: str) -> str:
    """Attach, exec and logs bodies: multiplexed without a TTY from API 1.42 on, raw otherwise."""
    if tty:
        return RAW_STREAM_TYPE
    major, _, minor = version.partition(".")
    try:
        newer = (int(major), int(minor or 0)) >= (1, 42)
    except ValueError:
        newer = True
    return MULTIPLEXED_TYPE if newer else RAW_STREAM_TYPE


class FrameDecoder:
    """Incrementally splits stdcopy-framed bytes back into ``(stream_id, payload)`` pairs."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        """Add bytes; yield every frame that is now complete."""
        self._buf.extend(data)
        while len(self._buf) >= HEADER.size:
            stream_id, length = HEADER.unpack_from(self._buf)
            end = HEADER.size + length
            if len(self._buf) < end:
                return
            payload = bytes(self._buf[HEADER.size : end])
            del self._buf[:end]
            yield stream_id, payload

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still held."""
        return len(self._buf)


class JsonLineDecoder:
    """Incrementally splits a JSON message stream into decoded objects."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[Any]:
        self._buf.extend(data)
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                return
            line = bytes(self._buf[:nl]).strip()
            del self._buf[: nl + 1]
            if line:
                yield json.loads(line)

    def flush(self) -> Iterator[Any]:
        """Whatever is left when the stream ends without a final newline."""
        line = bytes(self._buf).strip()
        self._buf.clear()
        if line:
            yield json.loads(line)
