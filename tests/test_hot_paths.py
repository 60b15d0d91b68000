"""The fast paths of the simulated world answer exactly what the plain ones did.

The route table is looked up by (method, first path segment) and literal tail,
the ``PATH`` search probes without exceptions (and plain paths without the full
walk), addresses are allocated without ``ipaddress`` objects, the daemon's
worker slots and a sleeping process's wait replace ``simpy.Resource`` and
``AnyOf`` with the same events, and a removed container is freed without the
cyclic garbage collector; none of that may change an answer.
"""

from __future__ import annotations

import gc
import ipaddress
import random
from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy

from simulator.api.messages import ApiRequest
from simulator.api.router import Router
from simulator.daemon.slots import WorkerSlots
from simulator.des.world import World
from simulator.model.layer import LayerEntry, build_layer_tar
from simulator.model.network import _host_texts
from simulator.runtime.protocol import FirstOf
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


PROBED = ["/bin/sleep", "/sbin/sleep", "/etc/passwd", "/usr/lib", "/nope", "/etc/passwd/x", "/loop", "/loop/x"]
PROBED += ["/bin/../bin/sleep", "/etc/passwd/..", "bin/sleep", "/bin/sleep/", "//bin/./sleep", "/", "/usr/lib/nope"]


@pytest.mark.parametrize("path", PROBED)
def test_probe_and_lookup_answer_what_the_full_walk_does(path: str) -> None:
    fs = ContainerFs(LayerCache(_Layers()).image_root(("l",)), lambda: 0.0)
    try:
        expected = fs.resolve(path)[1]  # ``resolve`` always takes the general walk
        error = "ENOENT" if expected is None else None
    except FsError as exc:
        expected, error = None, exc.errno
    assert fs.probe(path) is expected
    try:
        assert fs.lookup(path) is expected
        assert error is None
    except FsError as exc:
        assert exc.errno == error


def test_route_tails_match_as_the_regex_end_anchor_does() -> None:
    router = World(seed=0).router
    cid = "ab" * 32
    for path in (
        f"/containers/{cid}/start",
        f"/containers/{cid}/start\n",
        f"/containers/{cid}/start/",
        f"/images/{cid}/json\n",
    ):
        for method in ("GET", "POST", "DELETE"):
            assert router.match(method, path) == _linear_match(router, method, path), (method, path)


@pytest.mark.parametrize("subnet", ["172.17.0.0/16", "10.1.2.0/29", "10.0.0.0/31", "10.0.0.7/32", "fd00::/125"])
def test_host_addresses_are_those_of_ipaddress(subnet: str) -> None:
    net = ipaddress.ip_network(subnet)
    assert list(_host_texts(net)) == [str(h) for h in net.hosts()]


def _slot_trace(make: Callable[[simpy.Environment], Any], seed: int) -> list[tuple[float, int, str]]:
    """What a random crowd of clients sees of a slot pool: who got a slot when, who gave up."""
    env = simpy.Environment()
    pool = make(env)
    rnd = random.Random(seed)
    log: list[tuple[float, int, str]] = []

    def client(n: int) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(rnd.choice([0, 0, 1, 2]))
        with pool.request() as req:
            patience = rnd.choice([None, 0, 1, 3])
            if patience is None:
                yield req
            else:
                yield req | env.timeout(patience)
                if not req.triggered:
                    log.append((env.now, n, "gave up"))
                    return
            log.append((env.now, n, "granted"))
            yield env.timeout(rnd.choice([0, 1, 2]))
        log.append((env.now, n, "released"))

    for n in range(40):
        env.process(client(n))
    env.run()
    log.append((env.now, -1, repr(env._eid)))  # the same number of events, too
    return log


def test_worker_slots_schedule_what_simpy_resource_does() -> None:
    gave_up = 0
    for seed in range(200):  # rare interleavings (a slot freed while others queue) need many crowds
        expected = _slot_trace(lambda env: simpy.Resource(env, capacity=3), seed)
        assert _slot_trace(lambda env: WorkerSlots(env, capacity=3), seed) == expected, seed
        gave_up += any(what == "gave up" for _, _, what in expected)
    assert gave_up > 100


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


def _first_of_trace(first_of: Callable[..., simpy.Event], seed: int) -> list[Any]:
    """A sleeper woken early at random, as ``Process._progress`` waits: what it sees, and when."""
    env = simpy.Environment()
    rnd = random.Random(seed)
    wake = [env.event()]
    log: list[Any] = []

    def sleeper() -> Generator[simpy.Event, Any, None]:
        for _ in range(30):
            if wake[0].triggered:
                wake[0] = env.event()
            timer = env.timeout(rnd.choice([0, 1, 2]))
            yield first_of(env, timer, wake[0])
            log.append((env.now, timer.processed, len(wake[0].callbacks or ())))
        bad = env.event()
        env.timeout(1).callbacks.append(lambda _: bad.fail(KeyError("boom")))
        try:
            yield first_of(env, bad, env.timeout(5))
        except KeyError as err:
            log.append((env.now, "failed", str(err)))

    def waker() -> Generator[simpy.Event, Any, None]:
        for _ in range(30):
            yield env.timeout(rnd.choice([0, 1, 3]))
            if not wake[0].triggered:
                wake[0].succeed()

    env.process(sleeper())
    env.process(waker())
    env.run()
    log.append(repr(env._eid))
    return log


@pytest.mark.parametrize("seed", range(5))
def test_first_of_schedules_what_any_of_does(seed: int) -> None:
    expected = _first_of_trace(lambda env, *events: env.any_of(events), seed)
    assert _first_of_trace(FirstOf, seed) == expected
    assert expected[-2][1] == "failed"
