"""The optional C accelerator (the floe-speedups distribution), when it is installed and
follows this floe-core's plan format; floe-core gives the same answers without it."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

#: The plan format this floe-core builds (``iceberg._avro_plan``).
PLAN_VERSION = 1

_UNKNOWN: Any = object()
_accelerated: Any = _UNKNOWN  # floe_speedups._avro, None without it, or not looked for yet


def accelerator() -> Any:
    """``floe_speedups._avro``, or None: not installed, or built for another plan format."""
    global _accelerated
    if _accelerated is _UNKNOWN:
        module: Any
        try:
            from floe_speedups import _avro as module
        except ImportError:
            module = None
        if module is not None and getattr(module, "PLAN_VERSION", None) != PLAN_VERSION:
            log.warning(
                "floe-speedups follows plan format %s, this floe-core %s: not used; install "
                "the floe-speedups of this floe-core's release",
                getattr(module, "PLAN_VERSION", None),
                PLAN_VERSION,
            )
            module = None
        _accelerated = module
    return _accelerated
