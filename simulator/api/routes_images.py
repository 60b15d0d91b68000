"""Image routes: pull (``/images/create``), list, inspect, history, tag, delete, prune."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.messages import ApiRequest, ApiResponse
from simulator.api.routes_system import instant, parse_filters
from simulator.daemon.core import Proc
from simulator.daemon.daemon import Daemon
from simulator.daemon.pull import pull_reference
from simulator.daemon.streams import Stream
from simulator.model.errors import DockerError, InvalidParameter
from simulator.trace.tracer import SpanContext


def pull(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    ref = pull_reference(req.arg("fromImage"), req.arg("tag"))
    stream = Stream()

    def run() -> Proc:
        try:
            yield from d.pull_image(ctx, ref, stream.put)
        except DockerError as err:
            stream.put({"errorDetail": {"message": err.message}, "error": err.message})
        stream.close()

    # Errors before any output are plain HTTP errors: resolve the manifest first. Then the
    # headers go out at once and progress streams while the layers arrive, as dockerd does.
    if d.registry is not None and hasattr(d.registry, "check"):
        yield from d.registry.check(ref, ctx)
    d.env.process(run())
    return ApiResponse(200, stream=stream, stream_kind="json")


IMAGE_FILTERS = frozenset({"before", "dangling", "label", "reference", "since", "until"})


@instant
def list_(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> ApiResponse:
    from simulator.model.reference import familiar_match, normalize

    filters = parse_filters(req)
    for key in filters:
        if key not in IMAGE_FILTERS:
            raise InvalidParameter(f"invalid filter '{key}'")
    rows = []
    # Intermediate images of a build (untagged, with children) show only with ``-a``.
    parents = {str(i.config.get("parent")) for i in d.images.images.values() if i.config.get("parent")}
    for image in d.images.all():
        tags = d.images.repo_tags(image.id)
        if not tags and image.id in parents and not req.flag("all"):
            continue
        if filters.get("dangling"):
            want = filters["dangling"][0] in ("true", "1")
            if bool(tags) == want:
                continue
        summary = d.image_summary(image)
        if filters.get("reference"):
            # As dockerd: only the tags that match are listed, and an image with none is left out.
            tags = [t for t in tags if any(familiar_match(p, normalize(t)) for p in filters["reference"])]
            if not tags:
                continue
            summary["RepoTags"] = tags
        rows.append(summary)
    return ApiResponse(200, rows)


@instant
def inspect(d: Daemon, req: ApiRequest, ctx: SpanContext, name: str = "", **_: Any) -> ApiResponse:
    return ApiResponse(200, d.image_inspect(name))


@instant
def history(d: Daemon, req: ApiRequest, ctx: SpanContext, name: str = "", **_: Any) -> ApiResponse:
    return ApiResponse(200, d.image_history(name))


def tag(d: Daemon, req: ApiRequest, ctx: SpanContext, name: str = "", **_: Any) -> Proc:
    yield from d.tag_image(ctx, name, req.arg("repo"), req.arg("tag"))
    return ApiResponse(201, raw=b"")


def remove(d: Daemon, req: ApiRequest, ctx: SpanContext, name: str = "", **_: Any) -> Proc:
    result = yield from d.remove_image(ctx, name, req.flag("force"))
    return ApiResponse(200, result)


def prune(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    filters = parse_filters(req)
    dangling = filters.get("dangling", ["true"])[0]
    result = yield from d.prune_images(ctx, all_unused=dangling in ("false", "0"))
    return ApiResponse(200, result)


ROUTES: list[tuple[str, str, Callable[..., Proc]]] = [
    ("POST", r"/images/create", pull),
    ("GET", r"/images/json", list_),
    ("POST", r"/images/prune", prune),
    ("GET", r"/images/(?P<name>.+)/json", inspect),
    ("GET", r"/images/(?P<name>.+)/history", history),
    ("POST", r"/images/(?P<name>.+)/tag", tag),
    ("DELETE", r"/images/(?P<name>.+)", remove),
]


def load(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    """``POST /images/load``: a docker-archive or OCI-archive tarball in the body."""
    from simulator.daemon.archive import load_archive

    try:
        images = load_archive(req.body)
    except DockerError:
        raise
    except Exception as err:  # a truncated or foreign tarball
        from simulator.model.errors import InvalidParameter

        raise InvalidParameter(f"failed to load image: {err}") from None
    lines = yield from d.load_images(ctx, images)
    stream = Stream()
    for line in lines:
        stream.put({"stream": line + "\n"})
    stream.close()
    return ApiResponse(200, stream=stream, stream_kind="json")


@instant
def save(d: Daemon, req: ApiRequest, ctx: SpanContext, name: str = "", **_: Any) -> ApiResponse:
    """``GET /images/get?names=...`` (and ``/images/{name}/get``): a docker-archive tarball."""
    from simulator.daemon.archive import save_archive_bytes

    names = [name] if name else req.args("names")
    if not names:
        from simulator.model.errors import InvalidParameter

        raise InvalidParameter("no images specified")
    return ApiResponse(200, raw=save_archive_bytes(d.archive_images(names)), content_type="application/x-tar")


ROUTES += [
    ("POST", r"/images/load", load),
    ("GET", r"/images/get", save),
    ("GET", r"/images/(?P<name>.+)/get", save),
]
