"""A small recording stand-in for the simulated world, for TUI tests and the benchmark.

It answers the few commands the TUI's tests type (``run``, ``create``,
``start``, ``stop``, ``pause``, ``unpause``, ``rm``, ``pull``, ``ps``,
``images``) with spans shaped like the real ones — ``cli`` → ``api``
(``POST /containers/create``, attrs method/path/status) → ``dockerd``
(``ContainerCreate``) → ``containerd`` → ``shim`` → ``runc`` → ``kernel``
(``clone(CLONE_NEWPID|...)``), ``registry`` layer pulls with ``bytes`` — and
Docker events, and serves the Engine API JSON the state panels read. Like
youki's recording syscall double, it is deterministic: ids come from a
counter, time from a fixed step. It is not a Docker: the real world is.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.trace.bus import TraceBus
from simulator.trace.events import DockerEvent, EventLog
from simulator.trace.span import Span
from simulator.trace.tracer import SpanContext, Tracer
from simulator.tui.backend import ApiReply, CommandResult

__all__ = ["FakeBackend"]

_EPOCH_NS = 1_767_225_600 * 1_000_000_000

# image -> layer (name, size); layer names shared between images share a diff id.
_CATALOG: dict[str, tuple[tuple[str, int], ...]] = {
    "nginx:latest": (
        ("debian-bookworm", 29_150_000),
        ("nginx-bin", 41_000_000),
        ("nginx-conf", 4_000),
        ("entrypoint", 1_200),
        ("docker-entrypoint.d", 2_400),
    ),
    "busybox:latest": (("busybox", 2_160_000),),
    "python:3.12-slim": (
        ("debian-bookworm", 29_150_000),
        ("python-runtime", 3_500_000),
        ("python-3.12", 44_000_000),
        ("pip", 12_000_000),
    ),
    "postgres:latest": (("debian-bookworm", 29_150_000), ("postgres-bin", 91_000_000)),
}


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _normalise(ref: str) -> str:
    return ref if ":" in ref.rsplit("/", 1)[-1] else ref + ":latest"


@dataclass
class _Container:
    id: str
    name: str
    image: str
    state: str = "created"
    exit_code: int = 0


@dataclass
class FakeBackend:
    """A deterministic pretend Docker host that emits realistic spans and events."""

    mode: str = "simulated"
    bus: TraceBus = field(default_factory=TraceBus)
    events: EventLog = field(default_factory=EventLog)
    now: float = 0.0
    containers: dict[str, _Container] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # ref -> image id
    api_calls: list[tuple[str, str]] = field(default_factory=list)
    _counter: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.tracer = Tracer(lambda: self.now, self.bus)

    # ------------------------------------------------------------ protocol

    def subscribe_spans(self, callback: Callable[[Span], None]) -> Callable[[], None]:
        return self.bus.subscribe(callback)

    def subscribe_events(self, callback: Callable[[DockerEvent], None]) -> Callable[[], None]:
        return self.events.subscribe(callback)

    def clock(self) -> float:
        return self.now

    def close(self) -> None:
        return None

    def api(self, method: str, path: str, query: dict[str, str] | None = None) -> ApiReply:
        self.api_calls.append((method, path))
        with self._lock:
            if path == "/containers/json":
                return ApiReply(200, [self._container_json(c) for c in reversed(self.containers.values())])
            if path == "/images/json":
                return ApiReply(200, [self._image_json(ref) for ref in sorted(self.images)])
            if path == "/networks":
                return ApiReply(200, [{"Name": n} for n in ("bridge", "host", "none")])
            if path == "/volumes":
                return ApiReply(200, {"Volumes": [], "Warnings": None})
            if path.startswith("/images/") and path.endswith(("/json", "/history")):
                image_id = path.split("/")[2]
                ref = next((r for r, i in self.images.items() if i == image_id), None)
                if ref is None:
                    return ApiReply(404, {"message": f"No such image: {image_id}"})
                layers = _CATALOG[ref]
                if path.endswith("/history"):
                    return ApiReply(
                        200,
                        [
                            {"Id": "<missing>", "Size": size, "CreatedBy": f"ADD {name}"}
                            for name, size in reversed(layers)
                        ],
                    )
                return ApiReply(
                    200, {"Id": image_id, "RootFS": {"Type": "layers", "Layers": [_digest(name) for name, _ in layers]}}
                )
        return ApiReply(404, {"message": "page not found"})

    def _container_json(self, c: _Container) -> dict[str, Any]:
        status = {
            "running": "Up 1 second",
            "paused": "Up 1 second (Paused)",
            "created": "Created",
            "exited": f"Exited ({c.exit_code}) 1 second ago",
        }[c.state]
        return {"Id": c.id, "Names": ["/" + c.name], "Image": c.image, "State": c.state, "Status": status, "Ports": []}

    def _image_json(self, ref: str) -> dict[str, Any]:
        size = sum(s for _, s in _CATALOG[ref])
        return {"Id": self.images[ref], "RepoTags": [ref], "Size": size}

    # ------------------------------------------------------------ commands

    def run_cli(self, argv: list[str]) -> CommandResult:
        with self._lock:
            return self._run(list(argv))

    def _tick(self, seconds: float) -> None:
        self.now = round(self.now + seconds, 6)

    def _event(self, type_: str, action: str, actor: str, **attrs: str) -> None:
        self.events.log(type_, action, actor, attrs, time_ns=_EPOCH_NS + int(self.now * 1e9))

    def _call(self, root: SpanContext, method: str, path: str, op: str, status: int) -> SpanContext:
        self._tick(0.002)
        return self.tracer.start("api", f"{method} {path}", root, method=method, path=path, status=status)

    def _end(self, *contexts: SpanContext) -> None:
        for ctx in contexts:
            self._tick(0.001)
            self.tracer.end(ctx)

    def _run(self, argv: list[str]) -> CommandResult:
        if not argv:
            return CommandResult(0, "Usage:  docker [OPTIONS] COMMAND\n", "")
        command, args = argv[0], argv[1:]
        handler = getattr(self, f"_cmd_{command}", None)
        if handler is None:
            return CommandResult(1, "", f"docker: '{command}' is not a docker command.\nSee 'docker --help'\n")
        root = self.tracer.start("cli", "docker " + " ".join(argv), None, argv=argv)
        try:
            result: CommandResult = handler(root, args)
        finally:
            self._end(root)
        return result

    def _find(self, name: str) -> _Container | None:
        for c in self.containers.values():
            if name in (c.name, c.id) or (len(name) >= 4 and c.id.startswith(name)):
                return c
        return None

    def _no_such(self, root: SpanContext, method: str, path: str, name: str) -> CommandResult:
        api = self._call(root, method, path, "", 404)
        self._end(api)
        return CommandResult(1, "", f"Error response from daemon: No such container: {name}\n")

    def _pull(self, root: SpanContext, ref: str, out: list[str]) -> None:
        api = self._call(root, "POST", "/images/create", "", 200)
        pull = self.tracer.start("dockerd", f"ImagePull {ref}", api, image=ref)
        layers = _CATALOG[ref]
        for i, (name, size) in enumerate(layers, 1):
            if any(name in {n for n, _ in _CATALOG[r]} for r in self.images):
                continue
            layer = self.tracer.start(
                "registry", f"Pull layer {i}/{len(layers)}", pull, bytes=size, digest=_digest(name)
            )
            self._tick(size / 50_000_000)
            self.tracer.end(layer)
        self._end(pull, api)
        self.images[ref] = _digest("image:" + ref)
        self._event("image", "pull", ref, name=ref)
        out.append(f"{ref.split(':')[1]}: Pulling from library/{ref.split(':', maxsplit=1)[0]}")
        out.append(f"Status: Downloaded newer image for {ref}")

    def _create(self, root: SpanContext, args: list[str], err: list[str]) -> _Container | None:
        name = ""
        rest = [a for a in args if a not in ("-d", "--detach", "--rm", "-it", "-i", "-t")]
        if "--name" in rest:
            i = rest.index("--name")
            name = rest[i + 1] if i + 1 < len(rest) else ""
            del rest[i : i + 2]
        if not rest:
            err.append('"docker run" requires at least 1 argument.')
            return None
        ref = _normalise(rest[0])
        if ref not in _CATALOG:
            api = self._call(root, "POST", "/images/create", "", 404)
            self._end(api)
            err.append(
                f"Error response from daemon: pull access denied for {rest[0]}, "
                "repository does not exist or may require 'docker login'"
            )
            return None
        if ref not in self.images:
            err.append(f"Unable to find image '{ref}' locally")
            self._pull(root, ref, err)
        if name and self._find(name):
            api = self._call(root, "POST", "/containers/create", "", 409)
            self._end(api)
            err.append(f'Error response from daemon: Conflict. The container name "/{name}" is already in use')
            return None
        self._counter += 1
        cid = hashlib.sha256(f"container-{self._counter}".encode()).hexdigest()
        name = name or f"fake_{self._counter}"
        api = self._call(root, "POST", "/containers/create", "", 201)
        op = self.tracer.start("dockerd", "ContainerCreate", api, container=name)
        ctd = self.tracer.start("containerd", "create container", op)
        self._tick(0.01)
        self._end(ctd)
        container = _Container(cid, name, rest[0])
        self.containers[cid] = container
        self._event("container", "create", cid, name=name, image=rest[0])
        self._end(op, api)
        return container

    def _start(self, root: SpanContext, c: _Container) -> None:
        api = self._call(root, "POST", f"/containers/{c.id[:12]}/start", "", 204)
        op = self.tracer.start("dockerd", "ContainerStart", api, container=c.name)
        ctd = self.tracer.start("containerd", "start task", op)
        shim = self.tracer.start("shim", "start shim", ctd)
        runc = self.tracer.start("runc", "runc create", shim)
        self._tick(0.003)
        kernel = self.tracer.start(
            "kernel", "clone(CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWIPC)", runc
        )
        self._tick(0.004)
        self._end(kernel, runc, shim)
        c.state = "running"
        self._event("container", "start", c.id, name=c.name, image=c.image)
        self._end(ctd, op, api)

    def _cmd_run(self, root: SpanContext, args: list[str]) -> CommandResult:
        err: list[str] = []
        c = self._create(root, args, err)
        if c is None:
            return CommandResult(125, "", "\n".join(err) + "\n")
        self._start(root, c)
        return CommandResult(0, c.id + "\n", "".join(line + "\n" for line in err))

    def _cmd_create(self, root: SpanContext, args: list[str]) -> CommandResult:
        err: list[str] = []
        c = self._create(root, args, err)
        if c is None:
            return CommandResult(125, "", "\n".join(err) + "\n")
        return CommandResult(0, c.id + "\n", "".join(line + "\n" for line in err))

    def _simple(
        self, root: SpanContext, args: list[str], verb: str, op: str, change: Callable[[_Container], str | None]
    ) -> CommandResult:
        out, err = [], []
        for name in [a for a in args if not a.startswith("-")]:
            c = self._find(name)
            if c is None:
                err.append(self._no_such(root, "POST", f"/containers/{name}/{verb}", name).stderr)
                continue
            api = self._call(root, "POST", f"/containers/{c.id[:12]}/{verb}", "", 204)
            span = self.tracer.start("dockerd", op, api, container=c.name)
            ctd = self.tracer.start("containerd", f"{verb} task", span)
            self._tick(0.005)
            self._end(ctd)
            action = change(c)
            if action:
                self._event("container", action, c.id, name=c.name, image=c.image)
            self._end(span, api)
            out.append(name)
        code = 1 if err else 0
        return CommandResult(code, "".join(n + "\n" for n in out), "".join(err))

    def _cmd_start(self, root: SpanContext, args: list[str]) -> CommandResult:
        out, err = [], []
        for name in args:
            c = self._find(name)
            if c is None:
                err.append(self._no_such(root, "POST", f"/containers/{name}/start", name).stderr)
                continue
            self._start(root, c)
            out.append(name)
        return CommandResult(1 if err else 0, "".join(n + "\n" for n in out), "".join(err))

    def _cmd_stop(self, root: SpanContext, args: list[str]) -> CommandResult:
        def stop(c: _Container) -> str | None:
            c.state, c.exit_code = "exited", 0
            return "die"

        return self._simple(root, args, "stop", "ContainerStop", stop)

    def _cmd_pause(self, root: SpanContext, args: list[str]) -> CommandResult:
        def pause(c: _Container) -> str | None:
            c.state = "paused"
            return "pause"

        return self._simple(root, args, "pause", "ContainerPause", pause)

    def _cmd_unpause(self, root: SpanContext, args: list[str]) -> CommandResult:
        def unpause(c: _Container) -> str | None:
            c.state = "running"
            return "unpause"

        return self._simple(root, args, "unpause", "ContainerUnpause", unpause)

    def _cmd_rm(self, root: SpanContext, args: list[str]) -> CommandResult:
        force = "-f" in args or "--force" in args
        out, err = [], []
        for name in [a for a in args if not a.startswith("-")]:
            c = self._find(name)
            if c is None:
                err.append(self._no_such(root, "DELETE", f"/containers/{name}", name).stderr)
                continue
            if c.state in ("running", "paused") and not force:
                api = self._call(root, "DELETE", f"/containers/{c.id[:12]}", "", 409)
                self._end(api)
                err.append(
                    f'Error response from daemon: cannot remove container "/{c.name}": '
                    "container is running: stop the container before removing or force "
                    "remove\n"
                )
                continue
            api = self._call(root, "DELETE", f"/containers/{c.id[:12]}", "", 204)
            op = self.tracer.start("dockerd", "ContainerRemove", api, container=c.name)
            if c.state in ("running", "paused"):
                self._event("container", "kill", c.id, name=c.name, image=c.image)
                self._event("container", "die", c.id, name=c.name, image=c.image, exitCode="137")
            self._tick(0.004)
            self._end(op)
            del self.containers[c.id]
            self._event("container", "destroy", c.id, name=c.name, image=c.image)
            self._end(api)
            out.append(name)
        return CommandResult(1 if err else 0, "".join(n + "\n" for n in out), "".join(err))

    def _cmd_pull(self, root: SpanContext, args: list[str]) -> CommandResult:
        if not args:
            return CommandResult(1, "", '"docker pull" requires exactly 1 argument.\n')
        ref = _normalise(args[0])
        if ref not in _CATALOG:
            return CommandResult(
                1,
                "",
                f"Error response from daemon: pull access denied for "
                f"{args[0]}, repository does not exist or may require "
                "'docker login'\n",
            )
        out: list[str] = []
        self._pull(root, ref, out)
        return CommandResult(0, "".join(line + "\n" for line in out) + f"docker.io/library/{ref}\n", "")

    def _cmd_ps(self, root: SpanContext, args: list[str]) -> CommandResult:
        api = self._call(root, "GET", "/containers/json", "", 200)
        self._end(api)
        show_all = "-a" in args or "--all" in args
        rows = [f"{'CONTAINER ID':<15}{'IMAGE':<10}{'STATUS':<12}NAMES"]
        for c in reversed(self.containers.values()):
            if show_all or c.state in ("running", "paused"):
                rows.append(f"{c.id[:12]:<15}{c.image:<10}{c.state:<12}{c.name}")
        return CommandResult(0, "\n".join(rows) + "\n", "")

    def _cmd_images(self, root: SpanContext, args: list[str]) -> CommandResult:
        api = self._call(root, "GET", "/images/json", "", 200)
        self._end(api)
        rows = [f"{'REPOSITORY':<20}{'TAG':<10}IMAGE ID"]
        for ref in sorted(self.images):
            repo, tag = ref.split(":")
            rows.append(f"{repo:<20}{tag:<10}{self.images[ref][7:19]}")
        return CommandResult(0, "\n".join(rows) + "\n", "")
