"""The csim Textual app: the main screen, the animation clock and the cursor.

``CsimApp`` owns three things and nothing else: the :class:`Timeline` (every
span and event heard, with world snapshots), the *cursor* (the step every
panel shows the world as of, plus the packet's progress along its edge), and
the playback state (playing, speed). Spans and events arrive on any thread
into two inboxes; a 20 Hz tick drains them, advances the animation and
redraws only what changed. Commands run on a worker thread, one at a time,
and their output goes to the console exactly as the CLI printed it.

Once the first frame is drawn the app freezes the garbage collector's view
of everything built so far (Textual, networkx, the widgets): a full
collection then walks only what arrived later, so it no longer stalls a key
press for 50-150 ms in the middle of a flood of spans.

``make_app`` is the factory tests import; ``run_tui(spec)`` is what
``csim``/``csim tui`` call.
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingsMap
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from simulator.client.terminal import NOT_A_TTY
from simulator.trace.events import DockerEvent
from simulator.trace.span import Span
from simulator.tui.app_screens import ScreenActions
from simulator.tui.backend import Backend, BackendError, CommandResult, open_backend
from simulator.tui.bindings import app_bindings
from simulator.tui.completion import split_command
from simulator.tui.files import LayerFiles
from simulator.tui.flow_layout import TRACE_COLOURS, Packet
from simulator.tui.i18n import Language, default_language, other_language, tr
from simulator.tui.lesson_control import LessonControl
from simulator.tui.snapshot import WorldSnapshot, last_transition, take_snapshot
from simulator.tui.timeline import FrameSpan, Timeline
from simulator.tui.widgets.console import CommandBar, Console
from simulator.tui.widgets.containers import ContainersPanel
from simulator.tui.widgets.flow import FlowScene, FlowView
from simulator.tui.widgets.lesson import LessonPane
from simulator.tui.widgets.lifecycle import LifecycleDiagram
from simulator.tui.widgets.state_panels import EventsPanel, ImagesPanel, NetworksPanel
from simulator.tui.widgets.timeline_bar import TimelineBar, TimelineView

__all__ = ["SPEEDS", "CsimApp", "make_app", "run_tui"]

SPEEDS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
STEP_SECONDS = 0.4
"""Wall seconds one span's packet takes to cross its edge at 1×."""
TICK_SECONDS = 1 / 20
MAX_BACKLOG = 200
"""Steps the animation may trail the newest span by before it skips ahead."""
TIMELINE_WINDOW = 150
"""Steps either side of the cursor the timeline bar is given."""
MAX_DRAIN = 5000
"""Spans taken from the inbox per tick, so a flood cannot stall the UI."""
COMPACT_WIDTH = 100
COMPACT_HEIGHT = 32
"""Below either, panels stack or fold away (``-compact``, see app.tcss) and the footer shows fewer keys."""


