"""The OCI runtime bundle's ``config.json``, written the way dockerd writes it.

dockerd never runs a container itself: it turns ``docker run`` flags into an
OCI runtime spec and hands the bundle to containerd, which hands it to runc.
This module is that translation. The same document drives csim's built-in
Linux runtime and an installed runc or crun, so every default here (mounts,
capabilities, masked paths, namespaces) is Docker's, taken from moby's
``oci/defaults.go``; :func:`parse_oci_config` goes the other way for the
``csim runtime`` OCI command line, which is handed a bundle somebody else
wrote.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.model.errors import InvalidParameter
from simulator.runtime.protocol import ContainerSpec, MountSpec, ProcessSpec

OCI_VERSION = "1.0.2"

DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
"""Docker's default capability set (moby ``oci/caps/defaults.go``)."""

MASKED_PATHS: tuple[str, ...] = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
"""Paths Docker hides (a /dev/null bind for files, an empty ro tmpfs for dirs)."""

READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)
"""Paths Docker re-mounts read-only."""

DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

CPU_PERIOD_US = 100_000
"""The CFS period Docker uses for ``--cpus`` (100 ms)."""

NOFILE_LIMIT = 1_048_576
"""Upper bound of the RLIMIT_NOFILE given to containers."""

# (path, major, minor): the OCI "default devices" every container gets.
DEFAULT_DEVICES: tuple[tuple[str, int, int], ...] = (
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
)


