"""Docker's human units: the words and numbers ``docker ps`` and friends print.

The real CLI formats with docker/go-units (``HumanDuration``, ``HumanSize``,
``BytesSize``, ``RAMInBytes``), moby's ``State.String`` for the ps STATUS
column, and the client's ``GetTimestamp`` for ``--since``/``--until``. A
student compares csim's output with Docker's, so these follow the Go code's
thresholds, rounding and error wording exactly.
"""

from __future__ import annotations

import calendar
import re
import time as _time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# The formatter lives in model/ so the daemon can print inspect times too.
from simulator.model.timefmt import ZERO_TIME, format_timestamp_rfc3339nano, human_duration, to_ns

__all__ = [
    "ZERO_TIME",
    "bytes_size",
    "created_ago",
    "format_timestamp_rfc3339nano",
    "from_human_size",
    "get_timestamp",
    "human_duration",
    "human_size",
    "parse_duration_or_timestamp",
    "parse_go_duration",
    "parse_rfc3339nano",
    "parse_size",
    "parse_timestamps",
    "ps_status",
]

_NS = 1_000_000_000
_DECIMAL_ABBRS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY_ABBRS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_DECIMAL_MAP = {"k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5}
_BINARY_MAP = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


# -- durations and sizes (docker/go-units) -----------------------------------


def _scaled(size: float, base: float, abbrs: tuple[str, ...]) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(abbrs) - 1:
        size /= base
        i += 1
    return size, abbrs[i]


def human_size(size: float, precision: int = 3) -> str:
    """Decimal size with ``precision`` significant digits: ``1.23kB``, ``187MB``.

    The CLI uses precision 3 for image and container sizes
    (``HumanSizeWithPrecision``); go-units' ``HumanSize`` uses 4.
    """
    value, unit = _scaled(float(size), 1000.0, _DECIMAL_ABBRS)
    return f"{value:.{precision}g}{unit}"


def bytes_size(size: float) -> str:
    """Binary size as ``docker stats`` prints memory: ``1.5MiB``, ``7.629GiB``."""
    value, unit = _scaled(float(size), 1024.0, _BINARY_ABBRS)
    return f"{value:.4g}{unit}"


_GO_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _go_parse_float(text: str) -> float:
    if not _GO_FLOAT.fullmatch(text):
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    return float(text)


def _parse_size(text: str, units: Mapping[str, int]) -> int:
    # go-units v0.5.0 (vendored by docker/cli 28): the number ends at the
    # last digit, dot or space; a single space may separate the suffix.
    sep = max(text.rfind(ch) for ch in "0123456789. ")
    if sep == -1:
        raise ValueError(f"invalid size: '{text}'")
    if text[sep] == " ":
        num, sfx = text[:sep], text[sep + 1 :]
    else:
        num, sfx = text[: sep + 1], text[sep + 1 :]
    size = _go_parse_float(num)
    if size < 0:
        raise ValueError(f"invalid size: '{text}'")
    if not sfx:
        return int(size)
    bad = ValueError(f"invalid suffix: '{sfx}'")
    if len(sfx) > 3:
        raise bad
    sfx = sfx.lower()
    if sfx[0] == "b":
        if len(sfx) > 1:
            raise ValueError(f"invalid suffix: '{sfx}'")
        return int(size)
    if sfx[0] not in units:
        raise ValueError(f"invalid suffix: '{sfx}'")
    size *= units[sfx[0]]
    if (len(sfx) == 2 and sfx[1] != "b") or (len(sfx) == 3 and sfx[1:] != "ib"):
        raise ValueError(f"invalid suffix: '{sfx}'")
    return int(size)


def parse_size(text: str) -> int:
    """go-units ``RAMInBytes``: ``16m`` -> 16777216 (binary, case-insensitive).

    Raises:
        ValueError: worded as Docker: ``invalid size: 'hello'``,
            ``invalid suffix: 'x'``, ``strconv.ParseFloat: parsing ...``.
    """
    return _parse_size(text, _BINARY_MAP)


def from_human_size(text: str) -> int:
    """go-units ``FromHumanSize``: ``16MB`` -> 16000000 (decimal)."""
    return _parse_size(text, _DECIMAL_MAP)


# -- Go durations --------------------------------------------------------------

_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": _NS,
    "m": 60 * _NS,
    "h": 3600 * _NS,
}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]*)")


