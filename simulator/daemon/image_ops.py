"""Image operations besides pull: tag, rmi, history, prune, and their JSON views."""

from __future__ import annotations

from typing import Any

from simulator.daemon.core import DaemonCore, Proc
from simulator.daemon.images import rmi_conflict
from simulator.model.digest import short_id
from simulator.model.errors import Conflict, DockerError
from simulator.model.image import ImageRecord
from simulator.model.reference import normalize, parse_normalized_named
from simulator.model.timefmt import format_timestamp_rfc3339nano
from simulator.trace.tracer import SpanContext


class ImageOpsMixin(DaemonCore):
    """Tag, remove, history, prune."""

    def tag_image(self, parent: SpanContext, source: str, repo: str, tag: str) -> Proc:
        ctx = self.span("ImageTag", parent, source=source)
        try:
            image = self.images.get(source)
            target = parse_normalized_named(repo)
            if target.digest:
                from simulator.model.errors import InvalidParameter

                raise InvalidParameter("refusing to create a tag with a digest reference")
            ref = normalize(f"{target.name}:{tag or 'latest'}")
            yield self.work(self.params.op)
            self.images.set_ref(ref, image.id)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.event("image", "tag", image.id, name=ref.familiar_string())
        self.end(ctx)

    def _users_of(self, image_id: str) -> list[Any]:
        return [c for c in self.containers if c.image_id == image_id]

    def remove_image(self, parent: SpanContext, name: str, force: bool = False) -> Proc:
        """``DELETE /images/{name}``: Docker's untag/delete rules and conflicts."""
        ctx = self.span("ImageDelete", parent, image=name)
        try:
            image = self.images.get(name)
            result = self._remove_image(image, name, force)
            yield self.work(self.params.op)
        except DockerError as err:
            self.end(ctx, error=err.message, status=err.status)
            raise
        self.end(ctx)
        return result

    def _remove_image(self, image: ImageRecord, name: str, force: bool) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        tags = self.images.tags_of(image.id)
        users = self._users_of(image.id)
        running = [c for c in users if c.state.running]
        by_id = image.id.startswith("sha256:" + name.removeprefix("sha256:")) and (
            self.images.refs.get(str(normalize(name)) if _is_ref(name) else "") != image.id
        )
        if not by_id:
            ref_key = str(normalize(name))
            if len(tags) > 1 or (image.repo_digests and len(tags) == 1 and len(image.repo_digests) > 1):
                self.images.untag(ref_key)
                familiar = normalize(name).familiar_string()
                out.append({"Untagged": familiar})
                self.event("image", "untag", image.id, name=familiar)
                return out
            if users and not force:
                c = users[0]
                raise rmi_conflict(name, c.short_id, image.short_id, running=False)
            if running and force:
                self.images.untag(ref_key)
                familiar = normalize(name).familiar_string()
                out.append({"Untagged": familiar})
                self.event("image", "untag", image.id, name=familiar)
                return out
        else:
            if len(tags) > 1 and not force:
                raise Conflict(
                    f"conflict: unable to delete {image.short_id} (must be forced) - image is "
                    "referenced in multiple repositories"
                )
            if running:
                raise Conflict(
                    f"conflict: unable to delete {image.short_id} (cannot be forced) - image is "
                    f"being used by running container {running[0].short_id}"
                )
            if users and not force:
                raise Conflict(
                    f"conflict: unable to delete {image.short_id} (must be forced) - image is "
                    f"being used by stopped container {users[0].short_id}"
                )
        for key in self.images.tags_of(image.id):
            familiar = normalize(key).familiar_string()
            out.append({"Untagged": familiar})
            self.event("image", "untag", image.id, name=familiar)
        for digest_ref in self.images.repo_digests(image.id):
            out.append({"Untagged": digest_ref})
        chain = image.chain_ids
        diff_ids = image.diff_ids
        deleted = self.images.delete_image(image.id)
        out.append({"Deleted": image.id})
        for diff_id, chain_id in zip(diff_ids, chain, strict=True):
            if diff_id in deleted:
                out.append({"Deleted": chain_id})
        self.event("image", "delete", image.id, name=image.id)
        return out

    def image_history(self, name: str) -> list[dict[str, Any]]:
        image = self.images.get(name)
        history = list(image.config.get("history") or [])
        layers = list(image.layers)
        rows = []
        li = 0
        for h in history:
            empty = bool(h.get("empty_layer"))
            size = 0
            if not empty and li < len(layers):
                size = layers[li].unpacked_size
                li += 1
            rows.append(
                {
                    "Comment": h.get("comment", ""),
                    "Created": int(_parse_time(h.get("created", ""))),
                    "CreatedBy": h.get("created_by", ""),
                    "Id": "<missing>",
                    "Size": size,
                    "Tags": None,
                }
            )
        rows.reverse()
        # Like dockerd, name each row after the local image it made (a build's parent chain).
        current: ImageRecord | None = image
        while current is not None and rows:
            row = len(rows) - len(current.config.get("history") or [])
            if 0 <= row < len(rows):
                rows[row]["Id"] = current.id
                rows[row]["Tags"] = self.images.repo_tags(current.id) or None
            parent = str(current.config.get("parent") or "")
            current = self.images.images.get(parent) if parent else None
        return rows

    def image_summary(self, image: ImageRecord) -> dict[str, Any]:
        return {
            "Containers": -1,
            "Created": int(_parse_time(image.created)),
            "Id": image.id,
            "Labels": (image.container_config.get("Labels") or None),
            "ParentId": "",
            "RepoDigests": self.images.repo_digests(image.id),
            "RepoTags": self.images.repo_tags(image.id),
            "SharedSize": -1,
            "Size": image.size,
            "VirtualSize": image.size,
        }

    def image_inspect(self, name: str) -> dict[str, Any]:
        image = self.images.get(name)
        cfg = dict(image.container_config)
        return {
            "Id": image.id,
            "RepoTags": self.images.repo_tags(image.id),
            "RepoDigests": self.images.repo_digests(image.id),
            "Parent": str(image.config.get("parent") or ""),
            "Comment": str(image.config.get("comment", "")),
            "Created": image.created or format_timestamp_rfc3339nano(self.wall(0)),
            "DockerVersion": "",
            "Author": str(image.config.get("author", "")),
            "Config": {
                "Hostname": "",
                "Domainname": "",
                "User": cfg.get("User", ""),
                "AttachStdin": False,
                "AttachStdout": False,
                "AttachStderr": False,
                "ExposedPorts": cfg.get("ExposedPorts"),
                "Tty": False,
                "OpenStdin": False,
                "StdinOnce": False,
                "Env": cfg.get("Env"),
                "Cmd": cfg.get("Cmd"),
                "Image": "",
                "Volumes": cfg.get("Volumes"),
                "WorkingDir": cfg.get("WorkingDir", ""),
                "Entrypoint": cfg.get("Entrypoint"),
                "OnBuild": cfg.get("OnBuild"),
                "Labels": cfg.get("Labels"),
                **({"StopSignal": cfg["StopSignal"]} if cfg.get("StopSignal") else {}),
            },
            "Architecture": image.config.get("architecture", "amd64"),
            "Os": image.config.get("os", "linux"),
            "Size": image.size,
            "VirtualSize": image.size,
            "GraphDriver": {"Data": None, "Name": "overlay2"},
            "RootFS": {"Type": "layers", "Layers": list(image.diff_ids)},
            "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
        }

    def prune_images(self, parent: SpanContext, all_unused: bool = False) -> Proc:
        ctx = self.span("ImagesPrune", parent)
        deleted: list[dict[str, str]] = []
        reclaimed = 0
        for image in list(self.images.images.values()):
            if self._users_of(image.id):
                continue
            if self.images.tags_of(image.id) and not all_unused:
                continue
            reclaimed += image.size
            deleted.extend(self._remove_image(image, image.id, True))
            yield self.work(self.params.op)
        self.end(ctx)
        return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}


def _is_ref(name: str) -> bool:
    try:
        normalize(name)
    except DockerError:
        return False
    return True


def _parse_time(text: str) -> float:
    if not text:
        return 0.0
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


__all__ = ["ImageOpsMixin", "short_id"]
