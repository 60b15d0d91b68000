"""The client's half of ``docker build``: ``.dockerignore`` and the context tar.

The docker CLI, not the daemon, decides what the build context holds: it
reads ``.dockerignore`` (Docker's pattern syntax: ``*``, ``?``, ``[...]``,
``**`` across directories, ``!`` to re-include, last match wins, a matched
directory excludes what is below it), always keeps the Dockerfile and
``.dockerignore`` themselves, and sends the rest as one tar. That is why
``COPY secret.txt`` of an ignored file fails with "file not found in build
context or excluded by .dockerignore".

Public API: :func:`read_dockerignore`, :class:`IgnoreMatcher`,
:func:`make_context_tar`.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import tarfile
from dataclasses import dataclass

_TAR_TRAILER = b"\0" * 1024


def read_dockerignore(text: str) -> list[str]:
    """The patterns of a ``.dockerignore`` file, cleaned as the CLI cleans them."""
    patterns: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        body = line[1:].strip() if negate else line
        if body:
            body = posixpath.normpath(body).lstrip("/") or "."
        patterns.append(("!" if negate else "") + body)
    return patterns


def _to_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("^"):
                    body = "!" + body[1:]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass
class IgnoreMatcher:
    """Docker's ``.dockerignore`` semantics over relative ``/``-separated paths."""

    patterns: list[str]

    def __post_init__(self) -> None:
        self._compiled = [(p.startswith("!"), _to_regex(p[1:] if p.startswith("!") else p)) for p in self.patterns]

    def ignored(self, path: str) -> bool:
        """Whether ``path`` is excluded: the last matching pattern decides."""
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        verdict = False
        for negate, regex in self._compiled:
            if any(regex.match(prefix) for prefix in prefixes):
                verdict = not negate
        return verdict


def make_context_tar(directory: str, dockerfile: str = "Dockerfile") -> bytes:
    """Tar ``directory`` as the build context, leaving out what ``.dockerignore`` excludes.

    Members are sorted, so the same tree gives the same tar; the archive ends
    with the tar trailer and no padding (as Go's ``archive/tar`` writes it).
    """
    patterns: list[str] = []
    ignore_path = os.path.join(directory, ".dockerignore")
    if os.path.isfile(ignore_path):
        with open(ignore_path, encoding="utf-8", errors="replace") as fh:
            patterns = read_dockerignore(fh.read())
    matcher = IgnoreMatcher(patterns)
    keep = {posixpath.normpath(dockerfile.replace(os.sep, "/")), ".dockerignore"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            rel_root = os.path.relpath(root, directory).replace(os.sep, "/")
            rel_root = "" if rel_root == "." else rel_root
            for name in sorted([*dirs, *files]):
                rel = f"{rel_root}/{name}" if rel_root else name
                if rel not in keep and matcher.ignored(rel):
                    if name in dirs and not any(p.startswith("!") for p in patterns):
                        dirs.remove(name)
                    continue
                info = tar.gettarinfo(os.path.join(root, name), arcname=rel)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if info.isreg():
                    with open(os.path.join(root, name), "rb") as fh:
                        tar.addfile(info, fh)
                else:
                    tar.addfile(info)
        end = tar.offset
    return buf.getvalue()[:end] + _TAR_TRAILER
