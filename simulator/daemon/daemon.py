"""dockerd: one daemon for every backend.

Every operation is a SimPy process (a generator) that takes modelled time on
the simulated backend and real time on the linux backend; the runtime below
is the only part that differs. Operations take the caller's span context and
emit a ``dockerd`` span; the runtime emits the spans below it.
"""

from __future__ import annotations

from typing import Any

from simulator.daemon.commit import CommitMixin
from simulator.daemon.image_archive import ImageArchiveMixin
from simulator.daemon.image_ops import ImageOpsMixin
from simulator.daemon.lifecycle import LifecycleMixin
from simulator.daemon.pull import PullMixin
from simulator.daemon.push import PushMixin
from simulator.daemon.views import ViewsMixin


class Daemon(LifecycleMixin, PullMixin, PushMixin, ImageOpsMixin, ViewsMixin, ImageArchiveMixin, CommitMixin):
    """The container engine: images, containers, networks, volumes, events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_networks()
        self._init_volumes()
        self._init_execs()
