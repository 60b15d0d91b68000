"""The linux network backend's pieces that need no bridge: names, /etc/hosts, the port proxy.

The port proxy is a real forked process here, proxying loopback to loopback,
so its copying, half-close, bounds and shutdown are tested without root.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simulator.model.errors import SystemError_
from simulator.runtime.linux import portproxy
from simulator.runtime.linux.network import ContainerNetworks, bridge_name, veth_name
from simulator.runtime.linux.portproxy import PortBinding

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the linux backend needs Linux")

NET_ID = "ab" * 32
OTHER_ID = "cd" * 32


def test_interface_names_fit_ifnamsiz() -> None:
    assert bridge_name("bridge", NET_ID) == "csim0"
    assert bridge_name("app", NET_ID) == "csim-ababababab"
    veth = veth_name("12" * 32, NET_ID)
    assert veth.startswith("vcsim") and len(veth) == 15
    assert veth == veth_name("12" * 32, NET_ID) != veth_name("12" * 32, OTHER_ID)
    assert max(len(bridge_name("x", NET_ID)), len(veth)) <= 15


def test_bindings_are_tcp_on_loopback_only() -> None:
    bindings = portproxy.parse_bindings(
        {
            "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "0.0.0.0", "HostPort": ""}],
            "443/tcp": [{"HostIp": "192.0.2.2", "HostPort": "8443"}, {"HostIp": "127.0.0.2", "HostPort": "9443"}],
            "8000/tcp": [{"HostIp": "::1", "HostPort": "9000-9010"}],
            "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
        }
    )
    assert bindings == [
        PortBinding(80, "tcp", "127.0.0.1", 8080),
        PortBinding(80, "tcp", "127.0.0.1", 0),
        PortBinding(443, "tcp", "127.0.0.1", 8443),
        PortBinding(443, "tcp", "127.0.0.2", 9443),
        PortBinding(8000, "tcp", "::1", 9000),
    ]


def _container(root: Path, cid: str, name: str, endpoints: list[dict[str, object]]) -> None:
    net = root / cid / "net"
    net.mkdir(parents=True)
    (root / cid / "hosts").write_text("127.0.0.1\tlocalhost\n")
    info = {"name": name, "hostname": cid[:12], "hosts_base": "127.0.0.1\tlocalhost\n"}
    (net / "sandbox.json").write_text(json.dumps(info))
    for ep in endpoints:
        record = {
            "prefix_len": 16,
            "mac": "",
            "aliases": [],
            "ifname": "eth0",
            "veth": "vcsimx",
            "bridge": "b",
            **ep,
        }
        (net / f"ep-{ep['network_id']}.json").write_text(json.dumps(record))


def test_hosts_name_peers_on_user_defined_networks_only(tmp_path: Path) -> None:
    web, client, lone = "a1" * 32, "b2" * 32, "c3" * 32
    app = {"network": "app", "network_id": NET_ID, "gateway": "172.18.0.1"}
    default = {"network": "bridge", "network_id": OTHER_ID, "gateway": "172.17.0.1"}
    _container(tmp_path, web, "web", [{**app, "ip": "172.18.0.2", "aliases": ["www"]}])
    _container(tmp_path, client, "client", [{**app, "ip": "172.18.0.3"}, {**default, "ip": "172.17.0.3"}])
    _container(tmp_path, lone, "lone", [{**default, "ip": "172.17.0.2"}])
    networks = ContainerNetworks(tmp_path)
    networks.refresh_hosts({NET_ID}, also=lone)

    hosts = (tmp_path / client / "hosts").read_text().splitlines()
    assert hosts[0] == "127.0.0.1\tlocalhost"
    assert f"172.18.0.3\t{client[:12]}" in hosts and f"172.17.0.3\t{client[:12]}" in hosts
    assert f"172.18.0.2\tweb {web[:12]} www" in hosts
    assert f"172.18.0.3\tclient {client[:12]}" in hosts
    assert not any("lone" in line for line in hosts)  # default bridge: by IP only
    assert (tmp_path / lone / "hosts").read_text() == f"127.0.0.1\tlocalhost\n172.17.0.2\t{lone[:12]}\n"
    inode = (tmp_path / web / "hosts").stat().st_ino
    networks.refresh_hosts({NET_ID})
    assert (tmp_path / web / "hosts").stat().st_ino == inode  # bind-mounted: rewritten in place


# -- the port proxy -------------------------------------------------------------------------


class EchoServer:
    """A stand-in for the container's service: echoes, then closes after the client's EOF."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.sock.close()


