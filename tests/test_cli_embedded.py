"""The csim command line on the embedded world: Docker's output shapes, errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from simulator.des.world import World


def test_run_prints_output_after_pulling(world: World) -> None:
    r = world.run_cli(["run", "busybox", "echo", "hello"])
    assert (r.exit_code, r.stdout) == (0, "hello\n")
    assert "Unable to find image 'busybox:latest' locally" in r.stderr
    assert "Status: Downloaded newer image for busybox:latest" in r.stderr


def test_run_exit_code_and_streams(world: World) -> None:
    r = world.run_cli(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 4"])
    assert (r.exit_code, r.stdout) == (4, "out\n")
    assert r.stderr.endswith("err\n")
    assert world.run_cli(["ps", "-aq"]).stdout == ""  # --rm removed it


def test_it_needs_a_terminal_on_stdin_as_in_docker(world: World) -> None:
    # docker's CheckTty: refused before anything is created (run) or after the container is found (exec).
    r = world.run_cli(["run", "-it", "busybox", "sh"])
    assert (r.exit_code, r.stdout, r.stderr) == (1, "", "the input device is not a TTY\n")
    assert world.run_cli(["ps", "-aq"]).stdout == ""
    assert world.run_cli(["images", "-q"]).stdout == ""  # not even pulled
    assert world.run_cli(["run", "-d", "--name", "box", "busybox", "sleep", "100"]).exit_code == 0
    r = world.run_cli(["exec", "-it", "box", "sh"])
    assert (r.exit_code, r.stderr) == (1, "the input device is not a TTY\n")
    r = world.run_cli(["exec", "-it", "nosuch", "sh"])
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: No such container: nosuch\n")
    assert world.run_cli(["run", "-dit", "--name", "bg", "busybox", "sh"]).exit_code == 0  # detached: no check
    assert world.run_cli(["run", "-t", "--rm", "busybox", "echo", "hi"]).stdout == "hi\r\n"  # -t alone: fine


def test_i_reads_the_commands_own_stdin_never_the_processes(world: World) -> None:
    """An embedded command (TUI, lesson, test) has no input unless given one: ``-i cat`` ends at once."""
    import io

    from simulator.client.main import execute

    assert world.run_cli(["run", "-i", "--rm", "busybox", "cat"]).exit_code == 0
    out, err = io.StringIO(), io.StringIO()
    code = execute(world, ["run", "-i", "--rm", "busybox", "cat"], out, err, stdin=io.BytesIO(b"data\n"))
    assert (code, out.getvalue()) == (0, "data\n")
    world.run_cli(["run", "-d", "--name", "box", "busybox", "sleep", "100"])
    out = io.StringIO()
    assert execute(world, ["exec", "-i", "box", "cat"], out, io.StringIO(), stdin=io.BytesIO(b"to exec\n")) == 0
    assert out.getvalue() == "to exec\n"


def test_detached_nginx_is_up_and_listed(world: World) -> None:
    r = world.run_cli(["run", "-d", "--name", "web", "nginx"])
    assert r.exit_code == 0 and len(r.stdout.strip()) == 64
    ps = world.run_cli(["ps"]).stdout.splitlines()
    assert ps[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert "web" in ps[1] and " Up " in ps[1] and "80/tcp" in ps[1]
    status = world.run_cli(["inspect", "-f", "{{.State.Status}}", "web"])
    assert status.stdout == "running\n"


def test_shared_base_layers_already_exist(world: World) -> None:
    world.run_cli(["pull", "nginx"])
    r = world.run_cli(["pull", "python:3.12-slim"])
    assert r.exit_code == 0
    assert ": Already exists" in r.stdout
    assert r.stdout.rstrip().endswith("docker.io/library/python:3.12-slim")
    again = world.run_cli(["pull", "python:3.12-slim"])
    assert "Status: Image is up to date for python:3.12-slim" in again.stdout


def test_errors_are_docker_worded(world: World) -> None:
    r = world.run_cli(["run", "--foo", "busybox"])
    assert (r.exit_code, r.stderr) == (125, "unknown flag: --foo\nSee 'csim run --help'.\n")
    r = world.run_cli(["run", "Busybox"])
    assert r.exit_code == 125
    assert "invalid reference format: repository name (library/Busybox) must be lowercase" in r.stderr
    r = world.run_cli(["stop", "nosuch"])
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: No such container: nosuch\n")
    r = world.run_cli(["inspect", "nosuch"])
    assert (r.exit_code, r.stdout, r.stderr) == (1, "[]\n", "Error: No such object: nosuch\n")
    r = world.run_cli(["ps", "--format", "{{.ID"])
    assert r.exit_code == 1 and "unclosed action" in r.stderr
    r = world.run_cli(["run", "busybox", "nosuchcmd"])
    assert r.exit_code == 127
    assert 'exec: "nosuchcmd": executable file not found in $PATH' in r.stderr
    r = world.run_cli(["pull", "nosuchimage"])
    assert r.exit_code == 1
    assert "pull access denied for nosuchimage, repository does not exist" in r.stderr


def test_lifecycle_commands_print_names(world: World) -> None:
    world.run_cli(["run", "-d", "--name", "app", "busybox", "sleep", "300"])
    for cmd in (["pause", "app"], ["unpause", "app"], ["restart", "-t", "1", "app"], ["stop", "-t", "1", "app"]):
        r = world.run_cli(cmd)
        assert (r.exit_code, r.stdout) == (0, "app\n"), cmd
    assert world.run_cli(["stop", "app"]).exit_code == 0  # 304 is success
    r = world.run_cli(["ps", "-a", "--filter", "status=exited", "--format", "{{.Names}} {{.Status}}"])
    assert r.stdout.startswith("app Exited (137)")
    assert world.run_cli(["rm", "app"]).stdout == "app\n"


def test_exec_logs_and_diff(world: World) -> None:
    world.run_cli(["run", "-d", "--name", "box", "busybox", "sh", "-c", "echo started; sleep 300"])
    r = world.run_cli(["exec", "box", "sh", "-c", "echo in; touch /tmp/new; exit 2"])
    assert (r.exit_code, r.stdout) == (2, "in\n")
    assert world.run_cli(["logs", "box"]).stdout == "started\n"
    assert world.run_cli(["diff", "box"]).stdout == "C /tmp\nA /tmp/new\n"
    stamped = world.run_cli(["logs", "-t", "box"]).stdout
    assert stamped.endswith(" started\n") and stamped[:4].isdigit()


def test_networks_and_volumes(world: World) -> None:
    assert world.run_cli(["network", "create", "app"]).exit_code == 0
    ls = world.run_cli(["network", "ls"]).stdout
    assert {"bridge", "host", "none", "app"} <= {line.split()[1] for line in ls.splitlines()[1:]}
    r = world.run_cli(["network", "rm", "bridge"])
    assert "bridge is a pre-defined network and cannot be removed" in r.stderr
    assert world.run_cli(["volume", "create", "data"]).stdout == "data\n"
    info = json.loads(world.run_cli(["volume", "inspect", "data"]).stdout)
    assert info[0]["Mountpoint"] == "/var/lib/docker/volumes/data/_data"
    r = world.run_cli(["volume", "rm", "nosuch"])
    assert "get nosuch: no such volume" in r.stderr


def test_trace_flag_prints_the_span_tree(world: World) -> None:
    world.run_cli(["pull", "busybox"])
    r = world.run_cli(["--trace", "run", "--rm", "busybox", "true"])
    assert r.exit_code == 0
    for label in ("POST /containers/create", "ContainerStart", "runc create", "pivot_root"):
        assert label in r.stderr


def test_state_persists_between_processes(tmp_path: Path) -> None:
    env = {**os.environ, "CSIM_STATE": str(tmp_path / "state")}
    cli = [sys.executable, "-m", "simulator"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    assert run("run", "-d", "--name", "web", "nginx").returncode == 0
    ps = run("ps")
    assert "web" in ps.stdout and "Up" in ps.stdout
    assert run("volume", "create", "keep").returncode == 0
    (tmp_path / "state" / "state.json").write_text("{not json", encoding="utf-8")
    broken = run("ps", "-a")
    assert broken.returncode == 0
    assert "could not be read" in broken.stderr and "previous good state" in broken.stderr
    assert list((tmp_path / "state").glob("state.json.corrupt-*"))
    assert "web" in broken.stdout  # the container and the image it runs are still known
    assert "nginx" in run("images").stdout


def test_build_and_run_through_the_command_line(world: World, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM busybox\nCOPY hi.txt /hi.txt\nCMD ["cat", "/hi.txt"]\n')
    (tmp_path / "hi.txt").write_text("built\n")
    first = world.run_cli(["build", "-t", "demo:1", str(tmp_path)])
    assert first.exit_code == 0, first.stderr
    assert "Step 1/3 : FROM busybox" in first.stdout and "Successfully tagged demo:1" in first.stdout
    again = world.run_cli(["build", "-t", "demo:1", str(tmp_path)])
    assert " ---> Using cache" in again.stdout
    assert world.run_cli(["run", "--rm", "demo:1"]).stdout == "built\n"


def test_global_host_flag_is_parsed() -> None:
    from simulator.client.main import build_parser

    args = build_parser().parse_args(["-H", "unix:///tmp/x.sock", "ps"])
    assert args.host == "unix:///tmp/x.sock" and args.cmd == "ps"


def test_save_load_round_trip_and_bootstrap_refused_on_sim(world: World, tmp_path: Path) -> None:
    world.run_cli(["pull", "busybox"])
    archive = tmp_path / "bb.tar"
    assert world.run_cli(["save", "-o", str(archive), "busybox"]).exit_code == 0
    assert world.run_cli(["rmi", "busybox"]).exit_code == 0
    loaded = world.run_cli(["load", "-i", str(archive)])
    assert (loaded.exit_code, loaded.stdout) == (0, "Loaded image: busybox:latest\n")
    assert world.run_cli(["run", "--rm", "busybox", "echo", "back"]).stdout == "back\n"
    refused = world.run_cli(["image", "bootstrap"])
    assert refused.exit_code == 1 and "linux backend" in refused.stderr


def test_version_flag_and_unknown_global_flag() -> None:
    env = {**os.environ, "CSIM_STATE": "/nonexistent-csim-state"}
    run = [sys.executable, "-m", "simulator"]
    version = subprocess.run([*run, "--version"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert version.stdout.startswith("csim version ")
    bogus = subprocess.run([*run, "--bogus"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (bogus.returncode, bogus.stderr) == (125, "unknown flag: --bogus\nSee 'csim --help'.\n")
