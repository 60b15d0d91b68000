"""``/_ping``, ``/version``, ``/info``, ``/events``, ``/system/df``, networks and volumes."""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

import simulator
from simulator.api.messages import API_VERSION, MIN_API_VERSION, ApiRequest, ApiResponse
from simulator.daemon.core import Proc
from simulator.daemon.daemon import Daemon
from simulator.daemon.streams import Stream
from simulator.model.errors import InvalidParameter
from simulator.trace.tracer import SpanContext


def instant(fn: Callable[..., ApiResponse]) -> Callable[..., Proc]:
    """Turn a plain handler into a SimPy process that takes no world time."""

    def proc(*args: Any, **kwargs: Any) -> Proc:
        return fn(*args, **kwargs)
        yield  # pragma: no cover - makes this a generator

    proc.__name__ = fn.__name__
    return proc


def parse_filters(req: ApiRequest) -> dict[str, list[str]]:
    """Docker's ``filters`` JSON, map form ``{"k":{"v":true}}`` or list form ``{"k":["v"]}``."""
    import json

    raw = req.arg("filters")
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidParameter("invalid filter: invalid character in filters JSON") from None
    out: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise InvalidParameter("invalid filter")
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = [k for k, v in value.items() if v]
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            raise InvalidParameter(f"invalid filter '{key}'")
    return out


