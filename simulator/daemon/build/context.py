"""The build context as the daemon receives it: a tar of the client's directory.

``docker build PATH`` sends PATH as a tar (the client already left out what
``.dockerignore`` excludes); ``COPY`` and ``ADD`` may only read from it.
This module unpacks that tar into memory, resolves ``COPY`` sources (plain
paths, directories, wildcards) the way dockerd 20.10 does, refuses paths
that leave the context, and gives each source the content checksum the
build cache keys on (``file:<hex>``, ``dir:<hex>``).

Public API: :func:`read_context` ``(data) -> BuildContext``,
:class:`BuildContext` (``read``, ``resolve``, ``checksum``) and
:class:`ContextFile`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import posixpath
import tarfile
from dataclasses import dataclass

from simulator.model.errors import InvalidParameter, NotFound


@dataclass(frozen=True, slots=True)
class ContextFile:
    """One entry of the context.

    Attributes:
        path: relative path, ``/``-separated, no leading ``./``.
        kind: ``file``, ``dir`` or ``symlink``.
        data: file content.
        mode: permission bits.
        target: symlink target.
    """

    path: str
    kind: str
    data: bytes = b""
    mode: int = 0o644
    target: str = ""


def clean_context_path(path: str) -> str:
    """A context path normalised like Go's ``filepath.Clean``, relative, ``""`` for the root."""
    cleaned = posixpath.normpath("/" + path).lstrip("/")
    return "" if cleaned == "." else cleaned


class BuildContext:
    """The files of a build context, by relative path."""

    def __init__(self, files: dict[str, ContextFile]) -> None:
        self.files = files
        self._children: dict[str, list[str]] = {}
        for path in sorted(files):
            parent = posixpath.dirname(path)
            self._children.setdefault(parent, []).append(path)

    def read(self, path: str) -> bytes | None:
        """A file's bytes (the Dockerfile, ``.dockerignore``), or None."""
        entry = self.files.get(clean_context_path(path))
        return entry.data if entry is not None and entry.kind == "file" else None

    def is_dir(self, path: str) -> bool:
        rel = clean_context_path(path)
        return rel == "" or (rel in self.files and self.files[rel].kind == "dir")

    def walk(self, path: str) -> list[ContextFile]:
        """``path`` and everything below it, parents first."""
        rel = clean_context_path(path)
        out: list[ContextFile] = []
        if rel:
            out.append(self.files[rel])
        stack = list(reversed(self._children.get(rel, [])))
        while stack:
            name = stack.pop()
            out.append(self.files[name])
            stack.extend(reversed(self._children.get(name, [])))
        return out

    def resolve(self, source: str, instruction: str) -> list[str]:
        """The context paths a ``COPY``/``ADD`` source names (wildcards expanded).

        Raises:
            InvalidParameter: the path leaves the context (``../x``).
            NotFound: nothing matches.
        """
        raw = source.lstrip("/") if source.startswith("/") else source
        joined = posixpath.normpath(raw) if raw else "."
        if joined == ".." or joined.startswith("../"):
            raise InvalidParameter(f"{instruction} failed: forbidden path outside the build context: {source} ()")
        rel = clean_context_path(raw)
        if any(ch in rel for ch in "*?["):
            matches = [p for p in self.files if fnmatch.fnmatchcase(p, rel)]
            if not matches:
                raise NotFound(f"{instruction} failed: no source files were specified")
            return sorted(matches)
        if rel and rel not in self.files:
            raise NotFound(
                f"{instruction} failed: file not found in build context or excluded by "
                f".dockerignore: stat {rel}: file does not exist"
            )
        return [rel]

    def checksum(self, path: str) -> str:
        """``file:<hex>`` or ``dir:<hex>``: the content hash the cache keys on.

        Names, modes, link targets and contents count; timestamps do not, so
        touching a file without changing it keeps the cache.
        """
        entries = self.walk(path)
        digest = hashlib.sha256()
        base = clean_context_path(path)
        for entry in entries:
            name = entry.path[len(base) :] if base else entry.path
            digest.update(f"{name}\0{entry.kind}\0{entry.mode:o}\0{entry.target}\0".encode())
            digest.update(hashlib.sha256(entry.data).digest())
        kind = "dir" if self.is_dir(path) else "file"
        return f"{kind}:{digest.hexdigest()}"


def read_context(data: bytes) -> BuildContext:
    """Unpack a build-context tar (plain or gzipped) into memory.

    Raises:
        InvalidParameter: the bytes are not a tar archive.
    """
    files: dict[str, ContextFile] = {}
    if not data:
        return BuildContext(files)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for info in tar:
                path = clean_context_path(info.name)
                if not path:
                    continue
                mode = info.mode & 0o7777
                if info.isdir():
                    files[path] = ContextFile(path, "dir", b"", mode)
                elif info.issym():
                    files[path] = ContextFile(path, "symlink", b"", 0o777, info.linkname)
                elif info.isreg() or info.islnk():
                    stream = tar.extractfile(info)
                    content = stream.read() if stream is not None else b""
                    files[path] = ContextFile(path, "file", content, mode)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidParameter(f"failed to read build context: {exc}") from None
    for path in list(files):
        parent = posixpath.dirname(path)
        while parent and parent not in files:
            files[parent] = ContextFile(parent, "dir", b"", 0o755)
            parent = posixpath.dirname(parent)
    return BuildContext(files)