class CsimApp(ScreenActions, App[None]):
    """Watch every request flow from the CLI to the kernel.

    Args:
        backend: the world to drive and watch.
        language: ``en`` or ``ko``; from the locale when None.
        seed: recorded for the title (the backend was built with it).
        animate: False stops the clock (tests step it with ``tick``).
        lesson: a lesson id to open at start.
        progress_path: where lesson progress is saved (in memory when None).
        catalog: the lessons (a ``simulator.lessons.catalog.Catalog``; the
            repository's ``lessons/`` when None).
    """

    CSS_PATH = "app.tcss"
    TITLE = "csim"
    BINDINGS = app_bindings("en")  # type: ignore[assignment]

    # ``var``, not ``reactive``: a reactive on the App repaints the whole screen when it changes, which made
    # every key press (space, +, -) a full-screen render; the watchers redraw exactly what changed.
    language: var[Language] = var("en", init=False)
    playing: var[bool] = var(True, init=False)
    speed: var[float] = var(1.0, init=False)

    def __init__(
        self,
        backend: Backend,
        *,
        language: Language | None = None,
        seed: int = 0,
        animate: bool = True,
        lesson: str | None = None,
        progress_path: Path | None = None,
        catalog: Any = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.seed = seed
        self.clock_running = animate
        self.timeline = Timeline(WorldSnapshot())
        self.cursor = -1
        self.phase = 1.0
        self.selected: str | None = None
        self._auto_selected: str | None = None
        self._span_inbox: deque[Span] = deque()
        self._event_inbox: deque[tuple[float, DockerEvent]] = deque()
        self._events_heard = 0
        self.command_lock = threading.Lock()
        self.lessons = LessonControl(self, progress_path, catalog)
        self._initial_lesson = lesson
        self._layer_files: dict[str, LayerFiles] = {}
        self._title_plain = ""
        self._unsubscribe: list[object] = []
        self._state_key: tuple[object, ...] | None = None
        self._view_ready = False
        self._narrow = False
        self._heap_frozen = False
        self.set_reactive(CsimApp.language, language or default_language())

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with Horizontal(id="main"):
            yield FlowView(id="flow")
            with Vertical(id="side"):
                yield ContainersPanel(id="containers")
                yield ImagesPanel(id="images")
                yield NetworksPanel(id="networks")
                yield EventsPanel(id="events")
        yield TimelineBar(id="timeline")
        with Horizontal(id="bottom"):
            yield Console(id="console")
            yield LifecycleDiagram(id="lifecycle")
            yield LessonPane(id="lesson")
        yield CommandBar(self._latest_snapshot, id="command")
        yield Footer()

    def on_mount(self) -> None:
        self._view_ready = True
        self._unsubscribe.append(self.backend.subscribe_spans(self._span_heard))
        self._unsubscribe.append(self.backend.subscribe_events(self._event_heard))
        try:
            self.timeline.checkpoint(take_snapshot(self.backend, self._events_heard))
        except (BackendError, OSError) as exc:
            self.notify(tr("notify.snapshot_failed", self.language, error=exc), severity="error")
        self._apply_language()
        self.main.query_one(Console).info(
            tr("console.welcome", self.language, mode=tr(f"mode.{self.backend.mode}", self.language))
        )
        self.main.query_one(CommandBar).focus()
        if self.clock_running:
            self.set_interval(TICK_SECONDS, self.tick)
        self.call_after_refresh(self._freeze_heap)
        self.refresh_view(force=True)
        if self._initial_lesson:
            self.lessons.open(self._initial_lesson)

    @property
    def main(self) -> Screen[object]:
        """The main screen, even while a modal (help, files, lessons) is on top of it."""
        return self.screen_stack[0] if self.screen_stack else self.screen

    def _freeze_heap(self) -> None:
        gc.freeze()
        self._heap_frozen = True

    def on_unmount(self) -> None:
        self._view_ready = False
        if self._heap_frozen:  # hand what the app built back to the collector (tests run many apps per process)
            gc.unfreeze()
            self._heap_frozen = False
        for unsubscribe in self._unsubscribe:
            if callable(unsubscribe):
                unsubscribe()

    def on_resize(self) -> None:
        compact = self.size.width < COMPACT_WIDTH or self.size.height < COMPACT_HEIGHT
        self.main.set_class(compact, "-compact")
        self.main.query_one(Footer).compact = compact
        narrow = self.size.width < COMPACT_WIDTH
        if narrow != self._narrow:
            self._narrow = narrow
            self._bindings = BindingsMap(app_bindings(self.language, narrow=narrow))
            self.refresh_bindings()

    # ------------------------------------------------------------ inboxes (any thread)

    def _span_heard(self, span: Span) -> None:
        self._span_inbox.append(span)

    def _event_heard(self, event: DockerEvent) -> None:
        self._events_heard += 1
        self._event_inbox.append((self.backend.clock(), event))

    def drain(self) -> bool:
        """Move what arrived into the timeline; True when anything did."""
        changed = False
        for _ in range(min(len(self._span_inbox), MAX_DRAIN)):
            span = self._span_inbox.popleft()
            index, dropped = self.timeline.add_span(span)
            if self.cursor >= 0:
                self.cursor = max(0, self.cursor - dropped)
                if index <= self.cursor:
                    self.cursor += 1
            if span.parent_id is None and self.backend.mode == "live":
                self.run_worker(
                    self._live_checkpoint, thread=True, group="snapshot", exclusive=True, exit_on_error=False
                )
            changed = True
        while self._event_inbox:
            time, event = self._event_inbox.popleft()
            self.timeline.add_event(time, event)
            changed = True
        last = len(self.timeline) - 1
        if self.playing and last - self.cursor > MAX_BACKLOG:
            self.cursor, self.phase = last - MAX_BACKLOG, 0.0
        return changed

    # ------------------------------------------------------------ the clock

    def tick(self, seconds: float = TICK_SECONDS) -> None:
        """Advance the animation by ``seconds`` of wall time at the current speed."""
        changed = self.drain()
        last = len(self.timeline) - 1
        if self.playing and last >= 0 and (self.cursor < last or self.phase < 1.0):
            self.phase += seconds * self.speed / STEP_SECONDS
            if self.phase >= 1.0:
                if self.cursor < last:
                    self.cursor += 1
                    self.phase = 0.0
                    if self.lessons.reached(self.timeline.span(self.cursor)):
                        self._watch_reached()
                else:
                    self.phase = 1.0
            changed = True
        if changed:
            self.refresh_view()

    def seek(self, index: int, phase: float = 1.0) -> None:
        """Put the cursor on step ``index`` (clamped) with the packet at ``phase``."""
        self.drain()
        last = len(self.timeline) - 1
        self.cursor = max(-1 if last < 0 else 0, min(index, last))
        self.phase = max(0.0, min(1.0, phase))
        self.refresh_view()

    # ------------------------------------------------------------ drawing

    def _latest_snapshot(self) -> WorldSnapshot | None:
        return self.timeline.latest

    def state(self) -> WorldSnapshot:
        """The world as of the cursor."""
        return self.timeline.state_at(self.cursor)

    def _colour(self, frame: FrameSpan) -> str:
        return TRACE_COLOURS[frame.colour_index % len(TRACE_COLOURS)]

    @staticmethod
    def _label(span: Span) -> str:
        label = span.name
        size = span.attrs.get("bytes")
        if isinstance(size, int | float) and size:
            from simulator.client.units import human_size

            label += f" {human_size(size)}"
        status = span.attrs.get("status")
        if status is not None:
            label += f" → {status}"
        return label

    def scene(self) -> FlowScene:
        """The flow view's picture for the cursor and phase."""
        moving, concurrent = self.timeline.frame(self.cursor)
        if moving is None:
            return FlowScene(empty_text=tr("empty.flow", self.language))
        lit: dict[str, str] = {}
        captions: list[tuple[str, str]] = []
        for other in concurrent:
            lit.setdefault(other.span.hop, self._colour(other))
        colour = self._colour(moving)
        lit[moving.span.hop] = colour
        label = self._label(moving.span)
        route = f"{moving.from_hop or '·'} → {moving.span.hop}"
        captions.append((colour, f"{moving.span.trace_id}  {route}  {label}"))
        seen = {moving.span.trace_id}
        for other in reversed(concurrent):
            if other.span.trace_id not in seen:
                seen.add(other.span.trace_id)
                captions.append((self._colour(other), f"{other.span.trace_id}  {other.span.hop}  {other.span.name}"))
        packet = Packet(moving.from_hop, moving.span.hop, self.phase, label, colour)
        return FlowScene(lit=lit, packets=(packet,), captions=tuple(captions))

    def timeline_view(self) -> TimelineView:
        lang = self.language
        if len(self.timeline) == 0:
            return TimelineView(empty_text=tr("empty.timeline", lang))
        at = self.cursor if self.cursor >= 0 else len(self.timeline) - 1
        first, last = self.timeline.batch_bounds(at)
        shown_first = max(first, at - TIMELINE_WINDOW)  # the bar windows around the cursor
        hops = tuple(self.timeline.span(i).hop for i in range(shown_first, min(last, at + TIMELINE_WINDOW) + 1))
        caption = ""
        if self.cursor >= 0:
            span = self.timeline.span(self.cursor)
            caption = f"[{span.hop}] {self._label(span)}  {span.duration * 1000:.3f} ms  · {span.trace_id}"
        status = tr("label.step", lang, n=self.cursor - first + 1 if self.cursor >= 0 else 0, total=last - first + 1)
        return TimelineView(hops, shown_first, self.cursor, len(self.timeline), caption, status)

    def title_text(self) -> Text:
        lang = self.language
        mode = tr(f"mode.{self.backend.mode}", lang)
        now = self.timeline.span(self.cursor).start if self.cursor >= 0 else 0.0
        icon = "▶" if self.playing else "⏸"
        state = tr("state.playing" if self.playing else "state.paused", lang)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" csim ", style="bold reverse")
        text.append(f" {mode} · t={now:.3f} s · {self.speed:g}× {icon} {state}")
        return text

    def _selected_container(self, state: WorldSnapshot) -> str | None:
        if self.selected is not None:
            return self.selected
        if state.containers:
            self._auto_selected = state.containers[0].name
        return self._auto_selected

    def refresh_view(self, force: bool = False) -> None:
        """Redraw the panels for the cursor (state panels only when the state changed)."""
        if not self._view_ready:
            return
        main = self.main
        try:
            flow = main.query_one(FlowView)
        except NoMatches:  # the app is shutting down and the main screen's widgets are gone
            return
        lang = self.language
        title = self.title_text()
        if title.plain != self._title_plain:
            # Fixed size (see app.tcss): no layout pass, which would cost the whole screen a relayout per tick.
            self._title_plain = title.plain
            main.query_one("#title", Static).update(title, layout=False)
        flow.show(self.scene())
        main.query_one(TimelineBar).show(self.timeline_view())
        at = self.timeline.span(self.cursor) if self.cursor >= 0 else None
        batch = self.timeline.batch(self.cursor) if self.cursor >= 0 else None
        # The state panels depend on the step, not on how many spans came after it.
        key = (
            at,
            id(batch.after) if batch else None,
            id(self.timeline.latest),
            self.timeline.event_seq,
            lang,
            self.selected,
        )
        if key == self._state_key and not force:
            return
        self._state_key = key
        state = self.state()
        events = self.timeline.events_until(self.cursor)
        main.query_one(ContainersPanel).show(state.containers)
        main.query_one(ImagesPanel).show(state, lang)
        main.query_one(NetworksPanel).show(state, lang)
        main.query_one(EventsPanel).show(events, lang)
        name = self._selected_container(state)
        container = state.container(name) if name else None
        last = last_transition(name, events) if name else None
        main.query_one(LifecycleDiagram).show(name, container.state if container else None, last, lang)

    def _watch_reached(self) -> None:
        """The animation reached the span a lesson's watch step names: stop there and explain."""
        self.playing = False
        self.phase = 0.5
        self.refresh_lesson()
        self.notify(tr("lesson.watch_paused", self.language), timeout=4)

    def refresh_lesson(self) -> None:
        """Redraw the lesson pane from the lesson's state."""
        session = self.lessons.session
        if session is None or not self._view_ready:
            return
        self.main.query_one(LessonPane).show(session.pane_state(), self.language)

    def lesson_changed(self, snapshot: object) -> None:
        """A lesson opened or closed: show or hide its pane (``snapshot``: the world after setup)."""
        self.main.set_class(self.lessons.active, "-lesson")
        if isinstance(snapshot, WorldSnapshot):
            self.drain()
            self.timeline.checkpoint(snapshot)
        self.refresh_bindings()
        self.refresh_lesson()
        self.refresh_view(force=True)
        if self.lessons.active:
            self.lessons.recheck()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("faster", "slower") and isinstance(self.focused, Input):
            return False  # `+`, `=` and `-` type into the command bar: keep the footer from offering them
        return self.lessons.active or not action.startswith("lesson_")

    def _apply_language(self) -> None:
        lang = self.language
        self._bindings = BindingsMap(app_bindings(lang, narrow=self._narrow))
        self.refresh_bindings()
        self.main.query_one(FlowView).border_title = tr("panel.flow", lang)
        self.main.query_one(TimelineBar).border_title = tr("panel.timeline", lang)
        self.main.query_one(Console).border_title = tr("panel.console", lang)
        self.main.query_one(ContainersPanel).set_language(lang)
        self.main.query_one(CommandBar).placeholder = tr("input.placeholder", lang)

    def watch_language(self) -> None:
        self.lessons.relanguage()
        self._apply_language()
        self.refresh_lesson()
        self.refresh_view(force=True)

    def watch_playing(self) -> None:
        self.refresh_view()

    def watch_speed(self) -> None:
        self.refresh_view()

    # ------------------------------------------------------------ commands

    @on(Input.Submitted, "#command")
    def _submitted(self, event: Input.Submitted) -> None:
        event.input.value = ""
        self.run_command(event.value)

    def run_command(self, line: str) -> None:
        """Run ``line`` (``csim``/``docker`` prefix optional) on a worker thread."""
        console = self.main.query_one(Console)
        bar = self.main.query_one(CommandBar)
        bar.history.add(line)
        if not line.strip():
            return
        if self.lessons.wants_prediction(line):
            console.info(tr("lesson.held", self.language, line=line.strip()))
            return
        console.command(line.strip())
        try:
            argv = split_command(line)
        except ValueError as exc:
            console.error(tr("console.bad_quoting", self.language, error=exc))
            return
        if not argv:
            return
        self.run_worker(lambda: self._execute(argv), thread=True, group="commands", exit_on_error=False)

    def read_snapshot(self) -> WorldSnapshot | None:
        """Worker thread: the world now through the API (None, and a notification, when unreachable)."""
        try:
            return take_snapshot(self.backend, self._events_heard)
        except (BackendError, OSError) as exc:
            self.call_from_thread(self.notify, tr("notify.snapshot_failed", self.language, error=exc), severity="error")
            return None

    def _execute(self, argv: list[str]) -> None:
        """Worker thread: run one command, then read the world it left."""
        with self.command_lock:
            first_new = len(self.timeline) + len(self._span_inbox)
            try:
                result = self.backend.run_cli(argv)
            except Exception as exc:  # a backend bug must reach the console, not kill the UI
                result = CommandResult(1, "", tr("console.backend_error", self.language, error=repr(exc)) + "\n")
            self.lessons.after_command()
            snapshot = self.read_snapshot()
            self.call_from_thread(self._command_finished, result, snapshot, first_new)

    def _command_finished(self, result: CommandResult, snapshot: WorldSnapshot | None, first_new: int) -> None:
        console = self.main.query_one(Console)
        console.output(result.stdout, result.stderr)
        if NOT_A_TTY in result.stderr:
            console.info(tr("console.no_tty", self.language))
        before = len(self.timeline)
        self.drain()
        if snapshot is not None:
            self.timeline.checkpoint(snapshot)
        if len(self.timeline) > before and self.playing:
            # Animate the new request from its first span.
            self.cursor = max(0, min(first_new, len(self.timeline) - 1))
            self.phase = 0.0
        self.refresh_view(force=True)
        self.refresh_lesson()

    def _live_checkpoint(self) -> None:
        snapshot = self.read_snapshot()
        if self.lessons.active:
            # Live spans arrive after the command that made them returned: check again now they are here
            # (and when someone acts from another terminal).
            with self.command_lock:
                self.lessons.after_command(quiet=True)
            self.call_from_thread(self.refresh_lesson)
        if snapshot is not None:
            self.call_from_thread(self._checkpoint, snapshot)

    def _checkpoint(self, snapshot: WorldSnapshot) -> None:
        self.drain()
        self.timeline.checkpoint(snapshot)
        self.refresh_view(force=True)

    # ------------------------------------------------------------ actions

    def action_toggle_play(self) -> None:
        self.playing = not self.playing

    def action_step(self, delta: int) -> None:
        self.playing = False
        if len(self.timeline):
            self.seek(self.cursor + delta, phase=1.0)

    def action_request_start(self) -> None:
        self.playing = False
        self.seek(self.timeline.request_start(self.cursor), phase=0.0)

    def action_request_end(self) -> None:
        self.playing = False
        self.seek(self.timeline.request_end(self.cursor), phase=1.0)

    def action_faster(self) -> None:
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])

    def action_slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])

    def action_toggle_language(self) -> None:
        self.language = other_language(self.language)
        self.notify(tr("notify.language", self.language), timeout=2)

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_toggle_view(self) -> None:
        self.screen.toggle_class("-panels")

    def action_focus_command(self) -> None:
        self.main.query_one(CommandBar).focus()

    def on_containers_panel_container_selected(self, message: ContainersPanel.ContainerSelected) -> None:
        self.selected = message.name
        self.refresh_view()

    def on_timeline_bar_step_clicked(self, message: TimelineBar.StepClicked) -> None:
        self.playing = False
        self.seek(message.index)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        lang = self.language
        yield SystemCommand(tr("palette.play", lang), tr("bind.play", lang), self.action_toggle_play)
        yield SystemCommand(tr("palette.start", lang), tr("bind.request_start", lang), self.action_request_start)
        yield SystemCommand(tr("palette.end", lang), tr("bind.request_end", lang), self.action_request_end)
        yield SystemCommand(tr("palette.language", lang), tr("bind.language", lang), self.action_toggle_language)
        yield SystemCommand(tr("palette.theme", lang), tr("bind.theme", lang), self.action_toggle_theme)
        yield SystemCommand(tr("palette.help", lang), tr("bind.help", lang), self.action_help)
        yield SystemCommand(tr("palette.screenshot", lang), tr("bind.screenshot", lang), self.action_save_svg)
        yield SystemCommand(tr("palette.files", lang), tr("bind.files", lang), self.action_show_files)
        yield SystemCommand(tr("palette.lessons", lang), tr("bind.lessons", lang), self.action_lessons)
        if self.lessons.active:
            yield SystemCommand(tr("palette.hint", lang), tr("bind.hint", lang), self.action_lesson_hint)
            yield SystemCommand(tr("palette.next", lang), tr("bind.next", lang), self.action_lesson_next)
            skip, close = self.action_lesson_skip, self.action_lesson_close
            for key, action in (("palette.skip", skip), ("palette.close_lesson", close)):
                yield SystemCommand(tr(key, lang), tr(key, lang), action)
        yield from super().get_system_commands(screen)


