"""Synthetic check histories whose every aggregate is known, written straight into the tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from floe_core.state.models import ContractCheckResult, ContractViolation, table_of
from floe_core.state.store import StateStore


@dataclass(frozen=True)
class Run:
    """One persisted check run and the violations it raised (their severities)."""

    contract: str
    check_type: str
    at: datetime
    status: str = "pass"
    duration: float = 1.0
    quality_score: float | None = None
    probe_ok: bool | None = None
    violations: tuple[str, ...] = ()

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {}
        if self.quality_score is not None:
            details["quality_score"] = self.quality_score
        if self.probe_ok is not None:
            details["probe"] = {"ok": self.probe_ok, "latency_ms": 3.0}
        return details


@dataclass
class History:
    """Runs to write; ``add`` returns self so a test reads as a list of facts."""

    runs: list[Run] = field(default_factory=list)

    def add(self, *runs: Run) -> History:
        self.runs.extend(runs)
        return self

    async def write(self, store: StateStore) -> None:
        results, violations = [], []
        for run in self.runs:
            result_id = uuid.uuid4()
            results.append(
                {
                    "id": result_id,
                    "contract_name": run.contract,
                    "check_type": run.check_type,
                    "status": run.status,
                    "duration_seconds": run.duration,
                    "checked_at": run.at,
                    "details": run.details(),
                    "violation": None,
                    "created_at": run.at,
                }
            )
            for severity in run.violations:
                violations.append(
                    {
                        "id": uuid.uuid4(),
                        "contract_name": run.contract,
                        "contract_version": "1.0.0",
                        "violation_type": run.check_type,
                        "severity": severity,
                        "message": f"{run.check_type} {severity}",
                        "detected_at": run.at,
                        "check_result_id": result_id,
                        "affected_consumers": [],
                    }
                )
        async with store.engine.begin() as conn:
            if results:
                await conn.execute(table_of(ContractCheckResult).insert(), results)
            if violations:
                await conn.execute(table_of(ContractViolation).insert(), violations)
