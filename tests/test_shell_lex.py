"""The Dockerfile shell lexer against buildkit's envVarTest and wordsTest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shared_vectors import VECTORS

from simulator.daemon.build.shell_lex import ShellExpansionError, ShellLex, go_quote

CASES: dict[str, Any] = json.loads((VECTORS / "dockerfile/shell/shell_cases.json").read_text(encoding="utf-8"))
WORD_ENV: dict[str, str] = CASES["process_word"]["env"]
WORD_CASES = [c for c in CASES["process_word"]["cases"] if c["platform"] in ("all", "unix")]
WORDS_CASES = CASES["process_words"]["cases"]


def test_vector_counts() -> None:
    assert len(CASES["process_word"]["cases"]) == 230
    assert len(WORD_CASES) == 228
    assert len(WORDS_CASES) == 24


@pytest.mark.parametrize("case", WORD_CASES, ids=lambda c: f"line{c['line']}")
def test_process_word(case: dict[str, Any]) -> None:
    lex = ShellLex("\\")
    if case["error"]:
        with pytest.raises(ShellExpansionError):
            lex.process_word(case["input"], WORD_ENV)
    else:
        assert lex.process_word(case["input"], WORD_ENV) == case["expected"]


@pytest.mark.parametrize("case", WORDS_CASES, ids=lambda c: f"line{c['line']}")
def test_process_words(case: dict[str, Any]) -> None:
    env = dict(item.split("=", 1) for item in case["env"])
    lex = ShellLex("\\")
    if case["error"]:
        with pytest.raises(ShellExpansionError):
            lex.process_words(case["input"], env)
    else:
        assert lex.process_words(case["input"], env) == case["expected_words"]


def test_error_wording() -> None:
    with pytest.raises(ShellExpansionError) as info:
        ShellLex().process_word("he${}", {})
    assert info.value.message == 'failed to process "he${}": syntax error: bad substitution'
    with pytest.raises(ShellExpansionError, match="missing '}'"):
        ShellLex().process_word("${aaa:-b", {})


@pytest.mark.parametrize(
    ("env", "word", "expected"),
    [
        ({"VAR": "plain", "ARG": "x"}, "${VAR:?message here$ARG}", "plain"),
        ({"VAR": "", "ARG": "x"}, "${VAR?message here$ARG}", ""),
        ({"VAR": "plain", "ARG": "x"}, "${VAR?message here$ARG}", "plain"),
    ],
)
def test_mandatory_ok(env: dict[str, str], word: str, expected: str) -> None:
    assert ShellLex().process_word(word, env) == expected


@pytest.mark.parametrize(
    ("env", "word"),
    [
        ({"VAR": "", "ARG": "x"}, "${VAR:?message here$ARG}"),
        ({"ARG": "x"}, "${VAR:?message here$ARG}"),
        ({"ARG": "x"}, "${VAR?message here$ARG}"),
    ],
)
def test_mandatory_fails_with_message(env: dict[str, str], word: str) -> None:
    with pytest.raises(ShellExpansionError, match="VAR: message herex"):
        ShellLex().process_word(word, env)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${F#*/}", "b/c.tar.gz"),
        ("${F##*/}", "c.tar.gz"),
        ("${F%.*}", "a/b/c.tar"),
        ("${F%%.*}", "a/b/c"),
        ("${F/b/x}", "a/x/c.tar.gz"),
        ("${F//[.]/_}", "a/b/c.tar.gz"),
        ("${F//./_}", "a/b/c_tar_gz"),
        ("${F#\\*}", "a/b/c.tar.gz"),
    ],
)
def test_pattern_modifiers(word: str, expected: str) -> None:
    assert ShellLex().process_word(word, {"F": "a/b/c.tar.gz"}) == expected


def test_backtick_escape_and_matches() -> None:
    lex = ShellLex("`")
    result = lex.process_word_with_matches("`$A-$B-\\x", {"B": "b"})
    assert result.result == "$A-b-\\x"
    assert result.matched == {"B"}


def test_skip_unset_env_keeps_references() -> None:
    lex = ShellLex(skip_unset_env=True)
    assert lex.process_word("$A ${B} ${C:-x} $D", {"D": "d"}) == "$A ${B} ${C:-x} d"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("a\tb", '"a\\tb"'),
        ('"\\', '"\\"\\\\"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("♥", '"♥"'),
        ("\u200b", '"\\u200b"'),
        ("\udcff", '"\\xff"'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted
