"""Typed Dockerfile instructions, grouped into build stages.

The parser's AST only knows words; the builder needs to know that ``COPY
--from=builder a b`` copies ``a`` from a stage into ``b``. This module turns
each AST node into a frozen dataclass and checks it the way dockerd 20.10's
legacy builder does, with its exact messages
(``dockerfile parse error line 3: unknown instruction: FOO``).

Public API, for the engineer writing the builder:

* :func:`parse_instructions` ``(result) -> list[Stage]``: the stages in
  order, each with its :class:`From` and its instructions; every instruction
  carries ``line``/``end_line`` and ``original`` (the source text, for
  ``Step 2/5 : COPY . /app``).
* :func:`parse_stages` ``(result) -> (stages, meta_args)``: the same plus
  the ``ARG`` instructions before the first ``FROM`` (usable in ``FROM``,
  see :mod:`simulator.daemon.build.build_args`).
* :func:`parse_instruction` ``(node) -> Instruction``: one node.
* :class:`InstructionParseError` (400) and :class:`NoBuildStageError` (400).

Arguments are *not* expanded here (``ENV`` values still hold their quotes);
:func:`simulator.daemon.build.build_args.expand_instruction` does that at
build time, when the environment is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypedDict

from simulator.daemon.build.flags import (
    BuildFlags,
    FlagError,
    Mount,
    parse_go_duration,
    parse_mount,
)
from simulator.daemon.build.parser import (
    Heredoc,
    Node,
    Result,
    chomp_heredoc_content,
    parse_heredoc,
)
from simulator.daemon.build.shell_lex import ShellExpansionError, go_quote
from simulator.model.errors import InvalidParameter

_STAGE_NAME = re.compile(r"[a-z][a-z0-9-_.]*\Z")
_ONBUILD_PREFIX = re.compile(r"^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*", re.I)
_GO_INT = re.compile(r"[+-]?[0-9]+\Z")
MIN_HEALTH_INTERVAL_NS = 1_000_000


class InstructionParseError(InvalidParameter):
    """An instruction is malformed: ``dockerfile parse error line N: <detail>``."""

    def __init__(self, detail: str, line: int) -> None:
        super().__init__(f"dockerfile parse error line {line}: {detail}")
        self.detail = detail
        self.line = line


class NoBuildStageError(InvalidParameter):
    """An instruction other than ARG comes before the first FROM."""

    def __init__(self) -> None:
        super().__init__("no build stage in current context")


class _Invalid(Exception):
    """Raised inside the per-instruction parsers; becomes InstructionParseError."""


@dataclass(frozen=True, kw_only=True)
class Instruction:
    """What every instruction carries.

    Attributes:
        line: first source line (1-based).
        end_line: last source line.
        original: the source text, continuations joined.
    """

    line: int = 0
    end_line: int = 0
    original: str = ""

    @property
    def name(self) -> str:
        """The instruction keyword, upper case (``COPY``)."""
        return type(self).__name__.upper()


@dataclass(frozen=True)
class KeyValue:
    """One ``ENV``/``LABEL`` pair; ``legacy`` for ``ENV key value`` (no ``=``)."""

    key: str
    value: str
    legacy: bool = False


@dataclass(frozen=True)
class ArgPair:
    """One name of an ``ARG`` instruction and its default, if any."""

    name: str
    default: str | None = None


@dataclass(frozen=True)
class SourceContent:
    """A ``COPY <<EOF dest`` heredoc source: inline file data."""

    path: str
    data: str
    expand: bool


@dataclass(frozen=True)
class From(Instruction):
    """``FROM [--platform=p] image [AS name]``; starts a stage."""

    image: str
    stage_name: str = ""
    platform: str = ""


@dataclass(frozen=True)
class Run(Instruction):
    """``RUN``: ``cmd`` is ``[script]`` in shell form, argv in exec form."""

    cmd: tuple[str, ...]
    shell_form: bool = True
    heredocs: tuple[Heredoc, ...] = ()
    mounts: tuple[Mount, ...] = ()


@dataclass(frozen=True)
class Copy(Instruction):
    """``COPY [--from=stage] [--chown=u:g] [--chmod=m] src... dest``."""

    sources: tuple[str, ...]
    dest: str
    from_stage: str = ""
    chown: str = ""
    chmod: str = ""
    contents: tuple[SourceContent, ...] = ()


@dataclass(frozen=True)
class Add(Instruction):
    """``ADD [--chown=u:g] [--chmod=m] src... dest`` (URLs, archives)."""

    sources: tuple[str, ...]
    dest: str
    chown: str = ""
    chmod: str = ""
    contents: tuple[SourceContent, ...] = ()


@dataclass(frozen=True)
class Env(Instruction):
    """``ENV k=v ...`` or ``ENV k v``."""

    pairs: tuple[KeyValue, ...]


@dataclass(frozen=True)
class Arg(Instruction):
    """``ARG name[=default] ...``: one or more build arguments."""

    args: tuple[ArgPair, ...]


@dataclass(frozen=True)
class Workdir(Instruction):
    """``WORKDIR path``."""

    path: str


@dataclass(frozen=True)
class User(Instruction):
    """``USER user[:group]``."""

    user: str


@dataclass(frozen=True)
class Cmd(Instruction):
    """``CMD``: shell form (``["echo hi"]``) or exec form."""

    cmd: tuple[str, ...]
    shell_form: bool = True


@dataclass(frozen=True)
class Entrypoint(Instruction):
    """``ENTRYPOINT``: like CMD; an empty exec form clears it."""

    cmd: tuple[str, ...]
    shell_form: bool = True


@dataclass(frozen=True)
class Expose(Instruction):
    """``EXPOSE 80 443/tcp`` (sorted, as Docker does)."""

    ports: tuple[str, ...]


@dataclass(frozen=True)
class Label(Instruction):
    """``LABEL k=v ...``."""

    pairs: tuple[KeyValue, ...]


@dataclass(frozen=True)
class Volume(Instruction):
    """``VOLUME /a /b`` or ``VOLUME ["/a"]``."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class Stopsignal(Instruction):
    """``STOPSIGNAL SIGTERM``."""

    signal: str


