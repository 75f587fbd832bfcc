"""The status page's words: each row as the template shows it, the line that sums the page up,
and how long a status has lasted. `static/js/status.js` says the same things the same way when
it updates a row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup

from medianest.status.history import HOUR, Bucket
from medianest.status.models import Status
from medianest.status.service import ServiceView

LABELS = {
    Status.UP: "Up",
    Status.DOWN: "Down",
    Status.DEGRADED: "Degraded",
    Status.MAINTENANCE: "Maintenance",
    Status.UNKNOWN: "Unknown",
}


@dataclass(frozen=True, slots=True)
class Segment:
    """One hour of the history bar: `state` colours it, `title` says it in words."""

    state: str
    title: str


@dataclass(frozen=True, slots=True)
class RowView:
    id: str
    name: str
    status: str
    label: str
    response: str
    since: datetime
    since_text: str
    since_title: str
    uptime_24h: str
    uptime_7d: str
    uptime_30d: str
    message: str | None
    url: str | None
    """Administrators only; a link only when it is a web address."""
    link: bool
    bar: Markup


def lasting(since: datetime, now: datetime) -> str:
    """ "for 5 minutes", "for 3 hours", "for 2 days": how long a status has lasted."""
    elapsed = now - since
    if elapsed < timedelta(minutes=1):
        return "for less than a minute"
    if elapsed < timedelta(hours=1):
        return _for(int(elapsed.total_seconds() // 60), "minute")
    if elapsed < timedelta(days=1):
        return _for(int(elapsed.total_seconds() // 3600), "hour")
    return _for(elapsed.days, "day")


def _for(count: int, unit: str) -> str:
    return f"for {count} {unit}{'' if count == 1 else 's'}"


def percent(ratio: float | None) -> str:
    if ratio is None:
        return "No data"
    value = ratio * 100
    if value >= 100:
        return "100%"
    # 99.996 must not read as 100%: only a clean record says 100.
    return f"{min(value, 99.99):.2f}".rstrip("0").rstrip(".") + "%"


def segment(bucket: Bucket) -> Segment:
    hour = f"{bucket.start:%d %b %H:%M} to {bucket.start + HOUR:%H:%M} UTC"
    if not bucket.checks:
        return Segment("none", f"{hour}: no checks")
    uptime = percent(bucket.uptime)
    state = "down" if bucket.down else "degraded" if bucket.degraded else "up"
    if bucket.maintenance and not bucket.down and not bucket.degraded:
        state = "maintenance"
    checks = f"{bucket.checks} check{'s' if bucket.checks != 1 else ''}"
    return Segment(state, f"{hour}: {uptime} up, {checks}")


def history_bar(service: ServiceView, bars: Sequence[Bucket]) -> Markup:
    """The row's last 24 hours, an hour a segment, each saying its hour in its title. Written
    here rather than in the template: the page keeps it for the hour (`drawn_bars`), and a
    thousand rows of it took Jinja most of a page view."""
    segment_html = Markup('<span class="seg is-{}" title="{}"></span>')
    segments = Markup("").join(segment_html.format(s.state, s.title) for s in map(segment, bars))
    label = f"The last 24 hours of {service.name}, an hour a segment"
    return Markup('<div class="history-bar" role="img" aria-label="{}">{}</div>').format(
        label, segments
    )


def row_view(service: ServiceView, bar: Markup, now: datetime, *, admin: bool) -> RowView:
    response = "—" if service.response_ms is None else f"{round(service.response_ms)} ms"
    return RowView(
        id=service.id,
        name=service.name,
        status=str(service.status),
        label=LABELS[service.status],
        response=response,
        since=service.since,
        since_text=lasting(service.since, now),
        since_title=f"Since {service.since:%d %b %Y %H:%M} UTC",
        uptime_24h=percent(service.uptime_24h),
        uptime_7d=percent(service.uptime_7d),
        uptime_30d=percent(service.uptime_30d),
        message=service.message,
        url=service.url if admin else None,
        link=admin and (service.url or "").lower().startswith(("http://", "https://")),
        bar=bar,
    )


def summary(services: Sequence[ServiceView]) -> tuple[str, str]:
    """(how the page sums up: ok, degraded or down; the sentence that says it)."""
    if not services:
        return "none", "Nothing has been checked yet. The first checks run within a minute."
    down = [s.name for s in services if s.status is Status.DOWN]
    if down:
        return "down", _listed(down, "is down", "are down")
    degraded = [s.name for s in services if s.status is Status.DEGRADED]
    if degraded:
        return "degraded", _listed(degraded, "is slow or unsteady", "are slow or unsteady")
    return "up", "Everything MediaNest watches is working."


def _listed(names: list[str], one: str, many: str) -> str:
    if len(names) == 1:
        return f"{names[0]} {one}."
    shown = names[:3]
    rest = len(names) - len(shown)
    if rest:
        return f"{len(names)} services {many}: {', '.join(shown)} and {rest} more."
    return f"{len(names)} services {many}: {', '.join(shown[:-1])} and {shown[-1]}."
