"""Instruction flags: ``COPY --from=``, ``RUN --mount=``, ``HEALTHCHECK --interval=``.

Each instruction declares the flags it accepts; anything else is an error
in dockerd's words (``Unknown flag: foo``). This is csim's counterpart of
the legacy builder's ``BFlags``, plus the two value parsers flags need: Go
durations (``30s``, ``1m30s``) and ``--mount`` specifications.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from simulator.daemon.build.shell_lex import go_quote


class FlagError(ValueError):
    """A flag is unknown, repeated or has a bad value; the text is dockerd's."""


class FlagKind(Enum):
    """How a flag's value is read."""

    BOOL = "bool"
    STRING = "string"
    STRINGS = "strings"


@dataclass
class Flag:
    """One declared flag and, after :meth:`BuildFlags.parse`, its value."""

    name: str
    kind: FlagKind
    value: str = ""
    values: list[str] = field(default_factory=list)
    used: bool = False

    @property
    def is_true(self) -> bool:
        """A boolean flag's value."""
        return self.value == "true"


class BuildFlags:
    """The flags written on one instruction, checked against those it accepts."""

    def __init__(self, args: list[str]) -> None:
        self.args = list(args)
        self.flags: dict[str, Flag] = {}

    def add_bool(self, name: str, default: bool = False) -> Flag:
        """Declare ``--name`` / ``--name=true|false``."""
        return self._add(Flag(name, FlagKind.BOOL, "true" if default else "false"))

    def add_string(self, name: str, default: str = "") -> Flag:
        """Declare ``--name=value``."""
        return self._add(Flag(name, FlagKind.STRING, default))

    def add_strings(self, name: str) -> Flag:
        """Declare a repeatable ``--name=value``."""
        return self._add(Flag(name, FlagKind.STRINGS))

    def _add(self, flag: Flag) -> Flag:
        self.flags[flag.name] = flag
        return flag

    def parse(self) -> None:
        """Assign the written flags to the declared ones.

        Raises:
            FlagError: unknown, duplicated, valueless or ill-typed flag.
        """
        for arg in self.args:
            if arg == "--":
                return
            if not arg.startswith("--"):
                raise FlagError(f"Arg should start with -- : {arg}")
            name, has_value, value = arg[2:].partition("=")
            flag = self.flags.get(name)
            if flag is None:
                raise FlagError(f"Unknown flag: {name}")
            if flag.used and flag.kind is not FlagKind.STRINGS:
                raise FlagError(f"Duplicate flag specified: {name}")
            flag.used = True
            if flag.kind is FlagKind.BOOL:
                if has_value and value == "":
                    raise FlagError(f"Missing a value on flag: {name}")
                lowered = value.lower()
                if lowered not in ("true", "false", ""):
                    raise FlagError(f"Expecting boolean value for flag {name}, not: {value}")
                flag.value = "false" if lowered == "false" else "true"
            elif not has_value:
                raise FlagError(f"Missing a value on flag: {name}")
            elif flag.kind is FlagKind.STRING:
                flag.value = value
            else:
                flag.values.append(value)


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5
    "μs": 1_000,  # U+03BC
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def parse_go_duration(text: str) -> int:
    """Parse a Go duration (``1h30m``, ``1.5s``, ``-2ms``) into nanoseconds.

    Raises:
        FlagError: with Go's ``time: invalid duration "x"`` wording.
    """
    quoted = go_quote(text)
    rest = text
    sign = 1
    if rest[:1] in ("-", "+"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise FlagError(f"time: invalid duration {quoted}")
    total = 0.0
    while rest:
        match = _DURATION_PART.match(rest)
        if match is None or (not match.group(1) and not match.group(2)):
            raise FlagError(f"time: invalid duration {quoted}")
        whole, frac, unit = match.groups()
        if not unit:
            raise FlagError(f"time: missing unit in duration {quoted}")
        if unit not in _DURATION_UNITS:
            # The unit runs until the next digit or dot, as in Go.
            raise FlagError(f"time: unknown unit {go_quote(unit)} in duration {quoted}")
        number = float(f"{whole or '0'}.{frac or '0'}")
        total += number * _DURATION_UNITS[unit]
        rest = rest[match.end() :]
    return sign * int(total)


MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
SHARING_MODES = ("shared", "private", "locked")


@dataclass(frozen=True)
class Mount:
    """One ``RUN --mount=...`` specification.

    Attributes:
        type: bind, cache, tmpfs, secret or ssh.
        target: where it appears in the container.
        source: path in the build context or ``from`` image.
        from_: stage or image the bind/cache source comes from.
        readonly: mounted read-only (bind default).
        id: cache, secret or ssh id.
        sharing: cache sharing mode.
        required: a secret/ssh mount must be provided.
        mode: file mode for cache/secret/ssh.
        uid: owner uid.
        gid: owner gid.
    """

    type: str = "bind"
    target: str = ""
    source: str = ""
    from_: str = ""
    readonly: bool = True
    id: str = ""
    sharing: str = ""
    required: bool = False
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None


def _parse_bool(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise FlagError(f"invalid value for {key}: {value}")


def _parse_int(key: str, value: str, base: int) -> int:
    try:
        return int(value, base)
    except ValueError:
        raise FlagError(f"invalid value {value} for {key}") from None


def parse_mount(spec: str) -> Mount:
    """Parse ``type=cache,target=/root/.cache,sharing=locked`` and friends.

    Raises:
        FlagError: unknown type or key, or a bad value.
    """
    fields: dict[str, Any] = {}
    mount_type = "bind"
    readonly: bool | None = None
    for item in (part.strip() for part in spec.split(",")):
        key, has_value, value = item.partition("=")
        key = key.lower()
        if not has_value:
            if key in ("readonly", "ro"):
                readonly = True
            elif key in ("readwrite", "rw"):
                readonly = False
            elif key == "required" and mount_type in ("secret", "ssh"):
                fields["required"] = True
            else:
                raise FlagError(f"invalid field '{item}' must be a key=value pair")
            continue
        if key == "type":
            if value.lower() not in MOUNT_TYPES:
                raise FlagError(f"unsupported mount type {go_quote(value)}")
            mount_type = value.lower()
        elif key == "from":
            fields["from_"] = value
        elif key in ("source", "src"):
            fields["source"] = value
        elif key in ("target", "dst", "destination"):
            fields["target"] = value
        elif key in ("readonly", "ro"):
            readonly = _parse_bool(key, value)
        elif key in ("readwrite", "rw"):
            readonly = not _parse_bool(key, value)
        elif key == "required":
            fields["required"] = _parse_bool(key, value)
        elif key == "id":
            fields["id"] = value
        elif key == "sharing":
            if value.lower() not in SHARING_MODES:
                raise FlagError(f"unsupported sharing value {go_quote(value)}")
            fields["sharing"] = value.lower()
        elif key == "mode":
            fields["mode"] = _parse_int(key, value, 8)
        elif key in ("uid", "gid"):
            fields[key] = _parse_int(key, value, 10)
        else:
            raise FlagError(f"unexpected key '{key}' in '{item}'")
    if readonly is None:
        readonly = mount_type == "bind"
    if fields.get("sharing") and mount_type != "cache":
        raise FlagError(f"invalid cache sharing set for {mount_type} mount")
    if mount_type == "cache" and not fields.get("sharing"):
        fields["sharing"] = "shared"
    return Mount(type=mount_type, readonly=readonly, **fields)
