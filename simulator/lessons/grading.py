"""Grading a class: verify every result bundle, flag the suspicious ones, write CSV and Markdown.

A bundle is *tampered* when its signature does not verify, when its trace
does not match its own digest, or when its seed is not the one the pack's
secret gives its student id. It is a *duplicate* when the same bundle (or the
same student) appears twice, or when two students hand in the same trace:
with per-student names and ports, honest traces never coincide.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.lessons.catalog import Catalog
from simulator.lessons.classroom import canonical, sign, student_seed


@dataclass(slots=True)
class StudentGrade:
    """One bundle's verdict."""

    student: str
    file: str
    flags: list[str] = field(default_factory=list)
    passed: int = 0
    total: int = 0
    steps: list[tuple[str, str, bool, int, int]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if any(f.startswith("tampered") for f in self.flags):
            return "tampered"
        if any(f.startswith("duplicate") for f in self.flags):
            return "duplicate"
        return "ok"


@dataclass(slots=True)
class ClassReport:
    """Every student's grade, plus where the CSV and Markdown went."""

    grades: list[StudentGrade]
    csv_path: Path | None = None
    markdown_path: Path | None = None

    def by_student(self, student: str) -> list[StudentGrade]:
        return [g for g in self.grades if g.student == student]


def _verify(bundle: Any, pack: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    flags: list[str] = []
    if not isinstance(bundle, dict) or not isinstance(bundle.get("payload"), dict):
        return {}, ["tampered: not a result bundle"]
    payload: dict[str, Any] = bundle["payload"]
    expected = sign(payload, str(pack["secret"]))
    if not hmac.compare_digest(expected, str(bundle.get("signature", ""))):
        flags.append("tampered: signature does not match")
    if payload.get("pack_id") != pack.get("id"):
        flags.append("tampered: made for another pack")
    if hashlib.sha256(canonical(payload.get("trace", []))).hexdigest() != payload.get("trace_digest"):
        flags.append("tampered: trace does not match its digest")
    student = str(payload.get("student", ""))
    if payload.get("seed") != student_seed(pack, student):
        flags.append("tampered: seed is not this student's")
    return payload, flags


def grade_directory(
    directory: Path, pack: dict[str, Any], out_dir: Path | None = None, catalog: Catalog | None = None
) -> ClassReport:
    """Grade every ``*.json`` bundle in ``directory``; write ``grades.csv`` and ``report.md`` to ``out_dir``."""
    catalog = catalog or Catalog()
    steps_of = {lid: [s.id for s in catalog.load(lid, "en").steps] for lid in pack["lessons"]}
    grades: list[StudentGrade] = []
    seen_signature: dict[str, str] = {}
    seen_student: dict[str, str] = {}
    seen_trace: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.json")):
        try:
            bundle = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            grades.append(StudentGrade("?", path.name, ["tampered: unreadable JSON"]))
            continue
        payload, flags = _verify(bundle, pack)
        student = str(payload.get("student", "?"))
        grade = StudentGrade(student, path.name, flags)
        signature = str(bundle.get("signature", "")) if isinstance(bundle, dict) else ""
        if signature in seen_signature:
            grade.flags.append(f"duplicate: same bundle as {seen_signature[signature]}")
        elif student in seen_student:
            grade.flags.append(f"duplicate: student already submitted {seen_student[student]}")
        else:
            trace = str(payload.get("trace_digest", ""))
            if trace and trace in seen_trace:
                grade.flags.append(f"duplicate: same trace as {seen_trace[trace]}")
            seen_trace.setdefault(trace, path.name)
        seen_signature.setdefault(signature, path.name)
        seen_student.setdefault(student, path.name)
        lessons = payload.get("lessons") or {}
        for lid, sids in steps_of.items():
            recorded = ((lessons.get(lid) or {}).get("steps")) or {}
            for sid in sids:
                rec = recorded.get(sid) or {}
                passed = bool(rec.get("passed")) and grade.status == "ok"
                grade.steps.append((lid, sid, passed, int(rec.get("attempts") or 0), int(rec.get("hints") or 0)))
                grade.total += 1
                grade.passed += int(passed)
        grades.append(grade)
    report = ClassReport(grades)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        report.csv_path = write_csv(grades, out_dir / "grades.csv")
        report.markdown_path = write_markdown(grades, steps_of, pack, out_dir / "report.md")
    return report


def write_csv(grades: list[StudentGrade], path: Path) -> Path:
    """One row per student and step."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["student", "file", "status", "lesson", "step", "passed", "attempts", "hints", "flags"])
        for g in grades:
            flags = "; ".join(g.flags)
            if not g.steps:
                writer.writerow([g.student, g.file, g.status, "", "", "", "", "", flags])
            for lid, sid, passed, attempts, hints in g.steps:
                writer.writerow([g.student, g.file, g.status, lid, sid, int(passed), attempts, hints, flags])
    return path


def write_markdown(
    grades: list[StudentGrade], steps_of: dict[str, list[str]], pack: dict[str, Any], path: Path
) -> Path:
    """Per student (score, status, flags) and per step (how many passed)."""
    lines = [
        f"# Results: {pack['name']}",
        "",
        "## Students",
        "",
        "| student | score | status | flags |",
        "|---|---|---|---|",
    ]
    for g in grades:
        flags = "<br>".join(g.flags) or ""
        lines.append(f"| {g.student} | {g.passed}/{g.total} | {g.status} | {flags} |")
    lines += ["", "## Steps", "", "| lesson | step | passed | mean attempts | hints used |", "|---|---|---|---|---|"]
    counted = [g for g in grades if g.status == "ok"]
    for lid, sids in steps_of.items():
        for sid in sids:
            rows = [r for g in counted for r in g.steps if r[0] == lid and r[1] == sid]
            passed = sum(1 for r in rows if r[2])
            attempts = sum(r[3] for r in rows) / len(rows) if rows else 0.0
            hints = sum(r[4] for r in rows)
            lines.append(f"| {lid} | {sid} | {passed}/{len(rows)} | {attempts:.1f} | {hints} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
