"""The console and the command bar.

The console prints a command's output exactly as the CLI prints it (stdout
plain, stderr in the error colour, no markup interpretation: a ``[`` in an
image name is just a bracket). The command bar is an ``Input`` with shell
history on up/down and completion of commands, flags and the names the world
holds, offered inline and accepted with Tab or the right arrow.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input, RichLog

from simulator.tui.completion import CommandHistory, complete
from simulator.tui.snapshot import WorldSnapshot

__all__ = ["CommandBar", "CommandSuggester", "Console"]


class Console(RichLog):
    """Command lines and what they printed.

    Lines wrap between words; a token longer than the pane (a 64-digit id, a
    digest) folds onto the next line, as a terminal shows it, instead of being cut.
    """

    DEFAULT_CSS = """
    Console {
        height: 1fr;
        border: round $primary 50%;
        padding: 0 1;
        background: $surface;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, max_lines=2000, min_width=20)

    def command(self, line: str) -> None:
        self.write(Text("$ csim " + line, style="bold", overflow="fold"))

    def output(self, stdout: str, stderr: str) -> None:
        """Write a command's output; stderr lines in the error colour."""
        for chunk, style in ((stdout, ""), (stderr, "bold red")):
            if chunk:
                self.write(Text(chunk.rstrip("\n"), style=style, overflow="fold"))

    def error(self, message: str) -> None:
        self.write(Text(message, style="bold red", overflow="fold"))

    def info(self, message: str) -> None:
        self.write(Text(message, style="dim italic", overflow="fold"))


class CommandSuggester(Suggester):
    """Offers the first completion of the line typed so far."""

    def __init__(self, snapshot: Callable[[], WorldSnapshot | None]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._snapshot = snapshot

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        options = complete(value, self._snapshot())
        return options[0] if options else None


class CommandBar(Input):
    """Where a docker command line is typed.

    Not docked: the footer is docked to the bottom edge and two bottom docks
    overlap (the footer hid the bar's lower border); the app lays it out above
    the footer instead.
    """

    DEFAULT_CSS = """
    CommandBar {
        margin: 0 0;
    }
    """

    BINDINGS = [
        Binding("up", "history_previous", "history", show=False, id="command.history_previous"),
        Binding("down", "history_next", "history", show=False, id="command.history_next"),
        Binding("tab", "complete", "complete", show=False, id="command.complete"),
        Binding("escape", "leave", "leave", show=False, id="command.leave"),
    ]

    def __init__(
        self,
        snapshot: Callable[[], WorldSnapshot | None],
        *,
        placeholder: str = "",
        id: str | None = None,
    ) -> None:
        super().__init__(placeholder=placeholder, id=id, suggester=CommandSuggester(snapshot))
        self.history = CommandHistory()
        self._snapshot = snapshot

    def action_leave(self) -> None:
        """Give the keys back to the app (space, arrows, l, t... act on the animation)."""
        self.screen.set_focus(None)

    def action_history_previous(self) -> None:
        self.value = self.history.previous(self.value)
        self.cursor_position = len(self.value)

    def action_history_next(self) -> None:
        self.value = self.history.next()
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        options = complete(self.value, self._snapshot())
        if len(options) == 1:
            self.value = options[0] + " "
        elif options:
            common = os.path.commonprefix(options)  # noqa: RUF071 - character prefix wanted
            self.value = common if len(common) > len(self.value) else options[0]
        self.cursor_position = len(self.value)
