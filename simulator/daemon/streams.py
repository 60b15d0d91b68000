"""Byte and message streams from the world to a consumer.

A producer in the world (a pull, ``logs -f``, an attached container) puts
chunks; a consumer registers one callback. The callback runs on the world's
thread: the embedded CLI appends to a list, the HTTP server hands chunks to
its event loop with ``call_soon_threadsafe``. ``None`` marks the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Chunk = Any  # bytes for byte streams, dict for JSON message streams


class Stream:
    """A one-consumer stream that buffers until the consumer arrives."""

    def __init__(self) -> None:
        self._buffer: list[Chunk] = []
        self._consumer: Callable[[Chunk | None], None] | None = None
        self.closed = False
        self._on_cancel: list[Callable[[], None]] = []

    def put(self, chunk: Chunk) -> None:
        if self.closed:
            return
        if self._consumer is None:
            self._buffer.append(chunk)
        else:
            self._consumer(chunk)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._consumer is not None:
            self._consumer(None)

    def consume(self, consumer: Callable[[Chunk | None], None]) -> None:
        """Attach the consumer; everything buffered is delivered first."""
        self._consumer = consumer
        pending, self._buffer = self._buffer, []
        for chunk in pending:
            consumer(chunk)
        if self.closed:
            consumer(None)

    def on_cancel(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` when the consumer goes away early (client disconnected)."""
        self._on_cancel.append(fn)

    def cancel(self) -> None:
        for fn in self._on_cancel:
            fn()
        self._on_cancel.clear()
        self.closed = True
