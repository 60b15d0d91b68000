"""Fixes made to the shared routes while serving them over HTTP, each pinned by a test."""

from __future__ import annotations

import re

from simulator.des.world import World


def test_info_system_time_is_an_rfc3339_string() -> None:
    # The docker CLI decodes Info.SystemTime into a Go string; a number fails `docker info`.
    body = World().api("GET", "/info").body
    assert isinstance(body["SystemTime"], str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["SystemTime"])
