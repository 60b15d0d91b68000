"""Pure rules: container state flags, restart policies, signals, IPAM, -v parsing, names."""

from __future__ import annotations

import random

import pytest

from simulator.model import state as rules
from simulator.model.errors import Conflict, InvalidParameter, NotModified, SystemError_
from simulator.model.names import generate_name, validate_name
from simulator.model.network import Network, gateway_for, mac_for, next_pool
from simulator.model.restart import RestartPolicy, next_backoff
from simulator.model.signals import parse_signal, signal_name
from simulator.model.state import ContainerState
from simulator.model.volume import parse_bind

CID = "a" * 64


def make(status: str) -> ContainerState:
    s = ContainerState()
    if status == "created":
        return s
    s.set_running(42, 1.0)
    if status == "paused":
        s.paused = True
    elif status == "restarting":
        s.set_restarting(1, 2.0)
    elif status == "exited":
        s.set_stopped(3, 2.0)
    elif status == "removing":
        s.set_stopped(0, 2.0)
        s.removal_in_progress = True
    elif status == "dead":
        s.set_stopped(0, 2.0)
        s.dead = True
    return s


@pytest.mark.parametrize("status", ["created", "running", "paused", "restarting", "exited", "removing", "dead"])
def test_status_word_is_derived_from_flags(status: str) -> None:
    assert make(status).status == status


def test_paused_and_restarting_are_running() -> None:
    assert make("paused").running and make("restarting").running
    assert make("restarting").pid == 0


def test_start_resets_exit_code_and_keeps_finished_at() -> None:
    s = make("exited")
    s.set_running(7, 5.0)
    assert (s.exit_code, s.finished_at, s.pid) == (0, 2.0, 7)


# The table of container-lifecycle.md: (operation, state) -> (error type, message) or None.
TABLE = {
    ("start", "running"): (NotModified, None),
    ("start", "paused"): (Conflict, "cannot start a paused container, try unpause instead"),
    ("stop", "created"): (NotModified, None),
    ("stop", "exited"): (NotModified, None),
    ("kill", "created"): (Conflict, f"Cannot kill container: web: Container {CID} is not running"),
    ("kill", "exited"): (Conflict, f"Cannot kill container: web: Container {CID} is not running"),
    ("pause", "created"): (Conflict, f"Container {CID} is not running"),
    ("pause", "paused"): (Conflict, f"Container {CID} is already paused"),
    ("pause", "exited"): (Conflict, f"Container {CID} is not running"),
    ("unpause", "created"): (SystemError_, f"Container {CID} is not paused"),
    ("unpause", "running"): (SystemError_, f"Container {CID} is not paused"),
    ("unpause", "exited"): (SystemError_, f"Container {CID} is not paused"),
    ("exec", "created"): (Conflict, f"Container {CID} is not running"),
    ("exec", "exited"): (Conflict, f"Container {CID} is not running"),
    ("exec", "paused"): (Conflict, "Container web is paused, unpause the container before exec"),
    (
        "rm",
        "running",
    ): (
        Conflict,
        f"You cannot remove a running container {CID}. Stop the container before attempting removal or force remove",
    ),
    (
        "rm",
        "paused",
    ): (
        Conflict,
        f"You cannot remove a paused container {CID}. Unpause and then stop the container before attempting "
        "removal or force remove",
    ),
}


def check(op: str, s: ContainerState) -> None:
    {
        "start": lambda: rules.check_start(s),
        "stop": lambda: rules.check_stop(s),
        "kill": lambda: rules.check_kill(s, CID, "web"),
        "pause": lambda: rules.check_pause(s, CID),
        "unpause": lambda: rules.check_unpause(s, CID),
        "exec": lambda: rules.check_exec(s, CID, "web"),
        "rm": lambda: rules.check_remove(s, CID, "web", False),
    }[op]()


@pytest.mark.parametrize("op", ["start", "stop", "kill", "pause", "unpause", "exec", "rm"])
@pytest.mark.parametrize("status", ["created", "running", "paused", "exited"])
def test_operation_table(op: str, status: str) -> None:
    expected = TABLE.get((op, status))
    if expected is None:
        check(op, make(status))
        return
    kind, message = expected
    with pytest.raises(kind) as info:
        check(op, make(status))
    if message is not None:
        assert info.value.message == message
    assert info.value.status == {NotModified: 304, Conflict: 409, SystemError_: 500}[kind]


