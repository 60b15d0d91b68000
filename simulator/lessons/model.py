"""Lessons as values: what the runner, the TUI pane and the grader read.

A ``Lesson`` is one validated lesson file with its variables filled in. The
same lesson differs per student only through its variables (a container name,
a port, an image tag), substituted wherever ``${name}`` appears: in the text,
the suggested command, the checks and the reference solution.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_VAR = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")
_SUFFIXES = (
    "amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "jade",
    "kite", "lotus", "maple", "nova", "orbit", "pine", "quartz", "river", "sage", "tide",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Option:
    """One answer of a quiz or prediction, with why it is right or wrong."""

    text: str
    explain: str
    correct: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """A multiple-choice question (a quiz, or a "predict the next state" prompt)."""

    question: str
    options: tuple[Option, ...]

    @property
    def answer(self) -> int | None:
        """The index of the correct option, if the question has one."""
        return next((i for i, o in enumerate(self.options) if o.correct), None)


@dataclass(frozen=True, slots=True)
class Watch:
    """Pause the animation at a span and explain it."""

    span: str
    explain: str
    hop: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One checked step of a lesson."""

    id: str
    text: str
    check: tuple[dict[str, Any], ...]
    title: str = ""
    command: str = ""
    hints: tuple[str, ...] = ()
    quiz: Choice | None = None
    predict: Choice | None = None
    watch: Watch | None = None
    solution: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()
    success: str = ""


@dataclass(frozen=True, slots=True)
class Lesson:
    """A lesson in one language, variables filled in."""

    id: str
    lang: str
    title: str
    objectives: tuple[str, ...]
    concepts: tuple[str, ...]
    minutes: int
    backend: str
    steps: tuple[Step, ...]
    intro: str = ""
    summary: str = ""
    order: int = 0
    setup: tuple[str, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)


def default_variables(spec: dict[str, Any]) -> dict[str, str]:
    """Each variable's default value."""
    return {name: str(v["default"]) for name, v in spec.items()}


def student_variables(spec: dict[str, Any], seed: int) -> dict[str, str]:
    """Values for one student: names get a suffix, ports move, tags come from their choices.

    Deterministic for a seed, so the grader can recompute what a student was given.
    """
    rng = random.Random(seed)
    values: dict[str, str] = {}
    for name in sorted(spec):
        var = spec[name]
        kind, default = var["kind"], var["default"]
        if kind == "name":
            values[name] = f"{default}-{rng.choice(_SUFFIXES)}"
        elif kind == "port":
            values[name] = str(rng.randrange(8000, 9000))
        else:
            values[name] = str(rng.choice(list(var.get("choices") or [default])))
    return values


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """``value`` with every ``${name}`` replaced (recursively through lists and dicts)."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def _choice(raw: dict[str, Any] | None) -> Choice | None:
    if not raw:
        return None
    options = tuple(Option(o["text"], o["explain"], bool(o.get("correct", False))) for o in raw["options"])
    return Choice(raw["question"], options)


def lesson_from_data(
    data: dict[str, Any], body: str = "", variables: dict[str, str] | None = None, path: Path | None = None
) -> Lesson:
    """Build a ``Lesson`` from validated front matter, filling in ``variables`` (defaults if None)."""
    values = default_variables(data.get("variables") or {})
    values.update(variables or {})
    data = substitute(data, values)
    steps = []
    for raw in data["steps"]:
        watch = raw.get("watch")
        steps.append(
            Step(
                id=raw["id"],
                text=raw["text"].strip(),
                check=tuple(raw["check"]),
                title=raw.get("title", ""),
                command=raw.get("command", ""),
                hints=tuple(raw.get("hints") or ()),
                quiz=_choice(raw.get("quiz")),
                predict=_choice(raw.get("predict")),
                watch=Watch(watch["span"], watch["explain"].strip(), watch.get("hop", "")) if watch else None,
                solution=tuple(raw.get("solution") or ()),
                wrong=tuple(raw.get("wrong") or ()),
                success=raw.get("success", ""),
            )
        )
    return Lesson(
        id=data["id"],
        lang=data["lang"],
        title=data["title"],
        objectives=tuple(data["objectives"]),
        concepts=tuple(data["concepts"]),
        minutes=int(data["minutes"]),
        backend=data["backend"],
        steps=tuple(steps),
        intro=substitute(body, values).strip(),
        summary=data.get("summary", ""),
        order=int(data.get("order", 0)),
        setup=tuple(data.get("setup") or ()),
        variables=values,
        path=path,
    )
