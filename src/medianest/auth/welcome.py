"""What the console says on the very first start: where to open MediaNest and how to sign in."""

from __future__ import annotations

import sys

import structlog

from medianest.auth.service import FIRST_ADMIN

log = structlog.get_logger(__name__)


def welcome(url: str) -> None:
    """Say where to go and how the first sign-in goes, once: a structured event for log
    readers, and a few plain lines that a person watching the console cannot miss."""
    log.info("auth.welcome", url=url, username=FIRST_ADMIN)
    lines = [
        f"Welcome to MediaNest! Open {url} in your browser.",
        f"Sign in as {FIRST_ADMIN} / {FIRST_ADMIN}; "
        "MediaNest then asks you for a new password right away.",
    ]
    rule = "-" * max(len(line) for line in lines)
    # Written whole in one call, so no log line from another thread lands inside it.
    sys.stderr.write("\n".join(["", rule, *lines, rule, "", ""]))
    sys.stderr.flush()
