"""Requests and responses between a client transport and the Engine API router.

The same objects serve the embedded CLI (in-process) and the HTTP server, so
the routes are written once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from simulator.daemon.streams import Stream
from simulator.model.errors import InvalidParameter

API_VERSION = "1.50"
MIN_API_VERSION = "1.24"


@dataclass(slots=True)
class ApiRequest:
    """One Engine API call."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> ApiRequest:
        q: dict[str, list[str]] = {}
        for key, value in (query or {}).items():
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            q[key] = [_qs(v) for v in values]
        raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        return cls(method, path, q, raw, dict(headers or {}))

    @classmethod
    def from_target(cls, method: str, target: str, body: bytes, headers: dict[str, str]) -> ApiRequest:
        path, _, qs = target.partition("?")
        return cls(method, path, parse_qs(qs, keep_blank_values=True), body, headers)

    def arg(self, key: str, default: str = "") -> str:
        values = self.query.get(key)
        return values[-1] if values else default

    def args(self, key: str) -> list[str]:
        return list(self.query.get(key, []))

    def flag(self, key: str, default: bool = False) -> bool:
        """moby's BoolValue: "", 0, no, false, none are false."""
        if key not in self.query:
            return default
        return self.arg(key).strip().lower() not in ("", "0", "no", "false", "none")

    def int_arg(self, key: str) -> int | None:
        raw = self.arg(key)
        if raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise InvalidParameter(f'strconv.Atoi: parsing "{raw}": invalid syntax') from None

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidParameter(f"invalid JSON: {err}") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise InvalidParameter("invalid JSON: expected an object")
        return data

    @property
    def user_agent(self) -> str:
        return self.headers.get("User-Agent") or self.headers.get("user-agent") or ""


def _qs(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@dataclass(slots=True)
class ApiResponse:
    """What a route answers.

    ``body`` is JSON-able (sent as ``application/json``) unless ``raw`` is set.
    ``stream`` carries a streamed body: JSON messages (``stream_kind`` "json"),
    log entries to frame ("logs"), or raw bytes ("raw"). ``hijack`` marks attach
    and exec start, whose connection is upgraded.
    """

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Stream | None = None
    stream_kind: str = ""
    tty: bool = False
    hijack: Any = None

    def json(self) -> Any:
        return self.body


def error_response(status: int, message: str) -> ApiResponse:
    return ApiResponse(status=status, body={"message": message})
