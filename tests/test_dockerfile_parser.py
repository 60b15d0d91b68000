"""The Dockerfile parser against buildkit's parser test vectors."""

from __future__ import annotations

import pytest
from shared_vectors import VECTORS as SHARED_VECTORS

from simulator.daemon.build.line_parsers import parse_words
from simulator.daemon.build.parser import (
    DockerfileParseError,
    chomp_heredoc_content,
    parse_dockerfile,
    parse_heredoc,
)

VECTORS = SHARED_VECTORS / "dockerfile"
POSITIVE = sorted(p.name for p in (VECTORS / "parser-positive").iterdir())
NEGATIVE = sorted(p.name for p in (VECTORS / "parser-negative").iterdir())


def test_vector_counts() -> None:
    assert len(POSITIVE) == 33
    assert len(NEGATIVE) == 4


@pytest.mark.parametrize("name", POSITIVE)
def test_positive_dump(name: str) -> None:
    case = VECTORS / "parser-positive" / name
    result = parse_dockerfile((case / "Dockerfile").read_bytes())
    assert result.ast.dump() + "\n" == (case / "result").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NEGATIVE)
def test_negative_fails(name: str) -> None:
    with pytest.raises(DockerfileParseError) as info:
        parse_dockerfile((VECTORS / "parser-negative" / name / "Dockerfile").read_bytes())
    assert info.value.status == 400
    assert info.value.message.startswith("failed to parse Dockerfile: ")


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("empty_dockerfile", "file with no instructions"),
        ("only_comments", "file with no instructions"),
        ("env_no_value", "ENV must have two arguments"),
        (
            "shykes-nested-json",
            "when using JSON array syntax, arrays must be comprised of strings only",
        ),
    ],
)
def test_negative_messages(name: str, detail: str) -> None:
    with pytest.raises(DockerfileParseError) as info:
        parse_dockerfile((VECTORS / "parser-negative" / name / "Dockerfile").read_bytes())
    assert info.value.detail == detail


def test_line_numbers() -> None:
    ast = parse_dockerfile((VECTORS / "parser-lineinfo" / "Dockerfile").read_bytes()).ast
    assert (ast.start_line, ast.end_line) == (5, 31)
    assert [(c.start_line, c.end_line) for c in ast.children] == [(5, 5), (11, 12), (17, 31)]


def test_line_too_long() -> None:
    text = "\n\t\tFROM image\n\t\tLABEL test=" + "a" * 65536 + "\n"
    with pytest.raises(DockerfileParseError) as info:
        parse_dockerfile(text)
    assert info.value.detail == "dockerfile line greater than max allowed size of 65535"


def test_empty_continuation_warnings() -> None:
    text = (
        "\nFROM alpine:3.6\nRUN valid \\\n    continuation\nRUN something \\\n\n    following \\\n"
        "\n    more\nRUN another \\\n\n    thing\nRUN non-indented \\\n# this is a comment\n"
        "   after-comment\nRUN indented \\\n    # this is an indented comment\n    comment\n\t"
    )
    result = parse_dockerfile(text)
    assert len(result.warnings) == 2
    assert "Empty continuation line found in" in result.warnings[0].short
    assert "RUN something     following     more" in result.warnings[0].short
    assert "RUN another     thing" in result.warnings[1].short
    assert "will become errors in a future release" in result.warnings[0].detail
    assert result.warning_lines()[-1].startswith("[WARNING]: Empty continuation lines")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("foo", ["foo"]),
        ("foo bar", ["foo", "bar"]),
        ("foo\\ bar", ["foo\\ bar"]),
        ("foo=bar", ["foo=bar"]),
        ("foo bar 'abc xyz'", ["foo", "bar", "'abc xyz'"]),
        ('foo bar "abc xyz"', ["foo", "bar", '"abc xyz"']),
        ("àöû", ["àöû"]),
        ('föo bàr "âbc xÿz"', ["föo", "bàr", '"âbc xÿz"']),
    ],
)
def test_parse_words(text: str, words: list[str]) -> None:
    assert parse_words(text, "\\") == words


def test_directives_reported() -> None:
    result = parse_dockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n")
    assert [(d.name, d.value, d.line) for d in result.directives] == [
        ("syntax", "docker/dockerfile:1", 1),
        ("escape", "`", 2),
    ]
    assert result.escape_token == "`"


def test_duplicate_and_invalid_directive() -> None:
    with pytest.raises(DockerfileParseError, match="only one escape parser directive"):
        parse_dockerfile("# escape=`\n# escape=\\\nFROM a\n")
    with pytest.raises(DockerfileParseError, match="invalid escape token 'x' does not match"):
        parse_dockerfile("# escape=x\nFROM a\n")


def test_flags_and_json_attribute() -> None:
    child = parse_dockerfile('COPY --from=build --chown="a b" x y\nCMD ["a"]\n').ast.children
    assert child[0].flags == ["--from=build", "--chown=a b"]
    assert child[0].arg_values() == ["x", "y"]
    assert child[1].json and not child[0].json


def test_heredoc_run() -> None:
    text = "FROM a\nRUN <<EOF\necho hi\necho there\nEOF\nRUN after\n"
    ast = parse_dockerfile(text).ast
    run = ast.children[1]
    assert run.arg_values() == ["<<EOF"]
    assert len(run.heredocs) == 1
    doc = run.heredocs[0]
    assert (doc.name, doc.content, doc.expand, doc.chomp) == (
        "EOF",
        "echo hi\necho there\n",
        True,
        False,
    )
    assert (run.start_line, run.end_line) == (2, 5)
    assert ast.children[2].start_line == 6


def test_heredoc_quoted_chomped_and_several() -> None:
    text = "FROM a\nCOPY <<-'A' 3<<B /dst/\n\tone\n\tA\ntwo\nB\n"
    copy = parse_dockerfile(text).ast.children[1]
    assert [(d.name, d.expand, d.chomp, d.file_descriptor) for d in copy.heredocs] == [
        ("A", False, True, 0),
        ("B", True, False, 3),
    ]
    assert chomp_heredoc_content(copy.heredocs[0].content) == "one\n"


def test_heredoc_unterminated() -> None:
    with pytest.raises(DockerfileParseError) as info:
        parse_dockerfile("FROM a\nRUN <<EOF\necho\n")
    assert info.value.detail == "unterminated heredoc"
    assert info.value.start_line == 2


def test_heredoc_not_in_exec_form() -> None:
    ast = parse_dockerfile('FROM a\nRUN ["cat", "<<EOF"]\nEOF\n').ast
    assert not ast.children[1].heredocs
    assert ast.children[2].value == "EOF"


def test_parse_heredoc_word() -> None:
    assert parse_heredoc("echo") is None
    assert parse_heredoc("<<") is None
    doc = parse_heredoc('<<"EOF"')
    assert doc is not None and doc.name == "EOF" and not doc.expand


def test_onbuild_nests_and_keeps_comments() -> None:
    ast = parse_dockerfile("# about a\nFROM a\nONBUILD RUN echo hi\n").ast
    assert ast.children[0].prev_comment == ["about a"]
    assert ast.children[1].dump() == 'onbuild (run "echo hi")'


def test_bom_and_crlf() -> None:
    ast = parse_dockerfile("\ufeffFROM a\r\nRUN b \\\r\n  c\r\n").ast
    assert ast.dump() == '(from "a")\n(run "b   c")'
