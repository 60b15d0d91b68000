"""csim's own endpoints beside the Engine API: the live trace feed and the csim CLI's command spans.

They live under ``/csim/``, outside Docker's namespace, so no Docker client
can collide with them:

- ``GET /csim/trace`` streams finished spans as JSON lines (``Span.to_json``):
  the retained ones first, then live ones with ``follow=1``; ``trace_id``
  filters one trace, ``since`` skips span ids up to it. The TUI's live mode
  reads this to animate traffic, including the real docker CLI's.
- ``POST /csim/commands`` opens the ``cli`` span of one csim command line
  (body ``{"argv": [...]}``) and answers ``{"trace_id", "span_id"}``; the
  CLI then sends ``X-Csim-Parent: <span_id>`` with each request so its API
  calls are children of that span, and ``POST /csim/commands/<id>/end``
  closes it with ``{"exit_code": N}``.
- ``GET /csim/clock`` answers the daemon's time (``wall``, Unix seconds of
  the world's clock), which the CLI needs to print "5 seconds ago".

A request from any other client gets a ``cli`` span of its own, named by
its User-Agent, as the parent of the router's ``api`` span.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.api.framing import json_body, json_line
from simulator.api.listeners import json_error
from simulator.api.messages import ApiRequest
from simulator.api.worldthread import StreamBridge, StreamOverflow
from simulator.trace.bus import TraceBus
from simulator.trace.tracer import SpanContext, Tracer

MAX_OPEN_COMMANDS = 4096
_VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/)")
_COMMAND_END = re.compile(r"^/csim/commands/(\d+)/end$")


def client_name(user_agent: str) -> str:
    """``Docker-Client/28.2.2 (linux)`` -> ``Docker-Client/28.2.2``; empty -> ``client``."""
    return user_agent.split(" ", maxsplit=1)[0] if user_agent else "client"


class CsimEndpoints:
    """The ``/csim/`` endpoints and the per-request ``cli`` spans.

    Args:
        bus: where finished spans are kept and published.
        tracer: opens and ends the ``cli`` spans.
        call: runs a function where the tracer may be used (the world thread) and awaits its result.
        wall: the daemon's Unix time.
    """

    def __init__(
        self,
        bus: TraceBus,
        tracer: Tracer,
        call: Callable[[Callable[[], Any]], Awaitable[Any]],
        wall: Callable[[], float],
    ) -> None:
        self.bus = bus
        self.tracer = tracer
        self._call = call
        self._wall = wall
        self._commands: OrderedDict[int, SpanContext] = OrderedDict()

    # -- where the tracer lives (the world thread) ------------------------------------
    def request_span(self, req: ApiRequest, parent_id: str = "") -> tuple[SpanContext, SpanContext | None]:
        """The parent for the ``api`` span of ``req``, and the ``cli`` span opened for it, if any.

        A csim CLI request names its command's span in ``X-Csim-Parent``; any
        other client gets a ``cli`` span of its own, named by its User-Agent.
        """
        parent = self._commands.get(int(parent_id)) if parent_id.isdigit() else None
        if parent is not None:
            return parent, None
        path = _VERSION_PREFIX.sub("", req.path)
        own = self.tracer.start(
            "cli",
            f"{client_name(req.user_agent)} {req.method} {path}",
            None,
            user_agent=req.user_agent,
            method=req.method,
            path=path,
        )
        return own, own

    def end_request(self, ctx: SpanContext | None, status: int) -> None:
        if ctx is not None:
            self.tracer.end(ctx, status=status)

    def _open_command(self, argv: list[str], user_agent: str) -> dict[str, Any]:
        ctx = self.tracer.start("cli", "docker " + " ".join(argv), None, argv=argv, user_agent=user_agent)
        self._commands[ctx.span_id] = ctx
        while len(self._commands) > MAX_OPEN_COMMANDS:
            _, old = self._commands.popitem(last=False)
            self.tracer.end(old, exit_code=-1, abandoned=True)
        return {"trace_id": ctx.trace_id, "span_id": ctx.span_id}

    def _end_command(self, span_id: int, exit_code: int) -> bool:
        ctx = self._commands.pop(span_id, None)
        if ctx is None:
            return False
        self.tracer.end(ctx, exit_code=exit_code)
        return True

    # -- on the event loop ------------------------------------------------------------
    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path, method = request.path, request.method
        try:
            if path == "/csim/trace" and method in ("GET", "HEAD"):
                return await self._trace(request)
            if path == "/csim/clock" and method == "GET":
                wall = await self._call(self._wall)
                return _json({"wall": float(wall)})
            if path == "/csim/commands" and method == "POST":
                body = await _json_body(request)
                argv = body.get("argv")
                if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                    return json_error(400, "argv must be a list of strings")
                ua = request.headers.get("User-Agent", "")
                return _json(await self._call(lambda: self._open_command(argv, ua)), 201)
            m = _COMMAND_END.match(path)
            if m and method == "POST":
                body = await _json_body(request)
                code = body.get("exit_code", 0)
                if not isinstance(code, int):
                    return json_error(400, "exit_code must be an integer")
                span_id = int(m.group(1))
                if not await self._call(lambda: self._end_command(span_id, code)):
                    return json_error(404, f"no open command span {span_id}")
                return web.Response(status=204)
        except ValueError as err:
            return json_error(400, str(err))
        return json_error(404, "page not found")

    async def _trace(self, request: web.BaseRequest) -> web.StreamResponse:
        follow = request.query.get("follow", "") not in ("", "0", "false", "no")
        trace_id = request.query.get("trace_id") or None
        try:
            since = int(request.query.get("since") or 0)
        except ValueError:
            return json_error(400, "since must be a span id")
        bus = self.bus
        bridge = StreamBridge(asyncio.get_running_loop()) if follow else None
        unsubscribe = None
        if bridge is not None:
            b = bridge
            # Subscribe where spans are published, so none falls between the replay and the live feed.
            replay, unsubscribe = await self._call(lambda: (bus.spans(trace_id), bus.subscribe(b.push)))
        else:
            replay = bus.spans(trace_id)
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            lines = [json_line(s.to_json()) for s in replay if s.span_id > since]
            if lines:
                await resp.write(b"".join(lines))
            while bridge is not None:
                batch = await bridge.get()
                if batch is None:
                    break
                data = b"".join(json_line(s.to_json()) for s in batch if trace_id is None or s.trace_id == trace_id)
                if data:
                    await resp.write(data)
        except StreamOverflow:
            pass
        finally:
            if unsubscribe is not None:
                unsubscribe()
        await resp.write_eof()
        return resp


async def _json_body(request: web.BaseRequest) -> dict[str, Any]:
    raw = await request.content.read(1 << 20)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValueError("invalid JSON body") from None
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _json(body: Any, status: int = 200) -> web.Response:
    resp = web.Response(status=status, body=json_body(body))
    resp.headers["Content-Type"] = "application/json"
    return resp
