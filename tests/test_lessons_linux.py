"""The student bot on the real backend: every ``backend: linux`` lesson, solved on a LinuxWorld as root.

For each step the bot first makes the lesson's wrong moves (the check must fail
with the lesson's feedback), removes what they left behind, then runs the
reference solution (every check must pass). One world per lesson keeps the
run to a few seconds; the containers are removed and the world closed at the
end whatever happened. Refusal without root is tested everywhere.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.lessons.backends import BackendUnavailable, unavailable_reason, world_directory
from simulator.lessons.catalog import Catalog
from simulator.lessons.cli import build_parser, cmd_lesson
from simulator.lessons.model import Lesson, Step
from simulator.lessons.runner import CheckResult, LessonRunner, ProgressStore

CATALOG = Catalog()
LINUX_LESSONS = [lid for lid in CATALOG.ids("en") if CATALOG.load(lid, "en").backend == "linux"]
IS_ROOT = sys.platform.startswith("linux") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="backend: linux lessons need root on Linux (namespaces, cgroups)")


def test_at_least_one_lesson_needs_real_isolation() -> None:
    assert "real-isolation" in LINUX_LESSONS
    for lid in LINUX_LESSONS:
        assert CATALOG.load(lid, "ko").backend == "linux"
        assert not CATALOG.load(lid, "en").setup, "the real backend has no registry to pull setup images from"


def _container_ids(world: Any) -> set[str]:
    answer = world.api("GET", "/containers/json", {"all": "1"})
    assert answer.status == 200
    return {c["Id"] for c in answer.body}


def _remove(world: Any, ids: set[str]) -> None:
    for cid in ids:
        world.api("DELETE", f"/containers/{cid}", {"force": "1"})


@pytest.fixture
def linux_world(tmp_path: Path) -> Iterator[Any]:
    from simulator.des.linux_world import LinuxWorld

    world = LinuxWorld(tmp_path / "state", seed=5)
    before: set[str] = set()
    try:
        world.ensure_base_images()
        before = _container_ids(world)
        yield world
    finally:
        try:
            _remove(world, _container_ids(world) - before)
        finally:
            world.close()


def _answer_pending(runner: LessonRunner, step: Step, right: bool) -> None:
    """Answer the prediction (any option) and the quiz (right or wrong), as a student would."""
    for _ in range(2):
        pending = runner.pending_question()
        if pending is None:
            return
        kind, choice = pending
        if kind == "predict":
            runner.answer(0)
            continue
        if right:
            assert choice.answer is not None
            assert runner.answer(choice.answer).correct
            continue
        wrong = next(i for i, o in enumerate(choice.options) if not o.correct)
        answered = runner.answer(wrong)
        assert not answered.correct and answered.explain
        return


def _try_wrong(world: Any, runner: LessonRunner, step: Step) -> CheckResult | None:
    if not step.wrong and step.quiz is None:
        return None
    before = _container_ids(world)
    for line in step.wrong:
        runner.run(line)
    _answer_pending(runner, step, right=False)
    result = runner.check()
    _remove(world, _container_ids(world) - before)  # so the solution can reuse the names
    return result


def _solve(world: Any, runner: LessonRunner, step: Step) -> CheckResult:
    _answer_pending(runner, step, right=True)
    for line in step.solution:
        runner.run(line)
    result = runner.check()
    for _ in range(3):  # an exit is recorded when the shim reports it: give the wall clock a moment
        if result.passed:
            break
        world.advance(0.5)
        result = runner.check()
    return result


def _play(world: Any, lesson: Lesson) -> tuple[LessonRunner, int]:
    runner = LessonRunner(world, lesson, ProgressStore())
    wrong_tried = 0
    for step in lesson.steps:
        assert runner.current_step == step
        wrong = _try_wrong(world, runner, step)
        if wrong is not None:
            assert not wrong.passed, f"{lesson.id}/{step.id} passed after a wrong action"
            assert wrong.feedback
            failing = [o for o in wrong.outcomes if not o.passed]
            if failing[0].feedback:
                assert wrong.feedback == failing[0].feedback
            assert not runner.advance()
            wrong_tried += 1
        result = _solve(world, runner, step)
        assert result.passed, f"{lesson.id}/{step.id}: {[o for o in result.outcomes if not o.passed]}"
        assert runner.advance()
    return runner, wrong_tried


@pytest.mark.real
@needs_root
@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("lesson_id", LINUX_LESSONS)
def test_linux_lesson_solution_passes_and_wrong_actions_fail_on_the_real_backend(
    linux_world: Any, lesson_id: str, lang: str
) -> None:
    lesson = CATALOG.load(lesson_id, lang)
    runner, wrong_tried = _play(linux_world, lesson)
    assert runner.finished
    assert wrong_tried > 0
    assert all(runner.step_record(s.id) is None or runner.step_record(s.id)["passed"] for s in lesson.steps)


@pytest.mark.real
@needs_root
def test_real_isolation_facts_come_from_the_kernel(linux_world: Any) -> None:
    """The lesson's claims hold on this machine: PID 1, OOM kill with 137, a read-only /proc/sys."""
    lesson = CATALOG.load("real-isolation", "en")
    runner = LessonRunner(linux_world, lesson, ProgressStore())
    assert runner.run(lesson.step("pid-one").solution[0]).stdout == "[1]\n"
    oom = runner.run(lesson.step("oom-kill").solution[0])
    assert oom.exit_code == 137
    inspect = linux_world.api("GET", f"/containers/{lesson.variables['hog']}/json").body
    assert inspect["State"]["OOMKilled"] is True and inspect["HostConfig"]["Memory"] == 16 * 1024 * 1024
    spans = [s.name for s in linux_world.bus.spans() if s.hop == "kernel"]
    assert "clone(CLONE_NEWPID)" in spans
    assert any(name.endswith("pivot_root") for name in spans)


