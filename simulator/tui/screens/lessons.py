"""The lesson list: pick a lesson to start (or resume) with the keyboard or the mouse."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from simulator.tui.i18n import Language, tr
from simulator.tui.lesson_session import LessonEntry

__all__ = ["LessonListScreen"]


class LessonListScreen(ModalScreen[str | None]):
    """A modal list of lessons; dismisses with the chosen lesson id (None: closed)."""

    DEFAULT_CSS = """
    LessonListScreen {
        align: center middle;
    }
    LessonListScreen > Vertical {
        width: 90%;
        max-width: 96;
        height: 80%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    LessonListScreen OptionList { height: 1fr; border: none; }
    LessonListScreen #lesson-help { height: 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "close", "close", id="lessons.close"),
        Binding("f3", "close", "close", show=False, id="lessons.close_f3"),
    ]

    def __init__(self, lang: Language, entries: list[LessonEntry]) -> None:
        super().__init__()
        self._lang = lang
        self._entries = entries

    def compose(self) -> ComposeResult:
        lang = self._lang
        options = [
            Option(
                Content.assemble(
                    f"{e.mark} ", (e.title, "bold"), (f"  {e.id} · {tr('lesson.minutes', lang, n=e.minutes)}", "dim")
                ),
                id=e.id,
            )
            for e in self._entries
        ]
        with Vertical() as box:
            box.border_title = tr("lesson.list_title", lang)
            if not options:
                yield Static(tr("lesson.none", lang))
            yield OptionList(*options, id="lesson-options")
            yield Static(tr("lesson.list_help", lang), id="lesson-help")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
