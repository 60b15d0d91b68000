"""Classroom: packs, per-student scenarios, signed bundles, grading of three simulated students."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from simulator.lessons.catalog import Catalog
from simulator.lessons.cli import build_parser, cmd_class, cmd_exercise, cmd_lesson

LESSONS = ["registries", "volumes"]


WORLDS: dict[Path, Any] = {}


def run(argv: list[str], state: Path | None = None) -> tuple[int, str, str]:
    """One `csim` lesson/class/exercise command; a student's world stays loaded between commands."""
    args = build_parser().parse_args((["--state", str(state)] if state else []) + argv)
    out, err = io.StringIO(), io.StringIO()
    if args.cmd == "class":
        return cmd_class(args, out, err), out.getvalue(), err.getvalue()
    assert state is not None
    world = WORLDS.get(state)
    if world is None and args.cmd == "lesson":
        from simulator.des.world import World
        from simulator.lessons.classroom import load_exercise

        exercise = load_exercise(state) or {}
        world = WORLDS[state] = World(seed=int(exercise.get("seed", 0)))
    handler = cmd_lesson if args.cmd == "lesson" else cmd_exercise
    return handler(args, out, err, world), out.getvalue(), err.getvalue()


def csim(state: Path, line: str) -> None:
    """A student's own `csim ...` command, against the same world."""
    import shlex

    WORLDS[state].run_cli(shlex.split(line))


def work(state: Path, lesson_id: str, steps: int | None = None) -> None:
    """Do a lesson the way a student does: read the step, type its command, check, answer quizzes."""
    from simulator.lessons.classroom import lesson_variables, load_exercise

    exercise = load_exercise(state)
    assert exercise is not None
    catalog = Catalog()
    lesson = catalog.load(lesson_id, "en", lesson_variables(exercise["pack"], exercise["student"], lesson_id, catalog))
    code, out, _ = run(["lesson", "start", lesson_id], state)
    assert code == 0 and lesson.title in out
    for step in lesson.steps[:steps]:
        if step.predict is not None:
            assert run(["lesson", "answer", "1"], state)[0] == 0
        for line in step.solution:
            csim(state, line)
        if step.quiz is not None:
            assert step.quiz.answer is not None
            run(["lesson", "answer", str(step.quiz.answer + 1)], state)
        code, out, err = run(["lesson", "check"], state)
        assert code == 0, out + err


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp_path = tmp_path_factory.mktemp("class")
    pack = tmp_path / "pack"
    code, _out, err = run(["class", "init", str(pack), "--lessons", ",".join(LESSONS), "--name", "week1"])
    assert code == 0, err
    inbox = tmp_path / "inbox"
    for student, steps in (("alice", None), ("bob", 2), ("mallory", 1)):
        state = tmp_path / student
        assert run(["exercise", "start", str(pack), "--student", student], state)[0] == 0
        for lesson_id in LESSONS[: 1 if student != "alice" else None]:
            work(state, lesson_id, steps)
        assert run(["exercise", "submit", "-o", str(inbox / f"{student}.json")], state)[0] == 0
    bundle = json.loads((inbox / "mallory.json").read_text())
    for rec in bundle["payload"]["lessons"]["registries"]["steps"].values():
        rec["passed"] = True  # an edit after signing
    bundle["payload"]["lessons"]["registries"]["steps"]["full-name"] = {"passed": True, "attempts": 1, "hints": 0}
    (inbox / "mallory.json").write_text(json.dumps(bundle))
    return {"pack": pack, "inbox": inbox, "root": tmp_path}


def test_students_get_different_scenarios(classroom: dict[str, Path]) -> None:
    from simulator.lessons.classroom import lesson_variables, load_pack

    pack = load_pack(classroom["pack"])
    catalog = Catalog()
    alice = lesson_variables(pack, "alice", "registries", catalog)
    bob = lesson_variables(pack, "bob", "registries", catalog)
    assert alice != bob
    assert lesson_variables(pack, "alice", "registries", catalog) == alice
    lesson = catalog.load("registries", "en", alice)
    assert alice["team"] in lesson.steps[2].command


