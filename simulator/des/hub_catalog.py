"""The recipes of the simulated Docker Hub: which images exist and what is in them.

Each official image is a base image plus its own layers, exactly as its
Dockerfile says ``FROM debian:bookworm-slim`` or ``FROM alpine:3.20``. A layer
recipe is one Python object; images that share a base share the object, so
they share the layer's bytes and digest, as they do on the real Hub (nginx,
httpd, redis, postgres and python:3.12-slim all start with the single layer of
debian:bookworm-slim). Every layer carries its realistic modelled sizes
(compressed and unpacked, decimal bytes as ``docker images`` prints them).

Nothing here builds anything: :mod:`simulator.des.hub` turns recipes into
blobs on first use.
"""

# This module is a data table: one line per layer keeps each Dockerfile step (quoted
# verbatim for `docker history`) beside its sizes, so lines are long on purpose.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.des import hub_apps as apps
from simulator.des import hub_rootfs as fs
from simulator.model.layer import LayerEntry


def mb(value: float) -> int:
    """Megabytes (decimal, as Docker prints them) to bytes."""
    return round(value * 1_000_000)


def kb(value: float) -> int:
    """Kilobytes (decimal) to bytes."""
    return round(value * 1_000)


@dataclass(frozen=True, eq=False)
class LayerRecipe:
    """One layer: how it was made, its modelled sizes, and its files (built lazily)."""

    created_by: str
    download_size: int
    unpacked_size: int
    entries: Callable[[], list[LayerEntry]]
    created: str


@dataclass(frozen=True, eq=False)
class ImageRecipe:
    """One image: its base, its own layers and the config its Dockerfile sets.

    ``settings`` keys are those of :func:`simulator.model.image.build_image_config`
    (env, cmd, entrypoint, working_dir, user, exposed_ports, volumes, labels,
    stop_signal); they are merged over the base image's settings.
    """

    repo: str
    tags: tuple[str, ...]
    layers: tuple[LayerRecipe, ...]
    created: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    base: ImageRecipe | None = None


def _layer(created: str, created_by: str, dl: int, unpacked: int, entries: Callable[[], list[LayerEntry]]) -> LayerRecipe:  # fmt: skip
    return LayerRecipe(created_by, dl, unpacked, entries, created)


def _image(repo: str, tags: str, created: str, layers: tuple[LayerRecipe, ...], base: ImageRecipe | None = None, **settings: Any) -> ImageRecipe:  # fmt: skip
    return ImageRecipe(f"library/{repo}", tuple(tags.split()), layers, created, settings, base)


PATH_ENV = f"PATH={fs.STD_PATH}"

# --- busybox ---------------------------------------------------------------
_T_BUSYBOX = "2024-09-26T21:31:42Z"
BUSYBOX = _layer(_T_BUSYBOX, "BusyBox 1.37.0 (glibc), Debian 12", mb(2.15), mb(4.27), lambda: fs.busybox_rootfs("glibc"))  # fmt: skip
BUSYBOX_136 = _layer("2024-01-17T21:49:12Z", "BusyBox 1.36.1 (glibc), Debian 12", mb(2.22), mb(4.26), lambda: fs.busybox_rootfs("glibc-1.36"))  # fmt: skip
BUSYBOX_MUSL = _layer(_T_BUSYBOX, "BusyBox 1.37.0 (musl)", mb(0.86), mb(1.46), lambda: fs.busybox_rootfs("musl"))  # fmt: skip
BUSYBOX_UCLIBC = _layer(_T_BUSYBOX, "BusyBox 1.37.0 (uclibc)", mb(0.98), mb(2.16), lambda: fs.busybox_rootfs("uclibc"))  # fmt: skip

# --- alpine ----------------------------------------------------------------
_T_ALPINE = "2024-09-06T22:20:07Z"
ALPINE_320 = _layer(_T_ALPINE, "ADD alpine-minirootfs-3.20.3-x86_64.tar.gz / # buildkit", mb(3.62), mb(7.80), lambda: fs.alpine_rootfs("3.20.3"))  # fmt: skip
ALPINE_319 = _layer(_T_ALPINE, "ADD alpine-minirootfs-3.19.4-x86_64.tar.gz / # buildkit", mb(3.42), mb(7.38), lambda: fs.alpine_rootfs("3.19.4"))  # fmt: skip

