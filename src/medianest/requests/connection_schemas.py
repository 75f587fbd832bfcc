"""Request and response bodies of the Overseerr connection routes. The API key goes in, never
out; the webhook's `authorization` is MediaNest's own secret, shown to administrators only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from medianest.core.schemas import ApiModel, RequestModel

MAX_URL = 2000
MAX_KEY = 200


class WebhookRead(ApiModel):
    url: str
    # The value to paste into Overseerr's webhook agent as "Authorization Header".
    authorization: str


class OverseerrConnectionRead(ApiModel):
    url: str | None
    configured: bool
    api_key_set: bool
    enabled: bool
    flavour: Literal["overseerr", "seerr"] | None = None
    version: str | None = None
    # Whether Plex users Overseerr does not know yet are imported into it when they request.
    allow_plex_import: bool
    webhook: WebhookRead | None = None
    updated_at: datetime | None = None


class OverseerrConnectionUpdate(RequestModel):
    url: str = Field(min_length=1, max_length=MAX_URL)
    # Left out or empty: keep the stored key.
    api_key: str | None = Field(default=None, max_length=MAX_KEY)
    allow_plex_import: bool | None = None


class OverseerrConnectionTest(RequestModel):
    url: str | None = Field(default=None, max_length=MAX_URL)
    api_key: str | None = Field(default=None, max_length=MAX_KEY)


class OverseerrTestResult(ApiModel):
    ok: bool
    latency_ms: int | None = None
    version: str | None = None
    flavour: Literal["overseerr", "seerr"] | None = None
    # A short code for what failed (`bad_url`, `unreachable`, `timeout`, `not_overseerr`,
    # `key_refused`, `server_error`) and a sentence for people.
    reason: str | None = None
    error: str | None = None