@pytest.mark.real
@needs_root
def test_csim_lesson_start_uses_the_linux_world_under_the_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    parser = build_parser()
    out, err = io.StringIO(), io.StringIO()
    code = cmd_lesson(
        parser.parse_args(["--state", str(state), "lesson", "start", "real-isolation", "--lang", "en"]), out, err
    )
    assert code == 0, err.getvalue()
    assert "$ csim --backend linux run --name pid1 busybox sh -c" in out.getvalue()
    linux_dir = world_directory(state, "linux")
    assert (linux_dir / "state.json").exists()  # the real world was opened and saved there
    from simulator.des.persist import load_world

    world = load_world(linux_dir, backend="linux")
    try:
        assert getattr(world, "realtime", False)
        assert world.daemon.has_image("busybox:latest")
        world.run_cli(["run", "--name", "pid1", "busybox", "sh", "-c", 'echo "[$$]"'])
        from simulator.des.persist import save_world

        save_world(world, linux_dir)
    finally:
        world.close()
    out, err = io.StringIO(), io.StringIO()
    answer = parser.parse_args(["--state", str(state), "lesson", "answer", "1", "--lang", "en"])
    assert cmd_lesson(answer, out, err) == 0, err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    check = parser.parse_args(["--state", str(state), "lesson", "check", "--lang", "en"])
    code = cmd_lesson(check, out, err)
    reloaded = load_world(linux_dir, backend="linux")
    try:
        _remove(reloaded, _container_ids(reloaded))
    finally:
        reloaded.close()
    assert code == 0, out.getvalue() + err.getvalue()
    assert "2/8" in out.getvalue()  # on to the second step


def test_a_linux_lesson_is_refused_without_root_in_both_languages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    reason = unavailable_reason("linux", "real-isolation")
    assert reason is not None and "root" in reason and "권한" in reason
    assert unavailable_reason("sim", "client-and-daemon") is None
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(["--state", str(tmp_path), "lesson", "start", "real-isolation", "--lang", "ko"])
    assert cmd_lesson(args, out, err) == 1
    assert "needs root" in err.getvalue() and "root 권한이 필요합니다" in err.getvalue()
    assert "sudo csim lesson start real-isolation" in err.getvalue()
    assert not (tmp_path / "linux").exists()  # nothing was opened
    # sim lessons still start
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(["--state", str(tmp_path), "lesson", "start", "client-and-daemon", "--lang", "en"])
    assert cmd_lesson(args, out, err) == 0, err.getvalue()


def test_a_linux_lesson_refuses_the_simulated_world() -> None:
    from simulator.des.world import World

    with pytest.raises(BackendUnavailable, match="backend: linux"):
        LessonRunner(World(seed=1), CATALOG.load("real-isolation", "en"), ProgressStore())
