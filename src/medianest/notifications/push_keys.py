"""MediaNest's VAPID key pair (RFC 8292), which signs every push so push services know it is us.

Made on first start and kept in the database, its private half sealed: every browser subscribed
with the public half, so a new pair would silence them all. Two processes starting at once may
both make one; the database keeps the first written and both use that.
"""

from __future__ import annotations

import base64

import structlog
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid

from medianest.core.db import Database, utc_now
from medianest.core.security import EncryptionService
from medianest.notifications.models import PushKey
from medianest.notifications.statements import insert_for

log = structlog.get_logger(__name__)

VAPID = "vapid"
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Raises ValueError for anything but base64url (padding optional)."""
    if not text or any(c not in _B64URL for c in text.rstrip("=")):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key_pair() -> tuple[str, str]:
    """(the public key as browsers want it: base64url of the uncompressed P-256 point, the
    private scalar in base64url)."""
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url(public), b64url(private.private_numbers().private_value.to_bytes(32, "big"))


class VapidKeys:
    """The stored key pair, read once per process."""

    def __init__(self, db: Database, encryption: EncryptionService) -> None:
        self._db = db
        self._encryption = encryption
        self._held: tuple[Vapid, str] | None = None

    async def signer(self) -> Vapid:
        return (await self._pair())[0]

    async def public_key(self) -> str:
        return (await self._pair())[1]

    async def _pair(self) -> tuple[Vapid, str]:
        if self._held is None:
            async with self._db.unit_of_work() as session:
                row = await session.get(PushKey, VAPID)
                if row is None:
                    public, private = new_key_pair()
                    await session.execute(
                        insert_for(session, PushKey)
                        .values(
                            name=VAPID,
                            public_key=public,
                            private_key_encrypted=self._encryption.encrypt(private),
                            created_at=utc_now(),
                        )
                        .on_conflict_do_nothing(index_elements=["name"])
                    )
                    row = await session.get(PushKey, VAPID)
                    assert row is not None
                    if row.public_key == public:
                        log.info("notifications.push_key_made")
                private_key = self._encryption.decrypt(row.private_key_encrypted)
                self._held = (Vapid.from_raw(private_key.encode()), row.public_key)
        return self._held
