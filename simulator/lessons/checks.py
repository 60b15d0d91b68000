"""Check predicates: is the world the way a step asked for it to be?

Each predicate kind (``container``, ``image``, ``span``...) is a function of a
``WorldView`` (API answers, trace, events) and the predicate's parameters. It
returns an ``Outcome`` saying whether it holds and, in plain words, what was
actually found, so a student who is stuck sees "container web is exited,
expected running" rather than a bare "no".
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.lessons.view import WorldView, student_spans


@dataclass(frozen=True, slots=True)
class Outcome:
    """One predicate's verdict."""

    kind: str
    passed: bool
    detail: str
    feedback: str = ""


@dataclass(slots=True)
class CheckContext:
    """What a predicate needs beyond the world: where the step and the lesson began, the answers given."""

    step_span_mark: int = 0
    lesson_span_mark: int = 0
    step_event_mark: int = 0
    lesson_event_mark: int = 0
    quiz_correct: bool = False
    predicted: bool = False
    cache: dict[str, Any] = field(default_factory=dict)


Predicate = Callable[[WorldView, dict[str, Any], CheckContext], tuple[bool, str]]
_STATE_WORDS = {0: "C", 1: "A", 2: "D"}


def pattern(text: str) -> re.Pattern[str]:
    """A path or name pattern: ``{id}`` matches one path segment, ``*`` anything."""
    out = []
    for part in re.split(r"(\{[a-z_]+\}|\*)", text):
        if part == "*":
            out.append(".*")
        elif part.startswith("{") and part.endswith("}"):
            out.append("[^/]+")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$")


def _inspect_container(view: WorldView, name: str, ctx: CheckContext) -> dict[str, Any] | None:
    key = "container:" + name
    if key not in ctx.cache:
        answer = view.api("GET", f"/containers/{name}/json")
        found = answer.body if answer.status == 200 and isinstance(answer.body, dict) else None
        if found is not None and found.get("Name", "").lstrip("/") != name and not found.get("Id", "").startswith(name):
            found = None
        ctx.cache[key] = found
    result: dict[str, Any] | None = ctx.cache[key]
    return result


