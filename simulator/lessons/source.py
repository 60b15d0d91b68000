"""Reading lesson files, and saying exactly where one is wrong.

A lesson file is ``---``-fenced YAML front matter followed by Markdown. A
teacher who edits one needs ``file:line: message``, so the YAML is composed
into nodes (which remember their line) beside being loaded, and every schema
error is traced back to the line of the value it is about. ``validate_path``
is what ``csim lesson validate`` runs: on one file, or on a lessons tree
(where it also checks that every lesson exists in every language with the
same steps and checks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LANGS = ("en", "ko")
FENCE = "---"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a lesson file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(slots=True)
class LessonSource:
    """A parsed lesson file: its front matter, its body, and where each value sits."""

    path: Path
    data: dict[str, Any]
    body: str
    lines: dict[tuple[str | int, ...], int]

    def line_of(self, where: tuple[str | int, ...]) -> int:
        """The line of the value at ``where`` (or of its nearest enclosing value)."""
        key = tuple(where)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)


class LessonFileError(Exception):
    """A lesson file that cannot be read at all (no front matter, YAML syntax)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _split(text: str, name: str) -> tuple[str, int, str]:
    """Front matter text, the line it starts on (1-based), and the body."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        raise LessonFileError(Problem(name, 1, "a lesson file must start with '---' and YAML front matter"))
    for i in range(1, len(lines)):
        if lines[i].strip() == FENCE:
            return "".join(lines[1:i]), 2, "".join(lines[i + 1 :])
    raise LessonFileError(Problem(name, 1, "the front matter is not closed with '---'"))


def _line_map(node: Any, first_line: int) -> dict[tuple[str | int, ...], int]:
    import yaml

    found: dict[tuple[str | int, ...], int] = {}
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(node, ())]
    while stack:
        current, where = stack.pop()
        found.setdefault(where, current.start_mark.line + first_line)
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                path = (*where, str(key.value))
                found[path] = key.start_mark.line + first_line
                stack.append((value, path))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                stack.append((item, (*where, index)))
    return found


def read_lesson_source(path: Path) -> LessonSource:
    """Parse one lesson file; raises ``LessonFileError`` when it is not YAML front matter at all."""
    import yaml

    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LessonFileError(Problem(name, 1, f"cannot read: {err}")) from None
    front, first, body = _split(text, name)
    try:
        node = yaml.compose(front, Loader=yaml.SafeLoader)
        data = yaml.safe_load(front)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = first + (mark.line if mark is not None else 0)
        problem = getattr(err, "problem", None) or str(err)
        context, opened = getattr(err, "context", None), getattr(err, "context_mark", None)
        if context and opened is not None and opened.line + first != line:
            problem = f"{problem} ({context} that began on line {opened.line + first})"
        raise LessonFileError(Problem(name, line, f"bad YAML: {problem}")) from None
    if not isinstance(data, dict) or node is None:
        raise LessonFileError(Problem(name, first, "the front matter must be a YAML mapping"))
    return LessonSource(path, data, body, _line_map(node, first))


def schema_problems(src: LessonSource) -> list[Problem]:
    """Schema errors, plus the rules a schema cannot say (unique step ids, a right quiz answer)."""
    import jsonschema

    from simulator.lessons.schema import LESSON_SCHEMA

    validator = jsonschema.Draft202012Validator(LESSON_SCHEMA)
    problems: list[Problem] = []
    for err in _leaf_errors(validator.iter_errors(src.data)):
        where = tuple(err.absolute_path)
        label = "/".join(str(p) for p in where) or "(top)"
        message = err.message
        if err.validator == "enum" and where and where[-1] == "kind":
            message = f"unknown check kind {err.instance!r}"
        elif err.validator == "required" and "check" in str(err.message) and len(where) == 2:
            message = f"step {src.data['steps'][where[1]].get('id', where[1])!r} has no check"
        problems.append(Problem(str(src.path), src.line_of(where), f"{label}: {message}"))
    problems.extend(_semantic_problems(src))
    return sorted(set(problems), key=lambda p: (p.line, p.message))


def _leaf_errors(errors: Iterator[Any]) -> Iterator[Any]:
    for err in errors:
        if err.context:
            yield from _leaf_errors(iter(err.context))
        elif err.validator not in ("if", "allOf"):
            yield err


def _semantic_problems(src: LessonSource) -> list[Problem]:
    problems: list[Problem] = []
    name = str(src.path)
    data = src.data
    lang = data.get("lang")
    if lang in LANGS and src.path.parent.name in LANGS and src.path.parent.name != lang:
        problems.append(Problem(name, src.line_of(("lang",)), f"lang {lang!r} but the file is in {src.path.parent}"))
    steps = data.get("steps")
    if not isinstance(steps, list):
        return problems
    seen: set[str] = set()
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        sid = step.get("id")
        if isinstance(sid, str):
            if sid in seen:
                problems.append(Problem(name, src.line_of(("steps", i, "id")), f"duplicate step id {sid!r}"))
            seen.add(sid)
        for key in ("quiz", "predict"):
            choice = step.get(key)
            if isinstance(choice, dict) and isinstance(choice.get("options"), list):
                right = [o for o in choice["options"] if isinstance(o, dict) and o.get("correct")]
                if key == "quiz" and len(right) != 1:
                    problems.append(
                        Problem(name, src.line_of(("steps", i, key)), "a quiz needs exactly one correct option")
                    )
        kinds = [c.get("kind") for c in step.get("check") or [] if isinstance(c, dict)]
        if "quiz" in kinds and "quiz" not in step:
            problems.append(Problem(name, src.line_of(("steps", i, "check")), "a 'quiz' check needs a quiz"))
        if "predicted" in kinds and "predict" not in step:
            problems.append(Problem(name, src.line_of(("steps", i, "check")), "a 'predicted' check needs a predict"))
    return problems


def lesson_files(root: Path) -> list[Path]:
    """Every lesson file under ``root`` (a lessons tree, a language folder, or one file)."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.md") if p.name[:1].isdigit())


