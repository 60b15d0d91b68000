"""Volumes and ``-v``/``--mount`` parsing: named, anonymous and bind mounts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from simulator.model.errors import InvalidParameter

_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


@dataclass(slots=True)
class Volume:
    """A local volume as ``docker volume inspect`` shows it."""

    name: str
    created: float
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created": self.created,
            "driver": self.driver,
            "labels": dict(self.labels),
            "options": dict(self.options),
            "anonymous": self.anonymous,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Volume:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class BindSpec:
    """One parsed ``-v`` entry."""

    kind: str  # "volume" | "bind"
    source: str  # volume name ("" for anonymous) or host path
    destination: str
    read_only: bool = False

    def to_api(self) -> str:
        """The ``HostConfig.Binds`` string form."""
        mode = ":ro" if self.read_only else ""
        return f"{self.source}:{self.destination}{mode}" if self.source else self.destination


def validate_volume_name(name: str) -> str:
    if not _VOLUME_NAME.match(name):
        raise InvalidParameter(
            f'create {name}: "{name}" includes invalid characters for a local volume name, '
            'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
            "directory, use absolute path"
        )
    return name


def parse_bind(spec: str) -> BindSpec:
    """Parse ``name:/dst[:ro]``, ``/host:/dst[:rw]`` or ``/dst`` (anonymous)."""
    parts = spec.split(":")
    if len(parts) == 1:
        dest = parts[0]
        if not dest.startswith("/"):
            raise InvalidParameter(f"invalid volume specification: '{spec}'")
        return BindSpec("volume", "", dest)
    if len(parts) > 3 or not parts[0] or not parts[1]:
        raise InvalidParameter(f"invalid volume specification: '{spec}'")
    source, dest = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    if mode not in ("", "ro", "rw", "z", "Z"):
        raise InvalidParameter(f"invalid mode: {mode}")
    if not dest.startswith("/"):
        raise InvalidParameter(
            f"invalid volume specification: '{spec}': invalid mount config for type \"volume\": "
            f"invalid mount path: '{dest}' mount path must be absolute"
        )
    if dest == "/":
        raise InvalidParameter(
            f"invalid volume specification: '{spec}': invalid mount config for type \"bind\": "
            "invalid specification: destination can't be '/'"
        )
    kind = "bind" if source.startswith("/") else "volume"
    if kind == "volume":
        validate_volume_name(source)
    return BindSpec(kind, source, dest, read_only=mode == "ro")
