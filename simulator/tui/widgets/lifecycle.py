"""The lifecycle diagram: Docker's seven container states and the moves between them.

The selected container's state is lit in its badge colour and the last
transition it made is named under the diagram. A container that does not
exist at the cursor (not yet created, or already removed) lights ``removed``.
The diagram is fixed text; only styles change, so it never jitters.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from simulator.tui.i18n import Language, tr
from simulator.tui.widgets.containers import STATE_BADGES

__all__ = ["LIFECYCLE_ART", "LifecycleDiagram", "render_lifecycle"]

LIFECYCLE_ART: tuple[str, ...] = (
    "created ──▶ running ⇄ paused",
    "   │        │   ▲",
    "   │        ▼   │",
    "   │      restarting",
    "   ▼        ▼",
    " dead ◀── exited ──▶ removing ──▶ removed",
)
"""Each state word appears exactly once, so it can be found and lit."""

_WORDS = ("created", "running", "paused", "restarting", "removing", "exited", "dead", "removed")


def render_lifecycle(name: str | None, state: str | None, last: tuple[str, str] | None, lang: Language) -> Text:
    """The diagram with ``state`` lit; ``state`` None means the container is gone."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if name is None:
        text.append(tr("empty.lifecycle", lang), style="italic")
        return text
    current = state or "removed"
    for row, line in enumerate(LIFECYCLE_ART):
        if row:
            text.append("\n")
        start = len(text)
        text.append(line, style="dim")
        for word in _WORDS:
            at = line.find(word)
            if at < 0:
                continue
            colour = STATE_BADGES.get(word, ("", "#9e9e9e"))[1]
            if word == current:
                text.stylize(f"bold reverse {colour}", start + at, start + at + len(word))
            else:
                text.stylize(colour, start + at, start + at + len(word))
    text.append("\n")
    gloss = tr(f"gloss.{current}", lang) if current != "removed" else tr("label.removed", lang)
    text.append(f"{name}: ", style="bold")
    text.append(f"{current} ({gloss})")
    if last is not None:
        text.append("\n" + tr("label.last_transition", lang, before=last[0], after=last[1]), style="dim")
    return text


class LifecycleDiagram(Static):
    """The seven states with the selected container's lit."""

    DEFAULT_CSS = """
    LifecycleDiagram {
        height: auto;
        min-height: 10;
        border: round $primary 50%;
        padding: 0 1;
    }
    """

    _shown: tuple[object, ...] | None = None

    def show(self, name: str | None, state: str | None, last: tuple[str, str] | None, lang: Language) -> None:
        """Draw the diagram (only when something changed: a redraw costs a layout pass)."""
        key = (name, state, last, lang)
        if key == self._shown:
            return
        self._shown = key
        title = tr("panel.lifecycle", lang)
        self.border_title = f"{title}: {name}" if name else title
        self.update(render_lifecycle(name, state, last, lang))
