"""The programs of the simulated images (busybox applets, coreutils, servers, interpreters).

Importing this package registers every program; see :mod:`.base` for the
registries and the executable contract names.
"""

from __future__ import annotations

from simulator.runtime.sim.programs import (  # noqa: F401
    files,
    interpreters,
    network,
    servers,
    system,
    text,
)
from simulator.runtime.sim.programs.base import (
    APPLETS,
    BUILTIN_PURE,
    PROGRAMS,
    not_simulated,
)

__all__ = ["APPLETS", "BUILTIN_PURE", "PROGRAMS", "not_simulated"]
