"""A lesson being taught inside the TUI: the runner, what the pane shows, how checks see the world.

The lesson runner (``simulator.lessons.runner``) is shared with the plain
terminal ``csim lesson`` commands; this module adapts it to the TUI's
:class:`~simulator.tui.backend.Backend`, so a lesson works the same on the
embedded world and on a live daemon, and it turns the runner's state into a
``LessonPaneState`` the pane draws. Two rules keep the checks honest:

- a check's own API reads are not animated (the backend's ``quiet``), and
- the TUI's own state reads (``User-Agent: csim-tui``) never count as
  something the student did.

Nothing here imports Textual; every method that touches the world must run
off the UI thread (the app calls them from a worker holding its command lock).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.lessons.view import Answer, ProbeResult
from simulator.trace.events import DockerEvent
from simulator.trace.span import Span
from simulator.tui.backend import TUI_USER_AGENT

if TYPE_CHECKING:
    from simulator.lessons.catalog import Catalog
    from simulator.lessons.model import Lesson
    from simulator.lessons.runner import LessonRunner, ProgressStore
    from simulator.tui.backend import Backend

__all__ = [
    "BackendLessonView",
    "LessonEntry",
    "LessonPaneState",
    "LessonSession",
    "QuestionState",
    "lesson_entries",
]

MAX_RECORDED = 20_000
"""Spans a live-mode lesson view remembers (checks look at recent work only)."""


def _tui_trace_ids(spans: list[Span]) -> set[str]:
    return {s.trace_id for s in spans if str(s.attrs.get("user_agent", "")).startswith(TUI_USER_AGENT)}


class BackendLessonView:
    """A lesson ``WorldView`` over a TUI backend.

    On the embedded world the spans and events come from the world's own bus
    (so progress saved by ``csim lesson`` in a terminal keeps its meaning);
    elsewhere they are recorded from the backend's feeds from the moment the
    view is made.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._world: Any = getattr(backend, "world", None)
        self._spans: deque[Span] = deque(maxlen=MAX_RECORDED)
        self._events: deque[DockerEvent] = deque(maxlen=MAX_RECORDED)
        self._unsubscribe: list[Any] = []
        if self._world is None:
            self._unsubscribe.append(backend.subscribe_spans(self._spans.append))
            self._unsubscribe.append(backend.subscribe_events(self._events.append))

    def _quiet(self) -> AbstractContextManager[object]:
        quiet = getattr(self.backend, "quiet", None)
        return quiet() if callable(quiet) else nullcontext()

    def api(self, method: str, path: str, query: dict[str, Any] | None = None) -> Answer:
        if self._world is not None:
            from simulator.lessons.view import WorldAdapter

            with self._quiet():
                return WorldAdapter(self._world).api(method, path, query)
        reply = self.backend.api(method, path, {k: str(v) for k, v in (query or {}).items()})
        return Answer(reply.status, reply.body)

    def spans(self) -> list[Span]:
        spans = list(self._world.bus.spans()) if self._world is not None else list(self._spans)
        hidden = _tui_trace_ids(spans)
        return [s for s in spans if s.trace_id not in hidden] if hidden else spans

    def events(self) -> list[DockerEvent]:
        return list(self._world.events.events()) if self._world is not None else list(self._events)

    def probe(self, argv: list[str]) -> ProbeResult:
        if self._world is not None:
            from simulator.lessons.view import WorldAdapter

            with self._quiet():
                return WorldAdapter(self._world).probe(argv)
        result = self.backend.run_cli(argv)
        return ProbeResult(result.exit_code, result.stdout, result.stderr)

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            if callable(unsubscribe):
                unsubscribe()
        self._unsubscribe.clear()


