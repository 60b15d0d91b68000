"""Files the kernel and Docker provide rather than the image: ``/proc``, ``/etc/hosts``...

Docker bind-mounts ``/etc/hostname``, ``/etc/hosts`` and ``/etc/resolv.conf``
into every container, and the kernel synthesises ``/proc``. Neither is part
of the container's layers (so neither appears in ``docker diff``); readers
consult :func:`read_special` before the filesystem.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.runtime.sim.process import Process


def hosts_file(proc: Process) -> bytes:
    spec = proc.container.spec
    lines = [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "ff00::0\tip6-mcastprefix",
        "ff02::1\tip6-allnodes",
        "ff02::2\tip6-allrouters",
    ]
    for entry in spec.extra_hosts:
        host, _, ip = entry.partition(":")
        lines.append(f"{ip}\t{host}")
    if spec.network_mode not in ("none", "host"):  # the container's own address, as Docker writes it
        ip = proc.kernel.own_ip(proc.container)
        if ip != "127.0.0.1":
            lines.append(f"{ip}\t{spec.hostname}")
    return ("\n".join(lines) + "\n").encode()


def resolv_conf(proc: Process) -> bytes:
    spec = proc.container.spec
    user_defined = spec.network_mode not in ("bridge", "host", "none", "default")
    if user_defined:
        return b"nameserver 127.0.0.11\noptions ndots:0\n"
    return b"nameserver 10.0.2.3\n"


def meminfo(proc: Process) -> bytes:
    params = proc.kernel.params
    total = params.host_memory // 1024
    used = sum(c.memory_usage() for c in proc.kernel.containers.values()) // 1024
    free = max(0, total - used - total // 10)
    rows = [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", max(0, total - used)),
        ("Buffers", 2048),
        ("Cached", total // 10),
        ("SwapCached", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
    ]
    return "".join(f"{name + ':':<16}{kb:>8} kB\n" for name, kb in rows).encode()


def read_special(proc: Process, path: str) -> bytes | None:
    """The content of a kernel- or Docker-provided file, or None for ordinary paths."""
    if not path.startswith("/"):
        path = proc.cwd.rstrip("/") + "/" + path
    if path == "/dev/null":
        return b""
    if path == "/etc/hostname":
        return f"{proc.container.hostname}\n".encode()
    if path == "/etc/hosts":
        return hosts_file(proc)
    if path == "/etc/resolv.conf":
        return resolv_conf(proc)
    if not path.startswith("/proc/"):
        return None
    rest = path[len("/proc/") :]
    pid_text, _, leaf = rest.partition("/")
    target = proc
    if pid_text not in ("self", "thread-self") and pid_text.isdigit():
        found = proc.container.procs.get(int(pid_text))
        if found is None:
            return None
        target = found
    elif pid_text not in ("self", "thread-self"):
        leaf = rest
    if leaf == "cgroup":
        return b"0::/\n"
    if leaf == "cmdline":
        return b"".join(a.encode() + b"\0" for a in target.argv)
    if leaf == "comm":
        return (target.argv[0].rsplit("/", 1)[-1] + "\n").encode() if target.argv else b"\n"
    if leaf == "environ":
        return b"".join(f"{k}={v}".encode() + b"\0" for k, v in target.env.items())
    if leaf == "status":
        name = target.argv[0].rsplit("/", 1)[-1] if target.argv else ""
        return (f"Name:\t{name}\nState:\tS (sleeping)\nPid:\t{target.pid}\n"
                f"PPid:\t{target.parent.pid if target.parent else 0}\n"
                f"Uid:\t{target.uid}\t{target.uid}\t{target.uid}\t{target.uid}\n"
                f"VmRSS:\t{target.rss // 1024} kB\n").encode()  # fmt: skip
    if leaf == "meminfo":
        return meminfo(proc)
    if leaf == "uptime":
        up = proc.now
        return f"{up:.2f} {up * proc.kernel.params.host_cpus:.2f}\n".encode()
    if leaf == "version":
        return f"Linux version {proc.kernel.params.kernel_release} (csim) #1 SMP\n".encode()
    if leaf == "cpuinfo":
        return "".join(f"processor\t: {i}\nmodel name\t: csim virtual CPU\n\n"
                       for i in range(proc.kernel.params.host_cpus)).encode()  # fmt: skip
    if leaf == "loadavg":
        return b"0.00 0.00 0.00 1/100 1\n"
    return None
