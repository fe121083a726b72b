"""Where the monitoring state lives, and how to say so without showing a password.

``$FLOE_STATE_URL``, else ``state.url`` in the platform manifest, else the embedded default:
a SQLite file ``./.floe/state.db``. URLs are SQLAlchemy URLs for the async drivers floe ships,
``postgresql+psycopg://`` and ``sqlite+aiosqlite://``; the plain ``postgresql://``,
``postgres://`` and ``sqlite://`` spellings are normalised to them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from floe_core._redact import redact
from floe_core.errors import StateURLError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from floe_core.manifest import PlatformManifest

STATE_URL_ENV = "FLOE_STATE_URL"
#: The embedded database's file name, inside the embedded defaults' home (``./.floe/``).
DEFAULT_STATE_FILE = "state.db"
EMBEDDED_ORIGIN = "the embedded default"

Backend = Literal["postgresql", "sqlite"]

# Every spelling accepted, and the async driver it stands for.
_DRIVERS: dict[str, str] = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
_EXAMPLES = "postgresql://USER@HOST:5432/DATABASE or sqlite:///PATH/TO/state.db"


@dataclass(frozen=True)
class StateURL:
    """A resolved state database URL: the real one for the engine, a masked one for people."""

    #: The SQLAlchemy URL with its async driver, password included: for the engine only.
    url: str = field(repr=False)
    #: The same URL with the password and secret-looking query values masked.
    display: str
    #: Whether this is the embedded default, which floe creates and upgrades by itself.
    embedded: bool = False
    #: Where the URL came from, for messages: ``$FLOE_STATE_URL``, the manifest, the default.
    origin: str = EMBEDDED_ORIGIN

    @property
    def backend(self) -> Backend:
        """``postgresql`` or ``sqlite``."""
        return "postgresql" if self.url.startswith("postgresql") else "sqlite"

    def __str__(self) -> str:
        return self.display


def embedded_state_url(home: Path | None = None) -> StateURL:
    """The embedded default: SQLite in ``<home>/state.db`` (``./.floe/state.db``)."""
    from sqlalchemy.engine import URL

    from floe_core.manifest import DEFAULT_HOME

    path = (home or DEFAULT_HOME).absolute() / DEFAULT_STATE_FILE
    url = URL.create("sqlite+aiosqlite", database=str(path)).render_as_string(hide_password=False)
    return StateURL(url=url, display=url, embedded=True, origin=EMBEDDED_ORIGIN)


def resolve_state_url(
    manifest: PlatformManifest | None, env: Mapping[str, str] | None = None
) -> StateURL:
    """The state database to use: ``$FLOE_STATE_URL``, else the manifest's, else embedded."""
    configured = configured_state_url(manifest, env)
    if configured is None:
        return embedded_state_url()
    url, origin = configured
    return parse_state_url(url, origin=origin)


def configured_state_url(
    manifest: PlatformManifest | None, env: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """The state database URL as configured, unchecked, and where it came from (the
    ``origin`` of ``parse_state_url``); None for the embedded default."""
    env = os.environ if env is None else env
    from_env = env.get(STATE_URL_ENV, "").strip()
    if from_env:
        return from_env, f"${STATE_URL_ENV}"
    from_manifest = (manifest.state.url or "").strip() if manifest is not None else ""
    if manifest is not None and from_manifest:
        where = f"manifest {manifest.source}" if manifest.source else "the manifest"
        return from_manifest, f"state.url in {where}"
    return None


def parse_state_url(raw: str, *, origin: str) -> StateURL:
    """Check and normalise a state database URL; ``origin`` says where it came from."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):
        raise StateURLError(
            f"the state database URL {_mask(raw)!r} (from {origin}) is not a database URL; "
            f"write it as {_EXAMPLES}"
        ) from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise StateURLError(
            f"the state database URL {_display(url)!r} (from {origin}) uses "
            f"{url.drivername!r}, which floe cannot store state in; use PostgreSQL or SQLite: "
            f"{_EXAMPLES}"
        )
    url = url.set(drivername=driver)
    if driver.startswith("sqlite"):
        if url.database in (None, "", ":memory:") or url.host or url.username:
            raise StateURLError(
                f"the state database URL {_display(url)!r} (from {origin}) names no SQLite "
                "file (an in-memory database would forget every run); write it as "
                "sqlite:///relative/path/state.db or sqlite:////absolute/path/state.db"
            )
        url = url.set(database=str(Path(url.database).absolute()))
    return StateURL(
        url=url.render_as_string(hide_password=False),
        display=_display(url),
        embedded=False,
        origin=origin,
    )


def _display(url: URL) -> str:
    return redact(url.render_as_string(hide_password=True))


def _mask(raw: str) -> str:
    """``raw``, unparseable as a URL, with anything that may be a password masked."""
    shown = redact(raw.strip())
    if "@" in shown and "***@" not in shown:
        shown = "***" + shown[shown.rindex("@") :]
    return shown
