"""Inodes, layer trees and their tar form: the bricks of the virtual overlay filesystem.

A layer tar is parsed once into a tree of :class:`Inode` objects in which
whiteouts are kept as ``whiteout`` entries and ``.wh..wh..opq`` as the
``opaque`` flag of a directory. Applying layers bottom-up gives an image's
merged root; both kinds of tree are *frozen* (``owner`` None) and shared by
every container of the image. A container never mutates a frozen inode: it
copies it up first (see :mod:`simulator.runtime.sim.vfs`).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

from simulator.runtime.protocol import LayerStore

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
DIR, FILE, SYMLINK, WHITEOUT = "dir", "file", "symlink", "whiteout"
_TAR_TRAILER = b"\0" * 1024


@dataclass(eq=False, slots=True)
class Inode:
    """One file, directory, symlink or whiteout.

    Hard links are two directory entries referring to the same ``Inode``.

    Attributes:
        kind: dir, file, symlink or whiteout (whiteouts live only in layer trees).
        mode: permission bits.
        uid: owner.
        gid: group.
        mtime: modification time, Unix seconds.
        data: file content.
        target: symlink target.
        children: directory entries (dirs only).
        opaque: the directory hides everything below it in lower layers.
        owner: None for frozen (shared) inodes; otherwise the object whose
            private copy this is (a container filesystem or a volume).
    """

    kind: str
    mode: int
    uid: int = 0
    gid: int = 0
    mtime: float = 0.0
    data: bytes = b""
    target: str = ""
    children: dict[str, Inode] | None = None
    opaque: bool = False
    owner: object | None = None

    @property
    def size(self) -> int:
        if self.kind == FILE:
            return len(self.data)
        if self.kind == SYMLINK:
            return len(self.target)
        return 4096

    @property
    def entries(self) -> dict[str, Inode]:
        """The children of a directory (raises for other kinds)."""
        if self.children is None:
            raise NotADirectoryError(self.kind)
        return self.children

    def clone(self, owner: object | None) -> Inode:
        """A shallow copy (children dict copied, child inodes shared) owned by ``owner``."""
        return Inode(
            self.kind,
            self.mode,
            self.uid,
            self.gid,
            self.mtime,
            self.data,
            self.target,
            dict(self.children) if self.children is not None else None,
            self.opaque,
            owner,
        )


def new_dir(mode: int = 0o755, uid: int = 0, gid: int = 0, mtime: float = 0.0,
            owner: object | None = None) -> Inode:  # fmt: skip
    """An empty directory."""
    return Inode(DIR, mode, uid, gid, mtime, children={}, owner=owner)


def deep_copy(node: Inode, owner: object, seen: dict[int, Inode] | None = None) -> Inode:
    """Copy a whole tree into private inodes (hard links stay linked)."""
    memo = {} if seen is None else seen
    if id(node) in memo:
        return memo[id(node)]
    copy = node.clone(owner)
    memo[id(node)] = copy
    if copy.children is not None:
        copy.children = {name: deep_copy(child, owner, memo) for name, child in copy.children.items()}
    return copy


def _split(name: str) -> list[str]:
    return [p for p in name.split("/") if p not in ("", ".")]


def parse_layer(data: bytes, owner: object | None = None) -> Inode:
    """Parse a layer tar into a tree keeping whiteouts and opaque markers.

    Args:
        data: the uncompressed tar.
        owner: owner of every inode (None: frozen, for the shared layer cache).

    Raises:
        ValueError: when ``data`` is not a tar archive.
    """
    root = new_dir(owner=owner)
    by_path: dict[str, Inode] = {}
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 - closed below
    except tarfile.TarError as exc:
        raise ValueError("archive/tar: invalid tar header") from exc
    with tar:
        for info in tar:
            parts = _split(info.name)
            if not parts or ".." in parts:
                continue
            parent = root
            for comp in parts[:-1]:
                child = parent.entries.get(comp)
                if child is None or child.kind != DIR:
                    child = new_dir(mtime=float(info.mtime), owner=owner)
                    parent.entries[comp] = child
                parent = child
            base = parts[-1]
            if base == OPAQUE_MARKER:
                parent.opaque = True
                continue
            if base.startswith(WHITEOUT_PREFIX):
                parent.entries[base[len(WHITEOUT_PREFIX) :]] = Inode(WHITEOUT, 0, owner=owner)
                continue
            meta = (info.mode & 0o7777, info.uid, info.gid, float(info.mtime))
            node: Inode | None
            if info.isdir():
                existing = parent.entries.get(base)
                if existing is not None and existing.kind == DIR:
                    existing.mode, existing.uid, existing.gid, existing.mtime = meta
                    continue
                node = new_dir(*meta, owner=owner)
            elif info.issym():
                node = Inode(SYMLINK, *meta, target=info.linkname, owner=owner)
            elif info.islnk():
                node = by_path.get("/".join(_split(info.linkname)))
            elif info.isreg():
                stream = tar.extractfile(info)
                content = stream.read() if stream is not None else b""
                node = Inode(FILE, *meta, data=content, owner=owner)
            else:
                node = None  # devices and fifos are not simulated
            if node is not None:
                parent.entries[base] = node
                by_path["/".join(parts)] = node
    return root


def apply_layer(base: Inode | None, layer: Inode, owner: object | None) -> Inode:
    """Return ``base`` with ``layer`` applied on top (whiteouts remove, opaque hides).

    ``base`` is never mutated: changed directories are new inodes owned by
    ``owner``; unchanged subtrees are shared.
    """
    if base is None or base.kind != DIR or layer.opaque:
        merged = Inode(DIR, layer.mode, layer.uid, layer.gid, layer.mtime, children={}, owner=owner)
    else:
        merged = base.clone(owner)
        merged.mode, merged.uid, merged.gid, merged.mtime = (
            layer.mode, layer.uid, layer.gid, layer.mtime)  # fmt: skip
    kids = merged.entries
    for name, child in layer.entries.items():
        if child.kind == WHITEOUT:
            kids.pop(name, None)
        elif child.kind == DIR:
            kids[name] = apply_layer(kids.get(name), child, owner)
        else:
            kids[name] = child
    return merged


def walk(node: Inode, prefix: str = "") -> Iterator[tuple[str, Inode]]:
    """Every (path, inode) below ``node`` in sorted order, parents first."""
    for name in sorted(node.entries):
        child = node.entries[name]
        path = f"{prefix}/{name}"
        yield path, child
        if child.kind == DIR:
            yield from walk(child, path)


@dataclass(frozen=True, slots=True)
class TarMember:
    """One member to write: a path (relative, no leading slash) and its inode or a whiteout."""

    path: str
    node: Inode | None  # None: a whiteout for ``path``


def write_tar(members: list[TarMember]) -> bytes:
    """Write a reproducible PAX tar; a repeated inode becomes a hard link to its first path."""
    buf = io.BytesIO()
    first_path: dict[int, str] = {}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            node = member.node
            head, _, base = member.path.rpartition("/")
            if node is None:
                name = f"{head}/{WHITEOUT_PREFIX}{base}" if head else f"{WHITEOUT_PREFIX}{base}"
                info = tarfile.TarInfo(name)
                info.mode = 0
                tar.addfile(info, io.BytesIO(b""))
                continue
            info = tarfile.TarInfo(member.path)
            info.mode, info.uid, info.gid = node.mode, node.uid, node.gid
            info.mtime = node.mtime
            info.uname = info.gname = ""
            payload: io.BytesIO | None = None
            if node.kind == DIR:
                info.type = tarfile.DIRTYPE
            elif node.kind == SYMLINK:
                info.type, info.linkname = tarfile.SYMTYPE, node.target
            elif id(node) in first_path:
                info.type, info.linkname = tarfile.LNKTYPE, first_path[id(node)]
            else:
                first_path[id(node)] = member.path
                info.type, info.size = tarfile.REGTYPE, len(node.data)
                payload = io.BytesIO(node.data)
            tar.addfile(info, payload)
        end = tar.offset
    return buf.getvalue()[:end] + _TAR_TRAILER


def tree_members(root: Inode) -> list[TarMember]:
    """All members of a plain tree (a volume), parents first."""
    return [TarMember(path.lstrip("/"), node) for path, node in walk(root)]


class LayerCache:
    """Parsed layer trees per diff id and merged image roots per layer chain.

    One cache serves every container of a runtime, so two containers of the
    same image share the same frozen inodes.
    """

    def __init__(self, store: LayerStore) -> None:
        self._store = store
        self._layers: dict[str, Inode] = {}
        self._chains: dict[tuple[str, ...], Inode] = {}

    def layer(self, diff_id: str) -> Inode:
        tree = self._layers.get(diff_id)
        if tree is None:
            tree = parse_layer(self._store.layer_tar(diff_id))
            self._layers[diff_id] = tree
        return tree

    def image_root(self, chain: tuple[str, ...]) -> Inode:
        """The merged, frozen root of layers ``chain`` (bottom first)."""
        for depth in range(len(chain), -1, -1):
            if chain[:depth] in self._chains or depth == 0:
                break
        root = self._chains.get(chain[:depth]) or new_dir()
        for i in range(depth, len(chain)):
            root = apply_layer(root, self.layer(chain[i]), None)
            self._chains[chain[: i + 1]] = root
        self._chains.setdefault((), new_dir())
        return root
