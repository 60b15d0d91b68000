"""The TUI's cheap-redraw paths draw the same picture as a full redraw.

The flow view repaints only the rows a frame changed, the timeline bar draws
runs of equal colour, the diagram's boxes and edges are cached, and a batch's
bounds are O(1) under a flood. Each of those is an optimisation that must not
change what a person sees; these tests pin that down.
"""

from __future__ import annotations

import asyncio
import html
import importlib.util
import random
from pathlib import Path

from simulator.trace.span import HOPS, Span
from simulator.tui.app import CsimApp, make_app
from simulator.tui.fake_backend import FakeBackend
from simulator.tui.flow_layout import FlowLayout, Packet, draw_flow
from simulator.tui.snapshot import take_snapshot
from simulator.tui.timeline import Timeline
from simulator.tui.widgets.flow import FlowView
from simulator.tui.widgets.timeline_bar import TimelineBar, TimelineView

ROOT = Path(__file__).resolve().parents[1]


def _span(n: int, trace: str, start: float) -> Span:
    hop = HOPS[n % 7]
    return Span(trace, n + 1, None if n % 7 == 0 else n, hop, f"{hop} work", start, start + 0.003, {})


def _slow_bounds(timeline: Timeline, index: int) -> tuple[int, int]:
    batch = timeline.batch(index)
    members = [i for i in range(len(timeline)) if timeline.batch(i) is batch]
    return members[0], members[-1]


def test_batch_bounds_match_a_scan_while_old_steps_are_dropped() -> None:
    backend = FakeBackend()
    timeline = Timeline(take_snapshot(backend), max_steps=60)
    rng = random.Random(7)
    n = 0
    for round_ in range(12):
        for _ in range(rng.randint(1, 40)):
            timeline.add_span(_span(n, f"t{round_}-{n // 7}", n * 0.001 + rng.random() * 0.0005))
            n += 1
        if round_ % 3 != 2:  # some batches stay open across rounds, so the open one is trimmed too
            timeline.checkpoint(take_snapshot(backend))
        for index in range(len(timeline)):
            assert timeline.batch_bounds(index) == _slow_bounds(timeline, index)
    assert timeline.dropped_steps > 0 and len(timeline) <= 60


def test_cached_diagram_is_not_changed_by_the_packets_drawn_on_it() -> None:
    layout = FlowLayout(80, 15)
    packet = Packet("cli", "api", 0.5, "POST /create", "#ffb000")
    with_packet = draw_flow(layout, {"api": "#ffb000"}, [packet]).to_text().plain
    without = draw_flow(layout, {"api": "#ffb000"}, []).to_text().plain
    assert "POST /create" in with_packet and "●" in with_packet
    assert "POST" not in without and "●" not in without


def test_timeline_bar_text_names_the_cursor_and_the_step() -> None:
    async def go() -> str:
        app = make_app(FakeBackend(), language="en", animate=False)
        async with app.run_test(size=(100, 30)) as pilot:
            bar = app.query_one(TimelineBar)
            bar.show(TimelineView(("cli", "api", "api", "dockerd"), 10, 12, 20, "[api] GET /x", "step 3 / 4"))
            await pilot.pause()
            return str(bar.render())

    text = asyncio.run(go())
    bar, caption = text.split("\n")
    assert bar.startswith("██▲█  step 3 / 4")
    assert caption.rstrip() == "[api] GET /x"


def _screen_rows(app: CsimApp) -> list[str]:
    """The flow view's rows as the compositor would put them on the screen now."""
    region = app.query_one(FlowView).content_region
    strips = app.screen._compositor.render_strips()
    return ["".join(seg.text for seg in strips[y])[region.x : region.right] for y in region.line_range]


