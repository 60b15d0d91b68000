"""Docker-worded errors as values.

Every failure a user can cause is one of these: it carries the HTTP status
the Engine API answers with and the exact message Docker prints. The API
turns them into ``{"message": ...}``; the CLI prints
``Error response from daemon: ...``. Nothing else should reach a user.
"""

from __future__ import annotations


class DockerError(Exception):
    """An error with Docker's HTTP status and message."""

    status: int = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r})"


class NotFound(DockerError):
    """errdefs.NotFound: 404."""

    status = 404


class InvalidParameter(DockerError):
    """errdefs.InvalidParameter: 400."""

    status = 400


class Conflict(DockerError):
    """errdefs.Conflict: 409."""

    status = 409


class NotModified(DockerError):
    """errdefs.NotModified: 304 (a success for the CLI: start on running, stop on stopped)."""

    status = 304


class Forbidden(DockerError):
    """errdefs.Forbidden: 403."""

    status = 403


class Unavailable(DockerError):
    """errdefs.Unavailable: 503."""

    status = 503


class NotImplementedByDaemon(DockerError):
    """errdefs.NotImplemented: 501."""

    status = 501


class SystemError_(DockerError):
    """An untyped daemon error: 500."""

    status = 500