class _BackendWorld:
    """The ``world`` a ``LessonRunner`` runs setup and commands on: the backend's CLI."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def run_cli(self, argv: list[str]) -> Any:
        return self.backend.run_cli(argv)


@dataclass(frozen=True, slots=True)
class LessonEntry:
    """One line of the lesson list."""

    id: str
    title: str
    minutes: int
    concepts: tuple[str, ...]
    mark: str
    """`` `` not started, ``…`` begun, ``✔`` finished."""


def lesson_entries(catalog: Catalog, lang: str, progress: ProgressStore | None) -> list[LessonEntry]:
    """The lessons in teaching order with their progress marks (bad files are skipped)."""
    from simulator.lessons.catalog import InvalidLesson, LessonNotFound

    entries = []
    for lesson_id in catalog.ids(lang):
        try:
            lesson = catalog.load(lesson_id, lang)
        except (InvalidLesson, LessonNotFound, KeyError, ValueError, TypeError):
            continue
        state = progress.lesson(lesson_id) if progress is not None else None
        mark = " " if state is None else ("✔" if state.get("finished_at") else "…")
        entries.append(LessonEntry(lesson.id, lesson.title, lesson.minutes, lesson.concepts, mark))
    return entries


@dataclass(frozen=True, slots=True)
class QuestionState:
    """A quiz or prediction as the pane shows it."""

    kind: str
    """``predict`` or ``quiz``."""
    question: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LessonPaneState:
    """Everything the lesson pane draws, in the lesson's language."""

    lesson_id: str
    title: str
    number: int
    total: int
    step_title: str = ""
    text: str = ""
    command: str = ""
    hints: tuple[str, ...] = ()
    hints_left: int = 0
    verdict: str = "pending"
    """``pending`` (not checked yet), ``failed`` or ``passed``."""
    feedback: str = ""
    outcomes: tuple[tuple[bool, str], ...] = ()
    success: str = ""
    question: QuestionState | None = None
    answer: tuple[bool, str] | None = None
    """The last answer: (correct, the chosen option's explanation)."""
    watch: str = ""
    """The watched span's explanation, once the animation reached it."""
    finished: bool = False
    summary: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


