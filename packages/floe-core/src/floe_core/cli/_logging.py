"""Logging for the CLI: one line per record on stderr; tracebacks only with ``-vv``."""

from __future__ import annotations

import logging
import sys

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


def configure(verbosity: int) -> None:
    """Send log records to stderr: warnings by default, more with each ``-v``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter(tracebacks=verbosity >= 2))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("floe_core").setLevel(_LEVELS.get(verbosity, logging.DEBUG))
