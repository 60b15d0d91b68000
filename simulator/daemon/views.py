"""Containers, networks and the system as the Engine API's JSON shows them."""

from __future__ import annotations

from typing import Any

from simulator.daemon.containers import Container
from simulator.daemon.core import DaemonCore
from simulator.model.errors import InvalidParameter
from simulator.model.network import Network
from simulator.model.timefmt import format_timestamp_rfc3339nano as rfc3339

_LIST_FILTERS = (
    "ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task",
    "label", "name", "network", "publish", "since", "status", "volume",
)  # fmt: skip


def _command(c: Container) -> str:
    return " ".join([c.path, *c.args])


class ViewsMixin(DaemonCore):
    """JSON renderings; read-only."""

    def _state_json(self, c: Container) -> dict[str, Any]:
        s = c.state
        return {
            "Status": s.status,
            "Running": s.running,
            "Paused": s.paused,
            "Restarting": s.restarting,
            "OOMKilled": s.oom_killed,
            "Dead": s.dead,
            "Pid": s.pid,
            "ExitCode": s.exit_code,
            "Error": s.error,
            "StartedAt": rfc3339(None if s.started_at is None else self.wall(s.started_at)),
            "FinishedAt": rfc3339(None if s.finished_at is None else self.wall(s.finished_at)),
        }

    def _networks_json(self, c: Container) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, settings in c.networks.items():
            net = self.networks.get(name)  # type: ignore[attr-defined]
            out[name] = {
                "IPAMConfig": settings.get("IPAMConfig"),
                "Links": None,
                "Aliases": settings.get("Aliases"),
                "NetworkID": net.id if net else "",
                "EndpointID": settings.get("EndpointID", ""),
                "Gateway": settings.get("Gateway", ""),
                "IPAddress": settings.get("IPAddress", ""),
                "IPPrefixLen": settings.get("IPPrefixLen", 0),
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "MacAddress": settings.get("MacAddress", ""),
                "DriverOpts": None,
            }
        return out

    def inspect_container(self, ref: str) -> dict[str, Any]:
        c = self.containers.get(ref)
        nets = self._networks_json(c)
        bridge = nets.get("bridge", {})
        return {
            "Id": c.id,
            "Created": rfc3339(self.wall(c.created)),
            "Path": c.path,
            "Args": c.args,
            "State": self._state_json(c),
            "Image": c.image_id,
            "ResolvConfPath": f"/var/lib/docker/containers/{c.id}/resolv.conf",
            "HostnamePath": f"/var/lib/docker/containers/{c.id}/hostname",
            "HostsPath": f"/var/lib/docker/containers/{c.id}/hosts",
            "LogPath": f"/var/lib/docker/containers/{c.id}/{c.id}-json.log",
            "Name": f"/{c.name}",
            "RestartCount": c.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": [e for e in c.execs if e in self.execs] or None,  # type: ignore[attr-defined]
            "HostConfig": c.host_config,
            "GraphDriver": {"Data": None, "Name": "overlay2"},
            "Mounts": [{k: v for k, v in m.items() if not (k == "Name" and m["Type"] == "bind")} for m in c.mounts],
            "Config": c.config,
            "NetworkSettings": {
                "Bridge": "",
                "SandboxID": "",
                "HairpinMode": False,
                "LinkLocalIPv6Address": "",
                "LinkLocalIPv6PrefixLen": 0,
                "Ports": self._ports_json(c),
                "SandboxKey": "",
                "SecondaryIPAddresses": None,
                "SecondaryIPv6Addresses": None,
                "EndpointID": bridge.get("EndpointID", ""),
                "Gateway": bridge.get("Gateway", ""),
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "IPAddress": bridge.get("IPAddress", ""),
                "IPPrefixLen": bridge.get("IPPrefixLen", 0),
                "IPv6Gateway": "",
                "MacAddress": bridge.get("MacAddress", ""),
                "Networks": nets,
            },
        }

    def _ports_json(self, c: Container) -> dict[str, Any]:
        out: dict[str, Any] = {}
        bindings = c.host_config.get("PortBindings") or {}
        for port in c.config.get("ExposedPorts") or {}:
            out[port] = None
        if c.state.running:
            for port, binds in (c.published or bindings).items():
                out[port] = [
                    {"HostIp": b.get("HostIp") or "0.0.0.0", "HostPort": b.get("HostPort") or ""} for b in (binds or [])
                ]
        return out

    def _ports_list(self, c: Container) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        bindings = c.host_config.get("PortBindings") or {}
        for port in sorted(c.config.get("ExposedPorts") or {}):
            num, _, proto = port.partition("/")
            binds = (c.published or bindings).get(port) if c.state.running else None
            if binds:
                for b in binds:
                    rows.append(
                        {
                            "IP": b.get("HostIp") or "0.0.0.0",
                            "PrivatePort": int(num),
                            "PublicPort": int(b.get("HostPort") or 0),
                            "Type": proto or "tcp",
                        }
                    )
            else:
                rows.append({"PrivatePort": int(num), "Type": proto or "tcp"})
        return rows

    def container_summary(self, c: Container) -> dict[str, Any]:
        status = self._ps_status(c)
        return {
            "Id": c.id,
            "Names": [f"/{c.name}"],
            "Image": c.image,
            "ImageID": c.image_id,
            "Command": _command(c),
            "Created": int(self.wall(c.created)),
            "Ports": self._ports_list(c),
            "Labels": c.config.get("Labels") or {},
            "State": c.state.status,
            "Status": status,
            "HostConfig": {"NetworkMode": c.host_config.get("NetworkMode", "default")},
            "NetworkSettings": {"Networks": self._networks_json(c)},
            "Mounts": [{k: v for k, v in m.items() if k != "Mode" or m["Type"] == "volume"} for m in c.mounts],
        }

    def _ps_status(self, c: Container) -> str:
        from simulator.model.timefmt import human_duration

        s = c.state
        now = self.now()
        if s.running:
            if s.paused:
                return f"Up {human_duration(now - (s.started_at or now))} (Paused)"
            if s.restarting:
                return f"Restarting ({s.exit_code}) {human_duration(now - (s.finished_at or now))} ago"
            return f"Up {human_duration(now - (s.started_at or now))}"
        if s.removal_in_progress:
            return "Removal In Progress"
        if s.dead:
            return "Dead"
        if s.started_at is None:
            return "Created"
        if s.finished_at is None:
            return ""
        return f"Exited ({s.exit_code}) {human_duration(now - s.finished_at)} ago"

    def with_sizes(self, c: Container, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` with ``SizeRw`` and ``SizeRootFs`` (the image's size plus the writable layer)."""
        size_rw = self.size_rw(c)
        base = self.images.images.get(c.image_id)
        return {**row, "SizeRw": size_rw, "SizeRootFs": (base.size if base else 0) + size_rw}

    def list_containers(
        self, all_: bool = False, filters: dict[str, list[str]] | None = None, limit: int = -1
    ) -> list[dict[str, Any]]:
        filters = filters or {}
        for key in filters:
            if key not in _LIST_FILTERS:
                raise InvalidParameter(f"invalid filter '{key}'")
        for st in filters.get("status", []):
            if st not in (
                "created",
                "restarting",
                "running",
                "removing",
                "paused",
                "exited",
                "dead",
            ):
                raise InvalidParameter(f"Invalid filter 'status={st}'")
        rows = []
        for c in reversed(self.containers.all()):
            show_all = all_ or bool(filters.get("status")) or bool(filters.get("exited"))
            if not show_all and not c.state.running:
                continue
            if not self._matches(c, filters):
                continue
            rows.append(self.container_summary(c))
        if limit > 0:
            rows = rows[:limit]
        return rows

    def _matches(self, c: Container, f: dict[str, list[str]]) -> bool:
        import re

        if f.get("status") and c.state.status not in f["status"]:
            return False
        if f.get("name") and not any(re.search(p, "/" + c.name) for p in f["name"]):
            return False
        if f.get("id") and not any(c.id.startswith(p) for p in f["id"]):
            return False
        if f.get("exited") and (
            c.state.running or c.state.started_at is None or str(c.state.exit_code) not in f["exited"]
        ):
            return False
        if f.get("label"):
            labels = c.config.get("Labels") or {}
            for item in f["label"]:
                key, eq, val = item.partition("=")
                if key not in labels or (eq and labels[key] != val):
                    return False
        if f.get("ancestor"):
            ok = False
            for anc in f["ancestor"]:
                img = self.images.find(anc)
                if img is not None and img.id == c.image_id:
                    ok = True
            if not ok:
                return False
        if f.get("network") and not any(n in c.networks for n in f["network"]):
            return False
        return not f.get("volume") or any(
            m.get("Name") in f["volume"] or m.get("Destination") in f["volume"] for m in c.mounts
        )

    def network_json(self, net: Network, verbose: bool = True) -> dict[str, Any]:
        containers = {}
        for cid, ep in net.endpoints.items():
            containers[cid] = {
                "Name": ep.container_name,
                "EndpointID": ep.endpoint_id,
                "MacAddress": ep.mac,
                "IPv4Address": f"{ep.ip}/{net.prefix_len}" if ep.ip else "",
                "IPv6Address": "",
            }
        config = [{"Subnet": net.subnet, "Gateway": net.gateway}] if net.subnet else []
        return {
            "Name": net.name,
            "Id": net.id,
            "Created": rfc3339(self.wall(net.created)),
            "Scope": "local",
            "Driver": net.driver,
            "EnableIPv6": False,
            "IPAM": {
                "Driver": "default",
                "Options": None if net.name in ("bridge", "host", "none") else {},
                "Config": config,
            },
            "Internal": net.internal,
            "Attachable": net.attachable,
            "Ingress": False,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": containers if verbose else {},
            "Options": net.options,
            "Labels": net.labels,
        }
