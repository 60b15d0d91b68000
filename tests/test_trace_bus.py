"""TraceBus: the Tracer's sink, a bounded ring, and a fan-out that survives bad subscribers."""

from __future__ import annotations

import pytest

from simulator.trace import Span, TraceBus, Tracer
from simulator.trace.bus import SubscriberError


def make_span(trace: str, span_id: int, start: float = 0.0) -> Span:
    return Span(trace, span_id, None, "cli", f"s{span_id}", start, start + 1.0)


def test_bus_is_the_tracer_sink_and_keeps_end_order() -> None:
    clock = [0.0]
    bus = TraceBus()
    tracer = Tracer(lambda: clock[0], bus)
    root = tracer.start("cli", "docker run")
    clock[0] = 0.5
    child = tracer.start("api", "POST /containers/create", parent=root)
    clock[0] = 1.0
    tracer.end(child, status=201)
    clock[0] = 2.0
    tracer.end(root)
    assert [(s.hop, s.name, s.start, s.end) for s in bus.spans()] == [
        ("api", "POST /containers/create", 0.5, 1.0),
        ("cli", "docker run", 0.0, 2.0),
    ]
    assert bus.traces() == ["req-000001"]
    assert bus.spans("req-000001")[0].attrs == {"status": 201}
    assert bus.count == 2


def test_a_started_span_is_the_span_the_bus_keeps() -> None:
    clock = [1.0]
    bus = TraceBus()
    tracer = Tracer(lambda: clock[0], bus)
    ctx = tracer.start("dockerd", "ContainerStart", container="web")
    assert (ctx.start, ctx.end) == (1.0, 1.0)  # open: no time has passed yet
    assert len(bus) == 0  # nothing is published before it ends
    clock[0] = 3.5
    span = tracer.end(ctx, status=204)
    assert span is ctx and bus.spans() == [ctx]
    assert (span.start, span.end, span.duration) == (1.0, 3.5, 2.5)
    assert span.attrs == {"container": "web", "status": 204}


def test_ring_drops_oldest_but_counts_everything() -> None:
    bus = TraceBus(max_spans=3)
    for i in range(1, 6):
        bus(make_span(f"t{(i + 1) // 2}", i))
    assert [s.span_id for s in bus.spans()] == [3, 4, 5]
    assert bus.count == 5
    assert bus.dropped == 2
    assert len(bus) == 3
    # t1 (spans 1, 2) fell out entirely; t2 kept only span 3 and 4.
    assert bus.traces() == ["t2", "t3"]
    assert [s.span_id for s in bus.spans("t2")] == [3, 4]
    assert bus.spans("t1") == []


def test_subscribe_and_unsubscribe() -> None:
    bus = TraceBus()
    seen: list[int] = []
    unsubscribe = bus.subscribe(lambda s: seen.append(s.span_id))
    bus(make_span("t", 1))
    unsubscribe()
    unsubscribe()  # harmless twice
    bus(make_span("t", 2))
    assert seen == [1]
    assert bus.subscriber_count == 0


def test_failing_subscriber_is_removed_and_reported() -> None:
    reports: list[SubscriberError] = []
    bus = TraceBus(on_subscriber_error=reports.append)
    good: list[int] = []

    def bad(span: Span) -> None:
        raise RuntimeError("boom")

    bus.subscribe(bad)
    bus.subscribe(lambda s: good.append(s.span_id))
    bus(make_span("t", 1))  # must not raise
    bus(make_span("t", 2))
    assert good == [1, 2]
    assert bus.subscriber_count == 1
    assert len(reports) == 1
    assert reports[0].span_id == 1
    assert "boom" in reports[0].error
    assert bus.subscriber_errors == reports


def test_clear_forgets_spans_and_count() -> None:
    bus = TraceBus()
    bus(make_span("t", 1))
    bus.clear()
    assert bus.spans() == [] and bus.traces() == [] and bus.count == 0


def test_bus_has_an_events_channel() -> None:
    bus = TraceBus()
    bus.events.log("container", "create", "abc", {"name": "web"}, time_ns=5)
    assert [e.action for e in bus.events.events()] == ["create"]
    assert bus.spans() == []


def test_max_spans_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TraceBus(max_spans=0)
