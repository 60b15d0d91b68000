"""Docker events: exact API JSON, the 256-entry replay buffer and dockerd's filters."""

from __future__ import annotations

import json

import pytest
from rich.pretty import pretty_repr

from simulator.trace.events import DockerEvent, EventLog, event_matches, normalize_event_filters

CID = "a" * 64
NS = 1_700_000_000_123_456_789


def container_event(action: str = "start", **attrs: str) -> DockerEvent:
    attributes = {"image": "busybox", "name": "web", **attrs}
    return DockerEvent("container", action, CID, attributes, NS)


def test_container_event_json_has_docker_keys_in_order() -> None:
    event = container_event("die", exitCode="0", execDuration="1")
    body = event.to_api_json()
    assert list(body) == [
        "status",
        "id",
        "from",
        "Type",
        "Action",
        "Actor",
        "scope",
        "time",
        "timeNano",
    ]
    assert body["status"] == "die" and body["id"] == CID and body["from"] == "busybox"
    assert body["Actor"] == {
        "ID": CID,
        "Attributes": {"execDuration": "1", "exitCode": "0", "image": "busybox", "name": "web"},
    }
    assert body["scope"] == "local"
    assert body["time"] == 1_700_000_000
    assert body["timeNano"] == NS


def test_event_line_is_go_encoded() -> None:
    event = DockerEvent("container", "exec_start: sh -c a>b&&c<d ", CID, {"name": "w"}, NS)
    line = event.to_api_line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert b"\\u003e" in line and b"\\u0026" in line and b"\\u003c" in line
    assert line.startswith(b'{"status":"exec_start: sh -c a\\u003eb\\u0026\\u0026c\\u003cd ","id":')
    assert json.loads(line)["Action"] == "exec_start: sh -c a>b&&c<d "


def test_image_event_has_legacy_fields_but_no_from() -> None:
    body = DockerEvent("image", "pull", "busybox:latest", {"name": "busybox"}, NS).to_api_json()
    assert body["status"] == "pull" and body["id"] == "busybox:latest"
    assert "from" not in body


def test_network_event_has_no_legacy_fields() -> None:
    event = DockerEvent("network", "connect", "n" * 64, {"container": CID, "name": "bridge", "type": "bridge"}, NS)
    assert list(event.to_api_json()) == ["Type", "Action", "Actor", "scope", "time", "timeNano"]


def test_api_1_52_drops_legacy_fields() -> None:
    body = container_event().to_api_json(api_version="1.52")
    assert "status" not in body and "id" not in body and "from" not in body
    assert "status" in container_event().to_api_json(api_version="1.50")


def test_rich_repr() -> None:
    text = pretty_repr(container_event())
    assert text.startswith("DockerEvent(") and "action='start'" in text


def test_replay_buffer_keeps_last_256() -> None:
    log = EventLog()
    for i in range(300):
        log.log("container", "start", f"{i:064d}", time_ns=i)
    assert len(log) == 256
    replay = log.replay(since_ns=0)
    assert len(replay) == 256 and replay[0].time_ns == 44 and replay[-1].time_ns == 299
    assert log.count == 300


def test_replay_needs_since_or_until_and_honours_both() -> None:
    log = EventLog(clock_ns=iter(range(10, 100, 10)).__next__)
    for action in ("create", "start", "die", "destroy"):
        log.log("container", action, CID, {"name": "web"})
    assert log.replay() == []
    assert [e.action for e in log.replay(since_ns=20)] == ["start", "die", "destroy"]
    assert [e.action for e in log.replay(since_ns=20, until_ns=30)] == ["start", "die"]
    assert [e.action for e in log.replay(until_ns=20)] == ["create", "start"]


def test_log_without_time_needs_a_clock() -> None:
    with pytest.raises(ValueError):
        EventLog().log("container", "start", CID)


def f(**kw: object) -> dict[str, frozenset[str]]:
    return normalize_event_filters(kw)  # type: ignore[arg-type]


def test_filter_forms_and_validation() -> None:
    assert f(type={"container": True, "image": False}) == {"type": frozenset({"container"})}
    assert f(type=["container"]) == {"type": frozenset({"container"})}
    with pytest.raises(ValueError, match="invalid filter 'action'"):
        f(action=["start"])


def test_type_and_event_filters() -> None:
    ev = container_event("start")
    assert event_matches(ev, f(type=["container"]))
    assert not event_matches(ev, f(type=["image"]))
    assert event_matches(ev, f(event=["start", "die"]))
    assert not event_matches(ev, f(event=["stop"]))


def test_exec_event_filter_matches_by_prefix() -> None:
    ev = container_event("exec_start: sh -c ls")
    assert event_matches(ev, f(event=["exec_start"]))
    assert not event_matches(container_event("exec_die"), f(event=["exec_start"]))


def test_container_filter_by_id_prefix_or_name() -> None:
    ev = container_event()
    assert event_matches(ev, f(container=["aaaa"]))
    assert event_matches(ev, f(container=["web"]))
    assert not event_matches(ev, f(container=["db"]))
    # As in dockerd, a container filter is checked against every event: a
    # network event passes only if its own id or name matches.
    net = DockerEvent("network", "connect", "n" * 64, {"container": CID, "name": "bridge"}, NS)
    assert not event_matches(net, f(container=["web"]))


def test_image_filter_matches_container_image_and_strips_tag() -> None:
    ev = DockerEvent("container", "start", CID, {"image": "docker.io/library/busybox:1.36", "name": "w"}, NS)
    assert event_matches(ev, f(image=["busybox"]))
    assert event_matches(ev, f(image=["docker.io/library/busybox:1.36"]))
    assert not event_matches(ev, f(image=["alpine"]))
    pulled = DockerEvent("image", "pull", "busybox:latest", {"name": "busybox"}, NS)
    assert event_matches(pulled, f(image=["busybox"]))


def test_network_volume_and_label_filters() -> None:
    net = DockerEvent("network", "create", "n" * 64, {"name": "mynet", "type": "bridge"}, NS)
    assert event_matches(net, f(network=["mynet"]))
    assert not event_matches(net, f(network=["other"]))
    vol = DockerEvent("volume", "create", "data", {"driver": "local"}, NS)
    assert event_matches(vol, f(volume=["data"]))
    labelled = container_event(app="web", tier="front")
    assert event_matches(labelled, f(label=["app=web"]))
    assert event_matches(labelled, f(label=["app", "tier=front"]))
    assert not event_matches(labelled, f(label=["app=db"]))
    assert not event_matches(labelled, f(label=["missing"]))


def test_subscribers_get_filtered_live_events_and_failures_are_dropped() -> None:
    log = EventLog()
    got: list[str] = []
    unsubscribe = log.subscribe(lambda e: got.append(e.action), {"event": ["die"]})

    def bad(_: DockerEvent) -> None:
        raise RuntimeError("stream closed")

    log.subscribe(bad)
    log.log("container", "start", CID, time_ns=1)
    log.log("container", "die", CID, time_ns=2)
    unsubscribe()
    log.log("container", "die", CID, time_ns=3)
    assert got == ["die"]
    assert len(log.events()) == 3
