"""A third-party alert channel for floe's tests: each notification is a JSON line in a file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from floe_core import AlertChannelPlugin, ContractViolationEvent, ResolvedNotice

__version__ = "0.1.0"


class FileChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str


class FileAlertChannel(AlertChannelPlugin):
    """Appends ``{"kind": ..., "events": [...]}`` to ``config.path``, one line a notification."""

    name = "testfile"
    version = __version__
    floe_api_version = "1.0"

    @classmethod
    def get_config_schema(cls) -> type[FileChannelConfig]:
        return FileChannelConfig

    def validate_config(self) -> list[str]:
        return self.config_problems()

    def _append(self, line: dict[str, object]) -> bool:
        with Path(self.config["path"]).open("a") as out:
            out.write(json.dumps(line) + "\n")
        return True

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return await self.send_alerts([event])

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        return self._append(
            {"kind": "violation", "events": [e.model_dump(mode="json") for e in events]}
        )

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        return self._append({"kind": "resolved", "notice": notice.model_dump(mode="json")})
