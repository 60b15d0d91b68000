"""The composition root of the real backend: the same daemon over the Linux runtime.

Blobs live in an on-disk OCI content store, layers are unpacked once per diff
id and shared, containers are real processes in namespaces. The world's
clock is the wall clock (``WallClockDriver``). A busybox image is
bootstrapped from the host the first time the backend needs one, so nothing
has to be downloaded.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import simpy

from simulator.des.realtime import WallClockDriver
from simulator.des.world import World
from simulator.model.errors import Unavailable
from simulator.model.reference import Reference
from simulator.runtime.select import RuntimeSet


class OfflineRegistry:
    """What a pull finds when no registry is reachable (the machine has no network)."""

    def check(self, ref: Reference, parent: Any) -> Any:
        raise Unavailable(
            f'Get "https://{_registry_host(ref)}/v2/": dial tcp: lookup {_registry_host(ref)}: no such host '
            "(the linux backend pulls only from a local registry: see `csim registry`)"
        )
        yield  # pragma: no cover

    fetch_manifest = check


def _registry_host(ref: Reference) -> str:
    return "registry-1.docker.io" if ref.domain == "docker.io" else ref.domain


class LayerDirs:
    """Unpacked layer directories by diff id, for the Linux runtime."""

    def __init__(self, unpacker: Any, images: Any) -> None:
        self.unpacker = unpacker
        self.images = images

    def unpacked_path(self, diff_id: str) -> Path:
        if not self.unpacker.has(diff_id):
            layer = self.images.blob_for_diff_id(diff_id)
            if layer is not None:
                self.unpacker.register(layer.blob_digest, diff_id)
        path: Path = self.unpacker.unpacked_path(diff_id)
        return path

    def layer_tar(self, diff_id: str) -> bytes:
        data: bytes = self.images.layer_tar(diff_id)
        return data


class LinuxWorld(World):
    """A ``World`` whose containers are real: Linux namespaces, overlayfs, cgroups."""

    realtime = True

    def __init__(
        self, state_dir: Path, seed: int = 0, runtime_binary: str | None = None, epoch: float | None = None
    ) -> None:
        from simulator.daemon.content import ContentStore
        from simulator.daemon.layers import LayerUnpacker
        from simulator.runtime.linux.runtime import LinuxRuntime

        root = Path(state_dir)
        content = ContentStore(root / "content")
        now = time.time()
        epoch = now if epoch is None else epoch
        super().__init__(seed=seed, epoch=epoch, content=content, runtime=False, initial_time=max(0.0, now - epoch))
        # Real containers share the host: cgroups (csim/<id>), veth and bridge names. Ids
        # from a fixed seed would be the same in every state directory, so a second
        # daemon would kill or unplug the first one's containers. Random, as dockerd's
        # (a restored world continues from its saved generator state).
        self.daemon.rng.seed(os.urandom(32))
        self.state_dir = root
        self.driver = WallClockDriver(self.env)
        self.tracer._clock = lambda: max(float(self.env.now), self.driver.world_time())
        unpacker = LayerUnpacker(self.state_dir / "layers", content)
        self.layer_dirs = LayerDirs(unpacker, self.daemon.images)
        self._post: Callable[[Callable[[], None]], None] = self.driver.post

        containers = root / "containers"

        def runtime(binary: str | None) -> LinuxRuntime:
            return LinuxRuntime(self.env, self.tracer, self.layer_dirs, containers, self._forward, binary)

        # The built-in runtime is the default; installed OCI runtimes are there for `--runtime`.
        runtimes: dict[str, Any] = {"csim": runtime(None)}
        for binary in ("runc", "crun"):
            if shutil.which(binary):
                runtimes[binary] = runtime(binary)
        default = runtime_binary or "csim"
        if default not in runtimes:
            runtimes[default] = runtime(default)
        self.runtime = RuntimeSet(default, runtimes)
        self.daemon.attach_runtime(self.runtime)
        self.daemon.volumes_root = str(root / "volumes")
        self.daemon.volumes_on_disk = True
        from simulator.daemon.registry_source import Handoff, HttpRegistrySource, RegistryRouter

        self.poster = self.driver.post
        self.handoff = Handoff(self.env, self.driver.post)
        self.http_registry = HttpRegistrySource(self.env, self.tracer, self.handoff, self.params.hub, realtime=True)
        self.daemon.registry = RegistryRouter.from_environment(self.http_registry, fallback=OfflineRegistry())

    def container_log(self, container_id: str) -> Path:
        """The shim's json-file log of a container's init process."""
        return Path(self.state_dir or ".") / "containers" / container_id / "init" / "log.json"

    def _forward(self, fn: Callable[[], None]) -> None:
        self._post(fn)  # looked up at call time: ``route_posts`` may change it

    def route_posts(self, post: Callable[[Callable[[], None]], None]) -> None:
        """Hand the runtime's results to another driver of this world (``csim daemon``'s thread)."""
        self._post = post

    def live_driver(self) -> WallClockDriver:
        return self.driver

    def ensure_base_images(self) -> list[str]:
        """Bootstrap busybox:latest from the host if it is missing; returns what was added."""
        if self.daemon.has_image("busybox:latest"):
            return []
        from simulator.daemon.bootstrap import bootstrap_busybox

        _, tags = self.daemon.add_archive_image(bootstrap_busybox())
        return list(tags)

    def run_until(self, event: simpy.Event, horizon: float = 3600.0) -> None:
        self.driver.run_until(lambda: event.processed, timeout=horizon)

    def advance(self, seconds: float) -> None:
        end = self.driver.world_time() + seconds
        self.driver.run_until(lambda: self.driver.world_time() >= end, timeout=seconds)

    def settle(self) -> None:
        self.driver.run_until(lambda: True, timeout=0)

    def close(self) -> None:
        self.runtime.close()
