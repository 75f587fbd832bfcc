"""What the Plex wire adapters raise, one class per meaning; the names of the two upstreams.

Meanings that belong to a domain (who may sign in, who may browse) are declared there.
"""

from __future__ import annotations

import enum

from medianest.core.errors import (
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    UpstreamUnavailable,
    ValidationFailed,
)

PLEX_TV = "plex.tv"
PLEX_SERVER = "Plex"


# plex.tv


class UnknownPin(ValidationFailed):
    """plex.tv no longer knows the PIN: it expired, or was never created by this install."""

    code = "INVALID_PIN"
    message = "This sign-in link has expired. Start again."


class PlexRateLimited(RateLimited):
    message = "Plex is asking MediaNest to check less often. Try again in a few seconds."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)


class PlexTvTokenRefused(Unauthorized):
    """plex.tv refused a user's token (expired, revoked, or a password reset since)."""

    message = "Plex did not accept the sign-in. Try again."


# The Plex Media Server


class ItemNotFound(NotFound):
    message = "This title is not on the Plex server any more, or is not shared with you."


class LibraryNotFound(NotFound):
    message = "This Plex library does not exist, or is not shared with you."


class CollectionNotFound(NotFound):
    message = "This collection (or that item in it) is not on the Plex server."


class ImageNotFound(NotFound):
    message = "Plex has no such image."


class UserTokenRefused(Forbidden):
    """The Plex server (or plex.tv, finding it) refused a shared user's own token for it."""

    message = "The Plex server no longer accepts your Plex account. Sign in with Plex again."


class PlexRejected(ValidationFailed):
    """Plex answered 400: it found the request invalid."""

    message = "Plex refused this request as invalid."


class PathOutsideLibrary(ValidationFailed):
    message = "Plex can only scan folders of the library."


class InvalidImagePath(ValidationFailed):
    message = "Only Plex library images (paths starting with /library/) can be shown."


class PlexUnexpectedAnswer(UpstreamUnavailable):
    """The server answered with a status that call never gets from Plex."""

    def __init__(self) -> None:
        super().__init__(
            PLEX_SERVER,
            "Plex answered in a way MediaNest did not expect. Try again in a few minutes.",
        )


class PlexUnreadableAnswer(UpstreamUnavailable):
    """The server answered, but nothing MediaNest can read as Plex's."""

    def __init__(self) -> None:
        super().__init__(
            PLEX_SERVER, "Plex sent an answer MediaNest could not read. Try again in a few minutes."
        )


class NotAPlexServer(UpstreamUnavailable):
    """Something answers at the configured address, but not as a Plex Media Server does."""

    def __init__(self) -> None:
        super().__init__(
            PLEX_SERVER,
            "The configured Plex address does not answer like a Plex Media Server; "
            "an administrator needs to check it.",
            misconfigured=True,
        )


class ProbeFailure(enum.StrEnum):
    """Why trying a Plex server address failed, as the probe tells an administrator."""

    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    UNTRUSTED_CERTIFICATE = "untrusted_certificate"
    BROKEN_OFF = "broken_off"
    REDIRECTED = "redirected"
    NOT_PLEX = "not_plex"
    TOKEN_REFUSED = "token_refused"  # noqa: S105 (a reason, not a secret)
    SERVER_ERROR = "server_error"

    @property
    def answered(self) -> bool:
        """Whether the server answered (the others: no answer came, or not from it)."""
        return self in (
            ProbeFailure.NOT_PLEX,
            ProbeFailure.TOKEN_REFUSED,
            ProbeFailure.SERVER_ERROR,
        )


class PlexProbeFailed(UpstreamUnavailable):
    """A call of a probing client failed: `failure` says how, `http_status` what the server
    answered (None when it did not)."""

    def __init__(self, failure: ProbeFailure, *, http_status: int | None = None) -> None:
        super().__init__(PLEX_SERVER)
        self.failure = failure
        self.http_status = http_status