def parity_key(data: dict[str, Any]) -> Any:
    """What must be the same in every language: step ids, checks, commands, variables, setup."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "feedback"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    steps = [
        {
            "id": s.get("id"),
            "check": strip(s.get("check")),
            "command": s.get("command"),
            "solution": s.get("solution"),
            "wrong": s.get("wrong"),
            "quiz": [o.get("correct", False) for o in (s.get("quiz") or {}).get("options", [])],
            "watch": (s.get("watch") or {}).get("span"),
        }
        for s in data.get("steps") or []
        if isinstance(s, dict)
    ]
    keys = ("id", "concepts", "backend", "variables", "setup", "minutes")
    return {"steps": steps, **{k: data.get(k) for k in keys}}


def validate_path(path: Path | str) -> list[Problem]:
    """Every problem in a lesson file or tree, each with its file and line (empty when all is well)."""
    root = Path(path)
    if not root.exists():
        return [Problem(str(root), 0, "no such file or directory")]
    problems: list[Problem] = []
    sources: dict[tuple[str, str], LessonSource] = {}
    for file in lesson_files(root):
        try:
            src = read_lesson_source(file)
        except LessonFileError as err:
            problems.append(err.problem)
            continue
        problems.extend(schema_problems(src))
        lid, lang = src.data.get("id"), src.data.get("lang")
        if isinstance(lid, str) and isinstance(lang, str):
            if (lid, lang) in sources:
                problems.append(Problem(str(file), src.line_of(("id",)), f"lesson {lid!r} ({lang}) is defined twice"))
            sources[(lid, lang)] = src
    if root.is_dir():
        problems.extend(_parity_problems(sources))
    return problems


def _parity_problems(sources: dict[tuple[str, str], LessonSource]) -> list[Problem]:
    problems: list[Problem] = []
    ids = sorted({lid for lid, _ in sources})
    for lid in ids:
        present = {lang: sources[(lid, lang)] for lang in LANGS if (lid, lang) in sources}
        first = next(iter(present.values()))
        for lang in LANGS:
            if lang not in present:
                problems.append(
                    Problem(str(first.path), first.line_of(("id",)), f"lesson {lid!r} has no {lang} translation")
                )
        if len(present) < 2:
            continue
        base = present[LANGS[0]]
        for lang in LANGS[1:]:
            other = present[lang]
            if parity_key(base.data) != parity_key(other.data):
                problems.append(
                    Problem(
                        str(other.path),
                        _first_difference(base, other),
                        f"lesson {lid!r} ({lang}) differs from {LANGS[0]} in its steps, checks or setup",
                    )
                )
    return problems


def _first_difference(base: LessonSource, other: LessonSource) -> int:
    a, b = base.data.get("steps") or [], other.data.get("steps") or []
    for i in range(max(len(a), len(b))):
        if i >= len(a) or i >= len(b) or parity_key({"steps": [a[i]]}) != parity_key({"steps": [b[i]]}):
            return other.line_of(("steps", min(i, max(len(b) - 1, 0))))
    return other.line_of(())