def test_partial_flow_repaints_end_on_the_same_screen_as_a_full_one() -> None:
    """Step through a run with row-level repaints, then force a full repaint: the screen must not change."""

    async def go() -> tuple[list[str], list[str]]:
        app = make_app(FakeBackend(), language="en", animate=False)
        async with app.run_test(size=(120, 40)) as pilot:
            app.playing = False
            app.run_command("run -d --name web nginx")
            for _ in range(100):
                await pilot.pause()
                if len(app.timeline) > 10 and not app.workers:
                    break
            for step in range(len(app.timeline)):
                app.seek(step, phase=0.5)
                await pilot.pause()
            partial = _screen_rows(app)
            app.query_one(FlowView).refresh()
            await pilot.pause()
            return partial, _screen_rows(app)

    partial, full = asyncio.run(go())
    assert any("REST API" in row for row in full)
    assert partial == full


def test_a_short_flow_panel_draws_every_component_as_slim_boxes() -> None:
    for height in (5, 7, 10):
        layout = FlowLayout(76, height)
        assert layout.box_height == 1
        assert all(box.bottom < height for box in layout.boxes.values())
        plain = draw_flow(layout, {}, []).to_text().plain
        assert all(f"[ {title} ]" in plain for title in ("CLI", "REST API", "dockerd", "kernel", "registry"))
    assert FlowLayout(76, 11).box_height == 3


def _footer_text(width: int, height: int, language: str = "en", *, typing: bool = False) -> str:
    """The footer's line; ``typing``: with the command bar focused (as at start), else with no focus."""
    from textual.widgets import Footer

    async def go() -> str:
        app = make_app(FakeBackend(), language=language, animate=False)  # type: ignore[arg-type]
        async with app.run_test(size=(width, height)) as pilot:
            await pilot.pause()
            if not typing:
                app.screen.set_focus(None)
                await pilot.pause()
            footer = app.query_one(Footer)
            strips = app.screen._compositor.render_strips()
            return "".join(seg.text for seg in strips[footer.region.y])

    return asyncio.run(go())


def test_the_footer_keeps_its_most_important_keys_at_80_and_120_columns() -> None:
    narrow = _footer_text(80, 24)
    for words in ("F1 help", "space play/pause", "←→ step", "+- speed", "F3 lessons", "l 한/EN", "q quit"):
        assert words in narrow, narrow
    assert "theme" not in narrow  # left to the help screen on a narrow terminal
    wide = _footer_text(120, 40)
    for words in ("F3 lessons", "t theme", ": command", "q quit"):
        assert words in wide, wide
    korean = _footer_text(80, 24, "ko")
    assert "F3 레슨" in korean and "q 종료" in korean, korean


def test_while_typing_the_footer_offers_the_keys_that_still_work() -> None:
    """Letters type into the command bar, so the footer names the F-keys instead."""
    typing = _footer_text(80, 24, typing=True)
    for words in ("F1 help", "F5 play/pause", "F6F7 step", "F3 lessons", "F2 한/EN", "^q quit"):
        assert words in typing, typing
    assert "space" not in typing and "speed" not in typing, typing


def test_the_readme_screenshot_script_writes_its_four_views(tmp_path: Path) -> None:
    """assets/make_screenshots.py runs headless and each SVG shows what the README says it does."""
    spec = importlib.util.spec_from_file_location("make_screenshots", ROOT / "assets" / "make_screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = asyncio.run(module.make_screenshots(tmp_path))
    names = sorted(p.name for p in written)
    assert names == ["tui-flow.svg", "tui-korean.svg", "tui-layers.svg", "tui-lesson.svg"]

    def text(name: str) -> str:
        return html.unescape((tmp_path / name).read_text(encoding="utf-8")).replace("\xa0", " ")

    assert "runc start" in text("tui-flow.svg") and "created" in text("tui-flow.svg")
    assert "shared ×2" in text("tui-layers.svg") and "python:3.12-slim" in text("tui-layers.svg")
    assert "요청 흐름" in text("tui-korean.svg") and "registry" in text("tui-korean.svg")
    assert "Layer by layer" in text("tui-lesson.svg") and "✔ checked" in text("tui-lesson.svg")
