"""What the TUI may ask of a world: run a command, read the API, hear the trace.

The TUI must look the same on the embedded simulated world and on a live
daemon (sim, linux or proxy), so it never touches a daemon's internals. This
module is the whole surface it uses:

- ``run_cli(argv)``: run one csim/docker command line, get what the CLI prints;
- ``api(method, path, query)``: Docker Engine API JSON (state panels);
- ``subscribe_spans`` / ``subscribe_events``: the trace and ``docker events``;
- ``clock()``: the world's "now" in the seconds spans use.

``EmbeddedBackend`` wraps :class:`simulator.des.world.World`; ``LiveBackend``
talks HTTP over a unix socket and reads the ``GET /csim/trace`` JSON-lines
feed. ``open_backend(spec)`` chooses. Nothing here imports Textual.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from simulator.trace.events import DockerEvent
from simulator.trace.span import Span

__all__ = [
    "ApiReply",
    "Backend",
    "BackendError",
    "CommandResult",
    "EmbeddedBackend",
    "LiveBackend",
    "open_backend",
]

TUI_USER_AGENT = "csim-tui"
"""Sent with the TUI's own API reads so that live mode can leave them out of the trace."""

SpanCallback = Callable[[Span], None]
EventCallback = Callable[[DockerEvent], None]
Unsubscribe = Callable[[], None]


class BackendError(Exception):
    """The backend could not be reached or answered nonsense."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What one command line printed, as a terminal would show it."""

    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True, slots=True)
class ApiReply:
    """One Engine API answer: status code and decoded JSON body."""

    status: int
    body: Any = field(default=None)


@runtime_checkable
class Backend(Protocol):
    """The world as the TUI sees it. Implementations must be thread-safe
    enough for one command at a time on a worker thread."""

    mode: str
    """``simulated`` or ``live`` (shown in the title bar)."""

    def run_cli(self, argv: list[str]) -> CommandResult:
        """Run one command line (without the leading ``csim``/``docker``)."""
        ...

    def api(self, method: str, path: str, query: dict[str, str] | None = None) -> ApiReply:
        """One Engine API request, e.g. ``api("GET", "/containers/json", {"all": "1"})``."""
        ...

    def subscribe_spans(self, callback: SpanCallback) -> Unsubscribe:
        """Call ``callback`` for every finished span, possibly from another thread."""
        ...

    def subscribe_events(self, callback: EventCallback) -> Unsubscribe:
        """Call ``callback`` for every Docker event, possibly from another thread."""
        ...

    def clock(self) -> float:
        """The world's current time in span seconds."""
        ...

    def close(self) -> None:
        """Release the backend's resources."""
        ...


