"""Every raw Linux syscall csim makes, in one place.

Python 3.11 has no ``os.unshare``, ``setns``, ``mount`` or ``pivot_root``, so the
built-in runtime reaches the kernel through ctypes. Keeping all of it in one
module (as runc keeps it in ``*_linux.go`` and rubber-docker in one C
extension) means the rest of the runtime reads like the OCI runtime spec and
every failure arrives as an ``OSError`` whose message names the call, e.g.
``mount(overlay, /x): Invalid argument``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct

from simulator.runtime.oci.spec import DEFAULT_CAPABILITIES

# Namespace (clone) flags: include/uapi/linux/sched.h.
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# The OCI namespace type names, with their flag and /proc/<pid>/ns file.
NAMESPACES: dict[str, tuple[int, str]] = {
    "pid": (CLONE_NEWPID, "pid"),
    "mount": (CLONE_NEWNS, "mnt"),
    "uts": (CLONE_NEWUTS, "uts"),
    "ipc": (CLONE_NEWIPC, "ipc"),
    "network": (CLONE_NEWNET, "net"),
    "cgroup": (CLONE_NEWCGROUP, "cgroup"),
    "user": (CLONE_NEWUSER, "user"),
}

# mount(2) flags: include/uapi/linux/mount.h.
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24

MNT_FORCE = 1
MNT_DETACH = 2

# prctl(2) options: include/uapi/linux/prctl.h.
PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

# Capabilities by their OCI name: include/uapi/linux/capability.h.
CAPABILITIES: dict[str, int] = {
    name: number
    for number, name in enumerate(
        (
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER",
            "CAP_FSETID",
            "CAP_KILL",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_SETPCAP",
            "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST",
            "CAP_NET_ADMIN",
            "CAP_NET_RAW",
            "CAP_IPC_LOCK",
            "CAP_IPC_OWNER",
            "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO",
            "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE",
            "CAP_SYS_PACCT",
            "CAP_SYS_ADMIN",
            "CAP_SYS_BOOT",
            "CAP_SYS_NICE",
            "CAP_SYS_RESOURCE",
            "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG",
            "CAP_MKNOD",
            "CAP_LEASE",
            "CAP_AUDIT_WRITE",
            "CAP_AUDIT_CONTROL",
            "CAP_SETFCAP",
            "CAP_MAC_OVERRIDE",
            "CAP_MAC_ADMIN",
            "CAP_SYSLOG",
            "CAP_WAKE_ALARM",
            "CAP_BLOCK_SUSPEND",
            "CAP_AUDIT_READ",
            "CAP_PERFMON",
            "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE",
        )
    )
}

# Docker's default capability set: one definition, in the OCI spec generator.
DOCKER_DEFAULT_CAPS = DEFAULT_CAPABILITIES

# x86_64 syscall numbers for calls glibc 2.36 does not wrap (or wraps oddly).
_SYS_PIVOT_ROOT = 155
_SYS_CAPGET = 125
_SYS_CAPSET = 126
_SYS_PIDFD_SEND_SIGNAL = 424
_SYS_PIDFD_OPEN = 434
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

IN_MODIFY = 0x00000002
IN_MOVED_TO = 0x00000080
IN_CLOEXEC = os.O_CLOEXEC
IN_NONBLOCK = os.O_NONBLOCK

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_char_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.prctl.argtypes = [
    ctypes.c_int,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
]
_libc.syscall.restype = ctypes.c_long
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]


def _check(result: int, call: str) -> int:
    """Raise ``OSError(errno, "<call>: <strerror>")`` when a syscall returned -1."""
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{call}: {os.strerror(err)}")
    return result


def _b(value: str | os.PathLike[str] | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def mount(
    source: str | os.PathLike[str] | None,
    target: str | os.PathLike[str],
    fstype: str | None = None,
    flags: int = 0,
    data: str | None = None,
) -> None:
    """mount(2). The error message names the source (or fstype) and target."""
    result = _libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data))
    _check(result, f"mount({fstype or source}, {os.fspath(target)})")


def umount2(target: str | os.PathLike[str], flags: int = 0) -> None:
    """umount2(2)."""
    _check(_libc.umount2(_b(target), flags), f"umount2({os.fspath(target)})")


def unshare(flags: int) -> None:
    """unshare(2): move the caller into new namespaces (CLONE_NEWPID: its children)."""
    _check(_libc.unshare(flags), f"unshare({clone_flag_names(flags)})")


def setns(fd: int, nstype: int = 0) -> None:
    """setns(2): join the namespace ``fd`` refers to."""
    _check(_libc.setns(fd, nstype), f"setns({clone_flag_names(nstype) or fd})")


def pivot_root(new_root: str, put_old: str) -> None:
    """pivot_root(2) (no glibc wrapper)."""
    result = _libc.syscall(_SYS_PIVOT_ROOT, _b(new_root), _b(put_old))
    _check(result, f"pivot_root({new_root}, {put_old})")


def sethostname(name: str) -> None:
    """sethostname(2), in the caller's UTS namespace."""
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), f"sethostname({name})")


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """prctl(2)."""
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option})")


