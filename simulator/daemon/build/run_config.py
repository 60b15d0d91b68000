"""The image config a build step changes, and the history text each step records.

Every Dockerfile instruction but FROM ends in a new image. Most of them only
change the config (``ENV``, ``CMD``, ``EXPOSE``...), and the legacy builder
records each as a container config whose ``Cmd`` is a comment:
``["/bin/sh", "-c", "#(nop) ", "ENV APP=/app"]``, which ``docker history``
shows as ``/bin/sh -c #(nop)  ENV APP=/app``. That container config is also
what the build cache compares. This module keeps the config as dockerd's
``container.Config`` JSON and applies one metadata instruction to it.

Public API: :func:`new_run_config`, :func:`apply_metadata` (returns the
history comment), :func:`comment_cmd`, :func:`go_list`, :func:`env_dict`.
"""

from __future__ import annotations

import copy
import posixpath
from typing import Any

from simulator.daemon.build.instructions import (
    Arg,
    Cmd,
    Entrypoint,
    Env,
    Expose,
    Healthcheck,
    Instruction,
    Label,
    Maintainer,
    Onbuild,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
)
from simulator.daemon.build.shell_lex import go_quote
from simulator.model.errors import InvalidParameter
from simulator.model.signals import parse_signal

DEFAULT_SHELL = ("/bin/sh", "-c")
CONFIG_KEYS = (
    "Hostname",
    "Domainname",
    "User",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "ExposedPorts",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "Env",
    "Cmd",
    "Healthcheck",
    "Image",
    "Volumes",
    "WorkingDir",
    "Entrypoint",
    "OnBuild",
    "Labels",
    "StopSignal",
    "Shell",
)
_OMIT_EMPTY = ("ExposedPorts", "Healthcheck", "StopSignal", "Shell")


def new_run_config(image_config: dict[str, Any] | None) -> dict[str, Any]:
    """dockerd's ``container.Config`` for a stage, from its base image's ``config``."""
    base = dict(image_config or {})
    out: dict[str, Any] = {
        "Hostname": "",
        "Domainname": "",
        "User": base.get("User") or "",
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "ExposedPorts": copy.deepcopy(base.get("ExposedPorts")) or None,
        "Tty": False,
        "OpenStdin": False,
        "StdinOnce": False,
        "Env": list(base.get("Env") or []) or None,
        "Cmd": list(base["Cmd"]) if base.get("Cmd") else None,
        "Healthcheck": copy.deepcopy(base.get("Healthcheck")) or None,
        "Image": "",
        "Volumes": copy.deepcopy(base.get("Volumes")) or None,
        "WorkingDir": base.get("WorkingDir") or "",
        "Entrypoint": list(base["Entrypoint"]) if base.get("Entrypoint") else None,
        "OnBuild": None,
        "Labels": dict(base.get("Labels") or {}) or None,
        "StopSignal": base.get("StopSignal") or None,
        "Shell": list(base["Shell"]) if base.get("Shell") else None,
    }
    return out


def stored_config(run_config: dict[str, Any]) -> dict[str, Any]:
    """The config as stored in the image JSON (unset optional keys left out)."""
    out = {}
    for key in CONFIG_KEYS:
        value = run_config.get(key)
        if key in _OMIT_EMPTY and not value:
            continue
        out[key] = copy.deepcopy(value)
    return out


def shell_of(run_config: dict[str, Any]) -> list[str]:
    return list(run_config.get("Shell") or DEFAULT_SHELL)


def comment_cmd(run_config: dict[str, Any], comment: str, split: bool = True) -> list[str]:
    """The ``Cmd`` of a metadata step: ``[shell..., "#(nop) ", comment]``.

    ``split=False`` gives the one-string form WORKDIR, COPY and ADD use
    (``"#(nop) WORKDIR /app"``), which history prints with a single space.
    """
    if split:
        return [*shell_of(run_config), "#(nop) ", comment]
    return [*shell_of(run_config), "#(nop) " + comment]


def go_list(items: list[str] | tuple[str, ...], quote: bool = True) -> str:
    """Go's ``%q`` (quoted) or ``%v`` (bare) of a ``[]string``."""
    if quote:
        return "[" + " ".join(go_quote(i) for i in items) + "]"
    return "[" + " ".join(items) + "]"