def _default_mounts() -> list[dict[str, Any]]:
    """Docker's default mounts, in its order."""
    return [
        {
            "destination": "/proc",
            "type": "proc",
            "source": "proc",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["ro", "nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
    ]


def _device_cgroup_rules() -> list[dict[str, Any]]:
    """Docker's device cgroup: deny all, then allow the default devices and ptys."""
    rules: list[dict[str, Any]] = [{"allow": False, "access": "rwm"}]
    for _, major, minor in DEFAULT_DEVICES:
        rules.append({"allow": True, "type": "c", "major": major, "minor": minor, "access": "rwm"})
    rules += [
        {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},  # console
        {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},  # ptmx
        {"allow": True, "type": "c", "major": 136, "access": "rwm"},  # /dev/pts/*
    ]
    return rules


def _volume_mount(mount: MountSpec) -> dict[str, Any]:
    """One ``-v``/``--mount``/``--tmpfs`` entry as an OCI mount."""
    mode = "ro" if mount.read_only else "rw"
    if mount.kind == "tmpfs":
        return {
            "destination": mount.destination,
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "nodev", "noexec", mode],
        }
    return {
        "destination": mount.destination,
        "type": "bind",
        "source": mount.source,
        "options": ["rbind", "rprivate", mode],
    }


def parse_user(user: str) -> tuple[int, int]:
    """Return (uid, gid) for a numeric ``uid[:gid]`` or ``root``.

    Names other than ``root`` need the image's ``/etc/passwd``: resolve them
    with :func:`resolve_user` first and pass the numbers.

    Raises:
        InvalidParameter: Docker's ``unable to find user NAME: no matching
            entries in passwd file`` for a name it cannot resolve here.
    """
    if not user:
        return 0, 0
    name, _, group = user.partition(":")
    if name == "root":
        uid = 0
    elif name.isdigit():
        uid = int(name)
    else:
        raise InvalidParameter(f"unable to find user {name}: no matching entries in passwd file")
    if not group:
        return uid, uid if name.isdigit() else 0
    if group == "root":
        return uid, 0
    if group.isdigit():
        return uid, int(group)
    raise InvalidParameter(f"unable to find group {group}: no matching entries in group file")


def resolve_user(user: str, rootfs: Path) -> tuple[int, int]:
    """Resolve ``user[:group]`` (names or numbers) against a root filesystem's /etc files.

    Args:
        user: what ``docker run --user`` was given ("" means root).
        rootfs: the container's root directory (merged view).

    Raises:
        InvalidParameter: with Docker's words when a name has no entry.
    """
    name, _, group = user.partition(":")
    uid, gid = 0, 0
    passwd, groups = secure_join(rootfs, "/etc/passwd"), secure_join(rootfs, "/etc/group")
    if name and not name.isdigit():
        entry = _lookup(passwd, name)
        if entry is None:
            raise InvalidParameter(f"unable to find user {name}: no matching entries in passwd file")
        uid, gid = int(entry[2]), int(entry[3])
    elif name:
        uid = int(name)
        entry = _lookup_id(passwd, uid)
        gid = int(entry[3]) if entry is not None else uid
    if group and not group.isdigit():
        gentry = _lookup(groups, group)
        if gentry is None:
            raise InvalidParameter(f"unable to find group {group}: no matching entries in group file")
        gid = int(gentry[2])
    elif group:
        gid = int(group)
    return uid, gid


def secure_join(root: Path, path: str) -> Path:
    """Resolve ``path`` as the container would see it, never leaving ``root``.

    Symlinks in the image are followed relative to ``root`` (an absolute
    target restarts at ``root``, ``..`` stops at it), so a hostile
    ``/etc/passwd -> /etc/shadow`` cannot make the daemon read a host file.
    At most 40 links are followed, as the kernel does.
    """
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        if candidate.is_symlink():
            links += 1
            if links > 40:
                raise InvalidParameter(f"too many levels of symbolic links: {path}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


def _entries(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line.count(":") >= 2]


def _lookup(path: Path, name: str) -> list[str] | None:
    for entry in _entries(path):
        if entry[0] == name and len(entry) >= 4 and entry[2].isdigit():
            return entry
    return None


def _lookup_id(path: Path, uid: int) -> list[str] | None:
    for entry in _entries(path):
        if len(entry) >= 4 and entry[2] == str(uid) and entry[3].isdigit():
            return entry
    return None


def _daemon_nofile() -> tuple[int, int]:
    """This process's RLIMIT_NOFILE, capped at :data:`NOFILE_LIMIT`."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > NOFILE_LIMIT:
        hard = NOFILE_LIMIT
    if soft == resource.RLIM_INFINITY or soft > hard:
        soft = hard
    return soft, hard


def build_oci_config(
    spec: ContainerSpec,
    rootfs: str = "rootfs",
    *,
    cgroups_path: str | None = None,
    netns_path: str | None = None,
    hostname_path: str | None = None,
    hosts_path: str | None = None,
    resolv_conf_path: str | None = None,
    user_ids: tuple[int, int] | None = None,
    memory_swap: int | None = None,
    annotations: Mapping[str, str] | None = None,
    nofile: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Return the OCI runtime ``config.json`` dockerd would write for ``spec``.

    Args:
        spec: the container as the daemon created it.
        rootfs: ``root.path`` (relative to the bundle, or absolute).
        cgroups_path: ``linux.cgroupsPath``, e.g. ``/csim/<id>``.
        netns_path: a network namespace to join (``/run/netns/...``); without
            it the runtime makes a new, empty one.
        hostname_path: host file bind-mounted on ``/etc/hostname``.
        hosts_path: host file bind-mounted on ``/etc/hosts``.
        resolv_conf_path: host file bind-mounted on ``/etc/resolv.conf``.
        user_ids: (uid, gid) already resolved from the image (see
            :func:`resolve_user`); otherwise ``spec.process.user`` must be
            numeric or ``root``.
        memory_swap: ``linux.resources.memory.swap`` (Docker: 2 × memory),
            only when the kernel accounts swap.
        annotations: extra ``annotations``.
        nofile: (soft, hard) RLIMIT_NOFILE; by default the daemon's own, as
            a container inherits dockerd's (a runtime cannot raise the hard
            limit above its own without CAP_SYS_RESOURCE).

    Raises:
        InvalidParameter: when the user cannot be resolved.
    """
    uid, gid = user_ids if user_ids is not None else parse_user(spec.process.user)
    env = list(spec.process.env)
    if not any(e.startswith("PATH=") for e in env):
        env.insert(0, DEFAULT_PATH_ENV)
    if spec.process.tty and not any(e.startswith("TERM=") for e in env):
        env.append("TERM=xterm")
    if not any(e.startswith("HOSTNAME=") for e in env):
        env.insert(1, f"HOSTNAME={spec.hostname}")
    soft_nofile, hard_nofile = nofile if nofile is not None else _daemon_nofile()
    caps = list(DEFAULT_CAPABILITIES)
    process: dict[str, Any] = {
        "terminal": spec.process.tty,
        "user": {"uid": uid, "gid": gid},
        "args": list(spec.process.args),
        "env": env,
        "cwd": spec.process.cwd or "/",
        "capabilities": {"bounding": caps, "effective": list(caps), "permitted": list(caps)},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": hard_nofile, "soft": soft_nofile}],
        "noNewPrivileges": True,
    }

    mounts = _default_mounts()
    for destination, source in (
        ("/etc/resolv.conf", resolv_conf_path),
        ("/etc/hostname", hostname_path),
        ("/etc/hosts", hosts_path),
    ):
        if source is not None:
            mounts.append(
                {
                    "destination": destination,
                    "type": "bind",
                    "source": source,
                    "options": ["rbind", "rprivate"],
                }
            )
    mounts += [_volume_mount(m) for m in spec.mounts]

    namespaces: list[dict[str, str]] = [{"type": "mount"}]
    if spec.network_mode != "host":
        network: dict[str, str] = {"type": "network"}
        if netns_path is not None:
            network["path"] = netns_path
        namespaces.append(network)
    namespaces += [{"type": "uts"}, {"type": "pid"}, {"type": "ipc"}, {"type": "cgroup"}]

    resources: dict[str, Any] = {"devices": _device_cgroup_rules()}
    if spec.memory:
        memory: dict[str, int] = {"limit": spec.memory}
        if memory_swap is not None:
            memory["swap"] = memory_swap
        resources["memory"] = memory
    if spec.nano_cpus:
        resources["cpu"] = {
            "quota": spec.nano_cpus * CPU_PERIOD_US // 1_000_000_000,
            "period": CPU_PERIOD_US,
        }
    if spec.pids_limit:
        resources["pids"] = {"limit": spec.pids_limit}

    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "resources": resources,
        "devices": [
            {
                "path": path,
                "type": "c",
                "major": major,
                "minor": minor,
                "fileMode": 0o666,
                "uid": 0,
                "gid": 0,
            }
            for path, major, minor in DEFAULT_DEVICES
        ],
        "maskedPaths": list(MASKED_PATHS),
        "readonlyPaths": list(READONLY_PATHS),
    }
    if cgroups_path is not None:
        linux["cgroupsPath"] = cgroups_path

    config: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": rootfs, "readonly": spec.readonly_rootfs},
        "hostname": spec.hostname,
        "mounts": mounts,
        "linux": linux,
    }
    notes = {"org.opencontainers.image.stopSignal": str(spec.stop_signal)}
    if spec.name:
        notes["io.csim.container.name"] = spec.name
    notes.update(annotations or {})
    config["annotations"] = notes
    return config


