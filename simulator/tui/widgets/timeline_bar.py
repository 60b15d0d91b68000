"""The timeline: the current command's spans as bars and the cursor under them.

One cell per span, in start order, coloured by hop (so a ``run`` reads
cli, api, dockerd... as colour bands), the cursor marked with ``▲``. The
line under it names the span at the cursor. Clicking a cell moves the cursor
there (``TimelineBar.StepClicked``). Long requests are windowed around the
cursor so the bar never wraps.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

__all__ = ["HOP_COLOURS", "TimelineBar", "TimelineView"]

HOP_COLOURS: dict[str, str] = {
    "cli": "#9e9e9e",
    "api": "#4ea8de",
    "dockerd": "#2ec4b6",
    "containerd": "#80b918",
    "shim": "#ffb000",
    "runc": "#ff7b00",
    "kernel": "#ff5c8a",
    "registry": "#a06cd5",
    "builder": "#c77dff",
}


@dataclass(frozen=True)
class TimelineView:
    """What the bar shows.

    Attributes:
        hops: the hop of each step of the current command.
        first: the global step index of ``hops[0]``.
        cursor: the global step index of the cursor (-1: none).
        total: all recorded steps.
        caption: a line about the span at the cursor.
        status: ``step 3 / 31`` style label.
        empty_text: shown before anything is recorded.
    """

    hops: tuple[str, ...] = ()
    first: int = 0
    cursor: int = -1
    total: int = 0
    caption: str = ""
    status: str = ""
    empty_text: str = ""


class TimelineBar(Widget):
    """A one-command timeline with a cursor."""

    DEFAULT_CSS = """
    TimelineBar {
        height: 4;
        border: round $primary 50%;
        padding: 0 1;
    }
    """

    class StepClicked(Message):
        """The user clicked a step: move the cursor to ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view = TimelineView()
        self._window_start = 0

    def show(self, view: TimelineView) -> None:
        if view != self._view:
            self._view = view
            self.refresh()

    def _window(self, width: int) -> tuple[int, int]:
        n = len(self._view.hops)
        room = max(1, width - len(self._view.status) - 2)
        if n <= room:
            return 0, n
        local = max(0, self._view.cursor - self._view.first)
        start = max(0, min(n - room, local - room // 2))
        return start, start + room

    def render(self) -> Text:
        view = self._view
        text = Text(no_wrap=True, overflow="ellipsis")
        if not view.hops:
            text.append(view.empty_text, style="italic")
            return text
        width = self.content_size.width
        start, stop = self._window(width)
        self._window_start = start
        local = view.cursor - view.first
        for i in range(start, stop):
            hop = view.hops[i]
            char = "█" if i != local else "▲"
            style = HOP_COLOURS.get(hop, "white") if i != local else "bold reverse"
            text.append(char, style=style)
        text.append("  ")
        text.append(view.status, style="bold")
        text.append("\n")
        text.append(view.caption)
        return text

    def on_click(self, event: events.Click) -> None:
        if event.y == 0 and self._view.hops:
            offset = event.x - self.styles.padding.left
            local = self._window_start + offset
            if offset >= 0 and local < len(self._view.hops):
                self.post_message(self.StepClicked(self._view.first + local))
