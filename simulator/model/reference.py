"""Docker image references: parsing, normalisation and the "familiar" form.

Every command that names an image (``pull``, ``run``, ``tag``, ``rmi``,
``FROM`` in a Dockerfile) goes through these rules before anything else
happens, so csim must agree with Docker byte for byte: ``busybox`` is
``docker.io/library/busybox:latest``, ``Busybox`` is an error with a very
particular message, and a 64-hex string is an image ID, not a name.

This module reproduces the behaviour of github.com/distribution/reference
v0.6.0 (the library the docker CLI vendors): the grammar, the order in which
checks run (which decides the error a user sees) and the error wording. The
Go functions map to Python ones:

=====================  ==========================
Go                     Python
=====================  ==========================
Parse                  :func:`parse`
ParseNamed             :func:`parse_named`
ParseNormalizedNamed   :func:`parse_normalized_named`
ParseDockerRef         :func:`parse_docker_ref`
ParseAnyReference      :func:`parse_any_reference`
WithName               :func:`with_name`
WithTag / WithDigest   :func:`with_tag` / :func:`with_digest`
TagNameOnly            :meth:`Reference.with_default_tag`
FamiliarMatch          :func:`familiar_match`
=====================  ==========================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from simulator.model.errors import InvalidParameter

__all__ = [
    "ANCHORED_IDENTIFIER_RE",
    "ANCHORED_NAME_RE",
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "DOMAIN_AND_PORT_RE",
    "NAME_TOTAL_LENGTH_MAX",
    "REFERENCE_RE",
    "DigestReference",
    "Reference",
    "ReferenceError_",
    "familiar_match",
    "normalize",
    "parse",
    "parse_any_reference",
    "parse_docker_ref",
    "parse_named",
    "parse_normalized_named",
    "with_digest",
    "with_name",
    "with_tag",
]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# Upstream's error texts (reference/errors.go and go-digest).
ERR_REFERENCE_INVALID_FORMAT = "invalid reference format"
ERR_TAG_INVALID_FORMAT = "invalid tag format"
ERR_DIGEST_INVALID_FORMAT = "invalid digest format"
ERR_NAME_CONTAINS_UPPERCASE = "repository name must be lowercase"
ERR_NAME_EMPTY = "repository name must have at least one component"
ERR_NAME_TOO_LONG = f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
ERR_NAME_NOT_CANONICAL = "repository name must be canonical"
ERR_CHECKSUM_INVALID_FORMAT = "invalid checksum digest format"
ERR_CHECKSUM_INVALID_LENGTH = "invalid checksum digest length"
ERR_DIGEST_UNSUPPORTED = "unsupported digest algorithm"


class ReferenceError_(InvalidParameter):
    """An image reference that Docker would reject (HTTP 400)."""


# --- grammar (regexp.go) --------------------------------------------------
# Go's regexp has RE2 semantics: `\w` is ASCII and `$` means end of text, so
# the patterns are compiled with re.ASCII and anchored with \A ... \Z.

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN_AND_PORT = rf"{_HOST}(?::[0-9]+)?"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NAME = rf"(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME}"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"

DOMAIN_AND_PORT_RE = re.compile(rf"\A{_DOMAIN_AND_PORT}\Z", re.ASCII)
"""A registry host with an optional port (``^domainAndPort$``)."""
REFERENCE_RE = re.compile(rf"\A({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?\Z", re.ASCII)
"""A whole reference; groups: name, tag, digest (ReferenceRegexp)."""
ANCHORED_NAME_RE = re.compile(rf"\A(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})\Z", re.ASCII)
"""A repository name; groups: domain, path (anchoredNameRegexp)."""
ANCHORED_IDENTIFIER_RE = re.compile(r"\A[a-f0-9]{64}\Z", re.ASCII)
"""An image ID: 64 lowercase hex digits (anchoredIdentifierRegexp)."""
_ANCHORED_TAG_RE = re.compile(rf"\A{_TAG}\Z", re.ASCII)
_ANCHORED_DIGEST_RE = re.compile(rf"\A{_DIGEST}\Z", re.ASCII)

# go-digest: the algorithms linked into the CLI and their hex lengths.
_DIGEST_GRAMMAR_RE = re.compile(r"\A[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+\Z", re.ASCII)
_HEX_LENGTH = {"sha256": 64}
_LOWER_HEX_RE = re.compile(r"\A[a-f0-9]+\Z", re.ASCII)


def validate_digest(digest: str) -> str:
    """Check a digest the way go-digest's ``Parse`` does.

    Args:
        digest: ``algorithm:hex``.

    Returns:
        The digest, unchanged.

    Raises:
        ReferenceError_: With go-digest's message.
    """
    algorithm, sep, encoded = digest.partition(":")
    if not sep or not algorithm or not encoded:
        raise ReferenceError_(ERR_CHECKSUM_INVALID_FORMAT)
    length = _HEX_LENGTH.get(algorithm)
    if length is None:
        if not _DIGEST_GRAMMAR_RE.match(digest):
            raise ReferenceError_(ERR_CHECKSUM_INVALID_FORMAT)
        raise ReferenceError_(ERR_DIGEST_UNSUPPORTED)
    if len(encoded) != length:
        raise ReferenceError_(ERR_CHECKSUM_INVALID_LENGTH)
    if not _LOWER_HEX_RE.match(encoded):
        raise ReferenceError_(ERR_CHECKSUM_INVALID_FORMAT)
    return digest


# --- values -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reference:
    """A named image reference: ``[domain/]path[:tag][@digest]``.

    Attributes:
        domain: Registry host and port; ``""`` when the reference was parsed
            without normalisation and names no registry.
        path: Repository path inside the registry (``library/busybox``).
        tag: The tag, or None.
        digest: The ``algorithm:hex`` digest, or None.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The repository name: ``domain/path``, or ``path`` with no domain."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def kind(self) -> str:
        """The Go type upstream would return (``taggedReference``, ...)."""
        if self.tag is None:
            return "canonicalReference" if self.digest is not None else "repository"
        return "taggedReference" if self.digest is None else "reference"

    def __str__(self) -> str:
        return _render(self.name, self.tag, self.digest)

    def familiar(self) -> Reference:
        """The short form users type: no ``docker.io/``, no ``library/``."""
        if self.domain != DEFAULT_DOMAIN:
            return self
        path = self.path
        if path.startswith(OFFICIAL_REPO_PREFIX):
            rest = path[len(OFFICIAL_REPO_PREFIX) :]
            if "/" not in rest:
                path = rest
        return replace(self, domain="", path=path)

    def familiar_name(self) -> str:
        """The familiar repository name (``busybox``, ``user/app``)."""
        return self.familiar().name

    def familiar_string(self) -> str:
        """The familiar full string (``busybox:latest``)."""
        return str(self.familiar())

    def with_default_tag(self) -> Reference:
        """Add ``:latest`` when there is neither a tag nor a digest (TagNameOnly)."""
        if self.tag is None and self.digest is None:
            return Reference(self.domain, self.path, DEFAULT_TAG)  # (``replace`` is slow; no digest here)
        return self


