"""Open spans, close them, hand the finished ones to a sink.

Parents are passed explicitly (a ``SpanContext``), not through context
variables: SimPy processes are generators resumed by the event loop, so an
ambient "current span" would leak between concurrent requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.trace.span import HOPS, Span

_KNOWN_HOPS = frozenset(HOPS)


# A started span is the very ``Span`` object that ``end`` publishes: ``end`` sets
# its end time (until then it equals ``start``) instead of copying eight fields
# into a second object. Every lifecycle opens about two dozen spans.
SpanContext = Span
"""A span that has started and not yet ended (the ``Span`` that ``Tracer.end`` publishes)."""


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
        now = self._clock()
        return Span(trace_id, span_id, parent_id, hop, name, now, now, attrs)

    def end(self, ctx: SpanContext, /, **attrs: Any) -> Span:
        """Finish ``ctx``: stamp its end time and publish it. A span is ended once."""
        if attrs:
            ctx.attrs.update(attrs)
        ctx.end = self._clock()
        self._sink(ctx)
        return ctx

    def instant(self, hop: str, name: str, /, parent: SpanContext | None = None, **attrs: Any) -> Span:
        """A zero-length span: a fact that happened at one moment."""
        return self.end(self.start(hop, name, parent, **attrs))
