"""Auth request and response bodies (camelCase on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from medianest.core.schemas import ApiModel, RequestModel


class UserRead(ApiModel):
    id: uuid.UUID
    username: str
    email: str | None
    role: str
    thumb: str | None
    two_factor_enabled: bool
    requires_password_change: bool
    has_password: bool
    plex_linked: bool


class SessionRead(ApiModel):
    user: UserRead


class LoginRequest(RequestModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(default=None, max_length=20)
    remember_me: bool = False


class LoginResult(ApiModel):
    user: UserRead
    token: str
    remember_token: str | None
    csrf_token: str


class RefreshRequest(RequestModel):
    remember_token: str | None = Field(default=None, max_length=200)


class RefreshResult(ApiModel):
    token: str
    remember_token: str | None
    csrf_token: str


class LogoutRequest(RequestModel):
    all_sessions: bool = False


class PlexPinCreate(RequestModel):
    client_name: str | None = Field(default=None, max_length=100)


class PlexPinRead(ApiModel):
    id: int
    code: str
    auth_url: str
    expires_at: datetime
    poll_interval_ms: int


class PlexPinStatus(ApiModel):
    id: int
    authorized: bool
    expires_at: datetime


class PlexVerify(RequestModel):
    pin_id: int
    remember_me: bool = False


class ChangePassword(RequestModel):
    current_password: str | None = Field(default=None, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ResetRequest(RequestModel):
    email: str = Field(min_length=3, max_length=320)


class ResetConfirm(RequestModel):
    token: str = Field(min_length=10, max_length=200)
    new_password: str = Field(min_length=1, max_length=1024)


class TwoFactorSetup(ApiModel):
    secret: str
    otpauth_url: str
    qr_svg: str


class TwoFactorEnable(RequestModel):
    code: str = Field(min_length=6, max_length=10)


class BackupCodes(ApiModel):
    backup_codes: list[str]


class TwoFactorDisable(RequestModel):
    password: str | None = Field(default=None, max_length=1024)
    code: str | None = Field(default=None, max_length=20)


class DeviceSessionRead(ApiModel):
    id: uuid.UUID
    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool


class Message(ApiModel):
    message: str