@dataclass(frozen=True, slots=True)
class DigestReference:
    """A bare content digest (``sha256:…``), as ParseAnyReference returns for IDs."""

    digest: str

    @property
    def kind(self) -> str:
        """The Go type upstream would return."""
        return "digestReference"

    def __str__(self) -> str:
        return self.digest

    def familiar_string(self) -> str:
        """A digest has no familiar form: the digest itself."""
        return self.digest


def _render(name: str, tag: str | None, digest: str | None) -> str:
    out = name
    if tag is not None:
        out += ":" + tag
    if digest is not None:
        out += "@" + digest
    return out


# --- parsing ----------------------------------------------------------------


def parse(s: str) -> Reference:
    """Parse a reference exactly as written, with no normalisation (Parse).

    Args:
        s: The reference text.

    Returns:
        The reference; its domain is the first path element only if that
        element matches the host grammar.

    Raises:
        ReferenceError_: If ``s`` is not a valid reference.
    """
    m = REFERENCE_RE.match(s)
    if m is None:
        if s == "":
            raise ReferenceError_(ERR_NAME_EMPTY)
        if REFERENCE_RE.match(s.lower()) is not None:
            raise ReferenceError_(ERR_NAME_CONTAINS_UPPERCASE)
        raise ReferenceError_(ERR_REFERENCE_INVALID_FORMAT)
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    nm = ANCHORED_NAME_RE.match(name)
    domain, path = (nm.group(1) or "", nm.group(2)) if nm else ("", name)
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError_(ERR_NAME_TOO_LONG)
    if digest:
        validate_digest(digest)
    return Reference(domain, path, tag or None, digest or None)


def with_name(name: str) -> Reference:
    """Make a repository reference from a bare name (WithName).

    Raises:
        ReferenceError_: If ``name`` is not a valid repository name.
    """
    m = ANCHORED_NAME_RE.match(name)
    if m is None:
        raise ReferenceError_(ERR_REFERENCE_INVALID_FORMAT)
    if len(m.group(2)) > NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError_(ERR_NAME_TOO_LONG)
    return Reference(m.group(1) or "", m.group(2))


def with_tag(ref: Reference, tag: str) -> Reference:
    """Return ``ref`` with ``tag``, keeping any digest (WithTag).

    Raises:
        ReferenceError_: ``invalid tag format``.
    """
    if _ANCHORED_TAG_RE.match(tag) is None:
        raise ReferenceError_(ERR_TAG_INVALID_FORMAT)
    return replace(ref, tag=tag)


def with_digest(ref: Reference, digest: str) -> Reference:
    """Return ``ref`` with ``digest``, keeping any tag (WithDigest).

    Only the reference grammar is checked, as upstream does.

    Raises:
        ReferenceError_: ``invalid digest format``.
    """
    if _ANCHORED_DIGEST_RE.match(digest) is None:
        raise ReferenceError_(ERR_DIGEST_INVALID_FORMAT)
    return replace(ref, digest=digest)


