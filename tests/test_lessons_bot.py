"""The student bot: every lesson's reference solution passes every step; wrong actions fail with feedback."""

from __future__ import annotations

import pytest

from simulator.des.world import World
from simulator.lessons.catalog import Catalog
from simulator.lessons.model import Lesson, Step
from simulator.lessons.runner import CheckResult, LessonRunner, ProgressStore

CATALOG = Catalog()
LESSON_IDS = [lid for lid in CATALOG.ids("en") if CATALOG.load(lid, "en").backend == "sim"]
"""The simulated lessons; ``backend: linux`` ones run on real containers in ``test_lessons_linux.py``."""


def _check(world: World, runner: LessonRunner) -> CheckResult:
    result = runner.check()
    for _ in range(3):  # restart policies and timeouts need world time to pass
        if result.passed:
            break
        world.advance(15)
        result = runner.check()
    return result


def solve_step(world: World, runner: LessonRunner, step: Step) -> CheckResult:
    if step.predict is not None:
        runner.answer(0)
    for line in step.solution:
        runner.run(line)
    if step.quiz is not None:
        assert step.quiz.answer is not None
        runner.answer(step.quiz.answer)
    return _check(world, runner)


def play(lesson: Lesson, seed: int = 7, upto: int | None = None) -> tuple[World, LessonRunner]:
    world = World(seed=seed)
    runner = LessonRunner(world, lesson, ProgressStore())
    for index, step in enumerate(lesson.steps):
        if upto is not None and index >= upto:
            break
        result = solve_step(world, runner, step)
        assert result.passed, f"{lesson.id}/{step.id}: {[o for o in result.outcomes if not o.passed]}"
        assert runner.advance()
    return world, runner


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_reference_solution_passes_every_step(lesson_id: str) -> None:
    lesson = CATALOG.load(lesson_id, "en")
    _, runner = play(lesson)
    assert runner.finished
    assert all(runner.step_record(s.id) is None or runner.step_record(s.id)["passed"] for s in lesson.steps)


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_wrong_actions_fail_with_the_lessons_feedback(lesson_id: str) -> None:
    lesson = CATALOG.load(lesson_id, "ko")
    tried = 0
    for index, step in enumerate(lesson.steps):
        if not step.wrong and step.quiz is None:
            continue
        _world, runner = play(lesson, upto=index)
        assert runner.current_step == step
        if step.predict is not None:
            runner.answer(0)
        for line in step.wrong:
            runner.run(line)
        if step.quiz is not None:
            wrong = next(i for i, o in enumerate(step.quiz.options) if not o.correct)
            answered = runner.answer(wrong)
            assert not answered.correct and answered.explain
        result = runner.check()
        assert not result.passed, f"{lesson.id}/{step.id} passed after a wrong action"
        assert result.feedback
        failing = [o for o in result.outcomes if not o.passed]
        if failing[0].feedback:
            assert result.feedback == failing[0].feedback
        assert not runner.advance()
        tried += 1
    assert tried > 0


def test_korean_lesson_runs_with_student_variables() -> None:
    from simulator.lessons.model import student_variables

    spec = CATALOG.variable_spec("lifecycle")
    values = student_variables(spec, 1234)
    assert values["life"] != "life" and values["life"].startswith("life-")
    lesson = CATALOG.load("lifecycle", "ko", values)
    assert values["life"] in lesson.steps[0].command
    _, runner = play(lesson, seed=3)
    assert runner.finished
