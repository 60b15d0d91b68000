"""Real container networks: bridges, veth pairs and name resolution, as Docker's bridge driver.

Every Docker bridge network is a Linux bridge on the host: the default
``bridge`` network is ``csim0`` (Docker's ``docker0``, renamed so that a
host's own Docker is never touched) and each user-defined network is
``csim-<10 hex of its id>`` (Docker's ``br-<12 hex>``; an interface name has
at most 15 characters, so ``csim-`` leaves room for 10). The bridge holds
the network's gateway address. Each container endpoint is a veth pair: the
host end (``vcsim<10 hex>``) is a port of the bridge, the other end is
created directly inside the container's network namespace (``netns.py``)
as ``eth0`` (``eth1``... for further networks) with the endpoint's IP, MAC
and a default route via the gateway. ``--network none`` leaves only ``lo``;
``--network host`` makes no namespace at all.

Containment -- container networks never leave the machine: there is no NAT
or masquerading, each bridge has IPv4 forwarding off and IPv6 disabled, and
an ``ip rule iif <bridge> prohibit`` makes the kernel refuse to route
anything that arrives on a bridge unless it is addressed to the host itself
(the ``local`` table is consulted first). The rule holds even when something
switches ``net.ipv4.ip_forward`` on for the whole host.

Name resolution -- Docker answers container names and aliases from an
embedded DNS server at 127.0.0.11, on user-defined networks only. csim
writes the answers into each container's ``/etc/hosts`` instead (the file
dockerd bind-mounts there anyway), rewritten in place whenever an endpoint
joins or leaves a user-defined network the container is on. Why not a DNS
responder: it would have to run in some process for as long as containers
run, but csim's embedded CLI is a new process per command and a DNS server
inside each container's namespace would need its own long-lived process per
container; a file needs none, works with every resolver (busybox, musl,
glibc) and lets a student ``cat /etc/hosts`` to see what the name service
knows. ``/etc/resolv.conf`` names 127.0.0.11 where nothing listens, so a name
that is not in the file fails at once instead of waiting on host resolvers
that the container cannot reach. On the default bridge nothing but the container's own name is
written, so peers are reachable by IP only, as in Docker. Known difference:
a container renamed while running keeps its old name in its peers' files
until it restarts.

Everything a command needs later is kept on disk under the container's
directory (``net/sandbox.json``, one ``net/ep-<network id>.json`` per
endpoint), since the embedded daemon is a new process per CLI command.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import ipaddress
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulator.model.network import PREDEFINED, mac_for
from simulator.runtime.linux import links, netns, portproxy
from simulator.runtime.linux.links import RULE_PRIORITY, Step
from simulator.runtime.linux.state import read_json, write_json_atomic
from simulator.runtime.protocol import EndpointSpec

DEFAULT_BRIDGE = "csim0"

# The host's resolvers are off the machine, hence unreachable: a lookup that misses
# /etc/hosts must fail at once (nothing listens on 127.0.0.11 inside: port unreachable),
# not after the resolver's timeouts. Docker's user-defined networks show this address.
RESOLV_CONF = (
    "# csim: container networks never leave this machine, so no DNS server is reachable.\n"
    "# Containers on the same user-defined network are listed in /etc/hosts.\n"
    "nameserver 127.0.0.11\n"
    "options ndots:0\n"
)


def bridge_name(network: str, network_id: str) -> str:
    """The host interface of a Docker network: ``csim0`` or ``csim-<10 hex>``."""
    return DEFAULT_BRIDGE if network == "bridge" else f"csim-{network_id[:10]}"


def veth_name(container_id: str, network_id: str) -> str:
    """The host end of a container's veth pair on one network (15 characters)."""
    return "vcsim" + hashlib.sha256(f"{container_id}/{network_id}".encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class BridgeSpec:
    """A bridge network as the kernel needs it."""

    network: str
    network_id: str
    subnet: str
    gateway: str
    ifname: str

    @property
    def prefix_len(self) -> int:
        return ipaddress.ip_network(self.subnet).prefixlen

    @classmethod
    def of(cls, endpoint: EndpointSpec, ifname: str) -> BridgeSpec:
        subnet = ipaddress.ip_interface(f"{endpoint.gateway}/{endpoint.prefix_len}").network
        return cls(endpoint.network, endpoint.network_id, str(subnet), endpoint.gateway, ifname)


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    """What ``net/ep-<network id>.json`` keeps about one attached endpoint."""

    network: str
    network_id: str
    ip: str
    prefix_len: int
    gateway: str
    mac: str
    aliases: tuple[str, ...]
    ifname: str
    veth: str
    bridge: str

    @property
    def user_defined(self) -> bool:
        return self.network not in PREDEFINED

    @classmethod
    def load(cls, path: Path) -> EndpointRecord | None:
        data = read_json(path)
        if data is None:
            return None
        try:
            data["aliases"] = tuple(data.get("aliases") or ())
            return cls(**data)
        except TypeError:
            return None


@dataclass(frozen=True, slots=True)
class Sandbox:
    """The network side of one container directory."""

    path: Path

    @property
    def container_id(self) -> str:
        return self.path.name

    @property
    def netns(self) -> Path:
        return self.path / "netns"

    @property
    def net(self) -> Path:
        return self.path / "net"

    @property
    def info(self) -> Path:
        return self.net / "sandbox.json"

    @property
    def hosts(self) -> Path:
        return self.path / "hosts"

    def endpoint_file(self, network_id: str) -> Path:
        return self.net / f"ep-{network_id}.json"

    def proxy_file(self, network_id: str) -> Path:
        return self.net / f"proxy-{network_id}.json"

    def endpoints(self) -> list[EndpointRecord]:
        records = (EndpointRecord.load(p) for p in sorted(self.net.glob("ep-*.json")))
        return [r for r in records if r is not None]


class ContainerNetworks:
    """Bridges, endpoints and ``/etc/hosts`` files of the containers under ``state_root``.

    Args:
        state_root: the runtime's container directories (one per container id).
    """

    def __init__(self, state_root: Path) -> None:
        self.state_root = Path(state_root)
        self._lock = threading.RLock()

    def sandbox(self, container_id: str) -> Sandbox:
        return Sandbox(self.state_root / container_id)

    # -- sandboxes ------------------------------------------------------------------------

    def create_sandbox(self, container_dir: Path, name: str, hostname: str) -> Path:
        """The container's network namespace (only ``lo``, up), pinned; its path.

        Call after ``etcfiles.write``: the hosts file written then is the base
        every later rewrite starts from.
        """
        box = Sandbox(container_dir)
        box.net.mkdir(parents=True, exist_ok=True)
        base = box.hosts.read_text() if box.hosts.exists() else ""
        write_json_atomic(box.info, {"name": name, "hostname": hostname, "hosts_base": base})
        (container_dir / "resolv.conf").write_text(RESOLV_CONF)
        netns.create(box.netns, setup=links.loopback_up)
        return box.netns

    def destroy_sandbox(self, container_dir: Path) -> None:
        """Stop proxies, delete veths, unpin the namespace; peers forget the container."""
        box = Sandbox(container_dir)
        records = box.endpoints() if box.net.is_dir() else []
        for record in records:
            portproxy.stop(box.proxy_file(record.network_id))
        if records:
            with contextlib.suppress(OSError), links.iproute() as host:
                for record in records:
                    links.delete_link(host, record.veth)
        for leftover in box.net.glob("proxy-*.json") if box.net.is_dir() else []:
            portproxy.stop(leftover)
        netns.remove(box.netns)
        for record in records:
            box.endpoint_file(record.network_id).unlink(missing_ok=True)
        self.refresh_hosts({r.network_id for r in records if r.user_defined})

    # -- bridges --------------------------------------------------------------------------

    def ensure_bridge(self, bridge: BridgeSpec) -> list[Step]:
        """Create the bridge (address, no forwarding, prohibit rule) unless it exists."""
        steps: list[Step] = []
        with self._lock, links.iproute() as ipr:
            found = ipr.link_lookup(ifname=bridge.ifname)
            if not found:
                t0 = time.monotonic()
                ipr.link("add", ifname=bridge.ifname, kind="bridge", address=mac_for(bridge.gateway))
                found = ipr.link_lookup(ifname=bridge.ifname)
                ipr.link("set", index=found[0], ifalias=self._alias(f"network={bridge.network}"))
                links.contain(bridge.ifname)
                links.done(steps, f"ip link add {bridge.ifname} type bridge", t0)
            index = found[0]
            have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=index, family=links.AF_INET)}
            if bridge.gateway not in have:
                t0 = time.monotonic()
                extra: dict[str, Any] = {}
                if links.overlaps_other_link(ipr, bridge.subnet, index):
                    # Another interface (e.g. docker0) already routes this range: leave its
                    # route alone; the port proxy reaches containers via SO_BINDTODEVICE.
                    extra["IFA_FLAGS"] = links.IFA_F_NOPREFIXROUTE
                ipr.addr("add", index=index, address=bridge.gateway, prefixlen=bridge.prefix_len, **extra)
                links.done(steps, f"ip addr add {bridge.gateway}/{bridge.prefix_len} dev {bridge.ifname}", t0)
            ipr.link("set", index=index, state="up")
            if not links.has_rule(ipr, bridge.ifname):
                t0 = time.monotonic()
                ipr.rule("add", action=links.FR_ACT_PROHIBIT, iifname=bridge.ifname, priority=RULE_PRIORITY)
                links.done(steps, f"ip rule add iif {bridge.ifname} prohibit (never route off the machine)", t0)
        return steps

    def remove_bridge(self, network: str, network_id: str) -> list[Step]:
        """Delete a network's bridge and its rule (absent ones are fine)."""
        ifname = self.bridge_for(network, network_id)
        t0 = time.monotonic()
        with self._lock, links.iproute() as ipr:
            existed = links.delete_link(ipr, ifname)
            while links.has_rule(ipr, ifname):
                ipr.rule("del", action=links.FR_ACT_PROHIBIT, iifname=ifname, priority=RULE_PRIORITY)
        return [(f"ip link del {ifname}", t0, time.monotonic())] if existed else []

    # -- endpoints ------------------------------------------------------------------------

    def attach(self, container_id: str, endpoint: EndpointSpec) -> list[Step]:
        """Plug the container into ``endpoint``'s bridge; a no-op for none/host."""
        box = self.sandbox(container_id)
        if not endpoint.ip or not netns.is_pinned(box.netns):
            return []
        bridge = BridgeSpec.of(endpoint, self.bridge_for(endpoint.network, endpoint.network_id))
        steps = self.ensure_bridge(bridge)
        veth = veth_name(container_id, endpoint.network_id)

        alias = self._alias(f"container={container_id[:12]} ip={endpoint.ip}")

        def work() -> str:
            return links.plug(box.netns, veth, bridge.ifname, endpoint, steps, alias)

        self._check_address(bridge.ifname, endpoint.ip, veth)

        with self._lock:
            ifname = netns.on_fresh_thread(work)
            record = EndpointRecord(
                network=endpoint.network,
                network_id=endpoint.network_id,
                ip=endpoint.ip,
                prefix_len=endpoint.prefix_len,
                gateway=endpoint.gateway,
                mac=endpoint.mac,
                aliases=tuple(endpoint.aliases),
                ifname=ifname,
                veth=veth,
                bridge=bridge.ifname,
            )
            write_json_atomic(box.endpoint_file(endpoint.network_id), asdict(record))
            t0 = time.monotonic()
            self.refresh_hosts({endpoint.network_id} if record.user_defined else set(), also=container_id)
            steps.append(("rewrite /etc/hosts of the network's containers", t0, time.monotonic()))
        return steps

    def detach(self, container_id: str, network_id: str) -> list[Step]:
        """Unplug the container from one network: proxy stopped, veth deleted, peers told."""
        box = self.sandbox(container_id)
        record = EndpointRecord.load(box.endpoint_file(network_id))
        portproxy.stop(box.proxy_file(network_id))
        if record is None:
            return []
        with self._lock:
            t0 = time.monotonic()
            with links.iproute() as host:
                links.delete_link(host, record.veth)
            steps: list[Step] = [(f"ip link del {record.veth}", t0, time.monotonic())]
            box.endpoint_file(network_id).unlink(missing_ok=True)
            rest = box.endpoints()
            if rest and netns.is_pinned(box.netns):
                gateway = rest[0].gateway

                def reroute() -> None:
                    with netns.entered(box.netns), links.iproute() as inside:
                        links.default_route(inside, gateway)

                with contextlib.suppress(OSError):
                    netns.on_fresh_thread(reroute)
            self.refresh_hosts({network_id} if record.user_defined else set(), also=container_id)
        return steps

    # -- sharing the host with other state roots -------------------------------------------
    # Interfaces are host-wide, state roots are not: every bridge and veth carries an
    # alias (`ip link` shows it) naming the state root that made it.

    def bridge_for(self, network: str, network_id: str) -> str:
        """The bridge of a network here: ``csim0`` for the default one unless another
        live state root already owns ``csim0`` (then ``csim0-<9 hex>``, its own L2
        segment, so the two daemons' identical IPAM cannot hand out clashing addresses).
        """
        if network != "bridge":
            return bridge_name(network, network_id)
        with self._lock:
            choice = self.state_root / ".default-bridge"
            with contextlib.suppress(OSError):
                return choice.read_text().strip() or DEFAULT_BRIDGE
            name = DEFAULT_BRIDGE
            with links.iproute() as ipr:
                found = ipr.link_lookup(ifname=DEFAULT_BRIDGE)
                if found:
                    link = ipr.get_links(found[0])[0]
                    alias = str(link.get_attr("IFLA_IFALIAS") or "")
                    ports = [x for x in ipr.get_links() if x.get_attr("IFLA_MASTER") == found[0]]
                    mine = alias.startswith(self._alias(""))
                    if not mine and (ports or (alias and Path(_alias_root(alias)).exists())):
                        name = "csim0-" + hashlib.sha256(os.fsencode(self.state_root)).hexdigest()[:9]
                    elif not mine:
                        ipr.link("set", index=found[0], ifalias=self._alias("network=bridge"))
            self.state_root.mkdir(parents=True, exist_ok=True)
            choice.write_text(name + "\n")
            return name

    def _alias(self, what: str) -> str:
        return f"csim state={self.state_root} {what}"

    def _check_address(self, bridge: str, ip: str, veth: str) -> None:
        """Refuse an address another state root's container already has on a shared bridge."""
        with links.iproute() as ipr:
            found = ipr.link_lookup(ifname=bridge)
            if not found:
                return
            for link in ipr.get_links():
                alias = str(link.get_attr("IFLA_IFALIAS") or "")
                if link.get_attr("IFLA_MASTER") != found[0] or link.get_attr("IFLA_IFNAME") == veth:
                    continue
                if f" ip={ip}" in f" {alias}" and not alias.startswith(self._alias("")):
                    owner = _alias_root(alias)
                    raise OSError(
                        errno.EADDRINUSE, f"{ip} is already used on {bridge} by a container of csim state {owner}"
                    )

    def reap_bridges(self) -> list[str]:
        """Delete bridges (and rules) whose state root no longer exists; their names."""
        reaped: list[str] = []
        with self._lock, links.iproute() as ipr:
            for link in ipr.get_links():
                name = str(link.get_attr("IFLA_IFNAME") or "")
                alias = str(link.get_attr("IFLA_IFALIAS") or "")
                if not name.startswith("csim") or not alias.startswith("csim state="):
                    continue
                if not Path(_alias_root(alias)).exists():
                    links.delete_link(ipr, name)
                    reaped.append(name)
            existing = {str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links()}
            for rule in ipr.get_rules(family=links.AF_INET):
                name = str(rule.get_attr("FRA_IIFNAME") or "")
                if rule.get_attr("FRA_PRIORITY") == RULE_PRIORITY and name.startswith("csim") and name not in existing:
                    ipr.rule("del", action=links.FR_ACT_PROHIBIT, iifname=name, priority=RULE_PRIORITY)
        return reaped

    # -- /etc/hosts -----------------------------------------------------------------------

    def refresh_hosts(self, network_ids: set[str], also: str = "") -> None:
        """Rewrite the hosts file of every container on ``network_ids`` (and of ``also``)."""
        with self._lock:
            targets = {also} if also else set()
            for network_id in network_ids:
                targets |= {p.parent.parent.name for p in self.state_root.glob(f"*/net/ep-{network_id}.json")}
            for container_id in sorted(targets):
                box = self.sandbox(container_id)
                if box.hosts.exists() and box.info.exists():
                    text = self.hosts_text(container_id)
                    with contextlib.suppress(OSError):
                        _write_in_place(box.hosts, text)

    def hosts_text(self, container_id: str) -> str:
        """The container's ``/etc/hosts``: its base, its own addresses, its peers' names."""
        box = self.sandbox(container_id)
        info = read_json(box.info) or {}
        lines = [str(info.get("hosts_base") or "")]
        mine = box.endpoints()
        hostname = str(info.get("hostname") or container_id[:12])
        lines += [f"{r.ip}\t{hostname}\n" for r in mine if r.ip]
        peers: list[str] = []
        for record in mine:
            if record.user_defined:
                peers += [f"{ip}\t{' '.join(names)}\n" for ip, names in self._names_on(record.network_id)]
        if peers:
            lines.append("# containers on the same user-defined networks (csim's stand-in for Docker's DNS)\n")
            lines += peers
        return "".join(lines)

    def _names_on(self, network_id: str) -> Iterator[tuple[str, list[str]]]:
        for path in sorted(self.state_root.glob(f"*/net/ep-{network_id}.json")):
            record = EndpointRecord.load(path)
            info = read_json(path.parent / "sandbox.json")
            if record is None or info is None or not record.ip:
                continue
            container_id = path.parent.parent.name
            names = [str(info.get("name") or ""), container_id[:12], *record.aliases]
            yield record.ip, list(dict.fromkeys(n for n in names if n))