class LessonSession:
    """One lesson in the TUI: its runner and what happened since the step began.

    Args:
        backend: the world the student acts on.
        catalog: where the lesson is read from.
        lesson_id: which lesson.
        lang: the language to show it in.
        progress: where progress is saved.
    """

    def __init__(self, backend: Backend, catalog: Catalog, lesson_id: str, lang: str, progress: ProgressStore) -> None:
        from simulator.lessons.runner import LessonRunner

        self.backend = backend
        self.catalog = catalog
        self.progress = progress
        self.view = BackendLessonView(backend)
        self._lock = threading.RLock()
        lesson = catalog.load(lesson_id, lang, self._variables(lesson_id))
        self.runner: LessonRunner = LessonRunner(_BackendWorld(backend), lesson, progress, view=self.view)
        self._reset_step_notes()

    def _variables(self, lesson_id: str) -> dict[str, str] | None:
        state = self.progress.lesson(lesson_id)
        if state is not None and isinstance(state.get("variables"), dict):
            return {str(k): str(v) for k, v in state["variables"].items()}
        return None

    def _reset_step_notes(self) -> None:
        self.result_passed: bool | None = None
        self.feedback = ""
        self.outcomes: tuple[tuple[bool, str], ...] = ()
        self.answer_note: tuple[bool, str] | None = None
        self.watch_note = ""
        self.watch_target: tuple[str, int] | None = None

    @property
    def lesson(self) -> Lesson:
        return self.runner.lesson

    def relanguage(self, lang: str) -> None:
        """Show the same lesson (and progress) in ``lang``."""
        with self._lock:
            if lang == self.lesson.lang:
                return
            lesson = self.catalog.load(self.lesson.id, lang, dict(self.lesson.variables))
            self.runner.lesson = lesson

    # -- acting (worker thread) -------------------------------------------------------------
    def check(self, quiet: bool = False) -> bool:
        """Check the current step against the world now; remembers the verdict and the watch span.

        Args:
            quiet: remember a failure only if one was already shown (the
                student has not acted yet).
        """
        with self._lock:
            step = self.runner.current_step
            if step is None:
                return True
            result = self.runner.check()
            if quiet and not result.passed and self.result_passed is None:
                return False
            self.result_passed = result.passed
            self.feedback = result.feedback
            self.outcomes = tuple((o.passed, o.detail) for o in result.outcomes)
            if result.passed and self.watch_target is None:
                self.watch_target = self._latest_watched()
            return result.passed

    def _latest_watched(self) -> tuple[str, int] | None:
        """The first span matching the step's watch in the newest request that has one.

        The runner's ``watch_span`` is the first match since the step began;
        the animation, though, plays the command just run, so the pause
        belongs in it (a wrong first try may have matched too).
        """
        step = self.runner.current_step
        if step is None or step.watch is None or self.runner.watch_span() is None:
            return None
        from simulator.lessons.checks import pattern
        from simulator.lessons.view import student_spans

        name_re = pattern(step.watch.span)
        matches = [
            s
            for s in student_spans(self.view.spans())
            if name_re.match(s.name) and (not step.watch.hop or s.hop == step.watch.hop)
        ]
        if not matches:
            return None
        newest = max(matches, key=lambda s: s.span_id).trace_id
        first = min((s for s in matches if s.trace_id == newest), key=lambda s: (s.start, s.span_id))
        return first.trace_id, first.span_id

    # -- acting (any thread; progress only) ---------------------------------------------------
    def hint(self) -> str | None:
        with self._lock:
            return self.runner.hint()

    def answer(self, choice: int) -> tuple[bool, str]:
        """Answer the pending question (0-based); raises ``ValueError`` for a bad choice."""
        with self._lock:
            result = self.runner.answer(choice)
            self.answer_note = (result.correct, result.explain)
            return self.answer_note

    def advance(self, force: bool = False) -> bool:
        with self._lock:
            moved = self.runner.advance(force=force)
            if moved:
                self._reset_step_notes()
            return moved

    def reset(self) -> None:
        with self._lock:
            self.runner.reset()
            self._reset_step_notes()

    def pending_kind(self) -> str | None:
        with self._lock:
            pending = self.runner.pending_question()
            return pending[0] if pending else None

    def watched(self, span: Span) -> bool:
        """Whether ``span`` is the one this step's watch pauses at (and note its explanation)."""
        step = self.runner.current_step
        if self.watch_target is None or step is None or step.watch is None:
            return False
        if (span.trace_id, span.span_id) != self.watch_target:
            return False
        self.watch_note = step.watch.explain
        return True

    def close(self) -> None:
        self.view.close()

    # -- drawing ------------------------------------------------------------------------------
    def pane_state(self) -> LessonPaneState:
        with self._lock:
            lesson = self.lesson
            runner = self.runner
            step = runner.current_step
            total = len(lesson.steps)
            if step is None:
                return LessonPaneState(lesson.id, lesson.title, total, total, finished=True, summary=lesson.summary)
            pending = runner.pending_question()
            question = None
            if pending is not None:
                kind, choice = pending
                question = QuestionState(kind, choice.question, tuple(o.text for o in choice.options))
            record = runner.step_record(step.id) or {}
            shown = runner.hints_shown()
            verdict = "pending" if self.result_passed is None else ("passed" if self.result_passed else "failed")
            if record.get("passed"):
                verdict = "passed"
            return LessonPaneState(
                lesson_id=lesson.id,
                title=lesson.title,
                number=runner.step_index + 1,
                total=total,
                step_title=step.title or step.id,
                text=step.text,
                command=step.command,
                hints=tuple(shown),
                hints_left=len(step.hints) - len(shown),
                verdict=verdict,
                feedback=self.feedback if verdict == "failed" else "",
                outcomes=self.outcomes,
                success=step.success if verdict == "passed" else "",
                question=question,
                answer=self.answer_note,
                watch=self.watch_note,
            )


def open_progress(path: Path | None) -> ProgressStore:
    """The progress store at ``path`` (in memory when None)."""
    from simulator.lessons.runner import ProgressStore

    return ProgressStore(path)


def iter_options(question: QuestionState) -> Iterator[tuple[int, str]]:
    """``(number, text)`` for each option, numbered from 1 as the keys are."""
    yield from enumerate(question.options, 1)
