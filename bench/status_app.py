"""MediaNest as `bench/status.py` runs it: `auth_app`, plus one route that publishes a
`service.status` message on the app's own bus, as the status recorder does once a change of
status committed. Its answer says when (`time.monotonic()`, the same clock in every process of
the machine), so the benchmark times each socket's message from that moment."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Body, FastAPI

from medianest.app import create_app
from medianest.config import load_settings
from medianest.status.recorder import STATUS_CHANNEL

PUBLISH_PATH = "/api/v1/bench/service-status"


def app() -> FastAPI:
    built = create_app(load_settings())

    @built.post(PUBLISH_PATH)
    async def publish(message: dict[str, Any] = Body()) -> dict[str, float]:
        bus = built.state.platform.bus
        published_at = time.monotonic()
        await bus.publish(STATUS_CHANNEL, message)
        return {"publishedAt": published_at}

    return built
