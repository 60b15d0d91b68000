"""What a lesson check may look at: API answers, the trace and Docker events. Nothing else.

Checks never reach into a daemon's internals, so a lesson passes or fails the
same way on the simulated world, the real backend or a remote daemon. The
requests a check makes are themselves traced; they carry the user agent
``csim-lesson`` so that span checks (and the TUI) can leave them out: a
student's ``docker ps`` must not be confused with the check's own
``GET /containers/json``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from simulator.trace.events import DockerEvent
from simulator.trace.span import Span

LESSON_USER_AGENT = "csim-lesson"
TUI_USER_AGENT = "csim-tui"  # the TUI's own state reads: never a student's command


@dataclass(frozen=True, slots=True)
class Answer:
    """An API answer: status and decoded JSON body (a list of items for streamed bodies)."""

    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a probe command printed."""

    exit_code: int
    stdout: str
    stderr: str


class WorldView(Protocol):
    """The read side a check needs; ``World`` is adapted by ``WorldAdapter``."""

    def api(self, method: str, path: str, query: dict[str, Any] | None = None) -> Answer: ...

    def spans(self) -> list[Span]: ...

    def events(self) -> list[DockerEvent]: ...

    def probe(self, argv: list[str]) -> ProbeResult: ...


def hidden_trace_ids(spans: Iterable[Span]) -> set[str]:
    """Traces made by lesson checks, probes and the TUI's own reads, which span checks ignore."""
    return {
        s.trace_id
        for s in spans
        if s.attrs.get("user_agent") in (LESSON_USER_AGENT, TUI_USER_AGENT) or s.attrs.get("lesson_probe")
    }


def student_spans(spans: list[Span]) -> list[Span]:
    """``spans`` without the ones lesson checks caused."""
    hidden = hidden_trace_ids(spans)
    return [s for s in spans if s.trace_id not in hidden]


class _ProbeTransport:
    """The embedded transport, marked so a probe's spans are recognised as the lesson's own."""

    def __init__(self, world: Any) -> None:
        from simulator.client.session import EmbeddedTransport

        self.inner = EmbeddedTransport(world)
        self.world = world

    def request(self, req: Any, parent: Any) -> Any:
        req.headers["User-Agent"] = LESSON_USER_AGENT
        return self.inner.request(req, parent)

    def drain(self, stream: Any, on_item: Any = None) -> list[Any]:
        return self.inner.drain(stream, on_item)

    def wall(self) -> float:
        return self.inner.wall()

    def start_command(self, argv: list[str]) -> Any:
        return self.world.tracer.start("cli", "docker " + " ".join(argv), None, argv=argv, lesson_probe=True)

    def end_command(self, ctx: Any, exit_code: int) -> None:
        self.inner.end_command(ctx, exit_code)

    def spans(self, trace_id: str | None = None) -> list[Any]:
        return self.inner.spans(trace_id)


class WorldAdapter:
    """A ``WorldView`` over an in-process ``simulator.des.world.World``."""

    def __init__(self, world: Any) -> None:
        self.world = world

    def api(self, method: str, path: str, query: dict[str, Any] | None = None) -> Answer:
        from simulator.api.messages import ApiRequest

        req = ApiRequest.build(method, path, query, None, {"User-Agent": LESSON_USER_AGENT})
        resp = self.world.request(req)
        body = resp.body
        if resp.stream is not None and resp.hijack is None:
            items = self.world.drain(resp.stream)
            body = items if body is None else body
        elif body is None and resp.raw:
            import json

            try:
                body = json.loads(resp.raw)
            except ValueError:
                body = resp.raw.decode("utf-8", "replace")
        return Answer(int(resp.status), body)

    def spans(self) -> list[Span]:
        return list(self.world.bus.spans())

    def events(self) -> list[DockerEvent]:
        return list(self.world.events.events())

    def probe(self, argv: list[str]) -> ProbeResult:
        from simulator.client.main import execute

        out, err = io.StringIO(), io.StringIO()
        code = execute(self.world, argv, out, err, transport=_ProbeTransport(self.world))
        return ProbeResult(code, out.getvalue(), err.getvalue())
