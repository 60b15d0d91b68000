"""The lesson format, as a JSON schema: what a lesson file may say, checked before it is taught.

A lesson is YAML front matter (this schema) over a Markdown introduction. Each
step's ``check`` is a list of declarative predicates; ``CHECK_KINDS`` names
every predicate kind and the parameters it takes, so an unknown kind or a
misspelt parameter is reported with the file and line it is on, not
discovered in front of a class.
"""

from __future__ import annotations

from typing import Any

CONCEPTS: dict[str, str] = {
    "client-daemon": "client, daemon, server (engine) and how they relate; a client can talk to several daemons",
    "rest-api": "the REST API is the only way in; the CLI turns commands into API calls and JSON into tables",
    "registry": "registries, registry vs repository, registry/repository/image:tag, official images, latest",
    "image-layers": "images as read-only layered templates; pull vs build; each change a new layer; sharing",
    "container": "containers as isolated instances sharing the host kernel; thin writable layer; copy-on-write",
    "workflow": "the build, share, run workflow (Dockerfile, build, push, pull, run)",
    "lifecycle": "the container lifecycle and its seven states",
    "runtime": "containerd, the shim, runc, OCI standards; runtimes as replaceable parts; podman",
    "network": "networks: container-to-container communication",
    "volume": "volumes: data that outlives containers, shared between them",
    "resources": "resource allocation: CPU and memory limits",
    "vm-vs-container": "containers vs virtual machines; what Docker Desktop bundles",
}
"""The twelve ideas of the source notes; every lesson is tagged with some of them."""

STATUSES = ["created", "running", "paused", "restarting", "removing", "exited", "dead"]

_STR = {"type": "string", "minLength": 1}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_STRS = {"type": "array", "items": _STR, "minItems": 1}

CHECK_KINDS: dict[str, dict[str, Any]] = {
    "container": {
        "required": ["name"],
        "properties": {
            "name": _STR,
            "present": _BOOL,
            "status": {"enum": STATUSES},
            "exit_code": _INT,
            "oom_killed": _BOOL,
            "image": _STR,
            "hostname": _STR,
            "memory": _INT,
            "nano_cpus": _INT,
            "network": _STR,
            "volume": _STR,
            "env": _STR,
            "restart_policy": _STR,
            "min_restarts": _INT,
        },
    },
    "image": {"required": ["ref"], "properties": {"ref": _STR, "present": _BOOL, "min_layers": _INT}},
    "shared_layer": {"required": ["images"], "properties": {"images": {**_STRS, "minItems": 2}}},
    "span": {
        "properties": {
            "hop": _STR,
            "name": _STR,
            "method": _STR,
            "path": _STR,
            "status": _INT,
            "min_count": _INT,
            "since": {"enum": ["step", "lesson", "any"]},
        },
    },
    "changes": {
        "required": ["container", "path"],
        "properties": {"container": _STR, "path": _STR, "change": {"enum": ["A", "C", "D"]}},
    },
    "network": {
        "required": ["name"],
        "properties": {"name": _STR, "present": _BOOL, "endpoints": _INT, "containers": _STRS, "driver": _STR},
    },
    "volume": {
        "required": ["name"],
        "properties": {"name": _STR, "present": _BOOL, "used_by": _STR},
    },
    "event": {
        "required": ["type", "action"],
        "properties": {
            "type": _STR,
            "action": _STR,
            "actor": _STR,
            "min_count": _INT,
            "since": {"enum": ["step", "lesson", "any"]},
        },
    },
    "logs": {"required": ["container", "contains"], "properties": {"container": _STR, "contains": _STR}},
    "output": {
        "required": ["probe", "contains"],
        "properties": {"probe": _STR, "contains": _STR, "exit_code": _INT},
    },
    "command": {
        "required": ["contains"],
        "properties": {"contains": _STR, "exit_code": _INT, "since": {"enum": ["step", "lesson", "any"]}},
    },
    "quiz": {"properties": {}},
    "predicted": {"properties": {}},
}
"""Predicate kind -> its parameters. ``feedback`` (text shown when it fails) is allowed on every kind."""


def _check_schema() -> dict[str, Any]:
    variants = []
    for kind, spec in CHECK_KINDS.items():
        props = {"kind": {"const": kind}, "feedback": _STR, **spec.get("properties", {})}
        variants.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {
                    "properties": props,
                    "required": ["kind", *spec.get("required", [])],
                    "additionalProperties": False,
                },
            }
        )
    return {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": sorted(CHECK_KINDS)}},
        "allOf": variants,
    }


_OPTION = {
    "type": "object",
    "required": ["text", "explain"],
    "properties": {"text": _STR, "explain": _STR, "correct": _BOOL},
    "additionalProperties": False,
}

_CHOICE = {
    "type": "object",
    "required": ["question", "options"],
    "properties": {"question": _STR, "options": {"type": "array", "items": _OPTION, "minItems": 2}},
    "additionalProperties": False,
}

_STEP = {
    "type": "object",
    "required": ["id", "text", "check"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "title": _STR,
        "text": _STR,
        "command": _STR,
        "watch": {
            "type": "object",
            "required": ["span", "explain"],
            "properties": {"span": _STR, "hop": _STR, "explain": _STR},
            "additionalProperties": False,
        },
        "quiz": _CHOICE,
        "predict": _CHOICE,
        "check": {"type": "array", "items": _check_schema(), "minItems": 1},
        "hints": {"type": "array", "items": _STR},
        "solution": {"type": "array", "items": {"type": "string"}},
        "wrong": {"type": "array", "items": _STR},
        "success": _STR,
    },
    "additionalProperties": False,
}

_VARIABLE = {
    "type": "object",
    "required": ["kind", "default"],
    "properties": {
        "kind": {"enum": ["name", "port", "tag", "choice"]},
        "default": {"type": ["string", "integer"]},
        "choices": {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1},
    },
    "additionalProperties": False,
}

LESSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "lang", "title", "objectives", "concepts", "minutes", "backend", "steps"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "lang": {"enum": ["en", "ko"]},
        "order": _INT,
        "title": _STR,
        "summary": _STR,
        "objectives": _STRS,
        "concepts": {"type": "array", "items": {"enum": sorted(CONCEPTS)}, "minItems": 1},
        "minutes": {"type": "integer", "minimum": 1},
        "backend": {"enum": ["sim", "linux"]},
        "variables": {"type": "object", "additionalProperties": _VARIABLE},
        "setup": {"type": "array", "items": _STR},
        "steps": {"type": "array", "items": _STEP, "minItems": 1},
    },
    "additionalProperties": False,
}
"""The front matter of one lesson file."""
