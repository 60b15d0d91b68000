"""File applets: ls, touch, rm, mkdir, rmdir, mv, cp, ln, chmod, chown, stat, which, df."""

from __future__ import annotations

import time

from simulator.runtime.sim.inode import DIR, SYMLINK, Inode, deep_copy
from simulator.runtime.sim.process import Process
from simulator.runtime.sim.programs.base import Gen, applet, applet_name, split_opts
from simulator.runtime.sim.vfs import FsError

_KIND_CHAR = {DIR: "d", SYMLINK: "l"}


def mode_string(node: Inode) -> str:
    bits = node.mode
    out = _KIND_CHAR.get(node.kind, "-")
    for shift in (6, 3, 0):
        trio = (bits >> shift) & 7
        out += ("r" if trio & 4 else "-") + ("w" if trio & 2 else "-") + ("x" if trio & 1 else "-")
    return out


def _names(proc: Process, path: str, key: str) -> dict[int, str]:
    try:
        text = proc.fs.read(path).decode(errors="replace")
    except FsError:
        return {}
    out: dict[int, str] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[2].isdigit():
            out.setdefault(int(fields[2]), fields[0])
    return out


def _ls_time(mtime: float, now: float) -> str:
    t = time.gmtime(mtime)
    if abs(now - mtime) > 183 * 86400:
        return time.strftime("%b %e  %Y", t)
    return time.strftime("%b %e %H:%M", t)


