"""Process and system applets: sh, sleep, ps, kill, env, id, date, uname, free, burn, stress."""

from __future__ import annotations

import time
from collections.abc import Callable

from simulator.runtime.sim.process import SIGTERM, Process
from simulator.runtime.sim.programs.base import (
    Gen,
    applet,
    parse_size,
    program,
    read_path,
    split_opts,
)
from simulator.runtime.sim.vfs import FsError


@program("sh", "bash", "dash", "ash")
@applet("sh", "ash", "bash", "dash")
def sh(proc: Process) -> Gen:
    from simulator.runtime.sim.shell import sh_main

    code: int = yield from sh_main(proc)
    return code


def _duration(text: str) -> float | None:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    mult = 1
    if text and text[-1] in units:
        mult = units[text[-1]]
        text = text[:-1]
    try:
        return float(text) * mult
    except ValueError:
        return None


@applet("sleep")
def sleep(proc: Process) -> Gen:
    if len(proc.argv) < 2:
        proc.err("sleep: missing operand\n" if proc.argv[0] != "sleep" else "Usage: sleep N\n")
        return 1
    total = 0.0
    for arg in proc.argv[1:]:
        if arg == "infinity":
            total = 1e12
            continue
        value = _duration(arg)
        if value is None:
            proc.err(f"sleep: invalid number '{arg}'\n")
            return 1
        total += value
    yield from proc.sleep(total)
    return 0


@applet("hostname")
def hostname(proc: Process) -> Gen:
    proc.out(proc.container.hostname + "\n")
    return 0
    yield  # pragma: no cover


def user_names(proc: Process) -> dict[int, str]:
    try:
        text = read_path(proc, "/etc/passwd").decode(errors="replace")
    except FsError:
        text = ""
    names: dict[int, str] = {0: "root"}
    for line in text.splitlines():
        f = line.split(":")
        if len(f) > 2 and f[2].isdigit():
            names.setdefault(int(f[2]), f[0])
    return names


@applet("ps")
def ps(proc: Process) -> Gen:
    names = user_names(proc)
    opts, _ = split_opts(proc.argv)
    procs = sorted(proc.container.procs.values(), key=lambda p: p.pid)
    if (
        proc.argv[0].rsplit("/", 1)[-1] == "ps"
        and ("e" in opts or "f" in opts or "a" in opts)
        and (proc.fs.exists("/usr/bin/ps") and not proc.fs.exists("/bin/busybox"))
    ):
        proc.out("UID          PID    PPID  C STIME TTY          TIME CMD\n")
        for p in procs:
            ppid = p.parent.pid if p.parent else 0
            proc.out(f"{names.get(p.uid, str(p.uid)):<8} {p.pid:>7} {ppid:>7}  0 00:00 ?        "
                     f"00:00:00 {' '.join(p.argv)}\n")  # fmt: skip
        return 0
    proc.out("PID   USER     TIME  COMMAND\n")
    for p in procs:
        secs = p.cpu_ns // 1_000_000_000
        cpu = f"{secs // 60}:{secs % 60:02d}"
        proc.out(f"{p.pid:>5} {names.get(p.uid, str(p.uid))[:8]:<8} {cpu:>5} {' '.join(p.argv)}\n")
    return 0
    yield  # pragma: no cover


@applet("env", "printenv")
def env(proc: Process) -> Gen:
    args = proc.argv[1:]
    if proc.argv[0].endswith("printenv"):
        if args:
            vals = [proc.env[a] for a in args if a in proc.env]
            proc.out("".join(v + "\n" for v in vals))
            return 0 if len(vals) == len(args) else 1
        proc.out("".join(f"{k}={v}\n" for k, v in proc.env.items()))
        return 0
    new_env = dict(proc.env)
    if args and args[0] in ("-i", "-"):
        new_env = {}
        args = args[1:]
    while args and "=" in args[0]:
        key, _, value = args.pop(0).partition("=")
        new_env[key] = value
    if not args:
        proc.out("".join(f"{k}={v}\n" for k, v in new_env.items()))
        return 0
    from simulator.runtime.sim.kernel import ExecError
    from simulator.runtime.sim.shell import exec_in_place

    try:
        path = proc.kernel.find_executable(proc.fs, args[0], new_env.get("PATH", ""), proc.cwd)
        prog, argv = proc.kernel.load(proc.fs, path, args, proc.cwd)
    except ExecError:
        proc.err(f"env: can't execute '{args[0]}': No such file or directory\n")
        return 127
    code: int = yield from exec_in_place(proc, prog, argv, new_env, proc.fds)
    return code


