"""``csim``: the docker command line, on an embedded simulated world (or, later, a daemon).

Every command is the sequence of Engine API calls the real docker CLI sends;
errors print as docker prints them, with docker's exit codes, and never as a
traceback.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import Any

from simulator.client.parser import CliHelp, DockerArgParser, filter_value, go_bool, unknown_flag_message
from simulator.client.session import CliError
from simulator.client.terminal import process_stdin
from simulator.client.usage import arg_count_error

_CONTAINER_OPS = ("start", "stop", "kill", "restart", "pause", "unpause")


LISTING_FORMATS = "'table', 'table TEMPLATE', 'json' or 'TEMPLATE'"
INSPECT_FORMATS = "'json' or 'TEMPLATE'"


def _format_flag(p: argparse.ArgumentParser, kinds: str, short: bool = False) -> None:
    """``--format``: a Go template, and for listings ``table`` and ``json`` too."""
    flags = ("-f", "--format") if short else ("--format",)
    p.add_argument(
        *flags, default="", metavar="string", help=f"Format output using a custom template: {kinds} (a Go template)"
    )


def _filter_flag(p: argparse.ArgumentParser, text: str = "Filter output based on conditions provided") -> None:
    """``-f/--filter name=value``, repeatable."""
    p.add_argument("-f", "--filter", action="append", default=[], type=filter_value, metavar="filter", help=text)


def build_parser() -> DockerArgParser:
    root = DockerArgParser(prog="csim", command="", description="csim: watch Docker work, hop by hop")
    root.add_argument("--trace", action="store_true", help="Print the command's span tree on stderr when it ends")
    root.add_argument(
        "--state",
        default=None,
        metavar="string",
        help='Directory of the embedded world (default $CSIM_STATE, else "~/.local/share/csim")',
    )
    root.add_argument(
        "--backend",
        choices=["sim", "linux"],
        default=os.environ.get("CSIM_BACKEND", "sim"),
        metavar="string",
        help='World to run in: "sim" (simulated) or "linux" (real containers, needs root) '
        '(default $CSIM_BACKEND, else "sim")',
    )
    sub = root.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=DockerArgParser)

    from simulator.client.containers_cmd import add_create_flags

    for name in ("run", "create"):
        p = sub.add_parser(name, command=name, add_help=False, help=f"{name} a container")
        p.add_argument("--help", action="help")
        add_create_flags(p, run=name == "run")
    for op in _CONTAINER_OPS:
        p = sub.add_parser(op, command=op, help=f"{op} containers")
        if op in ("stop", "restart"):
            p.add_argument(
                "-t",
                "--time",
                "--timeout",
                type=int,
                default=None,
                dest="time",
                metavar="int",
                help="Seconds to wait before killing the container",
            )
        if op in ("stop", "kill"):
            p.add_argument("-s", "--signal", default="", metavar="string", help="Signal to send to the container")
        if op == "start":
            p.add_argument(
                "-a",
                "--attach",
                action="store_true",
                help="Attach STDOUT/STDERR",
            )
            p.add_argument(
                "-i",
                "--interactive",
                action="store_true",
                help="Attach container's STDIN",
            )
        p.add_argument("containers", nargs="+")
    p = sub.add_parser("rm", command="rm", help="remove containers")
    p.add_argument("-f", "--force", action="store_true", help="Force the removal of a running container (uses SIGKILL)")
    p.add_argument(
        "-v", "--volumes", action="store_true", help="Remove anonymous volumes associated with the container"
    )
    p.add_argument("containers", nargs="+")
    p = sub.add_parser("wait", command="wait")
    p.add_argument("containers", nargs="+")
    p = sub.add_parser("ps", command="ps", help="list containers")
    p.add_argument("-a", "--all", action="store_true", help="Show all containers (default shows just running)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display container IDs")
    _filter_flag(p)
    _format_flag(p, LISTING_FORMATS)
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument(
        "-n", "--last", type=int, default=0, metavar="int", help="Show n last created containers (includes all states)"
    )
    p.add_argument(
        "-l", "--latest", action="store_true", help="Show the latest created container (includes all states)"
    )
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    p = sub.add_parser("logs", command="logs")
    p.add_argument("-f", "--follow", action="store_true", help="Follow log output")
    p.add_argument(
        "--since",
        default="",
        metavar="string",
        help='Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    )
    p.add_argument(
        "--until",
        default="",
        metavar="string",
        help='Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    )
    p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
    p.add_argument(
        "-n",
        "--tail",
        default="all",
        metavar="string",
        help='Number of lines to show from the end of the logs (default "all")',
    )
    p.add_argument("container")
    p = sub.add_parser("inspect", command="inspect")
    _format_flag(p, INSPECT_FORMATS, short=True)
    p.add_argument("--type", default="", metavar="string", help="Only inspect objects of the given type")
    p.add_argument("names", nargs="+")
    p = sub.add_parser("exec", command="exec")
    p.add_argument("-d", "--detach", action="store_true", help="Detached mode: run command in the background")
    p.add_argument("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    p.add_argument("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    p.add_argument("-e", "--env", action="append", default=[], metavar="list", help="Set environment variables")
    p.add_argument(
        "-u", "--user", default="", metavar="string", help='Username or UID (format: "<name|uid>[:<group|gid>]")'
    )
    p.add_argument("-w", "--workdir", default="", metavar="string", help="Working directory inside the container")
    p.add_argument("container")
    p.add_argument("command", nargs=argparse.REMAINDER)
    for name in ("top", "diff"):
        p = sub.add_parser(name, command=name)
        p.add_argument("container")
    p = sub.add_parser("rename", command="rename")
    p.add_argument("old")
    p.add_argument("new")
    p = sub.add_parser("port", command="port")
    p.add_argument("container")
    p.add_argument("port", nargs="?", default="")
    p = sub.add_parser("stats", command="stats")
    p.add_argument("--no-stream", action="store_true", help="Disable streaming stats and only pull the first result")
    p.add_argument("containers", nargs="*")
    p = sub.add_parser("pull", command="pull")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("image")
    p = sub.add_parser("images", command="images")
    p.add_argument("-a", "--all", action="store_true", help="Show all images (default hides intermediate images)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
    _filter_flag(p)
    _format_flag(p, LISTING_FORMATS)
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("repository", nargs="?", default="")
    p = sub.add_parser("rmi", command="rmi")
    p.add_argument("-f", "--force", action="store_true", help="Force removal of the image")
    p.add_argument("images", nargs="+")
    p = sub.add_parser("tag", command="tag")
    p.add_argument("source")
    p.add_argument("target")
    p = sub.add_parser("history", command="history")
    _format_flag(p, LISTING_FORMATS)
    p.add_argument(
        "-H",
        "--human",
        type=go_bool,
        nargs="?",
        const=True,
        default=True,
        metavar="",
        help="Print sizes and dates in human readable format (default true)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("image")
    p = sub.add_parser("events", command="events")
    p.add_argument("--since", default="", metavar="string", help="Show all events created since timestamp")
    p.add_argument("--until", default="", metavar="string", help="Stream events until this timestamp")
    _filter_flag(p)
    _format_flag(p, INSPECT_FORMATS)
    p = sub.add_parser("version", command="version")
    _format_flag(p, INSPECT_FORMATS, short=True)
    sub.add_parser("info", command="info")

    net = sub.add_parser("network", command="network")
    ns = net.add_subparsers(dest="net_cmd", metavar="COMMAND", parser_class=DockerArgParser, required=True)
    p = ns.add_parser("ls", aliases=["list"], command="network ls")
    _filter_flag(p, 'Provide filter values (e.g. "driver=bridge")')
    _format_flag(p, LISTING_FORMATS)
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate the output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display network IDs")
    p = ns.add_parser("create", command="network create")
    p.add_argument(
        "-d",
        "--driver",
        default="bridge",
        metavar="string",
        help='Driver to manage the Network (default "bridge")',
    )
    p.add_argument(
        "--subnet",
        default="",
        metavar="string",
        help="Subnet in CIDR format that represents a network segment",
    )
    p.add_argument("--gateway", default="", metavar="string", help="IPv4 or IPv6 Gateway for the master subnet")
    p.add_argument("--internal", action="store_true", help="Restrict external access to the network")
    p.add_argument("--attachable", action="store_true", help="Enable manual container attachment")
    p.add_argument("--label", action="append", default=[], metavar="list", help="Set metadata on a network")
    p.add_argument("name")
    p = ns.add_parser("inspect", command="network inspect")
    _format_flag(p, INSPECT_FORMATS, short=True)
    p.add_argument("names", nargs="+")
    p = ns.add_parser("rm", aliases=["remove"], command="network rm")
    p.add_argument("networks", nargs="+")
    p = ns.add_parser("connect", command="network connect")
    p.add_argument(
        "--alias", action="append", default=[], metavar="strings", help="Add network-scoped alias for the container"
    )
    p.add_argument("network")
    p.add_argument("container")
    p = ns.add_parser("disconnect", command="network disconnect")
    p.add_argument("-f", "--force", action="store_true", help="Force the container to disconnect from a network")
    p.add_argument("network")
    p.add_argument("container")
    ns.add_parser("prune", command="network prune").add_argument(
        "-f", "--force", action="store_true", help="Do not prompt for confirmation"
    )

    vol = sub.add_parser("volume", command="volume")
    vs = vol.add_subparsers(dest="vol_cmd", metavar="COMMAND", parser_class=DockerArgParser, required=True)
    p = vs.add_parser("create", command="volume create")
    p.add_argument(
        "-d",
        "--driver",
        default="local",
        metavar="string",
        help='Specify volume driver name (default "local")',
    )
    p.add_argument("--label", action="append", default=[], metavar="list", help="Set metadata for a volume")
    p.add_argument("name", nargs="?", default="")
    p = vs.add_parser("ls", aliases=["list"], command="volume ls")
    _filter_flag(p, 'Provide filter values (e.g. "dangling=true")')
    _format_flag(p, LISTING_FORMATS)
    p.add_argument("-q", "--quiet", action="store_true", help="Only display volume names")
    p = vs.add_parser("inspect", command="volume inspect")
    _format_flag(p, INSPECT_FORMATS, short=True)
    p.add_argument("names", nargs="+")
    p = vs.add_parser("rm", aliases=["remove"], command="volume rm")
    p.add_argument("-f", "--force", action="store_true", help="Force the removal of one or more volumes")
    p.add_argument("volumes", nargs="+")
    p = vs.add_parser("prune", command="volume prune")
    p.add_argument("-a", "--all", action="store_true", help="Remove all unused volumes, not just anonymous ones")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")

    sysp = sub.add_parser("system", command="system")
    ss = sysp.add_subparsers(dest="sys_cmd", metavar="COMMAND", parser_class=DockerArgParser, required=True)
    p = ss.add_parser("df", command="system df")
    _format_flag(p, LISTING_FORMATS)
    ss.add_parser("info", command="system info")
    ss.add_parser("reset", command="system reset").add_argument(
        "-f", "--force", action="store_true", help="Accepted for compatibility; reset never prompts"
    )

    tr = sub.add_parser("trace", command="trace")
    ts = tr.add_subparsers(dest="trace_cmd", metavar="COMMAND", parser_class=DockerArgParser, required=True)
    p = ts.add_parser("export", command="trace export")
    p.add_argument(
        "--format",
        choices=["jsonl", "perfetto", "mermaid"],
        default="jsonl",
        metavar="string",
        help='Output format ("jsonl", "perfetto", "mermaid") (default "jsonl")',
    )
    p.add_argument("-o", "--output", default="-", metavar="string", help="Write to a file, instead of STDOUT")

    for name, ops in (("container", ("prune",)), ("image", ("prune",))):
        grp = sub.add_parser(name, command=name)
        gs = grp.add_subparsers(dest=f"{name}_cmd", metavar="COMMAND", parser_class=DockerArgParser, required=True)
        if name == "image":
            gs.add_parser("bootstrap", command="image bootstrap", help="build busybox:latest from the host")
        for op in ops:
            p = gs.add_parser(op, command=f"{name} {op}")
            p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
            if name == "image":
                p.add_argument(
                    "-a", "--all", action="store_true", help="Remove all unused images, not just dangling ones"
                )
    sub.add_parser("tui", command="tui")
    from simulator.client.tools_cmd import add_image_tool_parsers

    add_image_tool_parsers(sub)
    from simulator.client.build_cmd import add_build_parser
    from simulator.client.push_cmd import add_push_parser

    add_push_parser(sub)
    add_build_parser(sub)
    root.add_argument("-H", "--host", default=None, metavar="list", help="Daemon socket to connect to")
    return root


def dispatch(s: Any, a: argparse.Namespace) -> int:
    from simulator.client import containers_cmd as cc
    from simulator.client import other_cmd as oc

    cmd = a.cmd
    table: dict[str, Any] = {
        "run": cc.cmd_run, "create": cc.cmd_create, "rm": cc.cmd_rm, "wait": cc.cmd_wait,
        "ps": cc.cmd_ps, "logs": cc.cmd_logs, "exec": cc.cmd_exec, "top": cc.cmd_top,
        "diff": cc.cmd_diff, "rename": cc.cmd_rename, "stats": cc.cmd_stats, "port": cc.cmd_port,
        "pull": oc.cmd_pull, "images": oc.cmd_images, "rmi": oc.cmd_rmi, "tag": oc.cmd_tag,
        "history": oc.cmd_history, "network": oc.cmd_network, "volume": oc.cmd_volume,
        "system": oc.cmd_system, "version": oc.cmd_version, "events": oc.cmd_events,
    }  # fmt: skip
    if cmd in _CONTAINER_OPS:
        return int(cc.cmd_simple(cmd)(s, a))
    if cmd == "inspect":
        return int(cc.cmd_inspect(s, a, a.type))
    if cmd == "info":
        a.sys_cmd = "info"
        return int(oc.cmd_system(s, a))
    if cmd == "container":
        return int(cc.cmd_container_prune(s, a))
    if cmd == "image":
        from simulator.client.tools_cmd import cmd_image_bootstrap

        if a.image_cmd == "bootstrap":
            return cmd_image_bootstrap(s, a)
        return int(oc.cmd_image_prune(s, a))
    if cmd == "build":
        from simulator.client.build_cmd import cmd_build

        return int(cmd_build(s, a))
    if cmd in ("load", "save"):
        from simulator.client import tools_cmd

        return int(tools_cmd.cmd_load(s, a) if cmd == "load" else tools_cmd.cmd_save(s, a))
    if cmd == "trace":
        return trace_export(s, a)
    if cmd == "push":
        from simulator.client.push_cmd import cmd_push

        return cmd_push(s, a)
    return int(table[cmd](s, a))


def trace_export(s: Any, a: argparse.Namespace) -> int:
    from simulator.trace.export_mermaid import to_mermaid
    from simulator.trace.export_perfetto import dumps_chrome_trace
    from simulator.trace.jsonl import dumps_spans

    spans = [sp for sp in s.transport.spans() if sp.trace_id != s.ctx.trace_id]
    if a.format == "jsonl":
        text = dumps_spans(spans)
    elif a.format == "perfetto":
        text = dumps_chrome_trace(spans)
    else:
        text = to_mermaid(spans)
    if a.output == "-":
        s.out.write(text if text.endswith("\n") else text + "\n")
    else:
        with open(a.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


def execute(
    world: Any, argv: list[str], out: Any, err: Any, tty: bool = False, transport: Any = None, stdin: Any = None
) -> int:
    """Parse and run one command line against ``world`` (or ``transport``); returns the exit code.

    ``stdin`` is what ``-i`` reads (a binary stream); without one the command has no input.
    """
    from simulator.client.session import EmbeddedTransport, Session
    from simulator.model.errors import DockerError

    parser = build_parser()
    try:
        a, extra = parser.parse_known_args(argv)
        command = parser.subcommand([a.cmd, *_subcommand(a)] if a.cmd else [])
        flag = next((x for x in extra if x.startswith("-") and x != "-"), None)
        if flag is not None:  # pflag rejects an unknown flag before it counts arguments
            raise command.flag_failure(unknown_flag_message(flag))
        if a.cmd and command.command:
            given = command.count_arguments(a) + len(extra)
            if arg_count_error(command.command, given) is not None or extra:
                raise command.arg_count_failure(given)
    except CliHelp as h:
        out.write(h.text)
        return 0
    except CliError as e:
        err.write(e.message + "\n")
        return e.code
    if not a.cmd:
        out.write(parser.format_help())
        return 0
    s = Session(transport or EmbeddedTransport(world), out, err, argv, tty=tty, stdin=stdin)
    code = 1
    try:
        code = dispatch(s, a)
    except CliError as e:
        err.write(e.message + "\n")
        code = e.code
    except DockerError as e:
        err.write(f"Error response from daemon: {e.message}\n")
        code = 125 if a.cmd == "run" else 1
    finally:
        s.finish(code)
    if a.trace:
        from simulator.trace.export_tree import render_span_tree

        err.write(render_span_tree(s.transport.spans(s.ctx.trace_id), as_text=True) + "\n")
    return code


def _subcommand(a: argparse.Namespace) -> list[str]:
    keys = ("net_cmd", "vol_cmd", "sys_cmd", "trace_cmd", "container_cmd", "image_cmd")
    return [str(getattr(a, k)) for k in keys if getattr(a, k, None)]


def run_embedded(world: Any, argv: list[str]) -> Any:
    from simulator.des.world import CliResult

    out, err = io.StringIO(), io.StringIO()
    code = execute(world, argv, out, err)
    return CliResult(code, out.getvalue(), err.getvalue())


def open_tui(argv: list[str], directory: Any) -> int:
    """``csim`` / ``csim tui [--host unix:///...] [--seed N]``: the Textual app."""
    parser = DockerArgParser(prog="csim tui", command="tui")
    parser.add_argument(
        "--host",
        "-H",
        default=os.environ.get("CSIM_HOST", ""),
        metavar="string",
        help="Daemon socket to connect to (default $CSIM_HOST, else the embedded world)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="int", help="Random seed of the embedded world")
    parser.add_argument("--lesson", default=None, metavar="string", help="Open the lesson with this ID")
    parser.add_argument("--serve", action="store_true", help="Serve the TUI to a web browser (textual-serve)")
    parser.add_argument(
        "--port", type=int, default=8000, metavar="int", help="Port for --serve, on 127.0.0.1 (default 8000)"
    )
    try:
        a = parser.parse_args(argv)
    except CliError as e:
        sys.stderr.write(e.message + "\n")
        return e.code
    if a.serve:
        from simulator.tui.serve import serve_tui

        return serve_tui(seed=a.seed, host=a.host, lesson=a.lesson, port=a.port)
    from simulator.tui.app import run_tui

    if a.host:
        run_tui(a.host, seed=a.seed, lesson=a.lesson)
        return 0
    from simulator.lessons.backends import BackendUnavailable, close_world, open_world
    from simulator.tui.backend import EmbeddedBackend

    backend = "sim"
    if a.lesson:  # a lesson that needs real isolation opens the linux world
        from simulator.lessons.catalog import Catalog, LessonNotFound

        try:
            backend = Catalog().load(a.lesson).backend
        except (LessonNotFound, ValueError):
            backend = "sim"  # the TUI itself reports an unknown lesson
    try:
        world = open_world(backend, directory, seed=a.seed, messages=sys.stderr, lesson_id=a.lesson or "")
    except BackendUnavailable as err:
        sys.stderr.write(f"csim: {err}\n")
        return 1
    try:
        run_tui(EmbeddedBackend(world), seed=a.seed, lesson=a.lesson, progress_path=directory / "lesson-progress.json")
    finally:
        close_world(world, directory, backend)
    return 0


def _global_value(argv: list[str], flag: str) -> str | None:
    """A global flag's value (``--flag X`` or ``--flag=X``) before the command."""
    for i, arg in enumerate(argv):
        if not arg.startswith("-"):
            return None
        if arg == flag:
            return argv[i + 1] if i + 1 < len(argv) else None
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def state_dir(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    if os.environ.get("CSIM_STATE"):
        return os.environ["CSIM_STATE"]
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "csim")


def main(argv: list[str] | None = None) -> int:
    """The ``csim`` entry point: never lets a traceback reach the user."""
    try:
        return _main(argv)
    except CliHelp as h:  # --help of csim's own commands (tui, registry, runtime)
        sys.stdout.write(h.text)
        return 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `csim ... | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as err:  # a bug in csim: say so briefly, keep the details
        import tempfile
        import traceback

        log = os.path.join(tempfile.gettempdir(), "csim-crash.log")
        with open(log, "a", encoding="utf-8") as fh:
            traceback.print_exc(file=fh)
        sys.stderr.write(f"csim: internal error: {err!r} (details in {log})\n")
        return 1


_GLOBAL_WITH_VALUE = ("--state", "--backend", "-H", "--host")


def _command_index(argv: list[str]) -> int:
    """Where the command word starts, after global flags (``--state X``, ``--trace``...)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _GLOBAL_WITH_VALUE else 1
    return i


def _only_known_globals(flags: list[str]) -> bool:
    """Whether the words before the command are all csim's global flags (and their values)."""
    i = 0
    while i < len(flags):
        if flags[i] in _GLOBAL_WITH_VALUE:
            i += 2
        elif flags[i] == "--trace" or any(flags[i].startswith(f + "=") for f in _GLOBAL_WITH_VALUE):
            i += 1
        else:
            return False
    return True


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from pathlib import Path

    at = _command_index(argv)
    command = argv[at] if at < len(argv) else ""
    rest = argv[at + 1 :]
    explicit = _global_value(argv, "--state")
    if any(a in ("-v", "--version") for a in argv[:at]):
        import simulator

        sys.stdout.write(f"csim version {simulator.__version__}\n")
        return 0
    only_globals = _only_known_globals(argv[:at])
    if command == "tui" or (command == "" and only_globals):
        return open_tui(rest, Path(state_dir(explicit)))
    if command == "daemon":
        from simulator.api.daemon_cmd import run_daemon

        return run_daemon(rest)
    if command in ("lesson", "demo", "class", "exercise"):
        from simulator.lessons.cli import main as lessons_main

        return lessons_main((["--state", explicit] if explicit else []) + argv[at:])
    if command in ("registry", "runtime"):
        from simulator.client import tools_cmd

        try:
            if command == "registry":
                return tools_cmd.run_registry_command(rest)
            return tools_cmd.run_runtime_command(rest)
        except CliError as e:
            sys.stderr.write(e.message + "\n")
            return e.code
    from simulator.client.http_transport import host_from_env

    host = host_from_env(_global_value(argv, "-H") or _global_value(argv, "--host"))
    if host:
        from simulator.client.http_transport import HttpTransport

        return execute(None, argv, sys.stdout, sys.stderr, sys.stdout.isatty(), HttpTransport(host), process_stdin())

    explicit = _global_value(argv, "--state")
    backend = _global_value(argv, "--backend") or os.environ.get("CSIM_BACKEND", "sim")
    directory = Path(state_dir(explicit))
    if backend == "linux":
        if os.geteuid() != 0:
            sys.stderr.write("csim: the linux backend needs root (namespaces, mounts, cgroups)\n")
            return 1
        directory = directory / "linux"
    if command == "system" and rest[:1] == ["reset"]:
        from simulator.des.persist import reset_state

        try:  # its flags first: ``system reset --help`` must print help, not wipe the world
            build_parser().subcommand(["system", "reset"]).parse_args(rest[1:])
        except CliError as e:
            sys.stderr.write(e.message + "\n")
            return e.code

        reset_state(directory)
        sys.stdout.write("Removed the simulated world's state.\n")
        return 0
    from simulator.des.persist import load_world, save_world

    world = load_world(directory, messages=sys.stderr, backend=backend)
    try:
        if backend == "linux":
            world.ensure_base_images()
        code = execute(world, argv, sys.stdout, sys.stderr, tty=sys.stdout.isatty(), stdin=process_stdin())
    except KeyboardInterrupt:
        code = 130
    finally:
        save_world(world, directory)
        close = getattr(world, "close", None)
        if callable(close):
            close()
    sys.stdout.flush()
    return code
