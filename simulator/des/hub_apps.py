"""Files the application layers of the simulated Hub images add.

Each function returns the entries of one layer of an official image
(nginx's install step, postgres's entrypoint...). Programs are executables
per the contract in :mod:`simulator.model.layer`; entrypoint scripts use only
simple sh (``set -e``, ``if``, ``echo``, ``exec "$@"``) so the virtual shell
can run them. Web pages and messages are the ones the real images serve.
"""

from __future__ import annotations

from collections.abc import Sequence

from simulator.des.hub_rootfs import User, placeholder, script, with_user
from simulator.model.layer import LayerEntry

NGINX_INDEX_HTML = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NGINX_50X_HTML = """<!DOCTYPE html>
<html>
<head>
<title>Error</title>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
</body>
</html>
"""

NGINX_CONF = """
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
"""

NGINX_DEFAULT_CONF = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""

NGINX_ENTRYPOINT = """set -e
if [ -z "$NGINX_ENTRYPOINT_QUIET_LOGS" ]; then
    echo "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
    echo "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/"
    echo "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh"
    echo "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh"
    echo "/docker-entrypoint.sh: Configuration complete; ready for start up"
fi
exec "$@"
"""

HTTPD_INDEX_HTML = "<html><body><h1>It works!</h1></body></html>\n"

HTTPD_CONF = """ServerRoot "/usr/local/apache2"
Listen 80
User www-data
Group www-data
ServerAdmin you@example.com
DocumentRoot "/usr/local/apache2/htdocs"
<Directory "/usr/local/apache2/htdocs">
    Options Indexes FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
ErrorLog /proc/self/fd/2
LogLevel warn
CustomLog /proc/self/fd/1 common
"""

HTTPD_FOREGROUND = """set -e
rm -f /usr/local/apache2/logs/httpd.pid
exec httpd -DFOREGROUND "$@"
"""

REDIS_ENTRYPOINT = """set -e
# redis: the real script drops to the redis user with gosu first.
exec "$@"
"""

POSTGRES_ENTRYPOINT = """set -e
if [ "$1" = "postgres" ]; then
    if [ -z "$POSTGRES_PASSWORD" ]; then
        if [ "$POSTGRES_HOST_AUTH_METHOD" != "trust" ]; then
            echo "Error: Database is uninitialized and superuser password is not specified." >&2
            echo "       You must specify POSTGRES_PASSWORD to a non-empty value for the" >&2
            echo "       superuser. For example, \\"-e POSTGRES_PASSWORD=password\\" on \\"docker run\\"." >&2
            exit 1
        fi
    fi
fi
exec "$@"
"""

NODE_ENTRYPOINT = """set -e
# node: the real script prepends "node" when $1 is an option or a script file.
exec "$@"
"""


def nginx_install(users: Sequence[User], groups: Sequence[tuple[str, int]]) -> list[LayerEntry]:
    """nginx's package install: the server, its config, the welcome page and the nginx user."""
    return [
        LayerEntry.executable("usr/sbin/nginx", "nginx"),
        LayerEntry.file("etc/nginx/nginx.conf", NGINX_CONF),
        LayerEntry.file("etc/nginx/conf.d/default.conf", NGINX_DEFAULT_CONF),
        LayerEntry.file("etc/nginx/mime.types", "types {\n    text/html html htm;\n}\n"),
        LayerEntry.file("usr/share/nginx/html/index.html", NGINX_INDEX_HTML),
        LayerEntry.file("usr/share/nginx/html/50x.html", NGINX_50X_HTML),
        # The official image sends its logs to the container's stdout/stderr.
        LayerEntry.symlink("var/log/nginx/access.log", "/dev/stdout"),
        LayerEntry.symlink("var/log/nginx/error.log", "/dev/stderr"),
        LayerEntry.directory("var/cache/nginx"),
        LayerEntry.directory("docker-entrypoint.d"),
        *with_user(users, groups, "nginx", 101, 101, "/nonexistent"),
    ]


def nginx_entrypoint() -> list[LayerEntry]:
    """``COPY docker-entrypoint.sh /``."""
    return [script("docker-entrypoint.sh", NGINX_ENTRYPOINT)]


def nginx_entrypoint_d(name: str) -> list[LayerEntry]:
    """``COPY <name> /docker-entrypoint.d``: one configuration hook per layer."""
    return [script(f"docker-entrypoint.d/{name}", 'set -e\necho "$0: done"\n')]


def httpd_prepare() -> list[LayerEntry]:
    """``RUN mkdir -p /usr/local/apache2`` (and the working directory)."""
    return [LayerEntry.directory("usr/local/apache2")]


