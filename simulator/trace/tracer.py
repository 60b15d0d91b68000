"""Open spans, close them, hand the finished ones to a sink.

Parents are passed explicitly (a ``SpanContext``), not through context
variables: SimPy processes are generators resumed by the event loop, so an
ambient "current span" would leak between concurrent requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.trace.span import HOPS, Span

_KNOWN_HOPS = frozenset(HOPS)


@dataclass(slots=True)
class SpanContext:
    """A span that has started and not yet ended."""

    trace_id: str
    span_id: int
    parent_id: int | None
    hop: str
    name: str
    start: float
    attrs: dict[str, Any] = field(default_factory=dict)


class Tracer:
    """Allocates span ids and turns contexts into finished spans.

    Args:
        clock: returns the current world time in seconds.
        sink: receives every finished span, in end order.
    """

    def __init__(self, clock: Callable[[], float], sink: Callable[[Span], None]) -> None:
        self._clock = clock
        self._sink = sink
        self._next_span = 1
        self._next_trace = 1

    def new_trace_id(self, prefix: str = "req") -> str:
        trace_id = f"{prefix}-{self._next_trace:06d}"
        self._next_trace += 1
        return trace_id

    def start(
        self,
        hop: str,
        name: str,
        /,
        parent: SpanContext | None = None,
        trace_id: str | None = None,
        **attrs: Any,
    ) -> SpanContext:
        if hop not in _KNOWN_HOPS:
            raise ValueError(f"unknown hop {hop!r}")
        if parent is not None:
            parent_id: int | None = parent.span_id
            if trace_id is None:
                trace_id = parent.trace_id
        else:
            parent_id = None
            if trace_id is None:
                trace_id = self.new_trace_id()
        span_id = self._next_span
        self._next_span = span_id + 1
        # ``attrs`` is already a fresh dict (``**attrs``): no copy needed. Positional
        # arguments because every request opens a dozen spans.
        return SpanContext(trace_id, span_id, parent_id, hop, name, self._clock(), attrs)

    def end(self, ctx: SpanContext, /, **attrs: Any) -> Span:
        if attrs:
            ctx.attrs.update(attrs)
        span = Span(ctx.trace_id, ctx.span_id, ctx.parent_id, ctx.hop, ctx.name, ctx.start, self._clock(), ctx.attrs)
        self._sink(span)
        return span

    def instant(self, hop: str, name: str, /, parent: SpanContext | None = None, **attrs: Any) -> Span:
        """A zero-length span: a fact that happened at one moment."""
        return self.end(self.start(hop, name, parent, **attrs))
