"""Where the Engine API listens, and the aiohttp connection class that can be hijacked.

Shared by the csim daemon (``server.py``) and proxy mode (``proxy.py``):

- ``parse_host`` reads Docker's ``-H`` syntax (``unix:///path``,
  ``tcp://127.0.0.1:2375``) and refuses a non-loopback TCP address unless
  remote access is asked for explicitly, as dockerd keeps it off by default.
- ``default_socket`` is ``$XDG_RUNTIME_DIR/csim.sock``, else ``/run/csim/csim.sock``.
- ``HijackableHandler`` is aiohttp's connection protocol with two changes
  the Docker protocol needs: a half-closed connection stays open for output
  after an ``Upgrade: tcp`` (the CLI closes its write side as soon as stdin
  ends), and errors aiohttp answers itself (a malformed request line,
  oversized headers) are ``{"message": ...}`` JSON like every other error.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from simulator.api.framing import error_body

SOCKET_NAME = "csim.sock"
SOCKET_MODE = 0o660


class HostError(ValueError):
    """A ``-H`` value that cannot be used, worded for the user."""


@dataclass(frozen=True, slots=True)
class Host:
    """One listening address."""

    scheme: str  # "unix" or "tcp"
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


def default_socket() -> str:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, SOCKET_NAME)
    return os.path.join("/run/csim", SOCKET_NAME)


def default_host() -> str:
    return "unix://" + default_socket()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_host(value: str, allow_remote: bool = False) -> Host:
    """Parse ``unix:///path`` or ``tcp://host:port`` (a bare path means unix)."""
    value = value.strip()
    if not value:
        raise HostError("invalid empty host")
    if value.startswith("/"):
        return Host("unix", path=value)
    parts = urlsplit(value)
    if parts.scheme == "unix":
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not path:
            raise HostError(f"invalid unix socket address: {value}")
        return Host("unix", path=path)
    if parts.scheme == "tcp":
        try:
            port = parts.port
        except ValueError:
            raise HostError(f"invalid port in {value}") from None
        host = parts.hostname or "127.0.0.1"
        if port is None:
            raise HostError(f"missing port in {value}: use tcp://127.0.0.1:PORT")
        if not allow_remote and not _is_loopback(host):
            raise HostError(
                f"refusing to listen on {host}: the Engine API gives root on this machine to whoever "
                "can reach it. Use a loopback address, or pass --allow-remote if you really mean it."
            )
        return Host("tcp", host=host, port=port)
    raise HostError(f"unsupported protocol in {value!r}: use unix:///path or tcp://127.0.0.1:PORT")


def prepare_unix_socket(path: str) -> None:
    """Make the socket's directory and remove a stale socket file; refuse a live one."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists() and not p.is_symlink():
        return
    if not stat.S_ISSOCK(p.lstat().st_mode):
        raise HostError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError as err:
        if err.errno in (errno.ECONNREFUSED, errno.ENOENT):
            p.unlink(missing_ok=True)  # left behind by a daemon that died
            return
        raise HostError(f"cannot use {path}: {err.strerror}") from None
    finally:
        probe.close()
    raise HostError(f"another daemon is already listening on {path}")


async def start_sites(runner: web.BaseRunner, hosts: list[Host]) -> list[web.BaseSite]:
    """Listen on every host; unix sockets get mode 0660."""
    sites: list[web.BaseSite] = []
    for h in hosts:
        site: web.BaseSite
        if h.scheme == "unix":
            prepare_unix_socket(h.path)
            site = web.UnixSite(runner, h.path)
            await site.start()
            os.chmod(h.path, SOCKET_MODE)
        else:
            site = web.TCPSite(runner, h.host, h.port)
            await site.start()
        sites.append(site)
    return sites


def remove_sockets(hosts: list[Host]) -> None:
    for h in hosts:
        if h.scheme == "unix":
            try:
                if stat.S_ISSOCK(os.lstat(h.path).st_mode):
                    os.unlink(h.path)
            except OSError:
                pass


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """An error exactly as the CLI decodes it: ``Content-Type: application/json``, no charset."""
    resp = web.Response(status=status, body=error_body(message), headers=headers)
    resp.headers["Content-Type"] = "application/json"
    return resp


LINGER_SECONDS = 1.0


class LingeringTransport:
    """A transport whose ``close`` half-closes first (lingering close, as nginx does).

    When the server answers early (a request line too long, a bad body) the client
    may still be sending. Closing a socket with unread input resets the connection,
    and the reset can overtake the error response. So ``close`` sends EOF, lets the
    protocol keep discarding input, and closes for real when the client has gone
    or after ``LINGER_SECONDS``.
    """

    def __init__(self, transport: Any, loop: Any) -> None:
        self._transport = transport
        self._loop = loop
        self._lingering = False

    def close(self) -> None:
        if self._lingering or self._transport.is_closing():
            return
        self._lingering = True
        try:
            if self._transport.can_write_eof():
                self._transport.write_eof()
                self._loop.call_later(LINGER_SECONDS, self._transport.close)
                return
        except (OSError, RuntimeError, AttributeError):
            pass
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HijackableHandler(RequestHandler):
    """aiohttp's connection protocol, keeping a hijacked connection open after the client's half-close."""

    __slots__ = ("csim_hijacked",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.csim_hijacked = False

    def connection_made(self, transport: Any) -> None:
        lingering: Any = LingeringTransport(transport, self._loop)  # forwards everything but close
        super().connection_made(lingering)

    def eof_received(self) -> bool | None:  # type: ignore[override]
        if self.csim_hijacked:
            parser = self._payload_parser
            if parser is not None:
                parser.feed_eof()
            return True  # keep writing: a read EOF does not mean the client left
        return None

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        self.logger.debug("bad request: %s", exc or message)
        if request.writer.output_size > 0:
            raise ConnectionError("the response was already started")
        text = message or (str(exc) if exc else "") or "bad request"
        resp = json_error(status, text.strip().splitlines()[0] if text.strip() else "bad request")
        resp.force_close()
        return resp


class HijackableServer(web.Server):
    """``web.Server`` whose connections are ``HijackableHandler``."""

    def __call__(self) -> RequestHandler:
        return HijackableHandler(self, loop=self._loop, **self._kwargs)


class RawInput:
    """A payload parser that hands bytes read after a 101 to a callback (``None`` on EOF)."""

    def __init__(self, deliver: Any) -> None:
        self._deliver = deliver
        self._eof = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if data and not self._eof:
            self._deliver(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        if not self._eof:
            self._eof = True
            self._deliver(None)


def hijack_connection(request: web.BaseRequest, deliver: Any) -> None:
    """Route every byte the client sends from now on (and its EOF) to ``deliver``."""
    protocol = request.protocol
    if isinstance(protocol, HijackableHandler):
        protocol.csim_hijacked = True
    protocol.set_parser(RawInput(deliver))  # type: ignore[arg-type]


def mark_hijacked(request: web.BaseRequest) -> None:
    protocol = request.protocol
    if isinstance(protocol, HijackableHandler):
        protocol.csim_hijacked = True
