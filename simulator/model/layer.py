"""Image layers as reproducible tar archives.

A layer is a tar of the files one build step changed. Deletions are recorded
the way overlayfs and Docker record them: ``dir/.wh.name`` hides ``dir/name``
from the layers below, and ``dir/.wh..wh..opq`` hides everything below
``dir``. A layer's *diff ID* is the digest of its uncompressed tar; its *blob
digest* is the digest of the compressed bytes a registry serves.

Both backends need the same bytes for the same files, so every archive here is
reproducible: members sorted by name, one fixed mtime, root ownership, empty
user/group names, no padding beyond the tar trailer, and gzip without a
timestamp using stored (uncompressed) deflate blocks, so digests do not depend
on the zlib build of the machine.

This module also holds the *executable contract* shared with the virtual
kernel: a simulated program is a file whose content is
``b"\\x7fELF csim-exec <program>\\n"``; ``<program>`` names the kernel's
implementation (``busybox``, ``coreutils``, ``sh``, ``nginx``...).
"""

from __future__ import annotations

import io
import struct
import tarfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from simulator.model.errors import InvalidParameter

EntryKind = Literal["file", "dir", "symlink", "hardlink", "whiteout", "opaque"]
ENTRY_KINDS: tuple[str, ...] = ("file", "dir", "symlink", "hardlink", "whiteout", "opaque")

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

LAYER_MTIME = 1704067200
"""Every member's mtime: 2024-01-01T00:00:00Z, so archives are reproducible."""

DEFAULT_MODES: dict[str, int] = {
    "file": 0o644,
    "dir": 0o755,
    "symlink": 0o777,
    "hardlink": 0o644,
    "whiteout": 0o644,
    "opaque": 0o644,
}

EXEC_MAGIC = b"\x7fELF csim-exec "
"""Prefix of every simulated executable (see :func:`executable_content`)."""

_TAR_TRAILER = b"\0" * 1024


def executable_content(program: str) -> bytes:
    """Return the file content of a simulated executable running ``program``.

    Args:
        program: the virtual kernel's implementation name, e.g. ``busybox``.
    """
    if not program or any(c.isspace() for c in program):
        raise ValueError(f"invalid program name: {program!r}")
    return EXEC_MAGIC + program.encode() + b"\n"


def executable_program(data: bytes) -> str | None:
    """Return the program a simulated executable names, or None if ``data`` is not one."""
    if not data.startswith(EXEC_MAGIC):
        return None
    name = data[len(EXEC_MAGIC) :].split(b"\n", 1)[0].strip()
    return name.decode() if name else None


def normalize_layer_path(path: str) -> str:
    """Return ``path`` relative to the layer root: no leading ``/`` or ``./``, no trailing ``/``.

    Raises:
        ValueError: for an empty path or one with ``..`` components.
    """
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"invalid layer path: {path!r}")
    return "/".join(parts)


