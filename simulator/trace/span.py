"""Spans: the contract between every backend and every observer.

A request is a tree of spans. Each span names the hop that did the work
(``cli``, ``api``, ``dockerd``...), what it carried (``POST /containers/create``,
``clone(CLONE_NEWPID|...)``) and when, in world seconds. The TUI, lessons,
checks and exporters read nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HOPS: tuple[str, ...] = (
    "cli",
    "api",
    "dockerd",
    "containerd",
    "shim",
    "runc",
    "kernel",
    "registry",
    "builder",
)


# Not ``frozen=True``: a frozen dataclass sets each field through
# ``object.__setattr__`` and made building a Span cost more than the rest of
# ``Tracer.end``. Every request ends about a dozen spans, so ``__init__`` is
# written by hand (plain slot stores); spans are still never changed once made.
@dataclass(slots=True, init=False)
class Span:
    """One finished unit of work on one hop (treat it as immutable).

    Attributes:
        trace_id: the request (one CLI command) this span belongs to.
        span_id: unique within the trace file, increasing in start order.
        parent_id: the span that caused this one, or None for the root.
        hop: one of HOPS.
        name: what the hop carried, as a person would label the arrow.
        start: world time in seconds when the work began.
        end: world time in seconds when it ended.
        attrs: extra facts (method, path, status, bytes, user_agent...).
    """

    trace_id: str
    span_id: int
    parent_id: int | None
    hop: str
    name: str
    start: float
    end: float
    attrs: dict[str, Any]

    def __init__(
        self,
        trace_id: str,
        span_id: int,
        parent_id: int | None,
        hop: str,
        name: str,
        start: float,
        end: float,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.hop = hop
        self.name = name
        self.start = start
        self.end = end
        self.attrs = {} if attrs is None else attrs

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "hop": self.hop,
            "name": self.name,
            "start": round(self.start, 9),
            "end": round(self.end, 9),
            "attrs": self.attrs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Span:
        return cls(
            trace_id=str(data["trace_id"]),
            span_id=int(data["span_id"]),
            parent_id=None if data.get("parent_id") is None else int(data["parent_id"]),
            hop=str(data["hop"]),
            name=str(data["name"]),
            start=float(data["start"]),
            end=float(data["end"]),
            attrs=dict(data.get("attrs") or {}),
        )

    def __rich_repr__(self):  # type: ignore[no-untyped-def]
        yield "hop", self.hop
        yield "name", self.name
        yield "start", self.start
        yield "end", self.end
