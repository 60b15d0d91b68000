"""Proxy mode: forward every Engine API request to a real Docker Engine, and trace it.

``csim daemon --upstream unix:///var/run/docker.sock`` puts csim between a
student's docker CLI and their own dockerd. Nothing is simulated: each
request goes upstream unchanged and the answer comes back unchanged (streams
as they arrive, hijacked attach/exec connections as a two-way byte pipe), so
the CLI behaves exactly as against the real engine. What csim adds is the
trace: each request becomes a ``cli`` span named by the client's User-Agent
with an ``api`` span beneath it, published on ``GET /csim/trace`` like the
simulated daemon's.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
import logging
import re
import signal
import time
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from simulator.api.listeners import Host, hijack_connection, json_error
from simulator.api.server import ApiServer, api_request, is_upgrade, read_body
from simulator.api.tracefeed import CsimEndpoints
from simulator.trace.bus import TraceBus
from simulator.trace.tracer import Tracer

_log = logging.getLogger("csim.proxy")

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "proxy-connection",
    "te",
    "trailer",
}
_VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/)")


class ProxyApi:
    """An aiohttp handler that forwards to ``upstream`` and traces each request."""

    def __init__(self, upstream: Host) -> None:
        self.upstream = upstream
        self.bus = TraceBus()
        t0 = time.monotonic()
        self.tracer = Tracer(lambda: time.monotonic() - t0, self.bus)

        async def call(fn: Any) -> Any:
            return fn()  # the tracer lives on the event loop in proxy mode

        self.csim = CsimEndpoints(self.bus, self.tracer, call, time.time)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector: aiohttp.BaseConnector
            if self.upstream.scheme == "unix":
                connector = aiohttp.UnixConnector(path=self.upstream.path, limit=0)
            else:
                connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    def _base(self) -> str:
        if self.upstream.scheme == "unix":
            return "http://docker"
        return f"http://{self.upstream.host}:{self.upstream.port}"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path.startswith("/csim/"):
            return await self.csim.handle(request)
        started = time.perf_counter()
        body = await read_body(request)
        if body is None:
            return json_error(413, "request body too large")
        req = api_request(request, body)
        parent, own = self.csim.request_span(req, request.headers.get("X-Csim-Parent", ""))
        path = _VERSION_PREFIX.sub("", request.path)
        api = self.tracer.start(
            "api",
            f"{request.method} {path}",
            parent,
            method=request.method,
            path=path,
            user_agent=req.user_agent,
            upstream=str(self.upstream),
        )
        status = 0
        try:
            if is_upgrade(request):
                resp, status = await self._splice(request, body)
            else:
                resp, status = await self._forward(request, body)
            return resp
        except (OSError, aiohttp.ClientError) as err:
            status = 502
            _log.warning("upstream %s: %s", self.upstream, err)
            return json_error(
                502, f"Cannot connect to the Docker daemon at {self.upstream}. Is the docker daemon running?"
            )
        finally:
            self.tracer.end(api, status=status)
            self.csim.end_request(own, status)
            _log.info(
                "%s %s -> %s %s %.1fms %s",
                request.method,
                request.rel_url.raw_path_qs[:200],
                self.upstream,
                status or "-",
                (time.perf_counter() - started) * 1000,
                request.headers.get("User-Agent", "-"),
            )

    async def _forward(self, request: web.BaseRequest, body: bytes) -> tuple[web.StreamResponse, int]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        url = URL(self._base() + request.rel_url.raw_path_qs, encoded=True)
        async with self._client().request(
            request.method, url, headers=headers, data=body or None, allow_redirects=False
        ) as up:
            out_headers = {k: v for k, v in up.headers.items() if k.lower() not in HOP_BY_HOP}
            if up.status in (204, 304) or request.method == "HEAD":
                return web.Response(status=up.status, reason=up.reason, headers=out_headers), up.status
            if "chunked" not in up.headers.get("Transfer-Encoding", "").lower():
                data = await up.read()
                return web.Response(status=up.status, reason=up.reason, body=data, headers=out_headers), up.status
            resp = web.StreamResponse(status=up.status, reason=up.reason, headers=out_headers)
            resp.enable_chunked_encoding()
            await resp.prepare(request)  # at once: /wait's headers gate the CLI's /start
            async for chunk in up.content.iter_any():
                await resp.write(chunk)
            await resp.write_eof()
            return resp, up.status

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.upstream.scheme == "unix":
            return await asyncio.open_unix_connection(self.upstream.path)
        return await asyncio.open_connection(self.upstream.host, self.upstream.port)

    async def _splice(self, request: web.BaseRequest, body: bytes) -> tuple[web.StreamResponse, int]:
        """Attach and exec start: forward the request, then pipe bytes both ways until upstream closes."""
        reader, writer = await self._open()
        try:
            lines = [f"{request.method} {request.rel_url.raw_path_qs} HTTP/1.1", "Host: docker"]
            lines += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
            lines += ["Connection: Upgrade", f"Upgrade: {request.headers.get('Upgrade', 'tcp')}"]
            lines.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, _, header_block = head.partition(b"\r\n")
            parts = status_line.decode("latin-1").split(" ", 2)
            status = int(parts[1])
            reason = parts[2] if len(parts) > 2 else ""
            parsed = http.client.parse_headers(io.BytesIO(header_block))
            out_headers = {k: v for k, v in parsed.items() if k.lower() not in HOP_BY_HOP}
            if status != 101:
                length = int(parsed.get("Content-Length") or 0)
                data = await reader.readexactly(length) if length else b""
                resp = web.Response(status=status, reason=reason, body=data, headers=out_headers)
                resp.force_close()
                return resp, status
            out_headers.update({"Connection": "Upgrade", "Upgrade": parsed.get("Upgrade", "tcp")})
            sresp = web.StreamResponse(status=101, reason=reason or "UPGRADED", headers=out_headers)
            sresp.force_close()

            def stdin(data: bytes | None) -> None:
                if writer.is_closing():
                    return
                if data is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                else:
                    writer.write(data)

            hijack_connection(request, stdin)
            await sresp.prepare(request)
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                await sresp.write(chunk)
            return sresp, 101
        finally:
            writer.close()


async def run_proxy(upstream: Host, hosts: list[Host]) -> int:
    """Serve ``hosts`` as a tracing proxy to ``upstream`` until SIGINT/SIGTERM."""
    api = ProxyApi(upstream)
    server = ApiServer(api, hosts)
    await server.start()
    for h in hosts:
        _log.info("proxy listening on %s -> %s   (export DOCKER_HOST=%s)", h, upstream, h)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    _log.info("shutting down")
    await server.close()
    with contextlib.suppress(Exception):
        await api.close()
    _log.info("stopped")
    return 0
