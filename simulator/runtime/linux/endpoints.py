"""The Linux runtime's network endpoints: bridges, veths and published ports.

The daemon calls these from its (synchronous) endpoint bookkeeping on the
world thread; the netlink work (``network.py``, ``links.py``) and the port
proxy (``portproxy.py``) take a few milliseconds and run right there, timed
into ``kernel`` spans under a ``dockerd`` span per operation. Namespace
switches happen on fresh threads (``netns.py``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from simulator.model.errors import DockerError, SystemError_
from simulator.runtime.linux import portproxy
from simulator.runtime.linux.links import Step
from simulator.runtime.linux.network import BridgeSpec
from simulator.runtime.linux.tasks import RuntimeCore
from simulator.runtime.linux.tracing import SpanRelay
from simulator.runtime.protocol import EndpointSpec
from simulator.trace.tracer import SpanContext


class NetworkEndpoints(RuntimeCore):
    """Networks as the daemon asks for them: create/remove bridges, join/leave, ``-p``."""

    def ensure_bridge(self, network: str, network_id: str, subnet: str, gateway: str) -> None:
        """``docker network create``: the network's bridge on the host."""
        spec = BridgeSpec(network, network_id, subnet, gateway, self.networks.bridge_for(network, network_id))
        self._network_op("create bridge", None, lambda: self.networks.ensure_bridge(spec), network)

    def remove_bridge(self, network: str, network_id: str) -> None:
        """``docker network rm``: delete the network's bridge."""
        self._network_op("delete bridge", None, lambda: self.networks.remove_bridge(network, network_id), network)

    def attach_network(self, container_id: str, endpoint: EndpointSpec, parent: SpanContext | None = None) -> None:
        """Plug the container's namespace into the endpoint's bridge (veth, IP, route, hosts)."""
        self._network_op(
            f"join {endpoint.network}", parent, lambda: self.networks.attach(container_id, endpoint), endpoint.network
        )

    def detach_network(self, container_id: str, endpoint: EndpointSpec, parent: SpanContext | None = None) -> None:
        """Unplug the container from one network; never fails (what is gone is gone)."""
        with contextlib.suppress(DockerError):
            self._network_op(
                f"leave {endpoint.network}",
                parent,
                lambda: self.networks.detach(container_id, endpoint.network_id),
                endpoint.network,
            )

    def publish_ports(
        self,
        container_id: str,
        endpoint: EndpointSpec,
        port_bindings: dict[str, Any],
        parent: SpanContext | None = None,
        container_name: str = "",
    ) -> list[dict[str, str]]:
        """Start the endpoint's port proxy (``-p``); the bindings really bound."""
        bindings = portproxy.parse_bindings(port_bindings)
        if not bindings or not endpoint.ip:
            return []
        record = self.networks.sandbox(container_id).proxy_file(endpoint.network_id)
        device = self.networks.bridge_for(endpoint.network, endpoint.network_id)
        portproxy.stop(record)
        bound: list[portproxy.PortBinding] = []

        def work() -> list[Step]:
            t0 = time.monotonic()
            bound.extend(portproxy.start(record, endpoint.ip, device, bindings, container_name or container_id[:12]))
            ports = ", ".join(f"{b.host_ip}:{b.host_port}->{b.key}" for b in bound)
            return [(f"fork port proxy {ports} -> {endpoint.ip}", t0, time.monotonic())]

        self._network_op("publish ports", parent, work, endpoint.network)
        return [b.to_api() | {"Port": b.key} for b in bound]

    def _network_op(self, name: str, parent: SpanContext | None, work: Callable[[], list[Step]], network: str) -> None:
        own = self.tracer.start("dockerd", f"network {name}", parent, network=network)
        relay = SpanRelay(self.tracer, lambda fn: fn(), own, self._factor)
        try:
            steps = work()
        except DockerError as exc:
            self.tracer.end(own, error=exc.message)
            raise
        except Exception as exc:
            message = f"failed to set up container networking on {network}: {exc}"
            self.tracer.end(own, error=message)
            raise SystemError_(message) from None
        for step, t0, t1 in steps:
            relay.span("kernel", step, t0, t1)
        self.tracer.end(own)