@dataclass(frozen=True)
class Healthcheck(Instruction):
    """``HEALTHCHECK``: ``test`` is Docker's form (``["NONE"]``, ``["CMD-SHELL", s]``).

    Durations are nanoseconds, 0 meaning "inherit the default".
    """

    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    retries: int = 0


@dataclass(frozen=True)
class Shell(Instruction):
    """``SHELL ["/bin/bash", "-c"]``."""

    shell: tuple[str, ...]


@dataclass(frozen=True)
class Onbuild(Instruction):
    """``ONBUILD <instruction>``: the trigger's source text, run by child images."""

    expression: str


@dataclass(frozen=True)
class Maintainer(Instruction):
    """``MAINTAINER name`` (deprecated; sets the image author)."""

    maintainer: str


@dataclass
class Stage:
    """One ``FROM`` and the instructions after it.

    Attributes:
        index: position among the stages (``COPY --from=0``).
        from_: the stage's FROM instruction.
        instructions: the instructions of the stage, in order.
    """

    index: int
    from_: From
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The ``AS`` name, lower case, or ``""``."""
        return self.from_.stage_name

    @property
    def base_name(self) -> str:
        """The image (or earlier stage) this stage starts from, unexpanded."""
        return self.from_.image

    @property
    def platform(self) -> str:
        """The ``--platform`` value, unexpanded, or ``""``."""
        return self.from_.platform


class _Location(TypedDict):
    line: int
    end_line: int
    original: str


def _common(node: Node) -> _Location:
    return {"line": node.start_line, "end_line": node.end_line, "original": node.original}


def _exactly_one(instruction: str, args: list[str]) -> str:
    if len(args) != 1:
        raise _Invalid(f"{instruction} requires exactly one argument")
    return args[0]


def _at_least_one(instruction: str, args: list[str]) -> None:
    if not args:
        raise _Invalid(f"{instruction} requires at least one argument")


def _command_line(node: Node, args: list[str]) -> tuple[str, ...]:
    # Shell form is one string; exec form keeps the array.
    if not args:
        return ()
    return tuple(args) if node.json else (" ".join(args),)


def _key_values(instruction: str, args: list[str]) -> tuple[KeyValue, ...]:
    _at_least_one(instruction, args)
    if len(args) % 3:
        raise _Invalid(f"Bad input to {instruction}, too many arguments")
    pairs = []
    for i in range(0, len(args), 3):
        if not args[i]:
            raise _Invalid(f"{instruction} names can not be blank")
        pairs.append(KeyValue(args[i], args[i + 1], legacy=args[i + 2] == ""))
    return tuple(pairs)


def _sources_and_dest(
    instruction: str, node: Node, args: list[str]
) -> tuple[tuple[str, ...], str, tuple[SourceContent, ...]]:
    if len(args) < 2:
        raise _Invalid(
            f"{instruction} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    dest = args[-1]
    if _heredoc(dest) is not None:
        raise _Invalid(f"{instruction} cannot accept a heredoc as a destination")
    by_name = {doc.name: doc for doc in node.heredocs}
    sources: list[str] = []
    contents: list[SourceContent] = []
    for src in args[:-1]:
        doc = _heredoc(src)
        if doc is None:
            sources.append(src)
            continue
        data = by_name[doc.name].content if doc.name in by_name else ""
        if doc.chomp:
            data = chomp_heredoc_content(data)
        contents.append(SourceContent(doc.name, data, doc.expand))
    return tuple(sources), dest, tuple(contents)


def _heredoc(word: str) -> Heredoc | None:
    try:
        return parse_heredoc(word)
    except ShellExpansionError:
        return None


def _parse_from(node: Node, args: list[str], flags: BuildFlags) -> From:
    stage_name = ""
    if len(args) == 3 and args[1].lower() == "as":
        stage_name = args[2].lower()
        if not _STAGE_NAME.match(stage_name):
            raise _Invalid(
                f"invalid name for build stage: {go_quote(args[2])}, name can't start with a number or contain symbols"
            )
    elif len(args) != 1:
        raise _Invalid("FROM requires either one or three arguments")
    platform = flags.add_string("platform")
    flags.parse()
    return From(args[0], stage_name, platform.value, **_common(node))


def _duration(flag_name: str, text: str) -> int:
    if not text:
        return 0
    nanos = parse_go_duration(text)
    if nanos == 0:
        return 0
    if nanos < MIN_HEALTH_INTERVAL_NS:
        raise _Invalid(f'Interval "{flag_name}" cannot be less than 1ms')
    return nanos


def _parse_healthcheck(node: Node, args: list[str], flags: BuildFlags) -> Healthcheck:
    _at_least_one("HEALTHCHECK", args)
    kind = args[0].upper()
    rest = args[1:]
    common = _common(node)
    if kind == "NONE":
        if rest:
            raise _Invalid("HEALTHCHECK NONE takes no arguments")
        return Healthcheck(("NONE",), **common)
    names = ("interval", "timeout", "start-period", "retries")
    declared = {name: flags.add_string(name) for name in names}
    flags.parse()
    if kind != "CMD":
        raise _Invalid(f"Unknown type {go_quote(kind)} in HEALTHCHECK (try CMD)")
    command = _command_line(node, rest)
    if not command:
        raise _Invalid("Missing command after HEALTHCHECK CMD")
    test = ("CMD" if node.json else "CMD-SHELL", *command)
    durations = [_duration(name, declared[name].value) for name in names[:3]]
    retries = 0
    text = declared["retries"].value
    if text:
        if not _GO_INT.match(text):
            raise _Invalid(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
        retries = int(text)
        if not -(2**31) <= retries < 2**31:
            raise _Invalid(f"strconv.ParseInt: parsing {go_quote(text)}: value out of range")
        if retries < 1:
            raise _Invalid(f"--retries must be at least 1 (not {retries})")
    interval, timeout, start_period = durations
    return Healthcheck(
        test,
        interval=interval,
        timeout=timeout,
        start_period=start_period,
        retries=retries,
        **common,
    )


def _parse_onbuild(node: Node, args: list[str], flags: BuildFlags) -> Onbuild:
    _at_least_one("ONBUILD", args)
    flags.parse()
    trigger = args[0].strip().upper()
    if trigger == "ONBUILD":
        raise _Invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("MAINTAINER", "FROM"):
        raise _Invalid(f"{trigger} isn't allowed as an ONBUILD trigger")
    expression = _ONBUILD_PREFIX.sub("", node.original, count=1)
    for doc in node.heredocs:
        expression += "\n" + doc.content + doc.name
    return Onbuild(expression, **_common(node))


def _parse_arg(node: Node, args: list[str]) -> Arg:
    _at_least_one("ARG", args)
    pairs = []
    for arg in args:
        name, has_default, default = arg.partition("=")
        if has_default and not name:
            raise _Invalid("ARG names can not be blank")
        pairs.append(ArgPair(name, default if has_default else None))
    return Arg(tuple(pairs), **_common(node))


def _parse_volume(node: Node, args: list[str], flags: BuildFlags) -> Volume:
    _at_least_one("VOLUME", args)
    flags.parse()
    paths = tuple(arg.strip() for arg in args)
    if "" in paths:
        raise _Invalid("VOLUME specified can not be an empty string")
    return Volume(paths, **_common(node))


def _parse_shell(node: Node, args: list[str], flags: BuildFlags) -> Shell:
    flags.parse()
    shell = _command_line(node, args)
    if not shell:
        raise _Invalid("SHELL requires at least one argument")
    if not node.json:
        raise _Invalid("SHELL requires the arguments to be in JSON form")
    return Shell(shell, **_common(node))


def _parse_run(node: Node, args: list[str], flags: BuildFlags) -> Run:
    mount_flag = flags.add_strings("mount")
    flags.parse()
    mounts = tuple(parse_mount(spec) for spec in mount_flag.values)
    return Run(
        _command_line(node, args),
        not node.json,
        tuple(node.heredocs),
        mounts,
        **_common(node),
    )


def _dispatch(node: Node) -> Instruction:
    keyword = node.value.lower()
    args = node.arg_values()
    flags = BuildFlags(node.flags)
    common = _common(node)
    result: Instruction
    if keyword == "from":
        return _parse_from(node, args, flags)
    if keyword == "run":
        return _parse_run(node, args, flags)
    if keyword in ("copy", "add"):
        name = keyword.upper()
        if len(args) < 2:
            _sources_and_dest(name, node, args)
        chown = flags.add_string("chown")
        chmod = flags.add_string("chmod")
        from_stage = flags.add_string("from") if keyword == "copy" else None
        flags.parse()
        sources, dest, contents = _sources_and_dest(name, node, args)
        if from_stage is not None:
            result = Copy(sources, dest, from_stage.value, chown.value, chmod.value, contents, **common)
        else:
            result = Add(sources, dest, chown.value, chmod.value, contents, **common)
        return result
    if keyword in ("env", "label"):
        flags.parse()
        pairs = _key_values(keyword.upper(), args)
        return (Env if keyword == "env" else Label)(pairs, **common)
    if keyword == "arg":
        return _parse_arg(node, args)
    if keyword in ("workdir", "user", "maintainer"):
        value = _exactly_one(keyword.upper(), args)
        flags.parse()
        cls = {"workdir": Workdir, "user": User, "maintainer": Maintainer}[keyword]
        return cls(value, **common)
    if keyword == "stopsignal":
        # dockerd 20.10 does not check STOPSIGNAL's flags at all.
        return Stopsignal(_exactly_one("STOPSIGNAL", args), **common)
    if keyword in ("cmd", "entrypoint"):
        flags.parse()
        cls2 = Cmd if keyword == "cmd" else Entrypoint
        return cls2(_command_line(node, args), not node.json, **common)
    if keyword == "expose":
        _at_least_one("EXPOSE", args)
        flags.parse()
        return Expose(tuple(sorted(args)), **common)
    if keyword == "volume":
        return _parse_volume(node, args, flags)
    if keyword == "healthcheck":
        return _parse_healthcheck(node, args, flags)
    if keyword == "onbuild":
        return _parse_onbuild(node, args, flags)
    if keyword == "shell":
        return _parse_shell(node, args, flags)
    raise _Invalid(f"unknown instruction: {node.value.upper()}")


def parse_instruction(node: Node) -> Instruction:
    """Turn one AST instruction node into its typed instruction.

    Raises:
        InstructionParseError: wrong arguments or flags, unknown instruction.
    """
    try:
        return _dispatch(node)
    except (_Invalid, FlagError) as exc:
        raise InstructionParseError(str(exc), node.start_line) from None


def parse_stages(result: Result) -> tuple[list[Stage], list[Arg]]:
    """Group a parsed Dockerfile into stages.

    Returns:
        The stages in order, and the ``ARG`` instructions before the first
        ``FROM`` (the meta args, the only variables ``FROM`` can use).

    Raises:
        InstructionParseError: an instruction is malformed.
        NoBuildStageError: an instruction other than ARG precedes FROM.
    """
    stages: list[Stage] = []
    meta_args: list[Arg] = []
    for node in result.ast.children:
        instruction = parse_instruction(node)
        if isinstance(instruction, From):
            stages.append(Stage(len(stages), instruction))
        elif stages:
            stages[-1].instructions.append(instruction)
        elif isinstance(instruction, Arg):
            meta_args.append(instruction)
        else:
            raise NoBuildStageError()
    return stages, meta_args


def parse_instructions(result: Result) -> list[Stage]:
    """The stages of a parsed Dockerfile (see :func:`parse_stages`)."""
    return parse_stages(result)[0]
