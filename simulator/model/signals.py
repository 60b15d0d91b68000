"""Signal names and numbers as Docker parses them (``kill -s``, ``StopSignal``)."""

from __future__ import annotations

from simulator.model.errors import InvalidParameter

SIGNALS: dict[str, int] = {
    "ABRT": 6, "ALRM": 14, "BUS": 7, "CHLD": 17, "CLD": 17, "CONT": 18, "FPE": 8, "HUP": 1,
    "ILL": 4, "INT": 2, "IO": 29, "IOT": 6, "KILL": 9, "PIPE": 13, "POLL": 29, "PROF": 27,
    "PWR": 30, "QUIT": 3, "SEGV": 11, "STKFLT": 16, "STOP": 19, "SYS": 31, "TERM": 15,
    "TRAP": 5, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "USR1": 10, "USR2": 12,
    "VTALRM": 26, "WINCH": 28, "XCPU": 24, "XFSZ": 25,
}  # fmt: skip

SIGKILL = 9
SIGTERM = 15
_MAX_SIGNAL = 64


def parse_signal(raw: str) -> int:
    """Parse ``SIGTERM``, ``TERM``, ``term`` or ``15`` as moby's ``signal.ParseSignal`` does.

    Raises:
        InvalidParameter: ``invalid signal: X`` for names or numbers Linux does not have.
    """
    text = raw.strip()
    if text.isdigit():
        number = int(text)
        if number == 0 or number > _MAX_SIGNAL:
            raise InvalidParameter(f"invalid signal: {raw}")
        return number
    name = text.upper().removeprefix("SIG")
    if name.startswith("RTMIN") or name.startswith("RTMAX"):
        base = 34 if name.startswith("RTMIN") else 64
        rest = name[5:]
        try:
            offset = int(rest) if rest else 0
        except ValueError:
            raise InvalidParameter(f"invalid signal: {raw}") from None
        number = base + offset if name.startswith("RTMIN") else base - abs(offset)
        if 34 <= number <= 64:
            return number
        raise InvalidParameter(f"invalid signal: {raw}")
    if name in SIGNALS:
        return SIGNALS[name]
    raise InvalidParameter(f"invalid signal: {raw}")


def signal_name(number: int) -> str:
    """``15`` → ``SIGTERM`` (the first name that maps to it)."""
    for name, value in SIGNALS.items():
        if value == number and name not in ("CLD", "IOT", "POLL"):
            return f"SIG{name}"
    return str(number)
