"""Volumes: named and anonymous local volumes, and the mounts a container gets."""

from __future__ import annotations

from typing import Any

from simulator.daemon.containers import Container
from simulator.daemon.core import DaemonCore, Proc
from simulator.model.errors import Conflict, NotFound
from simulator.model.volume import Volume, parse_bind, validate_volume_name
from simulator.trace.tracer import SpanContext

VOLUMES_ROOT = "/var/lib/docker/volumes"


class VolumeMixin(DaemonCore):
    """Volume operations."""

    volumes: dict[str, Volume]
    volumes_root: str = VOLUMES_ROOT
    volumes_on_disk = False  # the real backend keeps volume data in directories under volumes_root

    def _init_volumes(self) -> None:
        self.volumes = {}

    def volume_mountpoint(self, name: str) -> str:
        return f"{self.volumes_root}/{name}/_data"

    def get_volume(self, name: str) -> Volume:
        vol = self.volumes.get(name)
        if vol is None:
            raise NotFound(f"get {name}: no such volume")
        return vol

    def volume_users(self, name: str) -> list[Container]:
        return [c for c in self.containers if any(m.get("Name") == name for m in c.mounts)]

    def _ensure_volume(self, name: str, anonymous: bool = False, **extra: Any) -> Volume:
        vol = self.volumes.get(name)
        if vol is None:
            vol = Volume(name=name, created=self.now(), anonymous=anonymous, **extra)
            self.volumes[name] = vol
            if self.volumes_on_disk:
                import os

                os.makedirs(self.volume_mountpoint(name), mode=0o755, exist_ok=True)
        # Docker logs 'create' even when a named volume already exists.
        self.event("volume", "create", name, driver=vol.driver)
        return vol

    def create_volume(self, parent: SpanContext, body: dict[str, Any]) -> Proc:
        name = str(body.get("Name") or "")
        ctx = self.span("VolumeCreate", parent, name=name)
        try:
            anonymous = not name
            if anonymous:
                name = self.new_id()
            else:
                validate_volume_name(name)
            driver = str(body.get("Driver") or "local")
            if driver != "local":
                raise NotFound(f'error looking up volume plugin {driver}: plugin "{driver}" not found')
            yield self.work(self.params.op)
            vol = self._ensure_volume(
                name,
                anonymous=anonymous,
                labels=dict(body.get("Labels") or {}),
                options=dict(body.get("DriverOpts") or {}),
            )
        except Exception as err:
            self.end(ctx, error=str(err))
            raise
        self.end(ctx)
        return self.volume_json(vol)

    def volume_json(self, vol: Volume) -> dict[str, Any]:
        from simulator.model.timefmt import format_timestamp_rfc3339

        return {
            "CreatedAt": format_timestamp_rfc3339(self.wall(vol.created)),
            "Driver": vol.driver,
            "Labels": vol.labels or None if not vol.labels else vol.labels,
            "Mountpoint": self.volume_mountpoint(vol.name),
            "Name": vol.name,
            "Options": vol.options or None,
            "Scope": "local",
        }

    def remove_volume(self, parent: SpanContext, name: str, force: bool = False) -> Proc:
        ctx = self.span("VolumeRemove", parent, name=name)
        try:
            vol = self.get_volume(name)
            users = self.volume_users(name)
            if users:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(c.id for c in users)}]")
            yield self.work(self.params.op)
            self._drop_volume(vol)
        except Exception as err:
            self.end(ctx, error=str(err))
            raise
        self.end(ctx)

    def _drop_volume(self, vol: Volume) -> None:
        del self.volumes[vol.name]
        drop = getattr(self.runtime, "drop_volume", None)
        if callable(drop):
            drop(vol.name)
        if self.volumes_on_disk:
            import shutil

            shutil.rmtree(f"{self.volumes_root}/{vol.name}", ignore_errors=True)
        self.event("volume", "destroy", vol.name, driver=vol.driver)

    def prune_volumes(self, parent: SpanContext, all_volumes: bool = False) -> Proc:
        ctx = self.span("VolumesPrune", parent)
        deleted = []
        for vol in list(self.volumes.values()):
            if self.volume_users(vol.name):
                continue
            if not all_volumes and not vol.anonymous:
                continue
            yield self.work(self.params.op)
            self._drop_volume(vol)
            deleted.append(vol.name)
        self.end(ctx)
        return {"VolumesDeleted": deleted or None, "SpaceReclaimed": 0}

    # -- container mounts --------------------------------------------------------------
    def _prepare_mounts(self, ctx: SpanContext, c: Container) -> Proc:
        mounts: list[dict[str, Any]] = []
        taken: set[str] = set()
        for raw in c.host_config.get("Binds") or []:
            bind = parse_bind(str(raw))
            if bind.kind == "bind":
                mounts.append(
                    {
                        "Type": "bind",
                        "Source": bind.source,
                        "Destination": bind.destination,
                        "Mode": "ro" if bind.read_only else "",
                        "RW": not bind.read_only,
                        "Propagation": "rprivate",
                    }
                )
            else:
                name = bind.source or self.new_id()
                vol = self._ensure_volume(name, anonymous=not bind.source)
                mounts.append(self._volume_mount(vol.name, bind.destination, bind.read_only))
            taken.add(bind.destination)
        for dest in c.config.get("Volumes") or {}:
            if dest in taken:
                continue
            vol = self._ensure_volume(self.new_id(), anonymous=True)
            mounts.append(self._volume_mount(vol.name, dest, False))
        if mounts:
            yield self.work(self.params.op)
        return mounts

    def _volume_mount(self, name: str, dest: str, read_only: bool) -> dict[str, Any]:
        return {
            "Type": "volume",
            "Name": name,
            "Source": self.volume_mountpoint(name),
            "Destination": dest,
            "Driver": "local",
            "Mode": "ro" if read_only else "z",
            "RW": not read_only,
            "Propagation": "",
        }

    def _mount_events(self, c: Container, action: str) -> None:
        for m in c.mounts:
            if m["Type"] != "volume":
                continue
            attrs = {"container": c.id, "driver": "local"}
            if action == "mount":
                attrs.update(
                    destination=m["Destination"],
                    propagation=m.get("Propagation", ""),
                    **{"read/write": str(m["RW"]).lower()},
                )
            self.event("volume", action, m["Name"], **attrs)

    def _remove_anonymous_volumes(self, c: Container) -> None:
        for m in c.mounts:
            vol = self.volumes.get(m.get("Name", ""))
            if vol is not None and vol.anonymous and not [u for u in self.volume_users(vol.name) if u.id != c.id]:
                self._drop_volume(vol)
