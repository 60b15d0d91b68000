"""One CLI invocation's connection to a daemon: the transport plus the ``cli`` span.

Embedded mode talks to an in-process ``World``; the HTTP transport (the
``csim daemon`` issue) will implement the same two methods.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any, BinaryIO, Protocol

from simulator.api.messages import ApiRequest, ApiResponse
from simulator.client.terminal import is_terminal
from simulator.model.errors import DockerError


class CliError(Exception):
    """A message for stderr and an exit code; never a traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Transport(Protocol):
    """How a CLI reaches a daemon: in-process (the embedded world) or HTTP (``csim daemon``)."""

    def request(self, req: ApiRequest, parent: Any) -> ApiResponse: ...

    def drain(self, stream: Any, on_item: Callable[[Any], None] | None = None) -> list[Any]: ...

    def follow(self, stream: Any, on_item: Callable[[Any], None] | None = None, stdin: Any = None) -> list[Any]:
        """Like ``drain`` but in real time (``logs -f``, ``events``, interactive sessions)."""
        ...

    def wall(self) -> float:
        """The daemon's current Unix time (the simulated clock on the sim backend)."""
        ...

    def start_command(self, argv: list[str]) -> Any:
        """Open the ``cli`` span of one command line; returns its context."""
        ...

    def end_command(self, ctx: Any, exit_code: int) -> None: ...

    def spans(self, trace_id: str | None = None) -> list[Any]: ...


class EmbeddedTransport:
    """The in-process transport: requests are served by a ``World`` in this process."""

    def __init__(self, world: Any) -> None:
        self.world = world

    def request(self, req: ApiRequest, parent: Any) -> ApiResponse:
        resp: ApiResponse = self.world.request(req, parent)
        return resp

    def drain(self, stream: Any, on_item: Callable[[Any], None] | None = None) -> list[Any]:
        items: list[Any] = self.world.drain(stream, on_item)
        return items

    def follow(self, stream: Any, on_item: Callable[[Any], None] | None = None, stdin: Any = None) -> list[Any]:
        items: list[Any] = self.world.follow(stream, on_item, stdin)
        return items

    def wall(self) -> float:
        return float(self.world.daemon.wall())

    def start_command(self, argv: list[str]) -> Any:
        ctx = self.world.tracer.start("cli", "docker " + " ".join(argv), None, argv=argv)
        self.world.env.run(until=self.world.env.now + self.world.params.cli)
        return ctx

    def end_command(self, ctx: Any, exit_code: int) -> None:
        self.world.tracer.end(ctx, exit_code=exit_code)

    def spans(self, trace_id: str | None = None) -> list[Any]:
        spans: list[Any] = self.world.bus.spans(trace_id)
        return spans


class Session:
    """Sends API requests for one command line and prints to the given streams."""

    def __init__(
        self,
        transport: Transport,
        out: IO[str],
        err: IO[str],
        argv: list[str],
        tty: bool = False,
        stdin: BinaryIO | None = None,
    ) -> None:
        self.transport = transport
        self.out = out
        self.err = err
        self.tty = tty
        # What ``-i`` reads: the shell's stdin for a typed command line; None (no input,
        # as ``</dev/null``) where csim runs a command for the TUI, a lesson or a test.
        self.stdin = stdin
        self.stdin_tty = is_terminal(stdin)
        self.ctx = transport.start_command(argv)

    def finish(self, exit_code: int) -> None:
        self.transport.end_command(self.ctx, exit_code)

    def now(self) -> float:
        return self.transport.wall()

    def call(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> ApiResponse:
        req = ApiRequest.build(method, path, query, body, {"User-Agent": "csim-cli"})
        return self.transport.request(req, self.ctx)

    def json(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Call and return the JSON body, raising ``DockerError`` for an error status."""
        resp = self.call(method, path, query, body)
        if resp.status >= 400:
            message = (resp.body or {}).get("message", "") if isinstance(resp.body, dict) else ""
            raise DockerError(message, resp.status)
        if resp.stream is not None and resp.hijack is None:
            return self.transport.drain(resp.stream)
        if resp.body is None and resp.raw is not None:
            try:
                return json.loads(resp.raw or b"null")
            except ValueError:
                return None
        return resp.body

    def drain(
        self, resp: ApiResponse, on_item: Callable[[Any], None] | None = None, follow: bool = False, stdin: Any = None
    ) -> list[Any]:
        if resp.stream is None:
            return []
        if follow:
            return self.transport.follow(resp.stream, on_item, stdin)
        return self.transport.drain(resp.stream, on_item)
