"""200 create/start/stop/rm cycles through the daemon on the real backend leave nothing behind.

Counted before and after: mounts under the world's state root (overlay roots, netns
holders, /etc binds), csim cgroup directories, veth and bridge interfaces, and
processes (shims, proxies, container processes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.real,
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux"),
]

CYCLES = 200


def _mounts(root: Path) -> int:
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if str(root) in line)


def _cgroups(ids: set[str]) -> set[str]:
    """Cgroup directories of the containers this test made (other tests may run meanwhile)."""
    found: set[str] = set()
    for base in Path("/sys/fs/cgroup").glob("*/csim"):
        found |= {f"{base.parent.name}/{p.name}" for p in base.iterdir() if p.is_dir() and p.name in ids}
    return found


def _links(world: object, ids: set[str]) -> set[str]:
    """The veths this test's containers could have (other tests' interfaces may come and go)."""
    from simulator.runtime.linux.network import veth_name

    nets = [n.id for n in world.daemon.networks.values()]  # type: ignore[attr-defined]
    ours = {veth_name(cid, net) for cid in ids for net in nets}
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()} & ours


def _descendants() -> set[int]:
    own = Path("/proc/self/cmdline").read_bytes()
    found = set()
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and int(p.name) != os.getpid():
            try:
                if p.joinpath("cmdline").read_bytes() == own:
                    found.add(int(p.name))
            except OSError:
                pass
    return found


def test_two_hundred_cycles_leave_nothing(tmp_path: Path) -> None:
    from simulator.des.linux_world import LinuxWorld

    world = LinuxWorld(tmp_path / "state", seed=9)
    try:
        world.ensure_base_images()
        assert world.api("POST", "/networks/create", body={"Name": "leaknet"}).status == 201

        def call(method: str, path: str, **kw: Any) -> Any:
            resp = world.api(method, path, **kw)
            assert resp.status < 400, (method, path, resp.body)
            return resp

        def cycle(i: int) -> None:
            running = i % 4 == 0
            body = {
                "Image": "busybox",
                "Cmd": ["sleep", "30"] if running else ["true"],
                "HostConfig": {"NetworkMode": "leaknet" if i % 2 else "bridge"},
            }
            cid = call("POST", "/containers/create", body=body).body["Id"]
            created.add(cid)
            call("POST", f"/containers/{cid}/start")
            if running:
                call("POST", f"/containers/{cid}/stop", query={"t": 0})
            else:
                call("POST", f"/containers/{cid}/wait")
            call("DELETE", f"/containers/{cid}")

        created: set[str] = set()
        cycle(0)  # the first container on each network brings its bridge up; that stays, as docker0 does
        cycle(1)
        before = (_mounts(tmp_path), _cgroups(created), _links(world, created), _descendants())
        for i in range(CYCLES):
            cycle(i)
        after = (_mounts(tmp_path), _cgroups(created), _links(world, created), _descendants())
        assert after[0] == before[0], "mounts left behind"
        assert after[1] == before[1], "cgroups left behind"
        assert after[2] == set(), "veths left behind"
        assert after[3] <= before[3], "processes left behind"
        assert world.api("DELETE", "/networks/leaknet").status == 204
    finally:
        world.close()
