"""A container's view of its files: an overlay of image layers plus volume mounts.

The lower layers are the image's merged, frozen tree (shared by every
container of the image). The container starts with a private copy of the root
directory only; every write copies up the inodes on its path first
(copy-on-write), so other containers never see it. Deleting a lower entry just
drops it from the private parent: what Docker stores as a whiteout is the
difference between the two trees, and :meth:`ContainerFs.changes` computes it
exactly like Docker's tree comparison (``archive.ChangesDirs``):

- a new entry is ``A`` (a new directory's whole content is ``A``);
- an entry whose mode, owner, size or mtime changed is ``C`` (directories
  only for mode/owner: their mtime is not a change);
- a removed entry is ``D`` (a removed directory, not its content);
- every directory holding a change is ``C``.

Volumes, binds and tmpfs mounts redirect a subtree to a separate tree that is
not part of the container's changes. Named volumes are :class:`Volume`
objects owned by a :class:`VolumeRegistry` the daemon keeps (one per world),
so every container that mounts ``data`` shares one tree.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from simulator.runtime.sim.inode import (
    DIR,
    FILE,
    SYMLINK,
    Inode,
    TarMember,
    apply_layer,
    deep_copy,
    new_dir,
    parse_layer,
    walk,
    write_tar,
)

STRERROR: dict[str, str] = {
    "ENOENT": "No such file or directory",
    "EEXIST": "File exists",
    "ENOTDIR": "Not a directory",
    "EISDIR": "Is a directory",
    "ENOTEMPTY": "Directory not empty",
    "EROFS": "Read-only file system",
    "ELOOP": "Symbolic link loop",
    "EACCES": "Permission denied",
    "EINVAL": "Invalid argument",
    "EBUSY": "Resource busy",
    "EXDEV": "Invalid cross-device link",
    "ENOSPC": "No space left on device",
    "EPERM": "Operation not permitted",
}
_MAX_SYMLINKS = 40
_MISSING = Inode(DIR, 0)  # ``ContainerFs._direct``'s "certainly not there" (never part of a tree)


class FsError(Exception):
    """A failed file operation, carrying the errno name (``ENOENT``)."""

    def __init__(self, errno: str) -> None:
        super().__init__(errno)
        self.errno = errno

    @property
    def strerror(self) -> str:
        """The C library's message: ``No such file or directory``."""
        return STRERROR.get(self.errno, self.errno)


def split_path(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def join_path(base: str, path: str) -> str:
    """``path`` made absolute against ``base`` (lexically; no symlinks followed)."""
    if path.startswith("/"):
        return path
    return base.rstrip("/") + "/" + path


class Volume:
    """A named volume, bind source or tmpfs: one mutable tree shared by its mounts.

    Attributes:
        name: the volume name (``bind:/host/path`` for binds, ``tmpfs`` for tmpfs).
        root: the tree; every inode is owned by this object.
        populated: whether the first mount already happened (Docker copies
            the image's content at the mount point into an empty named volume
            on its first mount only).
    """

    def __init__(self, name: str, mtime: float = 0.0) -> None:
        self.name = name
        self.root = new_dir(mode=0o755, mtime=mtime, owner=self)
        self.populated = False

    def export(self) -> bytes:
        """The volume's content as a tar (reproducible)."""
        return write_tar([TarMember(p.lstrip("/"), n) for p, n in walk(self.root)])

    def load(self, data: bytes) -> None:
        """Replace the content with the tar ``data`` (from :meth:`export`)."""
        self.root = apply_layer(new_dir(owner=self), parse_layer(data, owner=self), self)
        self.populated = True


class VolumeRegistry:
    """The daemon's named volumes as trees (the daemon owns one; the runtime mounts from it).

    Mount sources are looked up by name: ``MountSpec(kind="volume", source="data")``
    mounts ``get("data")`` (created on demand, like ``docker run -v data:/x``);
    a bind of host path ``/src`` mounts ``get("bind:/src")``.
    """

    def __init__(self) -> None:
        self._volumes: dict[str, Volume] = {}

    def get(self, name: str) -> Volume:
        vol = self._volumes.get(name)
        if vol is None:
            vol = Volume(name)
            self._volumes[name] = vol
        return vol

    def remove(self, name: str) -> None:
        self._volumes.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._volumes)

    def snapshot(self) -> dict[str, bytes]:
        """Every volume's content as tar bytes, by name (deterministic)."""
        return {name: self._volumes[name].export() for name in sorted(self._volumes)}

    def restore(self, data: dict[str, bytes]) -> None:
        """Load volumes saved by :meth:`snapshot` (existing ones are replaced)."""
        for name, tar in data.items():
            self.get(name).load(tar)