def env_dict(run_config: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in run_config.get("Env") or []:
        key, _, value = str(item).partition("=")
        out[key] = value
    return out


def _set_env(run_config: dict[str, Any], key: str, value: str) -> None:
    env = list(run_config.get("Env") or [])
    for i, item in enumerate(env):
        if str(item).partition("=")[0] == key:
            env[i] = f"{key}={value}"
            break
    else:
        env.append(f"{key}={value}")
    run_config["Env"] = env


def _go_duration(nanos: int) -> str:
    if nanos == 0:
        return "0s"
    seconds, rest = divmod(nanos, 1_000_000_000)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    frac = f".{rest:09d}".rstrip("0") if rest else ""
    text = f"{secs}{frac}s"
    if hours:
        return f"{hours}h{mins}m{text}"
    if mins:
        return f"{mins}m{text}"
    return text


def _expose_ports(ports: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for raw in ports:
        spec, _, proto = raw.partition("/")
        proto = (proto or "tcp").lower()
        first, _, last = spec.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise InvalidParameter(f"Invalid containerPort: {spec}")
        for port in range(int(first), int(last or first) + 1):
            out.append(f"{port}/{proto}")
    return out


def apply_metadata(run_config: dict[str, Any], instruction: Instruction, state: dict[str, Any]) -> str:
    """Apply a config-only instruction; return its history comment.

    ``state`` carries ``cmd_set`` (CMD seen in this stage) and ``author``.

    Raises:
        InvalidParameter: a bad STOPSIGNAL or EXPOSE value.
    """
    if isinstance(instruction, Env):
        for pair in instruction.pairs:
            _set_env(run_config, pair.key, pair.value)
        return "ENV " + " ".join(f"{p.key}={p.value}" for p in instruction.pairs)
    if isinstance(instruction, Label):
        labels = dict(run_config.get("Labels") or {})
        for pair in instruction.pairs:
            labels[pair.key] = pair.value
        run_config["Labels"] = labels
        return "LABEL " + " ".join(f"{p.key}={p.value}" for p in instruction.pairs)
    if isinstance(instruction, Arg):
        words = [a.name if a.default is None else f"{a.name}={a.default}" for a in instruction.args]
        return "ARG " + " ".join(words)
    if isinstance(instruction, Workdir):
        current = run_config.get("WorkingDir") or "/"
        run_config["WorkingDir"] = posixpath.normpath(posixpath.join("/", current, instruction.path))
        return "WORKDIR " + str(run_config["WorkingDir"])
    if isinstance(instruction, User):
        run_config["User"] = instruction.user
        return "USER " + instruction.user
    if isinstance(instruction, Cmd | Entrypoint):
        argv = list(instruction.cmd)
        if instruction.shell_form:
            argv = [*shell_of(run_config), *argv]
        if isinstance(instruction, Cmd):
            run_config["Cmd"] = argv
            state["cmd_set"] = True
            return "CMD " + go_list(argv)
        run_config["Entrypoint"] = argv or None
        if not state.get("cmd_set"):
            run_config["Cmd"] = None
        return "ENTRYPOINT " + go_list(argv)
    if isinstance(instruction, Expose):
        ports = dict(run_config.get("ExposedPorts") or {})
        for port in _expose_ports(instruction.ports):
            ports[port] = {}
        run_config["ExposedPorts"] = ports
        return "EXPOSE " + " ".join(instruction.ports)
    if isinstance(instruction, Volume):
        volumes = dict(run_config.get("Volumes") or {})
        for path in instruction.paths:
            volumes[path] = {}
        run_config["Volumes"] = volumes
        return "VOLUME " + go_list(instruction.paths, quote=False)
    if isinstance(instruction, Stopsignal):
        parse_signal(instruction.signal)
        run_config["StopSignal"] = instruction.signal
        return "STOPSIGNAL " + instruction.signal
    if isinstance(instruction, Healthcheck):
        return _healthcheck(run_config, instruction)
    if isinstance(instruction, Shell):
        run_config["Shell"] = list(instruction.shell)
        return "SHELL " + go_list(instruction.shell, quote=False)
    if isinstance(instruction, Onbuild):
        run_config["OnBuild"] = [*(run_config.get("OnBuild") or []), instruction.expression]
        return "ONBUILD " + instruction.expression
    if isinstance(instruction, Maintainer):
        state["author"] = instruction.maintainer
        return "MAINTAINER " + instruction.maintainer
    raise InvalidParameter(f"unknown instruction: {instruction.name}")


def _healthcheck(run_config: dict[str, Any], hc: Healthcheck) -> str:
    if hc.test == ("NONE",):
        health: dict[str, Any] = {"Test": ["NONE"]}
    else:
        health = {"Test": list(hc.test)}
        for key, value in (
            ("Interval", hc.interval),
            ("Timeout", hc.timeout),
            ("StartPeriod", hc.start_period),
            ("Retries", hc.retries),
        ):
            if value:
                health[key] = value
    run_config["Healthcheck"] = health
    retries = f"'\\x{hc.retries:02x}'" if hc.retries < 0x20 else f"'{chr(hc.retries)}'"
    return (
        f"HEALTHCHECK &{{{go_list(list(health['Test']))} {go_quote(_go_duration(hc.interval))} "
        f"{go_quote(_go_duration(hc.timeout))} {go_quote(_go_duration(hc.start_period))} {retries}}}"
    )
