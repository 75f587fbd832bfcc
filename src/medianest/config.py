"""Settings: `MEDIANEST_*` environment variables and `.env`, validated once at start-up.

A bad value stops start-up with `SettingsError`, whose message is one line per bad setting naming
the environment variable, so an operator never has to read a traceback to fix a typo.
"""

from __future__ import annotations

import base64
import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import limits
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "MEDIANEST_"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def decode_key(text: str) -> bytes:
    """A key as written in settings: 32 bytes, urlsafe base64."""
    raw = base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))
    if len(raw) != 32:
        raise ValueError("an encryption key is 32 bytes written in urlsafe base64 (44 characters)")
    return raw


class SettingsError(Exception):
    """Raised when the environment holds a value MediaNest cannot start with."""


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    env: Literal["development", "production"] = "production"
    data_dir: Path = Path("./data")
    database_url: str | None = None
    redis_url: str | None = None
    # With Redis, jobs run in `medianest worker` processes unless web processes are asked to help.
    web_runs_jobs: bool | None = None
    redis_prefix: str = Field(default="medianest", pattern=r"^[A-Za-z0-9_.-]{1,40}$")

    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    trusted_proxies: Annotated[list[Network], NoDecode] = Field(default_factory=list)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Generated on first start and kept in <data dir>/secrets.json when not given.
    secret_key: SecretStr | None = None
    encryption_key: SecretStr | None = None
    # Earlier keys, comma-separated: what they sealed still opens. `medianest keys rotate` fills it.
    encryption_old_keys: SecretStr | None = None

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "MediaNest <medianest@localhost>"
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"

    # Quick links on the Help page: JSON list of {"name": ..., "url": ..., "description"?: ...}.
    help_links: list[dict[str, str]] = Field(default_factory=list)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] | None = None
    metrics_token: SecretStr | None = None

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Seconds between the pings on a live-updates socket (/api/v1/ws): below the idle timeout
    # of every proxy in front of MediaNest (nginx's and many load balancers' is 60 s).
    realtime_heartbeat_seconds: float = Field(default=25.0, ge=0.2, le=300)
    cache_max_entries: int = Field(default=10_000, ge=10)

    # Sized well above what one person does on the library pages (docs/configuration.md).
    rate_limit_api: str = "600/minute"
    # Posters and art a page shows, apart from the API's allowance: only a runaway client meets it.
    rate_limit_images: str = "6000/minute"
    rate_limit_login: str = "10/15 minutes"
    rate_limit_youtube: str = "5/hour"
    rate_limit_media_requests: str = "20/hour"

    http_connect_timeout: float = Field(default=3.0, gt=0)
    http_read_timeout: float = Field(default=10.0, gt=0)
    # The longest one page or API request waits on upstreams, every call and retry together:
    # past it the answer is what is held, or 504, rather than a page that seems to hang.
    upstream_deadline: float = Field(default=5.0, gt=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown: float = Field(default=30.0, gt=0)

    plex_tv_url: str = "https://plex.tv"
    plex_app_url: str = "https://app.plex.tv"
    plex_url: str | None = None
    plex_token: SecretStr | None = None
    # Minutes between incremental syncs of the library index; 0 turns scheduled syncs off.
    plex_sync_interval_minutes: int = Field(default=15, ge=0, le=10_080)
    youtube_dir: Path | None = None

    # The Overseerr (or Seerr) to request through, when configured from settings rather than
    # the admin page; read only until an administrator saves a connection there.
    overseerr_url: str | None = None
    overseerr_api_key: SecretStr | None = None
    # Seconds between the syncs that repair what a lost webhook missed; 0 turns them off.
    overseerr_sync_interval_seconds: int = Field(default=300, ge=0, le=86_400)

    # Browser push: a subscription's endpoint must be https on a public address, so nobody can
    # make MediaNest post into the LAN; true for a push server on the LAN (and for tests).
    push_allow_insecure_endpoints: bool = False
    # Who runs this MediaNest, told to push services with every message (VAPID `sub`): a
    # mailto: or https: address; unset, the first administrator's e-mail or admin@localhost.
    push_contact: str | None = None

    # Seconds between MediaNest's own checks of Plex, Overseerr, its database, Redis and workers,
    # and its polls of Uptime Kuma; 0 turns them off (the status page then shows what is stored).
    status_interval_seconds: int = Field(default=60, ge=0, le=3_600)
    # The Uptime Kuma whose status pages the status page shows, when configured from settings
    # rather than Admin → Status; read only until an administrator saves one there.
    uptime_kuma_url: str | None = None
    uptime_kuma_status_pages: Annotated[list[str], NoDecode] = Field(default_factory=list)
    uptime_kuma_api_key: SecretStr | None = None

    @field_validator("cors_origins", "uptime_kuma_status_pages", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        value = _split_commas(value)
        if not isinstance(value, list):
            return value
        networks = []
        for item in value:
            try:
                networks.append(ipaddress.ip_network(str(item), strict=False))
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (like 10.0.0.1 or 172.16.0.0/12)"
                ) from None
        return networks

    @field_validator(
        "rate_limit_api",
        "rate_limit_images",
        "rate_limit_login",
        "rate_limit_youtube",
        "rate_limit_media_requests",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(
                "must look like '100/minute' or '10/15 minutes' (count/period)"
            ) from None
        return value

    @field_validator("encryption_key", "encryption_old_keys")
    @classmethod
    def _keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        for part in value.get_secret_value().split(","):
            if part.strip():
                try:
                    decode_key(part.strip())
                except ValueError:
                    raise ValueError(
                        "must be 32 bytes in urlsafe base64 (44 characters); "
                        "`medianest keys generate` prints one"
                    ) from None
        return value

    @field_validator("help_links")
    @classmethod
    def _links(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for link in value:
            if not link.get("name") or not str(link.get("url", "")).startswith(
                ("http://", "https://")
            ):
                raise ValueError('each link needs a "name" and an http(s) "url"')
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("plex_tv_url", "plex_app_url", "plex_url", "public_url", "uptime_kuma_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("push_contact")
    @classmethod
    def _contact(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("mailto:", "https://")) or len(value) > 320:
            raise ValueError("must be a mailto: address or an https:// URL")
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'medianest.db').resolve()}"

    @cached_property
    def resolved_log_format(self) -> Literal["console", "json"]:
        if self.log_format:
            return self.log_format
        return "console" if self.env == "development" else "json"

    @cached_property
    def resolved_youtube_dir(self) -> Path:
        return self.youtube_dir or self.data_dir / "youtube"

    @property
    def resolved_web_runs_jobs(self) -> bool:
        if self.redis_url is None:
            return True
        return bool(self.web_runs_jobs)

    @property
    def encryption_keys(self) -> list[bytes]:
        """The sealing key first, then older ones that still open what they sealed."""
        texts = [self.encryption_key.get_secret_value()] if self.encryption_key else []
        if self.encryption_old_keys:
            texts += self.encryption_old_keys.get_secret_value().split(",")
        return [decode_key(t.strip()) for t in texts if t.strip()]

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None

    @property
    def address_to_open(self) -> str:
        """Where a person opens MediaNest in a browser: the public URL, else the address `serve`
        listens on, with `localhost` for all interfaces (0.0.0.0 is no address to browse to)."""
        if self.public_url:
            return self.public_url
        host = "localhost" if self.host in ("", "0.0.0.0", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and `.env`), with `overrides` taking precedence.

    Raises `SettingsError` with one line per bad setting.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "settings"
        if field in lines:
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        got = error.get("input")
        shown = "" if isinstance(got, dict) or field in _SECRET_FIELDS else f" (got {got!r})"
        lines[field] = f"Invalid setting {ENV_PREFIX}{field.upper()}: {message}{shown}"
    return "\n".join(lines.values())


_SECRET_FIELDS = {
    "secret_key",
    "encryption_key",
    "encryption_old_keys",
    "metrics_token",
    "overseerr_api_key",
    "plex_token",
    "smtp_password",
    "uptime_kuma_api_key",
}
