"""Wire formats, listening addresses and the world thread, without a socket."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import simpy

from simulator.api.framing import (
    MULTIPLEXED_TYPE,
    RAW_STREAM_TYPE,
    FrameDecoder,
    JsonLineDecoder,
    error_body,
    frame,
    json_line,
    log_bytes,
    stream_content_type,
)
from simulator.api.listeners import HostError, parse_host
from simulator.api.worldthread import StreamBridge, StreamOverflow, WorldStopped, WorldThread
from simulator.daemon.containers import LogEntry


def test_stdcopy_frames_match_docker_bytes() -> None:
    # The bytes a real dockerd sent for `echo err >&2; echo out` (reference section 4).
    wire = log_bytes(LogEntry(0, "stderr", b"err\n"), tty=False) + log_bytes(LogEntry(0, "stdout", b"out\n"), tty=False)
    assert wire == b"\x02\0\0\0\0\0\0\x04err\n\x01\0\0\0\0\0\0\x04out\n"
    assert log_bytes(LogEntry(0, "stderr", b"raw"), tty=True) == b"raw"
    decoder = FrameDecoder()
    assert list(decoder.feed(wire[:5])) == []
    assert list(decoder.feed(wire[5:])) == [(2, b"err\n"), (1, b"out\n")]
    big = frame(1, b"x" * (3 << 20))
    assert [len(p) for _, p in FrameDecoder().feed(big)] == [1 << 20] * 3


def test_json_lines_and_errors() -> None:
    assert json_line({"status": "Pulling", "id": "latest"}) == b'{"status":"Pulling","id":"latest"}\n'
    assert error_body("No such container: x") == b'{"message":"No such container: x"}\n'
    decoder = JsonLineDecoder()
    assert list(decoder.feed(b'{"a":1}\n{"b"')) == [{"a": 1}]
    assert list(decoder.feed(b":2}")) == []
    assert list(decoder.flush()) == [{"b": 2}]


def test_stream_content_types() -> None:
    assert stream_content_type(False, "1.50") == MULTIPLEXED_TYPE
    assert stream_content_type(False, "1.41") == RAW_STREAM_TYPE
    assert stream_content_type(True, "1.50") == RAW_STREAM_TYPE


def test_hosts() -> None:
    assert str(parse_host("unix:///run/csim/csim.sock")) == "unix:///run/csim/csim.sock"
    assert parse_host("/tmp/x.sock").path == "/tmp/x.sock"
    h = parse_host("tcp://127.0.0.1:2375")
    assert (h.scheme, h.host, h.port) == ("tcp", "127.0.0.1", 2375)
    assert parse_host("tcp://[::1]:2375").host == "::1"
    with pytest.raises(HostError, match=r"refusing to listen on 0\.0\.0\.0"):
        parse_host("tcp://0.0.0.0:2375")
    assert parse_host("tcp://0.0.0.0:2375", allow_remote=True).host == "0.0.0.0"
    for bad in ("tcp://127.0.0.1", "http://x", "", "unix://"):
        with pytest.raises(HostError):
            parse_host(bad)


class _World:
    def __init__(self) -> None:
        self.env = simpy.Environment()


def test_world_thread_keeps_scaled_real_time() -> None:
    world = _World()
    runner = WorldThread(world, speed=10.0)
    runner.start()
    try:
        seen: list[float] = []

        def sleeper() -> object:
            yield world.env.timeout(2.0)  # 2 world seconds = 0.2 wall seconds at 10x
            seen.append(time.monotonic())
            return "woke"

        t0 = time.monotonic()
        assert runner.process(sleeper).result(5) == "woke"
        assert 0.15 <= seen[0] - t0 < 1.0
        assert runner.call(lambda: threading.current_thread().name).result(5) == "csim-world"
        assert runner.call(lambda: 1 / 0).exception(5).__class__ is ZeroDivisionError

        def broken() -> object:
            yield world.env.timeout(0)
            raise RuntimeError("a bug in a route")

        with pytest.raises(RuntimeError, match="a bug in a route"):
            runner.process(broken).result(5)
        assert runner.call(lambda: "still serving").result(5) == "still serving"
    finally:
        runner.stop()
    assert not runner.alive
    assert isinstance(runner.call(lambda: None).exception(1), WorldStopped)  # never a hang at shutdown


def test_stream_bridge_is_bounded() -> None:
    async def scenario() -> None:
        bridge = StreamBridge(asyncio.get_running_loop(), max_bytes=1000)
        thread = threading.Thread(target=lambda: [bridge.push(b"x" * 100) for _ in range(5)] + [bridge.end()])
        thread.start()
        thread.join()
        got = []
        while (batch := await bridge.get()) is not None:
            got.extend(batch)
        assert got == [b"x" * 100] * 5
        slow = StreamBridge(asyncio.get_running_loop(), max_bytes=1000)
        for _ in range(20):
            slow(b"y" * 100)  # never read: past the bound the stream is dropped, not the world's time
        with pytest.raises(StreamOverflow):
            await slow.get()

    asyncio.run(scenario())