# --- debian / ubuntu -------------------------------------------------------
_T_DEBIAN = "2024-10-17T00:00:00Z"
DEBIAN = _layer(_T_DEBIAN, "# debian.sh --arch 'amd64' out/ 'bookworm' '@1729468800'", mb(49.58), mb(116.5), lambda: fs.debian_rootfs("12.7", "bookworm", slim=False))  # fmt: skip
DEBIAN_SLIM = _layer(_T_DEBIAN, "# debian.sh --arch 'amd64' --slim out/ 'bookworm' '@1729468800'", mb(28.23), mb(74.8), lambda: fs.debian_rootfs("12.7", "bookworm", slim=True))  # fmt: skip
UBUNTU_2404 = _layer("2024-10-11T03:51:38Z", "/bin/sh -c #(nop) ADD file:ubuntu-noble-oci-amd64-root.tar.gz in / ", mb(29.75), mb(78.1), lambda: fs.ubuntu_rootfs("24.04", "24.04.1", "noble"))  # fmt: skip
UBUNTU_2204 = _layer("2024-09-11T16:25:17Z", "/bin/sh -c #(nop) ADD file:ubuntu-jammy-oci-amd64-root.tar.gz in / ", mb(29.54), mb(77.9), lambda: fs.ubuntu_rootfs("22.04", "22.04.5", "jammy"))  # fmt: skip

BUSYBOX_IMG = _image("busybox", "latest 1 1.37 1.37.0 stable glibc 1.37-glibc 1.37.0-glibc", _T_BUSYBOX, (BUSYBOX,), env=[PATH_ENV], cmd=["sh"])  # fmt: skip
BUSYBOX_136_IMG = _image("busybox", "1.36 1.36.1 1.36-glibc 1.36.1-glibc", "2024-01-17T21:49:12Z", (BUSYBOX_136,), env=[PATH_ENV], cmd=["sh"])  # fmt: skip
BUSYBOX_MUSL_IMG = _image("busybox", "musl 1.37-musl 1.37.0-musl", _T_BUSYBOX, (BUSYBOX_MUSL,), env=[PATH_ENV], cmd=["sh"])  # fmt: skip
BUSYBOX_UCLIBC_IMG = _image("busybox", "uclibc 1.37-uclibc 1.37.0-uclibc", _T_BUSYBOX, (BUSYBOX_UCLIBC,), env=[PATH_ENV], cmd=["sh"])  # fmt: skip
ALPINE_IMG = _image("alpine", "latest 3 3.20 3.20.3", _T_ALPINE, (ALPINE_320,), env=[PATH_ENV], cmd=["/bin/sh"])  # fmt: skip
ALPINE_319_IMG = _image("alpine", "3.19 3.19.4", _T_ALPINE, (ALPINE_319,), env=[PATH_ENV], cmd=["/bin/sh"])  # fmt: skip
DEBIAN_IMG = _image("debian", "latest 12 12.7 bookworm stable", _T_DEBIAN, (DEBIAN,), env=[PATH_ENV], cmd=["bash"])  # fmt: skip
DEBIAN_SLIM_IMG = _image("debian", "12-slim 12.7-slim bookworm-slim stable-slim", _T_DEBIAN, (DEBIAN_SLIM,), env=[PATH_ENV], cmd=["bash"])  # fmt: skip
_UBUNTU_LABELS = {"org.opencontainers.image.ref.name": "ubuntu"}
UBUNTU_IMG = _image("ubuntu", "latest 24.04 noble", "2024-10-11T03:51:38Z", (UBUNTU_2404,), env=[PATH_ENV], cmd=["/bin/bash"], labels={**_UBUNTU_LABELS, "org.opencontainers.image.version": "24.04"})  # fmt: skip
UBUNTU_2204_IMG = _image("ubuntu", "22.04 jammy", "2024-09-11T16:25:17Z", (UBUNTU_2204,), env=[PATH_ENV], cmd=["/bin/bash"], labels={**_UBUNTU_LABELS, "org.opencontainers.image.version": "22.04"})  # fmt: skip

