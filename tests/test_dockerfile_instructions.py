"""Typed instructions, stages and ARG/ENV scoping, with dockerd 20.10's messages.

The expected error strings were captured from a private dockerd 20.10.24
(legacy builder, ``DOCKER_BUILDKIT=0 docker build``).
"""

from __future__ import annotations

import pytest

from simulator.daemon.build.build_args import BuildArgs, expand_instruction
from simulator.daemon.build.instructions import (
    Add,
    Arg,
    ArgPair,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    Healthcheck,
    InstructionParseError,
    KeyValue,
    Label,
    NoBuildStageError,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    parse_instructions,
    parse_stages,
)
from simulator.daemon.build.parser import DockerfileParseError, parse_dockerfile
from simulator.daemon.build.shell_lex import ShellExpansionError, ShellLex


def stages_of(text: str) -> list:  # type: ignore[type-arg]
    return parse_instructions(parse_dockerfile(text))


def only(text: str) -> object:
    return stages_of("FROM scratch\n" + text)[0].instructions[0]


ERRORS_20_10 = [
    ("FROM scratch\nRUN x\nFOO bar\n", "dockerfile parse error line 3: unknown instruction: FOO"),
    ("from scratch\nfoo bar\n", "dockerfile parse error line 2: unknown instruction: FOO"),
    (
        "FROM scratch\nRUN echo\\\n\n  a\nFOO\n",
        "dockerfile parse error line 5: unknown instruction: FOO",
    ),
    *[
        (
            f"FROM scratch\n{cmd}\n",
            f"dockerfile parse error line 2: {cmd} requires exactly one argument",
        )
        for cmd in ("MAINTAINER", "WORKDIR", "USER", "STOPSIGNAL")
    ],
    *[
        (
            f"FROM scratch\n{cmd}\n",
            f"dockerfile parse error line 2: {cmd} requires at least one argument",
        )
        for cmd in ("ENV", "LABEL", "ONBUILD", "HEALTHCHECK", "EXPOSE", "VOLUME", "ARG")
    ],
    *[
        (
            f"FROM scratch\n{cmd} arg1\n",
            f"dockerfile parse error line 2: {cmd} requires at least two arguments, "
            "but only one was provided. Destination could not be determined",
        )
        for cmd in ("ADD", "COPY")
    ],
    (
        "FROM scratch\nHEALTHCHECK --interval=50ns CMD hello\n",
        'dockerfile parse error line 2: Interval "interval" cannot be less than 1ms',
    ),
    (
        "FROM scratch\nHEALTHCHECK --timeout=-1s CMD x\n",
        'dockerfile parse error line 2: Interval "timeout" cannot be less than 1ms',
    ),
    (
        "FROM scratch\nHEALTHCHECK --interval=1 CMD x\n",
        'dockerfile parse error line 2: time: missing unit in duration "1"',
    ),
    (
        "FROM scratch\nHEALTHCHECK --interval=abc CMD x\n",
        'dockerfile parse error line 2: time: invalid duration "abc"',
    ),
    (
        "FROM scratch\nHEALTHCHECK --retries=x CMD x\n",
        'dockerfile parse error line 2: strconv.ParseInt: parsing "x": invalid syntax',
    ),
    (
        "FROM scratch\nHEALTHCHECK --retries=0 CMD x\n",
        "dockerfile parse error line 2: --retries must be at least 1 (not 0)",
    ),
    (
        "FROM scratch\nHEALTHCHECK FOO x\n",
        'dockerfile parse error line 2: Unknown type "FOO" in HEALTHCHECK (try CMD)',
    ),
    (
        "FROM scratch\nHEALTHCHECK NONE x\n",
        "dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments",
    ),
    (
        "FROM scratch\nHEALTHCHECK CMD\n",
        "dockerfile parse error line 2: Missing command after HEALTHCHECK CMD",
    ),
    (
        "FROM scratch\nHEALTHCHECK --start-interval=1s CMD x\n",
        "dockerfile parse error line 2: Unknown flag: start-interval",
    ),
    ("FROM scratch\nCOPY --foo=1 a b\n", "dockerfile parse error line 2: Unknown flag: foo"),
    ("FROM scratch\nCOPY --link a b\n", "dockerfile parse error line 2: Unknown flag: link"),
    (
        "FROM scratch\nCOPY --chown a b\n",
        "dockerfile parse error line 2: Missing a value on flag: chown",
    ),
    (
        "FROM scratch\nCOPY --chown=1 --chown=2 a b\n",
        "dockerfile parse error line 2: Duplicate flag specified: chown",
    ),
    ("FROM scratch\nRUN --network=foo x\n", "dockerfile parse error line 2: Unknown flag: network"),
    (
        "FROM scratch\nRUN --mount a\n",
        "dockerfile parse error line 2: Missing a value on flag: mount",
    ),
    (
        "FROM scratch\nRUN --mount=type=foo x\n",
        'dockerfile parse error line 2: unsupported mount type "foo"',
    ),
    ("FROM scratch\nEXPOSE --x=1 80\n", "dockerfile parse error line 2: Unknown flag: x"),
    ("FROM --foo=x scratch\n", "dockerfile parse error line 1: Unknown flag: foo"),
    ("FROM a b\n", "dockerfile parse error line 1: FROM requires either one or three arguments"),
    (
        "FROM scratch\nFROM\n",
        "dockerfile parse error line 2: FROM requires either one or three arguments",
    ),
    (
        "FROM a as 1b\n",
        'dockerfile parse error line 1: invalid name for build stage: "1b", '
        "name can't start with a number or contain symbols",
    ),
    (
        "FROM scratch\nSHELL sh -c\n",
        "dockerfile parse error line 2: SHELL requires the arguments to be in JSON form",
    ),
    (
        "FROM scratch\nSHELL []\n",
        "dockerfile parse error line 2: SHELL requires at least one argument",
    ),
    (
        "FROM scratch\nONBUILD ONBUILD RUN x\n",
        "dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    ),
    (
        "FROM scratch\nONBUILD FROM x\n",
        "dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger",
    ),
    (
        "FROM scratch\nONBUILD MAINTAINER x\n",
        "dockerfile parse error line 2: MAINTAINER isn't allowed as an ONBUILD trigger",
    ),
    ("FROM scratch\nARG =x\n", "dockerfile parse error line 2: ARG names can not be blank"),
    ("FROM scratch\nLABEL =x\n", "dockerfile parse error line 2: LABEL names can not be blank"),
    (
        'FROM scratch\nVOLUME [""]\n',
        "dockerfile parse error line 2: VOLUME specified can not be an empty string",
    ),
    ("RUN x\n", "no build stage in current context"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS_20_10, ids=[m for _, m in ERRORS_20_10])
def test_errors_match_dockerd_20_10(text: str, message: str) -> None:
    with pytest.raises((InstructionParseError, NoBuildStageError)) as info:
        parse_stages(parse_dockerfile(text))
    assert info.value.message == message
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM scratch\nENV PATH\n", "failed to parse Dockerfile: ENV must have two arguments"),
        ("\n", "failed to parse Dockerfile: file with no instructions"),
        (
            "FROM scratch\nENV a=b c\n",
            'failed to parse Dockerfile: Syntax error - can\'t find = in "c". Must be of the form: name=value',
        ),
    ],
)
def test_parser_level_errors_match_dockerd_20_10(text: str, message: str) -> None:
    with pytest.raises(DockerfileParseError) as info:
        parse_dockerfile(text)
    assert info.value.message == message


