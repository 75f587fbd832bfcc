"""Web Push: notifications shown by a person's browsers even while no MediaNest tab is open.

A browser subscribes with MediaNest's public VAPID key (`public_key`, made on first start and
kept in the database, its private half sealed) and hands over the endpoint its push service
gave it with the keys to encrypt for it (`subscribe`). Each notification for someone with push
on and a subscription becomes one job (`enqueue`, sent once the caller commits); the job posts
an RFC 8291 `aes128gcm` message, signed with a VAPID token (RFC 8292), to each of the person's
browsers through pywebpush, in a thread, with a timeout.

A subscription belongs to the device session it was made in: once that browser signs out (or
the session is revoked or expires) it gets nothing more and the next push removes it. A push
service answering 404 or 410 forgot the subscription: it is removed too. 429 and 5xx are tried
again by the queue; a browser shows a message again under the same tag in place of the first,
so the browsers already reached by the first attempt show nothing twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any, cast

import requests
import structlog
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.directory import UserDirectory
from medianest.auth.sessions import Principal, SessionService
from medianest.config import Settings
from medianest.core.db import Database, utc_now
from medianest.core.errors import MediaNestError, NotFound, ValidationFailed
from medianest.core.job_queue import JobInfo, JobQueue
from medianest.core.security import EncryptionService
from medianest.notifications.models import PushSubscription
from medianest.notifications.push_addresses import (
    AddressRefused,
    Resolver,
    check_endpoint,
    guarded_session,
    resolve,
)
from medianest.notifications.push_keys import VapidKeys, unb64url
from medianest.notifications.statements import insert_for

log = structlog.get_logger(__name__)

PUSH_JOB = "notifications.push"
# A person's browsers; past this the oldest subscription makes room (it is likely long gone).
SUBSCRIPTIONS_KEPT = 10
# A push message carries at most 4096 bytes with its encryption header (RFC 8291 §4).
PAYLOAD_LIMIT = 3800
# How long a push service keeps a message for a browser that is offline.
TIME_TO_LIVE = 24 * 3600
SEND_TIMEOUT = 10.0
RETRY_DELAY = 2.0
FALLBACK_CONTACT = "mailto:admin@localhost"


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One notification to push to one person's browsers."""

    user_id: uuid.UUID
    tag: str
    """The browser shows a second message with the same tag in place of the first."""
    type: str
    title: str
    body: str
    url: str
    severity: str = "info"

    def payload(self) -> str:
        """`{title, body, url, type, tag}` as JSON of at most PAYLOAD_LIMIT bytes: a body too
        long for a push is shortened."""
        shown = {
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "type": self.type,
            "tag": self.tag,
        }
        while True:
            text = json.dumps(shown, ensure_ascii=False)
            excess = len(text.encode()) - PAYLOAD_LIMIT
            if excess <= 0:
                return text
            raw = shown["body"].removesuffix("…").encode()
            cut = raw[: max(0, len(raw) - excess - 3)].decode(errors="ignore")
            shown["body"] = cut.rstrip() + "…"


class SubscriptionNotFound(NotFound):
    message = "This browser is not set up for notifications, so there is nothing to turn off."


class InvalidSubscription(ValidationFailed):
    pass


class PushDeferred(MediaNestError):
    """A push service asked to be tried later (429, 5xx) or did not answer: the queue retries."""

    message = "A push service did not take the notification; it will be tried again."


def _check_keys(p256dh: str, auth: str) -> None:
    problems = []
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(p256dh))
    except ValueError:
        problems.append({"field": "keys.p256dh", "message": "Not a browser's push key."})
    try:
        if len(unb64url(auth)) != 16:
            raise ValueError("an auth secret is 16 bytes")
    except ValueError:
        problems.append({"field": "keys.auth", "message": "Not a browser's push secret."})
    if problems:
        raise InvalidSubscription(
            "This browser's subscription is damaged. Turn notifications off and on again.",
            details=problems,
        )


