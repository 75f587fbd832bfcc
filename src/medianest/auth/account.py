"""What a signed-in user manages about their own account: password, 2FA, password reset."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.allowance import ProofAllowance, account_key
from medianest.auth.errors import InvalidResetToken, InvalidTotp, WrongPassword
from medianest.auth.mailer import Mailer
from medianest.auth.models import BackupCode, PasswordResetToken, User, UserStatus
from medianest.auth.passwords import PasswordHasher, check_password_rules
from medianest.auth.sessions import Principal, SessionService
from medianest.auth.two_factor import (
    consume_backup_code,
    matching_step,
    new_backup_codes,
    new_secret,
    provisioning_uri,
    qr_svg_data_uri,
)
from medianest.core.audit import Actor, AuditService
from medianest.core.db import utc_now
from medianest.core.errors import Conflict, NotFound, ValidationFailed
from medianest.core.job_queue import JobInfo, JobQueue
from medianest.core.security import EncryptionService, TokenHasher, random_token

log = structlog.get_logger(__name__)

RESET_TTL = timedelta(hours=1)
SEND_RESET_JOB = "auth.send_password_reset"


@dataclass(frozen=True, slots=True)
class TwoFactorStart:
    secret: str
    otpauth_url: str
    qr_svg: str


@dataclass(frozen=True, slots=True)
class ResetLink:
    url: str
    expires_at: datetime


class AccountService:
    def __init__(
        self,
        *,
        public_url: str | None,
        audit: AuditService,
        sessions: SessionService,
        passwords: PasswordHasher,
        hasher: TokenHasher,
        encryption: EncryptionService,
        mailer: Mailer,
        queue: JobQueue,
        allowance: ProofAllowance,
    ) -> None:
        self._public_url = public_url
        self._audit = audit
        self._sessions = sessions
        self._passwords = passwords
        self._hasher = hasher
        self._encryption = encryption
        self._mailer = mailer
        self._queue = queue
        self._allowance = allowance
        queue.register(SEND_RESET_JOB, self._send_reset_email, max_attempts=3)

    async def change_password(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        current: str | None,
        new: str,
        actor: Actor,
    ) -> None:
        """Other devices are signed out; this one stays signed in."""
        user = await self._user(session, principal.id)
        if user.password_hash is not None:
            account = account_key(user.username)
            await self._allowance.check(account)
            if not self._passwords.verify(current or "", user.password_hash):
                await self._allowance.failed(account)
                raise WrongPassword()
            await self._allowance.proven(account)
        check_password_rules(new, username=user.username)
        if user.password_hash is not None and self._passwords.verify(new, user.password_hash):
            raise ValidationFailed(
                "Choose a password different from the current one.",
                details=[{"field": "newPassword", "message": "Same as the current password."}],
            )
        user.password_hash = self._passwords.hash(new)
        user.requires_password_change = False
        await self._void_reset_links(session, user.id)
        await self._sessions.revoke_all(
            session, user.id, reason="password_changed", keep=principal.session_id
        )
        await self._audit.record(
            session, "auth.password_changed", actor=actor, target_type="user", target_id=user.id
        )
        await self._sessions.forget_user(session, user.id)

    async def start_two_factor(self, session: AsyncSession, principal: Principal) -> TwoFactorStart:
        user = await self._user(session, principal.id)
        if user.totp_enabled:
            raise Conflict(
                "Two-factor sign-in is already on. Turn it off first to set it up again."
            )
        secret = new_secret()
        user.totp_secret_encrypted = self._encryption.encrypt(secret)
        user.totp_last_step = None
        uri = provisioning_uri(secret, user.email or user.username)
        return TwoFactorStart(secret, uri, qr_svg_data_uri(uri))

    async def enable_two_factor(
        self, session: AsyncSession, principal: Principal, *, code: str, actor: Actor
    ) -> list[str]:
        user = await self._user(session, principal.id)
        if user.totp_enabled:
            raise Conflict("Two-factor sign-in is already on.")
        if user.totp_secret_encrypted is None:
            raise Conflict("Start the two-factor setup first.")
        secret = self._encryption.decrypt(user.totp_secret_encrypted)
        step = matching_step(secret, code, after_step=user.totp_last_step)
        if step is None:
            raise InvalidTotp("That code is not right. Check the time on your phone and try again.")
        user.totp_enabled = True
        user.totp_last_step = step
        codes = new_backup_codes()
        await session.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
        session.add_all(BackupCode(user_id=user.id, code_hash=self._hasher.hash(c)) for c in codes)
        await self._audit.record(
            session, "auth.2fa_enabled", actor=actor, target_type="user", target_id=user.id
        )
        await self._sessions.forget_user(session, user.id)
        return codes

    async def disable_two_factor(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        password: str | None,
        code: str | None,
        actor: Actor,
    ) -> None:
        user = await self._user(session, principal.id)
        if not user.totp_enabled:
            return
        account = account_key(user.username)
        await self._allowance.check(account)
        proven = False
        if password and user.password_hash:
            proven = self._passwords.verify(password, user.password_hash)
        elif code and user.totp_secret_encrypted:
            secret = self._encryption.decrypt(user.totp_secret_encrypted)
            proven = matching_step(secret, code, after_step=user.totp_last_step) is not None or (
                await consume_backup_code(session, self._hasher, user.id, code)
            )
        if not proven:
            await self._allowance.failed(account)
            raise ValidationFailed(
                "Confirm with your password or a current code to turn two-factor sign-in off.",
                details=[{"field": "password" if password else "code", "message": "Not right."}],
            )
        await self._allowance.proven(account)
        user.totp_enabled = False
        user.totp_secret_encrypted = None
        user.totp_last_step = None
        await session.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
        await self._audit.record(
            session, "auth.2fa_disabled", actor=actor, target_type="user", target_id=user.id
        )
        await self._sessions.forget_user(session, user.id)

    async def request_reset(self, session: AsyncSession, *, email: str, actor: Actor) -> None:
        """Send a reset link if the address belongs to an active account; silent either way."""
        user = await session.scalar(
            select(User).where(
                User.email_key == email.strip().lower(), User.status == UserStatus.ACTIVE
            )
        )
        await self._audit.record(
            session, "auth.password_reset_requested", actor=actor, known=user is not None
        )
        if user is None or not user.email:
            return
        if not self._mailer.configured:
            log.warning("auth.reset_requested_without_smtp", user_id=str(user.id))
            return
        link = await self._new_reset_link(session, user.id)
        await self._queue.enqueue(
            session,
            SEND_RESET_JOB,
            to_encrypted=self._encryption.encrypt(user.email),
            link_encrypted=self._encryption.encrypt(link.url),
        )

    async def create_reset_link(
        self, session: AsyncSession, user_id: uuid.UUID, *, actor: Actor
    ) -> ResetLink:
        """For an admin to hand to a user when e-mail is not set up."""
        await self._user(session, user_id)
        link = await self._new_reset_link(session, user_id)
        await self._audit.record(
            session, "admin.password_reset_link", actor=actor, target_type="user", target_id=user_id
        )
        return link

    async def confirm_reset(
        self, session: AsyncSession, *, token: str, new_password: str, actor: Actor
    ) -> None:
        row = await session.scalar(
            select(PasswordResetToken).where(
                PasswordResetToken.token_hash == self._hasher.hash(token)
            )
        )
        if row is None or row.used_at is not None or row.expires_at <= utc_now():
            raise InvalidResetToken
        user = await self._user(session, row.user_id)
        check_password_rules(new_password, username=user.username)
        claimed = await session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
            .values(used_at=utc_now())
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            raise InvalidResetToken
        user.password_hash = self._passwords.hash(new_password)
        user.requires_password_change = False
        await self._void_reset_links(session, user.id)
        await self._sessions.revoke_all(session, user.id, reason="password_reset")
        await self._audit.record(
            session, "auth.password_reset", actor=Actor(user.id, user.username, actor.ip)
        )
        await self._sessions.forget_user(session, user.id)

    async def _new_reset_link(self, session: AsyncSession, user_id: uuid.UUID) -> ResetLink:
        token = random_token()
        expires = utc_now() + RESET_TTL
        session.add(
            PasswordResetToken(
                user_id=user_id, token_hash=self._hasher.hash(token), expires_at=expires
            )
        )
        await session.flush()
        base = self._public_url or ""
        return ResetLink(f"{base}/reset-password#token={token}", expires)

    async def _void_reset_links(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        """A new password makes every link sent for the old one worthless."""
        await session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
            .values(used_at=utc_now())
        )

    async def _user(self, session: AsyncSession, user_id: uuid.UUID) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("That account does not exist.")
        return user

    async def _send_reset_email(self, job: JobInfo, to_encrypted: str, link_encrypted: str) -> None:
        link = self._encryption.decrypt(link_encrypted)
        await self._mailer.send(
            to=self._encryption.decrypt(to_encrypted),
            subject="Reset your MediaNest password",
            body=(
                "Someone (hopefully you) asked to reset your MediaNest password.\n\n"
                f"Open this link within an hour to choose a new one:\n{link}\n\n"
                "If it was not you, ignore this message; your password stays as it is.\n"
            ),
        )
