"""OpenLineage run events for check runs: the ``contractViolation`` facet and its JSON Schema.

Plain dicts that follow the OpenLineage spec (no client library, no transport): hand them to
whatever sends lineage.
"""

from __future__ import annotations

from floe_core.lineage.events import (
    CONTRACT_VIOLATION_SCHEMA_URL,
    FACET_SCHEMA_ID,
    PRODUCER,
    RUN_EVENT_SCHEMA_URL,
    contract_violation_facet,
    facet_schema,
    job_name,
    run_events,
    run_id,
)

__all__ = [
    "CONTRACT_VIOLATION_SCHEMA_URL",
    "FACET_SCHEMA_ID",
    "PRODUCER",
    "RUN_EVENT_SCHEMA_URL",
    "contract_violation_facet",
    "facet_schema",
    "job_name",
    "run_events",
    "run_id",
]
