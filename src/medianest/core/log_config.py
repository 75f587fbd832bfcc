"""structlog set-up: console lines in development, one JSON object per line in production.

Standard-library loggers (uvicorn, SQLAlchemy, taskiq) go through the same processors, so every
line carries the request's correlation id and nothing passes the redaction step.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from medianest.core.context import correlation_id

# A field whose name contains one of these words never has its value logged, whatever logged it
# (`plex_token`, `new_password`, `totp_code` ...). Whole words keep `status_code` readable.
_SENSITIVE_WORDS = frozenset(
    {
        "password",
        "passwd",
        "token",
        "secret",
        "authorization",
        "cookie",
        "apikey",
        "totp",
        "otp",
        "credentials",
        "dsn",
    }
)
_WORD = re.compile(r"[a-z]+")


# A WebSocket may carry its access token in the query (`/api/v1/ws?token=...`), and uvicorn
# logs each handshake with its query string.
_QUERY_TOKEN = re.compile(r"([?&](?:access_)?token=)[^&\s\"']+")


def _scrub_query_tokens(record: logging.LogRecord) -> bool:
    """Handler filter: a token in a logged address becomes `[redacted]` (the line is kept)."""
    if isinstance(record.msg, str) and "token=" in record.msg:
        record.msg = _QUERY_TOKEN.sub(r"\1[redacted]", record.msg)
    if isinstance(record.args, tuple) and any(
        isinstance(arg, str) and "token=" in arg for arg in record.args
    ):
        record.args = tuple(
            _QUERY_TOKEN.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
            for arg in record.args
        )
    return True


def _add_correlation_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    cid = correlation_id()
    if cid is not None:
        event.setdefault("correlation_id", cid)
    return event


def _redact(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    for key in list(event):
        words = _WORD.findall(key.lower().replace("api_key", "apikey"))
        if key != "event" and _SENSITIVE_WORDS.intersection(words):
            event[key] = "[redacted]"
    return event


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_correlation_id,
        _redact,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(level: str, fmt: str) -> None:
    """Configure structlog and the root logger; safe to call more than once."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared = _shared_processors()
    structlog.configure(
        processors=[
            # Drop a line below the configured level before any work is spent on it.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached, so loggers follow a later configure() (tests capture logs that way).
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if fmt == "json" else _passthrough,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(_scrub_query_tokens)
    handler.set_name("medianest")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "medianest"]
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own access log repeats what the edge middleware already records.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # httpx logs every request at INFO, a line per Plex page during a sync; upstream calls are
    # counted in the metrics and their failures logged by MediaNest with context.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    # aiosqlite's DEBUG lines print every statement with its bound values (password hashes,
    # sealed tokens); the engine hides its own bound values (core.db), this driver is told to.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of the call, not when configured, so
    output redirected later (a test capturing it, a daemon reopening it) is still followed."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def _passthrough(_: WrappedLogger, __: str, event: MutableMapping[str, Any]) -> Any:
    return event
