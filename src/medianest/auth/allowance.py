"""The sign-in allowance: what every check of a password or a second factor spends.

Sign-in, changing the password and turning two-factor off all prove who someone is, so they
share one allowance per account (`MEDIANEST_RATE_LIMIT_LOGIN`). A session does not buy more
guesses: an account locked out of sign-in is locked out of those checks too, and the other way
round. Sign-in also spends one per client address, so one address cannot spray many accounts.
"""

from __future__ import annotations

from medianest.core.ratelimit import RateLimiter


def account_key(username: str) -> str:
    return f"account:{username.strip().lower()}"


def address_key(ip: str) -> str:
    return f"ip:{ip}"


class ProofAllowance:
    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    async def check(self, *keys: str) -> None:
        """Raise `RateLimited` (429) if any key's allowance is spent; spends nothing."""
        for key in keys:
            await self._limiter.check("login", key)

    async def failed(self, *keys: str) -> None:
        for key in keys:
            await self._limiter.hit("login", key)

    async def proven(self, account: str) -> None:
        """A right answer forgives the account's earlier wrong ones (not its address's)."""
        await self._limiter.clear("login", account)
