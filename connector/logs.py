"""structlog configuration, done once: JSON in production, pretty in a terminal, secrets redacted."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys whose values are never written out, whatever their content.
_SECRET_KEYS = re.compile(r"(token|secret|password|passwd|api_key|apikey|authorization|cookie|signature)", re.I)
# Bearer tokens and HubSpot private-app tokens that slip into free text.
_SECRET_TEXT = re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+|pat-[a-z0-9]{2,4}-[0-9a-f\-]{8,}", re.I)
REDACTED = "[redacted]"

_configured = False


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace secret-looking keys and token-looking substrings before anything is rendered."""
    for key, value in list(event.items()):
        if _SECRET_KEYS.search(key):
            event[key] = REDACTED
        elif isinstance(value, str) and key != "event":
            event[key] = _SECRET_TEXT.sub(lambda m: (m.group(1) or "") + REDACTED, value)
    return event


def configure(*, json: bool | None = None, level: str | None = None) -> None:
    """Configure structlog and stdlib logging; later calls only change the level or renderer."""
    global _configured  # noqa: PLW0603 - logging is process-wide by nature
    level_name = (level or os.environ.get("LEADRELAY_LOG_LEVEL", "INFO")).upper()
    if json is None:
        json = os.environ.get("LEADRELAY_LOG_FORMAT", "").lower() == "json" or not sys.stderr.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level_name, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    _configured = True


def get_logger(name: str | None = None, **context: Any) -> Any:
    """A bound structlog logger; configures logging with defaults on first use."""
    if not _configured:
        configure()
    logger = structlog.get_logger(name) if name else structlog.get_logger()
    return logger.bind(**context) if context else logger
