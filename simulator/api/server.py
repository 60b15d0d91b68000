"""The Engine API over HTTP: the csim daemon's front door for the docker CLI and docker-py.

Routes are written once in ``router.py``; this module only moves bytes. An
aiohttp server reads each request, hands it to the world thread as an
``ApiRequest`` and writes the ``ApiResponse`` back the way dockerd does:

- every response carries ``Api-Version``, ``Docker-Experimental``,
  ``Ostype`` and ``Server``; errors are ``{"message": ...}`` with
  ``Content-Type: application/json`` exactly;
- streams (``/wait``, pull progress, ``events``, ``logs``) send their headers
  at once and then one JSON line or one stdcopy frame per item;
- attach and exec start answer ``101 UPGRADED`` and become a raw, two-way
  byte pipe: output frames out, stdin in, half-close tolerated.

Each request is also traced: a ``cli`` span (named by the client's
User-Agent) is the parent of the router's ``api`` span, so the real docker
CLI's traffic appears in the same trace as the csim CLI's. ``/csim/...``
paths, outside Docker's namespace, serve the trace feed and the csim CLI's
command spans (see ``tracefeed.py``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

import simulator
from simulator.api.framing import JSON_TYPE, json_body, json_line, log_bytes, stream_content_type
from simulator.api.listeners import (
    HijackableServer,
    Host,
    hijack_connection,
    json_error,
    mark_hijacked,
    remove_sockets,
    start_sites,
)
from simulator.api.messages import API_VERSION, ApiRequest, ApiResponse
from simulator.api.worldthread import StreamBridge, StreamOverflow, WorldBusy, WorldStopped, WorldThread

_log = logging.getLogger("csim.api")

MAX_BODY = 64 << 20  # a build context may be large; anything beyond is refused with 413
HIJACK_PAUSE = 0.02  # docker-py loses bytes that share a packet with the 101 headers
_VERSIONED = re.compile(r"^/v(\d+\.\d+)(/.*)?$")


def common_headers() -> dict[str, str]:
    return {
        "Api-Version": API_VERSION,
        "Docker-Experimental": "false",
        "Ostype": "linux",
        "Server": f"Docker/{simulator.__version__} (linux)",
    }


def path_version(path: str) -> str:
    m = _VERSIONED.match(path)
    return m.group(1) if m else API_VERSION


async def read_body(request: web.BaseRequest, limit: int = MAX_BODY) -> bytes | None:
    """The whole request body (chunked or not), or ``None`` when it exceeds ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def api_request(request: web.BaseRequest, body: bytes) -> ApiRequest:
    """An ``ApiRequest`` from an aiohttp request: path decoded, query parsed like Go's url.Values."""
    query = parse_qs(request.query_string, keep_blank_values=True, max_num_fields=1000)
    headers = dict(request.headers.items())
    return ApiRequest(request.method, request.path, query, body, headers)


def is_upgrade(request: web.BaseRequest) -> bool:
    return "upgrade" in request.headers.get("Connection", "").lower() and bool(request.headers.get("Upgrade"))


