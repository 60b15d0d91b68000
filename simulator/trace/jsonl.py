"""Spans as JSON Lines: the on-disk form of a trace.

Golden traces are checked in and compared byte for byte, so the encoding is
canonical: one ``Span.to_json()`` object per line, keys sorted, no spaces,
UTF-8 as is, times rounded to the nanosecond as ``Span.to_json`` does, and a
newline after every line. The same spans always give the same bytes.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from simulator.trace.span import Span

__all__ = ["dumps_span", "dumps_spans", "iter_spans", "loads_spans", "read_spans", "write_spans"]

PathLike = str | os.PathLike[str]


def dumps_span(span: Span) -> str:
    """One span as its canonical JSON line, without the newline.

    Raises:
        ValueError: an attribute is not JSON (NaN, infinity, an object).
    """
    try:
        return json.dumps(
            span.to_json(),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"span {span.span_id} ({span.hop} {span.name!r}): {exc}") from exc


def dumps_spans(spans: Iterable[Span]) -> str:
    """Spans as a JSON Lines document (each line ends with a newline)."""
    return "".join(dumps_span(span) + "\n" for span in spans)


def write_spans(spans: Iterable[Span], dest: PathLike | IO[str]) -> int:
    """Write spans to a path or an open text file.

    Returns:
        How many spans were written.
    """
    if isinstance(dest, str | os.PathLike):
        # newline="" keeps "\n" on every platform: golden files are byte-exact.
        with Path(dest).open("w", encoding="utf-8", newline="") as fh:
            return write_spans(spans, fh)
    count = 0
    for span in spans:
        dest.write(dumps_span(span) + "\n")
        count += 1
    return count


def iter_spans(lines: Iterable[str]) -> Iterator[Span]:
    """Parse JSON Lines; blank lines are skipped.

    Raises:
        ValueError: ``line N: ...`` for the first line that is not a span.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: invalid JSON: {exc.msg} (column {exc.colno})") from exc
        if not isinstance(data, dict):
            raise ValueError(f"line {number}: expected a JSON object, got {type(data).__name__}")
        try:
            span = Span.from_json(data)
        except KeyError as exc:
            raise ValueError(f"line {number}: missing key {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise ValueError(f"line {number}: bad span: {exc}") from exc
        yield span


def loads_spans(text: str) -> list[Span]:
    """Parse a JSON Lines document held in a string."""
    return list(iter_spans(io.StringIO(text)))


def read_spans(source: PathLike | IO[str]) -> list[Span]:
    """Read every span from a path or an open text file."""
    if isinstance(source, str | os.PathLike):
        with Path(source).open(encoding="utf-8", newline="") as fh:
            return list(iter_spans(fh))
    return list(iter_spans(source))
