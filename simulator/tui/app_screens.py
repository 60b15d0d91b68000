"""The app's actions that open another screen: help, the file view, the lesson list, lesson keys.

A mixin of :class:`~simulator.tui.app.CsimApp`, kept apart so ``app.py``
holds the clock, the cursor and the panels. The attributes it reads are the
app's; they are declared here for the type checker only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App

from simulator.tui.bindings import HELP_EXTRA, app_bindings
from simulator.tui.i18n import Language, tr
from simulator.tui.widgets.containers import ContainersPanel

if TYPE_CHECKING:
    from simulator.tui.backend import Backend
    from simulator.tui.files import FileRow, LayerFiles
    from simulator.tui.lesson_control import LessonControl
    from simulator.tui.timeline import Timeline

__all__ = ["ScreenActions"]


class ScreenActions(App[None]):
    """Help, files, lessons and screenshots (mixed into ``CsimApp``)."""

    if TYPE_CHECKING:
        backend: Backend
        language: Language
        lessons: LessonControl
        timeline: Timeline
        selected: str | None
        _auto_selected: str | None
        _layer_files: dict[str, LayerFiles]

    def action_help(self) -> None:
        from simulator.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        keys = [
            (b.key_display or b.key, b.description) for b in app_bindings(self.language) if b.show or b.id in HELP_EXTRA
        ]
        keys += [
            ("1-9", tr("bind.answer", self.language)),
            ("Esc", tr("bind.close", self.language)),
            ("Tab", tr("bind.complete", self.language)),
            ("ctrl+p", "command palette"),
        ]
        self.push_screen(HelpScreen(self.language, keys))

    def action_show_files(self, key: str | None = None) -> None:
        """The file view, on ``key`` (a ``FileSource`` key) or the selected container."""
        from simulator.tui.files import file_sources, read_source
        from simulator.tui.screens.files import FilesScreen

        if isinstance(self.screen, FilesScreen):
            return
        latest = self.timeline.latest
        if key is None:
            chosen = latest.container(self.selected or self._auto_selected or "")
            key = f"container:{chosen.id}" if chosen is not None else None
        cache = self._layer_files

        def load(source: str) -> list[FileRow]:
            return read_source(self.backend, source, latest.images, cache)

        self.push_screen(FilesScreen(self.language, file_sources(latest), load, key))

    def on_containers_panel_container_opened(self, message: ContainersPanel.ContainerOpened) -> None:
        self.action_show_files(f"container:{message.container_id}")

    def action_lessons(self) -> None:
        from simulator.tui.screens.lessons import LessonListScreen

        if isinstance(self.screen, LessonListScreen):
            self.screen.dismiss(None)
            return
        self.lessons.show_list()

    def action_lesson_hint(self) -> None:
        self.lessons.hint()

    def action_lesson_next(self) -> None:
        self.lessons.next()

    def action_lesson_skip(self) -> None:
        self.lessons.skip()

    def action_lesson_answer(self, number: int) -> None:
        self.lessons.answer(number)

    def action_lesson_close(self) -> None:
        self.lessons.close()

    def action_save_svg(self) -> None:
        path = self.save_screenshot()
        self.notify(tr("notify.screenshot", self.language, path=path), timeout=3)
