"""What the Plex wire adapters raise, one class per meaning; the names of the two upstreams.

Meanings that belong to a domain (who may sign in, who may browse) are declared there.
"""

from __future__ import annotations

from medianest.core.errors import RateLimited, Unauthorized, ValidationFailed

PLEX_TV = "plex.tv"


# plex.tv


class PinNotFound(ValidationFailed):
    """plex.tv no longer knows the PIN: it expired, or was never created by this install."""

    code = "INVALID_PIN"
    message = "This sign-in link has expired. Start again."


class PlexRateLimited(RateLimited):
    message = "Plex is asking MediaNest to check less often. Try again in a few seconds."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)


class InvalidPlexToken(Unauthorized):
    """plex.tv refused a user's token (expired, revoked, or a password reset since)."""

    message = "Plex did not accept the sign-in. Try again."
