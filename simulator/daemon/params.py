"""The daemon's modelled costs. Real work on the linux backend takes what it takes;
these are the delays the simulated world adds for dockerd's own bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DaemonParams:
    """dockerd latencies in seconds (frozen: a misspelt name fails at once)."""

    op: float = 0.0008  # bookkeeping of one API operation
    create: float = 0.004  # prepare the container's config and RW layer
    remove: float = 0.002
    network_attach: float = 0.0015
    extract_rate: float = 120e6  # bytes/s unpacked while extracting a layer
    workers: int = 8  # operations served at once
    stop_timeout: float = 10.0
    max_downloads: int = 3
    log_lines_kept: int = 5000
