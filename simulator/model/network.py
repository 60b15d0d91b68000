"""Docker networks and IPAM: the default bridge, host, none and user-defined bridges.

Addresses come from the network's subnet; the gateway takes the first host
address. User-defined bridges get subnets from Docker's default pools
(172.17.0.0/16 is the default bridge, then 172.18.0.0/16, 172.19.0.0/16 ...).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from simulator.model.errors import Conflict, InvalidParameter, Unavailable

DEFAULT_BRIDGE_SUBNET = "172.17.0.0/16"
PREDEFINED = ("bridge", "host", "none")


@lru_cache(maxsize=256)
def _subnet(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``ip_network(text)``, parsed once per subnet string (network objects are immutable)."""
    return ipaddress.ip_network(text)


@dataclass(slots=True)
class Endpoint:
    """A container's attachment to a network."""

    container_id: str
    container_name: str
    endpoint_id: str
    ip: str
    mac: str
    aliases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "container_id": self.container_id,
            "container_name": self.container_name,
            "endpoint_id": self.endpoint_id,
            "ip": self.ip,
            "mac": self.mac,
            "aliases": list(self.aliases),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Endpoint:
        return cls(**data)


@dataclass(slots=True)
class Network:
    """A network as ``docker network inspect`` describes it."""

    id: str
    name: str
    driver: str
    subnet: str = ""
    gateway: str = ""
    created: float = 0.0
    internal: bool = False
    attachable: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    allocated: list[str] = field(default_factory=list)

    @property
    def user_defined(self) -> bool:
        """Docker's embedded DNS serves names only on user-defined networks."""
        return self.name not in PREDEFINED

    @property
    def prefix_len(self) -> int:
        return _subnet(self.subnet).prefixlen if self.subnet else 0

    def allocate_ip(self, requested: str = "") -> str:
        """Take the next free host address (or the requested one)."""
        if not self.subnet:
            return ""
        net = _subnet(self.subnet)
        used = set(self.allocated) | {self.gateway}
        if requested:
            try:
                addr = ipaddress.ip_address(requested)
            except ValueError:
                raise InvalidParameter(f"invalid IPv4 address: {requested}") from None
            if addr not in net:
                raise InvalidParameter(f"no configured subnet or ip-range contain the IP address {requested}")
            if requested in used:
                raise Conflict("Address already in use")
            self.allocated.append(requested)
            return requested
        for text in _host_texts(net):
            if text not in used:
                self.allocated.append(text)
                return text
        raise Unavailable(f"no available IPv4 addresses on this network's address pools: {self.name}")

    def release_ip(self, ip: str) -> None:
        if ip in self.allocated:
            self.allocated.remove(ip)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "driver": self.driver,
            "subnet": self.subnet,
            "gateway": self.gateway,
            "created": self.created,
            "internal": self.internal,
            "attachable": self.attachable,
            "labels": dict(self.labels),
            "options": dict(self.options),
            "endpoints": {k: v.to_dict() for k, v in self.endpoints.items()},
            "allocated": list(self.allocated),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Network:
        data = dict(data)
        data["endpoints"] = {k: Endpoint.from_dict(v) for k, v in data["endpoints"].items()}
        return cls(**data)


def _host_texts(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Iterator[str]:
    """``str(h) for h in net.hosts()``, without an address object per host for IPv4.

    Every container start allocates an address by scanning from the bottom of the
    subnet; building and printing ``IPv4Address`` objects was most of that.
    """
    if net.version != 4 or net.prefixlen >= 31:  # /31 and /32 have their own ``hosts()`` rules
        for host in net.hosts():
            yield str(host)
        return
    for n in range(int(net.network_address) + 1, int(net.broadcast_address)):
        yield f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def gateway_for(subnet: str) -> str:
    net = ipaddress.ip_network(subnet)
    return str(next(net.hosts()))


def validate_subnet(subnet: str) -> str:
    """A network's ``--subnet`` in canonical form, or dockerd's error for it."""
    try:
        return str(ipaddress.ip_network(subnet, strict=True))
    except ValueError:
        raise InvalidParameter(f"Invalid subnet {subnet} : invalid CIDR address: {subnet}") from None


def next_pool(taken: list[str]) -> str:
    """The first free /16 from Docker's default local pools (172.17-31, then 192.168.x/20)."""
    taken_nets = [ipaddress.ip_network(s) for s in taken if s]
    candidates = [f"172.{i}.0.0/16" for i in range(17, 32)] + [f"192.168.{i}.0/20" for i in range(0, 256, 16)]
    for cand in candidates:
        net = ipaddress.ip_network(cand)
        if not any(net.overlaps(t) for t in taken_nets):
            return cand
    raise Unavailable(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
    )


def mac_for(ip: str) -> str:
    """Docker derives the MAC from the IPv4 address: 02:42:ac:11:00:02 for 172.17.0.2."""
    if not ip:
        return ""
    octets = [int(x) for x in ip.split(".")]
    return "02:42:" + ":".join(f"{o:02x}" for o in octets)
