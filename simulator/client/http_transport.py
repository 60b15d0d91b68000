"""The csim CLI as an HTTP client of a daemon: ``-H``, ``CSIM_HOST`` or ``DOCKER_HOST``.

It implements the same ``Transport`` protocol as the embedded world, so every
command sends exactly the requests it sends in-process, now over a socket as
the docker CLI would: one connection per request (attach, wait and start run
side by side), ``Upgrade: tcp`` for attach and exec start, streams read as
they arrive. Against ``csim daemon`` the command line also gets its ``cli``
span (``/csim/commands``) and every request names it in ``X-Csim-Parent``;
against any other engine those calls are skipped.

Only the standard library is used (``http.client``), so ``csim ps`` stays
quick to start.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from simulator.api.messages import API_VERSION, ApiRequest, ApiResponse
from simulator.client.session import CliError

USER_AGENT = "csim-cli/0.1"
_STREAMING = re.compile(r"^/(containers/[^/]+/(wait|logs|stats)|events|images/create|images/.+/push|build)$")
_HIJACK = re.compile(r"^/(containers/[^/]+/attach|exec/[^/]+/start)$")


def host_from_env(explicit: str | None = None) -> str | None:
    """The daemon to use: ``-H``, else ``CSIM_HOST``, else ``DOCKER_HOST``; ``None`` means embedded."""
    return explicit or os.environ.get("CSIM_HOST") or os.environ.get("DOCKER_HOST") or None


@dataclass
class CommandSpan:
    """The csim CLI's handle on its ``cli`` span (``span_id`` is None against a non-csim engine)."""

    trace_id: str
    span_id: int | None


class _Connection(http.client.HTTPConnection):
    """``HTTPConnection`` over a unix socket or TCP."""

    def __init__(self, host: str, timeout: float | None) -> None:
        parts = urlsplit(host if "://" in host else "unix://" + host)
        self.scheme = parts.scheme
        self.address = (parts.netloc + parts.path) if parts.scheme == "unix" else parts.netloc
        super().__init__(
            "localhost" if parts.scheme == "unix" else (parts.hostname or "localhost"), parts.port, timeout=timeout
        )

    def connect(self) -> None:
        if self.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(self.address)
            self.sock = sock
        elif self.scheme == "tcp":
            self.sock = socket.create_connection((self.host, self.port or 2375), self.timeout)
        else:
            raise OSError(f"unsupported protocol scheme {self.scheme!r}")


class HttpStream:
    """A streamed response body: JSON messages, or log frames (raw bytes with a TTY)."""

    def __init__(self, conn: _Connection, resp: http.client.HTTPResponse, kind: str, tty: bool) -> None:
        self.conn = conn
        self.resp = resp
        self.kind = kind
        self.tty = tty

    def _chunks(self) -> Iterator[bytes]:
        reader: Any = self.resp if self.resp.status != 101 else self.resp.fp
        try:
            while True:
                data = reader.read1(65536) if hasattr(reader, "read1") else reader.read(65536)
                if not data:
                    return
                yield data
        except (OSError, http.client.HTTPException):
            return
        finally:
            self.conn.close()

    def items(self) -> Iterator[Any]:
        from simulator.api.framing import STREAM_NAMES, FrameDecoder, JsonLineDecoder
        from simulator.daemon.containers import LogEntry

        if self.kind == "json":
            decoder = JsonLineDecoder()
            for chunk in self._chunks():
                yield from decoder.feed(chunk)
            yield from decoder.flush()
        elif self.tty:
            for chunk in self._chunks():
                yield LogEntry(0.0, "stdout", chunk)
        else:
            frames = FrameDecoder()
            for chunk in self._chunks():
                for stream_id, payload in frames.feed(chunk):
                    yield LogEntry(0.0, STREAM_NAMES.get(stream_id, "stdout"), payload)