def test_force_remove_is_always_allowed_except_during_removal() -> None:
    for status in ("created", "running", "paused", "exited"):
        rules.check_remove(make(status), CID, "web", True)
    with pytest.raises(Conflict, match="removal of container web is already in progress"):
        rules.check_remove(make("removing"), CID, "web", True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("always:3", "invalid restart policy: maximum retry count can only be used with 'on-failure'"),
        ("on-failure:-1", "invalid restart policy: maximum retry count cannot be negative"),
        (
            "sometimes",
            "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', "
            "or 'unless-stopped'",
        ),
    ],
)
def test_restart_policy_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        RestartPolicy.parse(text)
    assert info.value.message == message


def test_restart_decisions() -> None:
    on_failure = RestartPolicy.parse("on-failure:2")
    assert on_failure.should_restart(3, 0, False, False)
    assert on_failure.should_restart(3, 1, False, False)
    assert not on_failure.should_restart(3, 2, False, False)
    assert not on_failure.should_restart(0, 0, False, False)
    assert RestartPolicy.parse("always").should_restart(0, 99, False, True)
    assert not RestartPolicy.parse("always").should_restart(137, 0, True, True)
    assert not RestartPolicy.parse("unless-stopped").should_restart(1, 0, False, True)
    assert not RestartPolicy.parse("no").should_restart(1, 0, False, False)


def test_backoff_doubles_caps_and_resets() -> None:
    delays = [0.0]
    for _ in range(12):
        delays.append(next_backoff(delays[-1], 0.5))
    assert delays[1:5] == [0.1, 0.2, 0.4, 0.8]
    assert max(delays) == 60.0
    assert next_backoff(60.0, 10.0) == 0.1


@pytest.mark.parametrize(("raw", "number"), [("SIGTERM", 15), ("term", 15), ("9", 9), ("KILL", 9), ("SIGWINCH", 28)])
def test_parse_signal(raw: str, number: int) -> None:
    assert parse_signal(raw) == number


@pytest.mark.parametrize("raw", ["0", "SIGNOPE", "65", ""])
def test_invalid_signal(raw: str) -> None:
    with pytest.raises(InvalidParameter, match="invalid signal"):
        parse_signal(raw)


def test_signal_name() -> None:
    assert signal_name(15) == "SIGTERM"
    assert signal_name(9) == "SIGKILL"


def test_ipam_allocates_after_the_gateway_and_reuses_released_addresses() -> None:
    net = Network(id="n", name="app", driver="bridge", subnet="172.18.0.0/16", gateway=gateway_for("172.18.0.0/16"))
    assert net.gateway == "172.18.0.1"
    a, b = net.allocate_ip(), net.allocate_ip()
    assert (a, b) == ("172.18.0.2", "172.18.0.3")
    net.release_ip(a)
    assert net.allocate_ip() == "172.18.0.2"
    with pytest.raises(Conflict):
        net.allocate_ip("172.18.0.3")
    assert mac_for("172.17.0.2") == "02:42:ac:11:00:02"


def test_next_pool_skips_taken_subnets() -> None:
    assert next_pool(["172.17.0.0/16"]) == "172.18.0.0/16"
    assert next_pool(["172.17.0.0/16", "172.18.0.0/16"]) == "172.19.0.0/16"


def test_parse_bind_forms() -> None:
    assert parse_bind("data:/var/lib/data").kind == "volume"
    assert parse_bind("/srv:/srv:ro").read_only
    assert parse_bind("/cache").source == ""
    with pytest.raises(InvalidParameter):
        parse_bind("data:relative")
    with pytest.raises(InvalidParameter):
        parse_bind("bad name!:/x")


def test_container_names() -> None:
    assert validate_name("/web") == "web"
    with pytest.raises(InvalidParameter) as info:
        validate_name("bad name")
    assert info.value.message == "Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
    rng = random.Random(1)
    name = generate_name(rng)
    assert "_" in name and name == generate_name(random.Random(1))
