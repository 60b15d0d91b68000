"""``docker diff`` and ``docker commit`` from an overlay upper directory.

Everything a container changed lives in its overlay upper dir: new and
modified files as themselves, deletions as overlayfs whiteouts (a character
device 0/0) and replaced directories as "opaque" (the
``trusted.overlay.opaque`` xattr). ``changes`` reads that as Docker's
A/C/D list; ``export_upper`` turns it into an OCI layer tar, where the same
facts are spelled ``.wh.<name>`` and ``.wh..wh..opq``.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"


def is_whiteout(st: os.stat_result) -> bool:
    """An overlayfs whiteout: a character device with device number 0/0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _walk(upper: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(container path, lstat) for everything in ``upper``, parents before children."""
    stack = [upper]
    while stack:
        directory = stack.pop()
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name, reverse=True):
                st = entry.stat(follow_symlinks=False)
                rel = "/" + os.path.relpath(entry.path, upper)
                yield rel, st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(Path(entry.path))


def _in_lower(rel: str, lowers: Sequence[Path]) -> bool:
    return any(os.path.lexists(os.path.join(lower, rel.lstrip("/"))) for lower in lowers)


def changes(upper: Path, lowers: Sequence[Path]) -> list[tuple[str, str]]:
    """Docker's ``diff``: (kind, path) with kind A (added), C (changed), D (deleted)."""
    out: list[tuple[str, str]] = []
    if not upper.is_dir():
        return out
    for rel, st in _walk(upper):
        if is_whiteout(st):
            out.append(("D", rel))
        elif _in_lower(rel, lowers):
            out.append(("C", rel))
        else:
            out.append(("A", rel))
    return sorted(out, key=lambda item: item[1])


def export_upper(upper: Path) -> bytes:
    """The upper dir as an uncompressed OCI layer tar (whiteouts as ``.wh.`` files)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, st in sorted(_walk(upper), key=lambda item: item[0]):
            name = rel.lstrip("/")
            path = upper / name
            if is_whiteout(st):
                parent, base = os.path.split(name)
                info = tarfile.TarInfo(os.path.join(parent, WHITEOUT_PREFIX + base))
                info.mtime = int(st.st_mtime)
                tar.addfile(info)
                continue
            info = tar.gettarinfo(os.fspath(path), arcname=name)
            if info.isreg():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
            if stat.S_ISDIR(st.st_mode) and is_opaque(path):
                marker = tarfile.TarInfo(os.path.join(name, OPAQUE_MARKER))
                marker.mtime = int(st.st_mtime)
                tar.addfile(marker)
    return buffer.getvalue()
