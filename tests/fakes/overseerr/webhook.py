"""Overseerr's webhook agent: the default JSON template, filled in the way the agent fills it.

Every `{{placeholder}}` inside a string is replaced by text (numbers become digits, a missing value
becomes ""), so every leaf is a string; the `{{media}}`, `{{request}}`, `{{issue}}` and
`{{comment}}` keys become objects or null, and `{{extra}}` becomes `extra`, a list of
`{name, value}`. `requestedBy_username` is the user's display name; statuses are enum names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.overseerr.catalogue import Title, payload
from tests.fakes.overseerr.constants import MEDIA_STATUS_NAMES, REQUEST_EVENTS
from tests.fakes.overseerr.records import FakeMedia, FakeRequest, FakeUser

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_SECTIONS = {"{{media}}": "media", "{{request}}": "request", "{{issue}}": "issue"}


@dataclass
class Notification:
    notification_type: str
    event: str = ""
    subject: str = ""
    message: str = ""
    image: str = ""
    media: FakeMedia | None = None
    request: FakeRequest | None = None
    requested_by: FakeUser | None = None
    extra: list[dict[str, str]] = field(default_factory=list)


def request_notification(
    notification_type: str,
    title: Title,
    *,
    media: FakeMedia | None,
    request: FakeRequest | None,
    requested_by: FakeUser | None,
) -> Notification:
    """What Overseerr sends about a request (or, without one, about a title)."""
    is4k = request.is4k if request is not None else False
    kind = "Movie" if title.media_type == "movie" else "Series"
    template = REQUEST_EVENTS.get(notification_type, "")
    event = template.format(**{"4k": "4K " if is4k else "", "kind": kind})
    extra = []
    if title.media_type == "tv" and request is not None:
        seasons = ", ".join(str(n) for n in request.seasons)
        extra.append({"name": "Requested Seasons", "value": seasons})
    return Notification(
        notification_type=notification_type,
        event=event,
        subject=f"{title.name} ({title.year})" if title.release_date else title.name,
        message=_truncate(title.overview, 500),
        image=f"https://image.tmdb.org/t/p/w600_and_h900_bestv2{title.poster_path}",
        media=media,
        request=request,
        requested_by=requested_by,
        extra=extra,
    )


def button_test_notification() -> Notification:
    """What the webhook settings' "Test" button sends: no media, no request."""
    return Notification(
        notification_type="TEST_NOTIFICATION",
        subject="Test Notification",
        message="Check check, 1, 2, 3. Are we coming in clear?",
    )


def render(notification: Notification) -> dict[str, Any]:
    values = _values(notification)
    return _fill(payload("webhook_template.json"), notification, values)


def _values(n: Notification) -> dict[str, str]:
    user = n.requested_by
    values = {
        "notification_type": n.notification_type,
        "event": n.event,
        "subject": n.subject,
        "message": n.message,
        "image": n.image,
        "media_tmdbid": "",
        "media_tvdbid": "",
        "media_type": "",
        "media_status": "",
        "media_status4k": "",
        "request_id": str(n.request.id) if n.request else "",
        "requestedBy_username": user.display_name if user and n.request else "",
        "requestedBy_email": user.email if user and n.request else "",
        "requestedBy_avatar": user.avatar if user and n.request else "",
    }
    if n.media is not None:
        values.update(
            media_tmdbid=str(n.media.tmdb_id),
            media_tvdbid="" if n.media.tvdb_id is None else str(n.media.tvdb_id),
            media_type=n.media.media_type,
            media_status=MEDIA_STATUS_NAMES.get(n.media.status, ""),
            media_status4k=MEDIA_STATUS_NAMES.get(n.media.status4k, ""),
        )
    return values


def _fill(node: dict[str, Any], n: Notification, values: dict[str, str]) -> dict[str, Any]:
    present = {"media": n.media is not None, "request": n.request is not None, "issue": False}
    for key in list(node):
        value = node[key]
        if key == "{{extra}}":
            del node[key]
            node["extra"] = [dict(item) for item in n.extra]
            continue
        if key in _SECTIONS or key == "{{comment}}":
            name = _SECTIONS.get(key, "comment")
            del node[key]
            node[name] = _fill(value, n, values) if present.get(name) else None
            continue
        if isinstance(value, str):
            node[key] = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), value)
        elif isinstance(value, dict):
            node[key] = _fill(value, n, values)
    return node


def _truncate(text: str, length: int) -> str:
    """lodash `truncate` with a whitespace separator and "…" as the omission."""
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > 0 else cut) + "…"
