"""The small virtual root filesystems inside the simulated Docker Hub images.

Real images carry whole distributions; the simulated ones carry just enough
for containers to behave like the real thing: ``/etc/os-release``,
``/etc/passwd`` and ``/etc/group`` with the same users, the shells and
utilities each distribution really ships (``ps`` is missing from Debian, as it
is in reality), and each server's program, config and web pages.

Programs follow the executable contract of :mod:`simulator.model.layer`: a
file holding ``\\x7fELF csim-exec <program>`` that the virtual kernel runs.
Debian and Ubuntu use merged ``/usr`` (``/bin`` is a symlink to ``usr/bin``),
busybox hard links its applets, Alpine symlinks them, all as in reality.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from simulator.model.layer import LayerEntry

BUSYBOX_APPLETS: tuple[str, ...] = (
    "sh", "echo", "cat", "ls", "touch", "rm", "mkdir", "rmdir", "sleep", "hostname", "ps",
    "env", "id", "true", "false", "wget", "ping", "printf", "head", "tail", "wc", "grep",
    "date", "uname", "pwd", "mv", "cp", "ln", "chmod", "kill", "top", "df", "free", "seq",
    "yes", "whoami", "cut", "sort", "uniq", "tr", "find", "stat", "mount", "ip", "ifconfig",
    "nslookup", "nc", "httpd", "vi", "which", "basename", "dirname", "test", "[", "expr",
    "tee", "xargs", "du", "sed", "awk", "tar", "gzip", "md5sum", "sha256sum", "stress",
)  # fmt: skip
"""Applets linked to ``/bin/busybox`` (the kernel dispatches on the link's name)."""

# Alpine keeps these in /bin; every other applet lives in /usr/bin.
_ALPINE_BIN: frozenset[str] = frozenset(
    [
        "sh",
        "cat",
        "chmod",
        "cp",
        "date",
        "df",
        "echo",
        "false",
        "grep",
        "hostname",
        "kill",
        "ln",
        "ls",
        "mkdir",
        "mount",
        "mv",
        "ping",
        "ps",
        "pwd",
        "rm",
        "rmdir",
        "sed",
        "sleep",
        "stat",
        "touch",
        "true",
        "uname",
        "gzip",
        "tar",
    ]
)

DEBIAN_UTILITIES: tuple[str, ...] = (
    "cat", "chmod", "cp", "cut", "date", "df", "du", "echo", "env", "false", "head", "id",
    "ln", "ls", "mkdir", "mv", "printf", "pwd", "rm", "rmdir", "seq", "sleep", "sort", "stat",
    "tail", "tee", "touch", "tr", "true", "uname", "uniq", "wc", "whoami", "yes", "basename",
    "dirname", "test", "[", "expr", "md5sum", "sha256sum", "xargs", "find", "grep", "sed",
    "awk", "tar", "gzip", "hostname", "mount", "kill", "which",
)  # fmt: skip
"""Utilities a Debian slim image has, each a separate ``coreutils`` executable."""

UBUNTU_EXTRA_UTILITIES: tuple[str, ...] = ("ps", "top", "free")
"""Ubuntu's base image ships procps; Debian's does not."""

STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""Docker's default PATH, set by most official images."""

User = tuple[str, int, int, str, str]
"""(name, uid, gid, home, shell)."""

DEBIAN_USERS: tuple[User, ...] = (
    ("root", 0, 0, "/root", "/bin/bash"),
    ("daemon", 1, 1, "/usr/sbin", "/usr/sbin/nologin"),
    ("bin", 2, 2, "/bin", "/usr/sbin/nologin"),
    ("sys", 3, 3, "/dev", "/usr/sbin/nologin"),
    ("sync", 4, 65534, "/bin", "/bin/sync"),
    ("games", 5, 60, "/usr/games", "/usr/sbin/nologin"),
    ("man", 6, 12, "/var/cache/man", "/usr/sbin/nologin"),
    ("lp", 7, 7, "/var/spool/lpd", "/usr/sbin/nologin"),
    ("mail", 8, 8, "/var/mail", "/usr/sbin/nologin"),
    ("news", 9, 9, "/var/spool/news", "/usr/sbin/nologin"),
    ("uucp", 10, 10, "/var/spool/uucp", "/usr/sbin/nologin"),
    ("proxy", 13, 13, "/bin", "/usr/sbin/nologin"),
    ("www-data", 33, 33, "/var/www", "/usr/sbin/nologin"),
    ("backup", 34, 34, "/var/backups", "/usr/sbin/nologin"),
    ("list", 38, 38, "/var/list", "/usr/sbin/nologin"),
    ("irc", 39, 39, "/run/ircd", "/usr/sbin/nologin"),
    ("_apt", 42, 65534, "/nonexistent", "/usr/sbin/nologin"),
    ("nobody", 65534, 65534, "/nonexistent", "/usr/sbin/nologin"),
)
DEBIAN_GROUPS: tuple[tuple[str, int], ...] = (
    ("root", 0), ("daemon", 1), ("bin", 2), ("sys", 3), ("adm", 4), ("tty", 5), ("disk", 6),
    ("lp", 7), ("mail", 8), ("news", 9), ("uucp", 10), ("man", 12), ("proxy", 13),
    ("kmem", 15), ("dialout", 20), ("cdrom", 24), ("sudo", 27), ("audio", 29),
    ("www-data", 33), ("backup", 34), ("list", 38), ("irc", 39), ("staff", 50),
    ("games", 60), ("users", 100), ("nogroup", 65534),
)  # fmt: skip
UBUNTU_USERS: tuple[User, ...] = (
    *DEBIAN_USERS[:-1],
    ("nobody", 65534, 65534, "/nonexistent", "/usr/sbin/nologin"),
    ("ubuntu", 1000, 1000, "/home/ubuntu", "/bin/bash"),
)
UBUNTU_GROUPS: tuple[tuple[str, int], ...] = (*DEBIAN_GROUPS, ("ubuntu", 1000))
ALPINE_USERS: tuple[User, ...] = (
    ("root", 0, 0, "/root", "/bin/sh"),
    ("bin", 1, 1, "/bin", "/sbin/nologin"),
    ("daemon", 2, 2, "/sbin", "/sbin/nologin"),
    ("lp", 4, 7, "/var/spool/lpd", "/sbin/nologin"),
    ("sync", 5, 0, "/sbin", "/bin/sync"),
    ("mail", 8, 12, "/var/mail", "/sbin/nologin"),
    ("operator", 11, 0, "/root", "/sbin/nologin"),
    ("ftp", 21, 21, "/var/lib/ftp", "/sbin/nologin"),
    ("guest", 405, 100, "/dev/null", "/sbin/nologin"),
    ("nobody", 65534, 65534, "/", "/sbin/nologin"),
)
ALPINE_GROUPS: tuple[tuple[str, int], ...] = (
    ("root", 0), ("bin", 1), ("daemon", 2), ("sys", 3), ("adm", 4), ("tty", 5), ("disk", 6),
    ("lp", 7), ("kmem", 9), ("wheel", 10), ("mail", 12), ("ftp", 21), ("users", 100),
    ("www-data", 82), ("nogroup", 65533), ("nobody", 65534),
)  # fmt: skip
BUSYBOX_USERS: tuple[User, ...] = (
    ("root", 0, 0, "/root", "/bin/sh"),
    ("daemon", 1, 1, "/usr/sbin", "/bin/false"),
    ("bin", 2, 2, "/bin", "/bin/false"),
    ("sys", 3, 3, "/dev", "/bin/false"),
    ("sync", 100, 100, "/bin", "/bin/sync"),
    ("mail", 8, 8, "/var/spool/mail", "/bin/false"),
    ("www-data", 33, 33, "/var/www", "/bin/false"),
    ("operator", 37, 37, "/var", "/bin/false"),
    ("nobody", 65534, 65534, "/home", "/bin/false"),
)
BUSYBOX_GROUPS: tuple[tuple[str, int], ...] = (
    ("root", 0), ("daemon", 1), ("bin", 2), ("sys", 3), ("adm", 4), ("tty", 5), ("disk", 6),
    ("wheel", 10), ("mail", 8), ("www-data", 33), ("operator", 37), ("staff", 50),
    ("users", 100), ("nogroup", 65534),
)  # fmt: skip


def passwd_file(users: Iterable[User]) -> bytes:
    """Render ``/etc/passwd`` lines ``name:x:uid:gid:name:home:shell``."""
    lines = [f"{n}:x:{uid}:{gid}:{n}:{home}:{shell}\n" for n, uid, gid, home, shell in users]
    return "".join(lines).encode()


def group_file(groups: Iterable[tuple[str, int]]) -> bytes:
    """Render ``/etc/group`` lines ``name:x:gid:``."""
    return "".join(f"{name}:x:{gid}:\n" for name, gid in groups).encode()


def account_files(users: Iterable[User], groups: Iterable[tuple[str, int]]) -> list[LayerEntry]:
    """``/etc/passwd`` and ``/etc/group`` (a later layer rewrites them whole to add a user)."""
    return [
        LayerEntry.file("etc/passwd", passwd_file(users)),
        LayerEntry.file("etc/group", group_file(groups)),
    ]


def os_release(fields: Sequence[tuple[str, str]]) -> LayerEntry:
    """``/etc/os-release`` from ``(key, value)`` pairs; values with spaces are quoted."""
    body = "".join(f'{k}="{v}"\n' if " " in v or "/" in v else f"{k}={v}\n" for k, v in fields)
    return LayerEntry.file("etc/os-release", body)


def skeleton(extra_dirs: Iterable[str] = ()) -> list[LayerEntry]:
    """The directories every root filesystem has (``/proc``, ``/dev``, ``/sys`` stay empty)."""
    dirs = ["home", "etc", "usr", "usr/local/bin", "var", "var/log", "mnt", "opt", "run"]
    entries = [LayerEntry.directory(d) for d in (*dirs, *extra_dirs)]
    entries += [LayerEntry.directory("tmp", 0o1777), LayerEntry.directory("root", 0o700)]
    entries += [LayerEntry.directory(d, 0o555) for d in ("proc", "sys")]
    entries.append(LayerEntry.directory("dev"))
    return entries


def busybox_rootfs(flavour: str) -> list[LayerEntry]:
    """The busybox image: one binary, every applet a hard link to it (no os-release, as real)."""
    entries = skeleton(["bin", "var/spool/mail", "var/www", "usr/sbin"])
    entries.append(LayerEntry.executable("bin/busybox", "busybox"))
    entries += [LayerEntry.hardlink(f"bin/{a}", "bin/busybox") for a in BUSYBOX_APPLETS]
    entries += account_files(BUSYBOX_USERS, BUSYBOX_GROUPS)
    # The libc flavour is the only visible difference between busybox variants.
    entries.append(LayerEntry.file("etc/busybox-flavour", f"{flavour}\n"))
    return entries


def alpine_rootfs(version: str) -> list[LayerEntry]:
    """Alpine: busybox with symlinked applets, musl, apk's files."""
    minor = ".".join(version.split(".")[:2])
    entries = skeleton(["bin", "sbin", "lib", "usr/bin", "usr/sbin", "etc/apk", "srv", "media"])
    entries.append(LayerEntry.executable("bin/busybox", "busybox"))
    for applet in BUSYBOX_APPLETS:
        folder = "bin" if applet in _ALPINE_BIN else "usr/bin"
        entries.append(LayerEntry.symlink(f"{folder}/{applet}", "/bin/busybox"))
    entries.append(LayerEntry.symlink("bin/ash", "/bin/busybox"))
    entries += account_files(ALPINE_USERS, ALPINE_GROUPS)
    entries.append(LayerEntry.file("etc/alpine-release", f"{version}\n"))
    entries.append(
        LayerEntry.file(
            "etc/apk/repositories",
            f"https://dl-cdn.alpinelinux.org/alpine/v{minor}/main\n"
            f"https://dl-cdn.alpinelinux.org/alpine/v{minor}/community\n",
        )
    )
    entries.append(LayerEntry.file("lib/ld-musl-x86_64.so.1", b"csim: musl libc\n", 0o755))
    entries.append(
        os_release(
            [
                ("NAME", "Alpine Linux"),
                ("ID", "alpine"),
                ("VERSION_ID", version),
                ("PRETTY_NAME", f"Alpine Linux v{minor}"),
                ("HOME_URL", "https://alpinelinux.org/"),
                ("BUG_REPORT_URL", "https://gitlab.alpinelinux.org/alpine/aports/-/issues"),
            ]
        )
    )
    return entries


def _merged_usr(utilities: Iterable[str]) -> list[LayerEntry]:
    entries = [
        LayerEntry.symlink("bin", "usr/bin"),
        LayerEntry.symlink("sbin", "usr/sbin"),
        LayerEntry.symlink("lib", "usr/lib"),
        LayerEntry.directory("usr/sbin"),
        LayerEntry.directory("usr/lib"),
        LayerEntry.executable("usr/bin/dash", "sh"),
        LayerEntry.executable("usr/bin/bash", "sh"),
        LayerEntry.symlink("usr/bin/sh", "dash"),
    ]
    entries += [LayerEntry.executable(f"usr/bin/{u}", "coreutils") for u in utilities]
    return entries


def debian_rootfs(version: str, codename: str, slim: bool) -> list[LayerEntry]:
    """Debian: merged /usr, dash as /bin/sh, bash, coreutils; no ps, ping or ip."""
    major = version.split(".", maxsplit=1)[0]
    entries = skeleton(["var/www", "var/lib", "srv", "media"])
    entries += _merged_usr(DEBIAN_UTILITIES)
    entries += account_files(DEBIAN_USERS, DEBIAN_GROUPS)
    entries.append(LayerEntry.file("etc/debian_version", f"{version}\n"))
    entries.append(
        os_release(
            [
                ("PRETTY_NAME", f"Debian GNU/Linux {major} ({codename})"),
                ("NAME", "Debian GNU/Linux"),
                ("VERSION_ID", major),
                ("VERSION", f"{major} ({codename})"),
                ("VERSION_CODENAME", codename),
                ("ID", "debian"),
                ("HOME_URL", "https://www.debian.org/"),
                ("SUPPORT_URL", "https://www.debian.org/support"),
                ("BUG_REPORT_URL", "https://bugs.debian.org/"),
            ]
        )
    )
    if not slim:
        # What the slim variant strips: documentation and manual pages.
        entries.append(LayerEntry.file("usr/share/doc/debian/README", "Debian documentation\n"))
        entries.append(LayerEntry.directory("usr/share/man/man1"))
    return entries


def ubuntu_rootfs(version: str, point: str, codename: str) -> list[LayerEntry]:
    """Ubuntu: like Debian, plus procps (ps, top, free) and the ``ubuntu`` user (24.04+)."""
    entries = skeleton(["var/lib", "srv", "media"])
    entries += _merged_usr(DEBIAN_UTILITIES + UBUNTU_EXTRA_UTILITIES)
    has_user = version >= "24.04"
    users = UBUNTU_USERS if has_user else DEBIAN_USERS
    groups = UBUNTU_GROUPS if has_user else DEBIAN_GROUPS
    entries += account_files(users, groups)
    if has_user:
        entries.append(LayerEntry.directory("home/ubuntu", 0o750, 1000, 1000))
    entries.append(LayerEntry.file("etc/debian_version", f"{codename}/sid\n"))
    entries.append(
        os_release(
            [
                ("PRETTY_NAME", f"Ubuntu {point} LTS"),
                ("NAME", "Ubuntu"),
                ("VERSION_ID", version),
                ("VERSION", f"{point} LTS ({codename.capitalize()} Numbat)"),
                ("VERSION_CODENAME", codename),
                ("ID", "ubuntu"),
                ("ID_LIKE", "debian"),
                ("HOME_URL", "https://www.ubuntu.com/"),
                ("SUPPORT_URL", "https://help.ubuntu.com/"),
                ("BUG_REPORT_URL", "https://bugs.launchpad.net/ubuntu/"),
                ("UBUNTU_CODENAME", codename),
            ]
        )
    )
    return entries


def with_user(
    users: Sequence[User],
    groups: Sequence[tuple[str, int]],
    name: str,
    uid: int,
    gid: int,
    home: str,
    shell: str = "/bin/false",
) -> list[LayerEntry]:
    """Rewritten ``/etc/passwd`` and ``/etc/group`` adding one system user (``useradd``)."""
    return account_files([*users, (name, uid, gid, home, shell)], [*groups, (name, gid)])


def script(path: str, body: str) -> LayerEntry:
    """A ``#!/bin/sh`` script (mode 0755) the kernel runs with the shell."""
    return LayerEntry.file(path, "#!/bin/sh\n" + body, 0o755)


def placeholder(path: str, what: str) -> LayerEntry:
    """A small stand-in for the bulk of a layer (libraries, docs) that the model sizes."""
    return LayerEntry.file(path, f"csim: stands for {what}\n")
