"""An image's root filesystem as the builder reads it: its layers stacked in memory.

``COPY`` needs to know whether the destination is an existing directory,
``COPY --from`` reads files out of another stage's image, ``WORKDIR``
creates its directory only when it is missing, and ``--chown=app`` looks
names up in the image's ``/etc/passwd``. All of that is a read of the
image's layers, applied bottom to top with their whiteouts, exactly as
overlayfs would show them. No runtime is involved, so both backends share it.

Public API: :class:`ImageFs` (``from_layers``, ``get``, ``is_dir``,
``walk``, ``lookup_user``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable

from simulator.model.layer import LayerEntry, read_layer_tar


def _clean(path: str) -> str:
    cleaned = posixpath.normpath("/" + path).lstrip("/")
    return "" if cleaned == "." else cleaned


class ImageFs:
    """Paths (relative, no leading ``/``) to the entry that shows at that path."""

    def __init__(self, entries: dict[str, LayerEntry] | None = None) -> None:
        self.entries: dict[str, LayerEntry] = dict(entries or {})

    @classmethod
    def from_layers(cls, diff_ids: Iterable[str], layer_tar: Callable[[str], bytes]) -> ImageFs:
        """Stack the layers (bottom first) read through ``layer_tar(diff_id)``."""
        fs = cls()
        for diff_id in diff_ids:
            fs.apply(read_layer_tar(layer_tar(diff_id)))
        return fs

    def apply(self, layer: Iterable[LayerEntry]) -> None:
        """Apply one layer on top: whiteouts delete, opaque markers empty a directory."""
        for entry in layer:
            if entry.kind == "whiteout":
                self._drop(entry.path)
            elif entry.kind == "opaque":
                self._drop(entry.path, keep_self=True)
            else:
                if entry.kind != "dir":
                    self._drop(entry.path)
                self.entries[entry.path] = entry

    def _drop(self, path: str, keep_self: bool = False) -> None:
        prefix = path + "/"
        for name in [n for n in self.entries if n.startswith(prefix)]:
            del self.entries[name]
        if not keep_self:
            self.entries.pop(path, None)

    def resolve(self, path: str, depth: int = 0) -> str:
        """``path`` with symlinked parent directories followed (as a copy into it would)."""
        parts = _clean(path).split("/") if _clean(path) else []
        out: list[str] = []
        for i, part in enumerate(parts):
            current = "/".join([*out, part])
            entry = self.entries.get(current)
            if entry is not None and entry.kind == "symlink" and depth < 16:
                base = "" if entry.target.startswith("/") else "/".join(out)
                rest = "/".join(parts[i + 1 :])
                return self.resolve(posixpath.join("/", base, entry.target, rest), depth + 1)
            out.append(part)
        return "/".join(out)

    def get(self, path: str) -> LayerEntry | None:
        return self.entries.get(self.resolve(path))

    def is_dir(self, path: str) -> bool:
        rel = self.resolve(path)
        if rel == "":
            return True
        entry = self.entries.get(rel)
        return entry is not None and entry.kind == "dir"

    def exists(self, path: str) -> bool:
        rel = self.resolve(path)
        return rel == "" or rel in self.entries

    def walk(self, path: str) -> list[LayerEntry]:
        """The entry at ``path`` and everything below it, sorted by path."""
        rel = self.resolve(path)
        prefix = rel + "/" if rel else ""
        return sorted(
            (e for name, e in self.entries.items() if name == rel or name.startswith(prefix)),
            key=lambda e: e.path,
        )

    def lookup_user(self, name: str, database: str = "etc/passwd") -> int | None:
        """The numeric id of a user (``etc/passwd``) or group (``etc/group``) name."""
        entry = self.entries.get(database)
        if entry is None or entry.kind != "file":
            return None
        for line in entry.data.decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if len(fields) >= 3 and fields[0] == name and fields[2].isdigit():
                return int(fields[2])
        return None
