"""``POST /build``: the legacy (classic) builder endpoint, streaming JSON messages.

The docker CLI without the buildx plugin, and ``DOCKER_BUILDKIT=0``, send
the build context as a tar body and read back ``{"stream": ...}`` lines
(``Step 1/3 : FROM busybox``), ``{"aux": {"ID": ...}}`` once per stage and,
on failure, ``{"errorDetail": {...}, "error": ...}``; a bad Dockerfile or
target is a plain 400 before anything streams (see the reference, §6).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from simulator.api.messages import ApiRequest, ApiResponse
from simulator.daemon.build.builder import Builder, BuildOptions, BuildStepError
from simulator.daemon.core import Proc
from simulator.daemon.daemon import Daemon
from simulator.daemon.streams import Stream
from simulator.model.errors import DockerError, InvalidParameter
from simulator.trace.tracer import SpanContext


def _json_map(req: ApiRequest, key: str) -> dict[str, str]:
    raw = req.arg(key)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidParameter(f"invalid JSON in {key}: {raw}") from None
    if not isinstance(data, dict):
        raise InvalidParameter(f"invalid JSON in {key}: {raw}")
    return {str(k): str(v) for k, v in data.items() if v is not None}


def build_options(req: ApiRequest) -> BuildOptions:
    """The ``POST /build`` query as :class:`BuildOptions` (Docker's defaults)."""
    return BuildOptions(
        tags=tuple(t for t in req.args("t") if t),
        dockerfile=req.arg("dockerfile") or "Dockerfile",
        build_args=_json_map(req, "buildargs"),
        no_cache=req.flag("nocache"),
        target=req.arg("target"),
        labels=_json_map(req, "labels"),
        quiet=req.flag("q"),
        rm=req.flag("rm", True),
        force_rm=req.flag("forcerm"),
        pull=req.flag("pull"),
    )


def error_message(err: DockerError) -> dict[str, Any]:
    """The ``errorDetail`` message that ends a failed build stream."""
    detail: dict[str, Any] = {"message": err.message}
    if isinstance(err, BuildStepError):
        detail = {"code": err.code, "message": err.message}
    return {"errorDetail": detail, "error": err.message}


def build(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    stream = Stream()
    builder = Builder(d, build_options(req), stream.put)
    builder.prepare(req.body)

    def run() -> Proc:
        try:
            yield from builder.run(ctx)
        except DockerError as err:
            stream.put(error_message(err))
        stream.close()

    d.env.process(run())
    yield d.env.timeout(0)
    return ApiResponse(200, stream=stream, stream_kind="json")


ROUTES: list[tuple[str, str, Callable[..., Proc]]] = [
    ("POST", r"/build", build),
]
