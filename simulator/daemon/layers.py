"""Image layers unpacked on disk, once per diff id, safe against hostile archives.

A container's root filesystem is an overlay of its image's layers, each a
plain directory (what Docker's overlay2 driver keeps under
``/var/lib/docker/overlay2/<id>/diff``). A layer is unpacked once and shared
by every image and container that uses it, so two containers of one image
see the very same inodes underneath their own upper directories.

A layer tar comes from a registry or a ``docker load`` and must be treated
as hostile: names with ``..`` or a leading ``/``, links pointing out of the
layer, a member written *through* an earlier symlink, device nodes and
setuid bits are all ways to reach the host. Each member is checked before it
touches the disk (using the standard library's ``tarfile.data_filter`` for
the path checks it does well), written with ``O_NOFOLLOW`` into a private
temporary directory, and the directory is renamed into place only when the
whole layer is unpacked and its diff id verified.

OCI whiteouts become overlayfs ones: ``dir/.wh.name`` a character device
0/0 named ``dir/name``, ``dir/.wh..wh..opq`` the ``trusted.overlay.opaque``
extended attribute on ``dir`` (both need root, as overlayfs itself does).

Policy, where Docker's behaviour and safety meet:

* absolute member names are made relative (Docker does the same);
* absolute symlink *targets* are kept: they resolve inside the container's
  root once it is pivoted into, and nothing here ever follows them;
* relative symlinks that climb out of the layer, hard links to anything but
  an earlier member, device nodes, and members under a symlink are rejected;
* setuid and setgid bits are removed (the sticky bit of ``/tmp`` stays).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from simulator.daemon.content import ContentStore
from simulator.model.digest import SHA256, validate_digest
from simulator.model.errors import DockerError, InvalidParameter, NotFound

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_TMP_PREFIX = ".unpack-"
_META = ".meta"
_CHUNK = 1 << 20
_MAX_MEMBERS = 2_000_000


class LayerRejected(InvalidParameter):
    """A layer member that would reach outside the layer, or is not allowed in one.

    Attributes:
        member: the tar member name, as written in the archive.
        reason: why it was refused.
    """

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"layer rejected: {member!r}: {reason}")
        self.member = member
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UnpackNotice:
    """Something in a layer that was changed rather than refused (setuid bits, leading ``/``)."""

    member: str
    action: str


class _HashingReader:
    """A read-only stream that hashes what passes through it (the diff id)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.hash.update(data)
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass

    @property
    def digest(self) -> str:
        return f"{SHA256}:{self.hash.hexdigest()}"


def _hex(digest: str) -> str:
    validate_digest(digest)
    algorithm, _, encoded = digest.partition(":")
    if algorithm != SHA256:
        raise InvalidParameter("unsupported digest algorithm")
    return encoded


def _clean_name(name: str) -> tuple[str, bool]:
    """Return the member's path relative to the layer root, and whether it was absolute.

    Raises:
        LayerRejected: for ``..`` components or an empty name.
    """
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise LayerRejected(name, "path traversal ('..') leaves the layer")
    return "/".join(parts), name.startswith("/")


def _symlink_stays_inside(rel: str, target: str) -> bool:
    """Whether a relative symlink target, read from ``rel``'s directory, stays in the layer."""
    depth = len(rel.split("/")) - 1
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return False
        elif part not in ("", "."):
            depth += 1
    return True


