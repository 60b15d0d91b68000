"""Every modelled latency and bandwidth of the simulated world, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.daemon.params import DaemonParams
from simulator.runtime.sim.params import KernelParams


@dataclass(frozen=True, slots=True)
class HubParams:
    """The simulated Docker Hub: round trip and bandwidth shared by concurrent downloads."""

    rtt: float = 0.060
    bandwidth: float = 50e6  # bytes/s for all downloads together
    chunks: int = 8  # progress updates per blob


@dataclass(frozen=True, slots=True)
class WorldParams:
    """The whole model's knobs. Frozen: a misspelt name fails at once."""

    cli: float = 0.0015  # parse flags, build the request
    api: float = 0.0002  # one HTTP round trip over the unix socket
    daemon: DaemonParams = field(default_factory=DaemonParams)
    kernel: KernelParams = field(default_factory=KernelParams)
    hub: HubParams = field(default_factory=HubParams)