@dataclass(frozen=True, slots=True)
class LayerEntry:
    """One change recorded in a layer.

    Attributes:
        path: the affected path, relative to the root (``etc/passwd``). For a
            whiteout it is the deleted path; for an opaque marker, the directory.
        kind: file, dir, symlink, hardlink, whiteout or opaque.
        data: file content (empty for everything but files).
        mode: permission bits (``0o755``).
        target: symlink target as written, or the hardlinked path (relative).
        uid: owner user ID.
        gid: owner group ID.
    """

    path: str
    kind: EntryKind = "file"
    data: bytes = b""
    mode: int = 0o644
    target: str = ""
    uid: int = 0
    gid: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ENTRY_KINDS:
            raise ValueError(f"invalid layer entry kind: {self.kind!r}")
        object.__setattr__(self, "path", normalize_layer_path(self.path))
        if self.kind == "hardlink":
            object.__setattr__(self, "target", normalize_layer_path(self.target))
        elif self.kind == "symlink" and not self.target:
            raise ValueError(f"symlink {self.path!r} needs a target")
        if self.kind != "file" and self.data:
            raise ValueError(f"only files carry data, not {self.kind} {self.path!r}")

    @classmethod
    def file(cls, path: str, data: bytes | str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> LayerEntry:
        """A regular file (``str`` data is UTF-8 encoded)."""
        raw = data.encode() if isinstance(data, str) else data
        return cls(path, "file", raw, mode, "", uid, gid)

    @classmethod
    def executable(cls, path: str, program: str) -> LayerEntry:
        """A simulated executable (mode 0755) that the kernel runs as ``program``."""
        return cls(path, "file", executable_content(program), 0o755)

    @classmethod
    def directory(cls, path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> LayerEntry:
        """A directory."""
        return cls(path, "dir", b"", mode, "", uid, gid)

    @classmethod
    def symlink(cls, path: str, target: str) -> LayerEntry:
        """A symbolic link to ``target`` (kept verbatim, may be absolute)."""
        return cls(path, "symlink", b"", 0o777, target)

    @classmethod
    def hardlink(cls, path: str, target: str, mode: int = 0o755) -> LayerEntry:
        """A hard link to ``target``, a path earlier in the same layer."""
        return cls(path, "hardlink", b"", mode, target)

    @classmethod
    def whiteout(cls, path: str) -> LayerEntry:
        """Deletes ``path`` from the layers below."""
        return cls(path, "whiteout", b"", 0o644)

    @classmethod
    def opaque(cls, path: str) -> LayerEntry:
        """Hides every lower-layer child of directory ``path``."""
        return cls(path, "opaque", b"", 0o644)

    @property
    def member_name(self) -> str:
        """The tar member name that records this entry."""
        head, _, base = self.path.rpartition("/")
        prefix = f"{head}/" if head else ""
        if self.kind == "whiteout":
            return f"{prefix}{WHITEOUT_PREFIX}{base}"
        if self.kind == "opaque":
            return f"{self.path}/{OPAQUE_MARKER}"
        return self.path


def _parents(name: str) -> Iterable[str]:
    parts = name.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[:i])


def complete_entries(entries: Iterable[LayerEntry]) -> list[LayerEntry]:
    """Return ``entries`` in archive order with missing parent directories added.

    Order: members sorted by tar name, except hard links, which come last
    (sorted) so their targets are always extracted first.

    Raises:
        ValueError: when two entries write the same tar member.
    """
    by_name: dict[str, LayerEntry] = {}
    for entry in entries:
        name = entry.member_name
        if name in by_name:
            raise ValueError(f"duplicate layer entry: {name!r}")
        by_name[name] = entry
    for name in list(by_name):
        for parent in _parents(name):
            if parent not in by_name:
                by_name[parent] = LayerEntry.directory(parent)
    return sorted(by_name.values(), key=lambda e: (e.kind == "hardlink", e.member_name))


def _tar_info(entry: LayerEntry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.member_name)
    info.mtime = LAYER_MTIME
    info.mode = entry.mode
    info.uid, info.gid = entry.uid, entry.gid
    info.uname = info.gname = ""
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif entry.kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, entry.target
    elif entry.kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, entry.target
    else:
        info.type, info.size = tarfile.REGTYPE, len(entry.data)
    return info


def build_layer_tar(entries: Iterable[LayerEntry]) -> bytes:
    """Return the reproducible, uncompressed tar of ``entries``.

    Same entries (in any order) give the same bytes on every run and machine.
    Parent directories are added as ``0755`` root-owned entries when missing.
    The archive is PAX (plain USTAR headers unless a name is too long) and ends
    with the two zero blocks of the tar trailer, like Go's ``archive/tar``.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in complete_entries(entries):
            data = io.BytesIO(entry.data) if entry.kind in ("file", "whiteout", "opaque") else None
            tar.addfile(_tar_info(entry), data)
        end = tar.offset
    return buf.getvalue()[:end] + _TAR_TRAILER


def read_layer_tar(data: bytes) -> list[LayerEntry]:
    """Parse a layer tar into entries, turning whiteout files into whiteout/opaque entries.

    Raises:
        InvalidParameter: ``archive/tar: invalid tar header`` for bytes that are not a tar.
    """
    entries: list[LayerEntry] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for info in tar:
                entries.append(_entry_from_member(tar, info))
    except (tarfile.TarError, ValueError) as exc:
        raise InvalidParameter("archive/tar: invalid tar header") from exc
    return entries


def _entry_from_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> LayerEntry:
    name = normalize_layer_path(info.name)
    head, _, base = name.rpartition("/")
    mode = info.mode & 0o7777
    if base == OPAQUE_MARKER:
        return LayerEntry(head, "opaque", b"", mode, "", info.uid, info.gid)
    if base.startswith(WHITEOUT_PREFIX):
        hidden = f"{head}/{base[len(WHITEOUT_PREFIX) :]}" if head else base[len(WHITEOUT_PREFIX) :]
        return LayerEntry(hidden, "whiteout", b"", mode, "", info.uid, info.gid)
    if info.isdir():
        return LayerEntry(name, "dir", b"", mode, "", info.uid, info.gid)
    if info.issym():
        return LayerEntry(name, "symlink", b"", mode, info.linkname, info.uid, info.gid)
    if info.islnk():
        return LayerEntry(name, "hardlink", b"", mode, info.linkname, info.uid, info.gid)
    if info.isreg():
        stream = tar.extractfile(info)
        content = stream.read() if stream is not None else b""
        return LayerEntry(name, "file", content, mode, "", info.uid, info.gid)
    raise ValueError(f"unsupported tar member type for {name!r}")


def unpacked_size(entries: Iterable[LayerEntry]) -> int:
    """Return the bytes the entries occupy once extracted (sum of file sizes)."""
    return sum(len(e.data) for e in entries if e.kind == "file")


# gzip: RFC 1952 header with mtime 0, no name, XFL 0, OS 255 (unknown).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_STORED_BLOCK_MAX = 0xFFFF


def gzip_layer(tar: bytes) -> bytes:
    """Return ``tar`` gzipped reproducibly (the bytes a registry serves as the blob).

    The deflate stream is made of stored blocks, written here rather than by
    zlib, so the result (and the blob digest) is identical on every machine.
    Any gzip reader decompresses it.
    """
    out = bytearray(_GZIP_HEADER)
    view = memoryview(tar)
    offset = 0
    while True:
        chunk = view[offset : offset + _STORED_BLOCK_MAX]
        offset += len(chunk)
        final = offset >= len(tar)
        out += struct.pack("<BHH", 1 if final else 0, len(chunk), len(chunk) ^ 0xFFFF)
        out += chunk
        if final:
            break
    out += struct.pack("<II", zlib.crc32(tar) & 0xFFFFFFFF, len(tar) & 0xFFFFFFFF)
    return bytes(out)


def gunzip_layer(blob: bytes) -> bytes:
    """Return the tar inside a gzipped layer blob.

    Raises:
        InvalidParameter: ``gzip: invalid header`` or ``unexpected EOF`` for bad input.
    """
    if blob[:2] != b"\x1f\x8b":
        raise InvalidParameter("gzip: invalid header")
    try:
        decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        data = decompressor.decompress(blob)
    except zlib.error as exc:
        raise InvalidParameter("gzip: invalid header") from exc
    if not decompressor.eof:
        raise InvalidParameter("unexpected EOF")
    return data