@dataclass(slots=True)
class Mount:
    """A subtree redirected to a volume."""

    destination: str
    volume: Volume
    read_only: bool
    kind: str


class ContainerFs:
    """The mount namespace of one container: overlay root plus mounts.

    Args:
        lower: the image's merged frozen root.
        clock: wall-clock Unix seconds for mtimes.
        readonly_rootfs: ``--read-only``: writes outside mounts fail with EROFS.
    """

    def __init__(self, lower: Inode, clock: Callable[[], float], readonly_rootfs: bool = False) -> None:
        self.lower = lower
        self.root = lower.clone(self)
        self.clock = clock
        self.readonly_rootfs = readonly_rootfs
        self.mounts: dict[str, Mount] = {}
        self.gate: Callable[[], bool] = lambda: True
        """Returns False while writes must be suppressed (replaying a reloaded world)."""

    # -- mounts ----------------------------------------------------------
    def mount(self, destination: str, volume: Volume, read_only: bool, kind: str) -> None:
        """Mount ``volume`` at ``destination``, creating the mount point in the upper layer.

        An empty volume mounted for the first time gets a copy of the image's
        content at the destination, as Docker does for named volumes.
        """
        dest = "/" + "/".join(split_path(destination))
        parent = self.root
        for comp in split_path(dest):
            child = parent.entries.get(comp)
            if child is None or child.kind != DIR:
                child = new_dir(mtime=self.clock(), owner=self)
                parent.entries[comp] = child
            elif child.owner is not self:
                child = child.clone(self)
                parent.entries[comp] = child
            parent = child
        if kind == "volume" and not volume.populated and not volume.root.entries:
            for name, node in parent.entries.items():
                volume.root.entries[name] = deep_copy(node, volume)
            volume.root.mode, volume.root.uid, volume.root.gid = parent.mode, parent.uid, parent.gid
        volume.populated = True
        self.mounts[dest] = Mount(dest, volume, read_only, kind)

    def _mount_of(self, path: str) -> Mount | None:
        best: Mount | None = None
        for dest, mnt in self.mounts.items():
            if (path == dest or path.startswith(dest + "/")) and (best is None or len(dest) > len(best.destination)):
                best = mnt
        return best

    # -- lookup ----------------------------------------------------------
    def resolve(self, path: str, cwd: str = "/", follow: bool = True) -> tuple[str, Inode | None]:
        """Canonical path and inode of ``path`` (inode None when only the last part is missing).

        Raises:
            FsError: ENOENT/ENOTDIR for a missing or non-directory parent, ELOOP.
        """
        found = self._walk(path, cwd, follow)
        if isinstance(found, str):
            raise FsError(found)
        return found

    def probe(self, path: str, cwd: str = "/") -> Inode | None:
        """The inode at ``path`` (symlinks followed), or None where ``lookup`` would raise.

        A ``PATH`` search tries several directories per exec; this spares it an
        exception for each miss.
        """
        node = self._direct(path)
        if node is _MISSING:
            return None
        if node is not None:
            return node
        found = self._walk(path, cwd, True)
        return None if isinstance(found, str) else found[1]

    def _direct(self, path: str) -> Inode | None:
        """The inode at absolute ``path`` by plain dictionary steps, when that is the whole story.

        Returns ``_MISSING`` when a component is absent or not a directory (``probe``
        answers None then, whatever the errno), or None when the path needs the full
        walk: a symlink, ``..``, a relative path or any mount. Every exec looks its
        command up along ``PATH`` like this, and ``_walk``'s queue and stacks cost
        several times more for these short, plain paths.
        """
        if self.mounts or not path.startswith("/"):
            return None
        node = self.root
        for comp in path.split("/"):
            if comp in ("", "."):
                continue
            if comp == "..":
                return None
            children = node.children
            if children is None or node.kind != DIR:
                return _MISSING
            child = children.get(comp)
            if child is None:
                return _MISSING
            if child.kind == SYMLINK:
                return None
            node = child
        return node

    def _walk(self, path: str, cwd: str, follow: bool) -> tuple[str, Inode | None] | str:
        """``resolve``'s walk: the canonical path and inode, or the errno name of the failure."""
        if not path:
            return "ENOENT"
        queue = deque(split_path(join_path(cwd, path)))  # never holds "" or "." (split_path drops them)
        stack: list[str] = []
        nodes: list[Inode] = [self.root]
        hops = 0
        mounts = self.mounts
        while queue:
            comp = queue.popleft()
            if comp == "..":
                if stack:
                    stack.pop()
                    nodes.pop()
                continue
            cur = nodes[-1]
            if cur.kind != DIR:
                return "ENOTDIR"
            mnt = mounts.get("/" + "/".join([*stack, comp])) if mounts else None
            child = mnt.volume.root if mnt is not None else cur.entries.get(comp)
            last = not queue
            if child is None:
                if last:
                    return "/" + "/".join([*stack, comp]), None
                return "ENOENT"
            if child.kind == SYMLINK and (follow or not last):
                hops += 1
                if hops > _MAX_SYMLINKS:
                    return "ELOOP"
                if child.target.startswith("/"):
                    stack, nodes = [], [self.root]
                queue.extendleft(reversed(split_path(child.target)))
                continue
            stack.append(comp)
            nodes.append(child)
        return "/" + "/".join(stack), nodes[-1]

    def lookup(self, path: str, cwd: str = "/", follow: bool = True) -> Inode:
        """The inode at ``path``. Raises FsError(ENOENT) when missing."""
        node = self._direct(path)
        if node is not None and node is not _MISSING:
            return node  # found without a symlink on the way: ``follow`` changes nothing
        _, node = self.resolve(path, cwd, follow)
        if node is None:
            raise FsError("ENOENT")
        return node

    def exists(self, path: str, cwd: str = "/") -> bool:
        try:
            return self.resolve(path, cwd)[1] is not None
        except FsError:
            return False

    def is_dir(self, path: str, cwd: str = "/") -> bool:
        try:
            node = self.resolve(path, cwd)[1]
        except FsError:
            return False
        return node is not None and node.kind == DIR

    def listdir(self, path: str, cwd: str = "/") -> list[str]:
        node = self.lookup(path, cwd)
        if node.kind != DIR:
            raise FsError("ENOTDIR")
        return sorted(node.entries)

    def read(self, path: str, cwd: str = "/") -> bytes:
        node = self.lookup(path, cwd)
        if node.kind == DIR:
            raise FsError("EISDIR")
        return node.data

    # -- copy-up ---------------------------------------------------------
    def _writable_dir(self, canon: str) -> tuple[Inode, object]:
        """A private directory inode for canonical path ``canon`` and the owner of new entries."""
        mnt = self._mount_of(canon)
        comps = split_path(canon)
        if mnt is not None:
            if mnt.read_only:
                raise FsError("EROFS")
            node = mnt.volume.root
            for comp in comps[len(split_path(mnt.destination)) :]:
                node = node.entries[comp]
            if node.kind != DIR:
                raise FsError("ENOTDIR")
            return node, mnt.volume
        if self.readonly_rootfs:
            raise FsError("EROFS")
        node = self.root
        for comp in comps:
            child = node.entries[comp]
            if child.owner is not self:
                child = child.clone(self)
                node.entries[comp] = child
            node = child
        if node.kind != DIR:
            raise FsError("ENOTDIR")
        return node, self

    def _parent(self, canon: str) -> tuple[Inode, object, str]:
        head, _, name = canon.rpartition("/")
        parent, owner = self._writable_dir(head or "/")
        return parent, owner, name

    def _writable_node(self, canon: str) -> Inode:
        parent, owner, name = self._parent(canon)
        node = parent.entries[name]
        if node.owner is not owner:
            node = node.clone(owner)
            parent.entries[name] = node
        return node

    def _touch_dir(self, node: Inode) -> None:
        node.mtime = self.clock()

    # -- writes ----------------------------------------------------------
    def write(
        self,
        path: str,
        data: bytes,
        cwd: str = "/",
        append: bool = False,
        uid: int = 0,
        gid: int = 0,
        mode: int = 0o644,
    ) -> None:
        """Create or replace (or append to) a regular file."""
        canon, node = self.resolve(path, cwd)
        if node is not None and node.kind == DIR:
            raise FsError("EISDIR")
        if node is None:
            parent, owner, name = self._parent(canon)
            if not self.gate():
                return
            parent.entries[name] = Inode(FILE, mode, uid, gid, self.clock(), data, owner=owner)
            self._touch_dir(parent)
            return
        target = self._writable_node(canon)
        if not self.gate():
            return
        target.data = target.data + data if append else data
        target.mtime = self.clock()

    def touch(self, path: str, cwd: str = "/", uid: int = 0, gid: int = 0) -> None:
        """Create an empty file or update the mtime of an existing entry."""
        canon, node = self.resolve(path, cwd)
        if node is None:
            self.write(path, b"", cwd, uid=uid, gid=gid)
            return
        target = self._writable_node(canon) if canon != "/" else self._writable_dir("/")[0]
        if self.gate():
            target.mtime = self.clock()

    def mkdir(
        self,
        path: str,
        cwd: str = "/",
        parents: bool = False,
        mode: int = 0o755,
        uid: int = 0,
        gid: int = 0,
    ) -> None:
        """Make a directory (``parents``: like ``mkdir -p``)."""
        if parents:
            sofar = "/" if path.startswith("/") else ""
            for comp in split_path(path):
                sofar = f"{sofar.rstrip('/')}/{comp}" if sofar else comp
                _, node = self.resolve(sofar, cwd)
                if node is None:
                    self.mkdir(sofar, cwd, False, mode, uid, gid)
                elif node.kind != DIR:
                    raise FsError("ENOTDIR")
            return
        canon, node = self.resolve(path, cwd, follow=False)
        if node is not None:
            raise FsError("EEXIST")
        parent, owner, name = self._parent(canon)
        if not self.gate():
            return
        parent.entries[name] = new_dir(mode, uid, gid, self.clock(), owner)
        self._touch_dir(parent)

    def symlink(self, target: str, path: str, cwd: str = "/", uid: int = 0, gid: int = 0) -> None:
        canon, node = self.resolve(path, cwd, follow=False)
        if node is not None:
            raise FsError("EEXIST")
        parent, owner, name = self._parent(canon)
        if not self.gate():
            return
        parent.entries[name] = Inode(SYMLINK, 0o777, uid, gid, self.clock(), target=target,
                                     owner=owner)  # fmt: skip
        self._touch_dir(parent)

    def link(self, existing: str, path: str, cwd: str = "/") -> None:
        """A hard link: ``path`` becomes another name of ``existing``'s inode."""
        src_canon, src = self.resolve(existing, cwd, follow=False)
        if src is None:
            raise FsError("ENOENT")
        if src.kind == DIR:
            raise FsError("EPERM")
        canon, node = self.resolve(path, cwd, follow=False)
        if node is not None:
            raise FsError("EEXIST")
        if self._mount_of(src_canon) is not self._mount_of(canon):
            raise FsError("EXDEV")
        shared = self._writable_node(src_canon)
        parent, _, name = self._parent(canon)
        if not self.gate():
            return
        parent.entries[name] = shared
        self._touch_dir(parent)

    def unlink(self, path: str, cwd: str = "/") -> None:
        """Remove a file or symlink (EISDIR for a directory)."""
        canon, node = self.resolve(path, cwd, follow=False)
        if node is None:
            raise FsError("ENOENT")
        if node.kind == DIR:
            raise FsError("EISDIR")
        self._drop(canon)

    def rmdir(self, path: str, cwd: str = "/") -> None:
        canon, node = self.resolve(path, cwd, follow=False)
        if node is None:
            raise FsError("ENOENT")
        if node.kind != DIR:
            raise FsError("ENOTDIR")
        if canon == "/" or canon in self.mounts:
            raise FsError("EBUSY")
        if node.entries:
            raise FsError("ENOTEMPTY")
        self._drop(canon)

    def remove_tree(self, path: str, cwd: str = "/") -> None:
        """``rm -r``: remove an entry and everything below it (mount points stay busy)."""
        canon, node = self.resolve(path, cwd, follow=False)
        if node is None:
            raise FsError("ENOENT")
        if canon == "/" or canon in self.mounts:
            raise FsError("EBUSY")
        inner = [d for d in self.mounts if d.startswith(canon + "/")]
        if inner:
            raise FsError("EBUSY")
        self._drop(canon)

    def _drop(self, canon: str) -> None:
        parent, _, name = self._parent(canon)
        if not self.gate():
            return
        del parent.entries[name]
        self._touch_dir(parent)

    def rename(self, src: str, dst: str, cwd: str = "/") -> None:
        """``mv``: move an entry; across mounts the tree is copied (as ``mv`` does on EXDEV)."""
        src_canon, node = self.resolve(src, cwd, follow=False)
        if node is None:
            raise FsError("ENOENT")
        dst_canon, existing = self.resolve(dst, cwd)
        if existing is not None and existing.kind == DIR:
            dst_canon = f"{dst_canon.rstrip('/')}/{src_canon.rpartition('/')[2]}"
            dst_canon, existing = self.resolve(dst_canon, "/", follow=False)
        if src_canon in self.mounts or src_canon == "/":
            raise FsError("EBUSY")
        if dst_canon == src_canon:
            return
        if node.kind == DIR and dst_canon.startswith(src_canon + "/"):
            raise FsError("EINVAL")
        if existing is not None and existing.kind == DIR and node.kind != DIR:
            raise FsError("EISDIR")
        if existing is not None and existing.kind == DIR and existing.entries:
            raise FsError("ENOTEMPTY")
        parent, owner, name = self._parent(dst_canon)
        moved = node if node.owner is owner else deep_copy(node, owner)
        self._drop(src_canon)
        if not self.gate():
            return
        parent.entries[name] = moved
        self._touch_dir(parent)

    def chmod(self, path: str, mode: int, cwd: str = "/") -> None:
        canon, node = self.resolve(path, cwd)
        if node is None:
            raise FsError("ENOENT")
        target = self._writable_node(canon) if canon != "/" else self._writable_dir("/")[0]
        if self.gate():
            target.mode = mode & 0o7777

    def chown(self, path: str, uid: int, gid: int, cwd: str = "/") -> None:
        canon, node = self.resolve(path, cwd)
        if node is None:
            raise FsError("ENOENT")
        target = self._writable_node(canon) if canon != "/" else self._writable_dir("/")[0]
        if self.gate():
            target.uid, target.gid = uid, gid

    # -- docker diff / commit ---------------------------------------------
    def changes(self) -> list[tuple[str, str]]:
        """``docker diff``: (kind, path) pairs, kind A, C or D, sorted by path."""
        out: dict[str, str] = {}
        _diff_dirs(self.root, self.lower, "", out)
        return sorted(((kind, path) for path, kind in out.items()), key=lambda kp: kp[1])

    def export_upper(self) -> bytes:
        """The upper layer as a layer tar: changed entries, whiteouts for deletions."""
        members: list[TarMember] = []
        for kind, path in self.changes():
            if kind == "D":
                members.append(TarMember(path.lstrip("/"), None))
                continue
            node = self.root
            for comp in split_path(path):
                node = node.entries[comp]
            members.append(TarMember(path.lstrip("/"), node))
        return write_tar(members)

    def import_upper(self, data: bytes) -> None:
        """Apply a tar from :meth:`export_upper` on top of the current root."""
        self.root = apply_layer(self.root, parse_layer(data, owner=self), self)


