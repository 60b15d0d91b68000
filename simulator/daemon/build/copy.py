"""What ``COPY`` and ``ADD`` put in their layer, and the checksum the cache keys on.

Docker's rules, as dockerd 20.10's legacy builder applies them: a relative
destination is under ``WORKDIR``; copying a directory copies its contents;
a file goes *into* the destination when it ends with ``/`` or is an existing
directory, else it *becomes* the destination; several sources need a
destination ending in ``/``; ``ADD`` unpacks local tar archives and cannot
fetch URLs offline. The result is a list of :class:`LayerEntry` for
:func:`simulator.model.layer.build_layer_tar` plus the history text
``COPY file:<hex> in /app/ `` whose checksum makes the cache notice a
changed source file.

Public API: :class:`CopySource`, :func:`plan_copy` and :class:`CopyPlan`.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from dataclasses import dataclass, field

from simulator.daemon.build.context import BuildContext, ContextFile
from simulator.daemon.build.image_fs import ImageFs
from simulator.daemon.build.instructions import SourceContent
from simulator.model.errors import InvalidParameter, NotFound
from simulator.model.layer import EntryKind, LayerEntry


@dataclass(frozen=True, slots=True)
class CopySource:
    """Where the files come from: the build context, or an image (``--from``)."""

    context: BuildContext | None = None
    image: ImageFs | None = None


@dataclass
class CopyPlan:
    """A COPY/ADD resolved against its sources.

    Attributes:
        checksum: ``file:<hex>``, ``dir:<hex>`` or ``multi:<hex>``.
        dest: the destination as the instruction wrote it (for history).
        items: (source path, destination path) pairs, resolved lazily into entries.
    """

    checksum: str
    dest: str
    items: list[tuple[str, str, bool]] = field(default_factory=list)
    inline: list[tuple[str, bytes]] = field(default_factory=list)


def absolute_dest(dest: str, workdir: str) -> str:
    """The destination joined to WORKDIR, keeping a trailing ``/``."""
    joined = posixpath.normpath(posixpath.join("/", workdir or "/", dest))
    if dest.endswith("/") or dest in (".", "./"):
        joined = joined.rstrip("/") + "/"
    return joined


def _image_checksum(fs: ImageFs, path: str) -> str:
    digest = hashlib.sha256()
    entries = fs.walk(path)
    for entry in entries:
        data = _entry_data(fs, entry)
        digest.update(f"{entry.path}\0{entry.kind}\0{entry.mode:o}\0{entry.target}\0".encode())
        digest.update(hashlib.sha256(data).digest())
    kind = "dir" if fs.is_dir(path) else "file"
    return f"{kind}:{digest.hexdigest()}"


def _entry_data(fs: ImageFs, entry: LayerEntry) -> bytes:
    if entry.kind == "hardlink":
        target = fs.entries.get(entry.target)
        return target.data if target is not None else b""
    return entry.data


def plan_copy(
    name: str,
    sources: tuple[str, ...],
    contents: tuple[SourceContent, ...],
    dest: str,
    workdir: str,
    source: CopySource,
) -> CopyPlan:
    """Resolve sources and compute the cache checksum (no files are read yet).

    Raises:
        InvalidParameter: a source leaves the context, several sources go to a
            non-directory, or ``ADD`` names a URL.
        NotFound: a source is missing.
    """
    matched: list[tuple[str, bool]] = []  # (path, is_dir)
    sums: list[str] = []
    for src in sources:
        if src.startswith(("http://", "https://")):
            if name == "COPY":
                raise InvalidParameter("COPY failed: source can't be a URL for COPY")
            host = src.split("/")[2]
            raise InvalidParameter(
                f'ADD failed: Get "{src}": dial tcp: lookup {host}: no such host '
                "(csim builds offline: remote URLs cannot be fetched)"
            )
        if source.context is not None:
            for path in source.context.resolve(src, name):
                matched.append((path, source.context.is_dir(path)))
                sums.append(source.context.checksum(path))
        else:
            fs = source.image or ImageFs()
            if not fs.exists(src):
                raise NotFound(f"{name} failed: stat {src}: file does not exist")
            path = fs.resolve(src)
            matched.append((path, fs.is_dir(path)))
            sums.append(_image_checksum(fs, path))
    for content in contents:
        matched.append((content.path, False))
        sums.append("file:" + hashlib.sha256(content.data.encode()).hexdigest())
    target = absolute_dest(dest, workdir)
    if len(matched) > 1 and not target.endswith("/"):
        raise InvalidParameter(
            f"When using {name} with more than one source file, the destination must be a directory and end with a /"
        )
    checksum = sums[0] if len(sums) == 1 else "multi:" + hashlib.sha256(",".join(sums).encode()).hexdigest()
    plan = CopyPlan(checksum, dest)
    plan.items = [(path, target, is_dir) for path, is_dir in matched[: len(matched) - len(contents)]]
    plan.inline = [(c.path, c.data.encode()) for c in contents]
    return plan


def _owner(chown: str, fs: ImageFs) -> tuple[int, int] | None:
    if not chown:
        return None
    user, _, group = chown.partition(":")

    def ident(value: str, database: str) -> int:
        if value.isdigit():
            return int(value)
        found = fs.lookup_user(value, database)
        if found is None:
            kind = "uid" if database == "etc/passwd" else "gid"
            raise InvalidParameter(
                f"unable to convert uid/gid chown string to host mapping: can't find {kind} "
                f"for user {value}: no such user: {value}"
            )
        return found

    uid = ident(user, "etc/passwd")
    gid = ident(group, "etc/group") if group else uid
    return uid, gid


def _is_archive(data: bytes) -> bool:
    if len(data) < 262:
        return False
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            return tar.next() is not None
    except (tarfile.TarError, EOFError, OSError):
        return False


def _archive_entries(data: bytes, into: str) -> list[LayerEntry]:
    out: list[LayerEntry] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for info in tar:
            rel = posixpath.normpath("/" + info.name).lstrip("/")
            if not rel or rel == ".":
                continue
            path = posixpath.join(into, rel)
            mode = info.mode & 0o7777
            if info.isdir():
                out.append(LayerEntry.directory(path, mode, info.uid, info.gid))
            elif info.issym():
                out.append(LayerEntry.symlink(path, info.linkname))
            elif info.isreg():
                stream = tar.extractfile(info)
                content = stream.read() if stream is not None else b""
                out.append(LayerEntry.file(path, content, mode, info.uid, info.gid))
    return out


def copy_entries(
    name: str,
    plan: CopyPlan,
    source: CopySource,
    parent_fs: ImageFs,
    chown: str = "",
    chmod: str = "",
) -> list[LayerEntry]:
    """The layer entries of a planned COPY/ADD, parent directories included.

    Raises:
        InvalidParameter: a bad ``--chown`` or ``--chmod``.
    """
    owner = _owner(chown, parent_fs)
    mode_override: int | None = None
    if chmod:
        try:
            mode_override = int(chmod, 8)
        except ValueError:
            raise InvalidParameter(f"invalid chmod parameter: {chmod}") from None
    files: dict[str, LayerEntry] = {}

    def put(entry: LayerEntry) -> None:
        uid, gid = owner if owner is not None else (entry.uid, entry.gid)
        mode = entry.mode
        if mode_override is not None and entry.kind in ("file", "dir"):
            mode = mode_override
        files[entry.path] = LayerEntry(entry.path, entry.kind, entry.data, mode, entry.target, uid, gid)

    def add_from(item: ContextFile | LayerEntry, path: str, data: bytes) -> None:
        kind: EntryKind = "file"
        if item.kind in ("dir", "symlink"):
            kind = "dir" if item.kind == "dir" else "symlink"
        put(LayerEntry(path, kind, data if kind == "file" else b"", item.mode, item.target))

    for src, target, is_dir in plan.items:
        into_dir = target.endswith("/") or is_dir or parent_fs.is_dir(target)
        if is_dir:
            base = target.rstrip("/") or "/"
            if source.context is not None:
                for entry in source.context.walk(src):
                    rel = entry.path[len(src) :].lstrip("/") if src else entry.path
                    path = posixpath.join(base, rel) if rel else base
                    if path != "/":
                        add_from(entry, path, entry.data)
            else:
                fs = source.image or ImageFs()
                for layer_entry in fs.walk(src):
                    rel = layer_entry.path[len(src) :].lstrip("/") if src else layer_entry.path
                    path = posixpath.join(base, rel) if rel else base
                    if path != "/":
                        add_from(layer_entry, path, _entry_data(fs, layer_entry))
            continue
        path = posixpath.join(target, posixpath.basename(src)) if into_dir else target
        if source.context is not None:
            ctx_entry = source.context.files[src]
            if name == "ADD" and ctx_entry.kind == "file" and _is_archive(ctx_entry.data):
                for extracted in _archive_entries(ctx_entry.data, target.rstrip("/") or "/"):
                    put(extracted)
                continue
            add_from(ctx_entry, path, ctx_entry.data)
        else:
            fs = source.image or ImageFs()
            image_entry = fs.get(src)
            if image_entry is not None:
                add_from(image_entry, path, _entry_data(fs, image_entry))
    for inline_name, data in plan.inline:
        target = absolute_dest(plan.dest, "/")
        path = posixpath.join(target, inline_name) if target.endswith("/") else target
        put(LayerEntry.file(path, data, 0o644))
    _add_parents(files, parent_fs, owner)
    return list(files.values())


def _add_parents(files: dict[str, LayerEntry], parent_fs: ImageFs, owner: tuple[int, int] | None) -> None:
    """Record each parent directory with the mode it already has (else 0755, new)."""
    for path in list(files):
        parent = posixpath.dirname(path.lstrip("/"))
        while parent and parent not in files:
            existing = parent_fs.get(parent)
            if existing is not None and existing.kind == "dir":
                files[parent] = existing
            else:
                uid, gid = owner or (0, 0)
                files[parent] = LayerEntry.directory(parent, 0o755, uid, gid)
            parent = posixpath.dirname(parent)