# --- buildpack-deps:bookworm (the base of the full python and node images) --
_T_BPD = "2024-10-17T03:10:00Z"
BPD_CURL = _layer(_T_BPD, "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends ca-certificates curl gnupg netbase sq wget; rm -rf /var/lib/apt/lists/* # buildkit", mb(24.06), mb(53.4), lambda: apps.packages("curl, wget, gnupg", "etc/ssl/certs/ca-certificates.crt", "usr/share/doc/curl/copyright"))  # fmt: skip
BPD_SCM = _layer(_T_BPD, "RUN /bin/sh -c set -ex; apt-get update; apt-get install -y --no-install-recommends git mercurial openssh-client subversion procps; rm -rf /var/lib/apt/lists/* # buildkit", mb(64.39), mb(190.3), lambda: apps.packages("git, mercurial, subversion", "usr/share/doc/git/copyright"))  # fmt: skip
BPD_BUILD = _layer(_T_BPD, "RUN /bin/sh -c set -ex; apt-get update; apt-get install -y --no-install-recommends autoconf automake bzip2 default-libmysqlclient-dev dpkg-dev file g++ gcc make patch xz-utils zlib1g-dev ...; rm -rf /var/lib/apt/lists/* # buildkit", mb(211.3), mb(588.6), lambda: apps.packages("gcc, make and -dev libraries", "usr/share/doc/gcc/copyright", "usr/share/doc/make/copyright"))  # fmt: skip
BPD_IMG = _image("buildpack-deps", "bookworm latest", _T_BPD, (BPD_CURL, BPD_SCM, BPD_BUILD), DEBIAN_IMG)  # fmt: skip

# --- python ----------------------------------------------------------------
_T_PY = "2024-10-17T12:34:56Z"
_PY_ENV = [PATH_ENV.replace("PATH=", "PATH=/usr/local/bin:", 1), "LANG=C.UTF-8", "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305", "PYTHON_VERSION=3.12.7"]  # fmt: skip
_PY_LINKS = _layer(_T_PY, "RUN /bin/sh -c set -eux; for src in idle3 pip3 pydoc3 python3 python3-config; do dst=\"$(echo \"$src\" | tr -d 3)\"; [ -s \"/usr/local/bin/$src\" ]; [ ! -e \"/usr/local/bin/$dst\" ]; ln -svT \"$src\" \"/usr/local/bin/$dst\"; done # buildkit", 249, 32, apps.python_links)  # fmt: skip
PYTHON_IMG = _image("python", "latest 3 3.12 3.12.7 bookworm 3.12-bookworm", _T_PY, (
    _layer(_T_PY, "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends libbluetooth-dev tk-dev uuid-dev; rm -rf /var/lib/apt/lists/* # buildkit", mb(6.16), mb(17.4), lambda: apps.packages("libbluetooth, tk, uuid", "usr/share/doc/tk-dev/copyright")),
    _layer(_T_PY, "RUN /bin/sh -c set -eux; wget -O python.tar.xz \"https://www.python.org/ftp/python/${PYTHON_VERSION%%[a-z]*}/Python-$PYTHON_VERSION.tar.xz\"; ./configure --enable-optimizations; make install # buildkit", mb(25.84), mb(60.8), lambda: apps.python_install("3.12.7")),
    _PY_LINKS,
), BPD_IMG, env=_PY_ENV, cmd=["python3"])  # fmt: skip
PYTHON_SLIM_IMG = _image("python", "slim 3-slim 3.12-slim 3.12.7-slim 3.12-slim-bookworm", _T_PY, (
    _layer(_T_PY, "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends ca-certificates netbase tzdata; rm -rf /var/lib/apt/lists/* # buildkit", mb(3.51), mb(9.2), lambda: apps.packages("ca-certificates, netbase, tzdata", "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC")),
    _layer(_T_PY, "RUN /bin/sh -c set -eux; savedAptMark=\"$(apt-mark showmanual)\"; apt-get install -y --no-install-recommends gcc make ...; ./configure; make install; apt-get purge -y --auto-remove # buildkit", mb(12.88), mb(41.1), lambda: apps.python_install("3.12.7") + apps.packages("python slim runtime", "usr/local/lib/libpython3.12.so.1.0")),
    _PY_LINKS,
), DEBIAN_SLIM_IMG, env=_PY_ENV, cmd=["python3"])  # fmt: skip
PYTHON_ALPINE_IMG = _image("python", "alpine 3-alpine 3.12-alpine 3.12.7-alpine 3.12-alpine3.20", _T_PY, (
    _layer(_T_PY, "RUN /bin/sh -c set -eux; apk add --no-cache ca-certificates tzdata; # buildkit", mb(0.46), mb(1.5), lambda: apps.packages("ca-certificates, tzdata", "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC")),
    _layer(_T_PY, "RUN /bin/sh -c set -eux; apk add --no-cache --virtual .build-deps gcc make musl-dev ...; ./configure; make install; apk del --no-network .build-deps # buildkit", mb(13.63), mb(47.6), lambda: apps.python_install("3.12.7") + apps.packages("python musl runtime", "usr/local/lib/libpython3.12.so.1.0.musl")),
    _PY_LINKS,
), ALPINE_IMG, env=_PY_ENV, cmd=["python3"])  # fmt: skip