@dataclass(frozen=True, slots=True)
class OciConfig:
    """What csim's built-in runtime reads back from a bundle's ``config.json``.

    Attributes:
        spec: the container, in the daemon's terms (``layers`` is empty: an
            OCI bundle comes with its root filesystem already made).
        rootfs: ``root.path`` as written (relative to the bundle or absolute).
        uid: the process user.
        gid: the process group.
        additional_gids: supplementary groups.
        capabilities: the bounding set.
        no_new_privileges: ``process.noNewPrivileges``.
        namespaces: namespace type -> path to join ("" for a new one).
        mounts: every OCI mount, as written.
        masked_paths: ``linux.maskedPaths``.
        readonly_paths: ``linux.readonlyPaths``.
        cgroups_path: ``linux.cgroupsPath`` ("" when absent).
        rlimits: (type, soft, hard).
        devices: (path, type, major, minor, mode).
        annotations: ``annotations``.
    """

    spec: ContainerSpec
    rootfs: str
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    capabilities: tuple[str, ...] = ()
    no_new_privileges: bool = False
    namespaces: dict[str, str] = field(default_factory=dict)
    mounts: tuple[dict[str, Any], ...] = ()
    masked_paths: tuple[str, ...] = ()
    readonly_paths: tuple[str, ...] = ()
    cgroups_path: str = ""
    rlimits: tuple[tuple[str, int, int], ...] = ()
    devices: tuple[tuple[str, str, int, int, int], ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)


