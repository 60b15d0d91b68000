"""Shared helpers for the sim runtime tests: a busybox-like image, a fake network, a driver."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.model.layer import LayerEntry, build_layer_tar
from simulator.runtime.protocol import ContainerSpec, EndpointSpec, MountSpec, ProcessIO, ProcessSpec
from simulator.runtime.sim.params import KernelParams
from simulator.runtime.sim.runtime import SimRuntime
from simulator.trace.span import Span
from simulator.trace.tracer import Tracer

APPLETS = ("sh", "echo", "cat", "ls", "touch", "rm", "mkdir", "rmdir", "sleep", "hostname", "ps",
           "env", "id", "true", "false", "printf", "head", "tail", "wc", "grep", "date", "uname",
           "pwd", "mv", "cp", "ln", "chmod", "kill", "whoami", "cut", "sort", "uniq", "tr", "seq",
           "yes", "which", "basename", "dirname", "test", "[", "expr", "tee", "stat", "df", "free",
           "wget", "ping", "nslookup", "burn", "memhog", "stress")  # fmt: skip

BASE = build_layer_tar(
    [
        LayerEntry.executable("bin/busybox", "busybox"),
        *[LayerEntry.hardlink(f"bin/{a}", "bin/busybox") for a in APPLETS],
        LayerEntry.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"),
        LayerEntry.file("etc/group", "root:x:0:\nwheel:x:10:root\nnobody:x:65534:\n"),
        LayerEntry.directory("tmp", 0o1777),
        LayerEntry.directory("root", 0o700),
        LayerEntry.file("etc/motd", "welcome\n"),
        LayerEntry.file("usr/share/doc/readme", "doc\n"),
    ]
)
WEB = build_layer_tar(
    [
        LayerEntry.executable("usr/sbin/nginx", "nginx"),
        LayerEntry.file("usr/share/nginx/html/index.html", "<h1>Welcome to nginx!</h1>\n"),
        LayerEntry.whiteout("etc/motd"),
    ]
)
LAYERS = {"sha256:base": BASE, "sha256:web": WEB}
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Layers:
    def layer_tar(self, diff_id: str) -> bytes:
        return LAYERS[diff_id]


class FakeNetwork:
    """Containers named in ``ips`` resolve by name (as on a user-defined network)."""

    def __init__(self) -> None:
        self.ips: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def resolve(self, container_id: str, name: str) -> str | None:
        return self.ips.get(name)

    def container_at(self, container_id: str, ip: str) -> str | None:
        return self.ids.get(ip)


class World:
    """A SimPy world with one SimRuntime; runs container commands and collects output."""

    def __init__(self, params: KernelParams | None = None) -> None:
        self.env = simpy.Environment()
        self.spans: list[Span] = []
        self.tracer = Tracer(lambda: float(self.env.now), self.spans.append)
        self.net = FakeNetwork()
        self.rt = SimRuntime(self.env, self.tracer, Layers(), self.net, params or KernelParams())
        self.output: dict[str, list[tuple[int, bytes]]] = {}
        self._n = 0

    def spec(self, args: list[str], layers: tuple[str, ...] = ("sha256:base",), name: str = "",
             ip: str = "", **kw: Any) -> ContainerSpec:  # fmt: skip
        self._n += 1
        cid = f"{self._n:02d}" * 32
        name = name or f"c{self._n}"
        endpoints = ()
        if ip:
            endpoints = (EndpointSpec("net", "n" * 64, ip, 16, "172.18.0.1", "02:42:ac:12:00:02"),)
            self.net.ips[name] = ip
            self.net.ids[ip] = cid
        tty = kw.pop("tty", False)
        stdin = kw.pop("open_stdin", False)
        process = ProcessSpec(tuple(args), (PATH_ENV, *kw.pop("env", ())), tty=tty, open_stdin=stdin)
        mounts = tuple(MountSpec(*m) for m in kw.pop("mounts", ()))
        return ContainerSpec(cid, name, cid[:12], layers, process, mounts=mounts,
                             network_mode="net" if ip else "bridge", endpoints=endpoints, **kw)  # fmt: skip

    def io(self, cid: str, open_stdin: bool = False) -> ProcessIO:
        sink = self.output.setdefault(cid, [])
        return ProcessIO(self.env, lambda s, d: sink.append((s, d)), open_stdin)

    def run_proc(self, gen: Generator[simpy.Event, Any, Any]) -> Any:
        proc = self.env.process(gen)
        return self.env.run(until=proc) if True else None

    def create_start(self, spec: ContainerSpec, io: ProcessIO | None = None) -> Any:
        root = self.tracer.start("dockerd", "start")

        def go() -> Generator[simpy.Event, Any, Any]:
            yield from self.rt.create(spec, root)
            handle = yield from self.rt.start(spec.id, io or self.io(spec.id), root)
            return handle

        return self.run_proc(go())

    def run(self, args: list[str], until: float | None = None, **kw: Any) -> tuple[Any, str, str]:
        """Create + start + wait; returns (ExitStatus, stdout, stderr)."""
        spec = self.spec(args, **kw)
        handle = self.create_start(spec)
        if until is None:
            status = self.env.run(until=handle.exited)
        else:
            self.env.run(until=until)
            status = handle.exited.value if handle.exited.triggered else None
        return status, self.text(spec.id, 1), self.text(spec.id, 2)

    def text(self, cid: str, stream: int) -> str:
        return b"".join(d for s, d in self.output.get(cid, []) if s == stream).decode()
