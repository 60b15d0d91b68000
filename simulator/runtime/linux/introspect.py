"""``docker top`` and ``docker stats`` for a real container, from /proc and its cgroup."""

from __future__ import annotations

import os

from simulator.runtime.linux.cgroups import Cgroup
from simulator.runtime.protocol import ProcessRow, ResourceUsage


def _user_name(uid: int) -> str:
    return "root" if uid == 0 else str(uid)


def process_row(pid: int) -> ProcessRow | None:
    """One ``ps -ef`` line for a host pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except (OSError, StopIteration, IndexError):
        return None
    cmd = " ".join(argv) if argv else f"[{fields[0]}]"
    return ProcessRow(uid=_user_name(uid), pid=pid, ppid=int(fields[1]), cmd=cmd)


def top(cgroup: Cgroup) -> list[ProcessRow]:
    """Every process of the container, by host pid."""
    rows = (process_row(pid) for pid in cgroup.procs())
    return [row for row in rows if row is not None]


def system_cpu_ns() -> int:
    """Total CPU time of the host (the ``system_cpu_usage`` docker stats divides by)."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        values = f.readline().split()[1:8]
    return sum(int(v) for v in values) * 1_000_000_000 // ticks


def stats(cgroup: Cgroup) -> ResourceUsage:
    """``docker stats`` numbers read from the cgroup."""
    numbers = cgroup.stats()
    return ResourceUsage(
        cpu_total_ns=numbers.cpu_usage_ns,
        system_cpu_ns=system_cpu_ns(),
        online_cpus=os.cpu_count() or 1,
        memory_usage=numbers.memory_usage,
        memory_limit=numbers.memory_limit,
        pids=numbers.pids,
    )
