"""``POST /images/{name}/push?tag=``: the push's JSON message stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.messages import ApiRequest, ApiResponse
from simulator.daemon.core import Proc
from simulator.daemon.daemon import Daemon
from simulator.daemon.push import push_reference
from simulator.daemon.streams import Stream
from simulator.model.errors import DockerError
from simulator.trace.tracer import SpanContext


def push(d: Daemon, req: ApiRequest, ctx: SpanContext, name: str = "", **_: Any) -> Proc:
    """Answer at once with a stream the push fills; a failure ends it with ``errorDetail``."""
    ref = push_reference(name, req.arg("tag"))
    stream = Stream()

    def run() -> Proc:
        try:
            yield from d.push_image(ctx, ref, stream.put)
        except DockerError as err:
            stream.put({"errorDetail": {"message": err.message}, "error": err.message})
        stream.close()

    d.env.process(run())
    return ApiResponse(200, stream=stream, stream_kind="json")
    yield  # pragma: no cover - a route is a SimPy process


ROUTES: list[tuple[str, str, Callable[..., Proc]]] = [
    ("POST", r"/images/(?P<name>.+)/push", push),
]