# --- node ------------------------------------------------------------------
_T_NODE = "2024-10-17T18:02:11Z"
_NODE_USER_DEB = _layer(_T_NODE, "RUN /bin/sh -c groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node # buildkit", 3_321, 9_120, lambda: [*fs.with_user(fs.DEBIAN_USERS, fs.DEBIAN_GROUPS, "node", 1000, 1000, "/home/node", "/bin/bash"), LayerEntry.directory("home/node", 493, 1000, 1000)])  # fmt: skip
_NODE_USER_ALPINE = _layer(_T_NODE, "RUN /bin/sh -c addgroup -g 1000 node && adduser -u 1000 -G node -s /bin/sh -D node # buildkit", 1_262, 3_860, lambda: [*fs.with_user(fs.ALPINE_USERS, fs.ALPINE_GROUPS, "node", 1000, 1000, "/home/node", "/bin/sh"), LayerEntry.directory("home/node", 493, 1000, 1000)])  # fmt: skip
_NODE_YARN = _layer(_T_NODE, "RUN /bin/sh -c set -ex; for key in 6A010C5166006599AA17F08146C2130DFD2497F5; do gpg --batch --keyserver hkps://keys.openpgp.org --recv-keys \"$key\"; done; curl -fsSLO --compressed \"https://yarnpkg.com/downloads/$YARN_VERSION/yarn-v$YARN_VERSION.tar.gz\"; ln -s /opt/yarn-v$YARN_VERSION/bin/yarn /usr/local/bin/yarn # buildkit", mb(1.25), mb(5.3), lambda: apps.packages("yarn 1.22.22", "opt/yarn-v1.22.22/package.json"))  # fmt: skip
_NODE_ENTRY = _layer(_T_NODE, "COPY docker-entrypoint.sh /usr/local/bin/ # buildkit", 451, 388, apps.node_entrypoint)  # fmt: skip
_NODE_SETTINGS: dict[str, Any] = {"entrypoint": ["docker-entrypoint.sh"], "cmd": ["node"]}


def _node_layers(version: str, dl: float, unpacked: float, user: LayerRecipe) -> tuple[LayerRecipe, ...]:  # fmt: skip
    install = _layer(_T_NODE, f"RUN /bin/sh -c ARCH=x64 && curl -fsSLO --compressed \"https://nodejs.org/dist/v{version}/node-v{version}-linux-$ARCH.tar.xz\" && tar -xJf \"node-v{version}-linux-$ARCH.tar.xz\" -C /usr/local --strip-components=1 --no-same-owner && node --version && npm --version # buildkit", mb(dl), mb(unpacked), lambda: apps.node_install(version))  # fmt: skip
    return (user, install, _NODE_YARN, _NODE_ENTRY)


NODE_22_IMG = _image("node", "latest 22 22.11 22.11.0 current jod bookworm", _T_NODE, _node_layers("22.11.0", 49.3, 191.2, _NODE_USER_DEB), BPD_IMG, env=["NODE_VERSION=22.11.0", "YARN_VERSION=1.22.22"], **_NODE_SETTINGS)  # fmt: skip
NODE_20_IMG = _image("node", "20 20.18 20.18.0 lts iron 20-bookworm", _T_NODE, _node_layers("20.18.0", 48.6, 183.4, _NODE_USER_DEB), BPD_IMG, env=["NODE_VERSION=20.18.0", "YARN_VERSION=1.22.22"], **_NODE_SETTINGS)  # fmt: skip
NODE_20_SLIM_IMG = _image("node", "20-slim 20.18-slim lts-slim 20-bookworm-slim", _T_NODE, _node_layers("20.18.0-slim", 41.4, 151.0, _NODE_USER_DEB), DEBIAN_SLIM_IMG, env=["NODE_VERSION=20.18.0", "YARN_VERSION=1.22.22"], **_NODE_SETTINGS)  # fmt: skip
NODE_20_ALPINE_IMG = _image("node", "20-alpine 20.18-alpine lts-alpine 20-alpine3.20", _T_NODE, _node_layers("20.18.0-musl", 40.0, 126.4, _NODE_USER_ALPINE), ALPINE_IMG, env=["NODE_VERSION=20.18.0", "YARN_VERSION=1.22.22"], **_NODE_SETTINGS)  # fmt: skip

