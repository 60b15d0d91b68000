"""Step-through demos, and daemon behaviour the lessons depend on."""

from __future__ import annotations

import io
import shlex
import subprocess
import sys

import pytest

from simulator.lessons.cli import build_parser, cmd_demo
from simulator.lessons.demos import SCRIPTS, DemoPlayer, available


@pytest.mark.parametrize("name", [n for n in SCRIPTS if not available(n)])
def test_demo_frames_step_forward_and_back(name: str) -> None:
    player = DemoPlayer(name, "ko", seed=1)
    assert len(player.frames) > 3
    first = player.current
    assert first is not None and first.index == 0
    player.forward()
    player.forward()
    assert player.position == 2
    player.back()
    assert player.current is not None and player.current.index == 1
    player.seek(10_000)
    assert player.position == len(player.frames) - 1
    assert [f.index for f in player.frames] == list(range(len(player.frames)))
    assert DemoPlayer(name, "ko", seed=1).frames == player.frames  # deterministic


def test_lifecycle_demo_visits_the_states() -> None:
    player = DemoPlayer("lifecycle", "en")
    seen = {state for f in player.frames for _, state in f.states}
    assert {"created", "running", "paused", "exited", "removing"} <= seen
    assert "dead" in player.closing


def test_run_demo_goes_from_client_to_kernel() -> None:
    hops = [f.span.hop for f in DemoPlayer("run", "en").frames]
    for hop in ("cli", "api", "dockerd", "containerd", "shim", "runc", "kernel"):
        assert hop in hops


def test_pull_demo_shows_the_shared_layer_is_not_downloaded_twice() -> None:
    player = DemoPlayer("pull", "en")
    by_command: dict[str, set[str]] = {}
    for f in player.frames:
        if f.span.hop == "registry" and f.span.name.startswith("Pull layer"):
            by_command.setdefault(f.command, set()).add(str(f.span.attrs.get("digest")))
    nginx, python = by_command["pull nginx"], by_command["pull python:3.12-slim"]
    assert nginx and python and not nginx & python


def test_build_demo_shows_the_cache() -> None:
    player = DemoPlayer("build", "en", seed=1)
    builder = [f for f in player.frames if f.span.hop == "builder"]
    assert builder, "the build demo shows builder steps"
    assert any("Using cache" in f.output for f in player.frames)


def test_csim_demo_prints_and_steps() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cmd_demo(build_parser().parse_args(["demo"]), out, err) == 0
    assert "lifecycle" in out.getvalue() and "volume" in out.getvalue()
    out = io.StringIO()
    args = build_parser().parse_args(["demo", "volume", "--step", "--lang", "ko"])
    assert cmd_demo(args, out, err, io.StringIO("n\nn\np\ng 3\nq\n")) == 0
    text = out.getvalue()
    assert "컨테이너보다 오래 사는 볼륨" in text
    assert text.count("[2/") == 2 and "[3/" in text
    out = io.StringIO()
    assert cmd_demo(build_parser().parse_args(["demo", "nope"]), out, err) == 1
    assert "no demo named 'nope'" in err.getvalue()


def test_lessons_package_does_not_import_textual() -> None:
    code = (
        "import sys, simulator.lessons.cli, simulator.lessons.runner, simulator.lessons.demos, "
        "simulator.lessons.grading; assert 'textual' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_containers_on_a_user_network_reach_each_other_by_name() -> None:
    """Docker's embedded DNS resolves container names on user-defined networks (lesson `networks`)."""
    from simulator.des.world import World

    world = World(seed=1)
    for line in ("pull busybox", "network create appnet", "run -d --name server --network appnet busybox sleep 600"):
        assert world.run_cli(shlex.split(line)).exit_code == 0
    result = world.run_cli(shlex.split("run --rm --network appnet busybox ping -c 1 server"))
    assert result.exit_code == 0, result.stderr
    assert "1 packets received" in result.stdout
