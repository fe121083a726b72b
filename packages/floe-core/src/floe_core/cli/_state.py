"""What the commands that read or maintain the state database share: manifest and store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from floe_core.manifest import PlatformManifest
    from floe_core.state.store import StateStore
    from floe_core.state.url import StateURL

#: Check types this floe-core runs; written here (not imported) so that --help stays fast.
CHECK_TYPES = ("freshness", "schema_drift", "quality", "availability", "deprecation")

MANIFEST_FOR_STATE = click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=str),
    help="Platform manifest (its catalog, and its state.url). Default: $FLOE_MANIFEST, else "
    "./manifest.yaml. $FLOE_STATE_URL overrides state.url; without either, ./.floe/state.db.",
)

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people; json prints one object.",
)


def manifest_at(manifest_path: str | None) -> PlatformManifest | None:
    """The manifest ``--manifest`` names, else the one found by default, else none."""
    from floe_core.manifest import find_manifest, load_manifest

    manifest_file = find_manifest(manifest_path)
    return load_manifest(manifest_file) if manifest_file is not None else None


@asynccontextmanager
async def open_store(state: StateURL) -> AsyncIterator[StateStore]:
    """A store on ``state`` (the embedded database is created on first use), closed after."""
    from floe_core.state.engine import open_state
    from floe_core.state.store import StateStore

    engine = await open_state(state, auto_upgrade=state.embedded)
    try:
        yield StateStore(engine)
    finally:
        await engine.dispose()
