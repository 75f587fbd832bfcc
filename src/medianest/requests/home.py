"""What requests add to the first administrator's setup checklist on Home: connecting
Overseerr, read from what is stored, so the step is ticked by itself."""

from __future__ import annotations

from collections.abc import Sequence

from medianest.requests.connection import CONNECT_PATH
from medianest.requests.deps import get_requests
from medianest.web.extensions import CardNote, HomeContext, SetupStep


async def setup_steps(home: HomeContext) -> Sequence[SetupStep]:
    status = await get_requests(home.request).connection.status(home.session)
    return (
        SetupStep(
            "Connect Overseerr for requests",
            "With Overseerr (or Seerr) connected, everyone can ask for movies and shows that"
            " are not in Plex yet, and is told when they arrive. Give MediaNest its address"
            " and API key, then paste MediaNest's webhook into it.",
            "done" if status.configured else "todo",
            CONNECT_PATH,
            "Connect Overseerr",
            holds_up=CardNote(
                "requests", "Waiting for Overseerr:", "connect it in Admin", CONNECT_PATH
            ),
        ),
    )
