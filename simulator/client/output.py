"""Docker's output formats: tabwriter tables, truncation, pull progress lines."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import IO, Any, ClassVar


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


_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def go_marshal(value: Any) -> str:
    """Go's ``json.Marshal``: compact, and ``<``, ``>``, ``&`` escaped as ``\\u003c``..."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_ESCAPES:
        text = text.replace(char, escaped)
    return text


def row_json(fields: Mapping[str, Any]) -> str:
    """A listing row as ``--format json`` prints it: its fields marshalled by Go, keys sorted."""
    return go_marshal(dict(sorted(fields.items())))


class ListingRow:
    """A row of a listing (``ps``, ``images``...): its attributes are the ``--format`` fields.

    ``JSON_EXTRA``: fields ``--format json`` prints that csim has no value for (``"N/A"``...).
    """

    JSON_EXTRA: ClassVar[dict[str, Any]] = {}

    def marshal_json(self) -> str:
        return row_json({**vars(self), **self.JSON_EXTRA})


def go_time(ts: float, fraction: str = "") -> str:
    """Go's ``time.Time.String()`` in local time, as ``{{.CreatedAt}}`` prints: ``2026-01-01 00:00:05 +0000 UTC``.

    ``fraction`` is the second's decimal digits, if the time has any (``"791062144"``).
    """
    local = datetime.fromtimestamp(int(ts)).astimezone()
    digits = fraction.rstrip("0")
    return local.strftime("%Y-%m-%d %H:%M:%S") + (f".{digits}" if digits else "") + local.strftime(" %z %Z")


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def go_rfc3339(ts: float) -> str:
    """Go's ``time.RFC3339`` in local time: ``2024-01-01T00:00:00Z`` (``+09:00`` away from UTC)."""
    local = datetime.fromtimestamp(int(ts)).astimezone()
    offset = local.strftime("%z")
    zone = "Z" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:]}"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + zone


def go_time_rfc3339(text: str) -> str:
    """An API timestamp (``2026-11-23T18:38:19.791062144Z``) as Go's ``time.Time.String()``."""
    found = _RFC3339.match(text)
    if found is None:
        return text
    whole, fraction, zone = found.groups()
    stamp = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    return go_time(stamp.timestamp(), fraction or "")


def is_default_format(fmt: str | None) -> bool:
    """No ``--format``, or just ``table``: the command's own table."""
    return not fmt or fmt.strip() == "table"


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