# --- nginx -----------------------------------------------------------------
_T_NGINX = "2024-10-21T17:55:35Z"
_NGINX_ENV = ["NGINX_VERSION=1.27.2", "NJS_VERSION=0.8.6", "NJS_RELEASE=1~bookworm", "PKG_RELEASE=1~bookworm", "DYNPKG_RELEASE=1~bookworm"]  # fmt: skip


def _nginx_hook(name: str, dl: int, unpacked: int) -> LayerRecipe:
    return _layer(_T_NGINX, f"COPY {name} /docker-entrypoint.d # buildkit", dl, unpacked, lambda: apps.nginx_entrypoint_d(name))  # fmt: skip


_NGINX_HOOKS = (
    _nginx_hook("10-listen-on-ipv6-by-default.sh", 955, 2_125),
    _nginx_hook("15-local-resolvers.envsh", 404, 389),
    _nginx_hook("20-envsubst-on-templates.sh", 1_208, 3_018),
    _nginx_hook("30-tune-worker-processes.sh", 1_398, 4_620),
)
_NGINX_ENTRY = _layer(_T_NGINX, "COPY docker-entrypoint.sh / # buildkit", 628, 1_620, apps.nginx_entrypoint)  # fmt: skip
_NGINX_SETTINGS: dict[str, Any] = {"labels": {"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"}, "entrypoint": ["/docker-entrypoint.sh"], "exposed_ports": ["80/tcp"], "stop_signal": "SIGQUIT", "cmd": ["nginx", "-g", "daemon off;"]}  # fmt: skip
NGINX_IMG = _image("nginx", "latest 1 1.27 1.27.2 mainline bookworm 1.27.2-bookworm", _T_NGINX, (
    _layer(_T_NGINX, "RUN /bin/sh -c set -x && groupadd --system --gid 101 nginx && useradd --system --gid nginx --no-create-home --home /nonexistent --shell /bin/false --uid 101 nginx && apt-get update && apt-get install --no-install-recommends --no-install-suggests -y gnupg1 ca-certificates && ... nginx=${NGINX_VERSION}-${PKG_RELEASE} ... && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log && mkdir /docker-entrypoint.d # buildkit", mb(43.95), mb(117.0), lambda: apps.nginx_install(fs.DEBIAN_USERS, fs.DEBIAN_GROUPS)),
    _NGINX_ENTRY, *_NGINX_HOOKS,
), DEBIAN_SLIM_IMG, env=_NGINX_ENV, **_NGINX_SETTINGS)  # fmt: skip
NGINX_ALPINE_IMG = _image("nginx", "alpine 1-alpine 1.27-alpine 1.27.2-alpine mainline-alpine alpine3.20", _T_NGINX, (
    _layer(_T_NGINX, "RUN /bin/sh -c set -x && addgroup -g 101 -S nginx && adduser -S -D -H -u 101 -h /var/cache/nginx -s /sbin/nologin -G nginx -g nginx nginx && apk add --no-cache nginx=${NGINX_VERSION}-r${PKG_RELEASE} ... # buildkit", mb(1.79), mb(5.0), lambda: apps.nginx_install(fs.ALPINE_USERS, fs.ALPINE_GROUPS)),
    _NGINX_ENTRY, *_NGINX_HOOKS,
    _layer(_T_NGINX, "RUN /bin/sh -c set -x && apk add --no-cache nginx-module-xslt nginx-module-geoip nginx-module-image-filter nginx-module-njs=${NGINX_VERSION}.${NJS_VERSION}-r${NJS_RELEASE} curl ca-certificates # buildkit", mb(14.34), mb(34.4), lambda: apps.packages("nginx dynamic modules, njs, curl", "usr/lib/nginx/modules/ngx_http_js_module.so")),
), ALPINE_IMG, env=[e.replace("~bookworm", "") for e in _NGINX_ENV], **_NGINX_SETTINGS)  # fmt: skip

