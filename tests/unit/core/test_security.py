"""Encryption at rest: what a stolen or tampered value gives an attacker, and key rotation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medianest.config import decode_key
from medianest.core.security import (
    DecryptionError,
    EncryptionService,
    TokenHasher,
    new_key,
)

OLD, NEW = decode_key(new_key()), decode_key(new_key())


class TestEncryption:
    @given(st.text(max_size=500))
    def test_round_trips_any_text(self, plaintext: str) -> None:
        service = EncryptionService([NEW])
        assert service.decrypt(service.encrypt(plaintext)) == plaintext

    def test_the_same_secret_never_looks_the_same_twice(self) -> None:
        service = EncryptionService([NEW])
        first, second = service.encrypt("plex-token"), service.encrypt("plex-token")
        assert first != second and "plex-token" not in first

    def test_a_tampered_value_does_not_open(self) -> None:
        service = EncryptionService([NEW])
        sealed = service.encrypt("plex-token")
        flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
        with pytest.raises(DecryptionError):
            service.decrypt(flipped)

    def test_a_value_moved_under_another_key_id_does_not_open(self) -> None:
        both = EncryptionService([NEW, OLD])
        sealed = EncryptionService([OLD]).encrypt("secret")
        _, _, payload = sealed.split(".", 2)
        new_id = both.current_key_id
        with pytest.raises(DecryptionError):
            both.decrypt(f"v1.{new_id}.{payload}")
        assert both.decrypt(sealed) == "secret"

    def test_after_rotation_old_values_open_and_new_ones_use_the_new_key(self) -> None:
        old_sealed = EncryptionService([OLD]).encrypt("before")
        rotated = EncryptionService([NEW, OLD])
        assert rotated.decrypt(old_sealed) == "before"
        assert rotated.needs_rotation(old_sealed)
        assert not rotated.needs_rotation(rotated.encrypt("after"))
        with pytest.raises(DecryptionError):
            EncryptionService([NEW]).decrypt(old_sealed)

    @pytest.mark.parametrize("garbage", ["", "plain", "v1.abc", "v2.x.y", "v1.zzzzzzzz.!!!"])
    def test_garbage_is_a_decryption_error(self, garbage: str) -> None:
        with pytest.raises(DecryptionError):
            EncryptionService([NEW]).decrypt(garbage)

    def test_keys_must_be_32_bytes(self) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            decode_key("dG9vLXNob3J0")


class TestTokenHasher:
    def test_equal_tokens_hash_equal_and_depend_on_the_secret(self) -> None:
        one, other = TokenHasher("secret-a"), TokenHasher("secret-b")
        assert one.hash("token") == one.hash("token")
        assert one.hash("token") != other.hash("token")
        assert "token" not in one.hash("token")


class TestAccessTokens:
    def test_a_remembered_token_still_expires(self) -> None:
        import uuid
        from datetime import timedelta

        from medianest.auth import tokens

        service = tokens.JwtService("s" * 40)
        token = service.generate_access_token(uuid.uuid4(), uuid.uuid4())
        claims = service.verify_token(token)
        assert service.verify_token(token) is claims  # the second check is a lookup
        service._verified[token] = tokens.AccessClaims(
            claims.user_id, claims.session_id, claims.expires_at - timedelta(hours=1)
        )
        with pytest.raises(tokens.TokenExpired):
            service.verify_token(token)

    def test_a_forged_token_is_never_served_from_memory(self) -> None:
        import uuid

        from medianest.auth import tokens

        service = tokens.JwtService("s" * 40)
        token = service.generate_access_token(uuid.uuid4(), uuid.uuid4())
        service.verify_token(token)
        header, payload, signature = token.split(".")
        with pytest.raises(tokens.InvalidToken):
            service.verify_token(f"{header}.{payload}.{signature[:-2]}AA")