@instant
def ping(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> ApiResponse:
    return ApiResponse(
        200,
        raw=b"OK" if req.method == "GET" else b"",
        content_type="text/plain; charset=utf-8",
        headers={
            "Api-Version": API_VERSION,
            "Ostype": "linux",
            "Docker-Experimental": "false",
            "Swarm": "inactive",
            "Cache-Control": "no-cache, no-store, must-revalidate",
            "Pragma": "no-cache",
            "Builder-Version": "1",
        },
    )


def _backend(d: Daemon) -> str:
    return getattr(d.runtime, "name", "sim")


@instant
def version(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> ApiResponse:
    kernel = platform.release()
    return ApiResponse(
        200,
        {
            "Platform": {"Name": f"csim Engine ({_backend(d)} backend)"},
            "Components": [
                {
                    "Name": "Engine",
                    "Version": simulator.__version__,
                    "Details": {
                        "ApiVersion": API_VERSION,
                        "Arch": "amd64",
                        "BuildTime": "2026-11-23T00:00:00.000000000+00:00",
                        "Experimental": "false",
                        "GitCommit": "csim",
                        "GoVersion": f"python{platform.python_version()}",
                        "KernelVersion": kernel,
                        "MinAPIVersion": MIN_API_VERSION,
                        "Os": "linux",
                    },
                },
                {"Name": "containerd", "Version": f"csim {simulator.__version__}", "Details": {"GitCommit": "csim"}},
                {
                    "Name": "runc" if _backend(d) == "sim" else _backend(d),
                    "Version": f"{simulator.__version__} ({'simulated' if _backend(d) == 'sim' else 'real'})",
                    "Details": {"GitCommit": "csim"},
                },
            ],
            "Version": simulator.__version__,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": "csim",
            "GoVersion": f"python{platform.python_version()}",
            "Os": "linux",
            "Arch": "amd64",
            "KernelVersion": kernel,
            "BuildTime": "2026-11-23T00:00:00.000000000+00:00",
        },
    )


def _rfc3339nano(ts: float) -> str:
    from simulator.model.timefmt import format_timestamp_rfc3339nano

    return format_timestamp_rfc3339nano(ts)


@instant
def info(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> ApiResponse:
    containers = list(d.containers)
    return ApiResponse(
        200,
        {
            "ID": "CSIM:" + d.networks["bridge"].id[:8].upper(),
            "Containers": len(containers),
            "ContainersRunning": sum(1 for c in containers if c.state.running and not c.state.paused),
            "ContainersPaused": sum(1 for c in containers if c.state.paused),
            "ContainersStopped": sum(1 for c in containers if not c.state.running),
            "Images": len(d.images.images),
            "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "csim"]],
            "Plugins": {
                "Volume": ["local"],
                "Network": ["bridge", "host", "null"],
                "Log": ["json-file"],
            },
            "MemoryLimit": True,
            "SwapLimit": True,
            "CpuCfsPeriod": True,
            "CpuCfsQuota": True,
            "PidsLimit": True,
            "IPv4Forwarding": True,
            "Debug": False,
            "NFd": 0,
            "NGoroutines": 0,
            "SystemTime": _rfc3339nano(d.wall()),  # a string: the docker CLI refuses a number
            "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": "1",
            "NEventsListener": 0,
            "KernelVersion": platform.release(),
            "OperatingSystem": f"csim ({_backend(d)} backend)",
            "OSVersion": "",
            "OSType": "linux",
            "Architecture": "x86_64",
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {
                "IndexConfigs": {},
                "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                "Mirrors": [],
            },
            "NCPU": 2,
            "MemTotal": 2 * 1024**3,
            "DockerRootDir": "/var/lib/docker",
            "Name": "csim",
            "Labels": [],
            "ExperimentalBuild": False,
            "ServerVersion": simulator.__version__,
            "Runtimes": {name: {"path": name} for name in d.runtime_names()[0]},
            "DefaultRuntime": d.runtime_names()[1],
            "Swarm": {
                "LocalNodeState": "inactive",
                "NodeID": "",
                "NodeAddr": "",
                "ControlAvailable": False,
                "Error": "",
                "RemoteManagers": None,
            },
            "LiveRestoreEnabled": False,
            "Isolation": "",
            "InitBinary": "docker-init",
            "SecurityOptions": ["name=seccomp,profile=default"],
            "Warnings": None,
        },
    )


def events(d: Daemon, req: ApiRequest, ctx: SpanContext, version: str = API_VERSION, **_: Any) -> Proc:
    filters = parse_filters(req)
    since_raw, until_raw = req.arg("since"), req.arg("until")
    since_ns = _ts_ns(since_raw) if since_raw else None
    until_ns = _ts_ns(until_raw) if until_raw else None
    stream = Stream()
    for ev in d.events.replay(since_ns, until_ns, filters or None):
        stream.put(ev.to_api_json(version))
    if until_ns is not None and until_ns <= d.time_ns():
        stream.close()
    else:

        def on_event(ev: Any) -> None:
            if until_ns is not None and ev.time_ns > until_ns:
                return
            stream.put(ev.to_api_json(version))

        unsubscribe = d.events.subscribe(on_event, filters or None)
        stream.on_cancel(unsubscribe)
        if until_ns is not None:

            def closer() -> Proc:
                yield d.env.timeout(max(0.0, (until_ns - d.time_ns()) / 1e9))
                unsubscribe()
                stream.close()

            d.env.process(closer())
    return ApiResponse(200, stream=stream, stream_kind="json")
    yield  # pragma: no cover


def _ts_ns(raw: str) -> int:
    secs, _, frac = raw.partition(".")
    try:
        return int(secs) * 1_000_000_000 + (int(frac.ljust(9, "0")[:9]) if frac else 0)
    except ValueError:
        raise InvalidParameter(f"failed to parse value {raw} as a timestamp") from None


@instant
def system_df(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> ApiResponse:
    images = []
    layer_sizes: dict[str, int] = {}
    for image in d.images.images.values():
        summary = d.image_summary(image)
        summary["Containers"] = sum(1 for c in d.containers if c.image_id == image.id)
        shared = 0
        for layer in image.layers:
            layer_sizes[layer.diff_id] = layer.unpacked_size
            users = sum(1 for other in d.images.images.values() if layer.diff_id in other.diff_ids)
            if users > 1:
                shared += layer.unpacked_size
        summary["SharedSize"] = shared
        images.append(summary)
    containers = []
    for c in d.containers.all():
        containers.append(d.with_sizes(c, d.container_summary(c)))
    volumes = []
    for vol in d.volumes.values():
        item = d.volume_json(vol)
        item["UsageData"] = {"Size": 0, "RefCount": len(d.volume_users(vol.name))}
        volumes.append(item)
    return ApiResponse(
        200,
        {
            "LayersSize": sum(layer_sizes.values()),
            "Images": images,
            "Containers": containers,
            "Volumes": volumes,
            "BuildCache": [],
        },
    )


# -- networks -----------------------------------------------------------------------
@instant
def network_list(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> ApiResponse:
    filters = parse_filters(req)
    nets = sorted(d.networks.values(), key=lambda n: n.name)
    out = []
    for n in nets:
        if filters.get("name") and not any(f in n.name for f in filters["name"]):
            continue
        if filters.get("driver") and n.driver not in filters["driver"]:
            continue
        if filters.get("id") and not any(n.id.startswith(f) for f in filters["id"]):
            continue
        if filters.get("type"):
            kind = "builtin" if not n.user_defined else "custom"
            if kind not in filters["type"]:
                continue
        out.append(d.network_json(n, verbose=False))
    return ApiResponse(200, out)


@instant
def network_inspect(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> ApiResponse:
    return ApiResponse(200, d.network_json(d.find_network(id)))


def _go_types(body: dict[str, Any], struct: str, strings: tuple[str, ...]) -> dict[str, Any]:
    """Refuse non-string values where Go's decoder would (``{"Name": ["x"]}`` must not create ``['x']``)."""
    kinds = {list: "array", dict: "object", bool: "bool", int: "number", float: "number"}
    for key in strings:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            kind = kinds.get(type(value), "value")
            raise InvalidParameter(f"json: cannot unmarshal {kind} into Go struct field {struct}.{key} of type string")
    return body


def network_create(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    result = yield from d.create_network(ctx, _go_types(req.json(), "CreateRequest", ("Name", "Driver", "Scope")))
    return ApiResponse(201, result)


def network_remove(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> Proc:
    yield from d.remove_network(ctx, id)
    return ApiResponse(204)


def network_connect(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> Proc:
    yield from d.connect_network(ctx, id, req.json())
    return ApiResponse(200, raw=b"")


def network_disconnect(d: Daemon, req: ApiRequest, ctx: SpanContext, id: str = "", **_: Any) -> Proc:
    yield from d.disconnect_network(ctx, id, req.json())
    return ApiResponse(200, raw=b"")


def network_prune(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    result = yield from d.prune_networks(ctx)
    return ApiResponse(200, result)


# -- volumes ------------------------------------------------------------------------
@instant
def volume_list(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> ApiResponse:
    filters = parse_filters(req)
    vols = []
    for v in sorted(d.volumes.values(), key=lambda v: v.name):
        if filters.get("dangling"):
            want = filters["dangling"][0] in ("true", "1")
            if bool(d.volume_users(v.name)) == want:
                continue
        if filters.get("name") and not any(f in v.name for f in filters["name"]):
            continue
        vols.append(d.volume_json(v))
    return ApiResponse(200, {"Volumes": vols, "Warnings": None})


def volume_create(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    result = yield from d.create_volume(ctx, _go_types(req.json(), "CreateOptions", ("Name", "Driver")))
    return ApiResponse(201, result)


@instant
def volume_inspect(d: Daemon, req: ApiRequest, ctx: SpanContext, name: str = "", **_: Any) -> ApiResponse:
    return ApiResponse(200, d.volume_json(d.get_volume(name)))


def volume_remove(d: Daemon, req: ApiRequest, ctx: SpanContext, name: str = "", **_: Any) -> Proc:
    yield from d.remove_volume(ctx, name, req.flag("force"))
    return ApiResponse(204)


def volume_prune(d: Daemon, req: ApiRequest, ctx: SpanContext, **_: Any) -> Proc:
    filters = parse_filters(req)
    all_volumes = "true" in filters.get("all", []) or "1" in filters.get("all", [])
    result = yield from d.prune_volumes(ctx, all_volumes)
    return ApiResponse(200, result)


ROUTES: list[tuple[str, str, Callable[..., Proc]]] = [
    ("GET", r"/_ping", ping),
    ("GET", r"/version", version),
    ("GET", r"/info", info),
    ("GET", r"/events", events),
    ("GET", r"/system/df", system_df),
    ("GET", r"/networks", network_list),
    ("POST", r"/networks/create", network_create),
    ("POST", r"/networks/prune", network_prune),
    ("GET", r"/networks/(?P<id>[^/]+)", network_inspect),
    ("DELETE", r"/networks/(?P<id>[^/]+)", network_remove),
    ("POST", r"/networks/(?P<id>[^/]+)/connect", network_connect),
    ("POST", r"/networks/(?P<id>[^/]+)/disconnect", network_disconnect),
    ("GET", r"/volumes", volume_list),
    ("POST", r"/volumes/create", volume_create),
    ("POST", r"/volumes/prune", volume_prune),
    ("GET", r"/volumes/(?P<name>[^/]+)", volume_inspect),
    ("DELETE", r"/volumes/(?P<name>[^/]+)", volume_remove),
]