def test_stages_meta_args_and_lines() -> None:
    text = (
        "ARG BASE=alpine\n"
        "FROM --platform=linux/amd64 $BASE AS Build\n"
        "RUN make\n"
        "FROM scratch\n"
        "COPY --from=build --chown=1:1 --chmod=755 /out /bin/\n"
    )
    stages, meta = parse_stages(parse_dockerfile(text))
    assert [a.args for a in meta] == [(ArgPair("BASE", "alpine"),)]
    assert [(s.index, s.name, s.base_name, s.platform) for s in stages] == [
        (0, "build", "$BASE", "linux/amd64"),
        (1, "", "scratch", ""),
    ]
    run = stages[0].instructions[0]
    assert isinstance(run, Run) and run.cmd == ("make",) and run.shell_form and run.line == 3
    copy = stages[1].instructions[0]
    assert copy == Copy(
        ("/out",),
        "/bin/",
        "build",
        "1:1",
        "755",
        line=5,
        end_line=5,
        original="COPY --from=build --chown=1:1 --chmod=755 /out /bin/",
    )
    assert copy.name == "COPY"


def test_each_instruction_type() -> None:
    assert only('CMD ["a", "b"]') == Cmd(("a", "b"), False, line=2, end_line=2, original='CMD ["a", "b"]')
    assert isinstance(only("ENTRYPOINT []"), Entrypoint)
    assert only("ENTRYPOINT []").cmd == ()  # type: ignore[attr-defined]
    assert only('ENV a=1 b="2 3"').pairs == (  # type: ignore[attr-defined]
        KeyValue("a", "1"),
        KeyValue("b", '"2 3"'),
    )
    assert only("ENV a b c").pairs == (KeyValue("a", "b c", legacy=True),)  # type: ignore[attr-defined]
    assert only("LABEL x=y").pairs == (KeyValue("x", "y"),)  # type: ignore[attr-defined]
    assert only("ARG a b=2").args == (ArgPair("a"), ArgPair("b", "2"))  # type: ignore[attr-defined]
    assert only("WORKDIR /a b").path == "/a b"  # type: ignore[attr-defined]
    assert only("USER me:us").user == "me:us"  # type: ignore[attr-defined]
    assert only("EXPOSE 8080 443/tcp 80").ports == ("443/tcp", "80", "8080")  # type: ignore[attr-defined]
    assert only('VOLUME ["/a", "/b"]').paths == ("/a", "/b")  # type: ignore[attr-defined]
    assert only("STOPSIGNAL SIGKILL").signal == "SIGKILL"  # type: ignore[attr-defined]
    assert only('SHELL ["bash", "-c"]').shell == ("bash", "-c")  # type: ignore[attr-defined]
    assert only("MAINTAINER me").maintainer == "me"  # type: ignore[attr-defined]
    assert only("ONBUILD RUN echo hi").expression == "RUN echo hi"  # type: ignore[attr-defined]
    assert isinstance(only("ADD a b"), Add)


