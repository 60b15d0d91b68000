"""Fixes made to the shared routes while serving them over HTTP, each pinned by a test."""

from __future__ import annotations

import re

from simulator.des.world import World


def test_info_system_time_is_an_rfc3339_string() -> None:
    # The docker CLI decodes Info.SystemTime into a Go string; a number fails `docker info`.
    body = World().api("GET", "/info").body
    assert isinstance(body["SystemTime"], str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["SystemTime"])


def test_empty_log_driver_becomes_json_file() -> None:
    # The docker CLI sends HostConfig.LogConfig {"Type": ""}; docker-py returns no output
    # from containers.run unless inspect reports json-file.
    w = World()
    w.api("POST", "/images/create", {"fromImage": "busybox", "tag": "latest"})
    body = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"LogConfig": {"Type": "", "Config": {}}}}
    cid = w.api("POST", "/containers/create", body=body).body["Id"]
    assert w.api("GET", f"/containers/{cid}/json").body["HostConfig"]["LogConfig"] == {
        "Type": "json-file",
        "Config": {},
    }


def test_network_and_volume_names_must_be_strings() -> None:
    # Found by the API fuzz test: {"Name": ["x"]} created a network named "['x']".
    w = World()
    for path in ("/networks/create", "/volumes/create"):
        resp = w.api("POST", path, body={"Name": ["x"]})
        assert resp.status == 400
        assert resp.body["message"].startswith("json: cannot unmarshal array into Go struct field")
    assert "['x']" not in w.daemon.networks and "['x']" not in w.daemon.volumes
