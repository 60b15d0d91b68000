"""The container's root filesystem: overlayfs from image layers, then the OCI mounts.

Two halves, as in Docker: the host side (containerd's snapshotter) mounts an
overlay of the image layers plus a per-container upper dir at
``<state>/rootfs``; the container side (runc's ``rootfs_linux.go``) runs in
the container's fresh mount namespace and turns that directory into ``/``:
the ``mounts`` of the OCI config (``/proc``, a tmpfs ``/dev`` with the basic
device nodes, ``/dev/pts``, ``/dev/shm``, the ``/etc/hosts`` family, volumes),
``pivot_root``, and finally Docker's masked and read-only paths.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulator.runtime.linux import syscalls as sc
from simulator.runtime.oci.spec import DEFAULT_DEVICES  # runc makes these whatever the config says

# OCI mount option -> (flags to set, flags to clear).
_FLAGS: dict[str, tuple[int, int]] = {
    "ro": (sc.MS_RDONLY, 0),
    "rw": (0, sc.MS_RDONLY),
    "nosuid": (sc.MS_NOSUID, 0),
    "suid": (0, sc.MS_NOSUID),
    "nodev": (sc.MS_NODEV, 0),
    "dev": (0, sc.MS_NODEV),
    "noexec": (sc.MS_NOEXEC, 0),
    "exec": (0, sc.MS_NOEXEC),
    "bind": (sc.MS_BIND, 0),
    "rbind": (sc.MS_BIND | sc.MS_REC, 0),
    "strictatime": (sc.MS_STRICTATIME, 0),
    "relatime": (sc.MS_RELATIME, 0),
    "noatime": (sc.MS_NOATIME, 0),
    "sync": (sc.MS_SYNCHRONOUS, 0),
    "dirsync": (sc.MS_DIRSYNC, 0),
}
_PROPAGATION: dict[str, int] = {
    "private": sc.MS_PRIVATE,
    "rprivate": sc.MS_PRIVATE | sc.MS_REC,
    "slave": sc.MS_SLAVE,
    "rslave": sc.MS_SLAVE | sc.MS_REC,
    "shared": sc.MS_SHARED,
    "rshared": sc.MS_SHARED | sc.MS_REC,
    "unbindable": sc.MS_UNBINDABLE,
    "runbindable": sc.MS_UNBINDABLE | sc.MS_REC,
}

_DEV_LINKS = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("/proc/kcore", "/dev/core"),
    ("pts/ptmx", "/dev/ptmx"),
)


# --- host side -------------------------------------------------------------------------


def overlay_options(lower: Sequence[Path], upper: Path, work: Path) -> str:
    """The overlay mount data. ``lower`` is top layer first, as overlayfs wants it."""
    lowerdir = ":".join(os.fspath(path) for path in lower)
    return f"lowerdir={lowerdir},upperdir={upper},workdir={work}"


def mount_overlay(lower: Sequence[Path], upper: Path, work: Path, target: Path) -> None:
    """Mount the container's root: image layers read-only under a private upper dir."""
    for path in (upper, work, target):
        path.mkdir(parents=True, exist_ok=True)
    sc.mount("overlay", target, "overlay", 0, overlay_options(lower, upper, work))


INIT_LAYER_DIRS = ("proc", "sys", "dev/pts", "dev/shm", "etc")
INIT_LAYER_FILES = ("etc/hostname", "etc/hosts", "etc/resolv.conf", "dev/console")


def make_init_layer(path: Path) -> None:
    """Docker's init layer: the mount points every container needs, below the upper dir.

    Mount targets made here never appear in ``docker diff`` or a commit.
    """
    for name in INIT_LAYER_DIRS:
        (path / name).mkdir(parents=True, exist_ok=True)
    for name in INIT_LAYER_FILES:
        (path / name).touch()
    mtab = path / "etc/mtab"
    if not mtab.is_symlink():
        mtab.symlink_to("/proc/mounts")


def is_mountpoint(path: Path) -> bool:
    """True if ``path`` is a mount point in the caller's mount namespace."""
    target = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4 and _unescape(fields[4]) == target:
                return True
    return False


def unmount_all(path: Path) -> None:
    """Unmount ``path`` and anything stacked below it (lazy, so a busy mount still goes)."""
    target = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        points = [_unescape(line.split()[4]) for line in f]
    below = [p for p in points if p == target or p.startswith(target + "/")]
    for point in sorted(set(below), key=len, reverse=True):
        try:
            sc.umount2(point, sc.MNT_DETACH)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOENT):
                raise


def _unescape(field: str) -> str:
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")


# --- container side --------------------------------------------------------------------


def secure_join(root: str, unsafe: str) -> str:
    """``root``/``unsafe`` with every symlink resolved as if ``root`` were ``/``.

    A hostile image cannot point ``/etc`` at ``/host/etc`` and have a bind
    mount land outside its root: ``..`` and absolute links stop at ``root``.
    The walk is the OCI spec module's; here a link loop is the kernel's ELOOP.
    """
    from simulator.model.errors import InvalidParameter
    from simulator.runtime.oci.spec import secure_join as resolve

    try:
        return os.fspath(resolve(Path(root), unsafe))
    except InvalidParameter:
        raise OSError(errno.ELOOP, f"securejoin({unsafe}): too many symlinks") from None


def parse_options(options: Sequence[str]) -> tuple[int, int, list[str]]:
    """OCI mount options -> (flags, propagation flags, filesystem data items)."""
    flags = 0
    propagation = 0
    data: list[str] = []
    for option in options:
        if option in _FLAGS:
            set_bits, clear_bits = _FLAGS[option]
            flags = (flags | set_bits) & ~clear_bits
        elif option in _PROPAGATION:
            propagation |= _PROPAGATION[option]
        else:
            data.append(option)
    return flags, propagation, data


