"""The flow view: the hop diagram with packets travelling along its edges.

The app hands it a ``FlowScene`` (which components are lit, which packets are
where); the widget lays the diagram out for its current size with
``FlowLayout`` and draws it. It keeps no trace state of its own, so a paused
frame redraws identically (snapshot tests rely on that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from simulator.tui.flow_layout import MIN_HEIGHT, FlowLayout, Packet, render_flow, render_flow_rows

__all__ = ["FlowScene", "FlowView"]


@dataclass(frozen=True)
class FlowScene:
    """What the diagram shows at one instant.

    Attributes:
        lit: hop -> colour of the request working there.
        packets: packets in flight, the stepped one first.
        captions: one line per packet, ``(colour, text)``, under the diagram.
        empty_text: shown when nothing has happened yet.
    """

    lit: dict[str, str] = field(default_factory=dict)
    packets: tuple[Packet, ...] = ()
    captions: tuple[tuple[str, str], ...] = ()
    empty_text: str = ""


class FlowView(Widget, can_focus=True):
    """The architecture diagram, animated."""

    DEFAULT_CSS = """
    FlowView {
        height: 1fr;
        width: 1fr;
        padding: 0 1;
        border: round $primary 50%;
        border-title-color: $text;
    }
    FlowView:focus {
        border: round $accent;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._scene = FlowScene()
        self._layout: FlowLayout | None = None
        self._strips: list[Strip] | None = None

    @property
    def scene(self) -> FlowScene:
        return self._scene

    def show(self, scene: FlowScene) -> None:
        """Draw ``scene``, repainting only the rows that changed.

        A packet moving one cell changes a row or two; repainting the whole diagram every
        frame was the largest cost of a frame while spans flood in.
        """
        if scene == self._scene:
            return
        self._scene = scene
        old = self._strips
        if old is None or not self.is_mounted or not self.content_size.area:
            self.refresh()
            return
        new = self._build_strips()
        self._strips = new
        if len(new) != len(old):
            super().refresh()
            return
        width = self.content_size.width
        for y, (before, after) in enumerate(zip(old, new, strict=True)):
            if before != after:
                super().refresh(Region(0, y, width, 1))

    def _layout_for(self, width: int, height: int) -> FlowLayout:
        if self._layout is None or (self._layout.width, self._layout.height) != (width, height):
            self._layout = FlowLayout(width, height)
        return self._layout

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if not regions:  # a whole repaint (resize, theme): build the rows again
            self._strips = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _caption_lines(self, height: int) -> int:
        """Caption lines under the diagram: up to three, none when the diagram needs every row.

        The timeline's caption names the same span, so a short panel loses nothing by dropping them.
        """
        wanted = min(len(self._scene.captions) or 1, 3)
        return max(0, min(wanted, height - MIN_HEIGHT))

    def _build_strips(self) -> list[Strip]:
        """The diagram and the captions as strips, made straight from the canvas.

        Going through a Rich ``Text`` and Rich's line layout cost most of a
        frame under a flood of spans; the canvas already knows its cells.
        """
        size = self.content_size
        width = max(1, size.width)
        caption_lines = self._caption_lines(size.height)
        height = max(MIN_HEIGHT, size.height - caption_lines)
        layout = self._layout_for(max(30, size.width), height)
        dark = self.app.current_theme.dark if self.is_attached else True
        rows = render_flow_rows(
            layout,
            self._scene.lit,
            list(self._scene.packets),
            foreground="#d0d0d0" if dark else "#303030",
            dim="#6a6a6a" if dark else "#9a9a9a",
        )
        strips = [Strip([Segment(text, style) for text, style in runs]).crop_extend(0, width, None) for runs in rows]
        captions = Text(no_wrap=True, overflow="ellipsis")
        if not self._scene.captions:
            captions.append(self._scene.empty_text, style="italic")
        for i, (colour, line) in enumerate(self._scene.captions[:caption_lines]):
            if i:
                captions.append("\n")
            captions.append("● ", style=colour)
            captions.append(line)
        console = self.app.console
        options = console.options.update_width(width).update(no_wrap=True, overflow="ellipsis", highlight=False)
        for segments in console.render_lines(captions, options, pad=True):
            strips.append(Strip(segments).crop_extend(0, width, None))
        return strips[: max(0, size.height)]

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            self._strips = self._build_strips()
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.content_size.width)

    def render(self) -> RenderableType:
        """The same picture as a Rich renderable (for exports; the screen uses ``render_line``)."""
        size = self.content_size
        caption_lines = self._caption_lines(size.height)
        height = max(MIN_HEIGHT, size.height - caption_lines)
        layout = self._layout_for(max(30, size.width), height)
        diagram = render_flow(layout, self._scene.lit, list(self._scene.packets))
        captions = Text("\n".join(line for _, line in self._scene.captions[:caption_lines]) or self._scene.empty_text)
        return Group(diagram, captions)
