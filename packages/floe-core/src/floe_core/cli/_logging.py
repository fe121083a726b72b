"""Logging for the CLI: one line per record on stderr; tracebacks only with ``-vv``.

``floe sla monitor --log-format json`` writes each record as one JSON object instead, with
its ``floe.*`` fields (contract, check type, status, duration, violations) as keys.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_LEVELS = {0: logging.WARNING, 1: logging.INFO}


class _LineFormatter(logging.Formatter):
    """``floe: LEVEL: message``, leaving out tracebacks unless asked for them."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__("floe: %(levelname)s: %(message)s")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if not self.tracebacks and (record.exc_info or record.stack_info):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.stack_info = None
        return super().format(record)


#: LogRecord attributes every record has: what is left are the ``extra`` fields.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                document[key] = value
        return json.dumps(document, default=str)


def use_json_lines() -> None:
    """Switch the handlers ``configure`` installed to JSON lines."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())


def at_least_info() -> None:
    """Show floe's INFO records (a long-running command's one line per check)."""
    logger = logging.getLogger("floe_core")
    if logger.level > logging.INFO or logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def configure(verbosity: int) -> None:
    """Send log records to stderr: warnings by default, more with each ``-v``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter(tracebacks=verbosity >= 2))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("floe_core").setLevel(_LEVELS.get(verbosity, logging.DEBUG))
