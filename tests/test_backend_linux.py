"""The real backend through the csim command line: real processes, namespaces, overlayfs, cgroups.

Each test runs `csim --backend linux ...` in fresh processes, the way a student does, so
state crosses process boundaries exactly as in use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux"),
]


@pytest.fixture
def csim(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "CSIM_STATE": str(tmp_path / "state"), "CSIM_BACKEND": "linux"}

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "simulator", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            input=input,
            check=False,
        )

    yield run
    ids = run("ps", "-aq").stdout.split()
    if ids:
        run("rm", "-f", *ids)


def test_run_echo(csim) -> None:  # type: ignore[no-untyped-def]
    r = csim("run", "--rm", "busybox", "echo", "hi")
    assert (r.returncode, r.stdout) == (0, "hi\n"), r.stderr


def test_isolation_inside_the_container(csim) -> None:  # type: ignore[no-untyped-def]
    script = (
        "echo pid=$$; hostname; ls /; "
        "test -e /work && echo host-visible || echo host-hidden; "
        "mount -t tmpfs none /tmp 2>/dev/null && echo mounted || echo mount-denied; "
        "echo x > /proc/sys/kernel/hostname 2>/dev/null && echo sysctl-written || echo sysctl-denied"
    )
    r = csim("run", "--name", "iso", "busybox", "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "pid=1"
    cid = csim("inspect", "-f", "{{.Id}}", "iso").stdout.strip()
    assert lines[1] == cid[:12]
    assert {"bin", "etc", "proc", "dev", "tmp"} <= set(lines)
    assert lines[-3:] == ["host-hidden", "mount-denied", "sysctl-denied"]


def test_two_containers_share_layers_not_writes(csim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = csim("run", "-d", "--name", "c-a", "busybox", "sh", "-c", "echo A > /tmp/mine; sleep 300")
    b = csim("run", "-d", "--name", "c-b", "busybox", "sleep", "300")
    assert a.returncode == 0 and b.returncode == 0
    assert csim("exec", "c-b", "cat", "/tmp/mine").returncode != 0
    inode_a = csim("exec", "c-a", "stat", "-c", "%i", "/bin/busybox").stdout
    inode_b = csim("exec", "c-b", "stat", "-c", "%i", "/bin/busybox").stdout
    assert inode_a == inode_b and inode_a.strip()
    assert csim("diff", "c-a").stdout.splitlines() == ["C /tmp", "A /tmp/mine"]
    upper = tmp_path / "state" / "linux" / "containers" / a.stdout.strip() / "upper"
    assert upper.exists()
    assert csim("rm", "-f", "c-a").returncode == 0
    assert not upper.exists()


def test_memory_limit_oom_kill(csim) -> None:  # type: ignore[no-untyped-def]
    r = csim("run", "--name", "hog", "-m", "16m", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
    assert r.returncode == 137
    state = json.loads(csim("inspect", "-f", "{{json .State}}", "hog").stdout)
    assert (state["OOMKilled"], state["ExitCode"], state["Status"]) == (True, 137, "exited")


def test_stop_timeout_then_sigkill_and_trapped_term(csim) -> None:  # type: ignore[no-untyped-def]
    csim("run", "-d", "--name", "s1", "busybox", "sleep", "300")
    assert csim("stop", "-t", "1", "s1").returncode == 0
    assert csim("inspect", "-f", "{{.State.ExitCode}}", "s1").stdout.strip() == "137"
    trap = "trap 'exit 7' TERM; while true; do sleep 0.1; done"
    csim("run", "-d", "--name", "s2", "busybox", "sh", "-c", trap)
    assert csim("stop", "s2").returncode == 0
    assert csim("inspect", "-f", "{{.State.ExitCode}}", "s2").stdout.strip() == "7"


def test_pause_freezes_and_logs_persist(csim) -> None:  # type: ignore[no-untyped-def]
    csim("run", "-d", "--name", "p1", "busybox", "sh", "-c", "echo ready; sleep 300")
    assert csim("pause", "p1").returncode == 0
    assert csim("inspect", "-f", "{{.State.Status}}", "p1").stdout.strip() == "paused"
    assert csim("unpause", "p1").returncode == 0
    assert csim("logs", "p1").stdout == "ready\n"


SHARED = [
    ["echo", "hello world"],
    ["sh", "-c", "echo a > /tmp/f; cat /tmp/f; echo $?"],
    ["sh", "-c", "exit 3"],
    ["sh", "-c", "x=1; y=$x$x; echo $y && false || echo recovered"],
    ["sh", "-c", "hostname | wc -c"],
    ["sh", "-c", "echo $$ $HOME"],
]


@pytest.mark.parametrize("argv", SHARED, ids=[" ".join(a) for a in SHARED])
def test_sim_and_linux_give_the_same_output(csim, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    from simulator.des.world import World

    world = World(seed=5)
    sim = world.run_cli(["run", "--rm", "busybox", *argv])
    real = csim("run", "--rm", "busybox", *argv)
    assert (real.returncode, real.stdout) == (sim.exit_code, sim.stdout)


def test_runtime_flag_runs_the_same_bundle_under_runc(csim) -> None:  # type: ignore[no-untyped-def]
    import shutil

    if shutil.which("runc") is None:
        pytest.skip("runc is not installed")
    script = "echo $$; hostname | wc -c; ls /"
    builtin = csim("run", "--rm", "busybox", "sh", "-c", script)
    runc = csim("run", "--name", "viarunc", "--runtime", "runc", "busybox", "sh", "-c", script)
    assert (runc.returncode, runc.stdout) == (builtin.returncode, builtin.stdout), runc.stderr
    assert csim("inspect", "-f", "{{.HostConfig.Runtime}}", "viarunc").stdout == "runc\n"
    bad = csim("run", "--rm", "--runtime", "nope", "busybox", "true")
    assert bad.returncode == 125
    assert "unknown or invalid runtime name: nope" in bad.stderr


def test_volumes_named_anonymous_and_bind(csim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert csim("run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f").returncode == 0
    assert csim("run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f").stdout == "kept\n"
    host = tmp_path / "host"
    host.mkdir()
    (host / "h").write_text("from host\n")
    r = csim("run", "--rm", "-v", f"{host}:/h:ro", "busybox", "sh", "-c", "cat /h/h; echo x > /h/new")
    assert r.stdout == "from host\n" and r.returncode != 0 and "Read-only file system" in r.stderr
    assert not (host / "new").exists()
    assert csim("run", "--name", "anon", "-v", "/cache", "busybox", "true").returncode == 0
    source = csim("inspect", "-f", "{{range .Mounts}}{{.Source}}{{end}}", "anon").stdout.strip()
    assert Path(source).is_dir()
    assert csim("rm", "-v", "anon").returncode == 0
    assert not Path(source).exists()
    assert csim("volume", "rm", "data").returncode == 0
    assert csim("volume", "ls", "-q").stdout == ""
