"""What an operator reads about the job queue's link to Redis: one outage, one line down, one
line back, also when the link falls again right after it came back."""

from __future__ import annotations

import pytest

from medianest.core import queue_stream
from medianest.core.metrics import Metrics
from medianest.core.queue_stream import RELAPSE_WINDOW, QueueLink


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(queue_stream.time, "monotonic", clock)
    return clock


def counts(metrics: Metrics) -> tuple[float, float, float]:
    return (
        metrics.queue_outages._value.get(),
        metrics.queue_reconnects._value.get(),
        metrics.queue_up._value.get(),
    )


def test_a_fall_right_after_coming_back_is_the_same_outage(clock: Clock) -> None:
    metrics = Metrics()
    link = QueueLink(metrics)
    link.mark_up()
    clock.now += 1
    link.mark_down(ConnectionError("refused"))
    clock.now += 3
    link.mark_up()
    clock.now += RELAPSE_WINDOW / 2
    link.mark_down(ConnectionError("reset"))
    relapsed = counts(metrics)
    clock.now += 1
    link.mark_up()
    assert relapsed == (1, 1, 0)
    assert counts(metrics) == (1, 1, 1)


def test_an_outage_soon_after_start_is_counted(clock: Clock) -> None:
    metrics = Metrics()
    link = QueueLink(metrics)
    link.mark_up()
    clock.now += 0.5
    link.mark_down(ConnectionError("refused"))
    assert counts(metrics) == (1, 0, 0)


def test_a_link_that_keeps_falling_is_told_again_once_the_window_passed(clock: Clock) -> None:
    metrics = Metrics()
    link = QueueLink(metrics)
    link.mark_up()
    link.mark_down(ConnectionError("refused"))
    for _ in range(int(RELAPSE_WINDOW) + 2):
        clock.now += 0.5
        link.mark_up()
        clock.now += 0.5
        link.mark_down(ConnectionError("reset"))
    assert counts(metrics)[:2] == (2, 2)
