"""The file view: pick a container or an image layer on the left, see its A/C/D paths on the right.

Like dive: every layer of every image, and every container's writable layer,
with each changed path coloured as added, changed or deleted. Rows are read
on a worker thread through a loader the app hands in, so a slow daemon never
freezes the screen, and an error is shown in place of the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from simulator.client.units import human_size
from simulator.tui.files import KIND_COLOURS, FileRow, FileSource
from simulator.tui.i18n import Language, tr

__all__ = ["FilesScreen"]

Loader = Callable[[str], list[FileRow]]
"""Reads the rows of a source key (runs on a worker thread; may raise)."""


class FilesScreen(ModalScreen[None]):
    """Containers and layers, and the files each changed."""

    DEFAULT_CSS = """
    FilesScreen { align: center middle; }
    FilesScreen > Vertical {
        width: 96%;
        height: 90%;
        border: thick $accent;
        background: $surface;
    }
    FilesScreen #file-sources { width: 38%; min-width: 24; height: 1fr; border: none; }
    FilesScreen #file-table { height: 1fr; }
    FilesScreen #file-summary { height: 1; padding: 0 1; }
    FilesScreen #file-help { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "close", "close", id="files.close"),
        Binding("f", "close", "close", show=False, id="files.close_f"),
    ]

    def __init__(self, lang: Language, sources: list[FileSource], loader: Loader, initial: str | None = None) -> None:
        super().__init__()
        self._lang = lang
        self._sources = sources
        self._loader = loader
        self._initial = initial
        self.rows: list[FileRow] = []
        self.shown_key: str | None = None
        self.error = ""

    def compose(self) -> ComposeResult:
        lang = self._lang
        with Vertical() as box:
            box.border_title = tr("files.title", lang)
            with Horizontal():
                yield OptionList(*(Option(s.label, id=s.key) for s in self._sources), id="file-sources")
                with Vertical():
                    yield Static(id="file-summary")
                    yield DataTable[Text](id="file-table", cursor_type="row", zebra_stripes=False)
            yield Static(tr("files.help", lang), id="file-help")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        table = self.query_one(DataTable)
        table.add_columns(" ", tr("files.path", self._lang), tr("files.size", self._lang))
        if not self._sources:
            self.query_one("#file-summary", Static).update(tr("files.none", self._lang))
            return
        keys = [s.key for s in self._sources]
        index = keys.index(self._initial) if self._initial in keys else 0
        options.highlighted = index
        options.focus()
        self._load(keys[index])

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id and event.option.id != self.shown_key:
            self._load(event.option.id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one(DataTable).focus()

    @work(thread=True, exclusive=True, group="files", exit_on_error=False)
    def _load(self, key: str) -> None:
        try:
            rows, error = self._loader(key), ""
        except Exception as exc:  # shown in place of the rows; the screen stays usable
            rows, error = [], str(exc)
        self.app.call_from_thread(self._show, key, rows, error)

    def _show(self, key: str, rows: list[FileRow], error: str) -> None:
        self.rows, self.shown_key, self.error = rows, key, error
        table = self.query_one(DataTable)
        table.clear()
        summary = Text(no_wrap=True, overflow="ellipsis")
        if error:
            summary.append(tr("files.error", self._lang, error=error), style="bold red")
        elif not rows:
            summary.append(tr("files.empty", self._lang), style="italic")
        else:
            counts = Counter(r.kind for r in rows)
            for kind in ("A", "C", "D"):
                summary.append(f"{kind} {counts.get(kind, 0)}  ", style=f"bold {KIND_COLOURS[kind]}")
            summary.append(tr("files.legend", self._lang), style="dim")
        self.query_one("#file-summary", Static).update(summary)
        for row in rows:
            colour = KIND_COLOURS.get(row.kind, "white")
            size = human_size(row.size) if row.size else ""
            path = row.path + ("/" if row.type == "dir" else "")
            table.add_row(Text(row.kind, style=f"bold {colour}"), Text(path, style=colour), Text(size, style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
