"""Golden traces: scripted scenarios give byte-identical JSONL traces, and exact hop timings.

Regenerate after an intended model change with ``CSIM_REGEN_GOLDEN=1 pytest tests/test_golden_traces.py``
and review the diff: every changed line is a changed span.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.des.world import World
from simulator.trace.jsonl import dumps_spans

GOLDEN = Path(__file__).parent / "golden"


def pull_shared_base(w: World) -> None:
    w.run_cli(["pull", "nginx"])
    w.run_cli(["pull", "python:3.12-slim"])


def run_stop_rm(w: World) -> None:
    w.run_cli(["pull", "busybox"])
    w.run_cli(["run", "-d", "--name", "job", "busybox", "sleep", "300"])
    w.run_cli(["stop", "-t", "1", "job"])
    w.run_cli(["rm", "job"])


SCENARIOS: dict[str, Callable[[World], None]] = {
    "pull_shared_base": pull_shared_base,
    "run_stop_rm": run_stop_rm,
}


def trace_of(scenario: Callable[[World], None]) -> str:
    world = World(seed=42)
    scenario(world)
    return dumps_spans(world.bus.spans())


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_trace(name: str) -> None:
    text = trace_of(SCENARIOS[name])
    path = GOLDEN / f"{name}.jsonl"
    if os.environ.get("CSIM_REGEN_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_seed_same_bytes(name: str) -> None:
    assert trace_of(SCENARIOS[name]) == trace_of(SCENARIOS[name])


def test_hop_timings_of_one_start() -> None:
    """Exact (hop, name, start) of `docker start` on a created container, as SimPy's own tests do."""
    w = World(seed=1)
    w.run_cli(["pull", "busybox"])
    w.run_cli(["create", "--name", "t1", "busybox", "true"])
    first = len(w.bus.spans())
    w.run_cli(["start", "t1"])
    spans = w.bus.spans()[first:]
    t0 = min(s.start for s in spans)
    got = [(s.hop, s.name, round(s.start - t0, 6)) for s in sorted(spans, key=lambda s: (s.start, s.span_id))]
    path = GOLDEN / "start_timings.txt"
    text = "\n".join(f"{hop} {start:.6f} {name}" for hop, name, start in got) + "\n"
    if os.environ.get("CSIM_REGEN_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    hops = [g[0] for g in got]
    assert hops[:3] == ["cli", "api", "dockerd"]
    assert {"containerd", "shim", "runc", "kernel"} <= set(hops)
