"""``csim build``: tar the context, ``POST /build``, print the classic builder's stream.

The same request the docker CLI sends without the buildx plugin (see the
Engine API reference, §6): ``POST /build?t=...&dockerfile=...`` with the
context tar as the body. The CLI prints ``Sending build context to Docker
daemon  3.072kB`` itself, then every ``stream`` message as it arrives; a
failed step ends the stream with ``errorDetail``, printed on stderr, and
the CLI exits with the failed command's code (``RUN exit 3`` gives 3).

Public API: :func:`add_build_parser` and :func:`cmd_build`.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from simulator.client.session import CliError, Session

OUTSIDE_DOCKERFILE = ".dockerfile.csim"


def add_build_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``build`` on the CLI's subparsers; returns its parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "build", command="build", help="build an image from a Dockerfile"
    )
    p.add_argument(
        "-t",
        "--tag",
        action="append",
        default=[],
        metavar="list",
        help='Name and optionally a tag in the "name:tag" format',
    )
    p.add_argument(
        "-f", "--file", default="", metavar="string", help='Name of the Dockerfile (Default is "PATH/Dockerfile")'
    )
    p.add_argument(
        "--build-arg", action="append", default=[], dest="build_arg", metavar="list", help="Set build-time variables"
    )
    p.add_argument("--label", action="append", default=[], metavar="list", help="Set metadata for an image")
    p.add_argument("--no-cache", action="store_true", dest="no_cache", help="Do not use cache when building the image")
    p.add_argument("--pull", action="store_true", help="Always attempt to pull a newer version of the image")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the build output and print image ID on success")
    p.add_argument(
        "--rm",
        default="true",
        metavar="string",
        help='Remove intermediate containers after a successful build ("false" keeps them) (default "true")',
    )
    p.add_argument("--force-rm", action="store_true", dest="force_rm", help="Always remove intermediate containers")
    p.add_argument("--target", default="", metavar="string", help="Set the target build stage to build.")
    p.add_argument("path")
    return p


def _build_args(values: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for item in values:
        key, eq, value = item.partition("=")
        out[key] = value if eq else os.environ.get(key)
    return out


def _context(a: argparse.Namespace) -> tuple[bytes, str]:
    from simulator.client.build_context import make_context_tar

    path = a.path
    if not os.path.isdir(path):
        raise CliError(f'unable to prepare context: path "{path}" not found', 1)
    dockerfile = a.file or os.path.join(path, "Dockerfile")
    full = os.path.abspath(dockerfile)
    if not os.path.isfile(full):
        raise CliError(
            "unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
            f"lstat {full}: no such file or directory",
            1,
        )
    rel = os.path.relpath(full, os.path.abspath(path)).replace(os.sep, "/")
    if rel.startswith("../"):
        return _with_outside_dockerfile(make_context_tar(path), full), OUTSIDE_DOCKERFILE
    return make_context_tar(path, rel), rel


def _with_outside_dockerfile(context: bytes, dockerfile: str) -> bytes:
    """Append a Dockerfile from outside the context, as the CLI does."""
    import io
    import tarfile

    with open(dockerfile, "rb") as fh:
        data = fh.read()
    buf = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(context), mode="r:") as src,
        tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for info in src:
            tar.addfile(info, src.extractfile(info) if info.isreg() else None)
        info = tarfile.TarInfo(OUTSIDE_DOCKERFILE)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
        end = tar.offset
    return buf.getvalue()[:end] + b"\0" * 1024


def cmd_build(s: Session, a: argparse.Namespace) -> int:
    """``csim build -t NAME:TAG [-f FILE] [--build-arg K=V] [--no-cache] [--target S] PATH``."""
    from simulator.client.output import ProgressPrinter
    from simulator.client.units import human_size
    from simulator.model.errors import DockerError
    from simulator.model.reference import normalize

    for tag in a.tag:
        try:
            normalize(tag)
        except DockerError as err:
            raise CliError(
                f'invalid argument "{tag}" for "-t, --tag" flag: {err.message}\nSee \'csim build --help\'.',
                125,
            ) from None
    context, dockerfile = _context(a)
    if not a.quiet:
        s.out.write(f"Sending build context to Docker daemon  {human_size(len(context), 4)}\n")
    query: dict[str, Any] = {"dockerfile": dockerfile, "version": "1"}
    if a.tag:
        query["t"] = list(a.tag)
    if a.build_arg:
        query["buildargs"] = _build_args(a.build_arg)
    if a.label:
        query["labels"] = {k: v for k, _, v in (x.partition("=") for x in a.label)}
    for flag, key in (("no_cache", "nocache"), ("pull", "pull"), ("quiet", "q"), ("force_rm", "forcerm")):
        if getattr(a, flag):
            query[key] = 1
    if str(a.rm).lower() in ("false", "0"):
        query["rm"] = 0
    if a.target:
        query["target"] = a.target
    resp = s.call("POST", "/build", query, context)
    if resp.status >= 400:
        message = (resp.body or {}).get("message", "") if isinstance(resp.body, dict) else ""
        raise DockerError(message, resp.status)
    printer = ProgressPrinter(s.out, s.tty)
    failure: dict[str, Any] = {}

    def on_message(msg: dict[str, Any]) -> None:
        if "errorDetail" in msg or "error" in msg:
            failure.update(msg.get("errorDetail") or {"message": msg.get("error", "")})
            return
        if a.quiet and "stream" in msg:
            s.out.write(str(msg["stream"]))
            return
        printer.feed(msg)

    s.drain(resp, on_message)
    if failure:
        raise CliError(str(failure.get("message", "")), int(failure.get("code") or 1))
    return 0
