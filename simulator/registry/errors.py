"""The OCI Distribution error codes, as values.

A registry answers every failure with ``{"errors": [{"code", "message",
"detail"}]}`` and an HTTP status fixed by the code. Clients (docker, skopeo,
containerd) switch on the code, so the codes, statuses and messages here are
the ones the distribution project registers. ``RegistryError`` is a
``DockerError`` so the daemon's registry client can hand one straight to the
API layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.model.errors import DockerError


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One registered error code: its wire name, HTTP status and message."""

    code: str
    status: int
    message: str


BLOB_UNKNOWN = ErrorCode("BLOB_UNKNOWN", 404, "blob unknown to registry")
BLOB_UPLOAD_INVALID = ErrorCode("BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
BLOB_UPLOAD_UNKNOWN = ErrorCode("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
DIGEST_INVALID = ErrorCode("DIGEST_INVALID", 400, "provided digest did not match uploaded content")
MANIFEST_BLOB_UNKNOWN = ErrorCode("MANIFEST_BLOB_UNKNOWN", 400, "blob unknown to registry")
MANIFEST_INVALID = ErrorCode("MANIFEST_INVALID", 400, "manifest invalid")
MANIFEST_UNKNOWN = ErrorCode("MANIFEST_UNKNOWN", 404, "manifest unknown")
NAME_INVALID = ErrorCode("NAME_INVALID", 400, "invalid repository name")
NAME_UNKNOWN = ErrorCode("NAME_UNKNOWN", 404, "repository name not known to registry")
SIZE_INVALID = ErrorCode("SIZE_INVALID", 400, "provided length did not match content length")
TAG_INVALID = ErrorCode("TAG_INVALID", 400, "manifest tag did not match URI")
UNAUTHORIZED = ErrorCode("UNAUTHORIZED", 401, "authentication required")
DENIED = ErrorCode("DENIED", 403, "requested access to the resource is denied")
UNSUPPORTED = ErrorCode("UNSUPPORTED", 405, "The operation is unsupported.")
RANGE_INVALID = ErrorCode("RANGE_INVALID", 416, "invalid content range")
PAGINATION_NUMBER_INVALID = ErrorCode("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested")
TOO_LARGE = ErrorCode("SIZE_INVALID", 413, "request body too large")
UNKNOWN = ErrorCode("UNKNOWN", 500, "unknown error")

CODES: dict[str, ErrorCode] = {
    c.code: c
    for c in (
        BLOB_UNKNOWN,
        BLOB_UPLOAD_INVALID,
        BLOB_UPLOAD_UNKNOWN,
        DIGEST_INVALID,
        MANIFEST_BLOB_UNKNOWN,
        MANIFEST_INVALID,
        MANIFEST_UNKNOWN,
        NAME_INVALID,
        NAME_UNKNOWN,
        SIZE_INVALID,
        TAG_INVALID,
        UNAUTHORIZED,
        DENIED,
        UNSUPPORTED,
        RANGE_INVALID,
        PAGINATION_NUMBER_INVALID,
        UNKNOWN,
    )
}


class RegistryError(DockerError):
    """A failure with a distribution error code.

    Args:
        code: the registered code (its status becomes the HTTP status).
        detail: code-specific detail (a digest, ``{"name": ...}``, ...).
        message: overrides the code's registered message.
        headers: extra response headers (``Range`` on a 416, ...).
        more: further errors reported in the same body (a manifest missing
            several blobs lists each one, as distribution does).
    """

    def __init__(
        self,
        code: ErrorCode,
        detail: Any = None,
        *,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        more: list[RegistryError] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message or code.message, status or code.status)
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.more = list(more or [])

    def entry(self) -> dict[str, Any]:
        """This error as one element of the ``errors`` list."""
        out: dict[str, Any] = {"code": self.code.code, "message": self.message}
        if self.detail is not None:
            out["detail"] = self.detail
        return out

    def body(self) -> dict[str, Any]:
        """The whole JSON error document."""
        return {"errors": [self.entry(), *(e.entry() for e in self.more)]}

    def __repr__(self) -> str:
        return f"RegistryError({self.code.code}, {self.status}, {self.message!r}, {self.detail!r})"


def error_from_body(status: int, body: Any) -> RegistryError:
    """Rebuild the first error of a registry's JSON error document (client side).

    Args:
        status: the HTTP status the registry answered with.
        body: the decoded JSON body, or anything else when it was not JSON.

    Returns:
        A ``RegistryError`` carrying the remote code, message and detail;
        ``UNKNOWN`` with the status when the body had no usable error.
    """
    entries = body.get("errors") if isinstance(body, dict) else None
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        first = entries[0]
        name = str(first.get("code", "UNKNOWN"))
        code = CODES.get(name, ErrorCode(name, status, str(first.get("message", name))))
        message = str(first.get("message") or code.message)
        return RegistryError(code, first.get("detail"), message=message, status=status)
    return RegistryError(UNKNOWN, message=f"registry answered HTTP {status}", status=status)
