"""The fast paths of the simulated world answer exactly what the plain ones did.

The route table is looked up by (method, first path segment), the ``PATH``
search probes without exceptions, and a removed container is freed without
the cyclic garbage collector; none of that may change an answer.
"""

from __future__ import annotations

import gc
import random

import pytest

from simulator.api.messages import ApiRequest
from simulator.api.router import Router
from simulator.des.world import World
from simulator.model.layer import LayerEntry, build_layer_tar
from simulator.runtime.sim.inode import LayerCache
from simulator.runtime.sim.kernel import Container as KernelContainer
from simulator.runtime.sim.vfs import ContainerFs, FsError

LAYER = build_layer_tar(
    [
        LayerEntry.executable("bin/busybox", "busybox"),
        LayerEntry.hardlink("bin/sleep", "bin/busybox"),
        LayerEntry.file("etc/passwd", "root:x:0:0\n"),
        LayerEntry.symlink("sbin", "bin"),
        LayerEntry.symlink("loop", "loop"),
        LayerEntry.directory("usr/lib"),
    ]
)


class _Layers:
    def layer_tar(self, diff_id: str) -> bytes:
        return LAYER


def _linear_match(router: Router, method: str, path: str) -> object:
    """The first route in declaration order, as the router matched before it had an index."""
    for m, pattern, handler in router._routes:
        found = pattern.match(path)
        if found and (m == method or (m == "GET" and method == "HEAD")):
            return handler, found.groupdict()
    return None


def test_indexed_route_lookup_matches_a_scan_of_every_route() -> None:
    router = World(seed=0).router
    segments = ["containers", "images", "exec", "json", "abc", "start", "", "push", "get", "networks"]
    segments += ["volumes", "csim", "layers", "_ping", "create", "prune", "docker.io", "v1.41"]
    rnd = random.Random(7)
    paths = ["", "/", "containers/json", "//containers/json", "/images/docker.io/library/busybox:latest/json"]
    paths += ["/" + "/".join(rnd.choice(segments) for _ in range(rnd.randint(0, 4))) for _ in range(3000)]
    matched = 0
    for path in paths:
        for method in ("GET", "POST", "DELETE", "HEAD", "PUT"):
            expected = _linear_match(router, method, path)
            assert router.match(method, path) == expected, (method, path)
            matched += expected is not None
    assert matched > 500  # the corpus exercises real routes, not only misses


@pytest.mark.parametrize(
    "path", ["/bin/sleep", "/sbin/sleep", "/etc/passwd", "/usr/lib", "/nope", "/etc/passwd/x", "/loop"]
)
def test_probe_is_lookup_without_the_exception(path: str) -> None:
    fs = ContainerFs(LayerCache(_Layers()).image_root(("l",)), lambda: 0.0)
    try:
        expected = fs.lookup(path)
    except FsError:
        expected = None
    assert fs.probe(path) is expected


def test_a_removed_container_is_freed_without_the_cycle_collector() -> None:
    world = World(seed=3)
    world.api("POST", "/images/create", {"fromImage": "busybox", "tag": "latest"})
    gc.collect()
    gc.disable()
    made: set[str] = set()
    try:
        for i in range(3):
            created = world.request(
                ApiRequest.build(
                    "POST", "/containers/create", {"name": f"c{i}"}, {"Image": "busybox", "Cmd": ["sleep", "300"]}
                )
            )
            cid = created.body["Id"]
            made.add(cid)
            assert world.request(ApiRequest.build("POST", f"/containers/{cid}/start")).status == 204
            assert world.request(ApiRequest.build("POST", f"/containers/{cid}/stop", {"t": 1})).status == 204
            assert world.request(ApiRequest.build("DELETE", f"/containers/{cid}")).status == 204
        # only this test's containers: other tests' worlds may still be alive in this process
        left = [o for o in gc.get_objects() if isinstance(o, KernelContainer) and o.spec.id in made]
    finally:
        gc.enable()
    assert left == []
