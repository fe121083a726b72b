"""Load ODCS v3 contracts from YAML, with errors that name the file, the field and the fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from floe_core._yaml import YamlDocument, YamlSyntaxError, format_path, parse_yaml, read_text
from floe_core.contracts.lifecycle import check_lifecycle
from floe_core.contracts.model import DataContract
from floe_core.contracts.sla import SLAError, availability_slas, freshness_slas
from floe_core.errors import ContractError

_SUPPORTED_API = re.compile(r"^v3\.[0-2]\.\d+$")
_MAX_REPORTED_ERRORS = 5


def load_contract(path: str | Path) -> DataContract:
    """Read and validate the ODCS contract at ``path``; raise ``ContractError`` when it is bad."""
    file = Path(path)
    if not file.exists():
        raise ContractError("file not found; check the path", source=file)
    if file.is_dir():
        raise ContractError("is a directory; give the path of one contract YAML file", source=file)
    try:
        text = read_text(file)
    except UnicodeDecodeError:
        raise ContractError(
            "is not UTF-8 text; save the contract as UTF-8 YAML", source=file
        ) from None
    except OSError as exc:
        raise ContractError(f"cannot be read: {exc.strerror}", source=file) from None
    return parse_contract(text, source=file)


def parse_contract(text: str, *, source: str | Path = "<string>") -> DataContract:
    """Validate ODCS YAML ``text``; ``source`` names it in error messages."""
    try:
        doc = parse_yaml(text)
    except YamlSyntaxError as exc:
        where = f"line {exc.line}" if exc.line else ""
        raise ContractError(f"malformed YAML: {exc.problem}", source=source, path=where) from None
    data = doc.data
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ContractError(
            f"expected a mapping of ODCS fields (apiVersion, kind, id, ...), found {found}",
            source=source,
        )
    _check_header(data, doc, source)
    check_lifecycle(data, doc, source)  # before the model: it turns YAML dates into strings
    try:
        contract = DataContract.model_validate(data)
    except ValidationError as exc:
        raise ContractError(_describe(exc, doc), source=source) from None
    try:
        freshness_slas(contract)
        availability_slas(contract)
    except SLAError as exc:
        line = doc.line_of(_split_path(exc.path))
        raise ContractError(str(exc), source=source, path=_at(exc.path, line)) from None
    return contract


def _check_header(data: dict[str, Any], doc: YamlDocument, source: str | Path) -> None:
    api = data.get("apiVersion")
    if api is None:
        raise ContractError(
            "apiVersion is missing; floe reads ODCS v3.0.x to v3.2.x (for example "
            "apiVersion: v3.1.0)",
            source=source,
        )
    if not isinstance(api, str) or not _SUPPORTED_API.match(api):
        raise ContractError(
            f"apiVersion {api!r} is not supported; floe reads ODCS v3.0.x to v3.2.x. Convert the "
            "contract to ODCS v3 (datacontract-cli can export ODCS)",
            source=source,
            path=_at("apiVersion", doc.line_of(["apiVersion"])),
        )
    if "kind" not in data:
        raise ContractError(
            "kind is missing; an ODCS v3 contract says kind: DataContract", source=source
        )
    if data["kind"] != "DataContract":
        raise ContractError(
            f"kind must be DataContract, found {data.get('kind')!r}",
            source=source,
            path=_at("kind", doc.line_of(["kind"])),
        )
    for key in ("id", "version"):
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ContractError(
                f"{key} is missing; ODCS v3 requires it (for example {key}: "
                f"{'orders-v1' if key == 'id' else '1.0.0'})",
                source=source,
            )


def _describe(exc: ValidationError, doc: YamlDocument) -> str:
    lines = []
    errors = exc.errors()
    for error in errors[:_MAX_REPORTED_ERRORS]:
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        path = format_path(loc)
        if error["type"] == "extra_forbidden":
            what = f"unknown field '{loc[-1]}'; ODCS v3 does not define it (check the spelling)"
        else:
            what = f"{error['msg']} (found {_short(error.get('input'))})"
        lines.append(f"{_at(path, doc.line_of(loc))}: {what}")
    more = len(errors) - _MAX_REPORTED_ERRORS
    if more > 0:
        lines.append(f"... and {more} more")
    head = "invalid ODCS contract: " if len(lines) == 1 else "invalid ODCS contract:\n  "
    return head + "\n  ".join(lines)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _at(path: str, line: int | None) -> str:
    return f"{path} (line {line})" if line else path


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts
