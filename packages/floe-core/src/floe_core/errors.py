"""Every error floe raises on purpose.

Each message is a sentence that names the bad value and says how to fix it; the CLI prints
it as-is and exits with status 2.

FloeError
├── InputError                      bad input from the user: fix the file or the option
│   ├── ContractError               an ODCS contract that cannot be read or understood
│   ├── ManifestError               a platform manifest that cannot be read or understood
│   └── StateURLError               a monitoring-state database URL floe cannot use
├── PluginError                     plugin discovery and loading
│   ├── PluginNotFoundError
│   ├── DuplicatePluginError
│   └── IncompatiblePluginError
├── CatalogError                    the Iceberg catalog could not answer
│   ├── CatalogConnectionError      it could not be reached (an outage: availability fails)
│   │   └── CatalogConfigError      it cannot exist as configured (also an InputError)
│   └── TableNotFoundError
├── StateError                      the monitoring-state database could not be used
│   ├── StateConnectionError        it could not be reached, opened or logged in to
│   └── StateSchemaError            its schema is not the one this floe needs
└── ContractNotRegisteredError      a monitor was asked about a contract it does not know
"""

from __future__ import annotations

from pathlib import Path


class FloeError(Exception):
    """Base class of every error floe raises on purpose."""


class InputError(FloeError):
    """Bad input: a file, option or value the user must fix."""


class ContractError(InputError):
    """An ODCS contract that cannot be read, parsed or understood."""

    def __init__(self, message: str, *, source: str | Path | None = None, path: str = "") -> None:
        self.source = str(source) if source is not None else None
        self.path = path
        where = self.source or "contract"
        if path:
            where = f"{where}, at {path}"
        super().__init__(f"{where}: {message}")


class ManifestError(InputError):
    """A platform manifest that cannot be read, parsed or understood."""

    def __init__(self, message: str, *, source: str | Path | None = None, path: str = "") -> None:
        self.source = str(source) if source is not None else None
        self.path = path
        where = f"manifest {self.source}" if self.source else "manifest"
        if path:
            where = f"{where}, at {path}"
        super().__init__(f"{where}: {message}")


class StateURLError(InputError):
    """A monitoring-state database URL that is malformed or names a backend floe cannot use."""


class PluginError(FloeError):
    """A plugin could not be discovered, loaded or accepted."""


class PluginNotFoundError(PluginError):
    """No installed distribution provides the requested plugin."""


class DuplicatePluginError(PluginError):
    """Two installed distributions register the same plugin name in one group."""


class IncompatiblePluginError(PluginError):
    """A plugin was built for a floe plugin API this floe-core does not speak."""


class CatalogError(FloeError):
    """The Iceberg catalog could not answer."""


class CatalogConnectionError(CatalogError):
    """The catalog could not be reached or refused the connection."""


class CatalogConfigError(CatalogConnectionError, InputError):
    """The catalog cannot exist as configured: a configuration error, not an outage.

    A SQLite catalog file that is not there, a URI that does not parse, a driver that is not
    installed. Nothing is checked and nothing is recorded: fix the configuration and run again.
    """


class TableNotFoundError(CatalogError):
    """A table named by a contract does not exist in the catalog."""


class StateError(FloeError):
    """The monitoring-state database could not be used."""


class StateConnectionError(StateError):
    """The state database could not be reached, opened or logged in to."""


class StateSchemaError(StateError):
    """The state database is not at this floe's schema revision (``floe sla db upgrade``)."""


class ContractNotRegisteredError(FloeError):
    """A monitor was asked to check a contract that was never registered."""
