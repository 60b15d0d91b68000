"""The trace: spans of every request, Docker events, and ways to save and draw them.

Everything a student sees (the TUI animation, lesson checks, JSONL files,
Perfetto timelines, Mermaid diagrams) is read from here, never from a backend.
Nothing heavy is imported at package import time (Rich only inside
``render_span_tree``).
"""

from __future__ import annotations

from simulator.trace.bus import SubscriberError, TraceBus
from simulator.trace.events import DockerEvent, EventLog, event_matches
from simulator.trace.export_mermaid import escape_mermaid, to_mermaid
from simulator.trace.export_perfetto import (
    HOP_LABELS,
    dumps_chrome_trace,
    to_chrome_trace,
    write_chrome_trace,
)
from simulator.trace.export_tree import render_span_tree
from simulator.trace.jsonl import dumps_spans, loads_spans, read_spans, write_spans
from simulator.trace.span import HOPS, Span
from simulator.trace.tracer import SpanContext, Tracer

__all__ = [
    "HOPS",
    "HOP_LABELS",
    "DockerEvent",
    "EventLog",
    "Span",
    "SpanContext",
    "SubscriberError",
    "TraceBus",
    "Tracer",
    "dumps_chrome_trace",
    "dumps_spans",
    "escape_mermaid",
    "event_matches",
    "loads_spans",
    "read_spans",
    "render_span_tree",
    "to_chrome_trace",
    "to_mermaid",
    "write_chrome_trace",
    "write_spans",
]
