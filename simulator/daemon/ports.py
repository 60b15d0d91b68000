"""Published ports: which host port each ``-p`` binding gets when its container starts.

As libnetwork's port allocator: a fixed host port must be free; an empty one
gets the next free port of the ephemeral range (32768-60999); a range
(``8000-8010``) gets its first free port. ``0.0.0.0`` clashes with every
address, a given address with itself and ``0.0.0.0``. The ports are held
while the container runs and freed when it stops.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

EPHEMERAL = (32768, 60999)
ANY_IP = "0.0.0.0"

Bindings = dict[str, list[dict[str, str]]]


class PortAllocated(Exception):
    """``Bind for 0.0.0.0:8080 failed: port is already allocated``."""


def _held(others: Iterable[Bindings]) -> set[tuple[str, str, int]]:
    held = set()
    for published in others:
        for port, binds in published.items():
            proto = port.partition("/")[2] or "tcp"
            for b in binds:
                held.add((proto, b["HostIp"], int(b["HostPort"])))
    return held


def _clashes(held: set[tuple[str, str, int]], proto: str, ip: str, port: int) -> bool:
    if ip == ANY_IP:
        return any(p == proto and n == port for p, _, n in held)
    return (proto, ip, port) in held or (proto, ANY_IP, port) in held


def allocate(bindings: dict[str, Any], others: Iterable[Bindings]) -> Bindings:
    """The host ports for one container's ``PortBindings``, given what running containers hold.

    Raises:
        PortAllocated: a fixed port is taken, or a range (or the ephemeral range) is full.
    """
    held = _held(others)
    out: Bindings = {}
    for port, binds in sorted(bindings.items()):
        proto = port.partition("/")[2] or "tcp"
        for b in binds or []:
            ip = str(b.get("HostIp") or ANY_IP)
            spec = str(b.get("HostPort") or "")
            if spec and "-" not in spec:
                first = last = int(spec)
            else:
                first, last = (int(x) for x in spec.split("-", 1)) if spec else EPHEMERAL
            chosen = next((n for n in range(first, last + 1) if not _clashes(held, proto, ip, n)), None)
            if chosen is None:
                raise PortAllocated(
                    f"Bind for {ip}:{first if first == last else spec} failed: port is already allocated"
                )
            held.add((proto, ip, chosen))
            out.setdefault(port, []).append({"HostIp": ip, "HostPort": str(chosen)})
    return out
