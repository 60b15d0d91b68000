"""Commands that need no daemon (``registry``, ``runtime``) and image tarball commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from simulator.client.parser import DockerArgParser
from simulator.client.session import CliError, Session
from simulator.model.errors import DockerError


def add_image_tool_parsers(sub: Any) -> None:
    p = sub.add_parser("load", command="load", help="load images from a tar archive")
    p.add_argument("-i", "--input", default="-", metavar="string", help="Read from tar archive file, instead of STDIN")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the load output")
    p = sub.add_parser("save", command="save", help="save images to a tar archive")
    p.add_argument("-o", "--output", default="-", metavar="string", help="Write to a file, instead of STDOUT")
    p.add_argument("images", nargs="+")


def cmd_load(s: Session, a: argparse.Namespace) -> int:
    if a.input == "-":
        if s.stdin is None or s.stdin_tty:
            raise CliError("requested load from stdin, but stdin is empty", 1)
        data = s.stdin.read()
    else:
        try:
            data = Path(a.input).read_bytes()
        except OSError as err:
            raise CliError(f"open {a.input}: {err.strerror.lower() if err.strerror else err}", 1) from None
    for msg in s.json("POST", "/images/load", {"quiet": 1 if a.quiet else None}, data):
        if not a.quiet:
            s.out.write(str(msg.get("stream", "")))
    return 0


def cmd_save(s: Session, a: argparse.Namespace) -> int:
    if a.output == "-" and sys.stdout.isatty():
        raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1)
    resp = s.call("GET", "/images/get", {"names": a.images})
    if resp.status >= 400:
        raise DockerError(resp.body.get("message", ""), resp.status)
    data = resp.raw or b""
    if a.output == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(a.output).write_bytes(data)
    return 0


def cmd_image_bootstrap(s: Session, a: argparse.Namespace) -> int:
    """``csim image bootstrap``: busybox:latest from the host's busybox, loaded like ``docker load``."""
    from simulator.daemon.archive import save_archive_bytes
    from simulator.daemon.bootstrap import bootstrap_busybox

    system = str(s.json("GET", "/info").get("OperatingSystem", ""))
    if "(sim backend)" in system:
        raise CliError(
            "csim image bootstrap builds busybox:latest from this machine's busybox for the linux backend "
            "(csim --backend linux image bootstrap); the simulated world's hub already has busybox, and a real "
            "binary cannot run in its virtual kernel",
            1,
        )

    tarball = save_archive_bytes([bootstrap_busybox()])
    for msg in s.json("POST", "/images/load", None, tarball):
        s.out.write(str(msg.get("stream", "")))
    return 0


def run_registry_command(argv: list[str]) -> int:
    """``csim registry [--addr 127.0.0.1:5000] [--root DIR] [--read-only] [--htpasswd FILE]``."""
    p = DockerArgParser(prog="csim registry", command="registry")
    p.add_argument(
        "--addr", default="127.0.0.1:5000", metavar="string", help='Address to listen on (default "127.0.0.1:5000")'
    )
    p.add_argument(
        "--root",
        default=None,
        metavar="string",
        help='Directory that stores the blobs and manifests (default "~/.local/share/csim/registry")',
    )
    p.add_argument("--read-only", action="store_true", help="Refuse every push and delete")
    p.add_argument(
        "--htpasswd", default=None, metavar="string", help="Require basic auth, with the users of this htpasswd file"
    )
    p.add_argument("--allow-remote", action="store_true", help="Allow listening on a non-loopback address")
    p.add_argument(
        "--seed", action="store_true", help="Push the bootstrapped busybox to the registry at --addr, then exit"
    )
    a = p.parse_args(argv)
    if a.seed:
        from simulator.daemon.push import seed_registry

        try:
            seed_registry(a.addr, sys.stdout)
        except DockerError as err:
            raise CliError(f"csim registry --seed: {err.message}", 1) from None
        return 0
    from simulator.registry.server import run_registry

    users = None
    if a.htpasswd:
        from simulator.registry.auth import load_htpasswd

        users = load_htpasswd(Path(a.htpasswd))
    try:
        return run_registry(
            a.addr,
            Path(a.root) if a.root else None,
            read_only=a.read_only,
            users=users,
            allow_remote=a.allow_remote,
        )
    except DockerError as err:
        raise CliError(f"csim registry: {err.message}", 1) from None


def run_runtime_command(argv: list[str]) -> int:
    """``csim runtime create|start|state|kill|delete``: the OCI runtime command line (built-in runtime)."""
    import json

    from simulator.runtime.oci import cli as oci

    p = DockerArgParser(prog="csim runtime", command="runtime")
    p.add_argument(
        "--root",
        default="/run/csim-runtime",
        metavar="string",
        help='Where the runtime keeps container state (default "/run/csim-runtime")',
    )
    sub = p.add_subparsers(dest="op", metavar="COMMAND", required=True, parser_class=DockerArgParser)
    c = sub.add_parser("create", command="runtime create")
    c.add_argument("--bundle", "-b", default=".", metavar="string", help='Path to the bundle directory (default ".")')
    c.add_argument("id")
    for name in ("start", "state"):
        sub.add_parser(name, command=f"runtime {name}").add_argument("id")
    k = sub.add_parser("kill", command="runtime kill")
    k.add_argument("id")
    k.add_argument("signal", nargs="?", default="SIGTERM")
    d = sub.add_parser("delete", command="runtime delete")
    d.add_argument("--force", "-f", action="store_true", help="Delete the container even if it is running (kills it)")
    d.add_argument("id")
    a = p.parse_args(argv)
    root = Path(a.root)
    try:
        if a.op == "create":
            oci.oci_create(Path(a.bundle), a.id, root)
        elif a.op == "start":
            oci.oci_start(a.id, root)
        elif a.op == "state":
            sys.stdout.write(json.dumps(oci.oci_state(a.id, root), indent=2) + "\n")
        elif a.op == "kill":
            oci.oci_kill(a.id, root, a.signal)
        else:
            oci.oci_delete(a.id, root, a.force)
    except DockerError as err:
        raise CliError(f"csim runtime {a.op}: {err.message}", 1) from None
    except OSError as err:
        raise CliError(f"csim runtime {a.op}: {err}", 1) from None
    return 0
