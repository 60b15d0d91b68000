"""Random sequences of lifecycle operations against a reference transition table.

After every operation the answer's status code must be the table's, and the
container must be in a state Docker can reach, with consistent flags.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.des.world import World

OPS = ("create", "start", "stop", "kill", "pause", "unpause", "restart", "rm", "rm-f")

# state -> op -> (status, next state); "none" means no container.
TABLE: dict[str, dict[str, tuple[int, str]]] = {
    "none": dict.fromkeys(OPS, (404, "none")) | {"create": (201, "created")},
    "created": {
        "create": (409, "created"), "start": (204, "running"), "stop": (304, "created"),
        "kill": (409, "created"), "pause": (409, "created"), "unpause": (500, "created"),
        "restart": (204, "running"), "rm": (204, "none"), "rm-f": (204, "none"),
    },
    "running": {
        "create": (409, "running"), "start": (304, "running"), "stop": (204, "exited"),
        "kill": (204, "exited"), "pause": (204, "paused"), "unpause": (500, "running"),
        "restart": (204, "running"), "rm": (409, "running"), "rm-f": (204, "none"),
    },
    "paused": {
        "create": (409, "paused"), "start": (409, "paused"), "stop": (204, "exited"),
        "kill": (204, "exited"), "pause": (409, "paused"), "unpause": (204, "running"),
        "restart": (204, "running"), "rm": (409, "paused"), "rm-f": (204, "none"),
    },
    "exited": {
        "create": (409, "exited"), "start": (204, "running"), "stop": (304, "exited"),
        "kill": (409, "exited"), "pause": (409, "exited"), "unpause": (500, "exited"),
        "restart": (204, "running"), "rm": (204, "none"), "rm-f": (204, "none"),
    },
}  # fmt: skip

_BASE: dict[str, Any] = {}


def fresh_world() -> World:
    w = World(seed=3)
    w.api("POST", "/images/create", {"fromImage": "docker.io/library/busybox", "tag": "latest"})
    return w


def apply(w: World, op: str) -> int:
    if op == "create":
        r = w.api("POST", "/containers/create", {"name": "c1"}, {"Image": "busybox", "Cmd": ["sleep", "3000"]})
    elif op == "rm":
        r = w.api("DELETE", "/containers/c1")
    elif op == "rm-f":
        r = w.api("DELETE", "/containers/c1", {"force": 1})
    elif op in ("stop", "restart"):
        r = w.api("POST", f"/containers/c1/{op}", {"t": 1})
    else:
        r = w.api("POST", f"/containers/c1/{op}")
    return r.status


def observed(w: World) -> str:
    r = w.api("GET", "/containers/c1/json")
    if r.status == 404:
        return "none"
    s = r.body["State"]
    # flags must be consistent with the status word (container/state.go)
    if s["Status"] == "paused":
        assert s["Running"] and s["Paused"]
    if s["Status"] in ("created", "exited"):
        assert not s["Running"] and s["Pid"] == 0
    if s["Status"] == "running":
        assert s["Running"] and not s["Paused"] and s["Pid"] > 0
    return str(s["Status"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(OPS), min_size=1, max_size=14))
def test_random_operation_sequences_follow_the_table(ops: list[str]) -> None:
    w = fresh_world()
    state = "none"
    for op in ops:
        expected_status, expected_next = TABLE[state][op]
        status = apply(w, op)
        assert status == expected_status, (state, op)
        state = observed(w)
        assert state == expected_next, (op, state)
