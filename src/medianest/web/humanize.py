"""Words for people: relative times, durations, initials."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from medianest.core.db import utc_now

AVATAR_COLOURS = 6


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def relative_time(moment: datetime, *, now: datetime | None = None) -> str:
    """ "just now", "5 minutes ago", "yesterday", "3 days ago", then the date."""
    elapsed = (now or utc_now()) - moment
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed < timedelta(hours=1):
        return _plural(int(elapsed.total_seconds() // 60), "minute")
    if elapsed < timedelta(days=1):
        return _plural(int(elapsed.total_seconds() // 3600), "hour")
    if elapsed < timedelta(days=2):
        return "yesterday"
    if elapsed < timedelta(days=14):
        return _plural(elapsed.days, "day")
    return f"on {moment.day} {moment:%B %Y}"


def duration(span: timedelta) -> str:
    """ "1 hour", "90 minutes", "2 days": in the largest unit that divides it."""
    minutes = int(span.total_seconds() // 60)
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def initials(name: str) -> str:
    parts = [p for p in name.replace("_", " ").replace(".", " ").replace("-", " ").split() if p]
    if len(parts) >= 2:
        return (parts[0][0] + parts[1][0]).upper()
    return name[:2].upper() or "?"


def avatar_colour(name: str) -> int:
    """A stable colour slot (a CSS class) per name, so people tell avatars apart."""
    return hashlib.sha256(name.encode()).digest()[0] % AVATAR_COLOURS
