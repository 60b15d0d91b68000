"""The app's side of a lesson: open one, check after each command, hints, answers, watch pauses.

``LessonControl`` keeps the lesson logic out of ``app.py``: the app owns the
animation and the command worker; this object owns the
:class:`~simulator.tui.lesson_session.LessonSession` and decides what the
lesson pane shows. Work that touches the world (starting a lesson runs its
setup; a check reads the API) happens on the app's command worker, under its
command lock, so a check never interleaves with a student's command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from simulator.trace.span import Span
from simulator.tui.i18n import tr
from simulator.tui.lesson_session import LessonSession, lesson_entries, open_progress

if TYPE_CHECKING:
    from simulator.lessons.catalog import Catalog
    from simulator.lessons.runner import ProgressStore
    from simulator.tui.app import CsimApp

__all__ = ["LessonControl"]


class LessonControl:
    """Lessons inside one ``CsimApp``.

    Args:
        app: the app.
        progress_path: where progress is saved (in memory when None).
        catalog: the lessons (the repository's ``lessons/`` when None).
    """

    def __init__(self, app: CsimApp, progress_path: Path | None = None, catalog: Catalog | None = None) -> None:
        self.app = app
        self._progress_path = progress_path
        self._progress: ProgressStore | None = None
        self._catalog = catalog
        self.session: LessonSession | None = None
        self.deferred: list[str] | None = None
        """A command line held back until the step's prediction is answered."""

    @property
    def active(self) -> bool:
        return self.session is not None

    def catalog(self) -> Catalog:
        if self._catalog is None:
            from simulator.lessons.catalog import Catalog

            self._catalog = Catalog()
        return self._catalog

    def progress(self) -> ProgressStore:
        if self._progress is None:
            self._progress = open_progress(self._progress_path)
        return self._progress

    # -- the lesson list ------------------------------------------------------------------------
    def show_list(self) -> None:
        """Push the lesson list; the chosen lesson opens."""
        from simulator.tui.screens.lessons import LessonListScreen

        app = self.app
        try:
            entries = lesson_entries(self.catalog(), app.language, self.progress())
        except (OSError, ValueError) as exc:
            app.notify(tr("lesson.error", app.language, error=exc), severity="error")
            return

        def chosen(lesson_id: str | None) -> None:
            if lesson_id:
                self.open(lesson_id)

        app.push_screen(LessonListScreen(app.language, entries), chosen)

    # -- opening (worker) ------------------------------------------------------------------------
    def open(self, lesson_id: str) -> None:
        """Start (or resume) ``lesson_id``: its setup runs on the command worker."""
        app = self.app

        def work() -> None:
            with app.command_lock:
                try:
                    session = LessonSession(app.backend, self.catalog(), lesson_id, app.language, self.progress())
                except Exception as exc:  # a bad lesson file or id must not end the app
                    app.call_from_thread(app.notify, tr("lesson.error", app.language, error=exc), severity="error")
                    return
                snapshot = app.read_snapshot()
            app.call_from_thread(self._opened, session, snapshot)

        app.run_worker(work, thread=True, group="commands", exit_on_error=False)

    def _opened(self, session: LessonSession, snapshot: object) -> None:
        if self.session is not None:
            self.session.close()
        self.session = session
        self.deferred = None
        self.app.lesson_changed(snapshot)
        self.app.notify(tr("lesson.started", self.app.language, title=session.lesson.title), timeout=3)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        self.deferred = None
        self.app.lesson_changed(None)

    # -- hooks the app calls ----------------------------------------------------------------
    def wants_prediction(self, line: str) -> bool:
        """Whether ``line`` must wait for the step's prediction (it is then held back)."""
        if self.session is None or self.session.pending_kind() != "predict":
            return False
        self.deferred = [line]
        self.app.notify(tr("lesson.predict_first", self.app.language), timeout=4)
        return True

    def after_command(self, quiet: bool = False) -> None:
        """Worker thread, under the command lock: check the step against the world now.

        Args:
            quiet: a check the student did not ask for (a step just began): a
                failure is not shown, only a pass.
        """
        if self.session is not None:
            try:
                self.session.check(quiet=quiet)
            except Exception as exc:  # a broken check is reported, not raised into the UI
                self.app.call_from_thread(self.app.notify, tr("lesson.error", self.app.language, error=exc))

    def reached(self, span: Span) -> bool:
        """The animation reached ``span``: True when the step's watch pauses here."""
        return self.session is not None and self.session.watched(span)

    def relanguage(self) -> None:
        if self.session is not None:
            try:
                self.session.relanguage(self.app.language)
            except Exception as exc:  # the other language's file may be missing or broken
                self.app.notify(tr("lesson.error", self.app.language, error=exc), severity="warning")

    # -- keys ---------------------------------------------------------------------------------
    def hint(self) -> None:
        if self.session is None:
            return
        if self.session.hint() is None:
            self.app.notify(tr("lesson.no_more_hints", self.app.language), timeout=2)
        self.app.refresh_lesson()

    def next(self) -> None:
        session = self.session
        if session is None:
            return
        if session.runner.finished:
            self.show_list()
            return
        if not session.advance():
            app = self.app
            app.notify(tr("lesson.not_passed", app.language), timeout=3)
            return
        self.deferred = None
        self.recheck()

    def skip(self) -> None:
        if self.session is not None and self.session.advance(force=True):
            self.deferred = None
            self.recheck()

    def recheck(self) -> None:
        """Check the (new) step at once: a step may already hold (or need no command)."""
        app = self.app

        def work() -> None:
            with app.command_lock:
                self.after_command(quiet=True)
            app.call_from_thread(app.refresh_lesson)

        app.refresh_lesson()
        app.run_worker(work, thread=True, group="commands", exit_on_error=False)

    def answer(self, number: int) -> None:
        """Answer the pending question with option ``number`` (1-based)."""
        session = self.session
        app = self.app
        if session is None or session.pending_kind() is None:
            return
        kind = session.pending_kind()
        try:
            session.answer(number - 1)
        except ValueError as exc:
            app.notify(str(exc), severity="warning", timeout=2)
            return
        if kind == "predict" and self.deferred:
            lines, self.deferred = self.deferred, None
            app.refresh_lesson()
            for line in lines:
                app.run_command(line)
            return
        self.recheck()