class WorldApi:
    """Serves Engine API requests from a ``World`` running on a ``WorldThread``.

    Args:
        runner: the world thread (its ``world`` has ``router``, ``tracer``, ``bus``, ``daemon``).
        on_change: called on the world thread after a request that may have changed state
            (used to persist the world).
    """

    def __init__(self, runner: WorldThread, on_change: Any = None) -> None:
        from simulator.api.tracefeed import CsimEndpoints

        self.runner = runner
        self.world = runner.world
        self.on_change = on_change

        async def call(fn: Any) -> Any:
            return await asyncio.wrap_future(runner.call(fn))

        self.csim = CsimEndpoints(self.world.bus, self.world.tracer, call, lambda: float(self.world.daemon.wall()))

    def _route(self, req: ApiRequest, parent_id: str) -> Any:
        """SimPy process on the world thread: the request under its ``cli`` span."""
        parent, own = self.csim.request_span(req, parent_id)
        resp: ApiResponse = yield from self.world.router.handle(req, parent)
        return resp, own

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        status = [0]
        ended = "client left"
        try:
            resp = await self._serve(request, status)
            ended = ""
            return resp
        finally:
            target = request.rel_url.raw_path_qs
            _log.info(
                "%s %s %s %.1fms %s%s",
                request.method,
                target if len(target) < 200 else target[:200] + "...",
                status[0] or "-",
                (time.perf_counter() - started) * 1000,
                request.headers.get("User-Agent", "-"),
                f" ({ended})" if ended else "",
            )

    async def _serve(self, request: web.BaseRequest, status: list[int]) -> web.StreamResponse:
        resp, status[0] = await self._answer(request, status)
        return resp

    async def _answer(self, request: web.BaseRequest, status: list[int]) -> tuple[web.StreamResponse, int]:
        if request.path.startswith("/csim/"):
            csim_resp = await self.csim.handle(request)
            return csim_resp, csim_resp.status
        upgrade = is_upgrade(request)
        if upgrade:
            mark_hijacked(request)
        body = await read_body(request)
        if body is None:
            return self._error(413, "request body too large", close=True), 413
        try:
            req = api_request(request, body)
        except ValueError as err:
            return self._error(400, f"invalid query: {err}"), 400
        loop = asyncio.get_running_loop()
        parent_id = request.headers.get("X-Csim-Parent", "")
        try:
            result = await asyncio.wrap_future(self.runner.process(lambda: self._route(req, parent_id)), loop=loop)
        except WorldBusy:
            return self._error(503, "the daemon is busy: too many requests in flight"), 503
        except WorldStopped:
            return self._error(503, "the daemon is shutting down"), 503
        except Exception as err:  # a bug in a route: answer 500, keep serving
            _log.exception("internal error serving %s %s", request.method, request.path)
            return self._error(500, f"internal error: {type(err).__name__}: {err}"), 500
        api_resp, cli_ctx = result
        status[0] = api_resp.status
        try:
            if api_resp.hijack is not None:
                out = await self._hijacked(request, api_resp, upgrade)
            elif api_resp.stream is not None:
                out = await self._streamed(request, api_resp)
            else:
                out = self._plain(api_resp, close=upgrade)
        finally:
            self._finish(cli_ctx, api_resp.status, request.method)
        return out, api_resp.status

    def _finish(self, cli_ctx: Any, status: int, method: str) -> None:
        def end() -> None:
            self.csim.end_request(cli_ctx, status)
            if method not in {"GET", "HEAD"} and self.on_change is not None:
                self.on_change()

        try:
            self.runner.post(end)
        except (WorldBusy, WorldStopped):
            pass

    # -- plain, streamed and hijacked responses -------------------------------------
    def _error(self, status: int, message: str, close: bool = False) -> web.Response:
        resp = json_error(status, message, common_headers())
        if close:
            resp.force_close()
        return resp

    def _plain(self, r: ApiResponse, close: bool = False) -> web.Response:
        headers = common_headers()
        headers.update(r.headers)
        if r.status in (204, 304):
            resp = web.Response(status=r.status, headers=headers)
        elif r.raw is not None:
            resp = web.Response(status=r.status, body=r.raw, headers=headers)
            resp.headers["Content-Type"] = r.content_type
        else:
            body = json_body(r.body) if r.body is not None else b""
            if r.status >= 400 and isinstance(r.body, dict):
                body = json_body({"message": str(r.body.get("message", ""))})
            resp = web.Response(status=r.status, body=body, headers=headers)
            resp.headers["Content-Type"] = JSON_TYPE
        if close:
            resp.force_close()
        return resp

    async def _streamed(self, request: web.BaseRequest, r: ApiResponse) -> web.StreamResponse:
        headers = common_headers()
        headers.update(r.headers)
        if r.stream_kind == "logs":
            headers["Content-Type"] = stream_content_type(r.tty, path_version(request.path))
        else:
            headers["Content-Type"] = JSON_TYPE
        resp = web.StreamResponse(status=r.status, headers=headers)
        resp.enable_chunked_encoding()
        await resp.prepare(request)  # headers now: the CLI sends /start only after /wait's headers
        await self._pump(r, resp)
        await resp.write_eof()
        return resp

    async def _pump(self, r: ApiResponse, resp: web.StreamResponse, first_write_at: float = 0.0) -> None:
        """Copy the route's stream to the client until it ends, the client leaves, or it falls behind."""
        assert r.stream is not None
        stream = r.stream
        loop = asyncio.get_running_loop()
        bridge = StreamBridge(loop)
        self.runner.post(lambda: stream.consume(bridge))
        logs, tty = r.stream_kind == "logs", r.tty

        def encode(item: Any) -> bytes:
            return log_bytes(item, tty) if logs else json_line(item)

        finished = False
        try:
            while True:
                batch = await bridge.get()
                if batch is None:
                    finished = True
                    return
                data = b"".join(encode(item) for item in batch)
                if not data:
                    continue
                delay = first_write_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await resp.write(data)
        except StreamOverflow:
            _log.warning("a client read too slowly; its stream was dropped")
        except (ConnectionError, asyncio.CancelledError):
            raise
        finally:
            if not finished:
                self._cancel(stream)

    def _cancel(self, stream: Any) -> None:
        try:
            self.runner.post(stream.cancel)
        except (WorldBusy, WorldStopped):
            pass

    async def _hijacked(self, request: web.BaseRequest, r: ApiResponse, upgrade: bool) -> web.StreamResponse:
        ctype = stream_content_type(r.tty, path_version(request.path))
        headers = common_headers()
        if upgrade:
            headers.update({"Content-Type": ctype, "Connection": "Upgrade", "Upgrade": "tcp"})
            resp = web.StreamResponse(status=101, reason="UPGRADED", headers=headers)
        else:
            headers["Content-Type"] = ctype
            resp = web.StreamResponse(status=200, headers=headers)
        resp.force_close()
        session = r.hijack
        if upgrade:
            if session is not True and hasattr(session, "feed"):
                hijack_connection(request, self._stdin(session))
            else:
                hijack_connection(request, lambda data: None)
        await resp.prepare(request)
        loop = asyncio.get_running_loop()
        if r.stream is None:
            return resp
        try:
            await self._pump(r, resp, first_write_at=loop.time() + HIJACK_PAUSE)
        except ConnectionError:
            pass
        return resp

    def _stdin(self, session: Any) -> Any:
        def deliver(data: bytes | None) -> None:
            try:
                self.runner.post(lambda: session.feed(data))
            except (WorldBusy, WorldStopped):
                _log.warning("stdin dropped: the world is busy or stopping")

        return deliver


class ApiServer:
    """The listening sockets and aiohttp plumbing around one request handler."""

    def __init__(self, handler: Any, hosts: list[Host]) -> None:
        self.handler = handler
        self.hosts = hosts
        self._runner: web.ServerRunner | None = None

    async def start(self) -> None:
        server = HijackableServer(
            self.handler,
            handler_cancellation=True,
            access_log=None,
            max_line_size=16384,
            max_field_size=16384,
        )
        # Long streams (events, logs -f, attach) would hold a graceful shutdown for a minute.
        self._runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        try:
            await start_sites(self._runner, self.hosts)
        except BaseException:
            await self._runner.cleanup()
            raise

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        remove_sockets(self.hosts)
