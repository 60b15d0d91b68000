"""Container commands: each is the sequence of API calls the docker CLI sends."""

from __future__ import annotations

import argparse
import re
from typing import Any, ClassVar

from simulator.client.output import (
    ListingRow,
    ProgressPrinter,
    ellipsis,
    go_marshal,
    go_time,
    is_default_format,
    table,
)
from simulator.client.run_opts import (
    OptionError,
    check_volume_spec,
    env_value,
    memory_bytes,
    nano_cpus,
    parse_port_spec,
    parse_restart_policy,
)
from simulator.client.session import CliError, Session
from simulator.client.template import TemplateError, compile_template
from simulator.client.terminal import NOT_A_TTY, raw_terminal, stdin_pump, write_raw
from simulator.client.units import created_ago, get_timestamp, human_size
from simulator.model.errors import DockerError
from simulator.model.reference import normalize
from simulator.model.timefmt import human_duration


def add_create_flags(p: argparse.ArgumentParser, run: bool = True) -> None:
    """``run``'s and ``create``'s flags (``-d`` is ``run``'s alone)."""
    p.add_argument("--name", default="", metavar="string", help="Assign a name to the container")
    if run:
        p.add_argument("-d", "--detach", action="store_true", help="Run container in background and print container ID")
    else:
        p.set_defaults(detach=False)
    p.add_argument("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    p.add_argument("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    p.add_argument(
        "--rm",
        action="store_true",
        help="Automatically remove the container and its associated anonymous volumes when it exits",
    )
    p.add_argument(
        "-e", "--env", type=env_value, action="append", default=[], metavar="list", help="Set environment variables"
    )
    p.add_argument("-v", "--volume", action="append", default=[], metavar="list", help="Bind mount a volume")
    p.add_argument(
        "-p",
        "--publish",
        action="append",
        default=[],
        metavar="list",
        help="Publish a container's port(s) to the host",
    )
    p.add_argument("-w", "--workdir", default="", metavar="string", help="Working directory inside the container")
    p.add_argument(
        "-u", "--user", default="", metavar="string", help="Username or UID (format: <name|uid>[:<group|gid>])"
    )
    p.add_argument("-h", "--hostname", default="", metavar="string", help="Container host name")
    p.add_argument("-l", "--label", action="append", default=[], metavar="list", help="Set meta data on a container")
    p.add_argument("-m", "--memory", type=memory_bytes, default=0, metavar="bytes", help="Memory limit")
    p.add_argument("--cpus", type=nano_cpus, default=0, metavar="decimal", help="Number of CPUs")
    p.add_argument(
        "--pids-limit", type=int, default=0, metavar="int", help="Tune container pids limit (set -1 for unlimited)"
    )
    p.add_argument("--network", "--net", default="", metavar="network", help="Connect a container to a network")
    p.add_argument(
        "--network-alias",
        action="append",
        default=[],
        metavar="list",
        help="Add network-scoped alias for the container",
    )
    p.add_argument(
        "--restart",
        default="no",
        metavar="string",
        help='Restart policy to apply when a container exits (default "no")',
    )
    p.add_argument("--entrypoint", default=None, metavar="string", help="Overwrite the default ENTRYPOINT of the image")
    p.add_argument("--stop-signal", default="", metavar="string", help="Signal to stop the container")
    p.add_argument(
        "--stop-timeout", type=int, default=None, metavar="int", help="Timeout (in seconds) to stop a container"
    )
    p.add_argument("--read-only", action="store_true", help="Mount the container's root filesystem as read only")
    p.add_argument("--runtime", default="", metavar="string", help="Runtime to use for this container")
    p.add_argument("image")
    p.add_argument("command", nargs=argparse.REMAINDER)


def create_body(a: argparse.Namespace) -> dict[str, Any]:
    """The ``POST /containers/create`` body the docker CLI builds from ``run``/``create`` flags.

    Raises:
        CliError: the CLI's own refusal (``csim: invalid containerPort: abc``...), exit 125.
    """
    try:
        return _create_body(a)
    except OptionError as err:
        raise CliError(_run_failed(str(err), a.cmd), 125) from None


def _create_body(a: argparse.Namespace) -> dict[str, Any]:
    if a.rm and a.restart and a.restart != "no":
        raise OptionError("conflicting options: cannot specify both --restart and --rm")
    for spec in a.volume:
        check_volume_spec(spec)
    normalize(a.image)  # the CLI rejects a bad reference before any request
    host: dict[str, Any] = {
        "Binds": a.volume or None,
        "NetworkMode": a.network or "default",
        "AutoRemove": a.rm,
        "ReadonlyRootfs": a.read_only,
    }
    if a.runtime:
        host["Runtime"] = a.runtime
    if a.memory:
        host["Memory"] = a.memory
    if a.cpus:
        host["NanoCpus"] = a.cpus
    if a.pids_limit:
        host["PidsLimit"] = a.pids_limit
    host["RestartPolicy"] = parse_restart_policy(a.restart)  # always sent, "no" by default, as the CLI does
    exposed: dict[str, Any] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in a.publish:
        for port, binding in parse_port_spec(spec):
            exposed[port] = {}
            bindings.setdefault(port, []).append(binding)
    if bindings:
        host["PortBindings"] = bindings
    env = list(a.env)
    body: dict[str, Any] = {
        "Hostname": a.hostname,
        "User": a.user,
        "AttachStdin": a.interactive and not a.detach,
        "AttachStdout": not a.detach,
        "AttachStderr": not a.detach,
        "Tty": a.tty,
        "OpenStdin": a.interactive,
        "StdinOnce": a.interactive and not a.detach,
        "Env": env,
        "Cmd": a.command or None,
        "Image": a.image,
        "WorkingDir": a.workdir,
        "Labels": dict(lbl.partition("=")[::2] for lbl in a.label),
        "HostConfig": host,
        "ExposedPorts": exposed or None,
        "NetworkingConfig": {"EndpointsConfig": {a.network or "default": {"Aliases": a.network_alias or None}}},
    }
    if a.entrypoint is not None:
        body["Entrypoint"] = [a.entrypoint] if a.entrypoint else [""]
    if a.stop_signal:
        body["StopSignal"] = a.stop_signal
    if a.stop_timeout is not None:
        body["StopTimeout"] = a.stop_timeout
    return body


def pull_image(s: Session, image: str, out: Any, quiet: bool = False) -> None:
    ref = normalize(image)
    tag = ref.digest or ref.tag or "latest"
    resp = s.call("POST", "/images/create", {"fromImage": ref.name, "tag": tag})
    if resp.status >= 400:
        raise DockerError(resp.body.get("message", ""), resp.status)
    printer = ProgressPrinter(out, s.tty)
    s.drain(resp, None if quiet else printer.feed)
    if printer.error:
        raise DockerError(printer.error, 500)


def create_container(s: Session, a: argparse.Namespace) -> str:
    body = create_body(a)
    query = {"name": a.name} if a.name else None
    resp = s.call("POST", "/containers/create", query, body)
    if resp.status == 404 and "No such image" in str((resp.body or {}).get("message", "")):
        ref = normalize(a.image)
        s.err.write(f"Unable to find image '{ref.familiar_string()}' locally\n")
        pull_image(s, a.image, s.err)
        resp = s.call("POST", "/containers/create", query, body)
    if resp.status >= 400:
        raise DockerError(resp.body.get("message", ""), resp.status)
    for w in resp.body.get("Warnings") or []:
        s.err.write(f"WARNING: {w}\n")
    return str(resp.body["Id"])


def _write_entry(s: Session, entry: Any) -> None:
    stream = s.err if entry.stream == "stderr" else s.out
    stream.write(entry.data.decode("utf-8", "replace"))


def _check_tty(s: Session, a: argparse.Namespace) -> None:
    """The docker CLI's ``CheckTty``: ``-it`` attached needs a terminal on stdin (checked before any change)."""
    if a.interactive and a.tty and not a.detach and not s.stdin_tty:
        raise CliError(NOT_A_TTY, 1)


def _send_stdin(s: Session, hijack: Any) -> None:
    """``-i`` without a terminal: send all of stdin (none if the command has none), then half-close."""
    data = s.stdin.read() if s.stdin is not None else b""
    if data:
        hijack.feed(data)
    hijack.feed(None)


def _run_failed(message: str, command: str = "run") -> str:
    """How ``docker run``/``create`` report an error of their own or the daemon's (docker CLI 28's ``withHelp``)."""
    return f"csim: {message}\n\nRun 'csim {command} --help' for more information"


def _start_failure_code(message: str) -> int:
    """docker run's ``toStatusError``: 127 for a missing program, 126 for one it may not run, else 125."""
    if "executable file not found" in message or "no such file or directory" in message:
        return 127
    if "permission denied" in message or "is a directory" in message:
        return 126
    return 125


def cmd_run(s: Session, a: argparse.Namespace) -> int:
    _check_tty(s, a)
    try:
        normalize(a.image)
    except DockerError as err:
        raise CliError(_run_failed(err.message), 125) from None
    try:
        cid = create_container(s, a)
    except DockerError as err:
        raise CliError(_run_failed(f"Error response from daemon: {err.message}"), 125) from None
    attach = None if a.detach else _attach(s, cid, a.interactive)
    wait = s.call("POST", f"/containers/{cid}/wait", {"condition": "removed" if a.rm else "next-exit"})
    start = s.call("POST", f"/containers/{cid}/start")
    if start.status >= 400:
        msg = start.body.get("message", "")
        s.err.write(_run_failed(f"Error response from daemon: {msg}") + "\n")
        return _start_failure_code(msg)
    if attach is None:
        s.out.write(cid + "\n")
        return 0
    return _follow(s, attach, wait, a.interactive, a.tty)


def _attach(s: Session, cid: str, stdin: bool) -> Any:
    """``POST /containers/{id}/attach`` before the start, as the CLI does, so no output is missed."""
    q = {"stream": 1, "stdout": 1, "stderr": 1}
    if stdin:
        q["stdin"] = 1
    attach = s.call("POST", f"/containers/{cid}/attach", q)
    if stdin and not s.stdin_tty and attach.hijack not in (None, True):
        _send_stdin(s, attach.hijack)
    return attach


def _copy_output(s: Session, resp: Any, stdin: bool, tty: bool) -> None:
    """Copy an attached stream's output until it ends; a terminal's keys go in as typed (raw mode)."""
    if stdin and s.stdin_tty and s.stdin is not None and resp.hijack not in (None, True):
        pump = stdin_pump(s.stdin, resp.hijack.feed)
        with raw_terminal(s.stdin, tty):
            s.drain(resp, lambda e: write_raw(s.out, e.data), follow=True, stdin=pump)
    else:
        s.drain(resp, lambda e: _write_entry(s, e))


def _follow(s: Session, attach: Any, wait: Any, stdin: bool, tty: bool) -> int:
    """Copy the container's output (and a terminal's keys in) until it exits; its exit code."""
    _copy_output(s, attach, stdin, tty)
    result = s.drain(wait)
    return int(result[0]["StatusCode"]) if result else 0


def start_attached(s: Session, a: argparse.Namespace) -> int:
    """``docker start -a [-i] CONTAINER``: attach, start, copy the output, exit with the container's code."""
    if len(a.containers) > 1:
        raise CliError("you cannot start and attach multiple containers at once", 1)
    info = s.json("GET", f"/containers/{a.containers[0]}/json")
    config = info.get("Config") or {}
    if a.interactive and config.get("Tty") and not s.stdin_tty:
        raise CliError(NOT_A_TTY, 1)
    cid = str(info["Id"])
    attach = _attach(s, cid, bool(a.interactive and config.get("OpenStdin")))
    auto_remove = (info.get("HostConfig") or {}).get("AutoRemove")
    wait = s.call("POST", f"/containers/{cid}/wait", {"condition": "removed" if auto_remove else "next-exit"})
    start = s.call("POST", f"/containers/{cid}/start")
    if start.status >= 400:
        raise DockerError(start.body.get("message", ""), start.status)
    return _follow(s, attach, wait, bool(a.interactive), bool(config.get("Tty")))


def cmd_create(s: Session, a: argparse.Namespace) -> int:
    try:
        cid = create_container(s, a)
    except DockerError as err:
        raise CliError(f"Error response from daemon: {err.message}", 1) from None
    s.out.write(cid + "\n")
    return 0


def _each(s: Session, names: list[str], fn: Any, fail_label: str = "") -> int:
    code = 0
    failed = []
    for name in names:
        try:
            fn(name)
        except DockerError as err:
            s.err.write(f"Error response from daemon: {err.message}\n")
            failed.append(name)
            code = 1
    if failed and fail_label:
        s.err.write(f"Error: failed to {fail_label} containers: {', '.join(failed)}\n")
    return code


def cmd_simple(op: str) -> Any:
    def run(s: Session, a: argparse.Namespace) -> int:
        if op == "start" and (a.attach or a.interactive):
            return start_attached(s, a)

        def one(name: str) -> None:
            q: dict[str, Any] = {}
            if getattr(a, "time", None) is not None:
                q["t"] = a.time
            if getattr(a, "signal", None):
                q["signal"] = a.signal
            s.json("POST", f"/containers/{name}/{op}", q or None)
            s.out.write(name + "\n")

        label = {"start": "start"}.get(op, "")
        return _each(s, a.containers, one, label)

    return run


def cmd_rm(s: Session, a: argparse.Namespace) -> int:
    def one(name: str) -> None:
        try:
            s.json("DELETE", f"/containers/{name}", {"force": a.force or None, "v": a.volumes or None})
        except DockerError as err:
            if not (a.force and err.status == 404):
                raise
            s.err.write(f"Error response from daemon: {err.message}\n")  # -f: said, not a failure
            return
        s.out.write(name + "\n")

    return _each(s, a.containers, one)


def cmd_wait(s: Session, a: argparse.Namespace) -> int:
    def one(name: str) -> None:
        result = s.json("POST", f"/containers/{name}/wait")
        s.out.write(f"{result[0]['StatusCode']}\n")

    return _each(s, a.containers, one)


def flag_filters(raw: list[str]) -> dict[str, dict[str, bool]]:
    """``-f name=value`` flags (``filter_value`` checked their form) as the API's ``filters`` map."""
    filters: dict[str, dict[str, bool]] = {}
    for item in raw:
        key, _, value = item.partition("=")
        filters.setdefault(key, {})[value] = True
    return filters


def _ps_rows(s: Session, a: argparse.Namespace) -> list[dict[str, Any]]:
    filters = flag_filters(a.filter)
    q: dict[str, Any] = {"all": 1 if a.all or a.latest or a.last else None}  # -l and -n include every state
    if a.size or ".Size" in (a.format or ""):
        q["size"] = 1  # as the CLI: sizes are asked for when they will be shown
    if filters:
        q["filters"] = filters
    if a.last or a.latest:
        q["limit"] = 1 if a.latest else a.last
    rows: list[dict[str, Any]] = s.json("GET", "/containers/json", q)
    return rows[:1] if a.latest else rows


class PsRow(ListingRow):
    """The fields ``docker ps --format`` exposes (and ``--format json`` prints)."""

    JSON_EXTRA: ClassVar[dict[str, Any]] = {"Platform": None}

    def __init__(self, c: dict[str, Any], now: float, trunc: bool) -> None:
        self.ID = c["Id"][:12] if trunc else c["Id"]
        self.Image = c["Image"]
        cmd = c["Command"]
        self.Command = '"' + (ellipsis(cmd, 20) if trunc else cmd) + '"'
        self.CreatedAt = go_time(c["Created"])
        self.RunningFor = created_ago(c["Created"], now)
        self.Status = c["Status"]
        self.State = c["State"]
        self.Ports = ", ".join(_port(p) for p in c.get("Ports") or [])
        self.Names = ",".join(n.lstrip("/") for n in c["Names"])
        self.Labels = ",".join(f"{k}={v}" for k, v in (c.get("Labels") or {}).items())
        self.Networks = ",".join((c.get("NetworkSettings") or {}).get("Networks") or {})
        mounts = c.get("Mounts") or []
        self.Mounts = ",".join(m.get("Name", m.get("Source", "")) for m in mounts)
        self.LocalVolumes = str(sum(1 for m in mounts if m.get("Type") == "volume" and m.get("Driver") == "local"))
        size_rw = human_size(int(c.get("SizeRw") or 0))
        self.Size = f"{size_rw} (virtual {human_size(int(c['SizeRootFs']))})" if c.get("SizeRootFs") else size_rw


def _port(p: dict[str, Any]) -> str:
    if p.get("PublicPort"):
        return f"{p.get('IP', '0.0.0.0')}:{p['PublicPort']}->{p['PrivatePort']}/{p['Type']}"
    return f"{p['PrivatePort']}/{p['Type']}"


def cmd_ps(s: Session, a: argparse.Namespace) -> int:
    rows = _ps_rows(s, a)
    now = s.now()
    items = [PsRow(c, now, not a.no_trunc) for c in rows]
    if a.quiet:
        s.out.write("".join(r.ID + "\n" for r in items))
        return 0
    if not is_default_format(a.format):
        return render_format(s, a.format, items)
    headers = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    cells = [[r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names] for r in items]
    if a.size:
        headers.append("SIZE")
        cells = [[*row, r.Size] for row, r in zip(cells, items, strict=True)]
    s.out.write(table(headers, cells))
    return 0


HEADERS = {
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "Status": "STATUS",
    "State": "STATE",
    "Ports": "PORTS",
    "Names": "NAMES",
    "Labels": "LABELS",
    "Networks": "NETWORKS",
    "Mounts": "MOUNTS",
    "Size": "SIZE",
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "Digest": "DIGEST",
    "CreatedSince": "CREATED",
}


def render_format(
    s: Session,
    fmt: str,
    items: list[Any],
    id_header: str = "CONTAINER ID",
    headers: dict[str, str] | None = None,
) -> int:
    """``--format``: a Go template per row, with docker's headers for ``table`` formats."""
    try:
        tpl = compile_template(fmt)
    except TemplateError as err:
        raise CliError(f"failed to parse template: {err}", 1) from None
    try:
        lines = [tpl.execute(item) for item in items]
        if tpl.is_table:
            names = headers if headers is not None else {**HEADERS, "ID": id_header}
            header = tpl.header({f: names.get(f, f.upper()) for f in tpl.header_fields})
            rows = [line.split("\t") for line in lines]
            width = max([len(r) for r in rows] + [len(header.split("\t"))])
            s.out.write(table(_pad(header.split("\t"), width), [_pad(r, width) for r in rows]))
        else:
            s.out.write("".join(line + "\n" for line in lines))
    except TemplateError as err:
        raise CliError(f"failed to execute template: {err}", 1) from None
    return 0


def _pad(row: list[str], width: int) -> list[str]:
    return row + [""] * (width - len(row))


def api_timestamp(s: Session, value: str) -> str:
    """``--since``/``--until`` as the API wants them (seconds.nanoseconds), or docker's error (exit 1)."""
    try:
        return get_timestamp(value, s.now())
    except ValueError as err:
        raise CliError(str(err), 1) from None


def cmd_logs(s: Session, a: argparse.Namespace) -> int:
    info = s.json("GET", f"/containers/{a.container}/json")
    q = {
        "stdout": 1,
        "stderr": 1,
        "since": api_timestamp(s, a.since) if a.since else None,
        "until": api_timestamp(s, a.until) if a.until else None,
        "tail": a.tail,
        "follow": 1 if a.follow else None,
        "timestamps": 1 if a.timestamps else None,
    }
    resp = s.call("GET", f"/containers/{info['Id']}/logs", q)
    if resp.status >= 400:
        raise DockerError(resp.body.get("message", ""), resp.status)

    def show(entry: Any) -> None:
        (s.err if entry.stream == "stderr" else s.out).write(entry.data.decode("utf-8", "replace"))

    s.drain(resp, show, follow=a.follow)
    return 0


_SWARM_ONLY = (
    'Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or '
    '"docker swarm join" to connect this node to swarm and try again.'
)


def _not_inspected(kind: str, name: str) -> str:
    """What ``docker inspect [--type KIND] NAME`` says when nothing is found (csim has no swarm, no plugins)."""
    if kind in ("config", "node", "secret", "service", "task"):
        return _SWARM_ONLY
    if kind == "plugin":
        return f'Error response from daemon: plugin "{name}" not found'
    return f"Error: No such {kind or 'object'}: {name}"


INSPECT_TYPES = ("config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume")


def cmd_inspect(s: Session, a: argparse.Namespace, kind: str = "") -> int:
    import json as _json

    if kind and kind not in INSPECT_TYPES:
        choices = ", ".join(f'"{t}"' for t in INSPECT_TYPES)
        raise CliError(f'unknown type: "{kind}": must be one of {choices}', 1)
    results: list[Any] = []
    code = 0
    for name in a.names:
        found = None
        paths = {
            "container": [f"/containers/{name}/json"],
            "image": [f"/images/{name}/json"],
            "network": [f"/networks/{name}"],
            "volume": [f"/volumes/{name}"],
        }
        everywhere = [p for k in ("container", "image", "network", "volume") for p in paths[k]]
        order = paths.get(kind, []) if kind else everywhere
        for path in order:
            resp = s.call("GET", path)
            if resp.status == 200:
                found = resp.body
                break
        if found is None:
            s.err.write(_not_inspected(kind, name) + "\n")
            code = 1
            continue
        results.append(found)
    if a.format == "json":  # the CLI's JSON inspector: every object, one compact array
        s.out.write(go_marshal(results) + "\n")
    elif a.format:
        try:
            tpl = compile_template(a.format, formatter=False)
            for r in results:
                s.out.write(tpl.execute(r) + "\n")
        except TemplateError as err:
            raise CliError(f"template parsing error: {err}", 1) from None
    else:
        s.out.write(_json.dumps(results, indent=4, ensure_ascii=False) + "\n")
    return code


def cmd_exec(s: Session, a: argparse.Namespace) -> int:
    info = s.json("GET", f"/containers/{a.container}/json")  # "No such container" comes first, as in docker
    _check_tty(s, a)
    body = {
        "User": a.user,
        "Privileged": False,
        "Tty": a.tty,
        "AttachStdin": a.interactive,
        "AttachStderr": True,
        "AttachStdout": True,
        "Detach": a.detach,
        "DetachKeys": "",
        "Env": a.env or None,
        "WorkingDir": a.workdir,
        "Cmd": a.command,
    }
    created = s.json("POST", f"/containers/{a.container}/exec", None, body)
    eid = created["Id"]
    resp = s.call("POST", f"/exec/{eid}/start", None, {"Detach": a.detach, "Tty": a.tty})
    if resp.status >= 400:
        raise DockerError(resp.body.get("message", ""), resp.status)
    if a.detach:
        return 0
    if a.interactive and not s.stdin_tty and resp.hijack not in (None, True):
        _send_stdin(s, resp.hijack)
    _copy_output(s, resp, a.interactive, a.tty)
    result = s.json("GET", f"/exec/{eid}/json")
    _ = info
    return int(result.get("ExitCode") or 0)


def cmd_top(s: Session, a: argparse.Namespace) -> int:
    body = s.json("GET", f"/containers/{a.container}/top")
    s.out.write(table(body["Titles"], body["Processes"]))
    return 0


def cmd_diff(s: Session, a: argparse.Namespace) -> int:
    rows = s.json("GET", f"/containers/{a.container}/changes") or []
    kinds = {0: "C", 1: "A", 2: "D"}
    s.out.write("".join(f"{kinds[r['Kind']]} {r['Path']}\n" for r in rows))
    return 0


def cmd_rename(s: Session, a: argparse.Namespace) -> int:
    try:
        s.json("POST", f"/containers/{a.old}/rename", {"name": a.new})
    except DockerError as err:
        s.err.write(f"Error response from daemon: {err.message}\n")
        raise CliError(f"Error: failed to rename container named {a.old}", 1) from None
    return 0


def cmd_port(s: Session, a: argparse.Namespace) -> int:
    """``docker port CONTAINER [PRIVATE_PORT[/PROTO]]``: where the container's ports are published."""
    info = s.json("GET", f"/containers/{a.container}/json")
    ports: dict[str, Any] = (info.get("NetworkSettings") or {}).get("Ports") or {}
    out: list[str] = []
    if a.port:
        number, _, proto = a.port.partition("/")
        if not number.isdigit() or int(number) > 65535:
            raise CliError(f'Error: invalid port ({number}): strconv.ParseUint: parsing "{number}": invalid syntax', 1)
        bindings = ports.get(f"{number}/{proto or 'tcp'}")
        if not bindings:
            raise CliError(f"Error: No public port '{a.port}' published for {a.container}", 1)
        out = [_host_port(b) for b in bindings]
    else:
        out = [f"{private} -> {_host_port(b)}" for private, bindings in ports.items() for b in bindings or []]
    if out:
        s.out.write("\n".join(sorted(out, key=_natural)) + "\n")
    return 0


def _host_port(binding: dict[str, Any]) -> str:
    """Go's ``net.JoinHostPort``: IPv6 hosts in brackets."""
    host = str(binding.get("HostIp") or "")
    return f"[{host}]:{binding.get('HostPort')}" if ":" in host else f"{host}:{binding.get('HostPort')}"


def _natural(text: str) -> list[Any]:
    """The CLI sorts port lines naturally: ``80/tcp`` before ``443/tcp``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def cmd_stats(s: Session, a: argparse.Namespace) -> int:
    from simulator.client.units import bytes_size

    names = a.containers or [c["Id"][:12] for c in s.json("GET", "/containers/json")]
    rows = []
    for name in names:
        st = s.json("GET", f"/containers/{name}/stats", {"stream": 0})[0]
        mem = st.get("memory_stats") or {}
        usage, limit = mem.get("usage", 0), mem.get("limit", 0)
        pct = (usage / limit * 100) if limit else 0.0
        cpu = st["cpu_stats"]["cpu_usage"]["total_usage"]
        net = (st.get("networks") or {}).get("eth0", {})
        rows.append(
            [
                st["id"][:12],
                st["name"].lstrip("/"),
                f"{0.0 if not cpu else min(cpu / 1e9, 100):.2f}%",
                f"{bytes_size(usage)} / {bytes_size(limit)}",
                f"{pct:.2f}%",
                f"{bytes_size(net.get('rx_bytes', 0))} / {bytes_size(net.get('tx_bytes', 0))}",
                "0B / 0B",
                str((st.get("pids_stats") or {}).get("current", 0)),
            ]
        )
    s.out.write(
        table(
            [
                "CONTAINER ID",
                "NAME",
                "CPU %",
                "MEM USAGE / LIMIT",
                "MEM %",
                "NET I/O",
                "BLOCK I/O",
                "PIDS",
            ],
            rows,
        )
    )
    return 0


def cmd_container_prune(s: Session, a: argparse.Namespace) -> int:
    result = s.json("POST", "/containers/prune")
    ids = result.get("ContainersDeleted") or []
    if ids:
        s.out.write("Deleted Containers:\n" + "".join(i + "\n" for i in ids) + "\n")
    s.out.write(f"Total reclaimed space: {human_size(int(result.get('SpaceReclaimed') or 0))}\n")
    return 0


def uptime(seconds: float) -> str:
    return human_duration(seconds)
