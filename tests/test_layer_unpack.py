"""Layers unpacked once per diff id, shared, safe against hostile tars, whiteouts honoured."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.daemon.content import ContentStore
from simulator.daemon.layers import OPAQUE_XATTR, LayerRejected, LayerUnpacker
from simulator.model.digest import sha256_digest
from simulator.model.errors import InvalidParameter, NotFound
from simulator.model.layer import LayerEntry, build_layer_tar, gzip_layer

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (mknod, trusted xattrs, mount)")


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def _m(name: str, kind: bytes = tarfile.REGTYPE, **kw: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for key, value in kw.items():
        setattr(info, key, value)
    return info


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A directory standing for the host: nothing may appear in it or change."""
    h = tmp_path / "host"
    h.mkdir()
    (h / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    return h


@pytest.fixture
def unpacker(tmp_path: Path) -> LayerUnpacker:
    return LayerUnpacker(tmp_path / "layers", ContentStore(tmp_path / "content"))


def _snapshot(path: Path) -> dict[str, tuple[int, bytes]]:
    out = {}
    for p in sorted(path.rglob("*")):
        st = p.lstat()
        out[str(p)] = (st.st_mode, p.read_bytes() if p.is_file() and not p.is_symlink() else b"")
    return out


def test_unpack_once_and_share(unpacker: LayerUnpacker) -> None:
    tar = build_layer_tar(
        [
            LayerEntry.file("etc/hostname", "box\n"),
            LayerEntry.file("bin/tool", b"\x7fELF", 0o755),
            LayerEntry.symlink("bin/alias", "tool"),
            LayerEntry.symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
            LayerEntry.hardlink("bin/hard", "bin/tool"),
            LayerEntry.directory("tmp", 0o1777),
        ]
    )
    blob = gzip_layer(tar)
    blob_digest = unpacker.content.put(blob)
    diff_id = sha256_digest(tar)
    unpacker.register(blob_digest, diff_id)
    first = unpacker.unpacked_path(diff_id)
    assert first == unpacker.root / diff_id.split(":")[1]
    assert (first / "etc/hostname").read_text() == "box\n"
    assert (first / "bin/alias").readlink() == Path("tool")
    # absolute symlink targets are kept verbatim (they resolve inside the container)
    assert os.readlink(first / "etc/localtime") == "/usr/share/zoneinfo/UTC"
    assert (first / "bin/tool").stat().st_mode & 0o777 == 0o755
    assert stat.S_IMODE((first / "tmp").stat().st_mode) == 0o1777
    assert (first / "bin/hard").stat().st_ino == (first / "bin/tool").stat().st_ino
    inode = (first / "etc/hostname").stat().st_ino
    # a second user (another image, another container) gets the same inode
    second = unpacker.unpacked_path(diff_id)
    assert second == first
    assert (second / "etc/hostname").stat().st_ino == inode
    assert LayerUnpacker(unpacker.root, unpacker.content).unpacked_path(diff_id) == first
    assert unpacker.layer_tar(diff_id) == tar
    assert unpacker.has(diff_id)
    unpacker.remove(diff_id)
    assert not unpacker.has(diff_id)
    assert not first.exists()
    with pytest.raises(NotFound):
        unpacker.layer_tar(diff_id)


def test_plain_tar_is_its_own_blob(unpacker: LayerUnpacker) -> None:
    tar = build_layer_tar([LayerEntry.file("a", "1")])
    diff_id = unpacker.add_tar(tar)
    assert diff_id == sha256_digest(tar)
    assert (unpacker.unpacked_path(diff_id) / "a").read_text() == "1"


def test_wrong_diff_id_leaves_nothing(unpacker: LayerUnpacker) -> None:
    tar = build_layer_tar([LayerEntry.file("a", "1")])
    blob = unpacker.content.put(tar)
    wrong = sha256_digest(b"something else")
    unpacker.register(blob, wrong)
    with pytest.raises(InvalidParameter, match="invalid diffID"):
        unpacker.unpacked_path(wrong)
    assert sorted(p.name for p in unpacker.root.iterdir()) == [".meta"]


def test_unknown_layer(unpacker: LayerUnpacker) -> None:
    with pytest.raises(NotFound, match="layer does not exist"):
        unpacker.unpacked_path(sha256_digest(b"x"))


def _hostile_cases(host: Path) -> dict[str, tuple[bytes, str]]:
    h = str(host)
    return {
        "traversal": (
            _tar((_m("../../../host/pwned"), b"x"), (_m("a/../../host/pwned"), b"x")),
            "path traversal",
        ),
        "absolute symlink written through": (
            _tar(
                (_m("etc", tarfile.SYMTYPE, linkname=h), b""),
                (_m("etc/passwd"), b"hacked"),
            ),
            "goes through the symlink",
        ),
        "relative symlink escape": (
            _tar(
                (_m("up", tarfile.SYMTYPE, linkname="../../../../../../" + h), b""),
            ),
            "points outside the layer",
        ),
        "hardlink escape": (
            _tar(
                (_m("shadow", tarfile.LNKTYPE, linkname="../../host/passwd"), b""),
            ),
            "outside the destination",
        ),
        "hardlink absolute": (
            _tar(
                (_m("shadow", tarfile.LNKTYPE, linkname=h + "/passwd"), b""),
            ),
            "is a link to an absolute path",
        ),
        "hardlink to a symlink": (
            _tar(
                (_m("p", tarfile.SYMTYPE, linkname=h + "/passwd"), b""),
                (_m("h", tarfile.LNKTYPE, linkname="p"), b""),
            ),
            "outside the destination",
        ),
        "device node": (
            _tar(
                (_m("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0), b""),
            ),
            "device node 8:0",
        ),
        "char device": (
            _tar(
                (_m("dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1), b""),
            ),
            "device node 1:1",
        ),
        "whiteout of a path outside": (
            _tar(
                (_m("../host/.wh.passwd"), b""),
            ),
            "path traversal",
        ),
        "whiteout of the parent": (
            _tar(
                (_m("etc/.wh.."), b""),
            ),
            "whiteout of a path outside",
        ),
        "whiteout through a symlink": (
            _tar(
                (_m("x", tarfile.SYMTYPE, linkname=h), b""),
                (_m("x/.wh.passwd"), b""),
            ),
            "goes through the symlink",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "traversal",
        "absolute symlink written through",
        "relative symlink escape",
        "hardlink escape",
        "hardlink absolute",
        "hardlink to a symlink",
        "device node",
        "char device",
        "whiteout of a path outside",
        "whiteout of the parent",
        "whiteout through a symlink",
    ],
)
def test_hostile_layers_are_rejected(unpacker: LayerUnpacker, host: Path, case: str) -> None:
    tar, reason = _hostile_cases(host)[case]
    before = _snapshot(host.parent)
    diff_id = unpacker.add_tar(tar)
    with pytest.raises(LayerRejected) as err:
        unpacker.unpacked_path(diff_id)
    assert reason in err.value.reason
    assert err.value.message.startswith("layer rejected: ")
    assert err.value.status == 400
    # nothing on the host changed, no half layer is visible, no temp dir is left
    after = _snapshot(host.parent)
    assert {k: v for k, v in after.items() if "/layers/" not in k and "/content/" not in k} == {
        k: v for k, v in before.items() if "/layers/" not in k and "/content/" not in k
    }
    assert (host / "passwd").read_text() == "root:x:0:0::/root:/bin/sh\n"
    assert not unpacker.has(diff_id)
    assert sorted(p.name for p in unpacker.root.iterdir()) == [".meta"]


def test_setuid_is_neutralised_and_reported(unpacker: LayerUnpacker) -> None:
    tar = _tar(
        (_m("bin/su", mode=0o4755), b"\x7fELF"),
        (_m("bin/wall", mode=0o2755), b"\x7fELF"),
        (_m("/etc/abs"), b"1"),
    )
    diff_id = unpacker.add_tar(tar)
    path = unpacker.unpacked_path(diff_id)
    assert stat.S_IMODE((path / "bin/su").stat().st_mode) == 0o755
    assert stat.S_IMODE((path / "bin/wall").stat().st_mode) == 0o755
    assert (path / "etc/abs").read_text() == "1"
    actions = {(n.member, n.action) for n in unpacker.notices[diff_id]}
    assert ("bin/su", "setuid/setgid bits removed") in actions
    assert ("bin/wall", "setuid/setgid bits removed") in actions
    assert ("/etc/abs", "leading '/' removed") in actions


@needs_root
def test_whiteouts_become_overlay_whiteouts(unpacker: LayerUnpacker) -> None:
    tar = build_layer_tar([LayerEntry.whiteout("etc/motd"), LayerEntry.opaque("var/cache"), LayerEntry.file("x", "")])
    path = unpacker.unpacked_path(unpacker.add_tar(tar))
    st = (path / "etc/motd").lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(path / "var/cache", OPAQUE_XATTR) == b"y"
    assert not (path / "etc/.wh.motd").exists()


@pytest.fixture
def mountpoint(tmp_path: Path) -> Iterator[Path]:
    merged = tmp_path / "merged"
    merged.mkdir()
    yield merged
    subprocess.run(["umount", str(merged)], check=False, capture_output=True)


@pytest.mark.real
@needs_root
def test_whiteouts_hide_lower_files_in_a_real_overlay(unpacker: LayerUnpacker, mountpoint: Path) -> None:
    lower = build_layer_tar(
        [
            LayerEntry.file("etc/motd", "welcome\n"),
            LayerEntry.file("etc/keep", "kept\n"),
            LayerEntry.file("var/cache/a", "1"),
            LayerEntry.file("var/cache/b", "2"),
        ]
    )
    upper = build_layer_tar(
        [
            LayerEntry.whiteout("etc/motd"),
            LayerEntry.opaque("var/cache"),
            LayerEntry.file("var/cache/new", "3"),
        ]
    )
    low = unpacker.unpacked_path(unpacker.add_tar(lower))
    up = unpacker.unpacked_path(unpacker.add_tar(upper))
    result = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={up}:{low}", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"overlayfs unavailable: {result.stderr.strip()}")
    assert not (mountpoint / "etc/motd").exists()
    assert (mountpoint / "etc/keep").read_text() == "kept\n"
    assert sorted(p.name for p in (mountpoint / "var/cache").iterdir()) == ["new"]
    # the lower layer itself is untouched
    assert (low / "etc/motd").read_text() == "welcome\n"


def test_a_later_file_replaces_a_symlink_instead_of_writing_through_it(unpacker: LayerUnpacker, host: Path) -> None:
    tar = _tar(
        (_m("passwd", tarfile.SYMTYPE, linkname=str(host / "passwd")), b""),
        (_m("passwd"), b"container's own\n"),
    )
    path = unpacker.unpacked_path(unpacker.add_tar(tar))
    assert not (path / "passwd").is_symlink()
    assert (path / "passwd").read_text() == "container's own\n"
    assert (host / "passwd").read_text() == "root:x:0:0::/root:/bin/sh\n"
