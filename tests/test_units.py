"""Docker's human units, checked against docker/go-units v0.5.0's own test
vectors and against values captured from the real docker CLI 28.2.2."""

from __future__ import annotations

import pytest

from simulator.client.units import (
    ZERO_TIME,
    bytes_size,
    created_ago,
    format_timestamp_rfc3339nano,
    from_human_size,
    get_timestamp,
    human_duration,
    human_size,
    parse_duration_or_timestamp,
    parse_go_duration,
    parse_rfc3339nano,
    parse_size,
    parse_timestamps,
    ps_status,
)

MINUTE = 60
HOUR = 3600
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30 * DAY
YEAR = 365 * DAY
KIB, MIB, GIB, TIB, PIB = (1024**n for n in range(1, 6))


# go-units duration_test.go (ExampleHumanDuration + TestHumanDuration)
@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.45, "Less than a second"),
        (0, "Less than a second"),
        (-5, "Less than a second"),
        (1, "1 second"),
        (2, "2 seconds"),
        (47, "47 seconds"),
        (59.9, "59 seconds"),
        (1 * MINUTE, "About a minute"),
        (119, "About a minute"),
        (3 * MINUTE, "3 minutes"),
        (35 * MINUTE, "35 minutes"),
        (35 * MINUTE + 40, "35 minutes"),
        (59 * MINUTE + 59, "59 minutes"),
        (1 * HOUR, "About an hour"),
        (1 * HOUR + 29 * MINUTE, "About an hour"),
        (1 * HOUR + 45 * MINUTE, "2 hours"),
        (3 * HOUR, "3 hours"),
        (3 * HOUR + 59 * MINUTE, "4 hours"),
        (3 * HOUR + 60 * MINUTE, "4 hours"),
        (24 * HOUR, "24 hours"),
        (24 * HOUR + 12 * HOUR, "36 hours"),
        (2 * DAY, "2 days"),
        (7 * DAY, "7 days"),
        (13 * DAY + 5 * HOUR, "13 days"),
        (2 * WEEK, "2 weeks"),
        (2 * WEEK + 4 * DAY, "2 weeks"),
        (3 * WEEK, "3 weeks"),
        (4 * WEEK, "4 weeks"),
        (4 * WEEK + 3 * DAY, "4 weeks"),
        (1 * MONTH, "4 weeks"),
        (1 * MONTH + 2 * WEEK, "6 weeks"),
        (2 * MONTH, "2 months"),
        (2 * MONTH + 2 * WEEK, "2 months"),
        (3 * MONTH + 1 * WEEK, "3 months"),
        (5 * MONTH + 2 * WEEK, "5 months"),
        (13 * MONTH, "13 months"),
        (23 * MONTH, "23 months"),
        (24 * MONTH, "24 months"),
        (24 * MONTH + 2 * WEEK, "2 years"),
        (3 * YEAR + 2 * MONTH, "3 years"),
    ],
)
def test_human_duration_matches_go_units(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


# go-units size_test.go TestHumanSize (precision 4 = HumanSize)
@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1000, "1kB"),
        (1024, "1.024kB"),
        (1000000, "1MB"),
        (1048576, "1.049MB"),
        (2 * 1000**2, "2MB"),
        (3.42 * 1000**3, "3.42GB"),
        (5.372 * 1000**4, "5.372TB"),
        (2.22 * 1000**5, "2.22PB"),
        (10000000000000 * 1000**5, "1e+04YB"),
    ],
)
def test_human_size_precision_4_matches_go_units(size: float, expected: str) -> None:
    assert human_size(size, precision=4) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0B"),
        (999, "999B"),
        (1234, "1.23kB"),
        (187_400_000, "187MB"),
        (4_261_000, "4.26MB"),
        (1_500, "1.5kB"),
        # %.3g rounds 999.999 up to 1e+03 without moving to the next unit:
        # Docker prints exactly this quirk.
        (999_999, "1e+03kB"),
    ],
)
def test_human_size_default_is_cli_precision_3(size: float, expected: str) -> None:
    assert human_size(size) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1024, "1KiB"),
        (1024 * 1024, "1MiB"),
        (2 * MIB, "2MiB"),
        (3.42 * GIB, "3.42GiB"),
        (5.372 * TIB, "5.372TiB"),
        (2.22 * PIB, "2.22PiB"),
        (KIB * KIB * KIB * KIB * KIB * PIB, "1.049e+06YiB"),
        (0, "0B"),
        (1.5 * MIB, "1.5MiB"),
    ],
)
def test_bytes_size_matches_go_units(size: float, expected: str) -> None:
    assert bytes_size(size) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("32", 32),
        ("32b", 32),
        ("32B", 32),
        ("32k", 32 * KIB),
        ("32K", 32 * KIB),
        ("32kb", 32 * KIB),
        ("32Kb", 32 * KIB),
        ("32Kib", 32 * KIB),
        ("32KIB", 32 * KIB),
        ("32Mb", 32 * MIB),
        ("32Gb", 32 * GIB),
        ("32Tb", 32 * TIB),
        ("32Pb", 32 * PIB),
        ("32PB", 32 * PIB),
        ("32P", 32 * PIB),
        ("16m", 16 * MIB),
        ("1.5g", int(1.5 * GIB)),
        ("32 mb", 32 * MIB),
        ("32.3", 32),
        ("0. ", 0),
    ],
)
def test_parse_size_is_rams_in_bytes(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("0 B", 0),
        ("32k", 32000),
        ("32.5kB", 32500),
        ("32.5 kB", 32500),
        ("32.5 B", 32),
        ("0.3 K", 300),
        (".3kB", 300),
        ("-0 B", 0),
        ("32. B", 32),
    ],
)
def test_from_human_size_is_decimal(text: str, expected: int) -> None:
    assert from_human_size(text) == expected


