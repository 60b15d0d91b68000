"""Docker events: what ``docker events`` streams, as values.

dockerd logs an event for every lifecycle fact (container ``create``,
``start``, ``die``, network ``connect``, image ``pull``...). It keeps the last
256 in memory so that ``GET /events?since=...`` can replay them, and filters
both the replay and the live stream with the ``filters`` query parameter.
This module models exactly that, so the API layer only has to frame lines.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACCEPTED_EVENT_FILTERS",
    "EVENTS_BUFFER_SIZE",
    "DockerEvent",
    "EventFilters",
    "EventLog",
    "event_matches",
    "normalize_event_filters",
]

_log = logging.getLogger(__name__)

EVENTS_BUFFER_SIZE = 256
"""dockerd's ``eventsLimit``: how many events ``since`` can replay."""

ACCEPTED_EVENT_FILTERS: frozenset[str] = frozenset(
    {
        "config",
        "container",
        "daemon",
        "event",
        "image",
        "label",
        "network",
        "node",
        "plugin",
        "scope",
        "secret",
        "service",
        "type",
        "volume",
    }
)

# Filters by actor name or id prefix, one per object type (daemon/events/filter.go).
_NAME_FILTERS = ("daemon", "container", "plugin", "volume", "network", "node", "service")
_NAME_FILTERS_SWARM = ("secret", "config")
# Event filter values that match by prefix: exec actions carry their command.
_FUZZY_ACTIONS = frozenset({"health_status", "exec_create", "exec_start"})

_LEGACY_FIELDS_REMOVED_IN = (1, 52)

EventFilters = Mapping[str, frozenset[str]]
"""Normalised filters: key -> set of values (what Docker's ``filters.Args`` holds)."""


# Not ``frozen=True``, for the same reason as ``Span``: the daemon logs several
# events per container lifecycle and a frozen dataclass's ``__init__`` (one
# ``object.__setattr__`` per field) was most of the cost. Never changed once made.
@dataclass(slots=True, init=False)
class DockerEvent:
    """One Docker event, as dockerd's ``events.Message`` (treat it as immutable).

    Attributes:
        type: ``container``, ``image``, ``network``, ``volume``, ``daemon``...
        action: ``create``, ``start``, ``die``, ``exec_start: sh -c ls``...
        actor_id: the object's id (full container id, image reference, network id...).
        attributes: Actor.Attributes (labels, ``name``, ``image``, ``exitCode``...).
        time_ns: when, in Unix nanoseconds.
        scope: ``local`` for engine events.
    """

    type: str
    action: str
    actor_id: str
    attributes: dict[str, str]
    time_ns: int
    scope: str

    def __init__(
        self,
        type: str,
        action: str,
        actor_id: str,
        attributes: dict[str, str] | None = None,
        time_ns: int = 0,
        scope: str = "local",
    ) -> None:
        self.type = type
        self.action = action
        self.actor_id = actor_id
        self.attributes = {} if attributes is None else attributes
        self.time_ns = time_ns
        self.scope = scope

    @property
    def time(self) -> int:
        """Unix seconds, as the ``time`` field."""
        return self.time_ns // 1_000_000_000

    def to_api_json(self, api_version: str | None = None) -> dict[str, Any]:
        """The event as ``GET /events`` sends it, keys in Docker's order.

        Container and image events also carry the deprecated ``status``, ``id``
        and (containers only) ``from`` unless ``api_version`` is 1.52 or later.
        Empty ``from``, ``scope``, ``time`` and ``timeNano`` are omitted, as
        Go's ``omitempty`` does.
        """
        out: dict[str, Any] = {}
        if self.type in ("container", "image") and _wants_legacy(api_version):
            out["status"] = self.action
            out["id"] = self.actor_id
            image = self.attributes.get("image", "")
            if self.type == "container" and image:
                out["from"] = image
        out["Type"] = self.type
        out["Action"] = self.action
        out["Actor"] = {
            "ID": self.actor_id,
            "Attributes": {k: str(self.attributes[k]) for k in sorted(self.attributes)},
        }
        if self.scope:
            out["scope"] = self.scope
        if self.time:
            out["time"] = self.time
        if self.time_ns:
            out["timeNano"] = self.time_ns
        return out

    def to_api_line(self, api_version: str | None = None) -> bytes:
        """One line of the events stream, encoded like Go's ``json.Encoder``."""
        return go_json_encode(self.to_api_json(api_version)) + b"\n"

    def __rich_repr__(self):  # type: ignore[no-untyped-def]
        yield "type", self.type
        yield "action", self.action
        yield "actor_id", self.actor_id
        yield "attributes", self.attributes
        yield "time_ns", self.time_ns
        yield "scope", self.scope, "local"


