"""The plex.tv wire adapter: PIN sign-in, whose token it is, their servers and the owner's friends.

Every call carries the X-Plex-* headers naming this MediaNest install (`plex_tv_headers`). A PIN is
bound to the client identifier that created it, so it must be polled with the same one. Tokens go
in the `X-Plex-Token` header only, never in a URL, and are never logged.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote, urlencode

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from medianest import __version__
from medianest.config import Settings
from medianest.core.errors import UpstreamUnavailable
from medianest.core.http_client import create_http_client
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers, Upstream
from medianest.core.schemas import ApiModel
from medianest.integrations.plex.errors import (
    PLEX_TV,
    PlexRateLimited,
    PlexTvTokenRefused,
    UnknownPin,
)

log = structlog.get_logger(__name__)

PRODUCT = "MediaNest"
# How MediaNest describes itself to Plex: shown on the consent page and in the account's
# "Authorized Devices". The same values go in the headers and in the auth page's context.
_PLATFORM = "Web"
_DEVICE = "MediaNest"
_MODEL = "hosted"
# plex.tv does not always say how long to wait; both reference clients poll once a second.
DEFAULT_RETRY_AFTER = 2

M = TypeVar("M", bound=BaseModel)


def plex_tv_headers(client_identifier: str) -> dict[str, str]:
    """The headers every plex.tv call carries (a user's token is added per call)."""
    return {
        "Accept": "application/json",
        "X-Plex-Client-Identifier": client_identifier,
        "X-Plex-Product": PRODUCT,
        "X-Plex-Version": __version__,
        "X-Plex-Platform": _PLATFORM,
        "X-Plex-Device": _DEVICE,
        "X-Plex-Device-Name": _DEVICE,
        "X-Plex-Model": _MODEL,
        "X-Plex-Language": "en",
    }


# Schemas


class _Frozen(ApiModel):
    # Tokens are excluded from dumps and reprs: these describe Plex, they are not API answers.
    model_config = ConfigDict(frozen=True)


class PlexPin(_Frozen):
    id: int
    code: str
    expires_at: datetime
    auth_token: str | None = Field(default=None, repr=False, exclude=True)

    @property
    def authorized(self) -> bool:
        return bool(self.auth_token)


class PlexAccount(_Frozen):
    id: int
    uuid: str
    username: str
    email: str | None = None
    thumb: str | None = None


class PlexResourceConnection(_Frozen):
    uri: str
    local: bool
    relay: bool
    protocol: str
    address: str
    port: int


class PlexResource(_Frozen):
    """A Plex Media Server the token's account can reach."""

    name: str
    client_identifier: str
    owned: bool
    access_token: str | None = Field(default=None, repr=False, exclude=True)
    connections: tuple[PlexResourceConnection, ...] = ()


class PlexSharedUser(_Frozen):
    """A friend of the server owner, with the servers the owner shares with them."""

    id: int
    username: str
    email: str | None = None
    server_machine_ids: frozenset[str] = frozenset()


# Wire shapes (plex.tv JSON is camelCase, like ApiModel's aliases)


class _PinWire(ApiModel):
    id: int
    code: str
    auth_token: str | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    expires_in: int | None = None

    @model_validator(mode="after")
    def _has_expiry(self) -> _PinWire:
        self.expiry  # noqa: B018 (raises when plex.tv sent no way to tell)
        return self

    @property
    def expiry(self) -> datetime:
        if self.expires_at is not None:
            return _utc(self.expires_at)
        if self.created_at is not None and self.expires_in is not None:
            return _utc(self.created_at + timedelta(seconds=self.expires_in))
        raise ValueError("a PIN needs expiresAt, or createdAt and expiresIn")

    def to_pin(self) -> PlexPin:
        token = self.auth_token or None
        return PlexPin(id=self.id, code=self.code, expires_at=self.expiry, auth_token=token)


class _UserWire(ApiModel):
    id: int
    uuid: str
    username: str | None = None
    title: str | None = None
    email: str | None = None
    thumb: str | None = None


class _ResourceWire(ApiModel):
    name: str
    client_identifier: str
    provides: str = ""
    owned: bool = False
    access_token: str | None = None
    connections: list[PlexResourceConnection] = Field(default_factory=list)


_RESOURCES = TypeAdapter(list[_ResourceWire])


class PlexTvClient:
    """plex.tv, for signing users in with a PIN and learning who they are.

    Failures to reach plex.tv leave as `UpstreamUnavailable` / `UpstreamTimeout` naming plex.tv;
    an answer MediaNest cannot read is an `UpstreamUnavailable` too.
    """

    def __init__(
        self,
        settings: Settings,
        upstream: Upstream,
        client_identifier: str,
        *,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """`http_client` is the client behind `upstream`, when this adapter owns and closes it."""
        self.client_identifier = client_identifier
        self._app_url = settings.plex_app_url
        self._upstream = upstream
        self._http_client = http_client

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()

    async def create_pin(self) -> PlexPin:
        """A new strong PIN for the app.plex.tv page. Raises `PlexRateLimited`."""
        # Not idempotent: a retried POST would leave the first PIN orphaned.
        response = await self._upstream.post("/api/v2/pins", params={"strong": "true"})
        if response.status_code == 429:
            raise PlexRateLimited(_retry_after(response))
        if response.status_code not in (200, 201):
            _unexpected(response)
        return _parse(response, _PinWire).to_pin()

    async def get_pin(self, pin_id: int) -> PlexPin:
        """The PIN as plex.tv sees it now; `auth_token` is set once the user approved it.

        Raises `UnknownPin` when it expired or is unknown to this client identifier, and
        `PlexRateLimited` when polled too often.
        """
        response = await self._upstream.get(f"/api/v2/pins/{pin_id}")
        if response.status_code == 429:
            raise PlexRateLimited(_retry_after(response))
        if 400 <= response.status_code < 500:
            raise UnknownPin
        if response.status_code != 200:
            _unexpected(response)
        return _parse(response, _PinWire).to_pin()

    def auth_url(self, code: str, *, forward_url: str | None = None) -> str:
        """The app.plex.tv page where the user approves `code`; Plex sends the browser to
        `forward_url` afterwards when given."""
        params = [
            ("clientID", self.client_identifier),
            ("code", code),
            ("context[device][product]", PRODUCT),
            ("context[device][version]", __version__),
            ("context[device][platform]", _PLATFORM),
            ("context[device][device]", _DEVICE),
            ("context[device][deviceName]", _DEVICE),
            ("context[device][model]", _MODEL),
            ("context[device][layout]", "desktop"),
        ]
        if forward_url:
            params.append(("forwardUrl", forward_url))
        return f"{self._app_url}/auth#?{urlencode(params, quote_via=quote)}"

    async def get_account(self, token: str) -> PlexAccount:
        """The Plex account `token` belongs to. Raises `PlexTvTokenRefused`."""
        response = await self._user_call("/api/v2/user", token)
        if response.status_code != 200:
            _unexpected(response)
        user = _parse(response, _UserWire)
        return PlexAccount(
            id=user.id,
            uuid=user.uuid,
            username=user.username or user.title or str(user.id),
            email=user.email or None,
            thumb=user.thumb or None,
        )

    async def get_resources(self, token: str) -> list[PlexResource]:
        """The Plex Media Servers `token`'s account can reach. Raises `PlexTvTokenRefused`."""
        response = await self._user_call(
            "/api/v2/resources", token, params={"includeHttps": "1", "includeRelay": "1"}
        )
        if response.status_code != 200:
            _unexpected(response)
        try:
            resources = _RESOURCES.validate_json(response.content)
        except ValidationError:
            _unreadable(response)
        return [
            PlexResource(
                name=r.name,
                client_identifier=r.client_identifier,
                owned=r.owned,
                access_token=r.access_token or None,
                connections=tuple(r.connections),
            )
            for r in resources
            if "server" in r.provides.split(",")
        ]

    async def get_shared_users(self, owner_token: str) -> list[PlexSharedUser]:
        """The server owner's friends and which of the owner's servers each may use.

        The owner's token being refused is an `UpstreamUnavailable` marked misconfigured: an
        administrator has to reconnect Plex.
        """
        response = await self._upstream.get(
            "/api/users", headers={"X-Plex-Token": owner_token, "Accept": "application/xml"}
        )
        if response.status_code != 200:
            _unexpected(response)
        try:
            return _shared_users(response.content)
        except (ET.ParseError, ValueError):
            _unreadable(response)

    async def _user_call(self, path: str, token: str, **kwargs: Any) -> httpx.Response:
        """A call made with a user's token: a 401/403 means their sign-in failed."""
        response = await self._upstream.get(
            path, headers={"X-Plex-Token": token}, user_credentials=True, **kwargs
        )
        if response.status_code in (401, 403):
            raise PlexTvTokenRefused
        return response


def build_plex_tv_client(
    settings: Settings, breakers: Breakers, metrics: Metrics, client_identifier: str
) -> PlexTvClient:
    """The adapter with its own HTTP client, closed by `PlexTvClient.aclose()`."""
    http_client = create_http_client(
        settings, base_url=settings.plex_tv_url, headers=plex_tv_headers(client_identifier)
    )
    upstream = Upstream(PLEX_TV, http_client, breakers, metrics)
    return PlexTvClient(settings, upstream, client_identifier, http_client=http_client)


# Parsing


class _DoctypeRefused(ValueError):
    pass


class _NoDoctype(ET.TreeBuilder):
    # Entities can only be declared inside a DOCTYPE: refusing it refuses entity expansion
    # ("billion laughs") and external entities before expat reads any declaration.
    def doctype(self, name: str | None, pubid: str | None, system: str | None) -> None:
        raise _DoctypeRefused("DOCTYPE is not accepted")


def _shared_users(body: bytes) -> list[PlexSharedUser]:
    """Raises `ET.ParseError` or `ValueError` for anything but plex.tv's friends list."""
    parser = ET.XMLParser(target=_NoDoctype())  # noqa: S314 (DOCTYPE refused, see _NoDoctype)
    parser.feed(body)
    root = parser.close()
    if root.tag != "MediaContainer":
        raise ValueError(f"unexpected root element {root.tag!r}")
    users = []
    for user in root.iter("User"):
        user_id = int(user.get("id", ""))
        users.append(
            PlexSharedUser(
                id=user_id,
                username=user.get("username") or user.get("title") or str(user_id),
                email=user.get("email") or None,
                server_machine_ids=frozenset(
                    machine_id
                    for server in user.iter("Server")
                    if (machine_id := server.get("machineIdentifier"))
                ),
            )
        )
    return users


def _parse(response: httpx.Response, model: type[M]) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        _unreadable(response)


def _unreadable(response: httpx.Response) -> NoReturn:
    log.warning(
        "plex_tv.unreadable_answer",
        path=response.request.url.path,
        status=response.status_code,
        content_type=response.headers.get("content-type"),
    )
    raise UpstreamUnavailable(
        PLEX_TV, "plex.tv sent an answer MediaNest could not read. Try again in a few minutes."
    )


def _unexpected(response: httpx.Response) -> NoReturn:
    log.warning(
        "plex_tv.unexpected_status", path=response.request.url.path, status=response.status_code
    )
    raise UpstreamUnavailable(
        PLEX_TV, "plex.tv answered in a way MediaNest did not expect. Try again in a few minutes."
    )


def _retry_after(response: httpx.Response) -> int:
    """Seconds to wait, from `Retry-After` (seconds or an HTTP date), else the default."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return DEFAULT_RETRY_AFTER
    if value.isdigit():
        return max(1, int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return max(1, math.ceil((_utc(when) - datetime.now(UTC)).total_seconds()))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