_DEFAULT_DESTINATIONS = frozenset(m["destination"] for m in _default_mounts()) | {
    "/etc/resolv.conf",
    "/etc/hostname",
    "/etc/hosts",
}


def parse_oci_config(config: Mapping[str, Any], container_id: str = "") -> OciConfig:
    """Read a ``config.json`` (any conforming writer's) into csim's terms.

    Args:
        config: the parsed JSON document.
        container_id: the id given on the ``csim runtime`` command line.

    Raises:
        InvalidParameter: when ``root.path`` or ``process.args`` is missing.
    """
    root = config.get("root") or {}
    if not root.get("path"):
        raise InvalidParameter("invalid OCI config: root.path is required")
    process = config.get("process") or {}
    args = tuple(process.get("args") or ())
    if not args:
        raise InvalidParameter("invalid OCI config: process.args must not be empty")
    user = process.get("user") or {}
    uid, gid = int(user.get("uid", 0)), int(user.get("gid", 0))
    linux = config.get("linux") or {}
    resources = linux.get("resources") or {}
    memory = int((resources.get("memory") or {}).get("limit") or 0)
    cpu = resources.get("cpu") or {}
    quota, period = int(cpu.get("quota") or 0), int(cpu.get("period") or CPU_PERIOD_US)
    nano_cpus = quota * 1_000_000_000 // period if quota > 0 and period > 0 else 0
    pids_limit = int((resources.get("pids") or {}).get("limit") or 0)
    namespaces = {str(ns["type"]): str(ns.get("path", "")) for ns in linux.get("namespaces", ())}
    mounts = tuple(dict(m) for m in config.get("mounts", ()))
    volumes: list[MountSpec] = []
    for m in mounts:
        if m["destination"] in _DEFAULT_DESTINATIONS:
            continue
        options = m.get("options") or []
        kind = "tmpfs" if m.get("type") == "tmpfs" else "bind"
        volumes.append(MountSpec(kind, str(m.get("source", "")), str(m["destination"]), "ro" in options))
    annotations = {str(k): str(v) for k, v in (config.get("annotations") or {}).items()}
    stop_signal = annotations.get("org.opencontainers.image.stopSignal", "15")
    if "network" not in namespaces:
        network_mode = "host"
    elif namespaces["network"]:
        network_mode = "bridge"
    else:
        network_mode = "none"
    spec = ContainerSpec(
        id=container_id,
        name=annotations.get("io.csim.container.name", container_id),
        hostname=str(config.get("hostname", "")),
        layers=(),
        process=ProcessSpec(
            args=args,
            env=tuple(process.get("env") or ()),
            cwd=str(process.get("cwd") or "/"),
            user=f"{uid}:{gid}",
            tty=bool(process.get("terminal", False)),
            open_stdin=bool(process.get("terminal", False)),
        ),
        memory=memory,
        nano_cpus=nano_cpus,
        pids_limit=pids_limit,
        mounts=tuple(volumes),
        network_mode=network_mode,
        stop_signal=int(stop_signal) if stop_signal.isdigit() else 15,
        readonly_rootfs=bool(root.get("readonly", False)),
    )
    return OciConfig(
        spec=spec,
        rootfs=str(root["path"]),
        uid=uid,
        gid=gid,
        additional_gids=tuple(int(g) for g in user.get("additionalGids", ())),
        capabilities=tuple((process.get("capabilities") or {}).get("bounding", ())),
        no_new_privileges=bool(process.get("noNewPrivileges", False)),
        namespaces=namespaces,
        mounts=mounts,
        masked_paths=tuple(linux.get("maskedPaths", ())),
        readonly_paths=tuple(linux.get("readonlyPaths", ())),
        cgroups_path=str(linux.get("cgroupsPath", "")),
        rlimits=tuple((str(r["type"]), int(r["soft"]), int(r["hard"])) for r in process.get("rlimits", ())),
        devices=tuple(
            (
                str(d["path"]),
                str(d["type"]),
                int(d.get("major", 0)),
                int(d.get("minor", 0)),
                int(d.get("fileMode", 0o666)),
            )
            for d in linux.get("devices", ())
        ),
        annotations=annotations,
    )
