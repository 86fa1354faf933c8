"""Structured logs: one JSON object per line on stderr.

Each line has ``ts`` (Unix seconds), ``level``, ``logger``, ``event`` (the message) and the
fields passed with :func:`log`. Example::

    {"ts": 1764000000.123, "level": "INFO", "logger": "server.net", "event": "listening",
     "host": "127.0.0.1", "port": 7777}
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_FIELDS = "fields"


class JsonLinesFormatter(logging.Formatter):
    """Formats a record as one JSON line (non-JSON values are rendered with ``str``)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        extra = getattr(record, _FIELDS, None)
        if isinstance(extra, dict):
            out.update(extra)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, separators=(",", ":"))


def configure(level: str = "INFO") -> None:
    """Send all logging to stderr as JSON lines at ``level`` (idempotent)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_planet_json", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter())
    handler._planet_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # websockets logs every connection at INFO; our own connected/disconnected lines
    # carry the same facts with session ids, so keep the library to warnings unless DEBUG.
    logging.getLogger("websockets").setLevel(level if level == "DEBUG" else "WARNING")
    logging.getLogger("httpx").setLevel(level if level == "DEBUG" else "WARNING")
    logging.Formatter.converter = time.gmtime


def log(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with structured ``fields`` (each becomes a key of the JSON line)."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={_FIELDS: fields})
