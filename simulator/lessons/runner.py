"""Running a lesson: the current step, its check, hints one by one, answers, progress on disk.

``LessonRunner`` is used by the plain-terminal ``csim lesson`` commands and by
the TUI's lesson pane alike. It remembers, per step, where the trace stood
when the step began, so a span check counts only what the student did during
that step; that mark, the hints revealed, the answers given and the attempts
are saved as JSON after every change, so a student can stop and come back.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.lessons.backends import BackendUnavailable, world_mismatch
from simulator.lessons.checks import CheckContext, Outcome, evaluate, pattern
from simulator.lessons.model import Choice, Lesson, Step
from simulator.lessons.view import WorldAdapter, WorldView, student_spans
from simulator.trace.span import Span


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict on the current step."""

    step_id: str
    passed: bool
    outcomes: tuple[Outcome, ...]

    @property
    def feedback(self) -> str:
        """What to tell the student: the lesson's feedback of the first failing predicate, else its detail."""
        for o in self.outcomes:
            if not o.passed:
                return o.feedback or o.detail
        return ""


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """The verdict on a quiz answer or a prediction, with the chosen option's explanation."""

    correct: bool
    explain: str
    answer: int | None


class ProgressStore:
    """Lesson progress as JSON: in memory, or in a file rewritten atomically on every save."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.data: dict[str, Any] = {"lessons": {}}
        if self.path is not None and self.path.exists():
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict) and isinstance(loaded.get("lessons"), dict):
                    self.data = loaded
            except (OSError, ValueError):
                pass

    def lesson(self, lesson_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.data["lessons"].get(lesson_id)
        return found

    def put(self, lesson_id: str, state: dict[str, Any]) -> None:
        self.data["lessons"][lesson_id] = state
        self.save()

    def drop(self, lesson_id: str) -> None:
        self.data["lessons"].pop(lesson_id, None)
        if self.data.get("active") == lesson_id:
            self.data.pop("active", None)
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)


class LessonRunner:
    """Steps through one lesson against a world.

    Args:
        world: a ``World`` (or anything ``WorldAdapter`` wraps); used for setup and ``run``.
        lesson: the lesson, variables filled in.
        progress: where progress is kept.
        view: how checks see the world (default: ``WorldAdapter(world)``).

    Raises:
        BackendUnavailable: a ``backend: linux`` lesson given the simulated world
            (see ``simulator.lessons.backends.open_world`` for the right one).
    """

    def __init__(self, world: Any, lesson: Lesson, progress: ProgressStore, view: WorldView | None = None) -> None:
        mismatch = world_mismatch(lesson.backend, world)
        if mismatch is not None:
            raise BackendUnavailable(mismatch)
        self.world = world
        self.lesson = lesson
        self.progress = progress
        self.view: WorldView = view if view is not None else WorldAdapter(world)
        state = progress.lesson(lesson.id)
        if state is not None and state.get("variables") != lesson.variables:
            state = None  # a different student's (or default) values: the old marks mean nothing here
        self.state: dict[str, Any] = state if state is not None else self._begin()
        progress.data["active"] = lesson.id
        progress.save()

    # -- state ------------------------------------------------------------------------------
    def _marks(self) -> tuple[int, int]:
        spans = self.view.spans()
        events = self.view.events()
        return max((s.span_id for s in spans), default=0), max((e.time_ns for e in events), default=0)

    def _begin(self) -> dict[str, Any]:
        ensure = getattr(self.world, "ensure_base_images", None)
        if callable(ensure):
            ensure()  # the real backend has no registry: its busybox comes from the host
        for line in self.lesson.setup:
            self.world.run_cli(shlex.split(line))
        span_mark, event_mark = self._marks()
        state: dict[str, Any] = {
            "lang": self.lesson.lang,
            "variables": self.lesson.variables,
            "step": 0,
            "span_mark": span_mark,
            "event_mark": event_mark,
            "started_at": time.time(),
            "steps": {},
        }
        self.progress.put(self.lesson.id, state)
        self.state = state
        if self.lesson.steps:
            self._step_state(self.lesson.steps[0])
        return state

    def _step_state(self, step: Step) -> dict[str, Any]:
        steps: dict[str, Any] = self.state["steps"]
        if step.id not in steps:
            span_mark, event_mark = self._marks()
            steps[step.id] = {
                "span_mark": span_mark,
                "event_mark": event_mark,
                "hints": 0,
                "attempts": 0,
                "passed": False,
                "answer": None,
                "quiz_correct": False,
                "prediction": None,
                "started_at": time.time(),
            }
            self.progress.put(self.lesson.id, self.state)
        found: dict[str, Any] = steps[step.id]
        return found

    @property
    def step_index(self) -> int:
        return int(self.state["step"])

    @property
    def current_step(self) -> Step | None:
        """The step being worked on, or None when the lesson is finished."""
        index = self.step_index
        return self.lesson.steps[index] if index < len(self.lesson.steps) else None

    @property
    def finished(self) -> bool:
        return self.current_step is None

    def step_record(self, step_id: str) -> dict[str, Any] | None:
        """The saved record of a step (hints, attempts, passed, answers), if begun."""
        found: dict[str, Any] | None = self.state["steps"].get(step_id)
        return found

    # -- acting -----------------------------------------------------------------------------
    def check(self) -> CheckResult:
        """Evaluate the current step's checks against the world as it is now."""
        step = self.current_step
        if step is None:
            return CheckResult("", True, ())
        rec = self._step_state(step)
        ctx = CheckContext(
            step_span_mark=int(rec["span_mark"]),
            lesson_span_mark=int(self.state["span_mark"]),
            step_event_mark=int(rec["event_mark"]),
            lesson_event_mark=int(self.state["event_mark"]),
            quiz_correct=bool(rec["quiz_correct"]),
            predicted=rec["prediction"] is not None,
        )
        outcomes = tuple(evaluate(self.view, step.check, ctx))
        passed = all(o.passed for o in outcomes)
        if step.predict is not None and rec["prediction"] is None and passed:
            first = "예측을 먼저 골라 주세요" if self.lesson.lang == "ko" else "make your prediction first"
            outcomes = (*outcomes, Outcome("predicted", False, first))
            passed = False
        rec["attempts"] += 1
        if passed and not rec["passed"]:
            rec["passed"] = True
            rec["passed_at"] = time.time()
            rec["world_time"] = max((s.end for s in self.view.spans()), default=0.0)
        self.progress.put(self.lesson.id, self.state)
        return CheckResult(step.id, passed, outcomes)

    def hint(self) -> str | None:
        """Reveal the next hint of the current step (None when there are no more)."""
        step = self.current_step
        if step is None:
            return None
        rec = self._step_state(step)
        if rec["hints"] >= len(step.hints):
            return None
        text = step.hints[int(rec["hints"])]
        rec["hints"] += 1
        self.progress.put(self.lesson.id, self.state)
        return text

    def hints_shown(self) -> list[str]:
        """The hints revealed so far for the current step."""
        step = self.current_step
        if step is None:
            return []
        return list(step.hints[: self._step_state(step)["hints"]])

    def answer(self, choice: int) -> AnswerResult:
        """Answer the current step's prediction (first, if it has one) or quiz."""
        step = self.current_step
        if step is None:
            raise ValueError("the lesson is finished")
        rec = self._step_state(step)
        question: Choice | None
        if step.predict is not None and rec["prediction"] is None:
            question, key = step.predict, "prediction"
        else:
            question, key = step.quiz, "answer"
        if question is None:
            raise ValueError(f"step {step.id} asks no question")
        if not 0 <= choice < len(question.options):
            raise ValueError(f"choose 1 to {len(question.options)}")
        option = question.options[choice]
        rec[key] = choice
        if key == "answer" and option.correct:
            rec["quiz_correct"] = True
        self.progress.put(self.lesson.id, self.state)
        return AnswerResult(option.correct, option.explain, question.answer)

    def pending_question(self) -> tuple[str, Choice] | None:
        """The question the student should answer now: ``("predict", ...)`` or ``("quiz", ...)``."""
        step = self.current_step
        if step is None:
            return None
        rec = self._step_state(step)
        if step.predict is not None and rec["prediction"] is None:
            return "predict", step.predict
        if step.quiz is not None and not rec["quiz_correct"]:
            return "quiz", step.quiz
        return None

    def advance(self, force: bool = False) -> bool:
        """Go to the next step if this one passed (or ``force``); returns whether it moved."""
        step = self.current_step
        if step is None:
            return False
        if not force and not self._step_state(step)["passed"]:
            return False
        self.state["step"] = self.step_index + 1
        nxt = self.current_step
        if nxt is not None:
            self.state["steps"].pop(nxt.id, None)
            self._step_state(nxt)
        else:
            self.state["finished_at"] = time.time()
        self.progress.put(self.lesson.id, self.state)
        return True

    def run(self, command: str) -> Any:
        """Run one student command line (``run -d --name web nginx``) in the world."""
        argv = shlex.split(command)
        if argv and argv[0] in ("docker", "csim"):
            argv = argv[1:]
        return self.world.run_cli(argv)

    def watch_span(self) -> Span | None:
        """The first span of this step matching the step's ``watch``, where the animation should pause."""
        step = self.current_step
        if step is None or step.watch is None:
            return None
        rec = self._step_state(step)
        name_re = pattern(step.watch.span)
        for s in student_spans(self.view.spans()):
            if (
                s.span_id > rec["span_mark"]
                and name_re.match(s.name)
                and (not step.watch.hop or s.hop == step.watch.hop)
            ):
                return s
        return None

    def reset(self) -> None:
        """Forget this lesson's progress and start it again (setup runs again)."""
        self.progress.drop(self.lesson.id)
        self.state = self._begin()
        self.progress.data["active"] = self.lesson.id
        self.progress.save()