def _stat_differs(new: Inode, old: Inode) -> bool:
    if new.kind != old.kind or new.mode != old.mode or new.uid != old.uid or new.gid != old.gid:
        return True
    if new.kind == DIR:
        return False
    return new.mtime != old.mtime or new.size != old.size or new.data != old.data or new.target != old.target


def _add_all(node: Inode, path: str, out: dict[str, str]) -> None:
    for sub, _ in walk(node, path):
        out[sub] = "A"


def _diff_dirs(new: Inode, old: Inode, path: str, out: dict[str, str]) -> None:
    before = len(out)
    old_kids = old.entries if old.kind == DIR else {}
    for name, child in new.entries.items():
        sub = f"{path}/{name}"
        prev = old_kids.get(name)
        if prev is None:
            out[sub] = "A"
            if child.kind == DIR:
                _add_all(child, sub, out)
            continue
        if child is prev:
            continue
        if _stat_differs(child, prev):
            out[sub] = "C"
        if child.kind == DIR:
            if prev.kind == DIR:
                _diff_dirs(child, prev, sub, out)
            else:
                _add_all(child, sub, out)
    for name in old_kids:
        if name not in new.entries:
            out[f"{path}/{name}"] = "D"
    if len(out) > before and path and path not in out:
        out[path] = "C"
