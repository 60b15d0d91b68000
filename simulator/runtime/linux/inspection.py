"""What the Linux runtime shows about a container: changes, processes, usage, files.

``docker diff``, ``docker top``, ``docker stats`` and ``docker export`` read
a container's overlay upper directory, its cgroup or its mounted rootfs. The
work lives in ``diff.py``, ``introspect.py`` and ``rootfs.py``; these methods
find the container and pass it on.
"""

from __future__ import annotations

import os
from pathlib import Path

from simulator.runtime.linux import diff, introspect
from simulator.runtime.linux import rootfs as fs
from simulator.runtime.linux.tasks import RuntimeCore
from simulator.runtime.protocol import ProcessRow, ResourceUsage


class ContainerInspection(RuntimeCore):
    """Read-only views of a container: its changes, processes, usage, files and bundle."""

    def changes(self, container_id: str) -> list[tuple[str, str]]:
        c = self._get(container_id)
        return diff.changes(c.cdir.upper, c.lowers)

    def top(self, container_id: str) -> list[ProcessRow]:
        return introspect.top(self._get(container_id).cgroup)

    def stats(self, container_id: str) -> ResourceUsage:
        return introspect.stats(self._get(container_id).cgroup)

    def export_upper(self, container_id: str) -> bytes:
        return diff.export_upper(self._get(container_id).cdir.upper)

    def read_file(self, container_id: str, path: str) -> bytes | None:
        root = os.fspath(self._get(container_id).cdir.rootfs)
        target = fs.secure_join(root, path)
        try:
            with open(target, "rb") as f:
                return f.read()
        except OSError:
            return None

    def bundle(self, container_id: str) -> Path:
        """The container's OCI bundle directory (config.json + rootfs)."""
        return self._get(container_id).cdir.path