class LayerUnpacker:
    """Layers unpacked under ``root/<diff id hex>/``, from blobs in a content store.

    Args:
        root: the directory holding unpacked layers.
        content: where the layer blobs (gzip or plain tars) are.
    """

    def __init__(self, root: Path, content: ContentStore) -> None:
        self.root = Path(root)
        self.content = content
        self._meta = self.root / _META
        self._meta.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.notices: dict[str, list[UnpackNotice]] = {}
        for stale in self.root.glob(f"{_TMP_PREFIX}*"):
            # Half-unpacked or half-removed layers from a crash: never visible as layers.
            shutil.rmtree(stale, ignore_errors=True)

    # -- the blob <-> diff id mapping ------------------------------------------------

    def register(self, blob_digest: str, diff_id: str) -> None:
        """Record that the (maybe compressed) blob ``blob_digest`` holds layer ``diff_id``."""
        _hex(blob_digest)
        path = self._meta / _hex(diff_id)
        if path.is_file() and path.read_text().strip() == blob_digest:
            return
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self._meta)
        with os.fdopen(fd, "w") as file:
            file.write(blob_digest)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)

    def add_tar(self, tar: bytes) -> str:
        """Store an uncompressed layer tar as its own blob and return its diff id."""
        digest = self.content.put(tar)
        self.register(digest, digest)
        return digest

    def blob_for(self, diff_id: str) -> str:
        """The blob digest registered for ``diff_id``.

        Raises:
            NotFound: ``layer does not exist`` (Docker's layer store words).
        """
        path = self._meta / _hex(diff_id)
        if path.is_file():
            return path.read_text().strip()
        if self.content.has(diff_id):
            return diff_id  # an uncompressed blob is its own diff id
        raise NotFound(f"layer does not exist: {diff_id}")

    def _open_tar_stream(self, diff_id: str) -> tuple[IO[bytes], IO[bytes]]:
        """Open the blob of ``diff_id`` and return (raw file, uncompressed stream)."""
        raw = self.content.open(self.blob_for(diff_id))
        head = raw.read(4)
        raw.seek(0)
        if head[:2] == b"\x1f\x8b":
            return raw, cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
        if head == b"\x28\xb5\x2f\xfd":
            raw.close()
            raise InvalidParameter(f"layer {diff_id}: zstd-compressed layers are not supported")
        return raw, raw

    def layer_tar(self, diff_id: str) -> bytes:
        """The uncompressed tar of a layer (the runtime protocol's ``LayerStore``)."""
        raw, stream = self._open_tar_stream(diff_id)
        with raw:
            return stream.read()

    # -- unpacking -------------------------------------------------------------------

    def has(self, diff_id: str) -> bool:
        """Whether the layer is unpacked already."""
        return (self.root / _hex(diff_id)).is_dir()

    def unpacked_path(self, diff_id: str) -> Path:
        """Return the layer's directory, unpacking it first if needed (once, atomically).

        Raises:
            NotFound: when no blob is registered for ``diff_id``.
            LayerRejected: for a hostile member (nothing is left on disk).
            InvalidParameter: when the tar does not hash to ``diff_id``.
        """
        final = self.root / _hex(diff_id)
        if final.is_dir():
            return final
        with self._lock_for(diff_id):
            if final.is_dir():
                return final
            tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self.root))
            try:
                notices = self._unpack(diff_id, tmp)
                os.chmod(tmp, 0o755)
                os.rename(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            self.notices[diff_id] = notices
        return final

    def remove(self, diff_id: str) -> None:
        """Delete the unpacked layer and its blob mapping (the blob stays in the content store)."""
        hex_id = _hex(diff_id)
        with self._lock_for(diff_id):
            final = self.root / hex_id
            if final.is_dir():
                # Rename first so a crash mid-delete leaves a temp dir, never half a layer.
                doomed = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self.root))
                os.rename(final, doomed / "layer")
                shutil.rmtree(doomed, ignore_errors=True)
            (self._meta / hex_id).unlink(missing_ok=True)
            self.notices.pop(diff_id, None)

    def _lock_for(self, diff_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(diff_id, threading.Lock())

    def _unpack(self, diff_id: str, dest: Path) -> list[UnpackNotice]:
        raw, stream = self._open_tar_stream(diff_id)
        with raw:
            reader = _HashingReader(stream)
            notices = extract_layer(reader, dest)  # type: ignore[arg-type]
            reader.drain()
        if reader.digest != diff_id:
            raise InvalidParameter(f"invalid diffID for layer: expected {diff_id!r}, got {reader.digest!r}")
        return notices


# -- member-by-member extraction --------------------------------------------------------


def extract_layer(
    stream: IO[bytes],
    dest: Path,
    *,
    on_whiteout: Callable[[Path], None] | None = None,
) -> list[UnpackNotice]:
    """Unpack a layer tar stream into the empty directory ``dest``, safely.

    Args:
        stream: the uncompressed tar.
        dest: an empty directory owned by the caller.
        on_whiteout: makes the whiteout for a path (default: a 0/0 character device).

    Returns:
        What was neutralised rather than refused.

    Raises:
        LayerRejected: at the first hostile member (``dest`` is left for the caller to remove).
    """
    make_whiteout = on_whiteout or _mknod_whiteout
    notices: list[UnpackNotice] = []
    dirs: list[tuple[Path, tarfile.TarInfo]] = []
    dest_str = str(dest)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for count, member in enumerate(tar):
                if count >= _MAX_MEMBERS:
                    raise LayerRejected(member.name, "too many members")
                try:
                    _extract_member(
                        tar,
                        member,
                        dest=dest,
                        dest_str=dest_str,
                        notices=notices,
                        dirs=dirs,
                        make_whiteout=make_whiteout,
                    )
                except OSError as exc:
                    raise LayerRejected(member.name, f"cannot extract: {exc.strerror}") from exc
    except tarfile.TarError as exc:
        raise InvalidParameter(f"archive/tar: invalid tar header: {exc}") from exc
    # Directory times last, deepest first, as writing into them changes them.
    for path, member in reversed(dirs):
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
    return notices


def _extract_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    *,
    dest: Path,
    dest_str: str,
    notices: list[UnpackNotice],
    dirs: list[tuple[Path, tarfile.TarInfo]],
    make_whiteout: Callable[[Path], None],
) -> None:
    """Check and write one member (see :func:`extract_layer`)."""
    rel, was_absolute = _clean_name(member.name)
    if was_absolute:
        notices.append(UnpackNotice(member.name, "leading '/' removed"))
    if not rel:
        return  # the layer root itself ("./")
    _check_parents(dest, rel, member.name)
    head, _, base = rel.rpartition("/")
    parent = dest / head if head else dest
    if base == OPAQUE_MARKER:
        parent.mkdir(parents=True, exist_ok=True)
        _set_opaque(parent, member.name)
        return
    if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
        # aufs metadata (.wh..wh.plnk, .wh..wh.aufs): Docker skips it too.
        notices.append(UnpackNotice(member.name, "aufs metadata skipped"))
        return
    if base.startswith(WHITEOUT_PREFIX):
        hidden = base[len(WHITEOUT_PREFIX) :]
        if hidden in ("", ".", ".."):
            raise LayerRejected(member.name, "whiteout of a path outside the layer")
        parent.mkdir(parents=True, exist_ok=True)
        target = parent / hidden
        _clear(target)
        make_whiteout(target)
        return
    target = dest / rel
    mode = member.mode & 0o7777
    if mode & (stat.S_ISUID | stat.S_ISGID) and not member.isdir():
        notices.append(UnpackNotice(member.name, "setuid/setgid bits removed"))
    mode &= ~(stat.S_ISUID | stat.S_ISGID) if not member.isdir() else ~stat.S_ISUID
    if member.isdir():
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            _clear(target)  # replaced, never followed (checked below without it)
        _check_with_data_filter(member, rel, dest_str)
        target.mkdir(parents=True, exist_ok=True)
        dirs.append((target, member))
        _chown(target, member)
        os.chmod(target, mode)
    elif member.isreg():
        _clear(target)  # a later member replaces an earlier one, even a symlink
        _check_with_data_filter(member, rel, dest_str)
        parent.mkdir(parents=True, exist_ok=True)
        _write_file(tar, member, target, mode)
    elif member.issym():
        if not member.linkname.startswith("/") and not _symlink_stays_inside(rel, member.linkname):
            raise LayerRejected(member.name, f"symlink to {member.linkname!r} points outside the layer")
        parent.mkdir(parents=True, exist_ok=True)
        _clear(target)
        os.symlink(member.linkname, target)
        _chown(target, member)
        os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)
    elif member.islnk():
        if os.path.lexists(target) and not os.path.isdir(target):
            _clear(target)
        _check_with_data_filter(member, rel, dest_str)
        link_rel, _ = _clean_name(member.linkname)
        source = dest / link_rel
        if not link_rel or not source.is_file() or source.is_symlink():
            raise LayerRejected(
                member.name,
                f"hard link to {member.linkname!r}, which is not a file of this layer",
            )
        _check_parents(dest, link_rel, member.name)
        parent.mkdir(parents=True, exist_ok=True)
        _clear(target)
        os.link(source, target, follow_symlinks=False)
    elif member.isfifo():
        # Harmless (no host object behind it); some images ship one.
        parent.mkdir(parents=True, exist_ok=True)
        _clear(target)
        os.mkfifo(target, mode & 0o777)
        _chown(target, member)
    elif member.ischr() or member.isblk():
        raise LayerRejected(
            member.name,
            f"device node {member.devmajor}:{member.devminor} is not allowed in a layer",
        )
    else:
        raise LayerRejected(member.name, f"unsupported tar member type {member.type!r}")


