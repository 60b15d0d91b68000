"""``csim image bootstrap``: a real ``busybox:latest`` made from this machine, no network.

The Linux backend needs an image to run before anything has been pulled, and
the machines csim runs on may have no registry access. So this module builds
one the way the official busybox image is built: a single layer with the
statically linked ``busybox`` binary, a symlink per applet in ``/bin``, a
minimal ``/etc/passwd`` and ``/etc/group``, and the usual empty directories;
its config runs ``sh`` with Docker's default ``PATH``.

The binary comes from Debian's ``busybox-static`` package when installed,
else from the host's ``busybox`` (with its shared libraries if it has any),
else the host's own ``sh`` and core utilities with the libraries ``ldd``
names. Every member has a fixed mtime and owner, so on one machine the image
ID never changes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from simulator.daemon.archive import ArchiveImage, host_platform
from simulator.model.digest import sha256_digest
from simulator.model.errors import SystemError_
from simulator.model.image import build_image_config, canonical_json, history_entry
from simulator.model.layer import LayerEntry, build_layer_tar

DEFAULT_TAG = "busybox:latest"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""

GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
"""

# What the fallback image carries when there is no busybox at all.
HOST_TOOLS: tuple[str, ...] = (
    "sh", "ls", "cat", "echo", "env", "hostname", "id", "mkdir", "rm", "sleep", "true",
    "false", "ps", "grep", "head", "tail", "wc", "touch", "uname", "pwd", "mount", "date",
)  # fmt: skip

_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def find_busybox() -> tuple[Path, str] | None:
    """Locate a busybox binary: (path, where it came from), or None."""
    try:
        listing = subprocess.run(
            ["dpkg", "-L", "busybox-static"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        listing = None
    if listing is not None and listing.returncode == 0:
        for line in listing.stdout.splitlines():
            if line.endswith("/bin/busybox") and Path(line).is_file():
                return Path(line), "busybox-static"
    host = shutil.which("busybox") or ("/bin/busybox" if Path("/bin/busybox").is_file() else None)
    return (Path(host), "host busybox") if host else None


def shared_libraries(binary: Path) -> list[Path]:
    """The shared libraries (and dynamic loader) ``ldd`` says ``binary`` needs; [] if static."""
    try:
        result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []  # "not a dynamic executable"
    return sorted({Path(m.group(1)) for m in _LDD_PATH.finditer(result.stdout)})


def busybox_applets(binary: Path) -> list[str]:
    """The applet names ``busybox --list`` prints."""
    result = subprocess.run([str(binary), "--list"], capture_output=True, text=True, timeout=10, check=False)
    if result.returncode != 0:
        raise SystemError_(f"{binary} --list failed: {result.stderr.strip()}")
    return sorted({a for a in result.stdout.split() if a and "/" not in a})


def _base_entries() -> list[LayerEntry]:
    entries = [
        LayerEntry.directory(d) for d in ("bin", "dev", "etc", "home", "proc", "sys", "usr/sbin", "var/spool/mail")
    ]
    entries += [
        LayerEntry.directory("var/www"),
        LayerEntry.directory("root", 0o700),
        LayerEntry.directory("tmp", 0o1777),
        LayerEntry.file("etc/passwd", PASSWD),
        LayerEntry.file("etc/group", GROUP),
    ]
    return entries


def _library_entries(libraries: Iterable[Path]) -> list[LayerEntry]:
    """Each library at the path the loader looks for it, with the real file's bytes."""
    entries = []
    for lib in libraries:
        real = lib.resolve()
        entries.append(LayerEntry.file(str(lib), real.read_bytes(), 0o755))
    return entries


def busybox_layer(binary: Path) -> bytes:
    """The reproducible layer tar of a busybox root filesystem."""
    entries = _base_entries()
    entries.append(LayerEntry.file("bin/busybox", binary.read_bytes(), 0o755))
    entries += [
        LayerEntry.symlink(f"bin/{applet}", "busybox") for applet in busybox_applets(binary) if applet != "busybox"
    ]
    entries += _library_entries(shared_libraries(binary))
    return build_layer_tar(_dedupe(entries))


def host_tools_layer(tools: Iterable[str] = HOST_TOOLS) -> bytes:
    """The layer tar of a root filesystem made of the host's own binaries and libraries.

    Raises:
        SystemError_: when the host has no ``sh``.
    """
    entries = _base_entries()
    libraries: set[Path] = set()
    found = set()
    for tool in tools:
        path = shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        if path is None:
            continue
        found.add(tool)
        real = Path(path).resolve()
        entries.append(LayerEntry.file(f"bin/{tool}", real.read_bytes(), 0o755))
        libraries.update(shared_libraries(real))
    if "sh" not in found:
        raise SystemError_("cannot bootstrap an image: no busybox and no /bin/sh on this host")
    entries += _library_entries(sorted(libraries))
    return build_layer_tar(_dedupe(entries))


def _dedupe(entries: list[LayerEntry]) -> list[LayerEntry]:
    """Keep the first entry per tar member (a library may be named twice)."""
    seen: dict[str, LayerEntry] = {}
    for entry in entries:
        seen.setdefault(entry.member_name, entry)
    return list(seen.values())


def bootstrap_busybox(busybox: Path | None = None, *, tag: str = DEFAULT_TAG, use_busybox: bool = True) -> ArchiveImage:
    """Build ``busybox:latest`` from this machine's binaries.

    Args:
        busybox: a busybox binary to use instead of looking for one.
        tag: the ``name:tag`` to give the image.
        use_busybox: False to build from the host's ``sh`` and core utilities
            even when a busybox exists (the last-resort path, for tests).

    Returns:
        The image: config bytes, its one layer tar, and ``[tag]``.

    Raises:
        SystemError_: when neither busybox nor a host shell can be found.
    """
    found = (busybox, "given") if busybox is not None else (find_busybox() if use_busybox else None)
    if found is not None:
        binary, origin = found
        layer = busybox_layer(Path(binary))
        created_by = f"csim image bootstrap: busybox from {origin}"
    else:
        layer = host_tools_layer()
        created_by = "csim image bootstrap: host sh, core utilities and their libraries"
    os_name, arch = host_platform()
    config = build_image_config(
        diff_ids=[sha256_digest(layer)],
        history=[history_entry(created_by)],
        env=[PATH_ENV],
        cmd=["sh"],
        architecture=arch,
        os=os_name,
    )
    return ArchiveImage(canonical_json(config), [layer], [tag])