# --- httpd -----------------------------------------------------------------
_T_HTTPD = "2024-10-17T20:21:00Z"
_HTTPD_MKDIR = _layer(_T_HTTPD, "RUN /bin/sh -c mkdir -p \"$HTTPD_PREFIX\" && chown www-data:www-data \"$HTTPD_PREFIX\" # buildkit", 145, 0, apps.httpd_prepare)  # fmt: skip
_HTTPD_FG = _layer(_T_HTTPD, "COPY httpd-foreground /usr/local/bin/ # buildkit", 294, 138, apps.httpd_foreground)  # fmt: skip
_HTTPD_SETTINGS: dict[str, Any] = {"env": ["PATH=/usr/local/apache2/bin:" + fs.STD_PATH, "HTTPD_PREFIX=/usr/local/apache2", "HTTPD_VERSION=2.4.62", "HTTPD_PATCHES="], "working_dir": "/usr/local/apache2", "stop_signal": "SIGWINCH", "exposed_ports": ["80/tcp"], "cmd": ["httpd-foreground"]}  # fmt: skip
HTTPD_IMG = _image("httpd", "latest 2 2.4 2.4.62 bookworm", _T_HTTPD, (
    _HTTPD_MKDIR,
    _layer(_T_HTTPD, "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends ca-certificates libaprutil1-ldap libldap-common; rm -rf /var/lib/apt/lists/* # buildkit", mb(1.37), mb(3.1), lambda: apps.packages("libapr, libaprutil", "usr/lib/x86_64-linux-gnu/libapr-1.so.0")),
    _layer(_T_HTTPD, "RUN /bin/sh -c set -eux; ddist() { ...; }; ddist 'httpd.tar.bz2' \"httpd/httpd-$HTTPD_VERSION.tar.bz2\"; ./configure --prefix=\"$HTTPD_PREFIX\" --enable-mods-shared=reallyall --enable-mpms-shared=all; make -j \"$(nproc)\"; make install # buildkit", mb(26.71), mb(70.1), lambda: apps.httpd_install("glibc")),
    _HTTPD_FG,
), DEBIAN_SLIM_IMG, **_HTTPD_SETTINGS)  # fmt: skip
HTTPD_ALPINE_IMG = _image("httpd", "alpine 2-alpine 2.4-alpine 2.4.62-alpine alpine3.20", _T_HTTPD, (
    _layer(_T_HTTPD, "RUN /bin/sh -c set -x && adduser -u 82 -D -S -G www-data www-data # buildkit", 1_178, 3_880, lambda: fs.account_files([*fs.ALPINE_USERS, ("www-data", 82, 82, "/home/www-data", "/sbin/nologin")], fs.ALPINE_GROUPS)),
    _HTTPD_MKDIR,
    _layer(_T_HTTPD, "RUN /bin/sh -c set -eux; apk add --no-cache apr apr-util ca-certificates # buildkit", mb(0.93), mb(2.3), lambda: apps.packages("apr, apr-util", "usr/lib/libapr-1.so.0")),
    _layer(_T_HTTPD, "RUN /bin/sh -c set -eux; apk add --no-cache --virtual .build-deps gcc make ...; ./configure --prefix=\"$HTTPD_PREFIX\"; make install; apk del --no-network .build-deps # buildkit", mb(16.41), mb(51.2), lambda: apps.httpd_install("musl")),
    _HTTPD_FG,
), ALPINE_IMG, **_HTTPD_SETTINGS)  # fmt: skip

