"""The csim command line on the embedded world: Docker's output shapes, errors and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


def _case_id(value: object) -> str:
    return " ".join(value) if isinstance(value, list) else ""


USAGE_RUN = "\nUsage:  csim run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'csim run --help' for more information\n"

# What docker CLI 28 prints for each (with "docker" read as "csim"), and its exit code.
DOCKER_28_REFUSALS = [
    (["frob"], 1, "csim: unknown command: csim frob\n\nRun 'csim --help' for more information\n"),
    (
        ["network", "frob"],
        1,
        "csim: unknown command: csim network frob\n\nUsage:  csim network\n\n"
        "Run 'csim network --help' for more information\n",
    ),
    (
        ["ps", "a"],
        1,
        "csim: 'csim ps' accepts no arguments\n\nUsage:  csim ps [OPTIONS]\n\n"
        "Run 'csim ps --help' for more information\n",
    ),
    (
        ["logs", "a", "b"],
        1,
        "csim: 'csim logs' requires 1 argument\n\nUsage:  csim logs [OPTIONS] CONTAINER\n\n"
        "Run 'csim logs --help' for more information\n",
    ),
    (
        ["rename", "a"],
        1,
        "csim: 'csim rename' requires 2 arguments\n\nUsage:  csim rename CONTAINER NEW_NAME\n\n"
        "Run 'csim rename --help' for more information\n",
    ),
    (
        ["exec", "box"],
        1,
        "csim: 'csim exec' requires at least 2 arguments\n\nUsage:  csim exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
        "See 'csim exec --help' for more information\n",
    ),
    (
        ["run"],
        1,
        "csim: 'csim run' requires at least 1 argument\n\nUsage:  csim run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
        "See 'csim run --help' for more information\n",
    ),
    (
        ["images", "a", "b"],
        1,
        "csim: 'csim images' requires at most 1 argument\n\nUsage:  csim images [OPTIONS] [REPOSITORY[:TAG]]\n\n"
        "Run 'csim images --help' for more information\n",
    ),
    (
        ["network", "create"],
        1,
        "csim: 'csim network create' requires 1 argument\n\nUsage:  csim network create [OPTIONS] NETWORK\n\n"
        "Run 'csim network create --help' for more information\n",
    ),
    (
        ["ps", "-z"],
        125,
        "unknown shorthand flag: 'z' in -z\n\nUsage:  csim ps [OPTIONS]\n\nRun 'csim ps --help' for more information\n",
    ),
    (
        ["ps", "--format"],
        125,
        "flag needs an argument: --format\n\nUsage:  csim ps [OPTIONS]\n\nRun 'csim ps --help' for more information\n",
    ),
    (
        ["stop", "-t", "abc", "x"],
        125,
        'invalid argument "abc" for "-t, --timeout" flag: strconv.ParseInt: parsing "abc": invalid syntax\n\n'
        "Usage:  csim stop [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'csim stop --help' for more information\n",
    ),
]


@pytest.mark.parametrize(("argv", "code", "stderr"), DOCKER_28_REFUSALS, ids=_case_id)
def test_command_line_refusals_are_docker_28s(world: World, argv: list[str], code: int, stderr: str) -> None:
    before = world.run_cli(["ps", "-aq"]).stdout
    r = world.run_cli(argv)
    assert (r.exit_code, r.stdout, r.stderr) == (code, "", stderr)
    assert world.run_cli(["ps", "-aq"]).stdout == before


def test_help_is_the_commands_output_and_never_leaves_the_world(world: World) -> None:
    r = world.run_cli(["ps", "--help"])  # used to print to the process's stdout and raise SystemExit
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout.startswith("\nUsage:  csim ps [OPTIONS]\n\nList containers\n\nOptions:\n")
    assert "-a, --all" in r.stdout
    group = world.run_cli(["network"])  # a group named alone: its help, exit 0, as docker
    assert group.exit_code == 0 and "Commands:\n  ls          List networks\n" in group.stdout
    assert "Run 'csim network COMMAND --help' for more information on a command." in group.stdout
    top = world.run_cli(["--help"])
    assert top.exit_code == 0 and "  lesson      Interactive lessons" in top.stdout  # csim's own commands too


def test_errors_are_docker_worded(world: World) -> None:
    r = world.run_cli(["run", "--foo", "busybox"])
    assert (r.exit_code, r.stderr) == (125, "unknown flag: --foo\n" + USAGE_RUN)
    r = world.run_cli(["run", "Busybox"])
    assert (r.exit_code, r.stderr) == (
        125,
        "csim: invalid reference format: repository name (library/Busybox) must be lowercase\n\n"
        "Run 'csim run --help' for more information\n",
    )
    r = world.run_cli(["stop", "nosuch"])
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: No such container: nosuch\n")
    r = world.run_cli(["inspect", "nosuch"])
    assert (r.exit_code, r.stdout, r.stderr) == (1, "[]\n", "Error: No such object: nosuch\n")
    r = world.run_cli(["ps", "--format", "{{.ID"])
    assert r.exit_code == 1 and "unclosed action" in r.stderr
    r = world.run_cli(["run", "busybox", "nosuchcmd"])
    assert r.exit_code == 127
    assert "\ncsim: Error response from daemon: failed to create task" in r.stderr  # after the pull
    assert r.stderr.endswith(
        'exec: "nosuchcmd": executable file not found in $PATH: unknown\n\n'
        "Run 'csim run --help' for more information\n"
    )
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
    assert (bogus.returncode, bogus.stderr) == (
        125,
        "unknown flag: --bogus\n\nUsage:  csim [OPTIONS] COMMAND [ARG...]\n\nRun 'csim --help' for more information\n",
    )
    helped = subprocess.run([*run, "tui", "--help"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert helped.returncode == 0 and helped.stdout.startswith("\nUsage:  csim tui [OPTIONS]\n")


# The keys docker CLI 28 prints for ``--format json`` (seen against a private dockerd 20.10).
JSON_ROW_KEYS = {
    "ps": ["Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks",
           "Platform", "Ports", "RunningFor", "Size", "State", "Status"],
    "images": ["Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size",
               "Tag", "UniqueSize", "VirtualSize"],
    "network ls": ["CreatedAt", "Driver", "ID", "IPv4", "IPv6", "Internal", "Labels", "Name", "Scope"],
    "volume ls": ["Availability", "Driver", "Group", "Labels", "Links", "Mountpoint", "Name", "Scope", "Size",
                  "Status"],
}  # fmt: skip


def test_listings_print_docker_json_rows_and_table_alone_is_the_default(world: World) -> None:
    world.run_cli(["run", "-d", "--name", "j1", "busybox", "sleep", "100"])
    world.run_cli(["volume", "create", "v1"])
    for command, keys in JSON_ROW_KEYS.items():
        argv = command.split()
        r = world.run_cli([*argv, "--format", "json"])
        assert r.exit_code == 0, r.stderr
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        assert rows and all(list(row) == keys for row in rows)  # sorted keys, as Go marshals them
        assert all(isinstance(v, str) for row in rows for k, v in row.items() if k != "Platform")
        assert world.run_cli([*argv, "--format", "table"]).stdout == world.run_cli(argv).stdout
    ps = json.loads(world.run_cli(["ps", "--format", "json"]).stdout)
    assert (ps["Names"], ps["State"], ps["RunningFor"].endswith(" ago")) == ("j1", "running", True)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+", ps["CreatedAt"])  # Go's time.String()
    images = json.loads(world.run_cli(["images", "--format", "json"]).stdout)
    assert (images["Repository"], images["Tag"], images["Containers"]) == ("busybox", "latest", "N/A")
    names = world.run_cli(["network", "ls", "--format", "table {{.Name}}\\t{{.Driver}}"]).stdout.splitlines()
    assert names[0].split() == ["NAME", "DRIVER"] and "bridge    bridge" in names
    vols = world.run_cli(["volume", "ls", "--format", "table {{.Name}}"]).stdout
    assert vols == "VOLUME NAME\nv1\n"
    assert world.run_cli(["network", "ls", "-q", "-f", "name=bri"]).stdout.count("\n") == 1


def test_inspect_format_json_is_one_compact_array(world: World) -> None:
    world.run_cli(["volume", "create", "v1"])
    world.run_cli(["volume", "create", "v2"])
    r = world.run_cli(["volume", "inspect", "--format", "json", "v1", "v2"])
    assert r.stdout.count("\n") == 1 and r.stdout.startswith('[{"CreatedAt":')
    volumes = json.loads(r.stdout)
    assert [v["Name"] for v in volumes] == ["v1", "v2"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", volumes[0]["CreatedAt"])  # RFC3339, whole seconds


def test_filter_values_are_checked_as_flags(world: World) -> None:
    for argv in (["ps", "-f", "foo"], ["network", "ls", "-f", "foo"], ["images", "--filter", "x"]):
        r = world.run_cli(argv)
        assert r.exit_code == 125
        assert r.stderr.startswith(
            f'invalid argument "{argv[-1]}" for "-f, --filter" flag: bad format of filter (expected name=value)\n\n'
        )


def test_help_lists_flags_as_docker_does(world: World) -> None:
    run = world.run_cli(["run", "--help"]).stdout
    assert "      --network network     Connect a container to a network\n" in run  # --network, not --net
    assert "  -e, --env list" in run and "  -m, --memory bytes" in run
    stop = world.run_cli(["stop", "--help"]).stdout
    assert "Options:\n  -h, --help           Print usage\n  -s, --signal string" in stop  # sorted by name
    assert "  -t, --timeout int    Seconds to wait before killing the container\n" in stop


def test_system_reset_help_keeps_the_world(tmp_path: Path) -> None:
    env = {**os.environ, "CSIM_STATE": str(tmp_path / "state")}
    run = [sys.executable, "-m", "simulator"]

    def csim(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*run, *argv], env=env, capture_output=True, text=True, timeout=60, check=False)

    assert csim("volume", "create", "keep").returncode == 0
    helped = csim("system", "reset", "--help")
    assert helped.returncode == 0 and "Usage:  csim system reset" in helped.stdout
    assert csim("system", "reset", "extra").returncode == 1
    assert csim("volume", "ls", "-q").stdout == "keep\n"  # neither wiped anything
    assert csim("system", "reset").returncode == 0
    assert csim("volume", "ls", "-q").stdout == ""


def test_start_attach_copies_output_and_returns_the_exit_code(world: World) -> None:
    import io

    from simulator.client.main import execute

    world.run_cli(["create", "--name", "sa", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"])
    r = world.run_cli(["start", "-a", "sa"])
    assert (r.exit_code, r.stdout, r.stderr) == (3, "out\n", "err\n")  # no name echoed with -a
    plain = world.run_cli(["start", "sa"])
    assert (plain.exit_code, plain.stdout) == (0, "sa\n")
    world.run_cli(["create", "-i", "--name", "si", "busybox", "cat"])
    out = io.StringIO()
    assert execute(world, ["start", "-ai", "si"], out, io.StringIO(), stdin=io.BytesIO(b"fed\n")) == 0
    assert out.getvalue() == "fed\n"
    world.run_cli(["create", "-it", "--name", "st", "busybox", "sh"])
    assert world.run_cli(["start", "-ai", "st"]).stderr == "the input device is not a TTY\n"
    both = world.run_cli(["start", "-a", "sa", "si"])
    assert (both.exit_code, both.stderr) == (1, "you cannot start and attach multiple containers at once\n")


def test_a_reloaded_world_replays_running_containers_without_repeating_them(tmp_path: Path) -> None:
    """Each csim command reloads the world and re-runs its running containers: what they had
    printed or written must not happen twice, and what a new exec does must happen once."""
    from simulator.des.persist import load_world, save_world

    state = tmp_path / "state"

    def command(*argv: str) -> Any:
        world = load_world(state)
        try:
            return world.run_cli(list(argv))
        finally:
            save_world(world, state)

    script = "echo started; echo a >> /f; sleep 2; echo later; sleep 300"
    assert command("run", "-d", "--name", "f1", "busybox", "sh", "-c", script).exit_code == 0
    assert command("logs", "f1").stdout == "started\n"  # not printed again by the replay
    assert command("exec", "f1", "cat", "/f").stdout == "a\n"  # nor appended again
    touched = command("exec", "f1", "sh", "-c", "echo b >> /f; echo done")
    assert touched.stdout == "done\n"  # an exec inside the replay window prints...
    assert command("exec", "f1", "cat", "/f").stdout == "a\nb\n"  # ...and writes, once
    assert command("logs", "f1").stdout == "started\n"


def test_port_rename_and_rm_force_answer_as_docker_28(world: World) -> None:
    world.run_cli(["run", "-d", "-p", "8080:80", "-p", "127.0.0.1:8443:443", "--name", "web", "nginx"])
    assert world.run_cli(["port", "web"]).stdout == "80/tcp -> 0.0.0.0:8080\n443/tcp -> 127.0.0.1:8443\n"
    assert world.run_cli(["port", "web", "443/tcp"]).stdout == "127.0.0.1:8443\n"
    missing = world.run_cli(["port", "web", "81"])
    assert (missing.exit_code, missing.stderr) == (1, "Error: No public port '81' published for web\n")
    bad = world.run_cli(["port", "web", "x"])
    assert bad.stderr == 'Error: invalid port (x): strconv.ParseUint: parsing "x": invalid syntax\n'
    assert world.run_cli(["port", "web", "80", "x"]).stderr.startswith(
        "csim: 'csim port' requires at least 1 and at most 2 arguments\n"
    )
    world.run_cli(["create", "--name", "other", "busybox"])
    clash = world.run_cli(["rename", "other", "web"])
    assert clash.exit_code == 1
    assert clash.stderr.startswith("Error response from daemon: Error when allocating new name: Conflict.")
    assert clash.stderr.endswith("\nError: failed to rename container named other\n")
    gone = world.run_cli(["rm", "-f", "nosuch", "other"])  # -f: a missing container is said, not a failure
    assert (gone.exit_code, gone.stdout, gone.stderr) == (
        0,
        "other\n",
        "Error response from daemon: No such container: nosuch\n",
    )
    assert world.run_cli(["rm", "nosuch"]).exit_code == 1


def test_history_and_system_df_formats_and_inspect_types(world: World) -> None:
    world.run_cli(["pull", "busybox"])
    rows = [json.loads(line) for line in world.run_cli(["history", "--format", "json", "busybox"]).stdout.splitlines()]
    assert [list(r) for r in rows] == [["Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size"]] * len(rows)
    assert rows[-1]["ID"] == "<missing>" and rows[-1]["CreatedSince"].endswith(" ago")
    raw = world.run_cli(["history", "-H=false", "--format", "{{.Size}} {{.CreatedSince}}", "busybox"]).stdout
    assert all(re.fullmatch(r"\d+ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", line) for line in raw.splitlines())
    assert world.run_cli(["history", "-H", "busybox"]).exit_code == 0  # a bare bool flag takes no value
    df = world.run_cli(["system", "df", "--format", "{{.Type}}: {{.Reclaimable}}"]).stdout.splitlines()
    assert df[0].startswith("Images: ") and df[0].endswith(" (100%)")  # nothing uses busybox yet
    assert df[1:] == ["Containers: 0B", "Local Volumes: 0B", "Build Cache: 0B"]  # no share of nothing
    unknown = world.run_cli(["inspect", "--type", "bogus", "x"])
    assert unknown.stderr.startswith('unknown type: "bogus": must be one of "config", "container", "image"')
    swarm = world.run_cli(["inspect", "--type", "service", "x"])
    assert (swarm.exit_code, swarm.stdout) == (1, "[]\n") and "not a swarm manager" in swarm.stderr
    gone = world.run_cli(["network", "rm", "nosuch"])
    assert gone.stderr == "Error response from daemon: network nosuch not found\nexit status 1\n"


# docker CLI 28's own refusals of run flags (seen with `docker run FLAGS busybox`), "docker" read as "csim".
RUN_FLAG_REFUSALS = [
    (["--restart", "on-failure:x"], "csim: invalid restart policy format: maximum retry count must be an integer"),
    (["--restart", ":3"], "csim: invalid restart policy format: no policy provided before colon"),
    (["--rm", "--restart", "always"], "csim: conflicting options: cannot specify both --restart and --rm"),
    (["-p", "abc"], "csim: invalid containerPort: abc"),
    (["-p", "8080:80/xyz"], "csim: invalid proto: xyz"),
    (["-p", "abc:80"], "csim: invalid hostPort: abc"),
    (["-p", "1.2.3.999:80:80"], "csim: invalid IP address: 1.2.3.999"),
    (["-p", "80:"], "csim: no port specified: 80:<empty>"),
    (["-p", "8000-8001:80-82"], "csim: invalid ranges specified for container and host Ports: 80-82 and 8000-8001"),
    (["-v", "/x:"], "csim: invalid spec: /x:: empty section between colons"),
]
RUN_FLAG_ERRORS = [
    (["-m", "1x"], """invalid argument "1x" for "-m, --memory" flag: invalid suffix: 'x'"""),
    (["--cpus", "abc"], 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number'),
    (["-e", "=x"], 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x'),
]


@pytest.mark.parametrize(("flags", "message"), RUN_FLAG_REFUSALS, ids=_case_id)
def test_run_flag_refusals_are_the_commands_own(world: World, flags: list[str], message: str) -> None:
    r = world.run_cli(["run", *flags, "busybox", "true"])
    assert (r.exit_code, r.stderr) == (125, f"{message}\n\nRun 'csim run --help' for more information\n")
    assert world.run_cli(["ps", "-aq"]).stdout == ""  # refused before anything was created


@pytest.mark.parametrize(("flags", "message"), RUN_FLAG_ERRORS, ids=_case_id)
def test_run_flag_values_that_do_not_parse_are_flag_errors(world: World, flags: list[str], message: str) -> None:
    r = world.run_cli(["run", *flags, "busybox", "true"])
    assert (r.exit_code, r.stderr) == (125, f"{message}\n{USAGE_RUN}")


def test_run_flags_reach_the_daemon_parsed(world: World) -> None:
    argv = ["run", "-d", "--name", "pp", "-m", "64m", "--cpus", "0.5", "--restart", "on-failure:3"]
    assert world.run_cli([*argv, "-p", "8000-8001:80-81", "busybox", "sleep", "100"]).exit_code == 0
    shown = world.run_cli(
        ["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{json .HostConfig.RestartPolicy}}", "pp"]
    )
    assert shown.stdout == '67108864 500000000 {"Name":"on-failure","MaximumRetryCount":3}\n'
    assert world.run_cli(["port", "pp"]).stdout == "80/tcp -> 0.0.0.0:8000\n81/tcp -> 0.0.0.0:8001\n"


def test_image_listing_filters_and_latest_container(world: World) -> None:
    world.run_cli(["pull", "busybox"])
    world.run_cli(["tag", "busybox", "b2"])
    world.run_cli(["tag", "busybox", "b2:v1"])
    assert len(world.run_cli(["images", "-q"]).stdout.splitlines()) == 3  # a line a tag, as docker
    rows = world.run_cli(["images", "b2", "--format", "{{.Repository}}:{{.Tag}}"]).stdout
    assert rows == "b2:latest\nb2:v1\n"  # only the tags that match the reference
    bad = world.run_cli(["images", "--filter", "bogus=1"])
    assert (bad.exit_code, bad.stderr) == (1, "Error response from daemon: invalid filter 'bogus'\n")
    missing = world.run_cli(["rmi", "-f", "nosuch"])
    assert (missing.exit_code, missing.stderr) == (0, "Error response from daemon: No such image: nosuch:latest\n")
    world.run_cli(["run", "--name", "first", "busybox", "true"])
    world.run_cli(["run", "--name", "second", "busybox", "true"])
    assert world.run_cli(["ps", "-l", "--format", "{{.Names}}"]).stdout == "second\n"  # -l sees stopped ones
    assert world.run_cli(["ps", "-n", "2", "--format", "{{.Names}}"]).stdout == "second\nfirst\n"
    assert world.run_cli(["version", "--format", "{{.Server.ApiVersion}}"]).stdout == "1.50\n"


def test_hosts_file_names_the_container_and_restart_policy_is_stored_as_sent(world: World) -> None:
    hosts = world.run_cli(["run", "--rm", "--name", "h1", "busybox", "cat", "/etc/hosts"]).stdout.splitlines()
    assert re.fullmatch(r"172\.17\.0\.\d+\t[0-9a-f]{12}", hosts[-1])  # Docker adds the container's own line
    isolated = world.run_cli(["run", "--rm", "--network", "none", "busybox", "cat", "/etc/hosts"]).stdout
    assert isolated.splitlines()[-1] == "ff02::2\tip6-allrouters"  # no address, no line
    world.run_cli(["create", "--name", "cli", "busybox"])
    shown = world.run_cli(["inspect", "-f", "{{json .HostConfig.RestartPolicy}}", "cli"]).stdout
    assert shown == '{"Name":"no","MaximumRetryCount":0}\n'  # the docker CLI always sends "no"
    world.api("POST", "/containers/create", {"name": "bare"}, {"Image": "busybox"})
    shown = world.run_cli(["inspect", "-f", "{{json .HostConfig.RestartPolicy}}", "bare"]).stdout
    assert shown == '{"Name":"","MaximumRetryCount":0}\n'  # an API client that sends none gets ""


def test_container_sizes_in_ps_df_and_prune(world: World) -> None:
    world.run_cli(["run", "--name", "d1", "busybox", "sh", "-c", "echo hello > /f; mkdir /d"])
    world.run_cli(["run", "-d", "--name", "d2", "busybox", "sleep", "99"])
    sizes = world.run_cli(["ps", "-a", "--format", "{{.Names}} {{.Size}}"]).stdout
    assert sizes == "d2 0B (virtual 4.27MB)\nd1 6B (virtual 4.27MB)\n"  # "hello\n" in the writable layer
    table = world.run_cli(["ps", "-a", "-s"]).stdout.splitlines()
    assert table[0].endswith("NAMES     SIZE") and table[2].endswith("d1        6B (virtual 4.27MB)")
    assert world.run_cli(["ps", "-a", "--format", "{{.Names}} {{.Status}}"]).stdout.count("virtual") == 0
    df = world.run_cli(["system", "df", "--format", "{{.Type}}: {{.Size}} {{.Reclaimable}}"]).stdout
    assert "Containers: 6B 6B (100%)" in df
    pruned = world.run_cli(["container", "prune", "-f"]).stdout
    assert pruned.endswith("\nTotal reclaimed space: 6B\n")
