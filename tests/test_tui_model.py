"""The TUI's pure parts: timeline and snapshots, layout, completion, i18n, backend choice."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.trace.events import DockerEvent
from simulator.trace.span import HOPS, Span
from simulator.tui import i18n
from simulator.tui.backend import BackendError, LiveBackend, open_backend
from simulator.tui.completion import CommandHistory, complete, split_command
from simulator.tui.fake_backend import FakeBackend
from simulator.tui.flow_layout import HOP_TITLES, FlowLayout, Packet, hop_graph, render_flow
from simulator.tui.snapshot import take_snapshot
from simulator.tui.timeline import Timeline


def _recorded(*commands: list[str]) -> tuple[FakeBackend, Timeline]:
    backend = FakeBackend()
    heard: list[int] = [0]
    timeline = Timeline(take_snapshot(backend))

    def event_heard(event: DockerEvent) -> None:
        heard[0] += 1
        timeline.add_event(backend.clock(), event)

    def span_heard(span: Span) -> None:
        timeline.add_span(span)

    backend.subscribe_events(event_heard)
    backend.subscribe_spans(span_heard)
    for argv in commands:
        backend.run_cli(argv)
        timeline.checkpoint(take_snapshot(backend, heard[0]))
    return backend, timeline


def test_steps_are_in_start_order_and_follow_the_hops_down() -> None:
    _, timeline = _recorded(["run", "-d", "--name", "web", "nginx"])
    spans = timeline.spans()
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    assert spans[0].hop == "cli" and spans[0].parent_id is None
    start_api = next(i for i, s in enumerate(spans) if s.name.endswith("/start"))
    assert [s.hop for s in spans[start_api:]] == ["api", "dockerd", "containerd", "shim", "runc", "kernel"]


def test_state_at_rewinds_run_from_running_to_created_to_gone() -> None:
    _, timeline = _recorded(["run", "-d", "--name", "web", "nginx"])
    last = len(timeline) - 1
    states = [{c.name: c.state for c in timeline.state_at(i).containers} for i in range(last + 1)]
    assert states[last] == {"web": "running"}
    assert states[last - 2] == {"web": "created"}
    assert states[0] == {}
    # gone* created* running*: each state appears in one run, in lifecycle order.
    seq = [s.get("web", "gone") for s in states]
    assert [k for i, k in enumerate(seq) if i == 0 or seq[i - 1] != k] == ["gone", "created", "running"]
    assert seq.index("created") < seq.index("running")
    assert all(x == "gone" for x in seq[: seq.index("created")])


def test_state_between_commands_uses_each_commands_snapshot() -> None:
    _, timeline = _recorded(["run", "-d", "--name", "web", "nginx"], ["pause", "web"], ["rm", "-f", "web"])
    first_end = timeline.batch_bounds(0)[1]
    assert timeline.state_at(first_end).container("web").state == "running"  # type: ignore[union-attr]
    pause_end = timeline.batch_bounds(first_end + 1)[1]
    assert timeline.state_at(pause_end).container("web").state == "paused"  # type: ignore[union-attr]
    assert timeline.state_at(len(timeline) - 1).containers == ()
    assert timeline.request_start(pause_end) == first_end + 1
    assert timeline.request_end(first_end + 1) == pause_end


def test_frame_names_the_parent_hop_the_packet_leaves_from() -> None:
    _, timeline = _recorded(["run", "-d", "--name", "web", "nginx"])
    kernel = next(i for i, s in enumerate(timeline.spans()) if s.hop == "kernel")
    moving, concurrent = timeline.frame(kernel)
    assert moving is not None and moving.from_hop == "runc"
    assert {"cli", "api", "dockerd", "containerd", "shim", "runc"} <= {c.span.hop for c in concurrent}


def test_timeline_memory_is_bounded() -> None:
    backend = FakeBackend()
    timeline = Timeline(take_snapshot(backend), max_steps=50)

    def span_heard(span: Span) -> None:
        timeline.add_span(span)

    backend.subscribe_spans(span_heard)
    for i in range(20):
        backend.run_cli(["run", "-d", "--name", f"c{i}", "busybox"])
        timeline.checkpoint(take_snapshot(backend))
    assert len(timeline) <= 50
    assert timeline.dropped_steps > 0


def test_layer_tree_marks_shared_layers() -> None:
    backend, _ = _recorded(["pull", "nginx"], ["pull", "python:3.12-slim"])
    snapshot = take_snapshot(backend)
    from simulator.tui.widgets.state_panels import render_images

    text = render_images(snapshot, "en").plain
    assert text.count("shared ×2") == 2  # the Debian base layer under both images
    assert "nginx:latest  5 layers" in text


def test_hop_graph_has_every_hop_and_the_layout_places_each_once() -> None:
    graph = hop_graph()
    assert set(graph.nodes) == set(HOPS)
    layout = FlowLayout(80, 17)
    boxes = list(layout.boxes.values())
    assert {b.hop for b in boxes} == set(HOPS)
    for a in boxes:
        for b in boxes:
            if a is not b and a.top == b.top:
                assert a.right < b.left or b.right < a.left, (a, b)
    assert layout.path("cli", "dockerd") == layout.routes[("cli", "api")] + layout.routes[("api", "dockerd")]


def test_render_flow_shows_labels_packet_and_arrow() -> None:
    layout = FlowLayout(80, 17)
    text = render_flow(
        layout, {"api": "#ff0000"}, [Packet("cli", "api", 1.0, "POST /containers/create", "#ffb000")]
    ).plain
    for title in HOP_TITLES.values():
        assert title in text
    assert "▶" in text and "POST /contain" in text


def test_completion_offers_commands_flags_and_names() -> None:
    backend, _ = _recorded(["run", "-d", "--name", "web", "nginx"])
    snapshot = take_snapshot(backend)
    assert "run " not in complete("ru") and "run" in complete("ru")
    assert "stop web" in complete("stop w", snapshot)
    assert "run --name" in complete("run --na", snapshot)
    assert "run -d nginx:latest" in complete("run -d ngi", snapshot)
    assert "network ls" in complete("network l")
    assert split_command("docker ps -a") == ["ps", "-a"]
    with pytest.raises(ValueError):
        split_command("run 'unbalanced")


def test_history_walks_back_and_returns_to_the_draft() -> None:
    history = CommandHistory()
    for line in ("ps", "images", "images", ""):
        history.add(line)
    assert history.lines == ["ps", "images"]
    assert history.previous("draft") == "images"
    assert history.previous("images") == "ps"
    assert history.previous("ps") == "ps"
    assert history.next() == "images"
    assert history.next() == "draft"


def test_every_catalog_entry_has_both_languages_and_the_same_fields() -> None:
    for key in i18n.KEYS:
        en, ko = i18n.tr(key, "en"), i18n.tr(key, "ko")
        assert en and ko
        fields_en = set(re.findall(r"{(\w+)}", i18n._CATALOG[key][0]))
        fields_ko = set(re.findall(r"{(\w+)}", i18n._CATALOG[key][1]))
        assert fields_en == fields_ko, key


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LC_ALL": "C", "LANG": "ko_KR"}, "en"),
        ({"LC_MESSAGES": "ko_KR.UTF-8"}, "ko"),
        ({}, "en"),
    ],
)
def test_default_language_follows_the_locale(env: dict[str, str], lang: str) -> None:
    assert i18n.default_language(env) == lang


def test_open_backend_chooses_by_spec() -> None:
    fake = FakeBackend()
    assert open_backend(fake) is fake
    live = open_backend("unix:///tmp/nowhere.sock")
    assert isinstance(live, LiveBackend) and live.socket_path == "/tmp/nowhere.sock"
    with pytest.raises(BackendError):
        open_backend("tcp://1.2.3.4:2375")
    with pytest.raises(BackendError, match="cannot reach"):
        live.api("GET", "/containers/json")


def test_only_the_tui_package_imports_textual() -> None:
    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys, importlib\n"
        "for m in ['simulator.tui', 'simulator.tui.backend', 'simulator.tui.timeline',"
        " 'simulator.tui.snapshot', 'simulator.tui.flow_layout', 'simulator.tui.completion',"
        " 'simulator.tui.i18n', 'simulator.tui.fake_backend', 'simulator.trace']:\n"
        "    importlib.import_module(m)\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
    offenders = [
        p
        for p in (root / "simulator").rglob("*.py")
        if "tui" not in p.relative_to(root / "simulator").parts[:1]
        and re.search(r"^\s*(from|import) textual(\.|\s|$)", p.read_text(), re.M)  # textual_serve is not textual
    ]
    assert offenders == []
