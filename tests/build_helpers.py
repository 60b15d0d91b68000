"""Helpers for the build tests: write a context directory, run ``csim build`` on a world."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from simulator.des.world import CliResult, World

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
    """Run ``csim build ARGV`` against ``world`` through the real command line (exit code, stdout, stderr)."""
    return world.run_cli(["build", *argv])


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
