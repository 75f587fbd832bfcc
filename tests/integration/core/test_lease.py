"""`core.lease`: one holder at a time, renewal, takeover after expiry, release on stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from medianest.core.db import Database, utc_now
from medianest.core.lease import Lease, LeaseKeeper
from tests.support.tcp_proxy import tcp_proxy

TTL = 30.0


class Clock:
    """A clock the test moves by hand, so expiry needs no waiting."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def databases(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two processes' connections to one database."""
    first, second = Database(database_url), Database(database_url)
    yield first, second
    await first.close()
    await second.close()


class TestAcquire:
    async def test_one_holder_at_a_time(self, databases: tuple[Database, Database]) -> None:
        clock = Clock()
        one = Lease(databases[0], "status", ttl=TTL, clock=clock)
        other = Lease(databases[1], "status", ttl=TTL, clock=clock)

        assert await one.acquire() is True
        assert await other.acquire() is False
        assert await one.acquire() is True  # renewed

    async def test_another_takes_over_once_the_holder_stops_renewing(
        self, databases: tuple[Database, Database]
    ) -> None:
        clock = Clock()
        one = Lease(databases[0], "status", ttl=TTL, clock=clock)
        other = Lease(databases[1], "status", ttl=TTL, clock=clock)
        assert await one.acquire() is True

        clock.advance(TTL - 1)
        assert await other.acquire() is False
        clock.advance(2)
        assert await other.acquire() is True
        assert await one.acquire() is False

    async def test_renewal_pushes_the_expiry_back(
        self, databases: tuple[Database, Database]
    ) -> None:
        clock = Clock()
        one = Lease(databases[0], "status", ttl=TTL, clock=clock)
        other = Lease(databases[1], "status", ttl=TTL, clock=clock)
        assert await one.acquire() is True
        clock.advance(TTL - 1)
        assert await one.acquire() is True
        clock.advance(TTL - 1)

        assert await other.acquire() is False

    async def test_a_released_lease_is_free_at_once(
        self, databases: tuple[Database, Database]
    ) -> None:
        one = Lease(databases[0], "status", ttl=TTL)
        other = Lease(databases[1], "status", ttl=TTL)
        assert await one.acquire() is True

        await one.release()

        assert await other.acquire() is True

    async def test_names_are_separate_leases(self, databases: tuple[Database, Database]) -> None:
        assert await Lease(databases[0], "status", ttl=TTL).acquire() is True
        assert await Lease(databases[1], "other", ttl=TTL).acquire() is True

    async def test_many_asking_at_once_make_one_holder(self, database_url: str) -> None:
        dbs = [Database(database_url) for _ in range(6)]
        try:
            leases = [Lease(db, "status", ttl=TTL) for db in dbs]
            won = await asyncio.gather(*(lease.acquire() for lease in leases))
            # And again once it expired: still only one taker.
            clock = Clock()
            clock.advance(TTL + 1)
            late = [Lease(db, "status", ttl=TTL, clock=clock) for db in dbs]
            won_late = await asyncio.gather(*(lease.acquire() for lease in late))
        finally:
            for db in dbs:
                await db.close()

        assert sum(won) == 1
        assert sum(won_late) == 1


class TestKeeper:
    async def test_gains_and_loses_with_the_lease(
        self, databases: tuple[Database, Database]
    ) -> None:
        clock = Clock()
        events: list[str] = []

        async def gained() -> None:
            events.append("gained")

        async def lost() -> None:
            events.append("lost")

        mine = LeaseKeeper(
            Lease(databases[0], "status", ttl=TTL, clock=clock),
            every=1,
            on_gained=gained,
            on_lost=lost,
        )
        theirs = Lease(databases[1], "status", ttl=TTL, clock=clock)

        assert await mine.attempt() is True
        assert await mine.attempt() is True
        assert events == ["gained"]
        # The holder stalled past its expiry; another process took over meanwhile.
        clock.advance(TTL + 1)
        assert await theirs.acquire() is True
        assert await mine.attempt() is False
        assert events == ["gained", "lost"]

    async def test_stop_releases_for_the_next_process(
        self, databases: tuple[Database, Database]
    ) -> None:
        lost: list[bool] = []
        gained = asyncio.Event()

        async def on_gained() -> None:
            gained.set()

        async def on_lost() -> None:
            lost.append(True)

        mine = LeaseKeeper(
            Lease(databases[0], "status", ttl=TTL), every=60, on_gained=on_gained, on_lost=on_lost
        )
        mine.start()
        theirs = Lease(databases[1], "status", ttl=TTL)
        await asyncio.wait_for(gained.wait(), timeout=30)
        assert await theirs.acquire() is False

        await mine.stop()

        assert lost == [True]
        assert await theirs.acquire() is True

    async def test_a_database_outage_keeps_the_lease_until_it_expires(
        self, pg_migrated_url: str
    ) -> None:
        clock = Clock()
        events: list[str] = []

        async def gained() -> None:
            events.append("gained")

        async def lost() -> None:
            events.append("lost")

        async with tcp_proxy(pg_migrated_url) as proxy:
            db = Database(proxy.url_for(pg_migrated_url))
            keeper = LeaseKeeper(
                Lease(db, "status", ttl=TTL, clock=clock), every=1, on_gained=gained, on_lost=lost
            )
            try:
                assert await keeper.attempt() is True
                await proxy.cut()
                clock.advance(TTL / 2)
                # Nobody can take it meanwhile either: it is still this process's.
                assert await keeper.attempt() is True
                clock.advance(TTL)
                assert await keeper.attempt() is False
            finally:
                await proxy.restore()
                # The database outlives the test (pg_migrated_url): leave no lease behind.
                await keeper.lease.release()
                await db.close()
        assert events == ["gained", "lost"]
