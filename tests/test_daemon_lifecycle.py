"""Every lifecycle transition through the Engine API, with Docker's flags, codes and words.

Facts from ../shared/reference/container-lifecycle.md and docker-engine-api.md §7.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator.des.world import World


def create(w: World, cmd: list[str], name: str = "t1", **host: Any) -> str:
    body: dict[str, Any] = {"Image": "busybox", "Cmd": cmd, "HostConfig": host}
    resp = w.api("POST", "/containers/create", {"name": name}, body)
    assert resp.status == 201, resp.body
    return str(resp.body["Id"])


def state(w: World, ref: str) -> dict[str, Any]:
    resp = w.api("GET", f"/containers/{ref}/json")
    assert resp.status == 200, resp.body
    return dict(resp.body["State"])


def post(w: World, path: str, **query: Any) -> Any:
    return w.api("POST", path, query or None)


def test_created_running_paused_exited_removed(busybox_world: World) -> None:
    w = busybox_world
    cid = create(w, ["sleep", "300"])
    s = state(w, "t1")
    assert (s["Status"], s["Running"], s["Pid"], s["StartedAt"]) == ("created", False, 0, "0001-01-01T00:00:00Z")
    assert post(w, "/containers/t1/start").status == 204
    s = state(w, "t1")
    assert s["Status"] == "running" and s["Running"] and s["Pid"] > 0
    assert post(w, "/containers/t1/pause").status == 204
    s = state(w, "t1")
    assert (s["Status"], s["Running"], s["Paused"]) == ("paused", True, True)
    assert post(w, "/containers/t1/unpause").status == 204
    assert state(w, "t1")["Status"] == "running"
    # sleep as PID 1 ignores SIGTERM: stop waits t seconds, then SIGKILL -> 137
    before = w.env.now
    assert post(w, "/containers/t1/stop", t=2).status == 204
    assert w.env.now - before >= 2.0
    s = state(w, "t1")
    assert (s["Status"], s["ExitCode"], s["Running"], s["Pid"]) == ("exited", 137, False, 0)
    assert w.api("DELETE", "/containers/t1").status == 204
    resp = w.api("GET", "/containers/t1/json")
    assert (resp.status, resp.body["message"]) == (404, "No such container: t1")
    actions = [e.action for e in w.events.events() if e.type == "container" and e.actor_id == cid]
    assert actions == ["create", "start", "pause", "unpause", "kill", "kill", "die", "stop", "destroy"]


def test_illegal_moves_answer_like_docker(busybox_world: World) -> None:
    w = busybox_world
    cid = create(w, ["sleep", "300"])
    r = post(w, "/containers/t1/kill")
    assert (r.status, r.body["message"]) == (409, f"Cannot kill container: t1: Container {cid} is not running")
    r = post(w, "/containers/t1/pause")
    assert (r.status, r.body["message"]) == (409, f"Container {cid} is not running")
    r = post(w, "/containers/t1/unpause")
    assert (r.status, r.body["message"]) == (500, f"Container {cid} is not paused")
    assert post(w, "/containers/t1/stop").status == 304
    post(w, "/containers/t1/start")
    assert post(w, "/containers/t1/start").status == 304
    r = w.api("DELETE", "/containers/t1")
    assert r.status == 409
    assert r.body["message"] == (
        f"You cannot remove a running container {cid}. Stop the container before attempting removal or force remove"
    )
    post(w, "/containers/t1/pause")
    r = post(w, "/containers/t1/start")
    assert (r.status, r.body["message"]) == (409, "cannot start a paused container, try unpause instead")
    r = post(w, "/containers/t1/pause")
    assert (r.status, r.body["message"]) == (409, f"Container {cid} is already paused")
    r = w.api("POST", "/containers/t1/exec", body={"Cmd": ["true"]})
    assert (r.status, r.body["message"]) == (409, "Container t1 is paused, unpause the container before exec")
    r = w.api("DELETE", "/containers/t1")
    assert r.status == 409 and r.body["message"].startswith(f"You cannot remove a paused container {cid}.")
    r = post(w, "/containers/t1/kill", signal="NOPE")
    assert (r.status, r.body["message"]) == (400, "invalid signal: NOPE")
    assert state(w, "t1")["Status"] == "paused"
    assert w.api("DELETE", "/containers/t1", {"force": 1}).status == 204


def test_kill_on_paused_exits_137(busybox_world: World) -> None:
    w = busybox_world
    create(w, ["sleep", "300"])
    post(w, "/containers/t1/start")
    post(w, "/containers/t1/pause")
    assert post(w, "/containers/t1/kill").status == 204
    s = state(w, "t1")
    assert (s["Status"], s["ExitCode"], s["Paused"]) == ("exited", 137, False)


def test_trapped_term_exits_with_own_code(busybox_world: World) -> None:
    w = busybox_world
    create(w, ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])
    post(w, "/containers/t1/start")
    assert post(w, "/containers/t1/stop", t=10).status == 204
    assert state(w, "t1")["ExitCode"] == 0


def test_exit_code_and_wait_conditions(busybox_world: World) -> None:
    w = busybox_world
    create(w, ["sh", "-c", "exit 3"])
    wait = w.request_stream("POST", "/containers/t1/wait", {"condition": "next-exit"})
    post(w, "/containers/t1/start")
    assert w.drain(wait) == [{"StatusCode": 3, "Error": None}]
    r = post(w, "/containers/t1/wait", condition="nope")
    assert (r.status, r.body["message"]) == (400, 'invalid condition: "nope"')
    assert post(w, "/containers/t1/wait").body == [{"StatusCode": 3, "Error": None}]


def test_restart_policy_on_failure_counts_restarts(busybox_world: World) -> None:
    w = busybox_world
    create(w, ["sh", "-c", "exit 3"], RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 2})
    post(w, "/containers/t1/start")
    w.advance(30)
    info = w.api("GET", "/containers/t1/json").body
    assert (info["State"]["Status"], info["State"]["ExitCode"], info["RestartCount"]) == ("exited", 3, 2)


def test_restarting_state_while_backing_off(busybox_world: World) -> None:
    w = busybox_world
    create(w, ["sh", "-c", "exit 1"], RestartPolicy={"Name": "always"})
    post(w, "/containers/t1/start")
    w.settle()
    s = state(w, "t1")
    assert (s["Status"], s["Running"], s["Restarting"], s["Pid"]) == ("restarting", True, True, 0)
    assert post(w, "/containers/t1/stop").status == 204
    assert state(w, "t1")["Status"] == "exited"


def test_name_conflict_and_bad_name(busybox_world: World) -> None:
    w = busybox_world
    cid = create(w, ["true"])
    r = w.api("POST", "/containers/create", {"name": "t1"}, {"Image": "busybox"})
    assert r.status == 409
    assert r.body["message"] == (
        f'Conflict. The container name "/t1" is already in use by container "{cid}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )
    r = w.api("POST", "/containers/create", {"name": "bad name"}, {"Image": "busybox"})
    assert (r.status, r.body["message"]) == (
        400,
        "Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
    )
    r = w.api("POST", "/containers/create", None, {"Image": "nosuchimage:v9"})
    assert (r.status, r.body["message"]) == (404, "No such image: nosuchimage:v9")


def test_rmi_in_use_conflict(busybox_world: World) -> None:
    w = busybox_world
    cid = create(w, ["true"])
    image_id = w.api("GET", "/images/busybox/json").body["Id"]
    r = w.api("DELETE", "/images/busybox")
    assert r.status == 409
    assert r.body["message"] == (
        f'conflict: unable to remove repository reference "busybox" (must force) - container {cid[:12]} '
        f"is using its referenced image {image_id[7:19]}"
    )
    r = w.api("DELETE", "/images/nosuchimage")
    assert (r.status, r.body["message"]) == (404, "No such image: nosuchimage:latest")


@pytest.mark.parametrize("path", ["/nope", "/containers/x/bogus", "/v1.41/images/json/extra/x/y/z/w"])
def test_unknown_paths_are_page_not_found(world: World, path: str) -> None:
    r = world.api("GET", path)
    if path.startswith("/v1.41/images"):
        assert r.status in (404,)
    else:
        assert (r.status, r.body) == (404, {"message": "page not found"})