@applet("ls")
def ls(proc: Process) -> Gen:
    opts, paths = split_opts(proc.argv)
    long_fmt = "l" in opts
    show_all = "a" in opts or "A" in opts
    users = _names(proc, "/etc/passwd", "u") if long_fmt else {}
    groups = _names(proc, "/etc/group", "g") if long_fmt else {}
    code = 0
    targets = paths or ["."]
    files: list[tuple[str, Inode]] = []
    dirs: list[tuple[str, Inode]] = []
    for path in targets:
        try:
            node = proc.fs.lookup(path, proc.cwd, follow=not long_fmt or path.endswith("/"))
            if node.kind == SYMLINK and not long_fmt:
                node = proc.fs.lookup(path, proc.cwd)
        except FsError as exc:
            proc.err(f"ls: {path}: {exc.strerror}\n")
            code = 1
            continue
        if node.kind == SYMLINK and long_fmt:
            try:
                if proc.fs.lookup(path, proc.cwd).kind == DIR and path.endswith("/"):
                    node = proc.fs.lookup(path, proc.cwd)
            except FsError:
                pass
        (dirs if node.kind == DIR and "d" not in opts else files).append((path, node))

    def line(name: str, node: Inode) -> str:
        if not long_fmt:
            return name
        user = users.get(node.uid, str(node.uid))
        group = groups.get(node.gid, str(node.gid))
        nlink = 2 + sum(1 for c in (node.children or {}).values() if c.kind == DIR) if node.kind == DIR else 1
        text = (f"{mode_string(node)} {nlink:>4} {user:<8} {group:<8} {node.size:>9} "
                f"{_ls_time(node.mtime, proc.wall)} {name}")  # fmt: skip
        if node.kind == SYMLINK:
            text += f" -> {node.target}"
        return text

    def emit(entries: list[tuple[str, Inode]]) -> None:
        if not entries:
            return
        if True:
            proc.out("".join(line(n, e) + "\n" for n, e in entries))

    emit(sorted(files))
    for k, (path, node) in enumerate(dirs):
        if len(targets) > 1:
            proc.out(f"{chr(10) if k or files else ''}{path}:\n")
        names = sorted(node.entries)
        entries = [(n, node.entries[n]) for n in names if show_all or not n.startswith(".")]
        if "a" in opts:
            entries = [(".", node), ("..", node), *entries]
        if long_fmt:
            total = sum((e.size + 1023) // 1024 for _, e in entries if e.kind != DIR)
            proc.out(f"total {total}\n")
        emit(entries)
    return code
    yield  # pragma: no cover


@applet("touch")
def touch(proc: Process) -> Gen:
    _, paths = split_opts(proc.argv)
    code = 0
    for path in paths:
        try:
            proc.fs.touch(path, proc.cwd, proc.uid, proc.gid)
        except FsError as exc:
            proc.err(f"touch: {path}: {exc.strerror}\n")
            code = 1
    return code
    yield  # pragma: no cover


@applet("rm")
def rm(proc: Process) -> Gen:
    opts, paths = split_opts(proc.argv)
    recursive = "r" in opts or "R" in opts
    force = "f" in opts
    code = 0
    for path in paths:
        try:
            node = proc.fs.resolve(path, proc.cwd, follow=False)[1]
            if node is None:
                raise FsError("ENOENT")
            if node.kind == DIR:
                if not recursive:
                    proc.err(f"rm: '{path}' is a directory\n")
                    code = 1
                    continue
                proc.fs.remove_tree(path, proc.cwd)
            else:
                proc.fs.unlink(path, proc.cwd)
        except FsError as exc:
            if force and exc.errno == "ENOENT":
                continue
            proc.err(f"rm: can't remove '{path}': {exc.strerror}\n")
            code = 1
    return code
    yield  # pragma: no cover


@applet("mkdir")
def mkdir(proc: Process) -> Gen:
    opts, paths = split_opts(proc.argv, "m")
    mode = int(opts["m"], 8) if opts.get("m") else 0o755
    code = 0
    for path in paths:
        try:
            proc.fs.mkdir(path, proc.cwd, parents="p" in opts, mode=mode, uid=proc.uid, gid=proc.gid)
        except FsError as exc:
            proc.err(f"mkdir: can't create directory '{path}': {exc.strerror}\n")
            code = 1
    return code
    yield  # pragma: no cover


@applet("rmdir")
def rmdir(proc: Process) -> Gen:
    _, paths = split_opts(proc.argv)
    code = 0
    for path in paths:
        try:
            proc.fs.rmdir(path, proc.cwd)
        except FsError as exc:
            proc.err(f"rmdir: '{path}': {exc.strerror}\n")
            code = 1
    return code
    yield  # pragma: no cover


@applet("mv")
def mv(proc: Process) -> Gen:
    _, paths = split_opts(proc.argv)
    if len(paths) < 2:
        proc.err("mv: missing operand\n" if not paths else f"mv: missing destination file operand after '{paths[0]}'\n")
        return 1
    code = 0
    for src in paths[:-1]:
        try:
            proc.fs.rename(src, paths[-1], proc.cwd)
        except FsError as exc:
            proc.err(f"mv: can't rename '{src}': {exc.strerror}\n")
            code = 1
    return code
    yield  # pragma: no cover


@applet("cp")
def cp(proc: Process) -> Gen:
    opts, paths = split_opts(proc.argv)
    if len(paths) < 2:
        proc.err("cp: missing file operand\n")
        return 1
    fs = proc.fs
    code = 0
    dest = paths[-1]
    for src in paths[:-1]:
        try:
            node = fs.lookup(src, proc.cwd)
            target = dest
            if fs.is_dir(dest, proc.cwd):
                target = f"{dest.rstrip('/')}/{src.rstrip('/').rsplit('/', 1)[-1]}"
            if node.kind == DIR:
                if not ("r" in opts or "R" in opts or "a" in opts):
                    proc.err(f"cp: omitting directory '{src}'\n")
                    code = 1
                    continue
                _copy_tree(proc, node, target)
            else:
                fs.write(target, node.data, proc.cwd, uid=proc.uid, gid=proc.gid, mode=node.mode)
        except FsError as exc:
            proc.err(f"cp: can't stat '{src}': {exc.strerror}\n")
            code = 1
    return code
    yield  # pragma: no cover


def _copy_tree(proc: Process, node: Inode, target: str) -> None:
    fs = proc.fs
    if not fs.exists(target, proc.cwd):
        fs.mkdir(target, proc.cwd, mode=node.mode, uid=proc.uid, gid=proc.gid)
    for name, child in sorted(node.entries.items()):
        sub = f"{target.rstrip('/')}/{name}"
        if child.kind == DIR:
            _copy_tree(proc, child, sub)
        elif child.kind == SYMLINK:
            fs.symlink(child.target, sub, proc.cwd, proc.uid, proc.gid)
        else:
            fs.write(sub, child.data, proc.cwd, uid=proc.uid, gid=proc.gid, mode=child.mode)


@applet("ln")
def ln(proc: Process) -> Gen:
    opts, paths = split_opts(proc.argv)
    if len(paths) < 2:
        proc.err("ln: missing operand\n")
        return 1
    target, link = paths[0], paths[1]
    if proc.fs.is_dir(link, proc.cwd):
        link = f"{link.rstrip('/')}/{target.rstrip('/').rsplit('/', 1)[-1]}"
    try:
        if "f" in opts and proc.fs.resolve(link, proc.cwd, follow=False)[1] is not None:
            proc.fs.unlink(link, proc.cwd)
        if "s" in opts:
            proc.fs.symlink(target, link, proc.cwd, proc.uid, proc.gid)
        else:
            proc.fs.link(target, link, proc.cwd)
    except FsError as exc:
        proc.err(f"ln: {link}: {exc.strerror}\n")
        return 1
    return 0
    yield  # pragma: no cover


@applet("chmod")
def chmod(proc: Process) -> Gen:
    args = proc.argv[1:]
    if len(args) < 2:
        proc.err("chmod: missing operand\n")
        return 1
    spec, paths = args[0], args[1:]
    code = 0
    for path in paths:
        try:
            node = proc.fs.lookup(path, proc.cwd)
            proc.fs.chmod(path, _apply_mode(spec, node.mode), proc.cwd)
        except (FsError, ValueError) as exc:
            msg = exc.strerror if isinstance(exc, FsError) else f"invalid mode '{spec}'"
            proc.err(f"chmod: {path}: {msg}\n")
            code = 1
    return code
    yield  # pragma: no cover


def _apply_mode(spec: str, mode: int) -> int:
    if spec.isdigit():
        return int(spec, 8)
    for clause in spec.split(","):
        who = ""
        i = 0
        while i < len(clause) and clause[i] in "ugoa":
            who += clause[i]
            i += 1
        if i >= len(clause) or clause[i] not in "+-=":
            raise ValueError(spec)
        op, perms = clause[i], clause[i + 1 :]
        who = who or "a"
        bits = 0
        for p in perms:
            val = {"r": 4, "w": 2, "x": 1}.get(p, 0)
            for w in who:
                for target in "ugo" if w == "a" else w:
                    bits |= val << {"u": 6, "g": 3, "o": 0}[target]
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = 0
            for w in who:
                for target in "ugo" if w == "a" else w:
                    mask |= 7 << {"u": 6, "g": 3, "o": 0}[target]
            mode = (mode & ~mask) | bits
    return mode


@applet("chown")
def chown(proc: Process) -> Gen:
    args = [a for a in proc.argv[1:] if not a.startswith("-")]
    if len(args) < 2:
        proc.err("chown: missing operand\n")
        return 1
    user, _, group = args[0].partition(":")
    users = {v: k for k, v in _names(proc, "/etc/passwd", "u").items()}
    groups = {v: k for k, v in _names(proc, "/etc/group", "g").items()}
    uid = int(user) if user.isdigit() else users.get(user, -1)
    gid = int(group) if group.isdigit() else groups.get(group, uid if not group else -1)
    if uid < 0 or gid < 0:
        proc.err(f"chown: unknown user/group {args[0]}\n")
        return 1
    for path in args[1:]:
        try:
            proc.fs.chown(path, uid, gid, proc.cwd)
        except FsError as exc:
            proc.err(f"chown: {path}: {exc.strerror}\n")
            return 1
    return 0
    yield  # pragma: no cover


@applet("stat")
def stat(proc: Process) -> Gen:
    _, paths = split_opts(proc.argv)
    code = 0
    for path in paths:
        try:
            node = proc.fs.lookup(path, proc.cwd, follow=False)
        except FsError as exc:
            proc.err(f"stat: can't stat '{path}': {exc.strerror}\n")
            code = 1
            continue
        kind = {DIR: "directory", SYMLINK: "symbolic link"}.get(
            node.kind, "regular file" if node.size else "regular empty file"
        )
        when = time.strftime("%Y-%m-%d %H:%M:%S.000000000 +0000", time.gmtime(node.mtime))
        name = f"'{path}' -> '{node.target}'" if node.kind == SYMLINK else f"'{path}'"
        proc.out(f"  File: {name}\n  Size: {node.size:<15} Blocks: {(node.size + 511) // 512:<10} "
                 f"IO Block: 4096   {kind}\n"
                 f"Access: (0{node.mode:03o}/{mode_string(node)})  Uid: ({node.uid:>5}/    root)"
                 f"   Gid: ({node.gid:>5}/    root)\n"
                 f"Modify: {when}\n")  # fmt: skip
    return code
    yield  # pragma: no cover


@applet("which")
def which(proc: Process) -> Gen:
    from simulator.runtime.sim.kernel import ExecError

    code = 0
    for name in proc.argv[1:]:
        try:
            proc.out(proc.kernel.find_executable(proc.fs, name, proc.env.get("PATH", ""), proc.cwd) + "\n")
        except ExecError:
            code = 1
    return code
    yield  # pragma: no cover


@applet("df")
def df(proc: Process) -> Gen:
    size = 61_255_492
    used = 9_876_543 + sum(len(n.data) for n in _files(proc.fs.root)) // 1024
    rows = [("overlay", size, used, "/"), ("tmpfs", 65536, 0, "/dev"), ("shm", 65536, 0, "/dev/shm")]
    rows += [(m.kind if m.kind == "tmpfs" else "/dev/sda1", size, used, d)
             for d, m in sorted(proc.fs.mounts.items())]  # fmt: skip
    proc.out("Filesystem           1K-blocks      Used Available Use% Mounted on\n")
    for fsname, total, u, where in rows:
        pct = f"{(u * 100 + total - 1) // total}%"
        proc.out(f"{fsname:<20}{total:>10}{u:>10}{total - u:>10}{pct:>5} {where}\n")
    return 0
    yield  # pragma: no cover


def _files(node: Inode) -> list[Inode]:
    out: list[Inode] = []
    for child in (node.children or {}).values():
        if child.kind == DIR:
            out.extend(_files(child))
        else:
            out.append(child)
    return out


@applet("find")
def find(proc: Process) -> Gen:
    args = proc.argv[1:]
    roots = []
    while args and not args[0].startswith("-"):
        roots.append(args.pop(0))
    name_pat = args[args.index("-name") + 1] if "-name" in args and args.index("-name") + 1 < len(args) else None
    kind = args[args.index("-type") + 1] if "-type" in args and args.index("-type") + 1 < len(args) else None
    import fnmatch

    for root in roots or ["."]:
        try:
            node = proc.fs.lookup(root, proc.cwd)
        except FsError as exc:
            proc.err(f"find: {root}: {exc.strerror}\n")
            continue
        stack = [(root, node)]
        while stack:
            path, cur = stack.pop(0)
            base = path.rstrip("/").rsplit("/", 1)[-1]
            ok = (name_pat is None or fnmatch.fnmatchcase(base, name_pat)) and (
                kind is None or ((kind == "d") == (cur.kind == DIR) and (kind != "l" or cur.kind == SYMLINK))
            )
            if ok:
                proc.out(path + "\n")
            if cur.kind == DIR:
                stack[0:0] = [(f"{path.rstrip('/')}/{n}", c) for n, c in sorted(cur.entries.items())]
    return 0
    yield  # pragma: no cover


__all__ = ["applet_name", "deep_copy", "mode_string"]
