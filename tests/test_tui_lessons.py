"""Pilot tests of the lesson pane on the embedded simulated world.

A student opens a lesson (``csim tui --lesson ID`` or the lesson list),
types the step's command, and the pane checks it live; hints come one by one,
questions are answered with number keys (a prediction before the command
runs), a watch step pauses the animation at its span, and progress is saved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.tui.app import CsimApp, make_app
from simulator.tui.backend import EmbeddedBackend
from simulator.tui.widgets.console import CommandBar, Console
from simulator.tui.widgets.lesson import LessonPane

SIZE = (120, 40)


def _app(tmp_path: Path, lesson: str | None = "image-layers", language: str = "en") -> CsimApp:
    backend = EmbeddedBackend.create(seed=0)
    return make_app(
        backend,
        language=language,  # type: ignore[arg-type]
        animate=False,
        lesson=lesson,
        progress_path=tmp_path / "lesson-progress.json",
    )


async def _settle(pilot, app: CsimApp) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _type(pilot, app: CsimApp, line: str) -> None:  # type: ignore[no-untyped-def]
    app.query_one(CommandBar).focus()
    await pilot.press(*("space" if c == " " else c for c in line))
    await pilot.press("enter")
    await _settle(pilot, app)


def _pane(app: CsimApp) -> str:
    return app.query_one(LessonPane).plain


def _console(app: CsimApp) -> str:
    return "\n".join(line.text for line in app.query_one(Console).lines)


async def test_lesson_checks_live_reveals_hints_pauses_at_the_watched_span_and_saves(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, app)
        pane = app.query_one(LessonPane)
        assert pane.display and app.screen.has_class("-lesson")
        assert pane.border_title == "LESSON · Images are stacks of read-only layers"
        assert "step 1/4 · Layer by layer" in _pane(app)
        assert "not checked yet" in _pane(app)
        # `n` does not skip a step that has not passed.
        await pilot.press("escape", "n")
        assert "step 1/4" in _pane(app)
        # Hints one at a time, then no more.
        await pilot.press("h")
        assert "💡 1. `csim pull nginx`" in _pane(app)
        await pilot.press("h")
        assert "💡 2." not in _pane(app)
        # A wrong action is checked and fails with the lesson's feedback.
        await _type(pilot, app, "pull busybox")
        assert "✘ not yet: Pull nginx first." in _pane(app)
        await _type(pilot, app, "pull nginx")
        assert "✔ checked" in _pane(app)
        # Playing the animation stops at the watched registry span and explains it.
        target = app.lessons.session.watch_target  # type: ignore[union-attr]
        assert target is not None
        assert app.playing
        for _ in range(2000):
            app.tick(0.2)
            if not app.playing:
                break
        span = app.timeline.span(app.cursor)
        assert not app.playing and (span.trace_id, span.span_id) == target
        assert span.hop == "registry" and span.name.startswith("Pull layer")
        await pilot.pause()
        assert "👁 Watch: Layers travel separately" in _pane(app)
        await pilot.press("escape", "n")
        await _settle(pilot, app)
        assert "step 2/4 · Where layers come from" in _pane(app)
    saved = json.loads((tmp_path / "lesson-progress.json").read_text(encoding="utf-8"))
    record = saved["lessons"]["image-layers"]
    assert record["step"] == 1 and record["steps"]["pull-nginx"]["passed"] is True
    assert record["steps"]["pull-nginx"]["hints"] == 1


async def test_state_panel_reads_do_not_count_as_the_students_commands(tmp_path: Path) -> None:
    """The TUI reads every image's history for its panels; the `history` step still waits for the student."""
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, app)
        await _type(pilot, app, "pull nginx")
        await pilot.press("escape", "n")
        await _settle(pilot, app)
        await _type(pilot, app, "images")
        assert "step 2/4" in _pane(app) and "✘ not yet" in _pane(app)
        await _type(pilot, app, "history nginx")
        assert "✔ checked" in _pane(app)


async def test_prediction_is_asked_before_the_command_runs_then_quiz_explains_each_option(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, app)
        for line in ("pull nginx", "history nginx"):
            await _type(pilot, app, line)
            await pilot.press("escape", "n")
            await _settle(pilot, app)
        assert "step 3/4 · A layer you already have" in _pane(app)
        assert "Predict: Will the Debian base layer be downloaded again?" in _pane(app)
        await _type(pilot, app, "pull python:3.12-slim")
        # Held back: nothing ran, the console says why.
        assert "held until you answer the prediction" in _console(app)
        assert "Already exists" not in _console(app)
        await pilot.press("escape", "2")
        await _settle(pilot, app)
        assert "⭕ Right: the daemon checks each digest before downloading." in _pane(app)
        assert "Already exists" in _console(app)
        assert "✔ checked" in _pane(app)
        await pilot.press("n")
        await _settle(pilot, app)
        assert "Quiz: You change a file from the base layer" in _pane(app)
        await pilot.press("1")
        await _settle(pilot, app)
        assert "❌ Then sharing would be dangerous; layers are read-only." in _pane(app)
        assert "✔ checked" not in _pane(app)
        await pilot.press("2")
        await _settle(pilot, app)
        assert "⭕ Right: copy-on-write" in _pane(app) and "✔ checked" in _pane(app)
        await pilot.press("9")  # no such option: a warning, not a crash
        await pilot.press("n")
        await _settle(pilot, app)
        assert "🎉 Lesson complete" in _pane(app)
        assert app.is_running


async def test_lesson_list_opens_from_the_key_and_the_palette_and_speaks_korean(tmp_path: Path) -> None:
    from simulator.tui.screens.lessons import LessonListScreen

    app = _app(tmp_path, lesson=None, language="ko")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, app)
        assert not app.query_one(LessonPane).display
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "레슨 목록 열기" in titles
        await pilot.press("f3")
        assert isinstance(app.screen, LessonListScreen)
        await pilot.press("down", "down", "down", "enter")  # the fourth lesson: image layers
        await _settle(pilot, app)
        assert app.lessons.session is not None and app.lessons.session.lesson.id == "image-layers"
        text = _pane(app)
        assert "1/4단계" in text and "nginx" in text and "아직 확인 전" in text
        assert (app.query_one(LessonPane).border_title or "").startswith("레슨 · ")
        # Switching the UI language switches the lesson's language, progress kept.
        await pilot.press("escape", "h", "l")
        assert app.language == "en"
        assert "step 1/4 · Layer by layer" in _pane(app) and "💡 1." in _pane(app)


async def test_an_unknown_lesson_is_a_notification_not_a_crash(tmp_path: Path) -> None:
    app = _app(tmp_path, lesson="no-such-lesson")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, app)
        assert app.lessons.session is None and app.is_running
        assert any("no lesson 'no-such-lesson'" in n.message for n in app._notifications)
        await pilot.press("escape", "h", "n", "1")  # lesson keys do nothing without a lesson
        assert app.is_running


@pytest.mark.parametrize("size", [(80, 24)])
async def test_lesson_pane_fits_a_small_terminal(tmp_path: Path, size: tuple[int, int]) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await _settle(pilot, app)
        pane = app.query_one(LessonPane)
        assert pane.region.width >= 30 and pane.region.height >= 5
        assert app.query_one(CommandBar).region.height > 0
