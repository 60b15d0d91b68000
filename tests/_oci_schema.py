"""Validate documents against the OCI image-spec JSON schemas, as image-spec's Go validator does.

The schemas (draft-04) refer to each other by relative ``$ref`` against
``id`` URLs under https://opencontainers.org/schema/; a ``referencing``
registry answers every such URL from the local copy in
/work/shared/vectors/oci-image-spec/schema. Formats ``uri`` and
``date-time`` are checked, and the two semantic rules image-spec's
``schema/validator.go`` adds on top of the schema are applied: supported
digests (sha256/384/512) must be well formed (others are ignored), and every
config ``Env`` item must contain ``=``; embedded ``data`` must be padded base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from shared_vectors import VECTORS

SCHEMA_DIR = VECTORS / "oci-image-spec/schema"
CASES_FILE = VECTORS / "oci-image-spec/schema_cases.json"

_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path)


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return "T" in value


def _retrieve(uri: str) -> Resource[Any]:
    name = urlsplit(uri).path.rsplit("/", 1)[-1]
    contents = json.loads((SCHEMA_DIR / name).read_text())
    return Resource.from_contents(contents, default_specification=DRAFT4)


@cache
def validator(schema_name: str) -> Draft4Validator:
    """The validator for one schema file (``image-manifest-schema.json``...)."""
    schema = json.loads((SCHEMA_DIR / schema_name).read_text())
    registry: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    return Draft4Validator(schema, registry=registry, format_checker=_FORMATS)


def _fields(doc: Any, name: str) -> list[str]:
    """Every string value of a key ``name`` anywhere in ``doc``."""
    found: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == name and isinstance(value, str):
                found.append(value)
            else:
                found += _fields(value, name)
    elif isinstance(doc, list):
        for item in doc:
            found += _fields(item, name)
    return found


def errors(schema_name: str, doc: Any) -> list[str]:
    """Every reason ``doc`` is invalid for ``schema_name`` (empty when valid)."""
    problems = [e.message for e in validator(schema_name).iter_errors(doc)]
    if problems:
        return problems
    for digest in _fields(doc, "digest"):
        algorithm, _, encoded = digest.partition(":")
        length = _HEX_LENGTH.get(algorithm)
        if length is not None and not re.fullmatch(f"[a-f0-9]{{{length}}}", encoded):
            problems.append(f"invalid digest {digest}")
    for data in _fields(doc, "data"):
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"invalid base64 data {data!r}")
    if schema_name == "config-schema.json" and isinstance(doc, dict):
        config = doc.get("config")
        env = config.get("Env") if isinstance(config, dict) else None
        for item in env or []:
            if "=" not in item:
                problems.append(f"env {item!r} does not contain '='")
    return problems


def load_cases() -> list[dict[str, Any]]:
    """The 78 upstream schema test documents."""
    cases: list[dict[str, Any]] = json.loads(CASES_FILE.read_text())["cases"]
    return cases


def case_documents(text: str) -> list[Any] | None:
    """Parse a case's document text; None when it is not JSON (an expected failure).

    Two extracted documents (TestManifest/6, TestDescriptor/28) run on past
    the end of their Go raw string literal into the next test case, so the
    text is ``json1`...Go source...`json2``. Both documents are returned; the
    recorded expectation holds for the pair (valid only if both are).
    """
    documents: list[Any] = []
    for part in text.split("`")[::2]:
        try:
            documents.append(json.loads(part))
        except json.JSONDecodeError:
            return None
    return documents


def case_is_valid(case: dict[str, Any]) -> bool:
    """Whether this validator setup accepts every document of an upstream case."""
    documents = case_documents(case["document"])
    if documents is None:
        return False
    return all(not errors(case["schema"], doc) for doc in documents)