def make_app(
    backend: Backend | None = None,
    *,
    language: Language | None = None,
    seed: int = 0,
    animate: bool = True,
    lesson: str | None = None,
    progress_path: Path | None = None,
    catalog: Any = None,
) -> CsimApp:
    """The app on ``backend`` (a fresh simulated world with ``seed`` when None)."""
    return CsimApp(
        backend if backend is not None else open_backend(None, seed=seed),
        language=language,
        seed=seed,
        animate=animate,
        lesson=lesson,
        progress_path=progress_path,
        catalog=catalog,
    )


PROGRESS_FILE = "lesson-progress.json"
"""Lesson progress in a state directory, the file ``csim lesson`` uses too."""


def run_tui(
    backend_spec: str | Backend | None = None,
    *,
    seed: int = 0,
    state_dir: Path | None = None,
    lesson: str | None = None,
    progress_path: Path | None = None,
) -> None:
    """Open the TUI: on the embedded world (``None``) or a daemon (``unix:///path``).

    Args:
        backend_spec: the world (see :func:`simulator.tui.backend.open_backend`).
        seed: the simulated world's seed.
        state_dir: a persisted world to open (and its lesson progress).
        lesson: a lesson id to open at start (``csim tui --lesson ID``).
        progress_path: where lesson progress is saved; ``state_dir``'s file
            when None and a state directory is given.
    """
    if backend_spec is None and state_dir is not None:
        from simulator.tui.backend import EmbeddedBackend

        backend: Backend = EmbeddedBackend.create(seed=seed, state_dir=state_dir)
    else:
        backend = open_backend(backend_spec, seed=seed)
    if progress_path is None and state_dir is not None:
        progress_path = Path(state_dir) / PROGRESS_FILE
    try:
        make_app(backend, seed=seed, lesson=lesson, progress_path=progress_path).run()
    finally:
        backend.close()
