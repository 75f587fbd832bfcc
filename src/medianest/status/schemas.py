"""Request and response bodies of the status routes. Uptime is a percentage (0 to 100, two
decimals); a monitor's `url` is in the answers administrators get, never in anyone else's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from medianest.core.schemas import ApiModel, RequestModel

MAX_URL = 2000
MAX_KEY = 512
MAX_SLUG = 255

Slug = Annotated[str, Field(max_length=MAX_SLUG)]
StatusName = Literal["up", "down", "degraded", "maintenance", "unknown"]
KindName = Literal["plex", "overseerr", "medianest", "workers", "kuma"]


class UptimeRead(ApiModel):
    h24: float | None = None
    d7: float | None = None
    d30: float | None = None


class ServiceRead(ApiModel):
    id: str
    name: str
    kind: KindName
    status: StatusName
    response_time_ms: int | None = None
    last_check_at: datetime | None = None
    since: datetime
    uptime: UptimeRead
    # Where the status page lists it: "medianest", or "kuma:<slug>" with the page's title.
    group: str
    group_title: str
    url: str | None = Field(default=None, description="Administrators only.")
    message: str | None = None


class BucketRead(ApiModel):
    start: datetime
    up: int
    down: int
    degraded: int
    maintenance: int
    avg_response_ms: float | None = None
    uptime: float | None = Field(default=None, description="Percent of checks not down.")


class HistoryRead(ApiModel):
    id: str
    range: Literal["24h", "7d", "30d"]
    bucket: Literal["hour", "day"]
    buckets: list[BucketRead]


class KumaConnectionRead(ApiModel):
    url: str | None
    status_pages: list[str]
    configured: bool
    api_key_set: bool
    version: str | None = None
    updated_at: datetime | None = None


class KumaConnectionUpdate(RequestModel):
    url: str = Field(min_length=1, max_length=MAX_URL)
    status_pages: list[Slug] = Field(max_length=20)
    # Left out: keep the stored key; null or "": store none.
    api_key: str | None = Field(default=None, max_length=MAX_KEY)


class KumaConnectionTest(RequestModel):
    url: str | None = Field(default=None, max_length=MAX_URL)
    status_pages: list[Slug] | None = Field(default=None, max_length=20)
    api_key: str | None = Field(default=None, max_length=MAX_KEY)


class KumaTestResult(ApiModel):
    ok: bool
    latency_ms: int | None = None
    version: str | None = None
    monitors: int | None = None
    # A short code for what failed (`bad_url`, `timeout`, `unreachable`, `not_uptime_kuma`,
    # `status_page_not_found`, `key_required`, `key_refused`, `server_error`, ...) and a
    # sentence for people.
    reason: str | None = None
    error: str | None = None