class EmbeddedBackend:
    """The simulated world running inside the TUI's process.

    Args:
        world: a :class:`simulator.des.world.World` (typed loosely so that
            this module does not import SimPy at import time).
    """

    def __init__(self, world: Any) -> None:
        self._world = world
        # A world of real containers (the linux backend) says so in the title and console.
        self.mode = "linux" if getattr(world, "realtime", False) else "simulated"
        self._lock = threading.RLock()
        self._last_span_end = 0.0
        # The TUI's own state reads go through the router and would show up as
        # requests of their own; they are not what the student asked for.
        self._reading = False
        world.bus.subscribe(self._note_span)

    @classmethod
    def create(cls, seed: int = 0, state_dir: Path | None = None) -> EmbeddedBackend:
        """A fresh simulated world (imports the world lazily)."""
        from simulator.des.world import World

        return cls(World.create(seed=seed, state_dir=state_dir))

    def _note_span(self, span: Span) -> None:
        self._last_span_end = max(self._last_span_end, span.end)

    @property
    def world(self) -> Any:
        """The world itself, for lesson checks (which read it as ``csim lesson`` does)."""
        return self._world

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Hold the world and keep the spans made meanwhile from subscribers.

        For reads that are not the student's: the TUI's state panels and a
        lesson's checks.
        """
        with self._lock:
            self._reading = True
            try:
                yield
            finally:
                self._reading = False

    def run_cli(self, argv: list[str]) -> CommandResult:
        with self._lock:
            result = self._world.run_cli(list(argv))
        return CommandResult(int(result.exit_code), str(result.stdout), str(result.stderr))

    def api(self, method: str, path: str, query: dict[str, str] | None = None) -> ApiReply:
        from simulator.api.messages import ApiRequest

        with self.quiet():
            # Marked as the TUI's own, so lesson span checks do not count it as the student's.
            request = ApiRequest.build(method, path, query, None, {"User-Agent": TUI_USER_AGENT})
            reply = self._world.request(request)
            if reply.stream is not None and reply.hijack is None:
                items = self._world.drain(reply.stream)
                if reply.body is None:
                    reply.body = items
        return ApiReply(int(reply.status), reply.body)

    def subscribe_spans(self, callback: SpanCallback) -> Unsubscribe:
        def deliver(span: Span) -> None:
            if not self._reading:
                callback(span)

        unsubscribe: Unsubscribe = self._world.bus.subscribe(deliver)
        return unsubscribe

    def subscribe_events(self, callback: EventCallback) -> Unsubscribe:
        unsubscribe: Unsubscribe = self._world.events.subscribe(callback)
        return unsubscribe

    def clock(self) -> float:
        env = getattr(self._world, "env", None)
        now = getattr(env, "now", None)
        return float(now) if now is not None else self._last_span_end

    def close(self) -> None:
        close = getattr(self._world, "close", None)
        if callable(close):
            close()


# --------------------------------------------------------------------------- live


class _UnixHTTPConnection(http.client.HTTPConnection):
    """``http.client`` over a unix socket, as the docker CLI talks to dockerd."""

    def __init__(self, socket_path: str, timeout: float = 30.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


class PendingTraces:
    """Holds a live trace's spans until its root span says whose request it was.

    Children finish (and arrive) before their root, and only the root (the
    ``cli`` span the daemon opens per request) names the client. The TUI's
    and lesson checks' own reads are dropped whole; everyone else's are
    passed on. A trace whose root is slow to come (a stream such as
    ``attach`` or ``wait``) is passed on after ``hold`` seconds, and at most
    ``max_traces`` are held.
    """

    def __init__(self, hold: float = 1.0, max_traces: int = 256) -> None:
        self.hold = hold
        self.max_traces = max_traces
        self._held: dict[str, tuple[float, list[Span]]] = {}
        self._released: set[str] = set()

    @staticmethod
    def _own(span: Span) -> bool:
        agent = str(span.attrs.get("user_agent", ""))
        return agent.startswith((TUI_USER_AGENT, "csim-lesson"))

    def add(self, span: Span, now: float) -> list[Span]:
        """Record ``span`` (arrived at ``now``); returns the spans to show now."""
        out: list[Span] = []
        trace = span.trace_id
        if trace in self._released:
            out.append(span)
            if span.parent_id is None:
                self._released.discard(trace)
        elif span.parent_id is None:
            _, spans = self._held.pop(trace, (now, []))
            if not self._own(span):
                out += [*spans, span]
        else:
            first, spans = self._held.setdefault(trace, (now, []))
            spans.append(span)
        # Slow or too many: pass the oldest held traces on.
        for held_trace in list(self._held):
            first, spans = self._held[held_trace]
            if now - first < self.hold and len(self._held) <= self.max_traces:
                break
            del self._held[held_trace]
            if not any(self._own(s) for s in spans):
                out += spans
                self._released.add(held_trace)
        if len(self._released) > 4 * self.max_traces:
            self._released.clear()
        return out


class LiveBackend:
    """A running ``csim daemon`` reached over its unix socket.

    Commands typed in the TUI are run by the csim client library against the
    same socket (so they print what ``csim --host`` prints); spans arrive from
    ``GET /csim/trace`` (one span JSON per line) and events from ``GET /events``,
    each read by a daemon thread started on first subscription.

    Args:
        socket_path: the daemon's socket, e.g. ``/run/csim.sock``.
    """

    mode = "live"

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self._span_callbacks: list[SpanCallback] = []
        self._event_callbacks: list[EventCallback] = []
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        self._last_span_end = 0.0
        self._lock = threading.Lock()
        self._pending = PendingTraces()

    def _request(self, method: str, path: str, query: dict[str, str] | None) -> ApiReply:
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        conn = _UnixHTTPConnection(self.socket_path)
        try:
            conn.request(method, target, headers={"Host": "localhost", "User-Agent": TUI_USER_AGENT})
            response = conn.getresponse()
            raw = response.read()
        except OSError as exc:
            raise BackendError(f"cannot reach {self.socket_path}: {exc}") from exc
        finally:
            conn.close()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return ApiReply(response.status, body)

    def api(self, method: str, path: str, query: dict[str, str] | None = None) -> ApiReply:
        return self._request(method, path, query)

    def run_cli(self, argv: list[str]) -> CommandResult:
        """Run one command line as ``csim --host unix://...`` would, output captured."""
        import io

        from simulator.client.http_transport import HttpTransport
        from simulator.client.main import execute

        out, err = io.StringIO(), io.StringIO()
        try:
            code = execute(None, list(argv), out, err, transport=HttpTransport(f"unix://{self.socket_path}"))
        except OSError as exc:
            return CommandResult(1, out.getvalue(), err.getvalue() + f"csim: {exc}\n")
        return CommandResult(int(code), out.getvalue(), err.getvalue())

    def _stream(self, path: str, handle_line: Callable[[bytes], None]) -> None:
        """Read a JSON-lines stream until closed (bounded by the socket's life)."""
        conn = _UnixHTTPConnection(self.socket_path, timeout=3600.0)
        try:
            conn.request("GET", path, headers={"Host": "localhost"})
            response = conn.getresponse()
            while not self._closed.is_set():
                line = response.readline()
                if not line:
                    break
                if line.strip():
                    handle_line(line)
        except OSError:
            return
        finally:
            conn.close()

    def _span_line(self, line: bytes) -> None:
        try:
            span = Span.from_json(json.loads(line))
        except (ValueError, KeyError, TypeError):
            return
        self._last_span_end = max(self._last_span_end, span.end)
        for ready in self._pending.add(span, time.monotonic()):
            for callback in tuple(self._span_callbacks):
                callback(ready)

    def _event_line(self, line: bytes) -> None:
        try:
            data = json.loads(line)
            actor = data.get("Actor") or {}
            event = DockerEvent(
                type=str(data.get("Type", "")),
                action=str(data.get("Action", "")),
                actor_id=str(actor.get("ID", "")),
                attributes={str(k): str(v) for k, v in (actor.get("Attributes") or {}).items()},
                time_ns=int(data.get("timeNano", 0)),
            )
        except (ValueError, AttributeError, TypeError):
            return
        for callback in tuple(self._event_callbacks):
            callback(event)

    def _start_reader(self, path: str, handle: Callable[[bytes], None]) -> None:
        thread = threading.Thread(target=self._stream, args=(path, handle), daemon=True)
        thread.start()
        self._threads.append(thread)

    def subscribe_spans(self, callback: SpanCallback) -> Unsubscribe:
        with self._lock:
            first = not self._span_callbacks
            self._span_callbacks.append(callback)
        if first:
            # ``since`` far ahead skips the retained history; ``follow`` keeps the feed open.
            self._start_reader(f"/csim/trace?follow=1&since={2**62}", self._span_line)
        return lambda: self._span_callbacks.remove(callback) if callback in self._span_callbacks else None

    def subscribe_events(self, callback: EventCallback) -> Unsubscribe:
        with self._lock:
            first = not self._event_callbacks
            self._event_callbacks.append(callback)
        if first:
            self._start_reader("/events", self._event_line)
        return lambda: self._event_callbacks.remove(callback) if callback in self._event_callbacks else None

    def clock(self) -> float:
        return self._last_span_end

    def close(self) -> None:
        self._closed.set()


def open_backend(spec: str | Backend | None = None, *, seed: int = 0) -> Backend:
    """The backend ``spec`` names.

    Args:
        spec: ``None`` or ``"embedded"`` for a fresh simulated world,
            ``"unix:///path/to.sock"`` (or a bare socket path) for a live
            daemon, or an already built backend (returned as is).
        seed: the simulated world's seed.

    Raises:
        BackendError: for a spec that names nothing usable.
    """
    if spec is not None and not isinstance(spec, str):
        return spec
    if spec in (None, "", "embedded", "sim", "simulated"):
        return EmbeddedBackend.create(seed=seed)
    assert isinstance(spec, str)
    if spec.startswith("unix://"):
        return LiveBackend(spec[len("unix://") :])
    if spec.startswith("/"):
        return LiveBackend(spec)
    raise BackendError(f"unsupported host {spec!r}: use unix:///path/to/csim.sock")
