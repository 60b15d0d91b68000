"""Container and exec routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.messages import ApiRequest, ApiResponse
from simulator.api.routes_system import instant, parse_filters
from simulator.daemon.containers import LogEntry
from simulator.daemon.core import Proc
from simulator.daemon.daemon import Daemon
from simulator.daemon.streams import Stream
from simulator.model import state as rules
from simulator.model.errors import Conflict, InvalidParameter
from simulator.trace.tracer import SpanContext


def create(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    result = yield from d.create_container(ctx, req.json(), req.arg("name"))
    return ApiResponse(201, result)


@instant
def list_(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> ApiResponse:
    limit = req.int_arg("limit")
    rows = d.list_containers(req.flag("all"), parse_filters(req), limit if limit else -1)
    if req.flag("size"):
        rows = [d.with_sizes(d.containers.get(row["Id"]), row) for row in rows]
    return ApiResponse(200, rows)


@instant
def inspect(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    return ApiResponse(200, d.inspect_container(id))


def _simple(op: str) -> Callable[..., Proc]:
    def handler(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> Proc:
        if op == "start":
            yield from d.start_container(ctx, id)
        elif op == "stop":
            yield from d.stop_container(ctx, id, req.int_arg("t"), req.arg("signal") or None)
        elif op == "kill":
            yield from d.kill_container(ctx, id, req.arg("signal") or None)
        elif op == "restart":
            yield from d.restart_container(ctx, id, req.int_arg("t"))
        elif op == "pause":
            yield from d.pause_container(ctx, id)
        elif op == "unpause":
            yield from d.unpause_container(ctx, id)
        elif op == "rename":
            yield from d.rename_container(ctx, id, req.arg("name"))
        return ApiResponse(204)

    handler.__name__ = op
    return handler


def remove(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> Proc:
    yield from d.remove_container(ctx, id, req.flag("force"), req.flag("v"))
    return ApiResponse(204)


@instant
def wait(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    event = d.wait_container(id, req.arg("condition") or "not-running")
    stream = Stream()

    def deliver(ev: Any) -> None:
        stream.put({"StatusCode": int(ev.value), "Error": None})
        stream.close()

    if event.triggered:
        deliver(event)
    else:
        event.callbacks.append(deliver)
    return ApiResponse(200, stream=stream, stream_kind="json")


class AttachSession:
    """The daemon end of a hijacked attach: output frames out, stdin in."""

    def __init__(self, d: Daemon, cid: str, stream: Stream) -> None:
        self.daemon = d
        self.cid = cid
        self.stream = stream

    def feed(self, data: bytes | None) -> None:
        self.daemon.feed_stdin(self.cid, data)


@instant
def attach(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    c = d.containers.get(id)
    rules.check_attach(c.state, id)
    want_out, want_err = req.flag("stdout"), req.flag("stderr")
    stream = Stream()
    if req.flag("logs"):
        for entry in c.logs:
            stream.put(entry)
    if req.flag("stream", True):

        def on_entry(entry: LogEntry | None) -> None:
            if entry is None:
                stream.close()
            elif (entry.stream == "stdout" and want_out) or (entry.stream == "stderr" and want_err):
                stream.put(entry)

        stop = d.listen(c.id, on_entry)
        stream.on_cancel(stop)
        if c.state.started_at is not None and not c.state.running:
            pass  # an exited container: the stream ends when it next exits (docker start -a)
    else:
        stream.close()
    d.container_event(c, "attach")
    session = AttachSession(d, c.id, stream) if req.flag("stdin") else None
    if session is None:
        d.feed_stdin(c.id, None) if False else None
    return ApiResponse(101, stream=stream, stream_kind="logs", tty=c.tty, hijack=session or True)


@instant
def resize(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    d.containers.get(id)
    return ApiResponse(200, raw=b"", content_type="text/plain; charset=utf-8")


def _filter_logs(entries: list[LogEntry], req: ApiRequest, d: Daemon) -> list[LogEntry]:
    out, err = req.flag("stdout"), req.flag("stderr")
    since = float(req.arg("since") or 0)
    until = float(req.arg("until") or 0)
    rows = [
        e
        for e in entries
        if ((e.stream == "stdout" and out) or (e.stream == "stderr" and err))
        and (since <= 0 or d.wall(e.time) >= since)
        and (until <= 0 or d.wall(e.time) <= until)
    ]
    tail = req.arg("tail") or "all"
    if tail != "all":
        try:
            n = int(tail)
        except ValueError:
            n = -1
        if n >= 0:
            rows = _tail_lines(rows, n)
    return rows


def _tail_lines(rows: list[LogEntry], n: int) -> list[LogEntry]:
    if n == 0:
        return []
    lines: list[LogEntry] = []
    for e in rows:
        for part in e.data.splitlines(keepends=True):
            lines.append(LogEntry(e.time, e.stream, part))
    return lines[-n:]


@instant
def logs(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    c = d.containers.get(id)
    if not req.flag("stdout") and not req.flag("stderr"):
        raise InvalidParameter("Bad parameters: you must choose at least one stream")
    stream = _TimestampedStream(d) if req.flag("timestamps") else Stream()
    for entry in _filter_logs(c.logs, req, d):
        stream.put(entry)
    if req.flag("follow") and c.state.running:
        want_out, want_err = req.flag("stdout"), req.flag("stderr")

        def on_entry(entry: LogEntry | None) -> None:
            if entry is None:
                stream.close()
            elif (entry.stream == "stdout" and want_out) or (entry.stream == "stderr" and want_err):
                stream.put(entry)

        stream.on_cancel(d.listen(c.id, on_entry))
    else:
        stream.close()
    return ApiResponse(200, stream=stream, stream_kind="logs", tty=c.tty)


class _TimestampedStream(Stream):
    """With ``timestamps=1`` each line's payload starts with its RFC3339Nano time, as dockerd sends it."""

    def __init__(self, d: Daemon) -> None:
        super().__init__()
        self.daemon = d

    def put(self, chunk: Any) -> None:
        from simulator.model.timefmt import format_timestamp_rfc3339nano

        stamp = format_timestamp_rfc3339nano(self.daemon.wall(chunk.time)).encode()
        lines = chunk.data.splitlines(keepends=True)
        super().put(LogEntry(chunk.time, chunk.stream, b"".join(stamp + b" " + line for line in lines)))


