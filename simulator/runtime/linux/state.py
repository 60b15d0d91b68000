"""Where a container lives on disk, so a restarted daemon can find it again.

``<state_root>/<id>/`` is both the OCI bundle (``config.json`` + ``rootfs``,
the overlay mount point) and the record the shims keep:

- ``upper/``, ``work/``: the overlay's writable layer and its scratch dir;
- ``init-layer/``: Docker's ``-init`` layer, the topmost lower (mount points);
- ``hostname``, ``hosts``, ``resolv.conf``: bind-mounted over ``/etc/...``;
- ``container.json``: what the runtime needs after a restart (layers, runtime);
- ``init/`` and ``execs/<exec id>/``: one process each, holding ``log.json``
  (json-file output), ``stdin`` (a FIFO), ``shim.json`` (shim and process
  pids) and, once it ended, ``exit.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` so a reader sees the old file or the whole new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f)
    # rename(2) is atomic; no fsync: the files matter across daemon crashes, not power loss.
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if it is missing or unreadable."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True, slots=True)
class ProcessDir:
    """The files of one container process (the init or an exec)."""

    path: Path

    @property
    def log(self) -> Path:
        return self.path / "log.json"

    @property
    def stdin(self) -> Path:
        return self.path / "stdin"

    @property
    def shim_json(self) -> Path:
        return self.path / "shim.json"

    @property
    def exit_json(self) -> Path:
        return self.path / "exit.json"

    @property
    def pid_file(self) -> Path:
        return self.path / "pid"


@dataclass(frozen=True, slots=True)
class ContainerDir:
    """The files of one container."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def rootfs(self) -> Path:
        return self.path / "rootfs"

    @property
    def upper(self) -> Path:
        return self.path / "upper"

    @property
    def work(self) -> Path:
        return self.path / "work"

    @property
    def init_layer(self) -> Path:
        return self.path / "init-layer"

    @property
    def meta(self) -> Path:
        return self.path / "container.json"

    @property
    def init(self) -> ProcessDir:
        return ProcessDir(self.path / "init")

    def exec_dir(self, exec_id: str) -> ProcessDir:
        return ProcessDir(self.path / "execs" / exec_id)

    def etc_file(self, name: str) -> Path:
        return self.path / name
