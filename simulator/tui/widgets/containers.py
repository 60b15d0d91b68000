"""The containers panel: ``docker ps -a`` with a coloured status badge per state.

A ``DataTable`` so rows can be selected with the keyboard or the mouse; the
selection drives the lifecycle diagram (``ContainersPanel.ContainerSelected``).
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from simulator.tui.i18n import Language, tr
from simulator.tui.snapshot import ContainerView

__all__ = ["STATE_BADGES", "ContainersPanel"]

STATE_BADGES: dict[str, tuple[str, str]] = {
    "created": ("◌", "#4ea8de"),
    "running": ("●", "#38b000"),
    "paused": ("◐", "#ffb000"),
    "restarting": ("↻", "#c77dff"),
    "removing": ("✕", "#ff7b00"),
    "exited": ("○", "#9e9e9e"),
    "dead": ("✖", "#e5383b"),
}
"""State -> (badge, colour), as the panel and the lifecycle diagram draw it."""


class ContainersPanel(DataTable[Text]):
    """All containers as of the timeline cursor."""

    DEFAULT_CSS = """
    ContainersPanel {
        height: 1fr;
        min-height: 4;
        border: round $primary 50%;
    }
    ContainersPanel:focus {
        border: round $accent;
    }
    """

    class ContainerSelected(Message):
        """The user picked ``name`` (for the lifecycle diagram)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class ContainerOpened(Message):
        """The user opened ``container_id`` (Enter, or a click on the selected row): show its files."""

        def __init__(self, container_id: str) -> None:
            super().__init__()
            self.container_id = container_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=True)
        self._rows: tuple[ContainerView, ...] | None = None
        self._language: Language = "en"

    def set_language(self, lang: Language) -> None:
        self._language = lang
        self.border_title = tr("panel.containers", lang)
        rows, self._rows = self._rows, None
        if rows is not None:
            self.show(rows)

    def show(self, containers: tuple[ContainerView, ...]) -> None:
        """Replace the rows (keeps the cursor on the same container when it still exists)."""
        if containers == self._rows:
            return
        selected = self.selected_name()
        self._rows = containers
        self.clear(columns=True)
        lang = self._language
        self.add_columns(" ", *(tr(f"col.{c}", lang) for c in ("name", "state", "image", "status")))
        if not containers:
            self.add_row(Text(""), Text(tr("empty.containers", lang), style="italic"), Text(""), Text(""), Text(""))
            return
        for c in containers:
            badge, colour = STATE_BADGES.get(c.state, ("?", "white"))
            self.add_row(
                Text(badge, style=colour),
                Text(c.name, style="bold"),
                Text(c.state, style=f"bold {colour}"),
                Text(c.image),
                Text(c.status + (f"  {c.ports}" if c.ports else ""), style="dim"),
                key=c.id,
            )
        names = [c.name for c in containers]
        if selected in names:
            self.move_cursor(row=names.index(selected), animate=False)

    def selected_name(self) -> str | None:
        if not self._rows or self.cursor_row < 0 or self.cursor_row >= len(self._rows):
            return None
        return self._rows[self.cursor_row].name

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        name = self.selected_name()
        if name is not None and self.has_focus:  # only a person's choice, not a redraw
            self.post_message(self.ContainerSelected(name))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self._rows and 0 <= event.cursor_row < len(self._rows):
            self.post_message(self.ContainerOpened(self._rows[event.cursor_row].id))