def _group_names(proc: Process) -> dict[int, str]:
    try:
        text = read_path(proc, "/etc/group").decode(errors="replace")
    except FsError:
        text = ""
    out: dict[int, str] = {0: "root"}
    for line in text.splitlines():
        f = line.split(":")
        if len(f) > 2 and f[2].isdigit():
            out.setdefault(int(f[2]), f[0])
    return out


@applet("id")
def ident(proc: Process) -> Gen:
    users, groups = user_names(proc), _group_names(proc)
    opts, _ = split_opts(proc.argv)
    if "u" in opts:
        proc.out((users.get(proc.uid, str(proc.uid)) if "n" in opts else str(proc.uid)) + "\n")
        return 0
    if "g" in opts:
        proc.out((groups.get(proc.gid, str(proc.gid)) if "n" in opts else str(proc.gid)) + "\n")
        return 0
    u = f"uid={proc.uid}({users.get(proc.uid, proc.uid)})" if proc.uid in users else f"uid={proc.uid}"
    g = f"gid={proc.gid}({groups.get(proc.gid, proc.gid)})" if proc.gid in groups else f"gid={proc.gid}"
    extra = f" groups={proc.gid}({groups[proc.gid]})" if proc.gid in groups else ""
    if proc.uid == 0 and groups.get(10) == "wheel":
        extra = f" groups=0(root),10({groups[10]})"
    proc.out(f"{u} {g}{extra}\n")
    return 0
    yield  # pragma: no cover


@applet("whoami")
def whoami(proc: Process) -> Gen:
    users = user_names(proc)
    if proc.uid not in users:
        proc.err(f"whoami: unknown uid {proc.uid}\n")
        return 1
    proc.out(users[proc.uid] + "\n")
    return 0
    yield  # pragma: no cover


@applet("date")
def date(proc: Process) -> Gen:
    args = proc.argv[1:]
    fmt = next((a[1:] for a in args if a.startswith("+")), "%a %b %e %H:%M:%S UTC %Y")
    proc.out(time.strftime(fmt, time.gmtime(proc.wall)) + "\n")
    return 0
    yield  # pragma: no cover


@applet("uname")
def uname(proc: Process) -> Gen:
    opts, _ = split_opts(proc.argv)
    release = proc.kernel.params.kernel_release
    host = proc.container.hostname
    fields = {"s": "Linux", "n": host, "r": release, "v": "#1 SMP PREEMPT_DYNAMIC csim",
              "m": "x86_64", "o": "GNU/Linux"}  # fmt: skip
    order = "snrvmo" if "a" in opts else "".join(k for k in "snrvmo" if k in opts) or "s"
    proc.out(" ".join(fields[k] for k in order) + "\n")
    return 0
    yield  # pragma: no cover


@applet("pwd")
def pwd(proc: Process) -> Gen:
    proc.out(proc.cwd + "\n")
    return 0
    yield  # pragma: no cover


_SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "PIPE": 13,
            "ALRM": 14, "TERM": 15, "CHLD": 17, "CONT": 18, "STOP": 19, "WINCH": 28}  # fmt: skip


def kill_command(proc: Process, argv: list[str], err: Callable[[bytes], None]) -> int:
    """``kill [-SIG|-s SIG] PID...`` within the caller's pid namespace."""
    args = argv[1:]
    sig = SIGTERM
    if args and args[0] == "-l":
        err(b"")
        proc.out(" ".join(_SIGNALS) + "\n")
        return 0
    if args and args[0] == "-s" and len(args) > 1:
        args = ["-" + args[1], *args[2:]]
    if args and args[0].startswith("-") and len(args[0]) > 1:
        name = args.pop(0)[1:].upper().removeprefix("SIG")
        if name.isdigit():
            sig = int(name)
        elif name in _SIGNALS:
            sig = _SIGNALS[name]
        else:
            err(f"kill: bad signal name '{name}'\n".encode())
            return 1
    if not args:
        err(b"kill: usage: kill [-s SIG | -SIG] PID...\n")
        return 1
    code = 0
    for pid_text in args:
        target = proc.container.procs.get(int(pid_text)) if pid_text.lstrip("-").isdigit() else None
        if target is None:
            err(f"kill: can't kill pid {pid_text}: No such process\n".encode())
            code = 1
            continue
        target.send_signal(sig)
    return code


