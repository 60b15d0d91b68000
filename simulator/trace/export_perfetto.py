"""Spans as Chrome trace-event JSON, which Perfetto and chrome://tracing open.

Each request (trace) becomes a process and each hop a thread, sorted in hop
order, so the timeline reads like the architecture diagram: the CLI on top,
the kernel near the bottom. Every span is a complete (``"ph": "X"``) event
with times in microseconds and the span's attributes as ``args``.

A thread's complete events must nest; concurrent spans on one hop (parallel
layer downloads) would not, so they are spread over extra lanes of that hop
(``registry #2``...).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulator.trace.span import HOPS, Span

__all__ = ["HOP_LABELS", "dumps_chrome_trace", "to_chrome_trace", "write_chrome_trace"]

HOP_LABELS: dict[str, str] = {
    "cli": "CLI",
    "api": "REST API",
    "dockerd": "dockerd",
    "containerd": "containerd",
    "shim": "shim",
    "runc": "runc",
    "kernel": "kernel",
    "registry": "registry",
    "builder": "builder",
}

_LANE_STRIDE = 100  # tid = hop_index * stride + lane + 1


def hop_index(hop: str) -> int:
    """Position of ``hop`` in the fixed hop order; unknown hops sort last."""
    try:
        return HOPS.index(hop)
    except ValueError:
        return len(HOPS)


def _us(seconds: float) -> float:
    # Nanosecond resolution, and integers where exact, so output is stable.
    value = round(seconds * 1_000_000, 3)
    return int(value) if value == int(value) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | bool) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def _assign_lanes(spans: list[Span]) -> dict[int, int]:
    """Lane per span id, so that spans sharing a lane nest or are disjoint."""
    lanes: list[list[float]] = []  # per lane, a stack of open end times
    out: dict[int, int] = {}
    for span in sorted(spans, key=lambda s: (_us(s.start), -_us(s.end), s.span_id)):
        start, end = _us(span.start), _us(span.end)
        for number, stack in enumerate(lanes):
            while stack and stack[-1] <= start:
                stack.pop()
            if not stack or stack[-1] >= end:
                stack.append(end)
                out[span.span_id] = number
                break
        else:
            lanes.append([end])
            out[span.span_id] = len(lanes) - 1
    return out


def to_chrome_trace(spans: Iterable[Span]) -> dict[str, Any]:
    """Build the trace-event document for ``spans``.

    Returns:
        ``{"traceEvents": [...], "displayTimeUnit": "ms"}``: metadata events
        first (process and thread names and sort order), then one complete
        event per span in start order.
    """
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)

    metadata: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for pid, (trace_id, members) in enumerate(by_trace.items(), start=1):
        roots = sorted((s for s in members if s.parent_id is None), key=lambda s: s.span_id)
        title = f"{trace_id}: {roots[0].name}" if roots else trace_id
        metadata.append(_meta("process_name", pid, 0, {"name": title}))
        metadata.append(_meta("process_sort_index", pid, 0, {"sort_index": pid}))

        by_hop: dict[str, list[Span]] = {}
        for span in members:
            by_hop.setdefault(span.hop, []).append(span)
        for hop in sorted(by_hop, key=lambda h: (hop_index(h), h)):
            lanes = _assign_lanes(by_hop[hop])
            index = hop_index(hop)
            for lane in sorted(set(lanes.values())):
                tid = index * _LANE_STRIDE + lane + 1
                name = HOP_LABELS.get(hop, hop) + (f" #{lane + 1}" if lane else "")
                metadata.append(_meta("thread_name", pid, tid, {"name": name}))
                metadata.append(_meta("thread_sort_index", pid, tid, {"sort_index": index * _LANE_STRIDE + lane}))
            for span in by_hop[hop]:
                args = {str(k): _jsonable(v) for k, v in span.attrs.items()}
                args["span_id"] = span.span_id
                args["parent_id"] = span.parent_id
                events.append(
                    {
                        "name": span.name,
                        "cat": span.hop,
                        "ph": "X",
                        "ts": _us(span.start),
                        # end - start in the same rounded units, so nested spans stay nested
                        "dur": max(_us(span.end) - _us(span.start), 0.0),
                        "pid": pid,
                        "tid": index * _LANE_STRIDE + lanes[span.span_id] + 1,
                        "args": args,
                    }
                )
    # Outer spans first when they start together, so viewers nest them.
    events.sort(key=lambda e: (e["pid"], e["ts"], -e["dur"], e["args"]["span_id"]))
    return {"traceEvents": metadata + events, "displayTimeUnit": "ms"}


def _meta(name: str, pid: int, tid: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "ph": "M", "pid": pid, "tid": tid, "args": args}


def dumps_chrome_trace(spans: Iterable[Span]) -> str:
    """The trace-event document as deterministic JSON text."""
    return json.dumps(to_chrome_trace(spans), separators=(",", ":"), ensure_ascii=False)


def write_chrome_trace(spans: Iterable[Span], path: str | os.PathLike[str]) -> None:
    """Write a ``.json`` file to open in ui.perfetto.dev or chrome://tracing."""
    Path(path).write_text(dumps_chrome_trace(spans) + "\n", encoding="utf-8")