def parse_go_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` (``1h30m``, ``-1.5h``, ``300ms``), in nanoseconds.

    Raises:
        ValueError: ``time: invalid duration "x"`` and Go's other wordings.
    """
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    invalid = ValueError(f"time: invalid duration {quoted}")
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = Decimal(0)
    while rest:
        match = _DURATION_PART.match(rest)
        if match is None or match.end() == 0:
            raise invalid
        whole, frac, unit = match.groups()
        if not whole and not frac:
            raise invalid  # no digits at all, e.g. ".s"
        if not unit:
            raise ValueError(f"time: missing unit in duration {quoted}")
        if unit not in _DURATION_UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration {quoted}')
        number = Decimal(f"{whole or '0'}.{frac or '0'}")
        total += number * _DURATION_UNITS[unit]
        rest = rest[match.end() :]
    if total > (1 << 63) - 1:
        raise invalid
    ns = int(total)  # Go truncates fractional nanoseconds
    return -ns if negative else ns


# -- timestamps ----------------------------------------------------------------


_to_ns = to_ns


_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})")


def parse_rfc3339nano(text: str) -> float | None:
    """Unix seconds of an RFC3339(Nano) time; ``None`` for Go's zero time or ``""``.

    Raises:
        ValueError: not an RFC3339 time.
    """
    if not text or text.startswith("0001-01-01T00:00:00"):
        return None
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": invalid')
    ns = _fields_to_ns(match.groups()[:6], match.group(7), match.group(8), 0, text)
    return ns / _NS


def _zone_seconds(zone: str | None, local_offset: int) -> int:
    if zone is None:
        return local_offset
    if zone in ("Z", "z"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    return sign * (hours * 3600 + minutes * 60)


def _fields_to_ns(fields: tuple[str | None, ...], frac: str | None, zone: str | None, local: int, text: str) -> int:
    year, month, day, hour, minute, second = (int(f or 0) for f in fields)
    if not 1 <= month <= 12:
        raise ValueError(f'parsing time "{text}": month out of range')
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError(f'parsing time "{text}": day out of range')
    for value, limit, name in ((hour, 23, "hour"), (minute, 59, "minute"), (second, 59, "second")):
        if value > limit:
            raise ValueError(f'parsing time "{text}": {name} out of range')
    sec = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    nanos = int((frac or "0")[:9].ljust(9, "0"))
    return (sec - _zone_seconds(zone, local)) * _NS + nanos


# Layouts GetTimestamp picks from, as regexes: (date, hour, minute, second, frac).
_ZONE = r"(Z|[+-]\d{2}:\d{2})"
_LAYOUTS: dict[str, str] = {
    "2006-01-02T15:04:05.999999999": r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?",
    "2006-01-02T15": r"(\d{4})-(\d{2})-(\d{2})T(\d{2})()()()",
    "2006-01-02T15:04": r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})()()",
    "2006-01-02T15:04:05": r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?",
    "2006-01-02": r"(\d{4})-(\d{2})-(\d{2})()()()()",
}


def _local_offset(now: float) -> int:
    local = _time.localtime(now)
    return local.tm_gmtoff


def get_timestamp(value: str, now: float, utc_offset: int | None = None) -> str:
    """docker/cli ``GetTimestamp``: what ``--since``/``--until`` send to the daemon.

    A Go duration gives ``now`` minus it in whole Unix seconds; an RFC3339
    date or time gives ``"<sec>.<9-digit nanos>"``; Unix seconds (``0``,
    ``1700000000.5``) pass through unchanged.

    Args:
        value: what the user typed.
        now: the reference time, Unix seconds.
        utc_offset: seconds east of UTC for times without a zone; the
            machine's local offset if None, as the real CLI does.

    Raises:
        ValueError: with Docker's wording (``failed to parse value as time or
            duration: "abc"``, ``parsing time "2020-13-01": month out of range``).
    """
    if value != "0":
        try:
            duration = parse_go_duration(value)
        except ValueError:
            pass
        else:
            return str((_to_ns(now) - duration) // _NS)

    in_location = not (any(c in value for c in "zZ+") or value.count("-") == 3)
    if "." in value:
        layout = "2006-01-02T15:04:05.999999999"
    elif "T" in value:
        colons = value.count(":")
        if not in_location and not any(c in value for c in "zZ") and colons > 0:
            colons -= 1
        layout = ("2006-01-02T15", "2006-01-02T15:04")[colons] if colons < 2 else ""
        layout = layout or "2006-01-02T15:04:05"
    else:
        layout = "2006-01-02"
    pattern = _LAYOUTS[layout] + ("" if in_location else _ZONE)
    local = _local_offset(now) if utc_offset is None else utc_offset
    match = re.fullmatch(pattern, value)
    try:
        if match is None:
            shown = layout + ("" if in_location else "Z07:00")
            raise ValueError(f'parsing time "{value}" as "{shown}": cannot parse "{value}"')
        groups = match.groups()
        zone = None if in_location else groups[7]
        ns = _fields_to_ns(groups[:6], groups[6], zone, local, value)
    except ValueError:
        if "-" in value:
            raise
        try:
            parse_timestamps(value, 0)
        except ValueError:
            raise ValueError(f'failed to parse value as time or duration: "{value}"') from None
        return value
    sec, nanos = divmod(ns, _NS)
    return f"{sec}.{nanos:09d}"


_GO_INT = re.compile(r"[+-]?\d+")


def parse_timestamps(value: str, default_seconds: int) -> tuple[int, int]:
    """Docker's ``ParseTimestamps``: ``"1700000000.5"`` -> ``(1700000000, 500000000)``.

    Returns ``(default_seconds, 0)`` for ``""``.
    """
    if value == "":
        return default_seconds, 0
    whole, dot, frac = value.partition(".")
    if not _GO_INT.fullmatch(whole):
        raise ValueError(f'strconv.ParseInt: parsing "{whole}": invalid syntax')
    if not dot:
        return int(whole), 0
    if not _GO_INT.fullmatch(frac):
        raise ValueError(f'strconv.ParseInt: parsing "{frac}": invalid syntax')
    nanos = int(float(int(frac)) * 10.0 ** (9 - len(frac)))
    return int(whole), nanos


def parse_duration_or_timestamp(value: str, now: float, utc_offset: int | None = None) -> float:
    """``--since``/``--until`` as Unix seconds (``10m`` -> ``now - 600``, floored).

    See :func:`get_timestamp` for the accepted forms and errors.
    """
    sec, nanos = parse_timestamps(get_timestamp(value, now, utc_offset), 0)
    return sec + nanos / _NS


# -- ps STATUS and CREATED --------------------------------------------------


def _time_of(value: Any) -> float | None:
    """A state time as Unix seconds; None, ``""`` and Go's zero time are "never"."""
    if value is None:
        return None
    if isinstance(value, str):
        return parse_rfc3339nano(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.timestamp()
    return float(value)


_STATE_KEYS = {
    "running": "Running",
    "paused": "Paused",
    "restarting": "Restarting",
    "dead": "Dead",
    "removal_in_progress": "RemovalInProgress",
    "exit_code": "ExitCode",
    "started_at": "StartedAt",
    "finished_at": "FinishedAt",
    "health": "Health",
}


def ps_status(state: Mapping[str, Any] | None = None, now: float = 0.0, **fields: Any) -> str:
    """The STATUS column of ``docker ps``, as moby's ``State.String``.

    Args:
        state: an inspect ``State`` object (``Running``, ``Paused``,
            ``Restarting``, ``Dead``, ``ExitCode``, ``StartedAt``,
            ``FinishedAt``, ``Health``; ``Status: "removing"`` or
            ``RemovalInProgress`` for removal). Times may be RFC3339 strings,
            Unix seconds or datetimes; None/``""``/Go's zero time is "never".
        now: the current time, Unix seconds.
        **fields: the same facts in snake_case (``running=True``,
            ``started_at=12.0``, ``health="healthy"``), overriding ``state``.

    Returns:
        ``Created``, ``Up 5 seconds``, ``Up 5 seconds (Paused)``,
        ``Up 2 minutes (healthy)``, ``Restarting (1) Less than a second ago``,
        ``Exited (3) 4 seconds ago``, ``Removal In Progress`` or ``Dead``.
    """
    unknown = set(fields) - set(_STATE_KEYS)
    if unknown:
        raise TypeError(f"unknown state fields: {sorted(unknown)}")
    merged: dict[str, Any] = dict(state or {})
    for key, value in fields.items():
        merged[_STATE_KEYS[key]] = value
    if merged.get("Status") == "removing":
        merged["RemovalInProgress"] = True

    started = _time_of(merged.get("StartedAt"))
    finished = _time_of(merged.get("FinishedAt"))
    exit_code = int(merged.get("ExitCode") or 0)
    if merged.get("Running"):
        up = human_duration(now - (started if started is not None else now))
        if merged.get("Paused"):
            return f"Up {up} (Paused)"
        if merged.get("Restarting"):
            ago = human_duration(now - (finished if finished is not None else now))
            return f"Restarting ({exit_code}) {ago} ago"
        health = merged.get("Health")
        if isinstance(health, Mapping):
            health = health.get("Status")
        if health:
            shown = "health: starting" if health == "starting" else str(health)
            return f"Up {up} ({shown})"
        return f"Up {up}"
    if merged.get("RemovalInProgress"):
        return "Removal In Progress"
    if merged.get("Dead"):
        return "Dead"
    if started is None:
        return "Created"
    if finished is None:
        return ""
    return f"Exited ({exit_code}) {human_duration(now - finished)} ago"


def created_ago(ts: float, now: float) -> str:
    """The CREATED column: ``2 minutes ago``."""
    return f"{human_duration(now - ts)} ago"
