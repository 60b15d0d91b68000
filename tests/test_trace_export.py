"""Exporters: Chrome trace-event JSON (validated against the format's rules),
Mermaid sequence diagrams and the span tree printed by ``csim --trace``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.tree import Tree

from simulator.trace import (
    HOPS,
    Span,
    dumps_chrome_trace,
    escape_mermaid,
    render_span_tree,
    to_chrome_trace,
    to_mermaid,
    write_chrome_trace,
)


def run_trace(trace: str = "req-000001", offset: int = 0) -> list[Span]:
    """A `docker run` with two concurrent layer downloads on the registry hop."""
    o = offset
    return [
        Span(trace, o + 1, None, "cli", "docker run busybox", 0.0, 1.0),
        Span(trace, o + 2, o + 1, "api", "POST /containers/create", 0.01, 0.2, {"status": 201}),
        Span(trace, o + 3, o + 2, "dockerd", "create container", 0.02, 0.19),
        Span(trace, o + 4, o + 3, "registry", "GET /v2/library/busybox/blobs/sha256:aa", 0.03, 0.12),
        Span(trace, o + 5, o + 3, "registry", "GET /v2/library/busybox/blobs/sha256:bb", 0.05, 0.15),
        Span(trace, o + 6, o + 1, "api", "POST /containers/x/start", 0.3, 0.9, {"status": 204}),
        Span(trace, o + 7, o + 6, "runc", "runc create", 0.4, 0.6),
        Span(trace, o + 8, o + 7, "kernel", "clone(CLONE_NEWPID|CLONE_NEWNS)", 0.45, 0.45),
    ]


# -- a validator for the Chrome trace-event format -----------------------------

REQUIRED = {
    "X": {"name": str, "ph": str, "ts": (int, float), "dur": (int, float), "pid": int, "tid": int},
    "M": {"name": str, "ph": str, "pid": int, "args": dict},
}
METADATA_NAMES = {
    "process_name": ("name", str),
    "process_sort_index": ("sort_index", int),
    "thread_name": ("name", str),
    "thread_sort_index": ("sort_index", int),
    "process_labels": ("labels", str),
}


def validate_trace_events(doc: Any) -> list[str]:
    """Problems with a JSON-object-format trace; empty when it is valid."""
    problems: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        return ["top level must be an object with a traceEvents array"]
    if doc.get("displayTimeUnit") not in (None, "ms", "ns"):
        problems.append("displayTimeUnit must be 'ms' or 'ns'")
    named_threads: set[tuple[int, int]] = set()
    for i, ev in enumerate(doc["traceEvents"]):
        ph = ev.get("ph")
        if ph not in REQUIRED:
            problems.append(f"event {i}: unexpected phase {ph!r}")
            continue
        for key, kind in REQUIRED[ph].items():
            if not isinstance(ev.get(key), kind) or isinstance(ev.get(key), bool):
                problems.append(f"event {i}: {key} must be {kind}")
        if "args" in ev and not isinstance(ev["args"], dict):
            problems.append(f"event {i}: args must be an object")
        if ph == "X":
            if isinstance(ev.get("dur"), int | float) and ev["dur"] < 0:
                problems.append(f"event {i}: negative dur")
            if isinstance(ev.get("ts"), int | float) and ev["ts"] < 0:
                problems.append(f"event {i}: negative ts")
            if (ev.get("pid"), ev.get("tid")) not in named_threads:
                problems.append(f"event {i}: thread without thread_name metadata")
        if ph == "M":
            spec = METADATA_NAMES.get(ev.get("name"))
            if spec is None:
                problems.append(f"event {i}: unknown metadata {ev.get('name')!r}")
            elif not isinstance(ev["args"].get(spec[0]), spec[1]):
                problems.append(f"event {i}: {ev['name']} needs args.{spec[0]}")
            if ev.get("name", "").startswith("thread_") and not isinstance(ev.get("tid"), int):
                problems.append(f"event {i}: thread metadata needs tid")
            if ev.get("name") == "thread_name":
                named_threads.add((ev["pid"], ev["tid"]))
    problems.extend(_nesting_problems(doc["traceEvents"]))
    return problems


def _nesting_problems(events: list[dict[str, Any]]) -> list[str]:
    """Complete events on one thread must nest or be disjoint."""
    problems = []
    by_thread: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for ev in events:
        if ev.get("ph") == "X":
            by_thread.setdefault((ev["pid"], ev["tid"]), []).append((ev["ts"], ev["ts"] + ev["dur"]))
    for thread, spans in by_thread.items():
        stack: list[float] = []
        for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1] <= start:
                stack.pop()
            if stack and end > stack[-1]:
                problems.append(f"thread {thread}: overlapping, not nested, events")
            stack.append(end)
    return problems


def test_validator_catches_bad_documents() -> None:
    assert validate_trace_events([]) != []
    bad = {"traceEvents": [{"ph": "X", "name": "x", "ts": 0, "dur": -1, "pid": 1, "tid": 1}]}
    problems = validate_trace_events(bad)
    assert any("negative dur" in p for p in problems)
    assert any("thread_name" in p for p in problems)
    overlap = {
        "traceEvents": [
            {"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "t"}},
            {"ph": "X", "name": "a", "ts": 0, "dur": 10, "pid": 1, "tid": 1},
            {"ph": "X", "name": "b", "ts": 5, "dur": 10, "pid": 1, "tid": 1},
        ]
    }
    assert any("not nested" in p for p in validate_trace_events(overlap))


def test_chrome_trace_is_valid_and_complete() -> None:
    spans = run_trace() + run_trace("req-000002", offset=100)
    doc = to_chrome_trace(spans)
    assert validate_trace_events(doc) == []
    assert doc["displayTimeUnit"] == "ms"
    complete = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert len(complete) == len(spans)
    assert {e["pid"] for e in complete} == {1, 2}
    create = next(e for e in complete if e["name"] == "POST /containers/create")
    assert create["ts"] == 10000 and create["dur"] == 190000  # microseconds
    assert create["args"]["status"] == 201 and create["args"]["span_id"] == 2
    assert create["cat"] == "api"


def test_chrome_trace_metadata_names_processes_and_threads_in_hop_order() -> None:
    doc = to_chrome_trace(run_trace())
    meta = [e for e in doc["traceEvents"] if e["ph"] == "M"]
    processes = [e["args"]["name"] for e in meta if e["name"] == "process_name"]
    assert processes == ["req-000001: docker run busybox"]
    names = {e["tid"]: e["args"]["name"] for e in meta if e["name"] == "thread_name"}
    order = {e["tid"]: e["args"]["sort_index"] for e in meta if e["name"] == "thread_sort_index"}
    by_sort = [names[tid] for tid in sorted(order, key=order.__getitem__)]
    assert by_sort == ["CLI", "REST API", "dockerd", "runc", "kernel", "registry", "registry #2"]
    hop_positions = [HOPS.index(h) for h in ("cli", "api", "dockerd", "runc", "kernel", "registry")]
    assert hop_positions == sorted(hop_positions)


def test_concurrent_spans_on_one_hop_get_separate_lanes() -> None:
    doc = to_chrome_trace(run_trace())
    blobs = [e for e in doc["traceEvents"] if e["ph"] == "X" and "blobs" in e["name"]]
    assert len({e["tid"] for e in blobs}) == 2


def test_chrome_trace_is_deterministic_json(tmp_path: Path) -> None:
    text = dumps_chrome_trace(run_trace())
    assert text == dumps_chrome_trace(run_trace())
    path = tmp_path / "trace.json"
    write_chrome_trace(run_trace(), path)
    assert validate_trace_events(json.loads(path.read_text(encoding="utf-8"))) == []


def test_non_json_attrs_become_strings() -> None:
    span = Span("t", 1, None, "cli", "x", 0.0, 1.0, {"path": Path("/x"), "n": float("inf")})
    args = to_chrome_trace([span])["traceEvents"][-1]["args"]
    assert args["path"] == "/x" and args["n"] == "inf"
    json.dumps(args, allow_nan=False)


# -- Mermaid ------------------------------------------------------------------


def test_mermaid_sequence_diagram() -> None:
    text = to_mermaid(run_trace()[:3] + run_trace()[5:7])
    assert text.splitlines() == [
        "sequenceDiagram",
        "    participant cli as CLI",
        "    participant api as REST API",
        "    participant dockerd as dockerd",
        "    participant runc as runc",
        "    Note over cli: req-000001 docker run busybox",
        "    cli->>api: POST /containers/create",
        "    api->>dockerd: create container",
        "    dockerd-->>api: 170.000 ms",
        "    api-->>cli: 201",
        "    cli->>api: POST /containers/x/start",
        "    api->>runc: runc create",
        "    runc-->>api: 200.000 ms",
        "    api-->>cli: 204",
    ]


def test_mermaid_without_returns_has_one_arrow_per_span() -> None:
    text = to_mermaid(run_trace(), returns=False)
    arrows = [line for line in text.splitlines() if "->>" in line]
    assert len(arrows) == len(run_trace()) - 1  # the root is a note
    assert "-->>" not in text
    assert "    registry->>" not in text


def test_mermaid_escapes_special_characters() -> None:
    assert escape_mermaid("a;b#c:d") == "a#59;b#35;c#58;d"
    assert escape_mermaid("x\ny") == "x y"
    text = to_mermaid(run_trace())
    assert "clone(CLONE_NEWPID|CLONE_NEWNS)" in text
    assert "sha256#58;aa" in text
    for line in text.splitlines()[1:]:
        label = line.split(": ", 1)[1] if ": " in line else ""
        assert ";" not in label.replace("#59;", "").replace("#58;", "").replace("#35;", "")


def test_mermaid_all_hops_declares_every_participant() -> None:
    text = to_mermaid(run_trace(), all_hops=True)
    declared = [line.split()[1] for line in text.splitlines() if line.strip().startswith("participant")]
    assert declared == list(HOPS)


# -- span tree ----------------------------------------------------------------


def test_span_tree_text() -> None:
    text = render_span_tree(run_trace()[:3] + run_trace()[5:8], as_text=True)
    assert text.splitlines() == [
        "req-000001",
        "└── [cli] docker run busybox  1000.000 ms",
        "    ├── [api] POST /containers/create  190.000 ms  status=201",
        "    │   └── [dockerd] create container  170.000 ms",
        "    └── [api] POST /containers/x/start  600.000 ms  status=204",
        "        └── [runc] runc create  200.000 ms",
        "            └── [kernel] clone(CLONE_NEWPID|CLONE_NEWNS)  0.000 ms",
    ]


def test_span_tree_orphans_become_roots() -> None:
    text = render_span_tree(run_trace()[2:3], as_text=True)
    assert text.splitlines()[1].startswith("└── [dockerd] create container")


def test_span_tree_rich() -> None:
    tree = render_span_tree(run_trace() + run_trace("req-000002", 100))
    assert isinstance(tree, Tree)
    assert len(tree.children) == 2
    console = Console(width=120, record=True, color_system=None)
    console.print(tree)
    out = console.export_text()
    assert "[api] POST /containers/create  190.000 ms  status=201" in out
    assert "req-000002" in out


def test_importing_the_trace_package_does_not_import_rich() -> None:
    import subprocess
    import sys

    code = "import sys, simulator.trace; print('rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_csim_trace_export_of_a_real_session_is_valid(tmp_path: Path) -> None:
    """`csim trace export` after a pull and a run: Perfetto JSON that passes the validator, Mermaid, JSONL."""
    from simulator.des.world import World
    from simulator.trace.jsonl import loads_spans

    world = World(seed=11)
    assert world.run_cli(["pull", "nginx"]).exit_code == 0
    assert world.run_cli(["run", "--rm", "busybox", "echo", "hi"]).exit_code == 0
    out = tmp_path / "trace.json"
    assert world.run_cli(["trace", "export", "--format", "perfetto", "-o", str(out)]).exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert validate_trace_events(doc) == []
    hops = {e["args"]["name"] for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"CLI", "REST API", "dockerd", "containerd", "runc", "kernel", "registry"} <= {
        h.split(" #")[0] for h in hops
    }
    mermaid = world.run_cli(["trace", "export", "--format", "mermaid"]).stdout
    assert mermaid.startswith("sequenceDiagram")
    jsonl = world.run_cli(["trace", "export"]).stdout
    spans = loads_spans(jsonl)
    assert any(s.name == "POST /containers/create" for s in spans)