# Messages captured from `docker run -m <value>` (CLI 28.2.2).
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12x", "invalid suffix: 'x'"),
        ("-3", "invalid size: '-3'"),
        ("hello", "invalid size: 'hello'"),
        ("", "invalid size: ''"),
        ("32bm", "invalid suffix: 'bm'"),
        ("1.2.3", 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'),
    ],
)
def test_parse_size_errors_are_worded_like_docker(text: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_size(text)
    assert str(err.value) == message


@pytest.mark.parametrize("text", [" 32 ", "32m b", " 0", "0b ", ".", " . ", "-32 B", "32 b.", "32  b", "32 B B"])
def test_parse_size_rejects_go_units_error_vectors(text: str) -> None:
    with pytest.raises(ValueError):
        from_human_size(text)


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("10m", 600 * 10**9),
        ("1h30m", 5400 * 10**9),
        ("1.5h", 5400 * 10**9),
        ("-5m", -300 * 10**9),
        ("+2s", 2 * 10**9),
        ("300ms", 300_000_000),
        ("1us", 1000),
        ("1\u00b5s", 1000),
        ("2h45m30.5s", (2 * 3600 + 45 * 60 + 30) * 10**9 + 500_000_000),
        (".5s", 500_000_000),
    ],
)
def test_parse_go_duration(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("abc", 'time: invalid duration "abc"'),
        ("1", 'time: missing unit in duration "1"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
        ("-", 'time: invalid duration "-"'),
        (".s", 'time: invalid duration ".s"'),
    ],
)
def test_parse_go_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_go_duration(text)
    assert str(err.value) == message


# What docker CLI 28.2.2 sent as ?since= for `docker events --since <value>`
# with TZ=UTC, captured with a request-logging fake daemon at now≈1795443879.
NOW = 1795443879.5


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("10m", "1795443279"),
        ("1h30m", "1795438479"),
        ("1.5h", "1795438479"),
        ("-5m", "1795444179"),
        ("300ms", "1795443879"),
        ("0", "0"),
        ("1700000000", "1700000000"),
        ("1700000000.5", "1700000000.5"),
        ("2024-01-02T03:04:05Z", "1704164645.000000000"),
        ("2024-01-02", "1704153600.000000000"),
        ("2024-01-02T03:04", "1704164640.000000000"),
        ("2024-01-02T03", "1704164400.000000000"),
        ("2024-01-02T03:04:05.123+02:00", "1704157445.123000000"),
        ("2024-01-02+02:00", "1704146400.000000000"),
    ],
)
def test_get_timestamp_matches_docker_cli(value: str, sent: str) -> None:
    assert get_timestamp(value, NOW, utc_offset=0) == sent


