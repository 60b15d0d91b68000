"""Lesson files: schema, parity between languages, coverage of the twelve concepts, validate with file:line."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from simulator.lessons.catalog import Catalog, lessons_root
from simulator.lessons.cli import build_parser, cmd_lesson
from simulator.lessons.schema import CONCEPTS
from simulator.lessons.source import parity_key, read_lesson_source, validate_path

ROOT = lessons_root()
CATALOG = Catalog(ROOT)
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_shipped_lessons_validate_cleanly() -> None:
    assert validate_path(ROOT) == []
    assert len(CATALOG.ids("en")) >= 12


def test_every_lesson_exists_in_both_languages_with_identical_steps_and_checks() -> None:
    assert CATALOG.ids("en") == CATALOG.ids("ko")
    for lid in CATALOG.ids("en"):
        en, ko = CATALOG.source(lid, "en"), CATALOG.source(lid, "ko")
        assert parity_key(en.data) == parity_key(ko.data), lid
        assert [s["id"] for s in en.data["steps"]] == [s["id"] for s in ko.data["steps"]]


def _texts(data: object) -> list[str]:
    keys = {"title", "text", "question", "explain", "feedback", "success", "summary"}
    found: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if k in keys and isinstance(v, str):
                    found.append(v)
                elif k in ("hints", "objectives") and isinstance(v, list):
                    found.extend(x for x in v if isinstance(x, str))
                else:
                    stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def test_korean_text_is_korean_prose_not_english_left_untranslated() -> None:
    for lid in CATALOG.ids("ko"):
        src = CATALOG.source(lid, "ko")
        en = CATALOG.source(lid, "en")
        assert len(HANGUL.findall(src.body)) > 40, f"{lid}: the introduction is not Korean"
        for step_ko, step_en in zip(src.data["steps"], en.data["steps"], strict=True):
            assert HANGUL.search(step_ko["text"]), f"{lid}/{step_ko['id']}: step text is not Korean"
            assert step_ko["text"] != step_en["text"]
        texts = [t for t in _texts(src.data) if len(t) > 25]
        korean = [t for t in texts if HANGUL.search(t)]
        assert len(korean) >= 0.8 * len(texts), f"{lid}: too much untranslated text"
        # learner-facing polite style, as Korean textbooks address students
        assert re.search(r"(세요|니다|까요)", src.body + " ".join(texts)), lid


def test_lessons_cover_all_twelve_concepts() -> None:
    covered = {c for lesson in CATALOG.all("en") for c in lesson.concepts}
    assert covered == set(CONCEPTS)
    assert len(CONCEPTS) == 12


def test_every_step_has_a_check_and_every_command_step_a_reference_solution() -> None:
    for lesson in CATALOG.all("en"):
        for step in lesson.steps:
            assert step.check
            if step.command:
                assert step.solution, f"{lesson.id}/{step.id}"
            if step.quiz is not None:
                assert step.quiz.answer is not None


GOOD = """---
id: demo-lesson
lang: {lang}
title: T
objectives: [o]
concepts: [volume]
minutes: 5
backend: sim
steps:
  - id: one
    text: do it
    check:
      - kind: volume
        name: v
---
body
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_reports_each_broken_lesson_with_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "en" / "01-good.md", GOOD.format(lang="en"))
    _write(tmp_path / "ko" / "01-good.md", GOOD.format(lang="ko"))
    bad_yaml = _write(
        tmp_path / "en" / "02-bad-yaml.md",
        GOOD.format(lang="en").replace("demo-lesson", "bad-yaml").replace("minutes: 5", "minutes: [5"),
    )
    unknown = _write(
        tmp_path / "en" / "03-unknown.md",
        GOOD.format(lang="en").replace("demo-lesson", "unknown").replace("kind: volume", "kind: teleport"),
    )
    _write(tmp_path / "ko" / "03-unknown.md", GOOD.format(lang="ko").replace("demo-lesson", "unknown"))
    untranslated = _write(tmp_path / "en" / "04-only-en.md", GOOD.format(lang="en").replace("demo-lesson", "only-en"))
    no_check_text = (
        GOOD.format(lang="en")
        .replace("demo-lesson", "no-check")
        .replace("    check:\n      - kind: volume\n        name: v\n", "")
    )
    no_check = _write(tmp_path / "en" / "05-no-check.md", no_check_text)
    _write(tmp_path / "ko" / "05-no-check.md", no_check_text.replace("lang: en", "lang: ko"))

    problems = validate_path(tmp_path)
    by_file = {p.file: p for p in problems}
    assert by_file[str(bad_yaml)].line == 8 and "YAML" in by_file[str(bad_yaml)].message
    assert "began on line 7" in by_file[str(bad_yaml)].message
    unknown_p = [p for p in problems if p.file == str(unknown) and "unknown check kind" in p.message]
    assert unknown_p and unknown_p[0].line == 13
    assert "'teleport'" in unknown_p[0].message
    missing = [p for p in problems if p.file == str(untranslated)]
    assert missing and "no ko translation" in missing[0].message and missing[0].line == 2
    nocheck = [p for p in problems if p.file == str(no_check)]
    assert nocheck and "has no check" in nocheck[0].message and nocheck[0].line == 10
    # the good lesson has no problems
    assert not [p for p in problems if p.file.endswith("01-good.md")]

    out, err = io.StringIO(), io.StringIO()
    code = cmd_lesson(build_parser().parse_args(["lesson", "validate", str(tmp_path)]), out, err)
    assert code == 1
    assert f"{bad_yaml}:8: bad YAML" in err.getvalue()
    assert f"{no_check}:10:" in err.getvalue()


def test_validate_on_the_shipped_tree_exits_zero() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cmd_lesson(build_parser().parse_args(["lesson", "validate", str(ROOT)]), out, err) == 0
    assert err.getvalue() == ""


def test_a_parity_break_is_reported_at_the_differing_step(tmp_path: Path) -> None:
    _write(tmp_path / "en" / "01-a.md", GOOD.format(lang="en"))
    ko = _write(tmp_path / "ko" / "01-a.md", GOOD.format(lang="ko").replace("name: v", "name: w"))
    problems = validate_path(tmp_path)
    assert [(p.file, p.line) for p in problems] == [(str(ko), 10)]
    assert "differs from en" in problems[0].message


@pytest.mark.parametrize("lesson_id", CATALOG.ids("en")[:1])
def test_source_lines_point_at_values(lesson_id: str) -> None:
    src = read_lesson_source(CATALOG.source(lesson_id, "en").path)
    text = src.path.read_text(encoding="utf-8").splitlines()
    line = src.line_of(("steps", 0, "id"))
    assert "id:" in text[line - 1]
