"""The container state as Docker keeps it: a set of flags rendered as one status word.

moby's ``container/state.go`` stores Running, Paused, Restarting,
RemovalInProgress and Dead plus Pid, ExitCode, Error, OOMKilled, StartedAt and
FinishedAt; the status a user sees (created, running, paused, restarting,
removing, exited, dead) is derived from them in a fixed order. The checks
here are the table of which operations each state allows, with Docker's
words and HTTP status for the ones it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.model.errors import Conflict, NotModified, SystemError_

STATUSES: tuple[str, ...] = (
    "created",
    "running",
    "paused",
    "restarting",
    "removing",
    "exited",
    "dead",
)

ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(slots=True)
class ContainerState:
    """Docker's ``State`` object. Times are world seconds; None means the zero time."""

    running: bool = False
    paused: bool = False
    restarting: bool = False
    removal_in_progress: bool = False
    dead: bool = False
    oom_killed: bool = False
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def status(self) -> str:
        """The status word, derived exactly as ``State.StateString``."""
        if self.running:
            if self.paused:
                return "paused"
            if self.restarting:
                return "restarting"
            return "running"
        if self.removal_in_progress:
            return "removing"
        if self.dead:
            return "dead"
        if self.started_at is None:
            return "created"
        return "exited"

    def is_running(self) -> bool:
        return self.running

    # -- transitions -----------------------------------------------------
    def set_running(self, pid: int, now: float) -> None:
        self.running = True
        self.paused = False
        self.restarting = False
        self.exit_code = 0
        self.error = ""
        self.oom_killed = False
        self.pid = pid
        self.started_at = now

    def set_stopped(self, exit_code: int, now: float, oom_killed: bool = False, error: str = "") -> None:
        self.running = False
        self.paused = False
        self.restarting = False
        self.pid = 0
        self.exit_code = exit_code
        self.oom_killed = oom_killed
        self.error = error
        self.finished_at = now

    def set_restarting(self, exit_code: int, now: float, oom_killed: bool = False) -> None:
        """Between an exit and an automatic restart: Running and Restarting, Pid 0."""
        self.running = True
        self.restarting = True
        self.paused = False
        self.pid = 0
        self.exit_code = exit_code
        self.oom_killed = oom_killed
        self.finished_at = now

    def set_start_error(self, message: str, exit_code: int, now: float) -> None:
        """A start that failed before the process ran (``exec: "x": not found``)."""
        self.error = message
        self.exit_code = exit_code
        self.running = False
        self.finished_at = now
        if self.started_at is None:
            # Docker leaves StartedAt zero, so the container stays 'created'.
            pass

    def to_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "paused": self.paused,
            "restarting": self.restarting,
            "removal_in_progress": self.removal_in_progress,
            "dead": self.dead,
            "oom_killed": self.oom_killed,
            "pid": self.pid,
            "exit_code": self.exit_code,
            "error": self.error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerState:
        return cls(**data)


# -- the table of legal operations -----------------------------------------
# Each check raises Docker's error for a refused operation and returns
# normally when the operation may proceed. ``cid`` is the full id, ``name``
# the reference as the client sent it.


def check_start(state: ContainerState) -> None:
    if state.paused:
        raise Conflict("cannot start a paused container, try unpause instead")
    if state.removal_in_progress or state.dead:
        raise Conflict("container is marked for removal and cannot be started")
    if state.running and not state.restarting:
        raise NotModified("container already started")


def check_stop(state: ContainerState) -> None:
    if not state.running:
        raise NotModified("container is already stopped")


def check_kill(state: ContainerState, cid: str, name: str) -> None:
    if not state.running or state.restarting:
        raise Conflict(f"Cannot kill container: {name}: Container {cid} is not running")


def check_pause(state: ContainerState, cid: str) -> None:
    if not state.running:
        raise Conflict(f"Container {cid} is not running")
    if state.paused:
        raise Conflict(f"Container {cid} is already paused")
    if state.restarting:
        raise Conflict(f"Container {cid} is restarting, wait until the container is running")


def check_unpause(state: ContainerState, cid: str) -> None:
    if not state.paused:
        raise SystemError_(f"Container {cid} is not paused")


def check_exec(state: ContainerState, cid: str, name: str) -> None:
    if not state.running:
        raise Conflict(f"Container {cid} is not running")
    if state.paused:
        raise Conflict(f"Container {name} is paused, unpause the container before exec")
    if state.restarting:
        raise Conflict(f"Container {cid} is restarting, wait until the container is running")


def check_attach(state: ContainerState, name: str) -> None:
    if state.paused:
        raise Conflict(f"container {name} is paused, unpause the container before attach")


def check_remove(state: ContainerState, cid: str, name: str, force: bool) -> None:
    if state.removal_in_progress:
        raise Conflict(f"removal of container {name} is already in progress")
    if force:
        return
    if state.paused:
        raise Conflict(
            f"You cannot remove a paused container {cid}. Unpause and then stop the container "
            "before attempting removal or force remove"
        )
    if state.running and not state.restarting:
        raise Conflict(
            f"You cannot remove a running container {cid}. Stop the container before attempting removal or force remove"
        )
    if state.restarting:
        raise Conflict(
            f"You cannot remove a restarting container {cid}. Stop the container before "
            "attempting removal or force remove"
        )
