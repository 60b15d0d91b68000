"""Exercise packs and signed result bundles: how a class works through lessons and hands them in.

A teacher makes a pack (``csim class init``): chosen lessons, a secret, a name.
Each student starts the pack with their id; the id and the secret give the
student a seed, and the seed gives their own container names, ports and image
tags, so two students' worlds (and traces) differ. ``csim exercise submit``
packs the student's progress, their trace and timestamps into a bundle signed
with an HMAC of the pack's secret; the grader recomputes it.

The secret travels inside the pack, so the signature proves a bundle was not
edited after it was produced by csim, not who produced it: a student who
reads the secret can re-sign. That is the honest limit of a shared-key scheme.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

from simulator.lessons.catalog import Catalog
from simulator.lessons.model import student_variables

PACK_FILE = "pack.json"
EXERCISE_FILE = "exercise.json"
BUNDLE_FORMAT = 1


class ClassroomError(Exception):
    """A message for the user (missing pack, exercise not started...)."""


def canonical(payload: Any) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(payload: Any, secret: str) -> str:
    """HMAC-SHA256 of ``payload`` under ``secret``, hex."""
    return hmac.new(secret.encode("utf-8"), canonical(payload), hashlib.sha256).hexdigest()


def init_pack(
    directory: Path,
    lessons: list[str],
    name: str = "",
    lang: str = "en",
    secret: str | None = None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Create an exercise pack in ``directory`` (which must not hold one already)."""
    catalog = catalog or Catalog()
    known = catalog.ids("en")
    unknown = [lid for lid in lessons if lid not in known]
    if unknown:
        raise ClassroomError(f"unknown lesson(s): {', '.join(unknown)} (known: {', '.join(known)})")
    if not lessons:
        raise ClassroomError("a pack needs at least one lesson")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PACK_FILE
    if path.exists():
        raise ClassroomError(f"{path} already exists")
    pack = {
        "format": BUNDLE_FORMAT,
        "name": name or directory.name,
        "lessons": lessons,
        "lang": lang,
        "secret": secret or secrets.token_hex(32),
        "created_at": time.time(),
    }
    pack["id"] = hashlib.sha256(canonical({k: pack[k] for k in ("name", "lessons", "secret")})).hexdigest()[:16]
    path.write_text(json.dumps(pack, indent=1, ensure_ascii=False), encoding="utf-8")
    return pack


def load_pack(directory: Path) -> dict[str, Any]:
    path = Path(directory)
    if path.is_dir():
        path = path / PACK_FILE
    try:
        pack: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ClassroomError(f"cannot read the exercise pack {path}: {err}") from None
    return pack


def student_seed(pack: dict[str, Any], student: str) -> int:
    """The student's seed: derived from the pack's secret, so it cannot be chosen."""
    digest = hmac.new(str(pack["secret"]).encode(), f"seed:{student}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def lesson_variables(pack: dict[str, Any], student: str, lesson_id: str, catalog: Catalog) -> dict[str, str]:
    """The values of one lesson's variables for one student."""
    seed = student_seed(pack, student) ^ int(hashlib.sha256(lesson_id.encode()).hexdigest()[:8], 16)
    return student_variables(catalog.variable_spec(lesson_id), seed)


def start_exercise(pack_dir: Path, student: str, state_dir: Path) -> dict[str, Any]:
    """Record that this state directory works on ``pack`` as ``student``."""
    if not student or not all(c.isalnum() or c in "-_." for c in student):
        raise ClassroomError("a student id is letters, digits, '-', '_' or '.'")
    pack = load_pack(pack_dir)
    exercise = {
        "pack": pack,
        "pack_dir": str(Path(pack_dir).resolve()),
        "student": student,
        "seed": student_seed(pack, student),
        "started_at": time.time(),
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / EXERCISE_FILE).write_text(json.dumps(exercise, indent=1, ensure_ascii=False), encoding="utf-8")
    return exercise


def load_exercise(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / EXERCISE_FILE
    if not path.exists():
        return None
    try:
        found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return found


def build_bundle(exercise: dict[str, Any], progress: dict[str, Any], spans: list[Any]) -> dict[str, Any]:
    """The signed result bundle of one student: progress per step, the trace, timestamps."""
    pack = exercise["pack"]
    trace = [s.to_json() for s in spans]
    lessons: dict[str, Any] = {}
    for lid in pack["lessons"]:
        state = (progress.get("lessons") or {}).get(lid)
        if state is None:
            lessons[lid] = {"started": False, "steps": {}}
            continue
        lessons[lid] = {
            "started": True,
            "variables": state.get("variables", {}),
            "started_at": state.get("started_at"),
            "finished_at": state.get("finished_at"),
            "steps": {
                sid: {k: rec.get(k) for k in ("passed", "attempts", "hints", "passed_at", "world_time")}
                for sid, rec in (state.get("steps") or {}).items()
            },
        }
    payload = {
        "format": BUNDLE_FORMAT,
        "pack": pack["name"],
        "pack_id": pack["id"],
        "student": exercise["student"],
        "seed": exercise["seed"],
        "started_at": exercise["started_at"],
        "submitted_at": time.time(),
        "lessons": lessons,
        "trace_digest": hashlib.sha256(canonical(trace)).hexdigest(),
        "trace": trace,
    }
    return {"payload": payload, "signature": sign(payload, str(pack["secret"]))}


def write_bundle(bundle: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return path


def bundle_name(exercise: dict[str, Any]) -> str:
    return f"{exercise['pack']['name']}-{exercise['student']}.csim-result.json"
