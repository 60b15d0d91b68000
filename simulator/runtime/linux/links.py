"""Netlink work on links, addresses, routes and rules, as ``ip link/addr/route/rule`` does it.

pyroute2 speaks rtnetlink directly (nothing shells out to ``ip``) and is
imported only when a container is really plugged in, so the CLI starts fast.
A netlink socket belongs to the network namespace it was opened in: the
helpers act on the namespace of the socket they are given.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.runtime.linux import netns
from simulator.runtime.protocol import EndpointSpec

RULE_PRIORITY = 1717  # after `local` (0), before `main` (32766)
FR_ACT_PROHIBIT = 8  # linux/fib_rules.h
AF_INET = 2
IFA_F_NOPREFIXROUTE = 0x200

Step = tuple[str, float, float]  # (what the kernel did, monotonic start, end)


def done(steps: list[Step], what: str, t0: float) -> None:
    """Record a finished step that began at monotonic ``t0``."""
    steps.append((what, t0, time.monotonic()))


def plug(ns_path: Path, veth: str, bridge: str, endpoint: EndpointSpec, steps: list[Step], alias: str) -> str:
    """On a fresh thread: the veth pair, its bridge port, the address and route inside; the ifname."""
    with iproute() as host:
        delete_link(host, veth)  # left over by a crash
        with netns.entered(ns_path):
            inside = open_iproute()
        try:
            used = {link.get_attr("IFLA_IFNAME") for link in inside.get_links()}
            ifname = next(f"eth{n}" for n in range(len(used) + 1) if f"eth{n}" not in used)
            t0 = time.monotonic()
            fd = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                host.link("add", ifname=veth, kind="veth", peer={"ifname": ifname, "net_ns_fd": fd})
            finally:
                os.close(fd)
            try:
                master = host.link_lookup(ifname=bridge)[0]
                host.link("set", index=host.link_lookup(ifname=veth)[0], master=master, state="up", ifalias=alias)
                done(steps, f"ip link add {veth} master {bridge} type veth peer {ifname} netns <container>", t0)
                t0 = time.monotonic()
                index = inside.link_lookup(ifname=ifname)[0]
                if endpoint.mac:
                    inside.link("set", index=index, address=endpoint.mac)
                inside.addr("add", index=index, address=endpoint.ip, prefixlen=endpoint.prefix_len)
                inside.link("set", index=index, state="up")
                default_route(inside, endpoint.gateway)
                address = f"{endpoint.ip}/{endpoint.prefix_len}"
                done(steps, f"ip addr add {address} dev {ifname}; ip route add default via {endpoint.gateway}", t0)
            except BaseException:
                delete_link(host, veth)
                raise
        finally:
            inside.close()
    return ifname


def open_iproute() -> Any:
    from pyroute2 import IPRoute

    return IPRoute()


@contextlib.contextmanager
def iproute() -> Iterator[Any]:
    """A netlink socket in the calling thread's current namespace."""
    ipr = open_iproute()
    try:
        yield ipr
    finally:
        ipr.close()


def loopback_up() -> None:
    with iproute() as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")


def delete_link(ipr: Any, ifname: str) -> bool:
    """Delete ``ifname`` if it exists (deleting one end of a veth deletes both)."""
    from pyroute2.netlink.exceptions import NetlinkError

    found = ipr.link_lookup(ifname=ifname)
    if not found:
        return False
    try:
        ipr.link("del", index=found[0])
    except NetlinkError as exc:
        if exc.code != errno.ENODEV:
            raise
    return True


def default_route(ipr: Any, gateway: str) -> None:
    """``ip route add default via gateway`` unless the namespace already has one."""
    from pyroute2.netlink.exceptions import NetlinkError

    try:
        ipr.route("add", dst="0.0.0.0/0", gateway=gateway)
    except NetlinkError as exc:
        if exc.code != errno.EEXIST:
            raise


def has_rule(ipr: Any, ifname: str) -> bool:
    return any(
        rule.get_attr("FRA_IIFNAME") == ifname and rule.get_attr("FRA_PRIORITY") == RULE_PRIORITY
        for rule in ipr.get_rules(family=AF_INET)
    )


def overlaps_other_link(ipr: Any, subnet: str, index: int) -> bool:
    """Does an interface other than ours already have a route into ``subnet``?"""
    mine = ipaddress.ip_network(subnet)
    for route in ipr.get_routes(family=AF_INET):
        dst = route.get_attr("RTA_DST")
        if dst is None or route["dst_len"] == 0 or route.get_attr("RTA_OIF") == index:
            continue
        if route.get_attr("RTA_TABLE") not in (None, 254):
            continue
        if ipaddress.ip_network(f"{dst}/{route['dst_len']}", strict=False).overlaps(mine):
            return True
    return False


def contain(ifname: str) -> None:
    """No IPv4 forwarding from the bridge and no IPv6 on it at all."""
    for path, value in (
        (f"/proc/sys/net/ipv4/conf/{ifname}/forwarding", "0"),
        (f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6", "1"),
    ):
        with contextlib.suppress(OSError), open(path, "w") as f:
            f.write(value)
