"""Servers of the official images: nginx, httpd, redis-server, postgres.

Each prints the startup lines the real image prints, listens on its port
through the kernel (so ``wget`` from another container gets a page), logs
requests in its own format, and handles the signals the real server handles
(``docker stop`` sends nginx's SIGQUIT, httpd's SIGWINCH, SIGTERM to the
others) by exiting 0. A server without a handler for a signal, as PID 1,
ignores it, exactly as the kernel rule says.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from simulator.runtime.sim.kernel import HttpRequest, HttpResponse
from simulator.runtime.sim.process import SIGINT, SIGQUIT, SIGTERM, SIGWINCH, Process
from simulator.runtime.sim.programs.base import Gen, program
from simulator.runtime.sim.vfs import FsError

_FOREVER = 1e12
NGINX_VERSION = "1.27.2"


def _stamp(proc: Process, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(proc.wall))


def serve_files(
    proc: Process, root: str, index: str, log: Callable[[HttpRequest, int, int], None]
) -> Callable[[HttpRequest], HttpResponse]:
    """An HTTP handler serving ``root`` from the container's filesystem."""

    def handler(req: HttpRequest) -> HttpResponse:
        path = req.path.split("?", 1)[0]
        target = root.rstrip("/") + (path if path.startswith("/") else "/" + path)
        try:
            node = proc.fs.lookup(target)
            if node.kind == "dir":
                node = proc.fs.lookup(target.rstrip("/") + "/" + index)
            body = node.data
            status, reason = 200, "OK"
        except FsError:
            body = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                    b"<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n")  # fmt: skip
            status, reason = 404, "Not Found"
        log(req, status, len(body))
        return HttpResponse(status, reason, body)

    return handler


def _exit_with(code: int, before: Callable[[int], None]) -> Callable[[int], int | None]:
    def handler(sig: int) -> int | None:
        before(sig)
        return code

    return handler


@program("nginx")
def nginx(proc: Process) -> Gen:
    args = proc.argv[1:]
    if "-v" in args or "-V" in args:
        proc.err(f"nginx version: nginx/{NGINX_VERSION}\n")
        return 0
    if "-t" in args:
        proc.err("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
                 "nginx: configuration file /etc/nginx/nginx.conf test is successful\n")  # fmt: skip
        return 0

    def notice(text: str) -> None:
        proc.err(f"{_stamp(proc, '%Y/%m/%d %H:%M:%S')} [notice] {proc.pid}#{proc.pid}: {text}\n")

    notice('using the "epoll" event method')
    notice(f"nginx/{NGINX_VERSION}")
    notice("built by gcc 12.2.0 (Debian 12.2.0-14) ")
    notice(f"OS: Linux {proc.kernel.params.kernel_release}")
    notice("getrlimit(RLIMIT_NOFILE): 1048576:1048576")
    notice("start worker processes")
    workers = min(proc.kernel.params.host_cpus, 2)
    for k in range(workers):
        notice(f"start worker process {proc.pid + 28 + k}")
    proc.alloc(3 * 1024 * 1024)

    def access(req: HttpRequest, status: int, size: int) -> None:
        when = _stamp(proc, "%d/%b/%Y:%H:%M:%S +0000")
        proc.out(f'{req.client_ip} - - [{when}] "{req.method} {req.path} HTTP/1.1" {status} {size} '
                 f'"-" "{req.user_agent}" "-"\n')  # fmt: skip

    proc.kernel.listen(proc, 80, serve_files(proc, "/usr/share/nginx/html", "index.html", access))

    def shutdown(sig: int) -> None:
        name = {SIGQUIT: "SIGQUIT", SIGTERM: "SIGTERM", SIGINT: "SIGINT"}[sig]
        verb = "shutting down" if sig == SIGQUIT else "exiting"
        notice(f"signal {sig} ({name}) received, {verb}")
        for k in range(workers):
            notice(f"signal 17 (SIGCHLD) received from {proc.pid + 28 + k}")
            notice(f"worker process {proc.pid + 28 + k} exited with code 0")
        notice("exit")

    for sig in (SIGQUIT, SIGTERM, SIGINT):
        proc.on_signal(sig, _exit_with(0, shutdown))
    yield from proc.sleep(_FOREVER)
    return 0


@program("httpd")
def httpd(proc: Process) -> Gen:
    ip = proc.kernel.own_ip(proc.container)
    msg = (f"AH00558: httpd: Could not reliably determine the server's fully qualified domain name, "
           f"using {ip}. Set the 'ServerName' directive globally to suppress this message\n")  # fmt: skip
    proc.err(msg)
    proc.err(msg)

    def log(level: str, text: str) -> None:
        when = _stamp(proc, "%a %b %d %H:%M:%S.000000 %Y")
        proc.err(f"[{when}] [{level}] [pid {proc.pid}:tid {proc.pid}] {text}\n")

    log("mpm_event:notice", "AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations")
    log("core:notice", "AH00094: Command line: 'httpd -D FOREGROUND'")
    proc.alloc(4 * 1024 * 1024)

    def access(req: HttpRequest, status: int, size: int) -> None:
        when = _stamp(proc, "%d/%b/%Y:%H:%M:%S +0000")
        proc.out(f'{req.client_ip} - - [{when}] "{req.method} {req.path} HTTP/1.1" {status} {size}\n')

    proc.kernel.listen(proc, 80, serve_files(proc, "/usr/local/apache2/htdocs", "index.html", access))

    def stop(sig: int) -> None:
        graceful = sig == SIGWINCH
        log("mpm_event:notice", "AH00492: caught SIGWINCH, shutting down gracefully" if graceful
            else "AH00491: caught SIGTERM, shutting down")  # fmt: skip

    for sig in (SIGTERM, SIGWINCH, SIGINT):
        proc.on_signal(sig, _exit_with(0, stop))
    yield from proc.sleep(_FOREVER)
    return 0


