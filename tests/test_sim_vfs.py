"""The virtual overlay filesystem: layers, copy-up, whiteouts, docker diff, volumes."""

from __future__ import annotations

import io
import tarfile

import pytest

from simulator.model.layer import LayerEntry, build_layer_tar
from simulator.runtime.sim.inode import LayerCache
from simulator.runtime.sim.vfs import ContainerFs, FsError, VolumeRegistry

LOWER = build_layer_tar(
    [
        LayerEntry.file("etc/passwd", "root:x:0:0\n"),
        LayerEntry.file("etc/hosts.allow", "all\n"),
        LayerEntry.file("usr/share/a/b", "b"),
        LayerEntry.file("old/x", "1"),
        LayerEntry.file("opq/keep", "k"),
        LayerEntry.executable("bin/busybox", "busybox"),
        LayerEntry.hardlink("bin/ls", "bin/busybox"),
        LayerEntry.symlink("lib", "usr/lib"),
        LayerEntry.directory("usr/lib"),
    ]
)
UPPER = build_layer_tar([LayerEntry.whiteout("old"), LayerEntry.opaque("opq"), LayerEntry.file("opq/new", "n")])


class Store:
    def __init__(self) -> None:
        self.fetched: list[str] = []

    def layer_tar(self, diff_id: str) -> bytes:
        self.fetched.append(diff_id)
        return {"l1": LOWER, "l2": UPPER}[diff_id]


@pytest.fixture
def cache() -> LayerCache:
    return LayerCache(Store())


def make_fs(cache: LayerCache, clock: list[float] | None = None) -> ContainerFs:
    now = clock or [1_800_000_000.0]
    return ContainerFs(cache.image_root(("l1", "l2")), lambda: now[0])


def test_layers_apply_whiteouts_and_opaque_dirs(cache: LayerCache) -> None:
    fs = make_fs(cache)
    assert fs.listdir("/") == ["bin", "etc", "lib", "opq", "usr"]
    assert fs.listdir("/opq") == ["new"]
    assert fs.read("/bin/ls") == fs.read("/bin/busybox")
    assert fs.lookup("/bin/ls") is fs.lookup("/bin/busybox")  # hard link kept
    assert fs.is_dir("/lib")  # symlink followed


def test_parsed_trees_are_cached_and_shared(cache: LayerCache) -> None:
    store = cache._store
    a, b = make_fs(cache), make_fs(cache)
    assert store.fetched == ["l1", "l2"]  # type: ignore[attr-defined]
    assert a.lookup("/etc/passwd") is b.lookup("/etc/passwd")


def test_two_containers_do_not_see_each_others_writes(cache: LayerCache) -> None:
    a, b = make_fs(cache), make_fs(cache)
    a.write("/etc/passwd", b"changed\n")
    a.unlink("/etc/hosts.allow")
    a.write("/tmpfile", b"x")
    assert b.read("/etc/passwd") == b"root:x:0:0\n"
    assert b.exists("/etc/hosts.allow")
    assert not b.exists("/tmpfile")
    assert make_fs(cache).read("/etc/passwd") == b"root:x:0:0\n"


def test_diff_modified_file_marks_parents_changed(cache: LayerCache) -> None:
    fs = make_fs(cache)
    fs.write("/usr/share/a/b", b"new")
    assert fs.changes() == [("C", "/usr"), ("C", "/usr/share"), ("C", "/usr/share/a"),
                            ("C", "/usr/share/a/b")]  # fmt: skip


def test_diff_deleted_file_and_dir(cache: LayerCache) -> None:
    fs = make_fs(cache)
    fs.unlink("/etc/hosts.allow")
    fs.remove_tree("/usr/share")
    assert fs.changes() == [("C", "/etc"), ("D", "/etc/hosts.allow"), ("C", "/usr"),
                            ("D", "/usr/share")]  # fmt: skip


def test_diff_new_dir_lists_every_file(cache: LayerCache) -> None:
    fs = make_fs(cache)
    fs.mkdir("/data/sub", parents=True)
    fs.write("/data/sub/f", b"1")
    fs.write("/data/g", b"2")
    assert fs.changes() == [("A", "/data"), ("A", "/data/g"), ("A", "/data/sub"),
                            ("A", "/data/sub/f")]  # fmt: skip


def test_diff_ignores_unchanged_copy_up_and_chmod_is_change(cache: LayerCache) -> None:
    fs = make_fs(cache)
    fs.mkdir("/etc/tmp")
    fs.rmdir("/etc/tmp")
    assert fs.changes() == []
    fs.chmod("/etc/passwd", 0o600)
    assert fs.changes() == [("C", "/etc"), ("C", "/etc/passwd")]


def test_errors_are_errno_values(cache: LayerCache) -> None:
    fs = make_fs(cache)
    with pytest.raises(FsError) as info:
        fs.read("/nope")
    assert info.value.strerror == "No such file or directory"
    with pytest.raises(FsError) as info:
        fs.mkdir("/etc")
    assert info.value.strerror == "File exists"
    with pytest.raises(FsError) as info:
        fs.rmdir("/usr")
    assert info.value.strerror == "Directory not empty"


def test_export_upper_is_a_layer_with_whiteouts_and_round_trips(cache: LayerCache) -> None:
    fs = make_fs(cache)
    fs.write("/etc/passwd", b"x\n", append=True)
    fs.unlink("/etc/hosts.allow")
    fs.symlink("/etc/passwd", "/pw")
    fs.write("/new", b"1")
    fs.link("/new", "/new2")
    data = fs.export_upper()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = {m.name: m for m in tar.getmembers()}
    assert "etc/.wh.hosts.allow" in names
    assert names["pw"].issym() and names["new2"].islnk()
    assert fs.export_upper() == data  # reproducible
    restored = make_fs(cache)
    restored.import_upper(data)
    assert restored.changes() == fs.changes()
    assert restored.read("/etc/passwd") == b"root:x:0:0\nx\n"


def test_named_volume_is_shared_and_read_only_mount_refuses(cache: LayerCache) -> None:
    volumes = VolumeRegistry()
    a, b = make_fs(cache), make_fs(cache)
    a.mount("/data", volumes.get("v"), False, "volume")
    b.mount("/data", volumes.get("v"), True, "volume")
    a.write("/data/f", b"shared")
    assert b.read("/data/f") == b"shared"
    with pytest.raises(FsError) as info:
        b.write("/data/g", b"")
    assert info.value.strerror == "Read-only file system"
    assert a.changes() == [("A", "/data")]  # only the mount point, not the volume content
    saved = volumes.snapshot()
    other = VolumeRegistry()
    other.restore(saved)
    assert other.get("v").root.entries["f"].data == b"shared"


def test_empty_named_volume_gets_image_content_on_first_mount(cache: LayerCache) -> None:
    volumes = VolumeRegistry()
    fs = make_fs(cache)
    fs.mount("/etc", volumes.get("conf"), False, "volume")
    assert fs.read("/etc/passwd") == b"root:x:0:0\n"
    fs.write("/etc/passwd", b"vol\n")
    assert make_fs(cache).read("/etc/passwd") == b"root:x:0:0\n"
    assert fs.changes() == []


def test_readonly_rootfs(cache: LayerCache) -> None:
    fs = ContainerFs(cache.image_root(("l1",)), lambda: 0.0, readonly_rootfs=True)
    with pytest.raises(FsError) as info:
        fs.write("/x", b"")
    assert info.value.errno == "EROFS"