def set_no_new_privs() -> None:
    """PR_SET_NO_NEW_PRIVS: execve can never grant more privileges (setuid, file caps)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def set_pdeathsig(signal: int) -> None:
    """PR_SET_PDEATHSIG: receive ``signal`` when the parent thread dies."""
    prctl(PR_SET_PDEATHSIG, signal)


def set_child_subreaper() -> None:
    """PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented to the caller."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def capbset_drop(cap: int) -> None:
    """PR_CAPBSET_DROP: remove ``cap`` from the bounding set for good."""
    prctl(PR_CAPBSET_DROP, cap)


def cap_ambient_clear_all() -> None:
    """Clear the ambient capability set."""
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)


def last_cap() -> int:
    """The highest capability number this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return max(CAPABILITIES.values())


def capget(pid: int = 0) -> tuple[int, int, int]:
    """capget(2): (effective, permitted, inheritable) as 64-bit masks."""
    header = ctypes.create_string_buffer(struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, pid))
    data = ctypes.create_string_buffer(24)
    _check(_libc.syscall(_SYS_CAPGET, header, data), f"capget({pid})")
    e0, p0, i0, e1, p1, i1 = struct.unpack("6I", data.raw)
    return e0 | e1 << 32, p0 | p1 << 32, i0 | i1 << 32


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """capset(2) on the calling thread, masks as 64-bit integers."""
    header = ctypes.create_string_buffer(struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, 0))
    low, high = 0xFFFFFFFF, 32
    data = ctypes.create_string_buffer(
        struct.pack(
            "6I",
            effective & low,
            permitted & low,
            inheritable & low,
            effective >> high,
            permitted >> high,
            inheritable >> high,
        )
    )
    _check(_libc.syscall(_SYS_CAPSET, header, data), "capset")


def cap_mask(names: list[str] | tuple[str, ...]) -> int:
    """The bit mask of a list of OCI capability names (unknown names are ignored)."""
    mask = 0
    for name in names:
        number = CAPABILITIES.get(name)
        if number is not None:
            mask |= 1 << number
    return mask


def pidfd_open(pid: int) -> int:
    """pidfd_open(2): a file descriptor that becomes readable when ``pid`` exits."""
    return _check(_libc.syscall(_SYS_PIDFD_OPEN, pid, 0), f"pidfd_open({pid})")


def pidfd_send_signal(pidfd: int, signal: int) -> None:
    """pidfd_send_signal(2): signal exactly the process ``pidfd`` names (no pid reuse race)."""
    result = _libc.syscall(_SYS_PIDFD_SEND_SIGNAL, pidfd, signal, None, 0)
    _check(result, f"pidfd_send_signal({signal})")


def inotify_init(flags: int = IN_CLOEXEC | IN_NONBLOCK) -> int:
    """inotify_init1(2)."""
    return _check(_libc.inotify_init1(flags), "inotify_init1")


def inotify_add_watch(fd: int, path: str | os.PathLike[str], mask: int) -> int:
    """inotify_add_watch(2)."""
    result = _libc.inotify_add_watch(fd, _b(path), mask)
    return _check(result, f"inotify_add_watch({os.fspath(path)})")


def clone_flag_names(flags: int) -> str:
    """``CLONE_NEWPID|CLONE_NEWNS`` for a flags word, as the trace labels it."""
    names = [
        ("CLONE_NEWPID", CLONE_NEWPID),
        ("CLONE_NEWNS", CLONE_NEWNS),
        ("CLONE_NEWUTS", CLONE_NEWUTS),
        ("CLONE_NEWIPC", CLONE_NEWIPC),
        ("CLONE_NEWNET", CLONE_NEWNET),
        ("CLONE_NEWCGROUP", CLONE_NEWCGROUP),
        ("CLONE_NEWUSER", CLONE_NEWUSER),
    ]
    return "|".join(name for name, bit in names if flags & bit)