@pytest.fixture
def proxy(tmp_path: Path, echo: EchoServer) -> Iterator[tuple[Path, int]]:
    record = tmp_path / "proxy.json"
    bound = portproxy.start(record, "127.0.0.1", "lo", [PortBinding(echo.port, "tcp", "127.0.0.1", 0)], "web")
    assert portproxy.running(record)
    yield record, bound[0].host_port
    portproxy.stop(record)


def _exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        sender = threading.Thread(target=lambda: (conn.sendall(payload), conn.shutdown(socket.SHUT_WR)))
        sender.start()
        chunks = []
        while data := conn.recv(65536):
            chunks.append(data)
        sender.join()
    return b"".join(chunks)


def test_proxy_copies_both_ways_with_half_close(proxy: tuple[Path, int]) -> None:
    _, port = proxy
    assert _exchange(port, b"hello") == b"hello"
    big = os.urandom(3 * 1024 * 1024)  # far beyond the bounded buffers
    assert _exchange(port, big) == big


def test_proxy_record_names_its_process_and_ports(proxy: tuple[Path, int], echo: EchoServer) -> None:
    record, port = proxy
    data = json.loads(record.read_text())
    assert data["ports"] == [{"HostIp": "127.0.0.1", "HostPort": str(port), "Port": f"{echo.port}/tcp"}]
    assert data["target"] == "127.0.0.1" and data["pid"] != os.getpid()


def test_proxy_port_in_use_is_dockers_error(tmp_path: Path, echo: EchoServer) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        with pytest.raises(SystemError_) as err:
            portproxy.start(tmp_path / "p.json", "127.0.0.1", "lo", [PortBinding(80, "tcp", "127.0.0.1", port)], "web")
    finally:
        taken.close()
    assert err.value.message == (
        f"driver failed programming external connectivity on endpoint web: "
        f"Bind for 127.0.0.1:{port} failed: port is already allocated"
    )
    assert not (tmp_path / "p.json").exists()


def test_proxy_waits_at_its_connection_bound(proxy: tuple[Path, int], echo: EchoServer) -> None:
    _, port = proxy
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(portproxy.MAX_CONNECTIONS)]
    try:
        _wait_for(lambda: echo.accepted == portproxy.MAX_CONNECTIONS)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
            extra.sendall(b"queued")
            time.sleep(0.5)
            assert echo.accepted == portproxy.MAX_CONNECTIONS  # waits in the backlog, not served
            held.pop().close()
            assert extra.recv(64) == b"queued"  # served as soon as a slot is free
        assert echo.accepted == portproxy.MAX_CONNECTIONS + 1
    finally:
        for conn in held:
            conn.close()


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_proxy_stops_and_exits_when_its_record_goes(proxy: tuple[Path, int], tmp_path: Path, echo: EchoServer) -> None:
    record, port = proxy
    pid = json.loads(record.read_text())["pid"]
    portproxy.stop(record)
    assert not record.exists() and not _alive(pid)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)

    other = tmp_path / "other.json"
    portproxy.start(other, "127.0.0.1", "lo", [PortBinding(echo.port, "tcp", "127.0.0.1", 0)])
    pid = json.loads(other.read_text())["pid"]
    other.unlink()  # e.g. the container's directory was removed by a crash cleanup
    _wait_for(lambda: not _alive(pid), 5.0)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
