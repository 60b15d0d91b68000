"""Published ports (``-p 127.0.0.1:8080:80``): a userspace TCP proxy, as ``docker-proxy``.

dockerd publishes a port twice: with iptables DNAT rules, and with a
``docker-proxy`` process per port that listens on the host and copies bytes
to the container's address. csim keeps only the proxy (no NAT anywhere):
one proxy process per container endpoint serves all its published TCP
ports. It is not a new interpreter but a fork of the daemon, double-forked
and detached like the shim, so it outlives the embedded CLI's process (one
per command) and a daemon restart; its pid and start time are recorded in
``net/proxy-<network id>.json`` and it is stopped when the endpoint goes
(container stop or rm, ``network disconnect``). It also exits by itself
within a second when that record disappears.

Only loopback: a HostIp that is empty, ``0.0.0.0`` or any non-loopback
address is bound on 127.0.0.1 instead (csim never listens on the machine's
real interfaces). UDP bindings are not published. The sockets are bound by
the caller, so "port is already allocated" is reported to the user before
anything is forked. Connections to the container are bound to the network's
bridge (``SO_BINDTODEVICE``), so a range that another bridge on the host
(``docker0``) also routes cannot divert them.

Bounded: at most ``MAX_CONNECTIONS`` at once (beyond, the proxy stops
accepting and new clients wait in the listen backlog of 64), at
most ``BUFFER`` bytes buffered per direction (a full buffer stops reading
that side), ``CONNECT_SECONDS`` to reach the container.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import selectors
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from simulator.model.errors import SystemError_
from simulator.runtime.linux.state import read_json, write_json_atomic

MAX_CONNECTIONS = 128
BUFFER = 65536
CONNECT_SECONDS = 10.0
_TICK = 0.5
_STOP_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class PortBinding:
    """One ``-p`` binding: host address and port (0: any free one) to a container port."""

    container_port: int
    proto: str
    host_ip: str
    host_port: int

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"

    def to_api(self) -> dict[str, str]:
        return {"HostIp": self.host_ip, "HostPort": str(self.host_port)}


def loopback(host_ip: str) -> str:
    """The address csim really binds for ``host_ip``: itself if loopback, else 127.0.0.1."""
    try:
        address = ipaddress.ip_address(host_ip.strip("[]"))
    except ValueError:
        return "127.0.0.1"
    return str(address) if address.is_loopback else "127.0.0.1"


def parse_bindings(port_bindings: Mapping[str, Any]) -> list[PortBinding]:
    """The TCP bindings of a ``HostConfig.PortBindings`` object."""
    out: list[PortBinding] = []
    for key, binds in port_bindings.items():
        number, _, proto = str(key).partition("/")
        if (proto or "tcp") != "tcp" or not number.isdigit():
            continue
        for bind in binds or [{}]:
            raw = str((bind or {}).get("HostPort") or "0").split("-")[0]
            out.append(PortBinding(int(number), "tcp", loopback(str((bind or {}).get("HostIp") or "")), int(raw or 0)))
    return out


def start(
    record: Path, target_ip: str, device: str, bindings: Sequence[PortBinding], endpoint: str = ""
) -> list[PortBinding]:
    """Bind the ports, fork the detached proxy, record it; the bindings as really bound.

    Raises:
        SystemError_: a port is taken (Docker's "port is already allocated").
    """
    listeners: list[tuple[socket.socket, int]] = []
    bound: list[PortBinding] = []
    try:
        for b in bindings:
            family = socket.AF_INET6 if ":" in b.host_ip else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            listeners.append((sock, b.container_port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((b.host_ip, b.host_port))
            except OSError as exc:
                reason = "port is already allocated" if exc.errno == errno.EADDRINUSE else exc.strerror
                raise SystemError_(
                    f"driver failed programming external connectivity on endpoint {endpoint}: "
                    f"Bind for {b.host_ip}:{b.host_port} failed: {reason}"
                ) from None
            sock.listen(64)
            sock.setblocking(False)
            bound.append(PortBinding(b.container_port, b.proto, b.host_ip, sock.getsockname()[1]))
        if listeners:
            _fork_proxy(listeners, target_ip, device, record, [(b.host_ip, b.host_port, b.key) for b in bound])
    finally:
        for sock, _ in listeners:
            sock.close()
    return bound


def stop(record: Path) -> None:
    """Stop the proxy of ``record`` (if it still runs) and remove the record."""
    data = read_json(record)
    record.unlink(missing_ok=True)
    if data is None or not _alive(data):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(data["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + _STOP_SECONDS
    while time.monotonic() < deadline and _alive(data):
        time.sleep(0.002)
    if _alive(data):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(data["pid"]), signal.SIGKILL)


def running(record: Path) -> bool:
    """Is the proxy of ``record`` alive?"""
    data = read_json(record)
    return data is not None and _alive(data)


def _alive(data: dict[str, Any]) -> bool:
    """Does the recorded proxy still run (same pid and start time, not a zombie)?"""
    pid = int(data.get("pid", 0))
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return pid > 0 and fields[0] != "Z" and int(fields[19]) == int(data.get("start", -2))


def _start_time(pid: int) -> int:
    from simulator.runtime.linux.shim import start_time

    return start_time(pid) if pid > 0 else -1


def _fork_proxy(
    listeners: list[tuple[socket.socket, int]],
    target_ip: str,
    device: str,
    record: Path,
    described: list[tuple[str, int, str]],
) -> int:
    """Double-fork a detached proxy serving ``listeners``; its pid (it writes ``record``)."""
    _start_time(os.getpid())  # import what the parent needs before forking
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    middle = os.fork()
    if middle == 0:  # pragma: no cover - runs in the forked child
        try:
            os.close(read_fd)
            os.setsid()
            if os.fork() == 0:
                # The proxy records itself before it serves, so "record gone" can never race.
                pid = os.getpid()
                ports = [{"HostIp": ip, "HostPort": str(port), "Port": key} for ip, port, key in described]
                write_json_atomic(record, {"pid": pid, "start": _start_time(pid), "target": target_ip, "ports": ports})
                os.write(write_fd, f"{pid}\n".encode())
                os.close(write_fd)
                _serve(listeners, target_ip, device, record)
        finally:
            os._exit(0)
    os.close(write_fd)
    os.waitpid(middle, 0)
    with os.fdopen(read_fd, "rb") as pipe:
        line = pipe.readline()
    if not line.strip():
        raise SystemError_("the port proxy did not start")
    return int(line)


def _serve(
    listeners: list[tuple[socket.socket, int]], target_ip: str, device: str, record: Path
) -> NoReturn:  # pragma: no cover - runs in the forked proxy
    keep = sorted(sock.fileno() for sock, _ in listeners)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    for low, high in zip([2, *keep], [*keep, 65536], strict=True):
        os.closerange(low + 1, high)
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        _Proxy(listeners, target_ip, device, record).run()
    finally:
        os._exit(0)


@dataclass(eq=False)
class _Pair:
    """One client connection and its connection to the container."""

    client: socket.socket
    upstream: socket.socket
    deadline: float
    connected: bool = False
    to_upstream: bytearray = field(default_factory=bytearray)
    to_client: bytearray = field(default_factory=bytearray)
    client_eof: bool = False
    upstream_eof: bool = False
    client_shut: bool = False
    upstream_shut: bool = False


class _Proxy:  # pragma: no cover - runs in the forked proxy
    """The proxy's event loop: accept, connect, copy both ways with bounded buffers."""

    def __init__(self, listeners: list[tuple[socket.socket, int]], target_ip: str, device: str, record: Path) -> None:
        self.selector = selectors.DefaultSelector()
        self.target_ip = target_ip
        self.device = device.encode()
        self.record = record
        self.pairs: set[_Pair] = set()
        self.masks: dict[socket.socket, int] = {}
        self.listeners = listeners
        self.accepting = False
        self._accepting(True)

    def _accepting(self, on: bool) -> None:
        """At the bound, stop accepting: new clients wait in the (bounded) listen backlog."""
        if on == self.accepting:
            return
        self.accepting = on
        for sock, port in self.listeners:
            if on:
                self.selector.register(sock, selectors.EVENT_READ, ("listen", port))
            else:
                self.selector.unregister(sock)

    def run(self) -> None:
        next_check = 0.0
        while True:
            for key, mask in self.selector.select(_TICK):
                kind, data = key.data
                if kind == "listen":
                    self._accept(key.fileobj, data)  # type: ignore[arg-type]
                else:
                    self._ready(data, key.fileobj, mask)  # type: ignore[arg-type]
            now = time.monotonic()
            if now >= next_check:
                next_check = now + _TICK
                if not self.record.exists():
                    return
                for pair in [p for p in self.pairs if not p.connected and p.deadline < now]:
                    self._close(pair)

    def _accept(self, listener: socket.socket, port: int) -> None:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        client.setblocking(False)
        upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        upstream.setblocking(False)
        pair = _Pair(client, upstream, time.monotonic() + CONNECT_SECONDS)
        self.pairs.add(pair)
        if len(self.pairs) >= MAX_CONNECTIONS:
            self._accepting(False)
        try:
            with contextlib.suppress(OSError):
                upstream.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.device)
            code = upstream.connect_ex((self.target_ip, port))
            if code not in (0, errno.EINPROGRESS):
                raise OSError(code, os.strerror(code))
        except OSError:
            self._close(pair)
            return
        self._update(pair)

    def _ready(self, pair: _Pair, sock: socket.socket, mask: int) -> None:
        try:
            if sock is pair.upstream and not pair.connected:
                if pair.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    raise OSError("connect failed")
                pair.connected = True
            else:
                if mask & selectors.EVENT_READ:
                    self._read(pair, sock)
                if mask & selectors.EVENT_WRITE:
                    self._write(pair, sock)
        except OSError:
            self._close(pair)
            return
        if pair.client_eof and pair.upstream_eof and not pair.to_client and not pair.to_upstream:
            self._close(pair)
        else:
            self._update(pair)

    def _read(self, pair: _Pair, sock: socket.socket) -> None:
        buffer = pair.to_upstream if sock is pair.client else pair.to_client
        data = sock.recv(BUFFER - len(buffer))
        if data:
            buffer += data
        elif sock is pair.client:
            pair.client_eof = True
        else:
            pair.upstream_eof = True

    def _write(self, pair: _Pair, sock: socket.socket) -> None:
        buffer = pair.to_client if sock is pair.client else pair.to_upstream
        if buffer:
            del buffer[: sock.send(buffer)]
        if buffer:
            return
        # Half-close: the other side said EOF and everything it sent is delivered.
        if sock is pair.upstream and pair.client_eof and not pair.upstream_shut:
            pair.upstream_shut = True
            sock.shutdown(socket.SHUT_WR)
        elif sock is pair.client and pair.upstream_eof and not pair.client_shut:
            pair.client_shut = True
            sock.shutdown(socket.SHUT_WR)

    def _wants(self, pair: _Pair, sock: socket.socket) -> int:
        if sock is pair.upstream and not pair.connected:
            return selectors.EVENT_WRITE
        if not pair.connected:
            return 0
        incoming_eof, incoming, outgoing, shut, other_eof = (
            (pair.client_eof, pair.to_upstream, pair.to_client, pair.client_shut, pair.upstream_eof)
            if sock is pair.client
            else (pair.upstream_eof, pair.to_client, pair.to_upstream, pair.upstream_shut, pair.client_eof)
        )
        mask = 0
        if not incoming_eof and len(incoming) < BUFFER:
            mask |= selectors.EVENT_READ
        if outgoing or (other_eof and not shut):
            mask |= selectors.EVENT_WRITE
        return mask

    def _update(self, pair: _Pair) -> None:
        for sock in (pair.client, pair.upstream):
            want = self._wants(pair, sock)
            have = self.masks.get(sock, 0)
            if want == have:
                continue
            if not have:
                self.selector.register(sock, want, ("pair", pair))
            elif not want:
                self.selector.unregister(sock)
            else:
                self.selector.modify(sock, want, ("pair", pair))
            if want:
                self.masks[sock] = want
            else:
                self.masks.pop(sock, None)

    def _close(self, pair: _Pair) -> None:
        self.pairs.discard(pair)
        self._accepting(len(self.pairs) < MAX_CONNECTIONS)
        for sock in (pair.client, pair.upstream):
            if self.masks.pop(sock, 0):
                self.selector.unregister(sock)
            sock.close()
