"""One CLI invocation's connection to a daemon: the transport plus the ``cli`` span.

Embedded mode talks to an in-process ``World``; the HTTP transport (the
``csim daemon`` issue) will implement the same two methods.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any

from simulator.api.messages import ApiRequest, ApiResponse
from simulator.model.errors import DockerError


class CliError(Exception):
    """A message for stderr and an exit code; never a traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Session:
    """Sends API requests for one command line and prints to the given streams."""

    def __init__(
        self, world: Any, out: IO[str], err: IO[str], argv: list[str], tty: bool = False
    ) -> None:
        self.world = world
        self.out = out
        self.err = err
        self.tty = tty
        self.ctx = world.tracer.start("cli", "docker " + " ".join(argv), None, argv=argv)
        world.env.run(until=world.env.now + world.params.cli)

    def finish(self, exit_code: int) -> None:
        self.world.tracer.end(self.ctx, exit_code=exit_code)

    def call(
        self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None
    ) -> ApiResponse:
        req = ApiRequest.build(method, path, query, body, {"User-Agent": "csim-cli"})
        return self.world.request(req, self.ctx)

    def json(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        ok: tuple[int, ...] = (200, 201, 204, 304),
    ) -> Any:
        """Call and return the JSON body, raising ``DockerError`` for an error status."""
        resp = self.call(method, path, query, body)
        if resp.status not in ok and resp.status >= 400:
            message = (resp.body or {}).get("message", "") if isinstance(resp.body, dict) else ""
            raise DockerError(message, resp.status)
        if resp.stream is not None and resp.hijack is None:
            return self.world.drain(resp.stream)
        if resp.body is None and resp.raw is not None:
            try:
                return json.loads(resp.raw or b"null")
            except ValueError:
                return None
        return resp.body

    def drain(self, resp: ApiResponse, on_item: Callable[[Any], None] | None = None) -> list[Any]:
        if resp.stream is None:
            return []
        return self.world.drain(resp.stream, on_item)
