"""The Engine API's routes, served by the world for both transports.

``Router.handle`` is a SimPy process: it emits the ``api`` span, calls the
daemon, and answers with an ``ApiResponse``; Docker errors become
``{"message": ...}`` with their status. Streaming routes answer at once with
a ``Stream`` the world keeps filling.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from simulator.api import routes_build, routes_containers, routes_csim, routes_images, routes_push, routes_system
from simulator.api.messages import API_VERSION, ApiRequest, ApiResponse, error_response
from simulator.daemon.core import Proc
from simulator.daemon.daemon import Daemon
from simulator.model.errors import DockerError, InvalidParameter
from simulator.trace.tracer import SpanContext

Handler = Callable[..., Proc]
Route = tuple[str, re.Pattern[str], Handler]
_VERSION = re.compile(r"^/v(\d+\.\d+)(/.*)$")
# A route pattern whose first path segment is plain text ("/containers/...") can only
# match paths with that same first segment, so routes are bucketed by it.
_LITERAL_HEAD = re.compile(r"^/([A-Za-z0-9_.-]+)(?:/|$)")
# The plain text a pattern ends with ("/start" in "/containers/(?P<id>[^/]+)/start"):
# an anchored pattern can only match a path ending with it, and ``str.endswith`` is
# much cheaper than trying the regex (a POST under /containers has a dozen candidates).
_LITERAL_TAIL = re.compile(r"[A-Za-z0-9_/-]*$")
Candidate = tuple[re.Pattern[str], Handler, str]


def _literal_tail(pattern: str) -> str:
    tail = pattern[pattern.rfind(")") + 1 :]
    found = _LITERAL_TAIL.match(tail)
    return tail if found is not None and found.end() == len(tail) else ""


class Router:
    """Maps (method, path) to handlers."""

    def __init__(self, daemon: Daemon, latency: float = 0.0) -> None:
        self.daemon = daemon
        self.latency = latency
        self._routes: list[Route] = []
        heads: list[str | None] = []
        for module in (routes_system, routes_containers, routes_images, routes_build, routes_push, routes_csim):
            for method, pattern, handler in module.ROUTES:
                self._routes.append((method, re.compile(f"^{pattern}$"), handler))
                literal = _LITERAL_HEAD.match(pattern)
                heads.append(literal.group(1) if literal else None)
        # head segment -> the routes that can match it, in declaration order (first match wins).
        # Routes without a literal head are candidates for every path.
        self._by_head: dict[str, list[Route]] = {
            head: [r for r, h in zip(self._routes, heads, strict=True) if h in (head, None)]
            for head in heads
            if head is not None
        }
        self._any_head = [r for r, h in zip(self._routes, heads, strict=True) if h is None]
        self._tails = {r[1]: _literal_tail(r[1].pattern[1:-1]) for r in self._routes}
        # (method, head) -> those candidates that serve the method, built on first use.
        self._candidates: dict[tuple[str, str | None], list[Candidate]] = {}

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The first route (in declaration order) matching ``path`` for ``method`` (GET also serves HEAD)."""
        head = path[1:].partition("/")[0] if path[:1] == "/" else None
        candidates = self._candidates.get((method, head))
        if candidates is None:
            by_head = self._by_head.get(head, self._any_head) if head is not None else self._any_head
            candidates = [
                (r[1], r[2], self._tails[r[1]])
                for r in by_head
                if r[0] == method or (r[0] == "GET" and method == "HEAD")
            ]
            if len(self._candidates) < 1024:  # methods and heads come from clients: keep the cache bounded
                self._candidates[(method, head)] = candidates
        # ``$`` also matches before a final newline: compare tails as the regex would.
        end = path[:-1] if path[-1:] == "\n" else path
        for pattern, handler, tail in candidates:
            if tail and not end.endswith(tail):
                continue
            found = pattern.match(path)
            if found:
                return handler, found.groupdict()
        return None

    def handle(self, req: ApiRequest, parent: SpanContext | None) -> Proc:
        """Serve one request; always returns an ApiResponse, never raises DockerError."""
        daemon = self.daemon
        path = req.path
        version = API_VERSION
        vm = _VERSION.match(path) if path.startswith("/v") else None
        if vm:
            version, path = vm.group(1), vm.group(2)
        ctx = daemon.tracer.start(
            "api",
            f"{req.method} {path}",
            parent,
            method=req.method,
            path=path,
            user_agent=req.user_agent,
        )
        try:
            if self.latency:
                yield daemon.env.timeout(self.latency)
            if vm and _too_new(version):
                raise InvalidParameter(
                    f"client version {version} is too new. Maximum supported API version is {API_VERSION}"
                )
            if vm and _too_old(version):
                raise InvalidParameter(
                    f"client version {version} is too old. Minimum supported API version is 1.24, "
                    "please upgrade your client to a newer version"
                )
            found = self.match(req.method, path)
            if found is None:
                resp = error_response(404, "page not found")
            else:
                handler, params = found
                with daemon.workers.request() as slot:
                    yield slot
                resp = yield from handler(daemon, req, ctx, version=version, **params)
        except DockerError as err:
            resp = error_response(err.status, err.message) if err.status != 304 else ApiResponse(304)
        except (ValueError, KeyError, TypeError) as err:
            resp = error_response(400, str(err) or type(err).__name__)
        resp.headers.setdefault("Api-Version", API_VERSION)
        daemon.tracer.end(ctx, status=resp.status)
        return resp


def _vtuple(v: str) -> tuple[int, int]:
    major, _, minor = v.partition(".")
    return int(major), int(minor or 0)


def _too_new(v: str) -> bool:
    return _vtuple(v) > _vtuple(API_VERSION)


def _too_old(v: str) -> bool:
    return _vtuple(v) < (1, 24)


def json_dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"