def _wants_legacy(api_version: str | None) -> bool:
    if api_version is None:
        return True
    try:
        major, minor = (int(part) for part in api_version.split(".", 1))
    except ValueError:
        return True
    return (major, minor) < _LEGACY_FIELDS_REMOVED_IN


_GO_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_json_encode(obj: Any) -> bytes:
    """Compact JSON the way Go's encoder writes it (HTML characters escaped)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_HTML_ESCAPES.items():
        text = text.replace(char, escaped)
    return text.encode("utf-8")


def normalize_event_filters(
    filters: Mapping[str, Iterable[str] | Mapping[str, bool]] | None,
) -> dict[str, frozenset[str]]:
    """Turn ``filters`` as decoded from the query into key -> set of values.

    Accepts both wire forms, ``{"type": {"container": true}}`` and the older
    ``{"type": ["container"]}``.

    Raises:
        ValueError: ``invalid filter 'x'`` for a key ``docker events`` rejects.
    """
    if not filters:
        return {}
    out: dict[str, frozenset[str]] = {}
    for key, values in filters.items():
        if key not in ACCEPTED_EVENT_FILTERS:
            raise ValueError(f"invalid filter '{key}'")
        if isinstance(values, Mapping):
            out[key] = frozenset(v for v, on in values.items() if on)
        elif isinstance(values, str):
            out[key] = frozenset({values})
        else:
            out[key] = frozenset(values)
    return out


def _exact(filters: EventFilters, key: str, source: str) -> bool:
    values = filters.get(key)
    return not values or source in values


def _fuzzy(filters: EventFilters, key: str, source: str) -> bool:
    values = filters.get(key)
    if not values or source in values:
        return True
    return any(source.startswith(prefix) for prefix in values)


def _labels(filters: EventFilters, attributes: Mapping[str, str]) -> bool:
    values = filters.get("label")
    if not values:
        return True
    if not attributes:
        return False
    for value in values:
        key, has_value, wanted = value.partition("=")
        if key not in attributes:
            return False
        if has_value and attributes[key] != wanted:
            return False
    return True


_NAME_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


def _strip_tag(image: str) -> str:
    """The familiar repository name of ``image`` (``busybox:1`` -> ``busybox``).

    Like Docker's ``stripTag``, anything that does not parse as a reference
    comes back unchanged.
    """
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name = name[:colon]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        domain, path = parts[0], parts[1:]
    else:
        domain, path = "docker.io", parts
    if not path or not all(_NAME_COMPONENT.match(p) for p in path):
        return image
    if len(path) == 1 and re.fullmatch(r"[a-f0-9]{64}", path[0]):
        return image  # a bare image id is not a repository name
    if domain in ("docker.io", "index.docker.io"):
        if len(path) == 2 and path[0] == "library":
            return path[1]
        return "/".join(path)
    return "/".join([domain, *path])


def event_matches(event: DockerEvent, filters: EventFilters) -> bool:
    """Whether ``event`` passes ``filters``, as dockerd's ``Filter.Include``."""
    if not filters:
        return True
    if any(v in _FUZZY_ACTIONS for v in filters.get("event", ())):
        action_ok = _fuzzy(filters, "event", event.action)
    else:
        action_ok = _exact(filters, "event", event.action)
    if not action_ok or not _exact(filters, "type", event.type):
        return False
    if "scope" in filters and not _exact(filters, "scope", event.scope):
        return False
    name = event.attributes.get("name", "")
    for key in (*_NAME_FILTERS, *_NAME_FILTERS_SWARM):
        # Docker checks every name filter against every event: a
        # container=x filter therefore drops network events too.
        if not (_fuzzy(filters, key, event.actor_id) or _fuzzy(filters, key, name)):
            return False
    image_name = event.attributes.get("name" if event.type == "image" else "image", "")
    if not (
        _exact(filters, "image", event.actor_id)
        or _exact(filters, "image", image_name)
        or _exact(filters, "image", _strip_tag(event.actor_id))
        or _exact(filters, "image", _strip_tag(image_name))
    ):
        return False
    return _labels(filters, event.attributes)


