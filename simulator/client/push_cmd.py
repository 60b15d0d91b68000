"""``csim push NAME[:TAG]``: the requests ``docker push`` sends and the lines it prints."""

from __future__ import annotations

import argparse
from typing import Any

from simulator.client.output import ProgressPrinter
from simulator.client.session import CliError, Session
from simulator.model.errors import DockerError
from simulator.model.reference import normalize


def add_push_parser(sub: Any) -> None:
    """Register ``push`` on the top-level subparsers."""
    p = sub.add_parser("push", command="push", help="upload an image to a registry")
    p.add_argument("-a", "--all-tags", action="store_true", help="Push all tags of an image to the repository")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("name")


def cmd_push(s: Session, a: argparse.Namespace) -> int:
    """Push one tag (or ``--all-tags``); stream errors print bare, as the docker CLI prints them."""
    try:
        ref = normalize(a.name)
    except DockerError as err:
        raise CliError(f"invalid reference format: {err.message}", 1) from None
    explicit = ":" in a.name.rsplit("/", 1)[-1] or "@" in a.name
    if a.all_tags and explicit:
        raise CliError("tag can't be used with --all-tags/-a", 1)
    tag = "" if a.all_tags else (ref.digest or ref.tag or "latest")
    if not a.all_tags and not explicit:
        s.out.write("Using default tag: latest\n")
    resp = s.call("POST", f"/images/{ref.familiar_name()}/push", {"tag": tag})
    if resp.status >= 400:
        message = resp.body.get("message", "") if isinstance(resp.body, dict) else ""
        raise CliError(f"Error response from daemon: {message}", 1)
    printer = ProgressPrinter(s.out, s.tty)
    s.drain(resp, None if a.quiet else printer.feed)
    if printer.error:
        raise CliError(printer.error, 1)
    if a.quiet:
        s.out.write(ref.familiar_string() + "\n")
    return 0
