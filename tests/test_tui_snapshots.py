"""SVG snapshots of the csim TUI: what a person should see, view by view.

Stable by construction: the fake backend is deterministic (ids from a
counter, time from fixed steps), the terminal size is fixed, the animation
clock is off (``animate=False``) and each view is frozen at a fixed step and
packet position with ``seek``. Update with ``pytest --snapshot-update``.
"""

from __future__ import annotations

from typing import Any

from simulator.tui.app import CsimApp, make_app
from simulator.tui.fake_backend import FakeBackend

SIZE = (120, 40)


def _app(language: str = "en") -> CsimApp:
    return make_app(FakeBackend(), language=language, animate=False)  # type: ignore[arg-type]


def _commands(*lines: str, step: int | None = None, phase: float = 1.0, keys: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Any) -> None:
        app: CsimApp = pilot.app
        for line in lines:
            app.run_command(line)
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.playing = False
        last = len(app.timeline) - 1
        app.seek(last if step is None else (step if step >= 0 else last + step + 1), phase)
        app.screen.set_focus(None)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()
        # Let the panels' refresh after the last command land (a table can size its columns
        # one frame later); without this the containers table was caught half laid out.
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


def test_flow_view_mid_animation(snap_compare: Any) -> None:
    """After `run -d --name web nginx`, frozen half-way through the kernel span:
    the packet `clone(CLONE_...` is half-way along the runc → kernel edge,
    CLI, REST API, dockerd, containerd, shim and runc are lit (the call stack) and
    kernel is lit as the working component; the timeline cursor is on the last step
    (17 / 17), so the containers panel shows `web` running. The command bar keeps
    its three rows above the footer, and the footer shows every shown key in full,
    `F1 help` to `q quit`, with the paired keys as `←→ step` and `+- speed`."""
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_commands("run -d --name web nginx", step=-1, phase=0.5))


def test_layer_tree_with_shared_layers(snap_compare: Any) -> None:
    """After pulling nginx and python:3.12-slim: the images panel lists both with
    their layers, and the Debian base layer under each is marked `shared ×2`."""
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_commands("pull nginx", "pull python:3.12-slim"))


def test_lifecycle_diagram_paused(snap_compare: Any) -> None:
    """After `run -d --name db postgres` and `pause db`: the lifecycle panel titled
    `LIFECYCLE: db` lights `paused`, names the last transition running → paused,
    and the containers panel shows db with the yellow ◐ paused badge."""
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_commands("run -d --name db postgres", "pause db"))


def test_console_after_an_error(snap_compare: Any) -> None:
    """After `run -d --name web busybox` then `stop nosuch` and `frobnicate`: the
    console shows Docker's words in red, `Error response from daemon: No such
    container: nosuch` and `docker: 'frobnicate' is not a docker command.`, and
    the containers panel still shows web running."""
    assert snap_compare(
        _app(), terminal_size=SIZE, run_before=_commands("run -d --name web busybox", "stop nosuch", "frobnicate")
    )


def test_korean_ui(snap_compare: Any) -> None:
    """The same screen in Korean: panel titles 요청 흐름, 컨테이너, 이미지와 레이어,
    이벤트, 타임라인, 콘솔, 생명주기; the footer reads 도움말, 재생/정지, 종료; Docker's
    own words (running, POST /containers/create) stay as Docker prints them."""
    assert snap_compare(
        _app("ko"), terminal_size=SIZE, run_before=_commands("run -d --name web nginx", step=-2, phase=0.5)
    )


def test_compact_80x24(snap_compare: Any) -> None:
    """At 80×24 the side panels fold away: the flow diagram shows all nine
    components as one-row `[ CLI ]` boxes (the packet half-way along the
    runc → kernel edge, its label ending in `…` where it is cut), then a
    two-line timeline, the console with whole lines (a long id folds onto the next
    line instead of being cut), a one-row command bar and a footer that ends with
    `F3 lessons  l 한/EN  q quit` without cutting a word (theme and `:` are left to
    the help screen)."""
    assert snap_compare(
        _app(), terminal_size=(80, 24), run_before=_commands("run -d --name web nginx", step=-1, phase=0.5)
    )


def test_lesson_pane_after_a_checked_step(snap_compare: Any, tmp_path: Any) -> None:
    """The image-layers lesson on the simulated world after `pull nginx` and one hint:
    the bottom right pane is titled `LESSON · Images are stacks of read-only layers`
    (subtitle 1/4), shows `step 1/4 · Layer by layer`, the instruction, the suggested
    `$ csim pull nginx`, a green `✔ checked`, the hint `💡 1.` and the keys line
    `[n] next  [F3] lessons`; the lifecycle panel gives it its place."""
    from simulator.tui.backend import EmbeddedBackend

    app = make_app(
        EmbeddedBackend.create(seed=0),
        language="en",
        animate=False,
        lesson="image-layers",
        progress_path=tmp_path / "progress.json",
    )

    async def run_before(pilot: Any) -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await _commands("pull nginx", step=4, phase=0.5, keys=("h",))(pilot)
        await app.workers.wait_for_complete()
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_compact_80x24_with_a_lesson(snap_compare: Any, tmp_path: Any) -> None:
    """At 80×24 with the image-layers lesson open after `pull nginx`: the flow
    diagram still shows the whole chain, CLI to kernel plus registry and builder,
    as one-row `[ CLI ]` boxes; under the timeline the lesson takes the full width
    (`LESSON · Images are stacks of read-only layers`, step 1/4, its whole
    instruction wrapped between words, `✔ checked` and the `[h] hint  [n] next`
    line, no scrolling needed); the console's newest lines sit under it, then the
    command bar and a footer with F1 help, space, ←→ step, +- speed, F3 lessons,
    l 한/EN and q quit."""
    from simulator.tui.backend import EmbeddedBackend

    app = make_app(
        EmbeddedBackend.create(seed=0),
        language="en",
        animate=False,
        lesson="image-layers",
        progress_path=tmp_path / "progress.json",
    )

    async def run_before(pilot: Any) -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await _commands("pull nginx", step=4, phase=0.5)(pilot)
        await app.workers.wait_for_complete()
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
