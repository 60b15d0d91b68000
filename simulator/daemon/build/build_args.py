"""Which variables a Dockerfile instruction can see: ARG and ENV scoping.

The rules students trip over live here: an ``ARG`` before the first
``FROM`` is global but only visible to ``FROM`` lines (and to stages that
redeclare it with a bare ``ARG NAME``); an ``ARG`` inside a stage lasts
until the end of that stage; ``--build-arg`` overrides an ``ARG``'s
default; ``ENV`` overrides an ``ARG`` of the same name; the proxy variables
are accepted without an ``ARG``; unused ``--build-arg`` values produce
dockerd's warning. This follows the legacy builder's ``BuildArgs``.

Typical use by the builder::

    lex = ShellLex(result.escape_token)
    stages, meta_args = parse_stages(result)
    args = BuildArgs({"VERSION": "1.2"})
    for arg in meta_args:
        args.add_meta_arg(expand_instruction(arg, lex, args.meta_env()))
    for stage in stages:
        image = lex.process_word(stage.base_name, args.meta_env())
        scope = args.for_stage()
        env = dict(image_env)                      # the base image's ENV
        for instruction in stage.instructions:
            instruction = expand_instruction(instruction, lex, scope.expansion_env(env))
            if isinstance(instruction, Arg):
                scope.add_arg(instruction)
            ...
            # RUN sees env plus scope.run_env(env)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from simulator.daemon.build.instructions import (
    Add,
    Arg,
    ArgPair,
    Copy,
    Env,
    Expose,
    Instruction,
    KeyValue,
    Label,
    Stopsignal,
    User,
    Volume,
    Workdir,
)
from simulator.daemon.build.shell_lex import ShellLex

BUILTIN_ARGS = frozenset(
    {
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "FTP_PROXY",
        "ftp_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    }
)


class BuildArgs:
    """Build arguments: ``--build-arg`` values, meta args and stage args.

    Args:
        options: the ``--build-arg NAME=value`` pairs of the build.
    """

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        self.options: dict[str, str] = dict(options or {})
        self.meta_args: dict[str, str | None] = {}
        self.stage_args: dict[str, str | None] = {}
        self.referenced: set[str] = set()

    def for_stage(self) -> BuildArgs:
        """A fresh scope for a new stage: stage ARGs are forgotten, the rest shared."""
        scope = BuildArgs(self.options)
        scope.meta_args = self.meta_args
        scope.referenced = self.referenced
        return scope

    def _value(self, name: str, default: str | None) -> str | None:
        if name in self.options:
            return self.options[name]
        if default is None:
            return self.meta_args.get(name)
        return default

    def add_meta_arg(self, arg: Arg) -> None:
        """Declare an ARG that precedes the first FROM (already expanded)."""
        for pair in arg.args:
            self.meta_args[pair.name] = self.options.get(pair.name, pair.default)
            self.referenced.add(pair.name)

    def add_arg(self, arg: Arg) -> None:
        """Declare an ARG inside the current stage (already expanded).

        A bare ``ARG NAME`` takes the ``--build-arg`` value, else the global
        (meta) value of the same name.
        """
        for pair in arg.args:
            self.stage_args[pair.name] = self._value(pair.name, pair.default)
            self.referenced.add(pair.name)

    def meta_env(self) -> dict[str, str]:
        """The variables ``FROM`` lines (and later meta ARGs) can expand."""
        return {name: value for name, value in self.meta_args.items() if value is not None}

    def run_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """The build args a ``RUN`` gets, minus those an ``ENV`` overrides."""
        out = {name: value for name, value in self.stage_args.items() if value is not None and name not in env}
        for name in BUILTIN_ARGS:
            if name in self.options and name not in env:
                out[name] = self.options[name]
                self.referenced.add(name)
        return out

    def expansion_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """What ``$VAR`` means in an instruction: stage ARGs, then ENV on top."""
        return {**self.run_env(env), **env}

    def unused(self) -> list[str]:
        """``--build-arg`` names never declared by an ARG, sorted."""
        return sorted(name for name in self.options if name not in self.referenced)

    def unused_warning(self) -> str:
        """dockerd's warning for unused build args, or ``""``."""
        names = self.unused()
        if not names:
            return ""
        return f"[Warning] One or more build-args [{' '.join(names)}] were not consumed"


def _expand_pairs(pairs: tuple[KeyValue, ...], lex: ShellLex, env: Mapping[str, str]) -> tuple[KeyValue, ...]:
    return tuple(KeyValue(lex.process_word(p.key, env), lex.process_word(p.value, env), p.legacy) for p in pairs)


def expand_instruction(instruction: Instruction, lex: ShellLex, env: Mapping[str, str]) -> Instruction:
    """Expand ``$VAR`` in the instructions Docker expands; others are returned as is.

    ENV, LABEL, ARG, COPY, ADD, WORKDIR, USER, VOLUME, STOPSIGNAL and EXPOSE
    are expanded (quotes removed); RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK
    and ONBUILD are left to the shell. ``FROM`` uses the meta args (see
    :meth:`BuildArgs.meta_env`).

    Raises:
        ShellExpansionError: bad syntax or a ``${V:?msg}`` failure.
    """

    def word(text: str) -> str:
        return lex.process_word(text, env)

    if isinstance(instruction, Env | Label):
        return dataclasses.replace(instruction, pairs=_expand_pairs(instruction.pairs, lex, env))
    if isinstance(instruction, Arg):
        pairs = tuple(ArgPair(word(p.name), None if p.default is None else word(p.default)) for p in instruction.args)
        return dataclasses.replace(instruction, args=pairs)
    if isinstance(instruction, Copy | Add):
        return dataclasses.replace(
            instruction,
            sources=tuple(word(s) for s in instruction.sources),
            dest=word(instruction.dest),
            chown=word(instruction.chown),
            chmod=word(instruction.chmod),
        )
    if isinstance(instruction, Workdir):
        return dataclasses.replace(instruction, path=word(instruction.path))
    if isinstance(instruction, User):
        return dataclasses.replace(instruction, user=word(instruction.user))
    if isinstance(instruction, Volume):
        return dataclasses.replace(instruction, paths=tuple(word(p) for p in instruction.paths))
    if isinstance(instruction, Stopsignal):
        return dataclasses.replace(instruction, signal=word(instruction.signal))
    if isinstance(instruction, Expose):
        ports = [p for port in instruction.ports for p in lex.process_words(port, env)]
        return dataclasses.replace(instruction, ports=tuple(ports))
    return instruction
