"""Helpers for the build tests: write a context directory, run ``csim build`` on a world."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from simulator.client.build_cmd import add_build_parser, cmd_build
from simulator.client.parser import DockerArgParser
from simulator.client.session import CliError, EmbeddedTransport, Session
from simulator.des.world import CliResult, World
from simulator.model.errors import DockerError

MULTI_STAGE = """\
FROM busybox AS builder
ARG GREETING=hi
WORKDIR /work
COPY src/ ./
RUN echo "$GREETING" > built.txt && cat a.txt b.txt >> built.txt
FROM busybox
ENV APP=/app
COPY --from=builder /work/built.txt $APP/
LABEL maintainer=me
EXPOSE 8080
CMD ["cat", "/app/built.txt"]
"""


def write_context(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def multi_stage_context(root: Path) -> Path:
    return write_context(
        root,
        {"Dockerfile": MULTI_STAGE, "src/a.txt": "hello\n", "src/b.txt": "world\n"},
    )


def build(world: World, argv: list[str]) -> CliResult:
    """Run ``csim build ARGV`` against ``world`` as the CLI would (exit code, stdout, stderr)."""
    root = DockerArgParser(prog="csim", command="")
    sub = root.add_subparsers(dest="cmd", parser_class=DockerArgParser)
    add_build_parser(sub)
    out, err = io.StringIO(), io.StringIO()
    args = root.parse_args(["build", *argv])
    session = Session(EmbeddedTransport(world), out, err, ["build", *argv])
    code = 0
    try:
        code = cmd_build(session, args)
    except CliError as exc:
        err.write(exc.message + "\n")
        code = exc.code
    except DockerError as exc:
        err.write(f"Error response from daemon: {exc.message}\n")
        code = 1
    session.finish(code)
    return CliResult(code, out.getvalue(), err.getvalue())


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def step_results(stdout: str) -> list[str]:
    """For each ``Step`` line after FROM, whether it was ``cache`` or ``built``."""
    out: list[str] = []
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Step ") and " : FROM " not in line:
            out.append("cache" if i + 1 < len(lines) and lines[i + 1] == " ---> Using cache" else "built")
    return out
