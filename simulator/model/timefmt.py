"""Go's RFC3339Nano timestamps, as every Docker JSON document prints them."""

from __future__ import annotations

import time as _time
from decimal import ROUND_HALF_EVEN, Decimal

ZERO_TIME = "0001-01-01T00:00:00Z"
_NS = Decimal(1_000_000_000)


def to_ns(ts: float) -> int:
    """Seconds to integer nanoseconds, without float noise (1.1 -> 1.1e9)."""
    exact = Decimal(repr(float(ts))) * _NS
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def format_timestamp_rfc3339nano(ts: float | None) -> str:
    """Go's ``time.RFC3339Nano`` in UTC; ``None`` is Go's zero time.

    Trailing zeros of the fraction are trimmed and a whole second has no
    fraction: ``2024-01-02T03:04:05.12Z``, ``2024-01-02T03:04:05Z``.
    """
    if ts is None:
        return ZERO_TIME
    sec, nanos = divmod(to_ns(ts), 1_000_000_000)
    stamp = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(sec))
    frac = f".{nanos:09d}".rstrip("0") if nanos else ""
    return f"{stamp}{frac}Z"


def format_timestamp_rfc3339(ts: float) -> str:
    """Go's ``time.RFC3339`` in UTC, whole seconds: what the local volume driver reports as ``CreatedAt``."""
    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(int(ts)))


def human_duration(seconds: float) -> str:
    """go-units ``HumanDuration``: ``Less than a second`` ... ``2 years``."""
    d = seconds
    whole_seconds = int(d)
    if whole_seconds < 1:
        return "Less than a second"
    if whole_seconds == 1:
        return "1 second"
    if whole_seconds < 60:
        return f"{whole_seconds} seconds"
    minutes = int(d / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(d / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(d / 3600) // 24 // 365} years"
