"""Pilot tests: drive the csim app on a fake backend (and the real world when it runs)."""

from __future__ import annotations

import pytest

from simulator.tui.app import SPEEDS, CsimApp, make_app
from simulator.tui.backend import Backend
from simulator.tui.fake_backend import FakeBackend
from simulator.tui.widgets.console import CommandBar, Console
from simulator.tui.widgets.containers import ContainersPanel
from simulator.tui.widgets.flow import FlowView
from simulator.tui.widgets.lifecycle import LifecycleDiagram
from simulator.tui.widgets.timeline_bar import TimelineBar

SIZE = (120, 40)


def _app(language: str = "en") -> CsimApp:
    return make_app(FakeBackend(), language=language, animate=False)  # type: ignore[arg-type]


async def _type(pilot, app: CsimApp, line: str) -> None:  # type: ignore[no-untyped-def]
    app.query_one(CommandBar).focus()
    await pilot.press(*("space" if c == " " else c for c in line))
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


def _containers(app: CsimApp) -> dict[str, str]:
    return {c.name: c.state for c in app.state().containers}


def _console(app: CsimApp) -> str:
    return "\n".join(line.text for line in app.query_one(Console).lines)


async def test_typed_run_animates_create_then_start_and_panels_follow() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _type(pilot, app, "run -d --name web nginx")
        names = [s.name for s in app.timeline.spans()]
        create = names.index("POST /containers/create")
        start = next(i for i, n in enumerate(names) if n.endswith("/start"))
        assert create < start
        assert app.cursor == 0 and app.playing  # the animation starts at the request's first span
        assert _containers(app) == {}
        # Play it through: 0.4 s a step at 1×.
        for _ in range(len(names) * 3):
            app.tick(0.2)
        assert app.cursor == len(names) - 1
        await pilot.pause()
        assert _containers(app) == {"web": "running"}
        panel = app.query_one(ContainersPanel)
        assert panel.row_count == 1 and str(panel.get_row_at(0)[2]) == "running"
        assert "web: running" in str(app.query_one(LifecycleDiagram).render())
        assert "Unable to find image 'nginx:latest' locally" in _console(app)
        # Stepping back twice shows web as created; further back, it does not exist.
        await pilot.press("escape", "left", "left")
        assert not app.playing
        assert _containers(app) == {"web": "created"}
        await pilot.press("home", "home")
        assert _containers(app) == {}
        assert "web: removed" in str(app.query_one(LifecycleDiagram).render())
        await pilot.press("end")
        assert _containers(app) == {"web": "running"}


async def test_flow_view_receives_packets_in_span_order() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _type(pilot, app, "run -d --name web nginx")
        seen = []
        for index in range(len(app.timeline)):
            app.seek(index, phase=0.5)
            scene = app.query_one(FlowView).scene
            seen.append((scene.packets[0].source, scene.packets[0].target))
            assert app.timeline.span(index).hop in scene.lit
        assert seen[0] == (None, "cli")
        tail = seen[-6:]
        assert tail == [
            ("cli", "api"),
            ("api", "dockerd"),
            ("dockerd", "containerd"),
            ("containerd", "shim"),
            ("shim", "runc"),
            ("runc", "kernel"),
        ]


async def test_pause_and_speed_keys_change_the_animation() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _type(pilot, app, "run -d --name web busybox")
        await pilot.press("escape")
        assert app.playing
        await pilot.press("space")
        assert not app.playing
        cursor, phase = app.cursor, app.phase
        app.tick(1.0)
        assert (app.cursor, app.phase) == (cursor, phase)  # paused: nothing moves
        await pilot.press("space")
        app.tick(0.1)
        assert app.phase > phase or app.cursor > cursor
        await pilot.press("plus", "plus")
        assert app.speed == 5.0
        for _ in range(10):
            await pilot.press("plus")
        assert app.speed == SPEEDS[-1] == 10.0
        for _ in range(10):
            await pilot.press("minus")
        assert app.speed == SPEEDS[0] == 0.1
        assert "0.1×" in str(app.title_text()) and "▶" in str(app.title_text())


async def test_language_switch_changes_visible_strings() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        flow = app.query_one(FlowView)
        assert flow.border_title == "REQUEST FLOW"
        await pilot.press("escape", "l")
        assert app.language == "ko"
        assert flow.border_title == "요청 흐름"
        assert app.query_one(CommandBar).placeholder.startswith("docker 명령")
        assert any(b.description == "도움말" for b in app._bindings.key_to_bindings["f1"])
        await pilot.press("f2")
        assert str(app.language) == "en" and flow.border_title == "REQUEST FLOW"