# --- redis -----------------------------------------------------------------
_T_REDIS = "2024-10-22T11:04:21Z"
_REDIS_DATA = _layer(_T_REDIS, "RUN /bin/sh -c mkdir /data && chown redis:redis /data # buildkit", 98, 0, lambda: apps.redis_data(999))  # fmt: skip
_REDIS_ENTRY = _layer(_T_REDIS, "COPY docker-entrypoint.sh /usr/local/bin/ # buildkit", 578, 1_620, apps.redis_entrypoint)  # fmt: skip
_REDIS_SETTINGS: dict[str, Any] = {"env": ["GOSU_VERSION=1.17", "REDIS_VERSION=7.4.1", "REDIS_DOWNLOAD_URL=http://download.redis.io/releases/redis-7.4.1.tar.gz"], "volumes": ["/data"], "working_dir": "/data", "entrypoint": ["docker-entrypoint.sh"], "exposed_ports": ["6379/tcp"], "cmd": ["redis-server"]}  # fmt: skip
REDIS_IMG = _image("redis", "latest 7 7.4 7.4.1 bookworm", _T_REDIS, (
    _layer(_T_REDIS, "RUN /bin/sh -c set -eux; groupadd -r -g 999 redis; useradd -r -g redis -u 999 redis # buildkit", 1_120, 3_240, lambda: apps.system_user(fs.DEBIAN_USERS, fs.DEBIAN_GROUPS, "redis", 999, "/home/redis")),
    _layer(_T_REDIS, "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends tzdata; rm -rf /var/lib/apt/lists/* # buildkit", mb(0.87), mb(2.5), lambda: apps.packages("tzdata", "usr/share/zoneinfo/UTC")),
    _layer(_T_REDIS, "RUN /bin/sh -c set -eux; wget -O redis.tar.gz \"$REDIS_DOWNLOAD_URL\"; make -C /usr/src/redis -j \"$(nproc)\" all; make -C /usr/src/redis install; redis-cli --version; redis-server --version # buildkit", mb(11.05), mb(37.8), lambda: apps.redis_install("7.4.1")),
    _REDIS_DATA, _REDIS_ENTRY,
), DEBIAN_SLIM_IMG, **_REDIS_SETTINGS)  # fmt: skip
REDIS_ALPINE_IMG = _image("redis", "alpine 7-alpine 7.4-alpine 7.4.1-alpine alpine3.20", _T_REDIS, (
    _layer(_T_REDIS, "RUN /bin/sh -c set -eux; addgroup -S -g 1000 redis; adduser -S -G redis -u 999 redis # buildkit", 1_260, 3_710, lambda: apps.system_user(fs.ALPINE_USERS, fs.ALPINE_GROUPS, "redis", 999, "/home/redis")),
    _layer(_T_REDIS, "RUN /bin/sh -c set -eux; apk add --no-cache setpriv tzdata # buildkit", mb(0.97), mb(2.6), lambda: apps.packages("setpriv, tzdata", "usr/share/zoneinfo/UTC")),
    _layer(_T_REDIS, "RUN /bin/sh -c set -eux; apk add --no-cache --virtual .build-deps gcc make musl-dev ...; make -C /usr/src/redis install; apk del --no-network .build-deps # buildkit", mb(12.12), mb(30.8), lambda: apps.redis_install("7.4.1-musl")),
    _REDIS_DATA, _REDIS_ENTRY,
), ALPINE_IMG, **_REDIS_SETTINGS)  # fmt: skip