def test_grading_three_students(classroom: dict[str, Path]) -> None:
    out_dir = classroom["root"] / "grades"
    code, out, err = run(
        ["class", "grade", str(classroom["inbox"]), "--pack", str(classroom["pack"]), "-o", str(out_dir)]
    )
    assert code == 0, err
    rows = list(csv.DictReader((out_dir / "grades.csv").open(encoding="utf-8")))
    catalog = Catalog()
    total = sum(len(catalog.load(lid).steps) for lid in LESSONS)
    by_student: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_student.setdefault(row["student"], []).append(row)
    assert sorted(by_student) == ["alice", "bob", "mallory"]
    assert all(len(r) == total for r in by_student.values())
    alice = by_student["alice"]
    assert {r["status"] for r in alice} == {"ok"} and all(r["passed"] == "1" for r in alice)
    bob = by_student["bob"]
    assert {r["status"] for r in bob} == {"ok"}
    assert [r["step"] for r in bob if r["passed"] == "1"] == ["default-tag", "explicit-tag"]
    assert not any(r["passed"] == "1" for r in bob if r["lesson"] == "volumes")
    mallory = by_student["mallory"]
    assert {r["status"] for r in mallory} == {"tampered"}
    assert "signature does not match" in mallory[0]["flags"]
    assert all(r["passed"] == "0" for r in mallory)
    report = (out_dir / "report.md").read_text(encoding="utf-8")
    assert f"| alice | {total}/{total} | ok |" in report
    assert "| bob | 2/" in report and "| mallory | 0/" in report and "tampered" in report
    assert "| registries | default-tag | 2/2 |" in report  # tampered bundles do not count
    assert "| registries | full-name | 1/2 |" in report
    assert "mallory" in out and "tampered" in out


def test_duplicate_bundles_are_flagged(classroom: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    inbox = shutil.copytree(classroom["inbox"], tmp_path / "inbox")
    (inbox / "alice-copy.json").write_text((inbox / "alice.json").read_text())
    from simulator.lessons.classroom import load_pack
    from simulator.lessons.grading import grade_directory

    report = grade_directory(inbox, load_pack(classroom["pack"]))
    copies = report.by_student("alice")
    assert sorted(g.status for g in copies) == ["duplicate", "ok"]
    assert any("same bundle as" in f for g in copies for f in g.flags)


def test_a_bundle_resigned_for_another_student_is_flagged(classroom: dict[str, Path]) -> None:
    import shutil

    from simulator.lessons.classroom import load_pack, sign
    from simulator.lessons.grading import grade_directory

    pack = load_pack(classroom["pack"])
    inbox = shutil.copytree(classroom["inbox"], classroom["root"] / "inbox-eve")
    bundle = json.loads((inbox / "alice.json").read_text())
    bundle["payload"]["student"] = "eve"  # copies alice's work, re-signs with the pack's secret
    bundle["signature"] = sign(bundle["payload"], pack["secret"])
    (inbox / "eve.json").write_text(json.dumps(bundle))
    report = grade_directory(inbox, pack)
    eve = report.by_student("eve")[0]
    assert eve.status == "tampered"
    assert any("seed is not this student's" in f for f in eve.flags)
    assert any("same trace as alice.json" in f for f in eve.flags)


def test_lesson_commands_work_across_processes_on_the_persisted_world(tmp_path: Path) -> None:
    """`csim lesson start`, the student's own `csim run` in another process, then `csim lesson check`."""
    import shlex

    from simulator.des.persist import load_world, save_world

    state = tmp_path / "state"
    args = build_parser().parse_args(["--state", str(state), "lesson", "start", "lifecycle", "--lang", "ko"])
    out = io.StringIO()
    assert cmd_lesson(args, out, io.StringIO()) == 0
    assert "컨테이너의 생명주기" in out.getvalue() and "create --name life" in out.getvalue()
    code, out_text, _ = _plain(state, ["lesson", "check"])
    assert code == 1 and "✘" in out_text
    world = load_world(state)
    world.run_cli(shlex.split("create --name life busybox sleep 600"))
    save_world(world, state)
    code, out_text, _ = _plain(state, ["lesson", "check"])
    assert code == 1 and "예측" in out_text  # the prediction comes first
    assert _plain(state, ["lesson", "answer", "1"])[0] == 0
    code, out_text, _ = _plain(state, ["lesson", "check"])
    assert code == 0 and "✔ container life is created" in out_text and "2/7" in out_text
    code, out_text, _ = _plain(state, ["lesson", "hint"])
    assert "csim start life" in out_text
    code, out_text, _ = _plain(state, ["lesson", "status"])
    assert "💡 1." in out_text
    code, out_text, _ = _plain(state, ["lesson", "list"])
    assert "… lifecycle" in out_text


def _plain(state: Path, argv: list[str]) -> tuple[int, str, str]:
    args = build_parser().parse_args(["--state", str(state), *argv, "--lang", "ko"] if argv[0] == "lesson" else argv)
    out, err = io.StringIO(), io.StringIO()
    return cmd_lesson(args, out, err), out.getvalue(), err.getvalue()
