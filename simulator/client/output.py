"""Docker's output formats: tabwriter tables, truncation, pull progress lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """docker/cli's tabwriter (minwidth 10, padding 3, spaces); the last column unpadded."""
    all_rows = [list(headers), *[list(r) for r in rows]]
    ncols = len(headers)
    widths = [0] * ncols
    for row in all_rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell) + 3, 10)
    lines = []
    for row in all_rows:
        parts = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        parts.append(row[-1] if row else "")
        lines.append("".join(parts).rstrip() if not row[-1] else "".join(parts))
    return "\n".join(lines) + "\n"


def ellipsis(text: str, width: int) -> str:
    """docker's ``formatter.Ellipsis``: cut to ``width`` runes, the last one an ellipsis."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return text[: width - 1] + "…"


class ProgressPrinter:
    """Renders a JSON message stream as the docker CLI does.

    Without a terminal, lines carrying a progress bar are not shown and every
    other message becomes ``id: status``; with a terminal, each layer keeps one
    line that is redrawn in place.
    """

    def __init__(self, out: IO[str], tty: bool) -> None:
        self.out = out
        self.tty = tty
        self.ids: list[str] = []
        self.error: str | None = None
        self.aux: list[dict[str, Any]] = []

    def feed(self, msg: dict[str, Any]) -> None:
        if "errorDetail" in msg or "error" in msg:
            self.error = str((msg.get("errorDetail") or {}).get("message") or msg.get("error"))
            return
        if "aux" in msg:
            self.aux.append(msg["aux"])
            return
        if "stream" in msg:
            self.out.write(str(msg["stream"]))
            return
        status = str(msg.get("status", ""))
        ident = str(msg.get("id", ""))
        progress = str(msg.get("progress", ""))
        if not self.tty:
            if progress:
                return
            self.out.write(f"{ident}: {status}\n" if ident else f"{status}\n")
            return
        line = f"{ident}: {status} {progress}".rstrip() if ident else status
        if ident and ident in self.ids:
            up = len(self.ids) - self.ids.index(ident)
            self.out.write(f"\x1b[{up}A\r\x1b[2K{line}\r\x1b[{up}B")
        else:
            if ident:
                self.ids.append(ident)
            self.out.write(line + "\n")
        self.out.flush()