def _split_docker_domain(name: str) -> tuple[str, str]:
    """Split the registry off a user-typed name, defaulting to Docker Hub."""
    first, slash, rest = name.partition("/")
    if not slash:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name
    if first == LEGACY_DEFAULT_DOMAIN:
        domain, remainder = DEFAULT_DOMAIN, rest
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        # A dot or colon means a host or IP; upper case cannot be a namespace.
        domain, remainder = first, rest
    else:
        return DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def parse_normalized_named(s: str) -> Reference:
    """Parse what a user typed into a fully qualified reference (ParseNormalizedNamed).

    No default tag is added: see :func:`normalize` for that.

    Raises:
        ReferenceError_: If ``s`` is invalid, upper case or an image ID.
    """
    if ANCHORED_IDENTIFIER_RE.match(s):
        raise ReferenceError_(f"invalid repository name ({s}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_docker_domain(s)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        raise ReferenceError_(f"{ERR_REFERENCE_INVALID_FORMAT}: repository name ({remote}) must be lowercase")
    return parse(f"{domain}/{remainder}")


def parse_named(s: str) -> Reference:
    """Parse a reference that must already be fully qualified (ParseNamed).

    Raises:
        ReferenceError_: ``repository name must be canonical`` if normalising
            would change ``s``.
    """
    ref = parse_normalized_named(s)
    if str(ref) != s:
        raise ReferenceError_(ERR_NAME_NOT_CANONICAL)
    return ref


def parse_docker_ref(s: str) -> Reference:
    """Normalise like the daemon does (ParseDockerRef).

    A reference with both a tag and a digest keeps only the digest; one with
    neither gets ``:latest``.
    """
    ref = parse_normalized_named(s)
    if ref.digest is not None:
        return with_digest(with_name(ref.name), ref.digest)
    return ref.with_default_tag()


@lru_cache(maxsize=1024)
def parse_any_reference(s: str) -> Reference | DigestReference:
    """Parse a name, an image ID or a digest (ParseAnyReference).

    A 64-hex string is an ID (``sha256:`` is added); a valid digest stays a
    digest; anything else is parsed with :func:`parse_normalized_named`.
    The daemon resolves the same few names over and over, so results are
    cached (references are frozen; errors are not cached and raise each time).
    """
    if ANCHORED_IDENTIFIER_RE.match(s):
        return DigestReference("sha256:" + s)
    try:
        return DigestReference(validate_digest(s))
    except ReferenceError_:
        pass
    return parse_normalized_named(s)


@lru_cache(maxsize=1024)
def normalize(s: str) -> Reference:
    """Fully qualify what a user typed and add ``:latest`` if untagged.

    This is what the daemon applies to every image name it receives, so
    results are cached like :func:`parse_any_reference`'s.
    """
    return parse_normalized_named(s).with_default_tag()


# --- matching (FamiliarMatch, Go's path.Match) ---------------------------------


def familiar_match(pattern: str, ref: Reference | DigestReference) -> bool:
    """Match a shell pattern against the familiar string, then the familiar name.

    This is how ``docker images --filter reference=...`` matches.

    Raises:
        ReferenceError_: ``syntax error in pattern`` for a malformed pattern.
    """
    matched = _path_match(pattern, ref.familiar_string())
    if not matched and isinstance(ref, Reference):
        matched = _path_match(pattern, ref.familiar_name())
    return matched


_BAD_PATTERN = "syntax error in pattern"


def _path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` never match ``/``."""
    regex = _pattern_regex(pattern)
    return regex.fullmatch(name) is not None


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Translate a Go path pattern to a regex, rejecting what Go rejects."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            cls, i = _char_class(pattern, i + 1)
            out.append(cls)
        elif c == "\\":
            if i + 1 >= n:
                raise ReferenceError_(_BAD_PATTERN)
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """One (possibly escaped) character inside ``[...]``; Go forbids ``-`` and ``]`` bare."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise ReferenceError_(_BAD_PATTERN)
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise ReferenceError_(_BAD_PATTERN)
    return pattern[i], i + 1


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    """Translate a class starting after ``[``; returns the regex and the index after ``]``."""
    negate = i < len(pattern) and pattern[i] == "^"
    if negate:
        i += 1
    parts: list[str] = []
    first = True
    while True:
        if i < len(pattern) and pattern[i] == "]" and not first:
            i += 1
            break
        lo, i = _class_char(pattern, i)
        hi = lo
        if i < len(pattern) and pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
            if hi < lo:
                raise ReferenceError_(_BAD_PATTERN)
        parts.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")
        first = False
    body = "".join(parts)
    # Unlike "?" and "*", a class may match "/" in Go's path.Match.
    return (f"[^{body}]" if negate else f"[{body}]"), i