EventCallback = Callable[[DockerEvent], None]


class EventLog:
    """dockerd's events service: a 256-entry replay buffer plus live subscribers.

    Args:
        clock_ns: current Unix time in nanoseconds, used by ``log``; required
            only if ``log`` is called without ``time_ns``.
        buffer_size: how many events ``replay`` can see (Docker: 256).
    """

    def __init__(
        self,
        clock_ns: Callable[[], int] | None = None,
        buffer_size: int = EVENTS_BUFFER_SIZE,
    ) -> None:
        self._clock_ns = clock_ns
        self._buffer: deque[DockerEvent] = deque(maxlen=buffer_size)
        # Copy-on-write: publishing iterates a snapshot without copying it.
        self._subscribers: tuple[tuple[EventCallback, EventFilters], ...] = ()
        self._lock = threading.Lock()
        self.count = 0

    def log(
        self,
        type: str,
        action: str,
        actor_id: str,
        attributes: Mapping[str, Any] | None = None,
        time_ns: int | None = None,
    ) -> DockerEvent:
        """Build an event (attribute values become strings) and publish it."""
        if time_ns is None:
            if self._clock_ns is None:
                raise ValueError("EventLog.log needs time_ns or a clock_ns")
            time_ns = self._clock_ns()
        attrs = {str(k): str(v) for k, v in attributes.items()} if attributes else {}
        event = DockerEvent(type, action, actor_id, attrs, int(time_ns))
        self.publish(event)
        return event

    def emit(self, type: str, action: str, actor_id: str, attributes: dict[str, str], time_ns: int) -> None:
        """``log`` for a caller whose attribute keys and values are already strings.

        The event takes ``attributes`` as it is (no copy): the daemon builds a
        fresh dict for every event, and skipping ``log``'s conversion pass is
        most of what an event costs on a container's hot path.
        """
        self.publish(DockerEvent(type, action, actor_id, attributes, time_ns))

    def __call__(self, event: DockerEvent) -> None:
        self.publish(event)

    def publish(self, event: DockerEvent) -> None:
        """Keep ``event`` in the buffer and hand it to matching subscribers."""
        with self._lock:
            self._buffer.append(event)
            self.count += 1
            subscribers = self._subscribers
        for callback, filters in subscribers:
            if not event_matches(event, filters):
                continue
            try:
                callback(event)
            except Exception as exc:  # a broken stream must not break the daemon
                _log.warning("event subscriber %r failed and was removed: %s", callback, exc)
                self._remove(callback)

    def _remove(self, callback: EventCallback) -> None:
        with self._lock:
            self._subscribers = tuple((cb, f) for cb, f in self._subscribers if cb is not callback)

    def subscribe(
        self,
        callback: EventCallback,
        filters: Mapping[str, Iterable[str] | Mapping[str, bool]] | None = None,
    ) -> Callable[[], None]:
        """Call ``callback(event)`` for each future event passing ``filters``.

        Returns:
            A function that unsubscribes.

        Raises:
            ValueError: for a filter key Docker rejects.
        """
        normalized = normalize_event_filters(filters)
        with self._lock:
            self._subscribers = (*self._subscribers, (callback, normalized))
        return lambda: self._remove(callback)

    def replay(
        self,
        since_ns: int | None = None,
        until_ns: int | None = None,
        filters: Mapping[str, Iterable[str] | Mapping[str, bool]] | None = None,
    ) -> list[DockerEvent]:
        """The buffered events a new ``GET /events`` stream starts with.

        As in dockerd, nothing is replayed unless ``since`` or ``until`` is
        given; events older than ``since`` or newer than ``until`` are left out.
        """
        normalized = normalize_event_filters(filters)
        if since_ns is None and until_ns is None:
            return []
        with self._lock:
            buffered = list(self._buffer)
        return [
            ev
            for ev in buffered
            if (since_ns is None or ev.time_ns >= since_ns)
            and (until_ns is None or until_ns <= 0 or ev.time_ns <= until_ns)
            and event_matches(ev, normalized)
        ]

    def events(self) -> list[DockerEvent]:
        """Everything still in the buffer, oldest first."""
        with self._lock:
            return list(self._buffer)

    def __len__(self) -> int:
        return len(self._buffer)

    def clear(self) -> None:
        with self._lock:
            self._buffer.clear()
            self.count = 0
