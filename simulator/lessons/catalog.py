"""Where lessons live and how one is found by id and language.

Lessons ship in the repository's top-level ``lessons/<lang>/NN-slug.md``;
``CSIM_LESSONS`` (or an explicit root) points elsewhere, so a teacher can keep
their own set. Files are read lazily and validated before they are taught.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from simulator.lessons.model import Lesson, lesson_from_data
from simulator.lessons.source import LessonSource, lesson_files, read_lesson_source, schema_problems


class LessonNotFound(LookupError):
    """No lesson with that id in that language."""


class InvalidLesson(ValueError):
    """A lesson file with schema problems; the message lists them with file and line."""


def lessons_root() -> Path:
    """The lessons tree: ``$CSIM_LESSONS`` or the repository's ``lessons/``."""
    env = os.environ.get("CSIM_LESSONS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "lessons"


class Catalog:
    """The lessons under one root, indexed by (id, language)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else lessons_root()
        self._sources: dict[tuple[str, str], LessonSource] | None = None

    def _index(self) -> dict[tuple[str, str], LessonSource]:
        if self._sources is None:
            found: dict[tuple[str, str], LessonSource] = {}
            if self.root.exists():
                for path in lesson_files(self.root):
                    src = read_lesson_source(path)
                    found[(str(src.data.get("id")), str(src.data.get("lang")))] = src
            self._sources = found
        return self._sources

    def ids(self, lang: str = "en") -> list[str]:
        """Lesson ids in teaching order."""
        sources = [s for (_, lg), s in self._index().items() if lg == lang]
        sources.sort(key=lambda s: (int(s.data.get("order", 0)), s.path.name))
        return [str(s.data["id"]) for s in sources]

    def source(self, lesson_id: str, lang: str = "en") -> LessonSource:
        try:
            return self._index()[(lesson_id, lang)]
        except KeyError:
            known = ", ".join(self.ids(lang)) or "none"
            raise LessonNotFound(f"no lesson {lesson_id!r} in {lang!r} (known: {known})") from None

    def variable_spec(self, lesson_id: str) -> dict[str, Any]:
        """The lesson's variables (the same in every language)."""
        return dict(self.source(lesson_id, "en").data.get("variables") or {})

    def load(self, lesson_id: str, lang: str = "en", variables: dict[str, str] | None = None) -> Lesson:
        """The lesson, validated, with ``variables`` filled in (defaults for any not given)."""
        src = self.source(lesson_id, lang)
        problems = schema_problems(src)
        if problems:
            raise InvalidLesson("\n".join(str(p) for p in problems))
        return lesson_from_data(src.data, src.body, variables, src.path)

    def all(self, lang: str = "en") -> list[Lesson]:
        return [self.load(lid, lang) for lid in self.ids(lang)]
