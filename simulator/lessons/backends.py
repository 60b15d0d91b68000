"""Which world a lesson runs in: the simulated one, or real containers for ``backend: linux``.

Most lessons teach with the simulated world. A few need real isolation: a
process that is PID 1 in its own namespace, a memory limit the kernel
enforces with the OOM killer. Those say ``backend: linux`` and run on the
real backend, whose state lives beside the simulated world's, in
``<state>/linux`` (where ``csim --backend linux ...`` keeps it too, so the
student's commands and the lesson's checks see the same containers).

The real backend needs Linux and root. A lesson that cannot run here is
refused up front, in both languages, rather than failing every check.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, Any

LINUX_SUBDIR = "linux"
"""Where the real backend's state lives under the state directory (as for ``csim --backend linux``)."""


class BackendUnavailable(ValueError):
    """The lesson's backend cannot run here (the linux backend needs Linux and root)."""


def unavailable_reason(backend: str, lesson_id: str = "") -> str | None:
    """Why ``backend`` cannot run on this machine (in English and Korean), or None when it can."""
    if backend != "linux":
        return None
    what = f"lesson {lesson_id!r}" if lesson_id else "this lesson"
    korean = f"레슨 {lesson_id!r}" if lesson_id else "이 레슨"
    if not sys.platform.startswith("linux"):
        return (
            f"{what} runs real containers (backend: linux) and needs a Linux machine.\n"
            f"{korean}은(는) 실제 컨테이너(backend: linux)를 실행하므로 리눅스 컴퓨터가 필요합니다."
        )
    if os.geteuid() != 0:
        again = f"sudo csim lesson start {lesson_id}" if lesson_id else "sudo csim lesson ..."
        return (
            f"{what} runs real containers (backend: linux) and needs root "
            f"(namespaces, mounts, cgroups); try `{again}`.\n"
            f"{korean}은(는) 실제 컨테이너(backend: linux)를 실행하므로 root 권한이 필요합니다"
            f"(네임스페이스, 마운트, cgroup). `{again}`로 다시 실행해 보세요."
        )
    return None


def require_backend(backend: str, lesson_id: str = "") -> None:
    """Raise ``BackendUnavailable`` when ``backend`` cannot run here."""
    reason = unavailable_reason(backend, lesson_id)
    if reason is not None:
        raise BackendUnavailable(reason)


def is_real_world(world: Any) -> bool:
    """Whether ``world`` runs real containers (a ``LinuxWorld``), as opposed to the simulated world."""
    return bool(getattr(world, "realtime", False))


def world_mismatch(backend: str, world: Any) -> str | None:
    """Why a ``backend`` lesson cannot be checked on ``world``, or None.

    Only an in-process simulated ``World`` is refused for a linux lesson: its
    virtual processes cannot be OOM-killed or read ``/proc``. Other worlds
    (a TUI backend, a remote daemon) are trusted to be what the student chose.
    """
    if backend != "linux" or is_real_world(world):
        return None
    from simulator.des.world import World

    if isinstance(world, World):
        return (
            "this lesson needs real containers (backend: linux), not the simulated world.\n"
            "이 레슨은 시뮬레이션 세계가 아니라 실제 컨테이너(backend: linux)가 필요합니다."
        )
    return None


def world_directory(state: Path, backend: str) -> Path:
    """Where ``backend``'s world is kept under the state directory ``state``."""
    return Path(state) / LINUX_SUBDIR if backend == "linux" else Path(state)


def open_world(backend: str, state: Path, seed: int = 0, messages: IO[str] | None = None, lesson_id: str = "") -> Any:
    """The persisted world for ``backend`` under ``state``, ready for a lesson.

    The linux world gets its base image (busybox, from the host) before any
    lesson setup runs; there is no registry to pull from.

    Raises:
        BackendUnavailable: the backend needs root or Linux.
    """
    require_backend(backend, lesson_id)
    from simulator.des.persist import load_world

    world: Any = load_world(world_directory(state, backend), seed=seed, messages=messages, backend=backend)
    if backend == "linux":
        try:
            world.ensure_base_images()
        except BaseException:
            world.close()
            raise
    return world


def close_world(world: Any, state: Path, backend: str) -> None:
    """Save ``world`` where ``open_world`` found it and release what it holds (real containers keep running)."""
    from simulator.des.persist import save_world

    try:
        save_world(world, world_directory(state, backend))
    finally:
        close = getattr(world, "close", None)
        if callable(close):
            close()
