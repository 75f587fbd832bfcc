"""Request and response bodies of the connection routes. Tokens go in, never out."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from medianest.core.schemas import ApiModel, RequestModel

MAX_URL = 2000
MAX_TOKEN = 500


class PlexServerRead(ApiModel):
    name: str
    version: str | None = None
    machine_identifier: str


class PlexConnectionRead(ApiModel):
    url: str | None
    configured: bool
    token_set: bool
    enabled: bool
    # Whether the calling administrator has a Plex account linked (for the server picker).
    account_linked: bool
    updated_at: datetime | None = None
    server: PlexServerRead | None = None


class PlexConnectionUpdate(RequestModel):
    url: str = Field(min_length=1, max_length=MAX_URL)
    token: str | None = Field(default=None, max_length=MAX_TOKEN)


class PlexConnectionTest(RequestModel):
    url: str | None = Field(default=None, max_length=MAX_URL)
    token: str | None = Field(default=None, max_length=MAX_TOKEN)


class PlexTestResult(ApiModel):
    ok: bool
    latency_ms: int | None = None
    name: str | None = None
    version: str | None = None
    machine_identifier: str | None = None
    # A short code for what failed (`unreachable`, `timeout`, `not_plex`, `token_refused`,
    # `not_owner`, `bad_url`, `plex_tv_unavailable`, `server_error`) and a sentence for people.
    reason: str | None = None
    error: str | None = None


class PlexServerConnectionRead(ApiModel):
    uri: str
    local: bool
    relay: bool


class PlexServerChoice(ApiModel):
    name: str
    machine_identifier: str
    owned: bool
    connections: list[PlexServerConnectionRead]


class PlexLink(RequestModel):
    pin_id: int


class PlexAccountRead(ApiModel):
    username: str
    email: str | None = None
