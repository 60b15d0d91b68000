"""Networks: the predefined bridge, host and none, user-defined bridges, endpoints and DNS.

Docker's embedded DNS answers container names and aliases only on
user-defined networks; on the default bridge containers reach each other by
IP only. ``resolve`` and ``container_at`` give the (virtual or real) kernel
those answers.
"""

from __future__ import annotations

from typing import Any

from simulator.daemon.containers import Container
from simulator.daemon.core import DaemonCore, Proc
from simulator.daemon.ports import PortAllocated, allocate
from simulator.model.errors import Conflict, DockerError, Forbidden, InvalidParameter, NotFound
from simulator.model.network import (
    DEFAULT_BRIDGE_SUBNET,
    PREDEFINED,
    Endpoint,
    Network,
    gateway_for,
    mac_for,
    next_pool,
    validate_subnet,
)
from simulator.runtime.protocol import EndpointSpec
from simulator.trace.tracer import SpanContext


class NetworkMixin(DaemonCore):
    """Network operations and the DNS view."""

    networks: dict[str, Network]

    def _init_networks(self) -> None:
        self.networks = {}
        for name, driver in (("bridge", "bridge"), ("host", "host"), ("none", "null")):
            net = Network(id=self.new_id(), name=name, driver=driver, created=0.0)
            if name == "bridge":
                net.subnet = DEFAULT_BRIDGE_SUBNET
                net.gateway = gateway_for(DEFAULT_BRIDGE_SUBNET)
                net.options = {
                    "com.docker.network.bridge.default_bridge": "true",
                    "com.docker.network.bridge.enable_icc": "true",
                    "com.docker.network.bridge.enable_ip_masquerade": "true",
                    "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
                    "com.docker.network.bridge.name": "docker0",
                    "com.docker.network.driver.mtu": "1500",
                }
            self.networks[name] = net

    # -- lookup ---------------------------------------------------------------------
    def find_network(self, ref: str) -> Network:
        """By exact name, full id, then unique id prefix; ``network X not found`` otherwise."""
        if ref in self.networks:
            return self.networks[ref]
        for net in self.networks.values():
            if net.id == ref:
                return net
        matches = [n for n in self.networks.values() if n.id.startswith(ref)] if ref else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidParameter(f"network {ref} is ambiguous ({len(matches)} matches found on name)")
        raise NotFound(f"network {ref} not found")

    def _network_for_create(self, host_config: dict[str, Any], body: dict[str, Any]) -> str:
        mode = str(host_config.get("NetworkMode") or "default")
        if mode == "default":
            return "bridge"
        if mode.startswith("container:"):
            raise InvalidParameter("container network mode is not supported by csim")
        return self.find_network(mode).name

    def _network_mode(self, c: Container) -> str:
        names = list(c.networks)
        return names[0] if names else "none"

    # -- endpoints ------------------------------------------------------------------
    def _connect_networks(self, ctx: SpanContext, c: Container) -> Proc:
        for name in list(c.networks):
            net = self.networks.get(name)
            if net is None:
                continue
            yield self.work(self.params.network_attach)
            try:
                self._attach_endpoint(c, net, ctx)
            except DockerError:
                self._disconnect_networks(c)
                raise

    def _attach_endpoint(self, c: Container, net: Network, ctx: SpanContext | None = None) -> None:
        settings = c.networks.setdefault(net.name, {})
        ip = ""
        if net.driver == "bridge":
            ip = net.allocate_ip(str((settings.get("IPAMConfig") or {}).get("IPv4Address") or ""))
        endpoint = Endpoint(
            container_id=c.id,
            container_name=c.name,
            endpoint_id=self.new_id(),
            ip=ip,
            mac=mac_for(ip),
            aliases=list(settings.get("Aliases") or []),
        )
        net.endpoints[c.id] = endpoint
        if getattr(self.runtime, "attach_network", None) is not None:
            try:
                self._attach_in_runtime(c, net, endpoint, ctx)
            except DockerError:
                del net.endpoints[c.id]
                net.release_ip(ip)
                self.runtime.detach_network(c.id, self._endpoint_spec(net, endpoint), ctx)  # type: ignore[union-attr]
                raise
        settings.update(
            {
                "NetworkID": net.id,
                "EndpointID": endpoint.endpoint_id,
                "Gateway": net.gateway if ip else "",
                "IPAddress": ip,
                "IPPrefixLen": net.prefix_len if ip else 0,
                "MacAddress": endpoint.mac,
            }
        )
        self.event("network", "connect", net.id, container=c.id, name=net.name, type=net.driver)

    def _attach_in_runtime(self, c: Container, net: Network, ep: Endpoint, ctx: SpanContext | None) -> None:
        """Real backend: plug the container in (veth, IP, /etc/hosts) and publish its ports."""
        spec = self._endpoint_spec(net, ep)
        self.runtime.attach_network(c.id, spec, ctx)  # type: ignore[union-attr]
        bindings = c.host_config.get("PortBindings") or {}
        publish = getattr(self.runtime, "publish_ports", None)
        if publish is not None and bindings and ep.ip and net.name == self._network_mode(c):
            publish(c.id, spec, bindings, ctx, c.name)

    def _endpoint_spec(self, net: Network, ep: Endpoint) -> EndpointSpec:
        return EndpointSpec(
            network=net.name,
            network_id=net.id,
            ip=ep.ip,
            prefix_len=net.prefix_len if ep.ip else 0,
            gateway=net.gateway if ep.ip else "",
            mac=ep.mac,
            aliases=tuple(ep.aliases),
        )

    def _detach_endpoint(self, c: Container, net: Network) -> None:
        endpoint = net.endpoints.pop(c.id, None)
        if endpoint is None:
            return
        detach = getattr(self.runtime, "detach_network", None)
        if detach is not None:
            detach(c.id, self._endpoint_spec(net, endpoint), None)
        net.release_ip(endpoint.ip)
        settings = c.networks.get(net.name)
        if settings is not None:
            for key in ("EndpointID", "Gateway", "IPAddress", "MacAddress"):
                settings[key] = ""
            settings["IPPrefixLen"] = 0
        self.event("network", "disconnect", net.id, container=c.id, name=net.name, type=net.driver)

    def _publish_ports(self, c: Container) -> dict[str, list[dict[str, str]]]:
        """The host ports of ``c``'s ``-p`` bindings, free of every running container's (see ``ports``)."""
        bindings = c.host_config.get("PortBindings") or {}
        mode = self._network_mode(c)
        if not bindings or mode in ("host", "none") or mode.startswith("container:"):
            return {}
        others = (o.published for o in self.containers if o.id != c.id and o.published)
        try:
            return allocate(bindings, others)
        except PortAllocated as err:
            endpoint = (c.networks.get(mode) or {}).get("EndpointID") or ""
            raise DockerError(
                f"driver failed programming external connectivity on endpoint {c.name} ({endpoint}): {err}", 500
            ) from None

    def _disconnect_networks(self, c: Container) -> None:
        """Detach every endpoint of ``c``; its published ports go with them."""
        for name in list(c.networks):
            net = self.networks.get(name)
            if net is not None:
                self._detach_endpoint(c, net)
        c.published = {}

    def _release_endpoints(self, c: Container) -> None:
        self._disconnect_networks(c)

    # -- DNS view for the kernel ---------------------------------------------------------
    def resolve(self, container_id: str, name: str) -> str | None:
        """What ``name`` resolves to from inside a container (Docker's embedded DNS rules)."""
        me = self.containers.find(container_id)
        if me is None:
            return None
        if name == "localhost":
            return "127.0.0.1"
        if name in (me.config.get("Hostname"), me.name):
            own = [s.get("IPAddress") for s in me.networks.values() if s.get("IPAddress")]
            return str(own[0]) if own else "127.0.0.1"
        for net_name in me.networks:
            net = self.networks.get(net_name)
            if net is None or not net.user_defined or container_id not in net.endpoints:
                continue
            for ep in net.endpoints.values():
                other = self.containers.find(ep.container_id)
                if other is None:
                    continue
                names = {other.name, other.id[:12], *ep.aliases}
                if name in names:
                    return ep.ip
        try:
            parts = [int(p) for p in name.split(".")]
        except ValueError:
            return None
        if len(parts) == 4 and all(0 <= p < 256 for p in parts):
            return name
        return None

    def container_at(self, container_id: str, ip: str) -> str | None:
        """The container at ``ip`` if it shares a network with ``container_id``."""
        me = self.containers.find(container_id)
        if me is None:
            return None
        if ip == "127.0.0.1":
            return container_id
        for net_name in me.networks:
            net = self.networks.get(net_name)
            if net is None or container_id not in net.endpoints:
                continue
            for ep in net.endpoints.values():
                if ep.ip == ip:
                    return ep.container_id
        return None

    # -- API operations -------------------------------------------------------------------
    def create_network(self, parent: SpanContext, body: dict[str, Any]) -> Proc:
        name = str(body.get("Name") or "")
        ctx = self.span("NetworkCreate", parent, name=name)
        try:
            if not name:
                raise InvalidParameter("network name is required")  # never reached from the CLI
            if name in self.networks:
                raise Conflict(f"network with name {name} already exists")
            driver = str(body.get("Driver") or "bridge")
            if driver not in ("bridge",):
                if driver in ("host", "null"):
                    raise Forbidden(f'only one instance of "{driver}" network is allowed')
                raise NotFound(f'plugin "{driver}" not found')
            ipam = body.get("IPAM") or {}
            configs = ipam.get("Config") or []
            subnet = ""
            gateway = ""
            if configs:
                subnet = validate_subnet(str(configs[0].get("Subnet") or ""))
                gateway = str(configs[0].get("Gateway") or "") or gateway_for(subnet)
                import ipaddress

                for other in self.networks.values():
                    if other.subnet and ipaddress.ip_network(other.subnet).overlaps(ipaddress.ip_network(subnet)):
                        raise Forbidden("Pool overlaps with other one on this address space")
            else:
                subnet = next_pool([n.subnet for n in self.networks.values()])
                gateway = gateway_for(subnet)
            yield self.work(self.params.op)
            net = Network(
                id=self.new_id(),
                name=name,
                driver=driver,
                subnet=subnet,
                gateway=gateway,
                created=self.now(),
                internal=bool(body.get("Internal")),
                attachable=bool(body.get("Attachable")),
                labels=dict(body.get("Labels") or {}),
                options=dict(body.get("Options") or {}),
            )
            ensure = getattr(self.runtime, "ensure_bridge", None)
            if ensure is not None:
                ensure(net.name, net.id, net.subnet, net.gateway)
            self.networks[name] = net
        except Exception as err:
            self.end(ctx, error=str(err))
            raise
        self.event("network", "create", net.id, name=name, type=driver)
        self.end(ctx, id=net.id)
        return {"Id": net.id, "Warning": ""}

    def remove_network(self, parent: SpanContext, ref: str) -> Proc:
        ctx = self.span("NetworkRemove", parent, network=ref)
        try:
            net = self.find_network(ref)
            if net.name in PREDEFINED:
                raise Forbidden(f"{net.name} is a pre-defined network and cannot be removed")
            users = [c for c in self.containers if net.name in c.networks]
            if net.endpoints or users:
                raise Forbidden(f"error while removing network: network {net.name} id {net.id} has active endpoints")
            yield self.work(self.params.op)
            del self.networks[net.name]
            self._remove_bridge(net)
        except Exception as err:
            self.end(ctx, error=str(err))
            raise
        self.event("network", "destroy", net.id, name=net.name, type=net.driver)
        self.end(ctx)

    def _remove_bridge(self, net: Network) -> None:
        remove = getattr(self.runtime, "remove_bridge", None)
        if remove is not None:
            remove(net.name, net.id)

    def connect_network(self, parent: SpanContext, ref: str, body: dict[str, Any]) -> Proc:
        ctx = self.span("NetworkConnect", parent, network=ref)
        try:
            net = self.find_network(ref)
            c = self.containers.get(str(body.get("Container") or ""))
            current = next(iter(c.networks), "")  # none after the last disconnect: connecting is fine
            if net.name in ("host", "none") or current in ("host", "none"):
                raise Forbidden(
                    "container cannot be disconnected from host network or connected to host network"
                    if "host" in (net.name, current)
                    else "container cannot be connected to multiple networks with one of the networks "
                    "in private (none) mode"
                )
            if net.name in c.networks:
                raise Forbidden(f"endpoint with name {c.name} already exists in network {net.name}")
            cfg = dict(body.get("EndpointConfig") or {})
            c.networks[net.name] = {k: v for k, v in cfg.items() if k in ("Aliases", "IPAMConfig")}
            yield self.work(self.params.network_attach)
            if c.state.running:
                try:
                    self._attach_endpoint(c, net, ctx)
                except DockerError:
                    del c.networks[net.name]
                    raise
        except Exception as err:
            self.end(ctx, error=str(err))
            raise
        self.end(ctx)

    def disconnect_network(self, parent: SpanContext, ref: str, body: dict[str, Any]) -> Proc:
        ctx = self.span("NetworkDisconnect", parent, network=ref)
        try:
            net = self.find_network(ref)
            c = self.containers.get(str(body.get("Container") or ""))
            if net.name not in c.networks:
                raise Forbidden(f"container {c.id} is not connected to network {net.name}")
            yield self.work(self.params.op)
            self._detach_endpoint(c, net)
            del c.networks[net.name]
        except Exception as err:
            self.end(ctx, error=str(err))
            raise
        self.end(ctx)

    def prune_networks(self, parent: SpanContext) -> Proc:
        ctx = self.span("NetworksPrune", parent)
        deleted = []
        for net in list(self.networks.values()):
            if net.name in PREDEFINED or any(net.name in c.networks for c in self.containers):
                continue
            yield self.work(self.params.op)
            del self.networks[net.name]
            self._remove_bridge(net)
            self.event("network", "destroy", net.id, name=net.name, type=net.driver)
            deleted.append(net.name)
        self.end(ctx)
        return {"NetworksDeleted": deleted or None}