def test_get_timestamp_uses_local_offset_for_zoneless_times() -> None:
    # 2024-01-02T03:04 at UTC+02:00 is 01:04Z.
    assert get_timestamp("2024-01-02T03:04", NOW, utc_offset=7200) == "1704157440.000000000"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", 'failed to parse value as time or duration: "abc"'),
        ("1.5.3", 'failed to parse value as time or duration: "1.5.3"'),
        ("2020-13-01", 'parsing time "2020-13-01": month out of range'),
        ("2023-02-29", 'parsing time "2023-02-29": day out of range'),
    ],
)
def test_get_timestamp_errors_match_docker_cli(value: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        get_timestamp(value, NOW, utc_offset=0)
    assert str(err.value) == message


def test_parse_duration_or_timestamp_gives_seconds() -> None:
    assert parse_duration_or_timestamp("10m", NOW, 0) == 1795443279
    assert parse_duration_or_timestamp("1700000000.5", NOW, 0) == 1700000000.5
    assert parse_duration_or_timestamp("2024-01-02T03:04:05.25Z", NOW, 0) == 1704164645.25


def test_parse_timestamps() -> None:
    assert parse_timestamps("", 7) == (7, 0)
    assert parse_timestamps("1136073600.000000001", 0) == (1136073600, 1)
    assert parse_timestamps("1700000000.5", 0) == (1700000000, 500_000_000)
    assert parse_timestamps("12", 0) == (12, 0)
    with pytest.raises(ValueError):
        parse_timestamps("1.x", 0)


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (None, ZERO_TIME),
        (0, "1970-01-01T00:00:00Z"),
        (1704164645, "2024-01-02T03:04:05Z"),
        (1704164645.5, "2024-01-02T03:04:05.5Z"),
        (1704164645.123, "2024-01-02T03:04:05.123Z"),
        (1704164645.000001, "2024-01-02T03:04:05.000001Z"),
        (1.1, "1970-01-01T00:00:01.1Z"),
    ],
)
def test_format_timestamp_rfc3339nano(ts: float | None, expected: str) -> None:
    assert format_timestamp_rfc3339nano(ts) == expected


def test_parse_rfc3339nano_round_trips() -> None:
    assert parse_rfc3339nano(ZERO_TIME) is None
    assert parse_rfc3339nano("") is None
    assert parse_rfc3339nano("2024-01-02T03:04:05.5Z") == 1704164645.5
    assert parse_rfc3339nano("2024-01-02T05:04:05+02:00") == 1704164645
    stamp = format_timestamp_rfc3339nano(1704164645.25)
    assert parse_rfc3339nano(stamp) == 1704164645.25
    with pytest.raises(ValueError):
        parse_rfc3339nano("yesterday")


T0 = 1_700_000_000.0


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        ({"Status": "created", "StartedAt": ZERO_TIME, "FinishedAt": ZERO_TIME}, T0, "Created"),
        ({"Running": True, "StartedAt": T0}, T0 + 5, "Up 5 seconds"),
        ({"Running": True, "Paused": True, "StartedAt": T0}, T0 + 5, "Up 5 seconds (Paused)"),
        (
            {"Running": True, "Restarting": True, "ExitCode": 1, "StartedAt": T0, "FinishedAt": T0},
            T0 + 0.4,
            "Restarting (1) Less than a second ago",
        ),
        (
            {"ExitCode": 3, "StartedAt": T0, "FinishedAt": T0 + 1},
            T0 + 5,
            "Exited (3) 4 seconds ago",
        ),
        ({"Status": "removing", "StartedAt": T0, "FinishedAt": T0}, T0, "Removal In Progress"),
        ({"Dead": True, "StartedAt": T0, "FinishedAt": T0}, T0, "Dead"),
        (
            {"Running": True, "StartedAt": T0, "Health": {"Status": "starting"}},
            T0 + 2,
            "Up 2 seconds (health: starting)",
        ),
        (
            {"Running": True, "StartedAt": T0, "Health": {"Status": "healthy"}},
            T0 + 120,
            "Up 2 minutes (healthy)",
        ),
        (
            {
                "Running": False,
                "ExitCode": 137,
                "StartedAt": "2023-11-14T22:13:20Z",
                "FinishedAt": "2023-11-14T22:13:21.5Z",
            },
            T0 + 3 * HOUR,
            "Exited (137) 3 hours ago",
        ),
    ],
)
def test_ps_status_matches_state_string(state: dict[str, object], now: float, expected: str) -> None:
    assert ps_status(state, now) == expected


def test_ps_status_accepts_snake_case_fields() -> None:
    assert ps_status(now=T0 + 90, running=True, started_at=T0) == "Up About a minute"
    assert ps_status(now=T0, started_at=None) == "Created"
    assert ps_status({"Running": True, "StartedAt": T0}, T0 + 5, paused=True).endswith("(Paused)")
    with pytest.raises(TypeError):
        ps_status(now=T0, runing=True)


def test_created_ago() -> None:
    assert created_ago(T0, T0 + 120) == "2 minutes ago"
    assert created_ago(T0, T0) == "Less than a second ago"
    assert created_ago(T0, T0 + 2 * DAY) == "2 days ago"
