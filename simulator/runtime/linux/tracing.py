"""Spans for work done off the world thread, timed where it happened.

The kernel work of a container start happens in worker threads and in
forked processes, while the tracer belongs to the SimPy world thread. Each
step is timed with ``time.monotonic`` (one clock for every process on the
machine) where it runs; the relay then opens and closes the span on the world
thread through ``post``, back-dating its start by the measured age, so the
span's duration is the measured one whatever the world clock did meanwhile.
The measured milliseconds are also kept in the span's ``measured_ms``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from simulator.trace.tracer import SpanContext, Tracer

Post = Callable[[Callable[[], None]], None]


class SpanRelay:
    """Opens and closes spans on the world thread on behalf of other threads.

    Args:
        tracer: the world's tracer (only touched on the world thread).
        post: runs a function on the world thread.
        root: the span the relayed spans hang under (key ``"root"``).
        factor: wall seconds per world second (a realtime env's ``factor``).
    """

    def __init__(self, tracer: Tracer, post: Post, root: SpanContext, factor: float = 1.0) -> None:
        self.tracer = tracer
        self.post = post
        self.factor = factor or 1.0
        self._open: dict[str, SpanContext] = {"root": root}

    def _backdate(self, ctx: SpanContext, t0: float, parent: SpanContext) -> None:
        age = (time.monotonic() - t0) / self.factor
        ctx.start = max(parent.start, ctx.start - age)

    def open(self, key: str, hop: str, name: str, t0: float, parent: str = "root", **attrs: Any) -> None:
        """Start span ``key`` that began at monotonic time ``t0``."""

        def run() -> None:
            parent_ctx = self._open.get(parent) or self._open["root"]
            ctx = self.tracer.start(hop, name, parent_ctx, **attrs)
            self._backdate(ctx, t0, parent_ctx)
            ctx.attrs["_t0"] = t0
            self._open[key] = ctx

        self.post(run)

    def close(self, key: str, t1: float | None = None, **attrs: Any) -> None:
        """End span ``key`` (at monotonic ``t1``, default now)."""
        end = time.monotonic() if t1 is None else t1

        def run() -> None:
            ctx = self._open.pop(key, None)
            if ctx is None:
                return
            t0 = float(ctx.attrs.pop("_t0", end))
            self.tracer.end(ctx, measured_ms=round((end - t0) * 1000, 3), **attrs)

        self.post(run)

    def span(self, hop: str, name: str, t0: float, t1: float, parent: str = "root", **attrs: Any) -> None:
        """A finished step measured from ``t0`` to ``t1``."""

        def run() -> None:
            parent_ctx = self._open.get(parent) or self._open["root"]
            ctx = self.tracer.start(hop, name, parent_ctx, **attrs)
            # Back-date so that the span ends now and lasts what was measured.
            ctx.start = max(parent_ctx.start, ctx.start - (t1 - t0) / self.factor)
            self.tracer.end(ctx, measured_ms=round((t1 - t0) * 1000, 3))

        self.post(run)

    def context(self, key: str) -> SpanContext | None:
        """An open span (world thread only)."""
        return self._open.get(key)
