"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from functools import cache, cached_property

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from medianest.core.errors import ValidationFailed

MIN_LENGTH = 10


class WeakPassword(ValidationFailed):
    def __init__(self, message: str, field: str = "newPassword") -> None:
        super().__init__(message, details=[{"field": field, "message": message}])


@cache
def _common_passwords() -> frozenset[str]:
    # 30,000 most common passwords from real breaches, shipped with zxcvbn.
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_rules(password: str, *, username: str, field: str = "newPassword") -> None:
    """Raise `WeakPassword` with a message the user can act on."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.", field)
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise WeakPassword("Your password must not contain your username.", field)
    if lowered in _common_passwords():
        raise WeakPassword(
            "That password is one of the most common ones and easy to guess. Choose another.",
            field,
        )


class PasswordHasher:
    def __init__(self) -> None:
        self._hash = PasswordHash((Argon2Hasher(),))

    @cached_property
    def _decoy(self) -> str:
        # Verifying against this when the user does not exist costs the same time as a real
        # check, so a response time never tells whether a username exists.
        return self._hash.hash("decoy-password-for-unknown-users")

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, hashed: str | None) -> bool:
        if hashed is None:
            self._hash.verify(password, self._decoy)
            return False
        return self._hash.verify(password, hashed)