@program("redis-server")
def redis_server(proc: Process) -> Gen:
    version = proc.env.get("REDIS_VERSION", "7.4.1")
    pid = proc.pid

    def line(role: str, mark: str, text: str) -> None:
        proc.out(f"{pid}:{role} {_stamp(proc, '%d %b %Y %H:%M:%S.000')} {mark} {text}\n")

    if "--version" in proc.argv or "-v" in proc.argv:
        proc.out(f"Redis server v={version} sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=0\n")
        return 0
    line("C", "*", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
    line("C", "*", f"Redis version={version}, bits=64, commit=00000000, modified=0, pid={pid}, "
                   "just started")  # fmt: skip
    line("C", "#", "Warning: no config file specified, using the default config. In order to "
                   "specify a config file use redis-server /path/to/redis.conf")  # fmt: skip
    line("M", "*", "monotonic clock: POSIX clock_gettime")
    line("M", "*", "Running mode=standalone, port=6379.")
    line("M", "*", "Server initialized")
    line("M", "*", "Ready to accept connections tcp")
    proc.alloc(8 * 1024 * 1024)
    proc.kernel.listen(proc, 6379, None)

    def shutdown(sig: int) -> None:
        name = "SIGTERM" if sig == SIGTERM else "SIGINT"
        proc.out(f"{pid}:signal-handler ({int(proc.wall)}) Received {name} scheduling shutdown...\n")
        line("M", "*", "User requested shutdown...")
        line("M", "*", "Saving the final RDB snapshot before exiting.")
        try:
            proc.fs.write("/data/dump.rdb", b"REDIS0011", proc.cwd, uid=proc.uid, gid=proc.gid)
        except FsError:
            pass
        line("M", "*", "DB saved on disk")
        line("M", "#", "Redis is now ready to exit, bye bye...")

    for sig in (SIGTERM, SIGINT):
        proc.on_signal(sig, _exit_with(0, shutdown))
    yield from proc.sleep(_FOREVER)
    return 0


_PG_NO_PASSWORD = """Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html
"""


@program("postgres")
def postgres(proc: Process) -> Gen:
    data_dir = proc.env.get("PGDATA", "/var/lib/postgresql/data")
    major = proc.env.get("PG_MAJOR", "17")
    initialised = proc.fs.exists(f"{data_dir}/PG_VERSION")
    if not initialised:
        if not proc.env.get("POSTGRES_PASSWORD") and proc.env.get("POSTGRES_HOST_AUTH_METHOD") != "trust":
            proc.err(_PG_NO_PASSWORD)
            return 1
        proc.out("The files belonging to this database system will be owned by user \"postgres\".\n"
                 "This user must also own the server process.\n\n"
                 "The database cluster will be initialized with locale \"en_US.utf8\".\n"
                 "fixing permissions on existing directory " + data_dir + " ... ok\n"
                 "creating subdirectories ... ok\n"
                 "performing post-bootstrap initialization ... ok\n"
                 "syncing data to disk ... ok\n\n"
                 "Success. You can now start the database server using:\n\n"
                 f"    pg_ctl -D {data_dir} -l logfile start\n\n"
                 "PostgreSQL init process complete; ready for start up.\n\n")  # fmt: skip
        yield from proc.cpu(0.8)
        try:
            proc.fs.write(f"{data_dir}/PG_VERSION", f"{major}\n".encode(), uid=proc.uid, gid=proc.gid)
        except FsError:
            pass
    else:
        proc.out("\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n")

    def log(text: str) -> None:
        proc.err(f"{_stamp(proc, '%Y-%m-%d %H:%M:%S.000 UTC')} [{proc.pid}] LOG:  {text}\n")

    log(f"starting PostgreSQL {major}.0 (Debian {major}.0-1.pgdg120+1) on x86_64-pc-linux-gnu")
    log('listening on IPv4 address "0.0.0.0", port 5432')
    log('listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"')
    log("database system is ready to accept connections")
    proc.alloc(20 * 1024 * 1024)
    proc.kernel.listen(proc, 5432, None)

    def shutdown(sig: int) -> None:
        kind = "smart" if sig == SIGTERM else "fast"
        log(f"received {kind} shutdown request")
        log("shutting down")
        log("database system is shut down")

    for sig in (SIGTERM, SIGINT):
        proc.on_signal(sig, _exit_with(0, shutdown))
    yield from proc.sleep(_FOREVER)
    return 0


@program("psql")
def psql(proc: Process) -> Gen:
    proc.err('psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" '
             "failed: No such file or directory\n")  # fmt: skip
    return 2
    yield  # pragma: no cover
