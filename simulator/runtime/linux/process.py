"""The container process itself: from a fork of the shim to ``execve``.

This is the part runc calls ``runc init``: it runs in the forked child, after
the shim made the PID namespace, and does the rest of the OCI ``process`` and
``linux`` objects in order: join the cgroup, unshare the other namespaces,
build the root filesystem, set the hostname, drop capabilities to the
configured set, ``no_new_privs``, switch user, change directory and
``execve``. ``join`` does the same for ``docker exec`` by entering an existing
container's namespaces instead of making new ones.

Progress travels to the daemon as JSON lines on a pipe (one span per step);
a failure is written to the error pipe and the child exits 126/127 as Docker
reports it. Nothing in here may return: the child either execs or ``_exit``s.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from simulator.runtime.linux import rootfs as fs
from simulator.runtime.linux import syscalls as sc
from simulator.runtime.linux.cgroups import Cgroup

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_RLIMITS: dict[str, int] = {
    name: getattr(resource, name)
    for name in ("RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE", "RLIMIT_STACK", "RLIMIT_MEMLOCK")
}


class ExecError(Exception):
    """The process could not be started; ``code`` is the exit code Docker records."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Progress:
    """The child's side of the progress pipe: one JSON line per finished step."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, kind: str, **data: Any) -> None:
        if self.fd >= 0:
            line = json.dumps({kind: data}, separators=(",", ":")) + "\n"
            with contextlib.suppress(OSError):
                os.write(self.fd, line.encode())

    @contextlib.contextmanager
    def step(self, name: str, hop: str = "kernel") -> Iterator[None]:
        """Time the enclosed kernel work and report it as a span."""
        t0 = time.monotonic()
        yield
        self.send("span", hop=hop, name=name, t0=t0, t1=time.monotonic())


def lookup(arg0: str, env: list[str]) -> str:
    """Find the executable like Go's ``exec.LookPath`` (runc's wording for failures)."""
    if "/" in arg0:
        if not os.path.exists(arg0):
            raise ExecError(127, f'exec: "{arg0}": stat {arg0}: no such file or directory')
        if os.path.isdir(arg0) or not os.access(arg0, os.X_OK):
            raise ExecError(126, f'exec: "{arg0}": permission denied')
        return arg0
    path = DEFAULT_PATH
    for item in env:
        if item.startswith("PATH="):
            path = item[5:]
    for directory in path.split(":"):
        candidate = os.path.join(directory or ".", arg0)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise ExecError(127, f'exec: "{arg0}": executable file not found in $PATH')


def resolve_user(rootfs: Path, user: str) -> dict[str, Any]:
    """Docker's ``--user`` (``name``, ``uid``, ``name:group``, ``uid:gid``) -> OCI ``user``.

    Names are looked up in the image's ``/etc/passwd`` and ``/etc/group``.
    """
    name, _, group = user.partition(":")
    uid, gid, home_user = 0, 0, "root"
    passwd = _read_db(rootfs / "etc/passwd")
    if name:
        entry = next((e for e in passwd if name in (e[0], e[2])), None)
        if entry is not None:
            home_user, uid, gid = entry[0], int(entry[2]), int(entry[3])
        elif name.isdigit():
            uid, gid, home_user = int(name), int(name) if not group else 0, ""
        else:
            raise ExecError(126, f"unable to find user {name}: no matching entries in passwd file")
    groups = _read_db(rootfs / "etc/group")
    if group:
        match = next((e for e in groups if group in (e[0], e[2])), None)
        if match is not None:
            gid = int(match[2])
        elif group.isdigit():
            gid = int(group)
        else:
            raise ExecError(126, f"unable to find group {group}: no matching entries in group file")
    extra = sorted({int(e[2]) for e in groups if len(e) > 3 and home_user in e[3].split(",") and home_user} - {gid})
    return {"uid": uid, "gid": gid, "additionalGids": extra}


def _read_db(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def reset_signals() -> None:
    """Undo what the Python daemon changed: ignored SIGPIPE/SIGXFSZ survive execve otherwise."""
    for number in range(1, signal.NSIG):
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def apply_process(process: dict[str, Any], progress: Progress) -> None:
    """rlimits, capabilities, no_new_privs, user and cwd of an OCI ``process``."""
    for limit in process.get("rlimits") or []:
        number = _RLIMITS.get(limit.get("type", ""))
        if number is not None:
            resource.setrlimit(number, (limit["soft"], limit["hard"]))
    if "oomScoreAdj" in process:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(process["oomScoreAdj"]))
    caps = process.get("capabilities")
    user = process.get("user") or {}
    with progress.step("capset + no_new_privs + setuid"):
        if caps is not None:
            bounding = sc.cap_mask(caps.get("bounding") or [])
            for number in range(sc.last_cap() + 1):
                if not bounding & (1 << number):
                    sc.capbset_drop(number)
        sc.prctl(sc.PR_SET_KEEPCAPS, 1)
        os.setgroups([int(g) for g in user.get("additionalGids") or []])
        os.setgid(int(user.get("gid", 0)))
        os.setuid(int(user.get("uid", 0)))
        sc.prctl(sc.PR_SET_KEEPCAPS, 0)
        if caps is not None:
            sc.capset(
                sc.cap_mask(caps.get("effective") or []),
                sc.cap_mask(caps.get("permitted") or []),
                sc.cap_mask(caps.get("inheritable") or []),
            )
            sc.cap_ambient_clear_all()
        if process.get("noNewPrivileges"):
            sc.set_no_new_privs()
    os.umask(int(user.get("umask", 0o022)))
    os.chdir(process.get("cwd") or "/")


def home_of(uid: int, passwd: str = "/etc/passwd") -> str:
    """The home directory of ``uid`` in the container's passwd file, else ``/``."""
    try:
        with open(passwd, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 6 and fields[2] == str(uid):
                    return fields[5] or "/"
    except OSError:
        pass
    return "/"


def execute(
    process: dict[str, Any],
    progress: Progress,
    gate_fd: int = -1,
    on_created: Callable[[], None] | None = None,
) -> NoReturn:
    """Look the program up, wait for ``start`` if gated, and execve it."""
    args = [str(a) for a in process.get("args") or []]
    if not args:
        raise ExecError(127, "exec: no command specified")
    env = [str(e) for e in process.get("env") or []]
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={home_of(os.getuid())}")  # as runc does when the image sets no HOME
    path = lookup(args[0], env)
    if gate_fd >= 0:
        # OCI create/start: tell the shim "created", then block until `start`
        # writes to the gate. The progress pipe closes so the creator returns.
        if on_created is not None:
            on_created()
        if progress.fd >= 0:
            os.close(progress.fd)
            progress.fd = -1
        os.read(gate_fd, 1)
        os.close(gate_fd)
    progress.send("exec", name=f"execve({path})", t0=time.monotonic())
    try:
        os.execve(path, args, dict(e.split("=", 1) for e in env if "=" in e))
    except PermissionError:
        raise ExecError(126, f'exec: "{args[0]}": permission denied') from None
    except OSError as exc:
        raise ExecError(127 if exc.errno == 2 else 126, f"exec {args[0]}: {exc.strerror}") from None


def run_child(body: Callable[[], NoReturn], err_fd: int) -> NoReturn:
    """Run ``body`` in the forked child; any failure goes to ``err_fd`` and _exit."""
    code = 1
    try:
        body()
    except ExecError as exc:
        code = exc.code
        _report(err_fd, exc.code, exc.message)
    except OSError as exc:
        # A failed mount or capset: OCI runtimes call this a create failure.
        _report(err_fd, 1, str(exc.strerror if not exc.args[1:] else exc.args[1]))
    except BaseException as exc:
        _report(err_fd, 1, f"{type(exc).__name__}: {exc}")
    os._exit(code)


def _report(err_fd: int, code: int, message: str) -> None:
    with contextlib.suppress(OSError):
        os.write(err_fd, json.dumps({"code": code, "message": message}).encode())


def init_container(
    config: dict[str, Any],
    rootfs: str,
    cgroup: Cgroup | None,
    console: str | None,
    progress: Progress,
    *,
    gate_fd: int = -1,
    on_created: Callable[[], None] | None = None,
) -> NoReturn:
    """PID 1 of a new container (already in its new PID namespace): set up and exec."""
    reset_signals()
    linux = config.get("linux") or {}
    if cgroup is not None:
        with progress.step(f"echo 0 > {cgroup.self_file} (join cgroup csim/{cgroup.container_id[:12]})"):
            cgroup.enter()
    flags = 0
    for ns in linux.get("namespaces") or []:
        kind = ns.get("type", "")
        if kind not in sc.NAMESPACES or kind in ("pid", "user"):
            continue
        if ns.get("path"):
            # A namespace made beforehand (the network one, pinned at create): join it.
            with progress.step(f"setns({ns['path']})"):
                fd = os.open(ns["path"], os.O_RDONLY | os.O_CLOEXEC)
                try:
                    sc.setns(fd, sc.NAMESPACES[kind][0])
                finally:
                    os.close(fd)
        else:
            flags |= sc.NAMESPACES[kind][0]
    with progress.step(f"unshare({sc.clone_flag_names(flags)})"):
        sc.unshare(flags)
    hostname = config.get("hostname")
    if hostname and flags & sc.CLONE_NEWUTS:
        with progress.step(f"sethostname({hostname})"):
            sc.sethostname(hostname)
    version = 2 if cgroup is not None and cgroup.version == 2 else 1
    with progress.step("mount proc, /dev, /dev/pts, /dev/shm, /etc/hosts... + pivot_root"):
        fs.prepare_rootfs(rootfs, config, console, version)
    process = config.get("process") or {}
    apply_process(process, progress)
    execute(process, progress, gate_fd, on_created)


def join_container(process: dict[str, Any], pid: int, cgroup: Cgroup | None, progress: Progress) -> NoReturn:
    """``docker exec``: enter the namespaces of ``pid`` (the shim already joined its PID ns)."""
    reset_signals()
    if cgroup is not None:
        with progress.step(f"echo 0 > {cgroup.self_file} (join cgroup csim/{cgroup.container_id[:12]})"):
            cgroup.enter()
    # The mount namespace last: after it, /proc/<pid> of the host is out of reach,
    # so its root is opened first and entered after (as nsenter --root does).
    with progress.step("setns(ipc, uts, net, cgroup, mnt) + chroot"):
        root = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fds: list[int] = []
        for kind in ("ipc", "uts", "net", "cgroup", "mnt"):
            with contextlib.suppress(FileNotFoundError):
                fds.append(os.open(f"/proc/{pid}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC))
        for fd in fds:
            sc.setns(fd)
            os.close(fd)
        os.fchdir(root)
        os.chroot(".")
        os.close(root)
    apply_process(process, progress)
    execute(process, progress)


def enter_pid_namespace(pid: int) -> None:
    """setns(CLONE_NEWPID): the caller's next children are born in ``pid``'s namespace."""
    fd = os.open(f"/proc/{pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        sc.setns(fd, sc.CLONE_NEWPID)
    finally:
        os.close(fd)
