"""A poller keeps the last good result, says once that it fails and once that it recovered,
refreshes sooner when asked (once for many asks) and stops cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from structlog.testing import capture_logs

from medianest.core.poller import Poller


class Upstream:
    def __init__(self) -> None:
        self.calls = 0
        self.failing = False

    async def refresh(self) -> int:
        self.calls += 1
        if self.failing:
            raise ConnectionError("down")
        return self.calls


async def _until(condition: Callable[[], object]) -> None:
    """Polls on purpose: what is awaited is the poller's own background task."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def test_an_outage_is_said_once_and_the_last_good_result_is_kept() -> None:
    upstream = Upstream()
    poller = Poller("kuma", upstream.refresh, interval=0.01)
    with capture_logs() as logs:
        poller.start()
        await _until(lambda: poller.snapshot == 1)
        upstream.failing = True
        await _until(lambda: upstream.calls >= 6)
        assert (poller.snapshot, poller.last_refresh_ok) == (1, False)
        upstream.failing = False
        await _until(lambda: poller.last_refresh_ok)
        await poller.stop()
    events = [(e["event"], e.get("poller")) for e in logs]
    assert events == [("poller.failing", "kuma"), ("poller.recovered", "kuma")]
    assert poller.snapshot == upstream.calls


async def test_asks_for_a_refresh_before_it_runs_make_one_refresh() -> None:
    upstream = Upstream()
    poller = Poller("sync", upstream.refresh, interval=3600)
    poller.start()
    await _until(lambda: upstream.calls == 1)
    for _ in range(5):
        poller.request_refresh()
    await _until(lambda: upstream.calls == 2)
    await asyncio.sleep(0.05)
    assert upstream.calls == 2
    await poller.stop()


async def test_stopping_ends_the_refreshes_and_a_stopped_poller_starts_again() -> None:
    upstream = Upstream()
    poller = Poller("cleanup", upstream.refresh, interval=0.01, first_delay=0.01)
    poller.start()
    poller.start()
    await _until(lambda: upstream.calls >= 2)
    await poller.stop()
    assert not poller.running
    stopped_at = upstream.calls
    await asyncio.sleep(0.05)
    assert upstream.calls == stopped_at
    poller.start()
    await _until(lambda: upstream.calls > stopped_at)
    await poller.stop()


async def test_a_refresh_in_the_callers_task_raises_what_failed() -> None:
    upstream = Upstream()
    upstream.failing = True
    poller = Poller("status", upstream.refresh, interval=60)
    with pytest.raises(ConnectionError):
        await poller.refresh_now()
    assert (poller.snapshot, poller.last_refresh_ok) == (None, False)