def httpd_install(libc: str) -> list[LayerEntry]:
    """The Apache build: server binary, config, logs directory and the 'It works!' page."""
    return [
        placeholder("usr/local/apache2/build/config_vars.mk", f"the Apache build for {libc}"),
        LayerEntry.executable("usr/local/apache2/bin/httpd", "httpd"),
        LayerEntry.file("usr/local/apache2/conf/httpd.conf", HTTPD_CONF),
        LayerEntry.file("usr/local/apache2/htdocs/index.html", HTTPD_INDEX_HTML),
        LayerEntry.directory("usr/local/apache2/logs"),
        LayerEntry.directory("usr/local/apache2/cgi-bin"),
    ]


def httpd_foreground() -> list[LayerEntry]:
    """``COPY httpd-foreground /usr/local/bin/``."""
    return [script("usr/local/bin/httpd-foreground", HTTPD_FOREGROUND)]


def system_user(
    users: Sequence[User], groups: Sequence[tuple[str, int]], name: str, uid: int, home: str
) -> list[LayerEntry]:
    """``groupadd -r <name> && useradd -r -g <name> <name>``."""
    shell = "/bin/sh" if name == "postgres" else "/bin/false"
    return with_user(users, groups, name, uid, uid, home, shell)


def redis_install(version: str) -> list[LayerEntry]:
    """The redis build: server and CLI."""
    return [
        LayerEntry.executable("usr/local/bin/redis-server", "redis-server"),
        LayerEntry.executable("usr/local/bin/redis-cli", "redis-cli"),
        LayerEntry.symlink("usr/local/bin/redis-sentinel", "redis-server"),
        placeholder(f"usr/local/share/doc/redis-{version}", f"redis {version} sources"),
    ]


def redis_data(uid: int) -> list[LayerEntry]:
    """``RUN mkdir /data && chown redis:redis /data``."""
    return [LayerEntry.directory("data", 0o755, uid, uid)]


def redis_entrypoint() -> list[LayerEntry]:
    """``COPY docker-entrypoint.sh /usr/local/bin/``."""
    return [script("usr/local/bin/docker-entrypoint.sh", REDIS_ENTRYPOINT)]


def postgres_install(major: str, uid: int, bindir: str) -> list[LayerEntry]:
    """The PostgreSQL packages: server, psql, and the data directory owned by postgres."""
    return [
        LayerEntry.executable(f"{bindir}/postgres", "postgres"),
        LayerEntry.executable(f"{bindir}/psql", "psql"),
        LayerEntry.directory("var/lib/postgresql/data", 0o777, uid, uid),
        LayerEntry.directory("var/run/postgresql", 0o3777, uid, uid),
        placeholder(f"usr/share/postgresql/{major}/README", f"PostgreSQL {major}"),
    ]


def postgres_entrypoint() -> list[LayerEntry]:
    """``COPY docker-entrypoint.sh docker-ensure-initdb.sh /usr/local/bin/``."""
    return [script("usr/local/bin/docker-entrypoint.sh", POSTGRES_ENTRYPOINT)]


def python_install(version: str) -> list[LayerEntry]:
    """The CPython build in /usr/local."""
    minor = ".".join(version.split(".")[:2])
    return [
        LayerEntry.executable(f"usr/local/bin/python{minor}", "python3"),
        LayerEntry.symlink("usr/local/bin/python3", f"python{minor}"),
        placeholder(f"usr/local/lib/python{minor}/os.py", f"the Python {version} library"),
    ]


def python_links() -> list[LayerEntry]:
    """``for src in idle3 pip3 pydoc3 python3 python3-config; do ln -svT ...``."""
    return [LayerEntry.symlink("usr/local/bin/python", "python3")]


def node_install(version: str) -> list[LayerEntry]:
    """The Node.js binary tarball: node, npm and npx."""
    return [
        LayerEntry.executable("usr/local/bin/node", "node"),
        LayerEntry.executable("usr/local/lib/node_modules/npm/bin/npm-cli.js", "npm"),
        LayerEntry.symlink("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js"),
        placeholder("usr/local/include/node/node_version.h", f"Node.js {version} headers"),
    ]


def node_entrypoint() -> list[LayerEntry]:
    """``COPY docker-entrypoint.sh /usr/local/bin/``."""
    return [script("usr/local/bin/docker-entrypoint.sh", NODE_ENTRYPOINT)]


def packages(name: str, *files: str) -> list[LayerEntry]:
    """A package-install layer represented by a few placeholder files."""
    return [placeholder(path, name) for path in files]
