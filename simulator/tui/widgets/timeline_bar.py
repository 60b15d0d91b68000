"""The timeline: the current command's spans as bars and the cursor under them.

One cell per span, in start order, coloured by hop (so a ``run`` reads
cli, api, dockerd... as colour bands), the cursor marked with ``▲``. The
line under it names the span at the cursor. Clicking a cell moves the cursor
there (``TimelineBar.StepClicked``). Long requests are windowed around the
cursor so the bar never wraps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Self

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
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

_CURSOR_STYLE = Style(bold=True, reverse=True)
_STATUS_STYLE = Style(bold=True)
_EMPTY_STYLE = Style(italic=True)


@cache
def _hop_style(hop: str) -> Style:
    return Style(color=HOP_COLOURS.get(hop, "white"))


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
        self._strips: list[Strip] | None = None

    def show(self, view: TimelineView) -> None:
        if view != self._view:
            self._view = view
            self.refresh()

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        self._strips = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _window(self, width: int) -> tuple[int, int]:
        n = len(self._view.hops)
        room = max(1, width - len(self._view.status) - 2)
        if n <= room:
            return 0, n
        local = max(0, self._view.cursor - self._view.first)
        start = max(0, min(n - room, local - room // 2))
        return start, start + room

    def render(self) -> Text:
        """The bar and the caption as Rich ``Text`` (for exports and tests; the screen uses ``render_line``)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        for y, strip in enumerate(self._build_strips()):
            if y:
                text.append("\n")
            for segment in strip:
                text.append(segment.text, segment.style)
        return text

    def _bar_segments(self, width: int) -> list[Segment]:
        """The windowed bar as runs of equal colour: one segment per run, not one per cell.

        Under a flood of spans the bar changes every frame; a styled ``Text`` of one span per
        cell cost more to render than the rest of the screen together.
        """
        view = self._view
        start, stop = self._window(width)
        self._window_start = start
        local = view.cursor - view.first
        segments: list[Segment] = []
        i = start
        while i < stop:
            if i == local:
                segments.append(Segment("▲", _CURSOR_STYLE))
                i += 1
                continue
            hop, j = view.hops[i], i + 1
            while j < stop and j != local and view.hops[j] == hop:
                j += 1
            segments.append(Segment("█" * (j - i), _hop_style(hop)))
            i = j
        segments.append(Segment("  "))
        segments.append(Segment(view.status, _STATUS_STYLE))
        return segments

    def _build_strips(self) -> list[Strip]:
        view = self._view
        width = max(1, self.content_size.width) if self.is_mounted else 80
        if not view.hops:
            first = Strip([Segment(view.empty_text, _EMPTY_STYLE)])
            return [first.crop_extend(0, width, None)]
        bar = Strip(self._bar_segments(width)).crop_extend(0, width, None)
        caption = view.caption
        if cell_len(caption) > width:
            caption = set_cell_size(caption, max(0, width - 1)) + "…"
        return [bar, Strip([Segment(caption)]).crop_extend(0, width, None)]

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            self._strips = self._build_strips()
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.content_size.width)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0 and self._view.hops:
            offset = event.x - self.styles.padding.left
            local = self._window_start + offset
            if offset >= 0 and local < len(self._view.hops):
                self.post_message(self.StepClicked(self._view.first + local))