# -- helpers ----------------------------------------------------------------------------


def remove_bridges_under(prefix: Path) -> list[str]:
    """Delete every csim bridge (and its rule) whose owning state root lies under ``prefix``.

    Bridges live as long as their state root, as docker0 lives as long as Docker's
    data root; a test session that made many state roots under one temp dir removes
    all of their bridges at the end with this.
    """
    removed: list[str] = []
    with links.iproute() as ipr:
        for link in ipr.get_links():
            name = str(link.get_attr("IFLA_IFNAME") or "")
            alias = str(link.get_attr("IFLA_IFALIAS") or "")
            if name.startswith("csim") and alias.startswith("csim state="):
                root = Path(_alias_root(alias))
                if root == prefix or prefix in root.parents:
                    try:
                        links.delete_link(ipr, name)
                        while links.has_rule(ipr, name):
                            ipr.rule("del", action=links.FR_ACT_PROHIBIT, iifname=name, priority=RULE_PRIORITY)
                    except Exception:  # one stubborn interface must not keep the others
                        continue
                    removed.append(name)
    return removed


def _alias_root(alias: str) -> str:
    """The state root in an interface alias ``csim state=<root> ...``."""
    return alias.split()[1].removeprefix("state=") if len(alias.split()) > 1 else ""


def _write_in_place(path: Path, text: str) -> None:
    """Rewrite ``path`` keeping its inode: it is bind-mounted into a running container."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
