"""``docker build`` on the linux backend: RUN in real containers, the overlay upper dir as the layer."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from build_helpers import build, multi_stage_context, step_results, write_context

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux"),
]


@pytest.fixture
def linux_world(tmp_path: Path) -> Iterator[object]:
    from simulator.des.linux_world import LinuxWorld

    world = LinuxWorld(tmp_path / "state")
    try:
        world.ensure_base_images()
        yield world
    finally:
        ids = world.run_cli(["ps", "-aq"]).stdout.split()
        if ids:
            world.run_cli(["rm", "-f", *ids])
        world.close()


def test_multi_stage_build_runs_and_rebuilds_from_cache(linux_world: object, tmp_path: Path) -> None:
    world = linux_world
    ctx = multi_stage_context(tmp_path / "ctx")
    first = build(world, ["-t", "demo:1", str(ctx)])  # type: ignore[arg-type]
    assert first.exit_code == 0, first.stderr
    assert world.run_cli(["run", "--rm", "demo:1"]).stdout == "hi\nhello\nworld\n"  # type: ignore[attr-defined]
    again = build(world, ["-t", "demo:1", str(ctx)])  # type: ignore[arg-type]
    assert step_results(again.stdout) == ["cache"] * 9
    assert again.stdout.splitlines()[-2] == first.stdout.splitlines()[-2]
    (ctx / "src" / "a.txt").write_text("changed\n", encoding="utf-8")
    third = build(world, ["-t", "demo:1", str(ctx)])  # type: ignore[arg-type]
    assert step_results(third.stdout)[:3] == ["cache", "cache", "built"]
    assert world.run_cli(["run", "--rm", "demo:1"]).stdout == "hi\nchanged\nworld\n"  # type: ignore[attr-defined]


def test_run_layer_keeps_whiteouts_and_failures_stop(linux_world: object, tmp_path: Path) -> None:
    world = linux_world
    ctx = write_context(
        tmp_path / "ctx",
        {"Dockerfile": "FROM busybox\nRUN rm /bin/true && mkdir /x && echo y > /x/y\nRUN exit 4\n"},
    )
    r = build(world, ["-t", "wh:1", str(ctx)])  # type: ignore[arg-type]
    assert r.exit_code == 4
    assert r.stderr == "The command '/bin/sh -c exit 4' returned a non-zero code: 4\n"
    assert world.api("GET", "/images/wh:1/json").status == 404  # type: ignore[attr-defined]
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN rm /bin/true && mkdir /x && echo y > /x/y\n", encoding="utf-8")
    ok = build(world, ["-t", "wh:1", str(ctx)])  # type: ignore[arg-type]
    assert step_results(ok.stdout) == ["cache"]
    check = world.run_cli(["run", "--rm", "wh:1", "sh", "-c", "cat /x/y; test -e /bin/true || echo gone"])  # type: ignore[attr-defined]
    assert check.stdout == "y\ngone\n"