def test_healthcheck_forms() -> None:
    assert only("HEALTHCHECK CMD hello world").test == ("CMD-SHELL", "hello world")  # type: ignore[attr-defined]
    check = only('HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD ["curl", "x"]')
    assert check == Healthcheck(
        ("CMD", "curl", "x"),
        interval=5_000_000_000,
        timeout=90_000_000_000,
        retries=3,
        line=2,
        end_line=2,
        original='HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD ["curl", "x"]',
    )
    assert only("HEALTHCHECK NONE").test == ("NONE",)  # type: ignore[attr-defined]


def test_run_mounts_and_heredocs() -> None:
    run = only(
        "RUN --mount=type=cache,target=/root/.cache,sharing=locked \\\n  --mount=type=secret,id=tok <<EOF\necho\nEOF"
    )
    assert isinstance(run, Run)
    assert [(m.type, m.target, m.sharing, m.id) for m in run.mounts] == [
        ("cache", "/root/.cache", "locked", ""),
        ("secret", "", "", "tok"),
    ]
    assert run.heredocs[0].content == "echo\n"
    assert (run.line, run.end_line) == (2, 5)


def test_copy_heredoc_source() -> None:
    copy = only("COPY <<-EOF /etc/motd\n\thello\nEOF")
    assert isinstance(copy, Copy)
    assert copy.sources == () and copy.dest == "/etc/motd"
    assert copy.contents[0].data == "hello\n" and copy.contents[0].expand


def test_onbuild_expression_keeps_heredoc() -> None:
    onbuild = only("ONBUILD RUN <<EOF\necho\nEOF")
    assert isinstance(onbuild, Onbuild)
    assert onbuild.expression == "RUN <<EOF\necho\nEOF"


def test_meta_args_in_from_and_build_arg_override() -> None:
    lex = ShellLex()
    stages, meta = parse_stages(parse_dockerfile("ARG TAG=3.18\nARG IMG=alpine:$TAG\nFROM $IMG\n"))
    args = BuildArgs({"TAG": "edge"})
    for arg in meta:
        args.add_meta_arg(expand_instruction(arg, lex, args.meta_env()))  # type: ignore[arg-type]
    assert lex.process_word(stages[0].base_name, args.meta_env()) == "alpine:edge"


def test_meta_arg_invisible_in_stage_until_redeclared() -> None:
    args = BuildArgs()
    args.add_meta_arg(Arg((ArgPair("V", "1"),)))
    scope = args.for_stage()
    assert "V" not in scope.expansion_env({})
    scope.add_arg(Arg((ArgPair("V"),)))
    assert scope.expansion_env({}) == {"V": "1"}


def test_env_overrides_arg_and_stage_scope_ends() -> None:
    lex = ShellLex()
    args = BuildArgs({"X": "from-cli", "UNUSED": "1", "HTTP_PROXY": "http://p"})
    scope = args.for_stage()
    scope.add_arg(Arg((ArgPair("X", "default"),)))
    env: dict[str, str] = {}
    assert scope.run_env(env) == {"X": "from-cli", "HTTP_PROXY": "http://p"}
    env["X"] = "from-env"
    workdir = expand_instruction(Workdir("/$X"), lex, scope.expansion_env(env))
    assert workdir == Workdir("/from-env")
    assert "X" not in scope.run_env(env)
    assert "X" not in args.for_stage().expansion_env({})
    assert args.unused_warning() == "[Warning] One or more build-args [UNUSED] were not consumed"


def test_expand_instruction_kinds() -> None:
    lex = ShellLex()
    env = {"A": "a", "P": "80 443"}
    assert expand_instruction(Env((KeyValue("K", '"$A b"'),)), lex, env) == Env((KeyValue("K", "a b"),))
    assert expand_instruction(Label((KeyValue("$A", "'$A'"),)), lex, env) == Label((KeyValue("a", "$A"),))
    assert expand_instruction(Copy(("$A",), "/$A/", chown="$A"), lex, env) == Copy(("a",), "/a/", chown="a")
    assert expand_instruction(Expose(("$P",)), lex, env) == Expose(("80", "443"))
    assert expand_instruction(Volume(("/$A",)), lex, env) == Volume(("/a",))
    assert expand_instruction(User("$A"), lex, env) == User("a")
    assert expand_instruction(Stopsignal("$A"), lex, env) == Stopsignal("a")
    run = Run(("echo $A",))
    assert expand_instruction(run, lex, env) is run
    with pytest.raises(ShellExpansionError):
        expand_instruction(Workdir("${A:?}${B:?unset}"), lex, env)


def test_shell_instruction_requires_json() -> None:
    assert isinstance(only('SHELL ["sh"]'), Shell)
