"""The trace bus: where every finished span goes, and who hears about it.

A ``Tracer`` is handed one sink; the bus is that sink. It keeps the recent
spans in arrival order (a bounded ring, so a long interactive session cannot
grow without limit) and fans each span out to subscribers: the TUI's
animation, lesson checks, a JSONL writer. A subscriber that raises is removed
and reported; it never breaks the hop that published the span.

The bus also carries Docker's own events (``docker events``) on a separate
channel, an :class:`~simulator.trace.events.EventLog`, because both are
"what happened" streams observed by the same consumers.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from simulator.trace.events import DockerEvent, EventLog
from simulator.trace.span import Span

__all__ = ["DockerEvent", "EventLog", "SubscriberError", "TraceBus"]

_log = logging.getLogger(__name__)

SpanCallback = Callable[[Span], None]

DEFAULT_MAX_SPANS = 100_000


@dataclass(frozen=True, slots=True)
class SubscriberError:
    """A subscriber raised while receiving a span and was removed.

    Attributes:
        subscriber: ``repr`` of the callback that failed.
        error: ``repr`` of the exception it raised.
        span_id: the span it was receiving.
    """

    subscriber: str
    error: str
    span_id: int


class TraceBus:
    """Receives finished spans, keeps the recent ones, fans them out.

    Args:
        max_spans: how many spans the ring keeps; older ones are dropped
            (``count`` still counts them).
        events: the Docker events channel; a fresh ``EventLog`` if omitted.
        on_subscriber_error: told about each subscriber that failed and was
            removed, after it is removed. Errors are also logged.
    """

    def __init__(
        self,
        max_spans: int = DEFAULT_MAX_SPANS,
        events: EventLog | None = None,
        on_subscriber_error: Callable[[SubscriberError], None] | None = None,
    ) -> None:
        if max_spans < 1:
            raise ValueError("max_spans must be at least 1")
        self.max_spans = max_spans
        self.events = events if events is not None else EventLog()
        self._on_error = on_subscriber_error
        self._ring: deque[Span] = deque()
        # trace_id -> its retained spans in arrival order; dict order is the
        # order in which traces were first seen.
        # A defaultdict: publishing indexes a span with one lookup (see ``__call__``).
        # Lists, not deques: a trace holds a handful of spans, and an empty deque
        # alone takes over 600 bytes (a request is a trace: four per lifecycle).
        self._by_trace: defaultdict[str, list[Span]] = defaultdict(list)
        self._subscribers: tuple[SpanCallback, ...] = ()  # copy-on-write: publishing reads it unlocked
        self._lock = threading.Lock()
        self._count = 0
        self.subscriber_errors: list[SubscriberError] = []

    def __call__(self, span: Span) -> None:
        """Publish one finished span (this makes the bus a ``Tracer`` sink)."""
        with self._lock:
            self._count += 1
            ring = self._ring
            ring.append(span)
            self._by_trace[span.trace_id].append(span)
            if len(ring) > self.max_spans:
                self._evict_oldest()
            subscribers = self._subscribers
        # ``_subscribers`` is replaced, never mutated, so this snapshot is safe to iterate.
        for callback in subscribers:
            try:
                callback(span)
            except Exception as exc:  # a broken observer must not break a hop
                self._drop_subscriber(callback, exc, span)

    publish = __call__

    def _evict_oldest(self) -> None:
        old = self._ring.popleft()
        same_trace = self._by_trace[old.trace_id]
        del same_trace[0]  # the oldest overall is the oldest of its trace
        if not same_trace:
            del self._by_trace[old.trace_id]

    def _drop_subscriber(self, callback: SpanCallback, exc: Exception, span: Span) -> None:
        self._unsubscribe(callback)
        report = SubscriberError(subscriber=repr(callback), error=repr(exc), span_id=span.span_id)
        self.subscriber_errors.append(report)
        _log.warning("trace subscriber %s failed and was removed: %s", report.subscriber, exc)
        if self._on_error is not None:
            try:
                self._on_error(report)
            except Exception:
                _log.exception("on_subscriber_error handler failed")

    def subscribe(self, callback: SpanCallback) -> Callable[[], None]:
        """Call ``callback(span)`` for every span published from now on.

        Returns:
            A function that unsubscribes; calling it twice is harmless.
        """
        with self._lock:
            self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            self._unsubscribe(callback)

        return unsubscribe

    def _unsubscribe(self, callback: SpanCallback) -> None:
        with self._lock:
            if callback in self._subscribers:
                rest = list(self._subscribers)
                rest.remove(callback)
                self._subscribers = tuple(rest)

    @property
    def count(self) -> int:
        """Spans published since creation or the last ``clear()``, dropped ones included."""
        return self._count

    @property
    def dropped(self) -> int:
        """Spans that fell out of the ring."""
        return self._count - len(self._ring)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def __len__(self) -> int:
        return len(self._ring)

    def spans(self, trace_id: str | None = None) -> list[Span]:
        """The retained spans in arrival (end) order, all or one trace's."""
        with self._lock:
            if trace_id is None:
                return list(self._ring)
            return list(self._by_trace.get(trace_id, ()))

    def traces(self) -> list[str]:
        """Ids of the traces with retained spans, in the order first seen."""
        with self._lock:
            return list(self._by_trace)

    def clear(self) -> None:
        """Forget every span and reset the count; subscribers stay."""
        with self._lock:
            self._ring.clear()
            self._by_trace.clear()
            self._count = 0
