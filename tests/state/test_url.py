"""Where the state database is: $FLOE_STATE_URL, else the manifest's state.url, else embedded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from floe_core.errors import InputError, ManifestError, StateURLError
from floe_core.manifest import load_manifest
from floe_core.state.url import (
    STATE_URL_ENV,
    StateURL,
    embedded_state_url,
    parse_state_url,
    resolve_state_url,
)

PG_WITH_PASSWORD = "postgresql://floe:s3cret-pw@db.internal:5432/monitoring"


def test_embedded_default_without_env_or_manifest(no_state_env: Path) -> None:
    state = resolve_state_url(None, env={})
    expected = f"sqlite+aiosqlite:///{no_state_env / '.floe' / 'state.db'}"
    assert state == StateURL(url=expected, display=expected, embedded=True, origin=state.origin)
    assert state.origin == "the embedded default"
    assert state.backend == "sqlite"
    assert not (no_state_env / ".floe").exists()  # resolving creates nothing


def test_manifest_without_state_section_uses_embedded_default(
    no_state_env: Path, state_manifest: Callable[[str | None], Path]
) -> None:
    manifest = load_manifest(state_manifest(None))
    assert manifest.state.url is None
    assert resolve_state_url(manifest, env={}) == embedded_state_url()


def test_manifest_state_url_is_used(state_manifest: Callable[[str | None], Path]) -> None:
    path = state_manifest("postgresql://floe@db.internal/monitoring")
    state = resolve_state_url(load_manifest(path), env={})
    assert state.url == "postgresql+psycopg://floe@db.internal/monitoring"
    assert not state.embedded
    assert state.backend == "postgresql"
    assert state.origin == f"state.url in manifest {path}"


def test_env_overrides_manifest(state_manifest: Callable[[str | None], Path]) -> None:
    manifest = load_manifest(state_manifest("postgresql://floe@db.internal/monitoring"))
    state = resolve_state_url(manifest, env={STATE_URL_ENV: "postgres://other@elsewhere/db"})
    assert state.url == "postgresql+psycopg://other@elsewhere/db"
    assert state.origin == "$FLOE_STATE_URL"


def test_empty_env_and_manifest_values_count_as_unset(
    no_state_env: Path, state_manifest: Callable[[str | None], Path]
) -> None:
    manifest = load_manifest(state_manifest("  "))
    assert resolve_state_url(manifest, env={STATE_URL_ENV: ""}) == embedded_state_url()


def test_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STATE_URL_ENV, "postgresql://floe@db.internal/monitoring")
    assert resolve_state_url(None).origin == "$FLOE_STATE_URL"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h:6543/db", "postgresql+psycopg://u@h:6543/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg_async://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db?sslmode=require", "postgresql+psycopg://u@h/db?sslmode=require"),
        ("sqlite:////var/lib/floe/state.db", "sqlite+aiosqlite:////var/lib/floe/state.db"),
        (
            "sqlite+aiosqlite:////var/lib/floe/state.db",
            "sqlite+aiosqlite:////var/lib/floe/state.db",
        ),
    ],
)
def test_normalised_to_async_drivers(given: str, expected: str) -> None:
    assert parse_state_url(given, origin="test").url == expected


def test_relative_sqlite_paths_are_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    state = parse_state_url("sqlite:///data/state.db", origin="test")
    assert state.url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'state.db'}"
    assert not state.embedded


def test_the_embedded_file_named_explicitly_is_not_embedded(no_state_env: Path) -> None:
    # Only the default is created and upgraded by itself; a URL someone wrote is not.
    state = parse_state_url(embedded_state_url().url, origin="test")
    assert state.url == embedded_state_url().url
    assert not state.embedded


def test_password_is_kept_for_the_engine_and_masked_everywhere_else() -> None:
    state = parse_state_url(PG_WITH_PASSWORD, origin="test")
    assert state.url == "postgresql+psycopg://floe:s3cret-pw@db.internal:5432/monitoring"
    assert state.display == "postgresql+psycopg://floe:***@db.internal:5432/monitoring"
    assert str(state) == state.display
    assert "s3cret-pw" not in repr(state)


def test_secret_query_values_are_masked() -> None:
    state = parse_state_url("postgresql://floe@h/db?password=s3cret-pw&sslmode=require", origin="x")
    assert "s3cret-pw" in state.url
    assert "s3cret-pw" not in state.display
    assert "sslmode=require" in state.display


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("not a url", "is not a database URL"),
        ("postgresql://u:s3cret-pw@h:notaport/db", "is not a database URL"),
        ("mysql://u:s3cret-pw@h/db", "uses 'mysql', which floe cannot store state in"),
        ("postgresql+psycopg2://u:s3cret-pw@h/db", "uses 'postgresql+psycopg2'"),
        ("sqlite://", "names no SQLite file"),
        ("sqlite:///:memory:", "names no SQLite file"),
    ],
)
def test_bad_urls_name_their_origin_and_hide_passwords(given: str, fragment: str) -> None:
    with pytest.raises(StateURLError) as caught:
        parse_state_url(given, origin="$FLOE_STATE_URL")
    message = str(caught.value)
    assert fragment in message
    assert "(from $FLOE_STATE_URL)" in message
    assert "s3cret-pw" not in message
    assert isinstance(caught.value, InputError)


def test_bad_manifest_url_names_the_manifest(state_manifest: Callable[[str | None], Path]) -> None:
    path = state_manifest("oracle://scott:tiger-pw@db/orcl")
    with pytest.raises(StateURLError, match=f"from state.url in manifest {path}"):
        resolve_state_url(load_manifest(path), env={})


def test_manifest_state_section_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text("apiVersion: floe.dev/v1\nkind: Manifest\nstate:\n  uri: sqlite:///x.db\n")
    with pytest.raises(ManifestError, match=r"state\.uri.*unknown field 'uri'"):
        load_manifest(path)


def test_manifest_state_url_of_the_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text("apiVersion: floe.dev/v1\nkind: Manifest\nstate:\n  url: [s3cret-pw]\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert "state.url" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
