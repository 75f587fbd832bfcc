"""Outgoing e-mail (password reset links), through the SMTP server in settings when there is one."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
import structlog

from medianest.config import Settings

log = structlog.get_logger(__name__)


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def configured(self) -> bool:
        return self._settings.smtp_host is not None

    async def send(self, *, to: str, subject: str, body: str) -> None:
        settings = self._settings
        if settings.smtp_host is None:
            raise RuntimeError("SMTP is not configured")
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=20,
        )
        log.info("mail.sent", subject=subject)
