"""The read-only state panels: images with their layer trees, networks and
volumes, and the Docker event log.

Each is a ``Static`` inside a scrolling container, redrawn from a
``WorldSnapshot`` (or an event list) as of the timeline cursor. Layers used by
more than one image are marked ``shared ×N``: the point of the panel is that
``python:3.12-slim`` and ``nginx`` pull the Debian base layer once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from simulator.client.units import human_size
from simulator.trace.events import DockerEvent
from simulator.tui.i18n import Language, tr
from simulator.tui.snapshot import NetworkView, WorldSnapshot, layer_share_counts

__all__ = ["EventsPanel", "ImagesPanel", "NetworksPanel", "render_events", "render_images", "render_networks"]


def _size(n: int | None) -> str:
    return "?" if n is None else human_size(n)


def render_images(snapshot: WorldSnapshot, lang: Language) -> Text:
    """``nginx:latest  5 layers  70.2MB`` then one tree line per layer."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not snapshot.images:
        text.append(tr("empty.images", lang), style="italic")
        return text
    shared = layer_share_counts(snapshot.images)
    for n, image in enumerate(snapshot.images):
        if n:
            text.append("\n")
        text.append(image.label, style="bold")
        text.append(f"  {tr('label.layers', lang, n=len(image.layers))}  {_size(image.size)}", style="dim")
        for i, layer in enumerate(image.layers):
            branch = "└" if i == len(image.layers) - 1 else "├"
            start = len(text)
            text.append(f"\n {branch} ")
            text.append(layer.diff_id.removeprefix("sha256:")[:6] + "…", style="#4ea8de")
            text.append(f" {_size(layer.size):>8}")
            count = shared[layer.diff_id]
            if count > 1:
                text.append("  " + tr("label.shared", lang, n=count), style="bold #ffb000")
            # A click on a layer opens the file view on it.
            text.stylize(Style(meta={"@click": f"app.show_files('layer:{image.id}:{i}')"}), start + 1, len(text))
    return text


def render_networks(snapshot: WorldSnapshot, lang: Language) -> Text:
    """Two wrapped paragraphs: ``networks: appnet bridge 172.18.0.0/16 ← web · bridge · …``
    and ``volumes: data ← web · spare (not in use…)``; compact so the side column keeps its room."""
    text = Text()
    views = snapshot.network_views or tuple(NetworkView(n) for n in snapshot.networks)
    text.append(tr("label.networks", lang) + ": ", style="bold")
    for i, net in enumerate(views):
        if i:
            text.append(" · ", style="dim")
        users = [c.name for c in snapshot.containers if net.name in c.networks]
        text.append(net.name, style="bold #4ea8de")
        if net.driver and net.name != net.driver:
            text.append(f" {net.driver} {net.subnet}".rstrip(), style="dim")
        if users:
            text.append(" ← " + ", ".join(users))
    if not views:
        text.append("-")
    text.append("\n" + tr("label.volumes", lang) + ": ", style="bold")
    for i, volume in enumerate(snapshot.volumes):
        if i:
            text.append(" · ", style="dim")
        users = [c.name for c in snapshot.containers if volume in c.volumes]
        text.append(volume, style="bold #c77dff")
        if users:
            text.append(" ← " + ", ".join(users))
        else:
            text.append(" " + tr("label.unused", lang), style="dim")
    if not snapshot.volumes:
        text.append("-")
    return text


def render_events(events: list[DockerEvent], limit: int = 60) -> Text:
    """The newest ``limit`` events, one per line, as ``docker events`` prints them."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, event in enumerate(events[-limit:]):
        if i:
            text.append("\n")
        when = datetime.fromtimestamp(event.time_ns / 1e9, UTC).strftime("%H:%M:%S.%f")[:-3]
        attrs = ", ".join(f"{k}={v}" for k, v in sorted(event.attributes.items()))
        text.append(when + " ", style="dim")
        text.append(f"{event.type} {event.action} ", style="bold")
        text.append(event.actor_id[:12])
        if attrs:
            text.append(f" ({attrs})", style="dim")
    return text


class _ScrollPanel(VerticalScroll):
    DEFAULT_CSS = """
    _ScrollPanel {
        height: 1fr;
        min-height: 3;
        border: round $primary 50%;
        padding: 0 1;
    }
    _ScrollPanel > Static { width: auto; }
    """

    def __init__(self, *, id: str | None = None, follow_end: bool = False) -> None:
        super().__init__(id=id)
        self._body = Static()
        self._content: Text | None = None
        self._follow_end = follow_end
        self._shown_title: str | None = None

    def compose(self) -> ComposeResult:
        yield self._body

    def _title(self, title: str) -> None:
        """Set the border title; only when it changed, because setting one repaints the whole panel."""
        if self._shown_title != title:
            self._shown_title = title
            self.border_title = title

    def _set(self, text: Text) -> None:
        if self._content is not None and text.plain == self._content.plain and text.spans == self._content.spans:
            return
        self._content = text
        self._body.update(text)
        if self._follow_end:
            self.call_after_refresh(self.scroll_end, animate=False)

    @property
    def plain(self) -> str:
        return self._content.plain if self._content is not None else ""


class ImagesPanel(_ScrollPanel):
    """Images and their layers as of the cursor."""

    def show(self, snapshot: WorldSnapshot, lang: Language) -> None:
        self._title(tr("panel.images", lang))
        self._set(render_images(snapshot, lang))


class NetworksPanel(_ScrollPanel):
    """Networks and volumes as of the cursor, each with the containers using it."""

    DEFAULT_CSS = """
    NetworksPanel > Static { width: 1fr; }
    """

    def show(self, snapshot: WorldSnapshot, lang: Language) -> None:
        self._title(tr("panel.networks", lang))
        self._set(render_networks(snapshot, lang))


class EventsPanel(_ScrollPanel):
    """The Docker event log as of the cursor, newest at the bottom."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, follow_end=True)

    def show(self, events: list[DockerEvent], lang: Language) -> None:
        self._title(tr("panel.events", lang))
        if not events:
            self._set(Text(tr("empty.events", lang), style="italic"))
        else:
            self._set(render_events(events))