def check_container(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    name = p["name"]
    info = _inspect_container(view, name, ctx)
    if info is None:
        if p.get("present", True) is False:
            return True, f"there is no container {name}"
        return False, f"there is no container named {name}"
    if p.get("present", True) is False:
        return False, f"container {name} still exists"
    state = info.get("State") or {}
    config = info.get("Config") or {}
    host = info.get("HostConfig") or {}
    status = state.get("Status", "")
    if "status" in p and status != p["status"]:
        return False, f"container {name} is {status}, expected {p['status']}"
    if "exit_code" in p and state.get("ExitCode") != p["exit_code"]:
        return False, f"container {name} exited with {state.get('ExitCode')}, expected {p['exit_code']}"
    if "oom_killed" in p and bool(state.get("OOMKilled")) != p["oom_killed"]:
        oom = bool(state.get("OOMKilled"))
        return False, f"container {name} {'was' if oom else 'was not'} killed by the OOM killer (OOMKilled={oom})"
    if "image" in p and config.get("Image") != p["image"]:
        return False, f"container {name} runs image {config.get('Image')}, expected {p['image']}"
    if "hostname" in p and config.get("Hostname") != p["hostname"]:
        return False, f"container {name} has hostname {config.get('Hostname')}, expected {p['hostname']}"
    if "memory" in p and host.get("Memory") != p["memory"]:
        return False, f"container {name} has a memory limit of {host.get('Memory')} bytes, expected {p['memory']}"
    if "nano_cpus" in p and host.get("NanoCpus") != p["nano_cpus"]:
        return False, f"container {name} has NanoCpus {host.get('NanoCpus')}, expected {p['nano_cpus']}"
    if "network" in p:
        networks = sorted(((info.get("NetworkSettings") or {}).get("Networks") or {}).keys())
        if p["network"] not in networks:
            return False, f"container {name} is on {', '.join(networks) or 'no network'}, not {p['network']}"
    if "volume" in p:
        mounted = [m.get("Name") for m in info.get("Mounts") or [] if m.get("Type") == "volume"]
        if p["volume"] not in mounted:
            return False, f"container {name} does not mount volume {p['volume']}"
    if "env" in p and p["env"] not in (config.get("Env") or []):
        return False, f"container {name} has no environment variable {p['env']}"
    if "restart_policy" in p and (host.get("RestartPolicy") or {}).get("Name") != p["restart_policy"]:
        return False, f"container {name} does not have restart policy {p['restart_policy']}"
    if "min_restarts" in p and int(info.get("RestartCount") or 0) < p["min_restarts"]:
        return False, f"container {name} restarted {info.get('RestartCount')} times, expected {p['min_restarts']}+"
    seen = f" with exit code {state.get('ExitCode')}" if "exit_code" in p else ""
    if p.get("oom_killed"):
        seen += ", killed by the OOM killer"
    return True, f"container {name} is {status}{seen}"


def _image(view: WorldView, ref: str) -> dict[str, Any] | None:
    answer = view.api("GET", f"/images/{ref}/json")
    return answer.body if answer.status == 200 and isinstance(answer.body, dict) else None


def check_image(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    ref = p["ref"]
    info = _image(view, ref)
    if p.get("present", True) is False:
        return (info is None, f"image {ref} is gone" if info is None else f"image {ref} is still present")
    if info is None:
        return False, f"there is no image {ref}"
    layers = (info.get("RootFS") or {}).get("Layers") or []
    if "min_layers" in p and len(layers) < p["min_layers"]:
        return False, f"image {ref} has {len(layers)} layers, expected at least {p['min_layers']}"
    return True, f"image {ref} is present ({len(layers)} layers)"


def check_shared_layer(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    common: set[str] | None = None
    for ref in p["images"]:
        info = _image(view, ref)
        if info is None:
            return False, f"there is no image {ref}"
        layers = set((info.get("RootFS") or {}).get("Layers") or [])
        common = layers if common is None else common & layers
    if not common:
        return False, f"{' and '.join(p['images'])} share no layer"
    return True, f"{' and '.join(p['images'])} share {len(common)} layer(s)"


def _since(p: dict[str, Any], ctx: CheckContext, step: int, lesson: int) -> int:
    return {"step": step, "lesson": lesson, "any": -1}[p.get("since", "step")]


def check_span(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    mark = _since(p, ctx, ctx.step_span_mark, ctx.lesson_span_mark)
    name_re = pattern(p["name"]) if "name" in p else None
    path_re = pattern(p["path"]) if "path" in p else None
    count = 0
    for s in student_spans(view.spans()):
        if s.span_id <= mark:
            continue
        if "hop" in p and s.hop != p["hop"]:
            continue
        if name_re is not None and not name_re.match(s.name):
            continue
        if "method" in p and s.attrs.get("method") != p["method"]:
            continue
        if path_re is not None and not path_re.match(str(s.attrs.get("path", ""))):
            continue
        if "status" in p and s.attrs.get("status") != p["status"]:
            continue
        count += 1
    wanted = p.get("min_count", 1)
    label = " ".join(str(p[k]) for k in ("hop", "method", "path", "name") if k in p)
    if count < wanted:
        return False, f"no {label} request seen yet" if count == 0 else f"{label} seen {count}x, expected {wanted}"
    return True, f"{label} seen {count}x"


def check_changes(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    answer = view.api("GET", f"/containers/{p['container']}/changes")
    if answer.status != 200:
        return False, f"there is no container named {p['container']}"
    rows = answer.body or []
    for row in rows:
        if row.get("Path") == p["path"] and ("change" not in p or _STATE_WORDS.get(row.get("Kind")) == p["change"]):
            return True, f"{_STATE_WORDS.get(row.get('Kind'))} {p['path']} is in the container's writable layer"
    return False, f"{p['path']} is not among the changes in {p['container']}'s writable layer"


def check_network(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    answer = view.api("GET", f"/networks/{p['name']}")
    info = answer.body if answer.status == 200 and isinstance(answer.body, dict) else None
    if p.get("present", True) is False:
        return (info is None, f"network {p['name']} is gone" if info is None else f"network {p['name']} exists")
    if info is None:
        return False, f"there is no network {p['name']}"
    if "driver" in p and info.get("Driver") != p["driver"]:
        return False, f"network {p['name']} uses driver {info.get('Driver')}, expected {p['driver']}"
    members = sorted(str(c.get("Name")) for c in (info.get("Containers") or {}).values())
    if "endpoints" in p and len(members) < p["endpoints"]:
        return False, f"network {p['name']} has {len(members)} endpoint(s), expected {p['endpoints']}"
    missing = [c for c in p.get("containers", []) if c not in members]
    if missing:
        return False, f"{', '.join(missing)} not connected to network {p['name']}"
    return True, f"network {p['name']} connects {', '.join(members) or 'nothing'}"


def check_volume(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    answer = view.api("GET", "/volumes")
    names = [v.get("Name") for v in ((answer.body or {}).get("Volumes") or [])] if answer.status == 200 else []
    exists = p["name"] in names
    if p.get("present", True) is False:
        return (not exists, f"volume {p['name']} is gone" if not exists else f"volume {p['name']} still exists")
    if not exists:
        return False, f"there is no volume {p['name']}"
    if "used_by" in p:
        ok, detail = check_container(view, {"name": p["used_by"], "volume": p["name"]}, ctx)
        if not ok:
            return False, detail
    return True, f"volume {p['name']} exists"


def check_event(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    mark = _since(p, ctx, ctx.step_event_mark, ctx.lesson_event_mark)
    count = 0
    for ev in view.events():
        if ev.time_ns <= mark or ev.type != p["type"]:
            continue
        if ev.action != p["action"] and not ev.action.startswith(p["action"] + ":"):
            continue
        if "actor" in p and p["actor"] not in (ev.attributes.get("name"), ev.actor_id):
            continue
        count += 1
    wanted = p.get("min_count", 1)
    label = f"{p['type']} {p['action']}" + (f" of {p['actor']}" if "actor" in p else "")
    return count >= wanted, f"event {label} seen {count}x" + ("" if count >= wanted else f", expected {wanted}")


def check_logs(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    answer = view.api("GET", f"/containers/{p['container']}/logs", {"stdout": "1", "stderr": "1"})
    if answer.status != 200:
        return False, f"there is no container named {p['container']}"
    items = answer.body if isinstance(answer.body, list) else [answer.body or b""]
    text = "".join(_text(getattr(item, "data", item)) for item in items)
    if p["contains"] in text:
        return True, f"the logs of {p['container']} contain {p['contains']!r}"
    return False, f"the logs of {p['container']} do not contain {p['contains']!r}"


def _text(data: Any) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


def check_output(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    result = view.probe(shlex.split(p["probe"]))
    text = result.stdout + result.stderr
    if "exit_code" in p and result.exit_code != p["exit_code"]:
        return False, f"`{p['probe']}` exited with {result.exit_code}, expected {p['exit_code']}"
    if p["contains"] not in text:
        return False, f"`{p['probe']}` does not print {p['contains']!r}"
    return True, f"`{p['probe']}` prints {p['contains']!r}"


def check_command(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    mark = _since(p, ctx, ctx.step_span_mark, ctx.lesson_span_mark)
    for s in student_spans(view.spans()):
        if s.hop != "cli" or s.span_id <= mark or p["contains"] not in s.name:
            continue
        if "exit_code" in p and s.attrs.get("exit_code") != p["exit_code"]:
            continue
        return True, f"you ran `{s.name}`"
    return False, f"no command containing {p['contains']!r} yet"


def check_quiz(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    return ctx.quiz_correct, "answered correctly" if ctx.quiz_correct else "the quiz is not answered correctly yet"


def check_predicted(view: WorldView, p: dict[str, Any], ctx: CheckContext) -> tuple[bool, str]:
    return ctx.predicted, "prediction made" if ctx.predicted else "make your prediction first"


PREDICATES: dict[str, Predicate] = {
    "container": check_container,
    "image": check_image,
    "shared_layer": check_shared_layer,
    "span": check_span,
    "changes": check_changes,
    "network": check_network,
    "volume": check_volume,
    "event": check_event,
    "logs": check_logs,
    "output": check_output,
    "command": check_command,
    "quiz": check_quiz,
    "predicted": check_predicted,
}


def evaluate(view: WorldView, predicates: tuple[dict[str, Any], ...], ctx: CheckContext) -> list[Outcome]:
    """Every predicate's outcome, in order (a failing one does not stop the rest)."""
    outcomes = []
    for p in predicates:
        params = {k: v for k, v in p.items() if k not in ("kind", "feedback")}
        passed, detail = PREDICATES[p["kind"]](view, params, ctx)
        outcomes.append(Outcome(p["kind"], passed, detail, str(p.get("feedback", ""))))
    return outcomes
