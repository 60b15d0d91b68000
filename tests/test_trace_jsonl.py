"""JSONL traces: canonical bytes (golden files rely on it) and line-numbered errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from simulator.trace import (
    Span,
    TraceBus,
    Tracer,
    dumps_spans,
    loads_spans,
    read_spans,
    write_spans,
)
from simulator.trace.jsonl import dumps_span


def sample() -> list[Span]:
    clock = [0.0]
    bus = TraceBus()
    tracer = Tracer(lambda: clock[0], bus)
    root = tracer.start("cli", "docker run busybox", argv=["run", "busybox"])
    clock[0] = 0.1 + 0.2  # 0.30000000000000004: rounding must make it stable
    api = tracer.start("api", "POST /containers/create", parent=root, user_agent="Docker-Client/28.2.2")
    clock[0] = 1 / 3
    tracer.end(api, status=201, note="überall ✓")
    clock[0] = 2.0
    tracer.end(root)
    return bus.spans()


def test_line_is_sorted_compact_and_rounded() -> None:
    line = dumps_span(sample()[0])
    assert line == (
        '{"attrs":{"note":"überall ✓","status":201,"user_agent":"Docker-Client/28.2.2"},'
        '"end":0.333333333,"hop":"api","name":"POST /containers/create","parent_id":1,'
        '"span_id":2,"start":0.3,"trace_id":"req-000001"}'
    )


def test_identical_spans_give_identical_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert write_spans(sample(), a) == 2
    write_spans(sample(), b)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes().endswith(b"}\n")
    assert a.read_bytes().count(b"\n") == 2


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_spans(sample(), path)
    spans = read_spans(path)
    assert [s.name for s in spans] == ["POST /containers/create", "docker run busybox"]
    assert spans[0].start == 0.3 and spans[0].attrs["status"] == 201
    assert spans[1].attrs["argv"] == ["run", "busybox"]
    # Re-writing what was read reproduces the file exactly.
    assert dumps_spans(spans) == path.read_text(encoding="utf-8")


def test_streams_and_blank_lines() -> None:
    buffer = io.StringIO()
    write_spans(sample(), buffer)
    text = "\n" + buffer.getvalue() + "\n\n"
    assert len(loads_spans(text)) == 2
    assert len(read_spans(io.StringIO(buffer.getvalue()))) == 2


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 3: invalid JSON"),
        ("[1, 2]", "line 3: expected a JSON object, got list"),
        ('{"trace_id": "t"}', "line 3: missing key 'span_id'"),
        (
            json.dumps(
                {
                    "trace_id": "t",
                    "span_id": "x",
                    "parent_id": None,
                    "hop": "cli",
                    "name": "n",
                    "start": 0,
                    "end": 1,
                }
            ),
            "line 3: bad span",
        ),
    ],
)
def test_bad_line_reports_its_number(bad: str, message: str) -> None:
    good = dumps_spans(sample())
    with pytest.raises(ValueError) as err:
        loads_spans(good + bad + "\n")
    assert str(err.value).startswith(message)


def test_non_json_attribute_is_a_value_error() -> None:
    span = Span("t", 1, None, "cli", "x", 0.0, 1.0, {"bad": float("nan")})
    with pytest.raises(ValueError, match="span 1"):
        dumps_span(span)
