"""The virtual kernel's timing and sizing knobs, in one frozen object.

Every hop below the daemon takes modelled time: containerd's task calls, the
shim start, runc's create/start, and the syscalls runc makes (clone with new
namespaces, the overlay mount, pivot_root, execve). The values are of the
order measured on a real host (tens of microseconds to a few milliseconds);
the ``des`` package embeds this object in its own parameter set.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class KernelParams:
    """Latencies (seconds), costs and limits of the simulated runtime and kernel.

    Unknown keyword arguments are rejected by the dataclass constructor, so a
    misspelt latency fails at once.
    """

    # containerd, shim and runc hops
    containers_create: float = 0.000_400
    tasks_create: float = 0.000_300
    shim_start: float = 0.004_000
    runc_create: float = 0.002_000
    tasks_start: float = 0.000_200
    runc_start: float = 0.000_800
    tasks_exec: float = 0.000_200
    runc_exec: float = 0.001_500
    tasks_pause: float = 0.000_150
    runc_pause: float = 0.000_600
    tasks_delete: float = 0.000_200
    runc_delete: float = 0.001_000
    containers_delete: float = 0.000_200
    # kernel work done by runc
    clone_namespaces: float = 0.000_250
    mount_overlay: float = 0.000_900
    mount_volume: float = 0.000_150
    pivot_root: float = 0.000_080
    cgroup_setup: float = 0.000_300
    cgroup_freeze: float = 0.000_500
    cgroup_remove: float = 0.000_200
    setns: float = 0.000_050
    execve: float = 0.000_120
    umount_overlay: float = 0.000_300
    # virtual processes
    fork_exec: float = 0.000_300
    """CPU time a shell spends to fork and exec an external command."""
    builtin_cost: float = 0.000_002
    """CPU time of one shell builtin or one loop iteration."""
    memory_touch_rate: float = 4.0e9
    """Bytes per second a memory hog can allocate and touch."""
    process_rss: int = 400 * 1024
    """Resident memory of a small process (busybox applet, shell)."""
    host_memory: int = 8 * 1024**3
    host_cpus: int = 4
    host_pid_base: int = 2000
    network_rtt: float = 0.000_080
    """Round trip between two containers on one bridge."""
    network_timeout: float = 10.0
    """How long a client waits for a host that does not answer."""
    epoch: float = 1_704_067_200.0
    """Wall-clock time (Unix seconds) at world time 0: 2024-01-01T00:00:00Z."""
    max_output: int = 1 << 20
    """Bytes one process may print before its output is cut (``yes`` stops there)."""
    max_loop_iterations: int = 1_000_000
    """Iterations after which a shell loop is abandoned (every loop is bounded)."""
    kernel_release: str = "6.1.0-csim"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KernelParams:
        """Build from a mapping, rejecting unknown keys.

        Raises:
            ValueError: naming the first unknown key.
        """
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ValueError(f"unknown kernel parameter: {key!r}")
        return cls(**data)
