"""How Iceberg types map to ODCS ``logicalType`` and ``physicalType``.

| Iceberg type                              | ODCS logicalType | physicalType spellings accepted              |
|-------------------------------------------|------------------|----------------------------------------------|
| boolean                                   | boolean          | boolean, bool                                |
| int                                       | integer          | int, integer, int32, int4, smallint, tinyint |
| long                                      | integer          | long, bigint, int64, int8                    |
| float                                     | number           | float, real, float32, float4                 |
| double                                    | number           | double, double precision, float64, float8    |
| decimal(P, S)                             | number           | decimal(P,S), numeric(P,S);                  |
|                                           |                  | plain decimal / numeric matches any P, S     |
| date                                      | date             | date                                         |
| time                                      | time             | time                                         |
| timestamp, timestamp_ns                   | timestamp        | timestamp, timestamp_ntz, datetime, ...      |
| timestamptz, timestamptz_ns               | timestamp        | timestamptz, timestamp_ltz, timestamp_tz ... |
| string                                    | string           | string, varchar, varchar(N), text, char(N)   |
| uuid                                      | string           | uuid                                         |
| fixed[N], binary                          | string           | fixed[N], binary, varbinary, bytes           |
| struct<...>                               | object           | struct, record, object                       |
| list<...>                                 | array            | list, array                                  |
| map<...>                                  | object           | map                                          |

ODCS v3.0 has no ``timestamp`` or ``time`` logical type, so ``date`` is accepted for timestamp
columns and ``string`` for time columns. A ``physicalType`` floe does not recognise (such as
``VARCHAR2(20)`` from another engine) is not compared; the ``logicalType`` is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.types import IcebergType

_LOGICAL: dict[str, str] = {
    "boolean": "boolean",
    "int": "integer",
    "long": "integer",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "date": "date",
    "time": "time",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
    "timestamp_ns": "timestamp",
    "timestamptz_ns": "timestamp",
    "string": "string",
    "uuid": "string",
    "fixed": "string",
    "binary": "string",
    "struct": "object",
    "list": "array",
    "map": "object",
}

# Extra logical types accepted for an Iceberg kind (ODCS v3.0 spellings).
_LOGICAL_ALSO: dict[str, set[str]] = {
    "timestamp": {"date"},
    "timestamptz": {"date"},
    "timestamp_ns": {"date"},
    "timestamptz_ns": {"date"},
    "time": {"string"},
}

_PHYSICAL: dict[str, set[str]] = {
    "boolean": {"boolean", "bool"},
    "int": {"int", "integer", "int32", "int4", "smallint", "tinyint", "int16"},
    "long": {"long", "bigint", "int64", "int8"},
    "float": {"float", "real", "float32", "float4"},
    "double": {"double", "doubleprecision", "float64", "float8"},
    "decimal": {"decimal", "numeric"},
    "date": {"date"},
    "time": {"time", "timewithouttimezone"},
    "timestamp": {
        "timestamp",
        "timestamp_ntz",
        "timestampntz",
        "datetime",
        "timestampwithouttimezone",
    },
    "timestamptz": {
        "timestamptz",
        "timestamp_ltz",
        "timestamp_tz",
        "timestampltz",
        "timestampwithtimezone",
        "timestampwithlocaltimezone",
    },
    "timestamp_ns": {"timestamp_ns", "timestampns"},
    "timestamptz_ns": {"timestamptz_ns", "timestamptzns"},
    "string": {"string", "varchar", "text", "char", "character", "charactervarying", "nvarchar"},
    "uuid": {"uuid"},
    "fixed": {"fixed"},
    "binary": {"binary", "varbinary", "bytes", "bytea", "blob"},
    "struct": {"struct", "record", "object", "row"},
    "list": {"list", "array"},
    "map": {"map"},
}
_PHYSICAL_KIND = {alias: kind for kind, aliases in _PHYSICAL.items() for alias in aliases}
_PARAMS = re.compile(r"^(?P<base>[a-z0-9_ ]+?)\s*(?:[(\[<](?P<params>.*)[)\]>])?$")


def iceberg_kind(iceberg_type: IcebergType) -> str:
    """The kind of an Iceberg type: ``decimal`` for ``decimal(10, 2)``, ``fixed`` for ``fixed[16]``."""
    text = str(iceberg_type)
    return re.split(r"[(\[<]", text, maxsplit=1)[0].strip()


def logical_type(iceberg_type: IcebergType) -> str:
    """The ODCS logicalType an Iceberg type maps to."""
    return _LOGICAL.get(iceberg_kind(iceberg_type), "string")


def logical_matches(contract_logical: str, iceberg_type: IcebergType) -> bool:
    """Whether the contract's ``logicalType`` fits the Iceberg type."""
    kind = iceberg_kind(iceberg_type)
    wanted = contract_logical.strip().lower()
    return wanted == _LOGICAL.get(kind) or wanted in _LOGICAL_ALSO.get(kind, set())


def physical_matches(contract_physical: str, iceberg_type: IcebergType) -> bool | None:
    """Whether the contract's ``physicalType`` fits; None when floe does not know the spelling."""
    match = _PARAMS.match(contract_physical.strip().lower())
    if not match:
        return None
    base = match.group("base").replace(" ", "")
    params = (match.group("params") or "").replace(" ", "")
    kind = _PHYSICAL_KIND.get(base)
    if kind is None:
        return None
    actual = iceberg_kind(iceberg_type)
    if kind != actual:
        return False
    if kind == "decimal" and params:
        precision, _, scale = params.partition(",")
        wanted = (int(precision), int(scale or 0)) if precision.isdigit() else None
        got = (getattr(iceberg_type, "precision", None), getattr(iceberg_type, "scale", None))
        return wanted is None or wanted == got
    if kind == "fixed" and params.isdigit():
        return int(params) == len(iceberg_type)  # type: ignore[arg-type]
    return True
