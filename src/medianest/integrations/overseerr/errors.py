"""What the Overseerr/Seerr adapter raises, one class per meaning.

Overseerr answers a bad API key and a user it will not let do something with the same status,
403; the body tells them apart (`{"status": 403, "error": ...}` from its authentication,
`{"message": ...}` from the route). The first is MediaNest's configuration, the second is the
user's answer and goes to them in Overseerr's words.
"""

from __future__ import annotations

import enum

from medianest.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    UpstreamUnavailable,
    ValidationFailed,
)

OVERSEERR = "Overseerr"


class OverseerrRefused(Forbidden):
    """Overseerr will not let this user do it (no permission, its own quota); its reason is the
    message."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(
            f"Overseerr refused this request: {reason}"
            if reason
            else "Overseerr does not allow you to request this. Ask the server owner."
        )
        self.reason = reason


class OverseerrUserRefused(Forbidden):
    """Overseerr does not know the user MediaNest acted as (`X-API-User`): the mapping is stale."""

    message = "Overseerr does not know your account any more. Try again in a moment."


class AlreadyRequestedUpstream(Conflict):
    """Overseerr already has an open request for this title (a movie's 409)."""

    code = "ALREADY_REQUESTED"
    message = "This title has already been requested."


class NoSeasonsLeft(Conflict):
    """A show's request where every asked season is already requested or available (Overseerr's
    202 "No seasons available to request")."""

    code = "ALREADY_REQUESTED"
    message = "Every season you asked for is already requested or available."


class TitleNotFound(NotFound):
    """Overseerr cannot find this TMDB id (it answers 500 "Unable to retrieve ...")."""

    message = "No movie or show with this id was found."


class UpstreamRequestNotFound(NotFound):
    message = "Overseerr has no such request any more."


class OverseerrRejected(ValidationFailed):
    """Overseerr answered 400: it found the call invalid."""

    message = "Overseerr refused this as invalid."


class OverseerrUnexpectedAnswer(UpstreamUnavailable):
    """An answer that call never gets from Overseerr, or one MediaNest cannot read."""

    def __init__(self) -> None:
        super().__init__(
            OVERSEERR,
            "Overseerr answered in a way MediaNest did not expect. Try again in a few minutes.",
        )


class ProbeFailure(enum.StrEnum):
    """Why trying an Overseerr address and API key failed, as the probe tells an administrator."""

    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    BROKEN_OFF = "broken_off"
    REDIRECTED = "redirected"
    NOT_OVERSEERR = "not_overseerr"
    KEY_REFUSED = "key_refused"
    SERVER_ERROR = "server_error"

    @property
    def answered(self) -> bool:
        """Whether something answered at the address (the others: nothing did)."""
        return self in (
            ProbeFailure.NOT_OVERSEERR,
            ProbeFailure.KEY_REFUSED,
            ProbeFailure.SERVER_ERROR,
        )


class OverseerrProbeFailed(UpstreamUnavailable):
    """A call of a probing client failed: `failure` says how, `http_status` what was answered."""

    def __init__(self, failure: ProbeFailure, *, http_status: int | None = None) -> None:
        super().__init__(OVERSEERR)
        self.failure = failure
        self.http_status = http_status