# --- postgres --------------------------------------------------------------
_T_PG = "2024-10-17T22:14:03Z"
_PG_ENTRY = _layer(_T_PG, "COPY docker-entrypoint.sh docker-ensure-initdb.sh /usr/local/bin/ # buildkit", 5_412, 17_830, apps.postgres_entrypoint)  # fmt: skip
_PG_INITDB_D = _layer(
    _T_PG,
    "RUN /bin/sh -c mkdir /docker-entrypoint-initdb.d # buildkit",
    115,
    0,
    lambda: [LayerEntry.directory("docker-entrypoint-initdb.d")],
)
_PG_SETTINGS: dict[str, Any] = {"volumes": ["/var/lib/postgresql/data"], "entrypoint": ["docker-entrypoint.sh"], "stop_signal": "SIGINT", "exposed_ports": ["5432/tcp"], "cmd": ["postgres"]}  # fmt: skip
POSTGRES_IMG = _image("postgres", "latest 17 17.0 bookworm 17-bookworm", _T_PG, (
    _layer(_T_PG, "RUN /bin/sh -c set -eux; groupadd -r postgres --gid=999; useradd -r -g postgres --uid=999 --home-dir=/var/lib/postgresql --shell=/bin/bash postgres; mkdir -p /var/lib/postgresql; chown -R postgres:postgres /var/lib/postgresql # buildkit", 1_132, 4_210, lambda: apps.system_user(fs.DEBIAN_USERS, fs.DEBIAN_GROUPS, "postgres", 999, "/var/lib/postgresql")),
    _layer(_T_PG, "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends ca-certificates gnupg wget; wget -O /usr/local/bin/gosu \"https://github.com/tianon/gosu/releases/download/$GOSU_VERSION/gosu-$dpkgArch\"; chmod +x /usr/local/bin/gosu # buildkit", mb(4.53), mb(9.5), lambda: apps.packages("gosu", "usr/share/doc/gosu/copyright")),
    _layer(_T_PG, "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends locales; localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8 # buildkit", mb(8.07), mb(25.3), lambda: apps.packages("locales", "usr/lib/locale/locale-archive")),
    _layer(_T_PG, "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends libnss-wrapper xz-utils zstd; rm -rf /var/lib/apt/lists/* # buildkit", mb(1.25), mb(3.3), lambda: apps.packages("libnss-wrapper, xz-utils, zstd", "usr/lib/libnss_wrapper.so")),
    _PG_INITDB_D,
    _layer(_T_PG, "RUN /bin/sh -c set -ex; export PYTHONDONTWRITEBYTECODE=1; apt-get update; apt-get install -y --no-install-recommends \"postgresql-$PG_MAJOR=$PG_VERSION\"; rm -rf /var/lib/apt/lists/* # buildkit", mb(105.0), mb(322.0), lambda: apps.postgres_install("17", 999, "usr/lib/postgresql/17/bin")),
    _PG_ENTRY,
), DEBIAN_SLIM_IMG, env=["GOSU_VERSION=1.17", "LANG=en_US.utf8", "PG_MAJOR=17", "PATH=" + fs.STD_PATH + ":/usr/lib/postgresql/17/bin", "PG_VERSION=17.0-1.pgdg120+1", "PGDATA=/var/lib/postgresql/data"], **_PG_SETTINGS)  # fmt: skip
POSTGRES_ALPINE_IMG = _image("postgres", "alpine 17-alpine 17.0-alpine alpine3.20 17-alpine3.20", _T_PG, (
    _layer(_T_PG, "RUN /bin/sh -c set -eux; addgroup -g 70 -S postgres; adduser -u 70 -S -D -G postgres -H -h /var/lib/postgresql -s /bin/sh postgres; mkdir -p /var/lib/postgresql; chown -R postgres:postgres /var/lib/postgresql # buildkit", 974, 3_900, lambda: apps.system_user(fs.ALPINE_USERS, fs.ALPINE_GROUPS, "postgres", 70, "/var/lib/postgresql")),
    _layer(_T_PG, "RUN /bin/sh -c set -eux; apk add --no-cache su-exec tzdata; # buildkit", mb(0.98), mb(2.7), lambda: apps.packages("su-exec, tzdata", "usr/share/zoneinfo/UTC")),
    _layer(_T_PG, "RUN /bin/sh -c set -eux; apk add --no-cache --virtual .build-deps gcc make ...; ./configure --prefix=/usr/local; make world-bin; make install-world-bin; apk del --no-network .build-deps # buildkit", mb(99.8), mb(259.6), lambda: apps.postgres_install("17", 70, "usr/local/bin")),
    _PG_INITDB_D,
    _PG_ENTRY,
), ALPINE_IMG, env=["LANG=en_US.utf8", "PG_MAJOR=17", "PG_VERSION=17.0", "PGDATA=/var/lib/postgresql/data"], **_PG_SETTINGS)  # fmt: skip

ALL_IMAGES: tuple[ImageRecipe, ...] = (
    BUSYBOX_IMG, BUSYBOX_136_IMG, BUSYBOX_MUSL_IMG, BUSYBOX_UCLIBC_IMG,
    ALPINE_IMG, ALPINE_319_IMG,
    DEBIAN_IMG, DEBIAN_SLIM_IMG, UBUNTU_IMG, UBUNTU_2204_IMG,
    BPD_IMG, PYTHON_IMG, PYTHON_SLIM_IMG, PYTHON_ALPINE_IMG,
    NODE_22_IMG, NODE_20_IMG, NODE_20_SLIM_IMG, NODE_20_ALPINE_IMG,
    NGINX_IMG, NGINX_ALPINE_IMG, HTTPD_IMG, HTTPD_ALPINE_IMG,
    REDIS_IMG, REDIS_ALPINE_IMG, POSTGRES_IMG, POSTGRES_ALPINE_IMG,
)  # fmt: skip
"""Every image of the simulated Hub (a repository's tags are spread over several recipes)."""