async def test_bad_input_shows_dockers_error_and_changes_nothing() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _type(pilot, app, "run -d --name web busybox")
        app.seek(len(app.timeline) - 1)
        before = _containers(app)
        await _type(pilot, app, "frobnicate")
        await _type(pilot, app, "stop nosuch")
        await _type(pilot, app, "run 'unbalanced")
        console = _console(app)
        assert "docker: 'frobnicate' is not a docker command." in console
        assert "Error response from daemon: No such container: nosuch" in console
        assert "cannot parse command line" in console
        await pilot.press("escape", "end")
        app.seek(len(app.timeline) - 1)
        assert _containers(app) == before == {"web": "running"}
        assert app.is_running


async def test_history_and_completion_in_the_command_bar() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _type(pilot, app, "run -d --name web busybox")
        await _type(pilot, app, "ps -a")
        bar = app.query_one(CommandBar)
        bar.focus()
        await pilot.press("up")
        assert bar.value == "ps -a"
        await pilot.press("up")
        assert bar.value == "run -d --name web busybox"
        await pilot.press("down", "down")
        assert bar.value == ""
        await pilot.press(*"pau", "tab")
        assert bar.value == "pause "
        await pilot.press("w", "tab")
        assert bar.value == "pause web "


async def test_help_screen_and_theme_and_compact_layout() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.has_class("-compact")
        await pilot.press("f1")
        from simulator.tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        dark = app.current_theme.dark
        await pilot.press("escape", "t")
        assert app.current_theme.dark != dark
        await pilot.press("v")
        assert app.screen.has_class("-panels")
        assert not app.query_one(FlowView).display or not app.query_one(FlowView).region


async def test_command_palette_offers_localised_entries() -> None:
    app = _app(language="ko")
    async with app.run_test(size=SIZE):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "언어 전환 (English / 한국어)" in titles
        assert "애니메이션 재생 또는 일시정지" in titles


async def test_many_spans_do_not_grow_the_backlog_without_bound() -> None:
    backend = FakeBackend()
    app = make_app(backend, language="en", animate=False)
    async with app.run_test(size=SIZE):
        for i in range(60):
            backend.run_cli(["run", "-d", "--name", f"c{i}", "busybox"])
        app.tick()
        assert len(app.timeline) - 1 - app.cursor <= 200


def _world_backend() -> Backend:
    try:
        from simulator.tui.backend import EmbeddedBackend

        backend = EmbeddedBackend.create(seed=0)
        probe = backend.run_cli(["pull", "busybox"])
    except Exception as exc:
        pytest.skip(f"the simulated world cannot run yet: {exc!r}")
    if probe.exit_code != 0:
        pytest.skip(f"the simulated world cannot pull yet: {probe.stderr.strip()}")
    return backend


async def test_real_world_run_shows_running_then_created_when_stepping_back() -> None:
    backend = _world_backend()
    app = make_app(backend, language="en", animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await _type(pilot, app, "run -d --name web busybox sleep 100")
        assert "POST /containers/create" in [s.name for s in app.timeline.spans()]
        await pilot.press("escape", "end")
        app.seek(len(app.timeline) - 1)
        assert _containers(app).get("web") == "running"
        states = {_containers_at(app, i).get("web", "gone") for i in range(len(app.timeline))}
        assert {"gone", "created", "running"} <= states


def _containers_at(app: CsimApp, index: int) -> dict[str, str]:
    return {c.name: c.state for c in app.timeline.state_at(index).containers}


async def test_spans_arriving_under_a_modal_screen_redraw_the_main_screen() -> None:
    """The help (or files, or lessons) screen on top must not break the animation tick."""
    backend = FakeBackend()
    app = make_app(backend, language="en", animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        from simulator.tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        backend.run_cli(["run", "-d", "--name", "web", "busybox"])
        for _ in range(5):
            app.tick(0.2)
        assert len(app.timeline) > 0 and app.is_running
        assert app.cursor >= 0 and "step" in str(app.main.query_one(TimelineBar).render())


@pytest.mark.parametrize("language", ["en", "ko"])
async def test_run_it_in_the_console_is_refused_as_docker_does_and_the_console_stays_usable(language: str) -> None:
    """The console is no terminal: ``-it`` gets docker's answer plus a hint, ``-i`` gets no input; nothing hangs."""
    backend = _world_backend()
    app = make_app(backend, language=language, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await _type(pilot, app, "run -it busybox sh")
        await _type(pilot, app, "run -i --name cat1 busybox cat")
        await _type(pilot, app, "ps -a --format {{.Names}}")
        console = _console(app)
        assert "the input device is not a TTY" in console
        assert ("exec box ps" in console) and (("콘솔" in console) == (language == "ko"))
        assert console.rstrip().endswith("cat1")  # only cat1 was created, and it ran to its end
        app.seek(len(app.timeline) - 1)
        assert _containers(app) == {"cat1": "exited"}
