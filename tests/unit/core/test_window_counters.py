"""The guards' in-process counters: a fixed window per key, and memory bounded by one window."""

from __future__ import annotations

import pytest

from medianest.core import ratelimit
from medianest.core.ratelimit import WindowCounters


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(ratelimit.time, "time", fake.time)
    return fake


async def test_a_window_counts_until_it_ends_then_starts_again(clock: Clock) -> None:
    counters = WindowCounters()
    assert [await counters.incr("ip:a", 60) for _ in range(3)] == [1, 2, 3]
    assert await counters.get("ip:a") == 3
    assert await counters.get_expiry("ip:a") == clock.now + 60

    clock.now += 60
    assert await counters.get("ip:a") == 0
    assert await counters.incr("ip:a", 60, amount=2) == 2


async def test_keys_count_apart_and_clear_alone(clock: Clock) -> None:
    counters = WindowCounters()
    await counters.incr("user:1", 60)
    await counters.incr("user:2", 60)
    await counters.clear("user:1")
    assert (await counters.get("user:1"), await counters.get("user:2")) == (0, 1)


async def test_clients_of_past_windows_are_forgotten(clock: Clock) -> None:
    counters = WindowCounters()
    for n in range(1000):
        await counters.incr(f"ip:{n}", 60)
    clock.now += WindowCounters.SWEEP_EVERY + 60
    await counters.incr("ip:new", 60)
    assert await counters.reset() == 1  # only the one still in its window was kept
