"""What the Uptime Kuma adapter raises, one class per meaning.

Kuma answers its own failures as `{"status": "fail", "msg": ...}`: 404 when the message says
"not found" (an unknown status page), 503 when its database is busy, 403 for anything else. So
a 403 from a status-page route is Kuma failing, not refusing MediaNest: those routes need no
credentials. Only `/metrics` has any (HTTP Basic, the API key as password), and its 401 is the
key refused or missing.
"""

from __future__ import annotations

import enum

from medianest.core.errors import NotFound, UpstreamUnavailable, ValidationFailed

UPTIME_KUMA = "Uptime Kuma"


class InvalidSlug(ValidationFailed):
    """Not something Kuma accepts as a status page slug, so no page can have it."""

    def __init__(self, slug: str) -> None:
        shown = slug if len(slug) <= 60 else slug[:57] + "..."
        message = (
            f'"{shown}" is not a status page slug: use lower-case letters, digits and single '
            "dashes, as in the page's address /status/<slug>."
            if slug.strip()
            else "Enter the slug of a status page: the last part of its address, /status/<slug>."
        )
        super().__init__(message, details=[{"field": "statusPages", "message": message}])
        self.slug = slug


class InvalidApiKey(ValidationFailed):
    """Not shaped like a Kuma API key (`uk<id>_<secret>`), so Kuma could only refuse it."""

    def __init__(self) -> None:
        message = (
            "This is not an Uptime Kuma API key: they start with uk and a number, like "
            "uk1_AbCd... Copy it again from Uptime Kuma's Settings → API Keys."
        )
        super().__init__(message, details=[{"field": "apiKey", "message": message}])


class StatusPageNotFound(NotFound):
    def __init__(self, slug: str) -> None:
        super().__init__(
            f'Uptime Kuma has no status page "{slug}". Check the slug: it is the last part of '
            "the page's address, /status/<slug>."
        )
        self.slug = slug


class MetricsKeyRefused(UpstreamUnavailable):
    """`/metrics` answered 401: the key is wrong, expired or deactivated, or none was sent to a
    Kuma that asks for one. (Kuma also refuses every key past 60 calls a minute.)"""

    def __init__(self, *, key_sent: bool) -> None:
        super().__init__(
            UPTIME_KUMA,
            "Uptime Kuma refused MediaNest's API key for its metrics; an administrator needs to "
            "create a new one in Uptime Kuma's Settings → API Keys."
            if key_sent
            else "Uptime Kuma asks for an API key to read its metrics; an administrator needs "
            "to add one (Settings → API Keys in Uptime Kuma).",
            misconfigured=True,
        )
        self.key_sent = key_sent


class UptimeKumaFailed(UpstreamUnavailable):
    """Kuma answered with its own failure (a 403 `{"status": "fail"}`); `reason` is its `msg`."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(
            UPTIME_KUMA,
            "Uptime Kuma could not answer: it reported an error. Try again in a few minutes.",
        )
        self.reason = reason


class UptimeKumaUnexpectedAnswer(UpstreamUnavailable):
    """An answer Kuma never gives to that call (a redirect, a foreign 404, an unreadable body):
    usually the address now leads to something else."""

    def __init__(self) -> None:
        super().__init__(
            UPTIME_KUMA,
            "The Uptime Kuma address answered in a way Uptime Kuma does not; an administrator "
            "needs to check it.",
            misconfigured=True,
        )


class ProbeFailure(enum.StrEnum):
    """Why trying an Uptime Kuma address, slug or key failed, as the probe tells an admin."""

    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    BROKEN_OFF = "broken_off"
    REDIRECTED = "redirected"
    NOT_UPTIME_KUMA = "not_uptime_kuma"
    STATUS_PAGE_NOT_FOUND = "status_page_not_found"
    KEY_REQUIRED = "key_required"
    KEY_REFUSED = "key_refused"
    SERVER_ERROR = "server_error"

    @property
    def answered(self) -> bool:
        """Whether Kuma (or something) answered at the address; the others: nothing did."""
        return self not in (
            ProbeFailure.TIMEOUT,
            ProbeFailure.UNREACHABLE,
            ProbeFailure.BROKEN_OFF,
        )


_PROBE_MESSAGES = {
    ProbeFailure.TIMEOUT: "Uptime Kuma did not answer in time. Check the address, and that no "
    "firewall is in the way.",
    ProbeFailure.UNREACHABLE: "Nothing answered at this address: it is wrong, or Uptime Kuma is "
    "not running there. Check the address and port (Uptime Kuma listens on 3001 unless "
    "changed).",
    ProbeFailure.BROKEN_OFF: "The connection broke off. Check the address (http or https) and "
    "port.",
    ProbeFailure.REDIRECTED: "The address redirects elsewhere instead of answering like Uptime "
    "Kuma. Enter the address Uptime Kuma itself listens on, not a login page in front of it.",
    ProbeFailure.NOT_UPTIME_KUMA: "Something answered at this address, but it is not Uptime "
    "Kuma. Check the address and port.",
    ProbeFailure.KEY_REQUIRED: "Uptime Kuma asks for an API key to read its metrics. Create one "
    "in Uptime Kuma's Settings → API Keys.",
    ProbeFailure.KEY_REFUSED: "Uptime Kuma refused this API key: it is wrong, expired or "
    "deactivated. Create a new one in Uptime Kuma's Settings → API Keys.",
    ProbeFailure.SERVER_ERROR: "Uptime Kuma answered with an error. Check that it has finished "
    "starting, then test again.",
}


class UptimeKumaProbeFailed(UpstreamUnavailable):
    """A call of a probing client failed: `failure` says how, `http_status` what was answered,
    `slug` which status page it was about (for `STATUS_PAGE_NOT_FOUND`)."""

    def __init__(
        self, failure: ProbeFailure, *, http_status: int | None = None, slug: str | None = None
    ) -> None:
        if failure is ProbeFailure.STATUS_PAGE_NOT_FOUND:
            message = (
                f'Uptime Kuma has no status page "{slug}". Check the slug: it is the last part '
                "of the page's address, /status/<slug>."
            )
        else:
            message = _PROBE_MESSAGES[failure]
        super().__init__(UPTIME_KUMA, message)
        self.failure = failure
        self.http_status = http_status
        self.slug = slug
