"""The help screen: what csim shows and every key, in the current language."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from simulator.tui.i18n import Language, tr

__all__ = ["HelpScreen"]


class HelpScreen(ModalScreen[None]):
    """A modal page of help; Escape (or F1, or q) closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    """

    BINDINGS = [
        Binding("escape", "dismiss", "close", id="help.close"),
        Binding("f1", "dismiss", "close", show=False, id="help.close_f1"),
        Binding("q", "dismiss", "close", show=False, id="help.close_q"),
    ]

    def __init__(self, lang: Language, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self._lang = lang
        self._keys = keys

    def compose(self) -> ComposeResult:
        lang = self._lang
        table = Table(show_header=False, box=None, padding=(0, 2))
        for key, description in self._keys:
            table.add_row(Text(key, style="bold"), description)
        with VerticalScroll() as scroll:
            scroll.border_title = tr("help.title", lang)
            yield Static(Text(tr("help.intro", lang)))
            yield Static(Text("\n" + tr("help.keys", lang), style="bold underline"))
            yield Static(table)
            yield Static(Text("\n" + tr("help.close", lang), style="italic"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