@applet("kill")
def kill(proc: Process) -> Gen:
    code = kill_command(proc, proc.argv, proc.err)
    yield from proc.sleep(0)
    return code


@applet("free")
def free(proc: Process) -> Gen:
    params = proc.kernel.params
    total = params.host_memory // 1024
    used = sum(c.memory_usage() for c in proc.kernel.containers.values()) // 1024 + total // 20
    cache = total // 10
    proc.out("              total        used        free      shared  buff/cache   available\n")
    proc.out(f"Mem:   {total:>12}{used:>12}{total - used - cache:>12}{0:>12}{cache:>12}"
             f"{total - used:>12}\nSwap:  {0:>12}{0:>12}{0:>12}\n")  # fmt: skip
    return 0
    yield  # pragma: no cover


@applet("burn")
def burn(proc: Process) -> Gen:
    """``burn SECONDS``: CPU-bound work of that many CPU-seconds (slower under --cpus)."""
    value = _duration(proc.argv[1]) if len(proc.argv) > 1 else None
    if value is None:
        proc.err("Usage: burn CPU_SECONDS\n")
        return 1
    start = proc.now
    yield from proc.cpu(value)
    proc.out(f"burned {value:g} CPU-seconds in {proc.now - start:.3f}s\n")
    return 0


@applet("memhog")
def memhog(proc: Process) -> Gen:
    """``memhog SIZE [SECONDS]``: allocate and touch SIZE bytes, hold them, exit 0."""
    size = parse_size(proc.argv[1]) if len(proc.argv) > 1 else -1
    if size < 0:
        proc.err("Usage: memhog SIZE [SECONDS]\n")
        return 1
    yield from _allocate(proc, size)
    hold = _duration(proc.argv[2]) if len(proc.argv) > 2 else 0.0
    yield from proc.sleep(hold or 0.0)
    return 0


def _allocate(proc: Process, size: int) -> Gen:
    chunk = 1 << 20
    rate = proc.kernel.params.memory_touch_rate
    done = 0
    while done < size:
        step = min(chunk, size - done)
        yield from proc.cpu(step / rate)
        proc.alloc(step)
        done += step
    return 0


@applet("stress")
def stress(proc: Process) -> Gen:
    """``stress [--cpu N] [--vm N --vm-bytes SIZE] [--timeout T]`` (workers modelled inline)."""
    args = proc.argv[1:]

    def opt(*names: str) -> str | None:
        for name in names:
            if name in args and args.index(name) + 1 < len(args):
                return args[args.index(name) + 1]
        return None

    cpus = int(opt("--cpu", "-c") or 0)
    vms = int(opt("--vm", "-m") or 0)
    vm_bytes = parse_size(opt("--vm-bytes") or "256M")
    if opt("--vm-bytes") and not vms:
        vms = 1
    timeout = _duration(opt("--timeout", "-t") or "") or 1e12
    proc.out(f"stress: info: [{proc.pid}] dispatching hogs: {cpus} cpu, 0 io, {vms} vm, 0 hdd\n")
    start = proc.now
    if vms:
        yield from _allocate(proc, vms * vm_bytes)
    if cpus:
        threads_rate = proc.container.cpu_rate(cpus) * cpus
        remaining = max(0.0, timeout - (proc.now - start))
        yield from proc.sleep(remaining)
        proc._charge(remaining * threads_rate)
    else:
        yield from proc.sleep(max(0.0, timeout - (proc.now - start)))
    proc.out(f"stress: info: [{proc.pid}] successful run completed in {int(proc.now - start)}s\n")
    return 0


@applet("top")
def top(proc: Process) -> Gen:
    """One batch-mode screen (busybox ``top -b -n 1``), in ps format."""
    from simulator.runtime.sim.programs.base import APPLETS

    code: int = yield from APPLETS["ps"](proc)
    return code