class HijackedInput:
    """Stdin of an attach or exec: raw bytes to the socket, ``None`` half-closes it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def feed(self, data: bytes | None) -> None:
        try:
            if data is None:
                self.sock.shutdown(socket.SHUT_WR)
            else:
                self.sock.sendall(data)
        except OSError:
            pass


def _detached(req: ApiRequest) -> bool:
    """``exec start`` with ``Detach: true`` is a plain request, not an upgrade."""
    if not req.path.startswith("/exec/"):
        return False
    try:
        return bool(json.loads(req.body or b"{}").get("Detach"))
    except (ValueError, AttributeError):
        return False


class HttpTransport:
    """The ``Transport`` protocol over HTTP to a daemon at ``host`` (``unix:///path`` or ``tcp://h:p``)."""

    def __init__(self, host: str, timeout: float | None = None) -> None:
        self.host = host
        self.timeout = timeout
        self._csim = True  # the daemon has /csim/ endpoints until it says otherwise

    # -- the wire -----------------------------------------------------------------------
    def _unreachable(self, err: Exception) -> CliError:
        return CliError(f"Cannot connect to the csim daemon at {self.host}. Is the daemon running?", 1)

    def _send(
        self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[_Connection, http.client.HTTPResponse]:
        conn = _Connection(self.host, self.timeout)
        hdrs = {"User-Agent": USER_AGENT, **(headers or {})}
        if body:
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, target, body=body or None, headers=hdrs)
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise self._unreachable(err) from None

    def _json_call(self, method: str, target: str, body: Any = None) -> tuple[int, Any]:
        raw = json.dumps(body).encode() if body is not None else b""
        conn, resp = self._send(method, target, raw)
        try:
            data = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(data) if data.strip() else None
        except ValueError:
            return resp.status, None

    # -- Transport ----------------------------------------------------------------------
    def request(self, req: ApiRequest, parent: Any) -> ApiResponse:
        path = req.path if req.path.startswith("/v1.") else f"/v{API_VERSION}{req.path}"
        target = quote(path, safe="/:@")
        if req.query:
            target += "?" + urlencode(req.query, doseq=True)
        headers = dict(req.headers)
        headers["User-Agent"] = USER_AGENT
        span_id = getattr(parent, "span_id", None)
        if span_id is not None:
            headers["X-Csim-Parent"] = str(span_id)
        hijack = bool(_HIJACK.match(req.path)) and not _detached(req)
        if hijack:
            headers.update({"Connection": "Upgrade", "Upgrade": "tcp"})
        conn, resp = self._send(req.method, target, req.body, headers)
        ctype = resp.getheader("Content-Type", "")
        out_headers = dict(resp.getheaders())
        if resp.status == 101 or (hijack and resp.status == 200):
            stream = HttpStream(conn, resp, "logs", tty="raw-stream" in ctype)
            assert conn.sock is not None
            return ApiResponse(
                resp.status,
                stream=stream,  # type: ignore[arg-type]
                stream_kind="logs",
                tty=stream.tty,
                hijack=HijackedInput(conn.sock),
                headers=out_headers,
            )  # type: ignore[arg-type]
        if resp.status < 400 and _STREAMING.match(req.path):
            kind = "json" if ctype.startswith("application/json") else "logs"
            stream = HttpStream(conn, resp, kind, tty="raw-stream" in ctype)
            return ApiResponse(resp.status, stream=stream, stream_kind=kind, tty=stream.tty, headers=out_headers)  # type: ignore[arg-type]
        try:
            data = resp.read()
        finally:
            conn.close()
        if ctype.startswith("application/json") and data.strip():
            try:
                return ApiResponse(resp.status, body=json.loads(data), headers=out_headers)
            except ValueError:
                pass
        if resp.status >= 400:
            return ApiResponse(
                resp.status, body={"message": data.decode("utf-8", "replace").strip()}, headers=out_headers
            )
        return ApiResponse(resp.status, raw=data, content_type=ctype, headers=out_headers)

    def drain(self, stream: Any, on_item: Callable[[Any], None] | None = None) -> list[Any]:
        items: list[Any] = []
        if not isinstance(stream, HttpStream):
            return items
        for item in stream.items():
            items.append(item)
            if on_item is not None:
                on_item(item)
        return items

    def wall(self) -> float:
        if self._csim:
            status, body = self._json_call("GET", "/csim/clock")
            if status == 200 and isinstance(body, dict):
                return float(body["wall"])
            self._csim = False
        return time.time()

    def start_command(self, argv: list[str]) -> Any:
        if self._csim:
            try:
                status, body = self._json_call("POST", "/csim/commands", {"argv": argv})
            except CliError:
                return CommandSpan("", None)  # unreachable: the command's first request reports it
            if status == 201 and isinstance(body, dict):
                return CommandSpan(str(body["trace_id"]), int(body["span_id"]))
            self._csim = False
        return CommandSpan("", None)

    def end_command(self, ctx: Any, exit_code: int) -> None:
        if self._csim and getattr(ctx, "span_id", None) is not None:
            try:
                self._json_call("POST", f"/csim/commands/{ctx.span_id}/end", {"exit_code": exit_code})
            except CliError:
                pass  # the daemon went away mid-command: the command's own error says so

    def spans(self, trace_id: str | None = None) -> list[Any]:
        from simulator.trace.span import Span

        if not self._csim:
            return []
        target = "/csim/trace" + (f"?trace_id={quote(trace_id)}" if trace_id else "")
        conn, resp = self._send("GET", target)
        try:
            data = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            return []
        return [Span.from_json(json.loads(line)) for line in data.splitlines() if line.strip()]
