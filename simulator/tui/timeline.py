"""The recorded trace as steps, and the world as of any step.

Every span the TUI hears becomes one *step*; steps are grouped into
*batches*, one per command (or per request in live mode), ordered by span
start so a step-through reads top-down: CLI, REST API, dockerd... kernel.
A batch remembers the ``WorldSnapshot`` before it and, once the command has
completed, the one after it. ``state_at(step)`` is then the world as of that
step: the snapshot after the batch on its last step, otherwise the snapshot
before it with the Docker events that had happened by the step's start
replayed on top. Memory is bounded: the oldest batches are dropped past
``max_steps``. Nothing here imports Textual.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

from simulator.trace.events import DockerEvent
from simulator.trace.span import Span
from simulator.tui.snapshot import WorldSnapshot, apply_events

__all__ = ["Batch", "FrameSpan", "Timeline"]

DEFAULT_MAX_STEPS = 4000
MAX_EVENTS = 2000
CONCURRENCY_WINDOW = 64
"""How many neighbouring steps ``frame`` looks at for spans open at the same time."""


def _order(span: Span) -> tuple[float, int]:
    return (span.start, span.span_id)


@dataclass(eq=False)
class Batch:
    """The spans of one command (or live request) and the world around it."""

    before: WorldSnapshot
    after: WorldSnapshot | None = None
    size: int = 0
    trace_ids: list[str] = field(default_factory=list)
    start: int = 0
    """Absolute index of its first step (counting dropped steps), so bounds are O(1)."""


@dataclass(frozen=True, slots=True)
class FrameSpan:
    """A span as the flow view needs it: where it goes and in which colour."""

    span: Span
    from_hop: str | None
    colour_index: int


class Timeline:
    """Steps (spans in start order), snapshots and events, with bounded memory.

    Args:
        initial: the world before the first recorded step.
        max_steps: how many steps are kept; older batches are dropped.
    """

    def __init__(self, initial: WorldSnapshot, max_steps: int = DEFAULT_MAX_STEPS) -> None:
        self.latest = initial
        self.max_steps = max_steps
        self._steps: list[tuple[tuple[float, int], Span, Batch]] = []
        self._open: Batch | None = None
        self._open_offset = 0
        self._by_id: dict[tuple[str, int], Span] = {}
        self._colours: dict[str, int] = {}
        self._events: deque[tuple[int, float, DockerEvent]] = deque(maxlen=MAX_EVENTS)
        self.event_seq = 0
        self.dropped_steps = 0

    # ------------------------------------------------------------ recording

    def __len__(self) -> int:
        return len(self._steps)

    def add_span(self, span: Span) -> tuple[int, int]:
        """Record one finished span.

        Returns:
            ``(index, dropped)``: the step index it was put at (after any
            trimming) and how many old steps were dropped to make room.
        """
        if self._open is None:
            self._open_offset = len(self._steps)
            self._open = Batch(before=self.latest, start=self.dropped_steps + self._open_offset)
        batch = self._open
        if span.trace_id not in batch.trace_ids:
            batch.trace_ids.append(span.trace_id)
        self._colours.setdefault(span.trace_id, len(self._colours))
        self._by_id[(span.trace_id, span.span_id)] = span
        key = _order(span)
        index = bisect.bisect_right(self._steps, key, lo=self._open_offset, key=lambda item: item[0])
        self._steps.insert(index, (key, span, batch))
        batch.size += 1
        dropped = self._trim()
        return index - dropped, dropped

    def add_event(self, time: float, event: DockerEvent) -> None:
        """Record a Docker event heard at world time ``time``."""
        self._events.append((self.event_seq, time, event))
        self.event_seq += 1

    def checkpoint(self, snapshot: WorldSnapshot) -> None:
        """The world after everything recorded so far: closes the open batch."""
        if self._open is not None:
            self._open.after = snapshot
            self._open = None
        self.latest = snapshot

    def _trim(self) -> int:
        """Drop the oldest steps past ``max_steps``; returns how many went."""
        excess = len(self._steps) - self.max_steps
        if excess <= 0:
            return 0
        first_batch = self._steps[0][2]
        if first_batch is not self._open:
            excess = first_batch.size  # a closed batch goes as a whole
        for _, span, batch in self._steps[:excess]:
            batch.size -= 1
            self._by_id.pop((span.trace_id, span.span_id), None)
        del self._steps[:excess]
        self._open_offset = max(0, self._open_offset - excess)
        self.dropped_steps += excess
        return excess

    # ------------------------------------------------------------ reading

    def span(self, index: int) -> Span:
        return self._steps[index][1]

    def batch(self, index: int) -> Batch:
        return self._steps[index][2]

    def spans(self) -> list[Span]:
        return [item[1] for item in self._steps]

    def events(self) -> list[DockerEvent]:
        return [item[2] for item in self._events]

    def colour_index(self, trace_id: str) -> int:
        return self._colours.get(trace_id, 0)

    def batch_bounds(self, index: int) -> tuple[int, int]:
        """``(first, last)`` step indexes of the batch holding ``index``."""
        batch = self._steps[index][2]
        first = max(0, batch.start - self.dropped_steps)  # the open batch may have lost its oldest steps
        return first, first + batch.size - 1

    def trace_bounds(self, index: int) -> tuple[int, int]:
        """``(first, last)`` step indexes of ``index``'s trace within its batch."""
        trace_id = self._steps[index][1].trace_id
        lo, hi = self.batch_bounds(index)
        members = [i for i in range(lo, hi + 1) if self._steps[i][1].trace_id == trace_id]
        return members[0], members[-1]

    def request_start(self, index: int) -> int:
        """The first step of ``index``'s request, or of the previous one if already there."""
        if not self._steps:
            return -1
        index = max(0, min(index, len(self._steps) - 1))
        first, _ = self.trace_bounds(index)
        if first == index and index > 0:
            first, _ = self.trace_bounds(index - 1)
        return first

    def request_end(self, index: int) -> int:
        """The last step of ``index``'s request, or of the next one if already there."""
        if not self._steps:
            return -1
        index = max(0, min(index, len(self._steps) - 1))
        _, last = self.trace_bounds(index)
        if last == index and index < len(self._steps) - 1:
            _, last = self.trace_bounds(index + 1)
        return last

    def state_at(self, index: int) -> WorldSnapshot:
        """The world as of step ``index`` (``-1`` or no steps: the latest)."""
        if index < 0 or not self._steps:
            return self.latest
        index = min(index, len(self._steps) - 1)
        _, span, batch = self._steps[index]
        is_last = index + 1 == len(self._steps) or self._steps[index + 1][2] is not batch
        if is_last and batch.after is not None:
            return batch.after
        low = batch.before.event_seq
        high = batch.after.event_seq if batch.after is not None else self.event_seq
        replay = [ev for seq, t, ev in self._events if low <= seq < high and t <= span.start]
        return apply_events(batch.before, replay, known=batch.after)

    def events_until(self, index: int) -> list[DockerEvent]:
        """The Docker events that had happened by step ``index``."""
        if index < 0 or not self._steps:
            return self.events()
        state = self.state_at(index)
        span, batch = self.span(index), self.batch(index)
        is_last = state is batch.after
        limit = state.event_seq if is_last else batch.before.event_seq
        return [ev for seq, t, ev in self._events if seq < limit or (not is_last and seq >= limit and t <= span.start)]

    def frame(self, index: int) -> tuple[FrameSpan | None, list[FrameSpan]]:
        """The span travelling at step ``index`` and the other spans open then.

        Returns:
            ``(moving, concurrent)``: ``moving`` is the span whose packet is
            drawn; ``concurrent`` are spans of the same batch in progress at
            its start (their components are lit in their trace's colour).
        """
        if index < 0 or not self._steps:
            return None, []
        index = min(index, len(self._steps) - 1)
        span = self.span(index)
        moving = self._frame_span(span)
        lo, hi = self.batch_bounds(index)
        lo = max(lo, index - CONCURRENCY_WINDOW)  # bounded work per frame under a flood
        concurrent = []
        for i in range(lo, min(hi, index + CONCURRENCY_WINDOW) + 1):
            other = self._steps[i][1]
            if other is span or other.start > span.start:
                continue
            if other.end > span.start or (other.start == span.start and i < index):
                concurrent.append(self._frame_span(other))
        return moving, concurrent

    def _frame_span(self, span: Span) -> FrameSpan:
        parent = None
        if span.parent_id is not None:
            parent = self._by_id.get((span.trace_id, span.parent_id))
        return FrameSpan(span, parent.hop if parent else None, self.colour_index(span.trace_id))