@instant
def top(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    c = d.containers.get(id)
    if not c.state.running:
        raise Conflict(f"Container {c.id} is not running")
    rows = d.rt.top(c.id)
    return ApiResponse(
        200,
        {
            "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
            "Processes": [[r.uid, str(r.pid), str(r.ppid), "0", "00:00", "?", "00:00:00", r.cmd] for r in rows],
        },
    )


@instant
def changes(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    kinds = {"C": 0, "A": 1, "D": 2}
    rows = [{"Kind": kinds[k], "Path": p} for k, p in d.container_changes(id)]
    return ApiResponse(200, rows or None)


@instant
def stats(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    c = d.containers.get(id)
    from simulator.model.timefmt import format_timestamp_rfc3339nano

    body: dict[str, Any] = {
        "read": format_timestamp_rfc3339nano(d.wall()),
        "preread": "0001-01-01T00:00:00Z",
        "name": f"/{c.name}",
        "id": c.id,
        "num_procs": 0,
        "pids_stats": {},
        "cpu_stats": {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": 2},
        "memory_stats": {},
        "blkio_stats": {},
        "networks": {},
    }
    if c.state.running:
        u = d.rt.stats(c.id)
        body["pids_stats"] = {"current": u.pids}
        body["cpu_stats"] = {
            "cpu_usage": {"total_usage": u.cpu_total_ns},
            "system_cpu_usage": u.system_cpu_ns,
            "online_cpus": u.online_cpus,
        }
        body["memory_stats"] = {"usage": u.memory_usage, "limit": u.memory_limit, "stats": {}}
        body["networks"] = {"eth0": {"rx_bytes": u.net_rx, "tx_bytes": u.net_tx}}
        body["blkio_stats"] = {
            "io_service_bytes_recursive": [
                {"major": 0, "minor": 0, "op": "read", "value": u.block_read},
                {"major": 0, "minor": 0, "op": "write", "value": u.block_write},
            ]
        }
    stream = Stream()
    stream.put(body)
    stream.close()
    return ApiResponse(200, stream=stream, stream_kind="json")


def prune(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    result = yield from d.prune_containers(ctx)
    return ApiResponse(200, result)


def exec_create(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> Proc:
    result = yield from d.create_exec(ctx, id, req.json())
    return ApiResponse(201, result)


class ExecSession:
    def __init__(self, d: Daemon, eid: str) -> None:
        self.daemon = d
        self.eid = eid

    def feed(self, data: bytes | None) -> None:
        self.daemon.feed_exec_stdin(self.eid, data)


def exec_start(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> Proc:
    body = req.json()
    rec = d.get_exec(id)
    out = yield from d.start_exec(ctx, id, bool(body.get("Detach")))
    if body.get("Detach"):
        return ApiResponse(200, raw=b"")
    return ApiResponse(101, stream=out, stream_kind="logs", tty=rec.tty, hijack=ExecSession(d, id))


@instant
def exec_inspect(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    return ApiResponse(200, d.get_exec(id).to_api())


@instant
def exec_resize(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    d.get_exec(id)
    return ApiResponse(200, raw=b"", content_type="text/plain; charset=utf-8")


_ID = r"(?P<id>[^/]+)"
ROUTES: list[tuple[str, str, Callable[..., Proc]]] = [
    ("POST", r"/containers/create", create),
    ("GET", r"/containers/json", list_),
    ("POST", r"/containers/prune", prune),
    ("GET", rf"/containers/{_ID}/json", inspect),
    ("DELETE", rf"/containers/{_ID}", remove),
    ("POST", rf"/containers/{_ID}/wait", wait),
    ("POST", rf"/containers/{_ID}/attach", attach),
    ("POST", rf"/containers/{_ID}/resize", resize),
    ("GET", rf"/containers/{_ID}/logs", logs),
    ("GET", rf"/containers/{_ID}/top", top),
    ("GET", rf"/containers/{_ID}/changes", changes),
    ("GET", rf"/containers/{_ID}/stats", stats),
    ("POST", rf"/containers/{_ID}/exec", exec_create),
    ("POST", rf"/exec/{_ID}/start", exec_start),
    ("POST", rf"/exec/{_ID}/resize", exec_resize),
    ("GET", rf"/exec/{_ID}/json", exec_inspect),
] + [
    ("POST", rf"/containers/{_ID}/{op}", _simple(op))
    for op in ("start", "stop", "kill", "restart", "pause", "unpause", "rename")
]
