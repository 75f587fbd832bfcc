"""What a browser and a push service do to a Web Push message, written from the RFCs with
`cryptography` alone (not with the library MediaNest sends through), so a test that reads a
message proves MediaNest followed the standards:

- RFC 8292 (VAPID): `Authorization: vapid t=<JWT>, k=<public key>`, the JWT signed with ES256 by
  that key, its `aud` the push service's origin, its `exp` in the future and at most 24 hours on.
- RFC 8291 with RFC 8188 (`aes128gcm`): the body is a header (salt, record size, the sender's
  ephemeral public key) and records sealed with a key derived from ECDH with the browser's key
  and the browser's auth secret.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class Refused(Exception):
    """The message breaks the standard; the message says where."""


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class Vapid:
    key: str
    """The `k` parameter: the sender's public key, base64url."""
    claims: dict[str, Any]


def verify_vapid(authorization: str | None, audience: str) -> Vapid:
    if not authorization:
        raise Refused("no Authorization header")
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise Refused(f"Authorization scheme {scheme!r}, not vapid")
    params = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        params[name] = value
    if "t" not in params or "k" not in params:
        raise Refused("vapid needs t= and k=")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(params["k"]))
        claims = jwt.decode(
            params["t"],
            key=public,
            algorithms=["ES256"],
            audience=audience,
            options={"require": ["aud", "exp", "sub"]},
        )
    except (ValueError, jwt.InvalidTokenError) as exc:
        raise Refused(f"VAPID token: {exc}") from None
    if claims["exp"] > time.time() + 24 * 3600:
        raise Refused("VAPID exp more than 24 hours ahead")
    if not str(claims["sub"]).startswith(("mailto:", "https:")):
        raise Refused("VAPID sub is neither mailto: nor https:")
    return Vapid(params["k"], claims)


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decrypt(body: bytes, receiver: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """The plaintext of an `aes128gcm` Web Push body, as the browser holding `receiver` and
    `auth_secret` reads it."""
    if len(body) < 21:
        raise Refused("body shorter than the aes128gcm header")
    salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    sender_public = body[21 : 21 + id_length]
    records = body[21 + id_length :]
    if id_length != 65 or record_size < 18:
        raise Refused("the header's key id is not an uncompressed P-256 key")
    try:
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_public)
    except ValueError:
        raise Refused("the header's key id is not on P-256") from None
    shared = receiver.exchange(ec.ECDH(), sender)
    key_info = b"WebPush: info\x00" + public_bytes(receiver) + sender_public
    ikm = _hkdf(auth_secret, shared, key_info, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    chunks = [records[i : i + record_size] for i in range(0, len(records), record_size)]
    plaintext = b""
    for index, chunk in enumerate(chunks):
        counter = (int.from_bytes(nonce, "big") ^ index).to_bytes(12, "big")
        try:
            padded = AESGCM(cek).decrypt(counter, chunk, None)
        except Exception:
            raise Refused(f"record {index} does not open") from None
        content = padded.rstrip(b"\x00")
        last = index == len(chunks) - 1
        if not content or content[-1] != (2 if last else 1):
            raise Refused(f"record {index} has no padding delimiter")
        plaintext += content[:-1]
    return plaintext
