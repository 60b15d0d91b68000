"""busybox:latest built from this machine's binaries: a real, runnable, reproducible image."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from simulator.daemon.bootstrap import PATH_ENV, bootstrap_busybox, find_busybox
from simulator.daemon.content import ContentStore
from simulator.daemon.layers import LayerUnpacker
from simulator.model.layer import read_layer_tar

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
HAS_BUSYBOX = find_busybox() is not None


def _unpack(tmp_path: Path, layer: bytes) -> Path:
    unpacker = LayerUnpacker(tmp_path / "layers", ContentStore(tmp_path / "content"))
    return unpacker.unpacked_path(unpacker.add_tar(layer))


def _chroot_echo(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(root), "/bin/sh", "-c", "echo hi"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
        env={"PATH": PATH_ENV.split("=", 1)[1]},
    )


@pytest.mark.skipif(not HAS_BUSYBOX, reason="no busybox binary on this host")
def test_busybox_image_is_a_proper_oci_image() -> None:
    image = bootstrap_busybox()
    assert image.repo_tags == ["busybox:latest"]
    config = json.loads(image.config)
    assert config["config"]["Cmd"] == ["sh"]
    assert config["config"]["Env"] == [PATH_ENV]
    assert config["os"] == "linux"
    assert config["rootfs"] == {"type": "layers", "diff_ids": image.diff_ids}
    image.verify()
    entries = {e.path: e for e in read_layer_tar(image.layers[0])}
    assert entries["bin/busybox"].mode == 0o755
    assert entries["bin/sh"].kind == "symlink"
    assert entries["bin/sh"].target == "busybox"
    assert entries["bin/ls"].target == "busybox"
    assert "root:x:0:0:root:/root:/bin/sh" in entries["etc/passwd"].data.decode()
    assert "tty:x:5:" in entries["etc/group"].data.decode()
    assert entries["tmp"].mode == 0o1777
    for d in ("proc", "sys", "dev", "root"):
        assert entries[d].kind == "dir"


@pytest.mark.skipif(not HAS_BUSYBOX, reason="no busybox binary on this host")
def test_bootstrap_is_deterministic() -> None:
    first, second = bootstrap_busybox(), bootstrap_busybox()
    assert first.id == second.id
    assert first.layers == second.layers


@pytest.mark.real
@pytest.mark.skipif(not IS_ROOT, reason="chroot needs root")
@pytest.mark.skipif(not HAS_BUSYBOX, reason="no busybox binary on this host")
def test_busybox_runs_in_a_chroot(tmp_path: Path) -> None:
    root = _unpack(tmp_path, bootstrap_busybox().layers[0])
    result = _chroot_echo(root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hi\n"


@pytest.mark.real
@pytest.mark.skipif(not IS_ROOT, reason="chroot needs root")
@pytest.mark.skipif(shutil.which("sh") is None, reason="no host shell")
def test_host_tools_fallback_runs_in_a_chroot(tmp_path: Path) -> None:
    image = bootstrap_busybox(use_busybox=False)
    assert image.repo_tags == ["busybox:latest"]
    root = _unpack(tmp_path, image.layers[0])
    assert (root / "bin/sh").is_file()
    result = _chroot_echo(root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hi\n"
    ls = subprocess.run(["chroot", str(root), "/bin/ls", "/etc"], capture_output=True, text=True, check=False)
    assert "passwd" in ls.stdout.split()