def _make_target(path: str, is_file: bool) -> None:
    if is_file:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            with open(path, "a"):
                pass
    else:
        os.makedirs(path, exist_ok=True)


def mount_entry(rootfs: str, entry: dict[str, Any], cgroup_version: int) -> None:
    """Perform one OCI ``mounts`` entry below ``rootfs`` (before pivot_root)."""
    kind = entry.get("type") or "none"
    source = entry.get("source") or kind
    flags, propagation, data = parse_options(entry.get("options") or [])
    target = secure_join(rootfs, entry["destination"])
    if flags & sc.MS_BIND:
        _make_target(target, not os.path.isdir(source))
        sc.mount(source, target, None, flags & (sc.MS_BIND | sc.MS_REC))
        # A bind mount ignores ro/nosuid/... until it is remounted with them.
        remount = flags & ~(sc.MS_BIND | sc.MS_REC)
        if remount:
            sc.mount(None, target, None, sc.MS_BIND | sc.MS_REMOUNT | remount)
    elif kind == "cgroup":
        _mount_cgroup(target, flags, cgroup_version)
        return
    else:
        _make_target(target, False)
        sc.mount(source, target, kind, flags, ",".join(data) or None)
    if propagation:
        sc.mount(None, target, None, propagation)


def _mount_cgroup(target: str, flags: int, cgroup_version: int) -> None:
    """``/sys/fs/cgroup``: cgroup2, or on v1 a tmpfs with one mount per controller."""
    os.makedirs(target, exist_ok=True)
    if cgroup_version == 2:
        sc.mount("cgroup", target, "cgroup2", flags)
        return
    sc.mount("tmpfs", target, "tmpfs", flags & ~sc.MS_RDONLY, "mode=755")
    for controller in ("memory", "cpu", "cpuacct", "pids", "freezer"):
        path = os.path.join(target, controller)
        os.mkdir(path)
        try:
            sc.mount("cgroup", path, "cgroup", flags, controller)
        except OSError:
            os.rmdir(path)
    if flags & sc.MS_RDONLY:
        sc.mount(None, target, None, sc.MS_REMOUNT | flags)


def make_devices(rootfs: str, devices: Sequence[dict[str, Any]], console: str | None) -> None:
    """The basic device nodes, the OCI ``linux.devices``, the /dev symlinks, /dev/console."""
    wanted = {path: (major, minor, "c", 0o666) for path, major, minor in DEFAULT_DEVICES}
    for device in devices:
        mode = device.get("fileMode", 0o666)
        wanted[device["path"]] = (device["major"], device["minor"], device.get("type", "c"), mode)
    for path, (major, minor, kind, mode) in wanted.items():
        node = secure_join(rootfs, path)
        os.makedirs(os.path.dirname(node), exist_ok=True)
        if os.path.lexists(node):
            os.unlink(node)
        type_bits = stat.S_IFBLK if kind == "b" else stat.S_IFCHR
        os.mknod(node, type_bits | 0o666, os.makedev(major, minor))
        os.chmod(node, mode & 0o7777)
    for source, link in _DEV_LINKS:
        path = secure_join(rootfs, link)
        if not os.path.lexists(path) and os.path.isdir(os.path.dirname(path)):
            os.symlink(source, path)
    if console is not None:
        path = secure_join(rootfs, "/dev/console")
        _make_target(path, True)
        sc.mount(console, path, None, sc.MS_BIND)


def pivot(rootfs: str) -> None:
    """Make ``rootfs`` the root and detach the old one (runc's pivot_root(".", ".") trick)."""
    old_root = os.open("/", os.O_DIRECTORY | os.O_RDONLY)
    try:
        os.chdir(rootfs)
        sc.pivot_root(".", ".")
        # The old root is now stacked on "/": step into it, make it a slave so
        # the lazy unmount cannot propagate back to the host, and drop it.
        os.fchdir(old_root)
    finally:
        os.close(old_root)
    sc.mount(None, ".", None, sc.MS_SLAVE | sc.MS_REC)
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


def mask_paths(paths: Sequence[str]) -> None:
    """Hide ``paths`` (after pivot_root): /dev/null over files, an empty ro tmpfs over dirs."""
    for path in paths:
        try:
            if os.path.isdir(path):
                sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)
            else:
                sc.mount("/dev/null", path, None, sc.MS_BIND)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise


def readonly_paths(paths: Sequence[str]) -> None:
    """Bind ``paths`` onto themselves read-only (after pivot_root)."""
    for path in paths:
        try:
            sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                continue
            raise
        sc.mount(
            None,
            path,
            None,
            sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC,
        )


def prepare_rootfs(rootfs: str, config: dict[str, Any], console: str | None, cgroup_version: int) -> None:
    """Everything between unshare(CLONE_NEWNS) and execve that concerns files.

    Runs in the container's init (or the OCI ``create``), in its own mount
    namespace. ``rootfs`` is the overlay mounted by the host side.
    """
    linux = config.get("linux") or {}
    propagation = _PROPAGATION.get(linux.get("rootfsPropagation", "rslave"), sc.MS_SLAVE)
    sc.mount(None, "/", None, propagation | sc.MS_REC)
    # pivot_root needs the new root to be a mount point of this namespace.
    sc.mount(rootfs, rootfs, None, sc.MS_BIND | sc.MS_REC)
    for entry in config.get("mounts") or []:
        mount_entry(rootfs, entry, cgroup_version)
    make_devices(rootfs, linux.get("devices") or [], console)
    pivot(rootfs)
    mask_paths(linux.get("maskedPaths") or [])
    readonly_paths(linux.get("readonlyPaths") or [])
    if (config.get("root") or {}).get("readonly"):
        sc.mount(None, "/", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC)
