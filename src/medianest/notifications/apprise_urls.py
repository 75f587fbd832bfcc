"""What MediaNest asks of Apprise: whether a URL names a service it can send to, how to show
that URL without its secrets, and sending one message to it.

Apprise reads a URL per service (`discord://…`, `ntfy://…`, `json://host/path`, more than a
hundred others) and sends through requests, blocking: the callers run `send` in a thread. Its
plugins are loaded on first use, which takes a moment, so `read_url` is run in a thread too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import apprise

# Apprise's own kinds of message, which decide the colour or icon a service shows.
_KINDS = {
    "info": apprise.NotifyType.INFO,
    "success": apprise.NotifyType.SUCCESS,
    "warning": apprise.NotifyType.WARNING,
    "critical": apprise.NotifyType.FAILURE,
}
# A path segment longer than this may be a token (a webhook's id): only its ends are shown.
_SHOWN_SEGMENT = 6


@dataclass(frozen=True, slots=True)
class ChannelUrl:
    service: str
    """The service's name as Apprise gives it: `Discord`, `ntfy`, `JSON`."""
    shown: str
    """The URL with its secrets masked, fit to show on a page."""


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    reason: str | None = None
    """Apprise's own last word on a failure, when it said one."""


def _asset() -> apprise.AppriseAsset:
    # Nothing written to disk: MediaNest keeps what it needs in its own database.
    return apprise.AppriseAsset(storage_mode="memory")


def read_url(url: str) -> ChannelUrl | None:
    """None for a URL Apprise cannot send to."""
    service = apprise.Apprise.instantiate(url, asset=_asset())
    if service is None:
        return None
    return ChannelUrl(service=str(service.service_name), shown=_mask(service.url(privacy=True)))  # type: ignore[no-untyped-call]


def _mask(private: str) -> str:
    """Apprise's own masking (passwords, tokens), without the query (where some services put
    keys) and with long path segments cut to their ends (a webhook path is often its secret)."""
    parts = urlsplit(private)
    segments = [
        s if len(s) <= _SHOWN_SEGMENT else f"{s[:2]}…{s[-2:]}" for s in parts.path.split("/")
    ]
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), "", ""))[:500]


def send(url: str, *, title: str, body: str, severity: str, timeout: float) -> Delivery:
    """Send one message to the service `url` names, giving up after `timeout` seconds
    (blocking)."""
    sender = apprise.Apprise(asset=_asset())
    if not sender.add(url):
        return Delivery(False, "Apprise does not know this kind of address.")
    result = sender.notify(
        body=body,
        title=title,
        notify_type=_KINDS.get(severity, apprise.NotifyType.INFO),
        timeout=timeout,
    )
    if result:
        return Delivery(True)
    said = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
    return Delivery(False, said[-1] if said else None)
