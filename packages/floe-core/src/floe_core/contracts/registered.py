"""A contract the monitor watches: the contract, how to reach its tables, and its overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from floe_core.config import MonitoringConfig
from floe_core.contracts.model import DataContract


class RegisteredContract(BaseModel):
    """A contract the monitor watches, with how to reach its tables."""

    model_config = ConfigDict(extra="forbid")

    contract_name: str
    contract_version: str
    contract: DataContract
    connection_config: dict[str, Any]
    monitoring_overrides: MonitoringConfig | None = None
    registered_at: datetime
    last_check_times: dict[str, datetime] = {}  # check_type -> last_run
    active: bool = True