def _endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


class PushService:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        encryption: EncryptionService,
        queue: JobQueue,
        sessions: SessionService,
        users: UserDirectory,
        resolver: Resolver = resolve,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        self._allow_insecure = settings.push_allow_insecure_endpoints
        self._contact_setting = settings.push_contact
        self._db = db
        self._encryption = encryption
        self._queue = queue
        self._sessions = sessions
        self._users = users
        self._resolver = resolver
        self._retry_delay = retry_delay
        self._keys = VapidKeys(db, encryption)
        queue.register(PUSH_JOB, self._send_job, max_attempts=3)

    async def start(self) -> None:
        """Make the key pair on first start (the first process to get there wins)."""
        await self._keys.public_key()

    async def public_key(self) -> str:
        return await self._keys.public_key()

    async def subscribe(
        self, session: AsyncSession, principal: Principal, *, endpoint: str, p256dh: str, auth: str
    ) -> PushSubscription:
        """Push the person's notifications to this browser while it stays signed in in this
        session. A browser subscribed before (for anyone) is taken over by this person.
        Raises InvalidSubscription, or EndpointRefused for an address MediaNest never posts to."""
        _check_keys(p256dh, auth)
        await check_endpoint(endpoint, allow_insecure=self._allow_insecure, resolver=self._resolver)
        values = {
            "user_id": principal.id,
            "session_id": principal.session_id,
            "endpoint_encrypted": self._encryption.encrypt(endpoint),
            "keys_encrypted": self._encryption.encrypt(
                json.dumps({"p256dh": p256dh, "auth": auth})
            ),
            "created_at": utc_now(),
        }
        insert = insert_for(session, PushSubscription)
        statement = insert.values(id=uuid.uuid4(), endpoint_hash=_endpoint_hash(endpoint), **values)
        await session.execute(
            statement.on_conflict_do_update(index_elements=["endpoint_hash"], set_=values)
        )
        kept = (
            select(PushSubscription.id)
            .where(PushSubscription.user_id == principal.id)
            .order_by(PushSubscription.created_at.desc(), PushSubscription.id)
            .limit(SUBSCRIPTIONS_KEPT)
        )
        await session.execute(
            delete(PushSubscription)
            .where(PushSubscription.user_id == principal.id, PushSubscription.id.not_in(kept))
            .execution_options(synchronize_session=False)
        )
        row = await session.scalar(
            select(PushSubscription)
            .where(PushSubscription.endpoint_hash == _endpoint_hash(endpoint))
            .execution_options(populate_existing=True)
        )
        assert row is not None
        log.info(
            "notifications.push_subscribed", user_id=str(principal.id), subscription_id=str(row.id)
        )
        return row

    async def unsubscribe(self, session: AsyncSession, principal: Principal, endpoint: str) -> None:
        """Raises SubscriptionNotFound unless the person has this browser subscribed."""
        result = await session.execute(
            delete(PushSubscription)
            .where(
                PushSubscription.endpoint_hash == _endpoint_hash(endpoint),
                PushSubscription.user_id == principal.id,
            )
            .execution_options(synchronize_session=False)
        )
        if not cast(CursorResult[Any], result).rowcount:
            raise SubscriptionNotFound

    async def enqueue(self, session: AsyncSession, messages: list[PushMessage]) -> None:
        """One job per message, sent once the caller's transaction commits."""
        for message in messages:
            args = asdict(message)
            args["user_id"] = str(message.user_id)
            await self._queue.enqueue(session, PUSH_JOB, **args)

    async def _send_job(self, job: JobInfo, **args: Any) -> dict[str, Any]:
        message = PushMessage(**{**args, "user_id": uuid.UUID(args["user_id"])})
        if job.attempt > 1:
            await asyncio.sleep(self._retry_delay * (job.attempt - 1))
        vapid = await self._keys.signer()
        async with self._db.unit_of_work() as session:
            targets = await self._live_subscriptions(session, message.user_id)
            contact = await self._contact(session)
        gone: list[uuid.UUID] = []
        deferred = sent = 0
        http = guarded_session(allow_insecure=self._allow_insecure)
        try:
            for subscription_id, info in targets:
                status = await self._post(http, info, message, vapid, contact, subscription_id)
                if status is None or status == 429 or status >= 500:
                    deferred += 1
                elif status in (404, 410):
                    gone.append(subscription_id)
                elif status < 300:
                    sent += 1
                else:
                    log.warning(
                        "notifications.push_refused",
                        subscription_id=str(subscription_id),
                        status=status,
                    )
        finally:
            http.close()
        if gone:
            async with self._db.unit_of_work() as session:
                await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
            log.info("notifications.push_subscriptions_gone", count=len(gone))
        if deferred:
            raise PushDeferred
        return {"sent": sent, "removed": len(gone)}

    async def _post(
        self,
        http: requests.Session,
        info: dict[str, Any],
        message: PushMessage,
        vapid: Vapid,
        contact: str,
        subscription_id: uuid.UUID,
    ) -> int | None:
        """The push service's answer; None when it did not answer in time."""
        urgency = "high" if message.severity in ("warning", "critical") else "normal"
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(_post, http, info, message.payload(), vapid, contact, urgency),
                SEND_TIMEOUT * 2,
            )
        except AddressRefused:
            log.warning("notifications.push_address_refused", subscription_id=str(subscription_id))
            return 403
        except (requests.RequestException, TimeoutError) as exc:
            log.warning(
                "notifications.push_unreachable",
                subscription_id=str(subscription_id),
                error=type(exc).__name__,
            )
            return None

    async def _live_subscriptions(
        self, session: AsyncSession, user_id: uuid.UUID
    ) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        """The person's subscriptions made in sessions still signed in, opened for sending;
        the others are removed."""
        live = {device.id for device in await self._sessions.list_for_user(session, user_id)}
        rows = list(
            await session.scalars(
                select(PushSubscription).where(PushSubscription.user_id == user_id)
            )
        )
        signed_out = [row.id for row in rows if row.session_id not in live]
        if signed_out:
            await session.execute(
                delete(PushSubscription).where(PushSubscription.id.in_(signed_out))
            )
            log.info(
                "notifications.push_signed_out_removed", user_id=str(user_id), count=len(signed_out)
            )
        return [
            (
                row.id,
                {
                    "endpoint": self._encryption.decrypt(row.endpoint_encrypted),
                    "keys": json.loads(self._encryption.decrypt(row.keys_encrypted)),
                },
            )
            for row in rows
            if row.session_id in live
        ]

    async def _contact(self, session: AsyncSession) -> str:
        """Who push services may write to about MediaNest's pushes (VAPID's `sub`)."""
        if self._contact_setting:
            return self._contact_setting
        admins, _ = await self._users.list_users(
            session, page=1, page_size=1, role="admin", sort="createdAt"
        )
        email = admins[0].user.email if admins else None
        return f"mailto:{email}" if email and "@" in email else FALLBACK_CONTACT


def _post(
    http: requests.Session,
    info: dict[str, Any],
    data: str,
    vapid: Vapid,
    contact: str,
    urgency: str,
) -> int:
    """Encrypt and post one push (blocking: pywebpush speaks through requests)."""
    try:
        response = webpush(
            info,
            data=data,
            vapid_private_key=vapid,
            # A fresh dict: pywebpush fills in `aud` (the endpoint's origin) and `exp` itself.
            vapid_claims={"sub": contact},
            timeout=SEND_TIMEOUT,
            ttl=TIME_TO_LIVE,
            headers={"Urgency": urgency},
            requests_session=http,
        )
    except WebPushException as exc:
        if exc.response is None:
            raise
        return int(exc.response.status_code)
    return int(response.status_code)