def _check_parents(dest: Path, rel: str, name: str) -> None:
    """Refuse a member whose parent directories include a symlink (writing through it)."""
    current = dest
    for part in rel.split("/")[:-1]:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode):
            raise LayerRejected(name, f"path goes through the symlink {part!r}")
        if not stat.S_ISDIR(st.st_mode):
            raise LayerRejected(name, f"parent {part!r} is not a directory")


def _check_with_data_filter(member: tarfile.TarInfo, rel: str, dest: str) -> None:
    """Let the standard library's ``data`` filter vet the name (and a hard link's target)."""
    probe = member.replace(name=rel, mode=member.mode & 0o777, deep=False)
    try:
        tarfile.data_filter(probe, dest)
    except tarfile.FilterError as exc:
        raise LayerRejected(member.name, str(exc)) from exc


def _clear(target: Path) -> None:
    """Remove whatever an earlier member put at ``target`` (never following a symlink)."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(target)
    else:
        target.unlink()


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, mode: int) -> None:
    source = tar.extractfile(member)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        if source is not None:
            shutil.copyfileobj(source, out, _CHUNK)
        if os.geteuid() == 0:
            os.fchown(out.fileno(), member.uid, member.gid)
        os.fchmod(out.fileno(), mode)
    os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)


def _chown(target: Path, member: tarfile.TarInfo) -> None:
    if os.geteuid() == 0:
        os.chown(target, member.uid, member.gid, follow_symlinks=False)


def _mknod_whiteout(target: Path) -> None:
    """overlayfs's whiteout: a character device 0/0 (needs CAP_MKNOD)."""
    try:
        os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))
    except PermissionError as exc:
        raise DockerError(f"cannot create whiteout {target.name!r}: {exc.strerror} (unpacking needs root)") from exc


def _set_opaque(directory: Path, name: str) -> None:
    try:
        os.setxattr(directory, OPAQUE_XATTR, b"y", follow_symlinks=False)
    except OSError as exc:
        raise DockerError(f"cannot mark {name!r} opaque: {exc.strerror} (unpacking needs root)") from exc
