"""Which Iceberg table each schema object of a contract describes.

A schema object's ``physicalName`` of the form ``namespace.table`` names its table directly
(a leading component equal to the iceberg server's ``catalog`` is dropped). Otherwise the
table is the ``namespace`` of the contract's first ``iceberg`` server plus the object's
``physicalName`` or ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass

from floe_core.contracts.model import DataContract, SchemaObject, Server


@dataclass(frozen=True)
class ContractTable:
    """One schema object of a contract and the Iceberg table it describes."""

    object_name: str
    identifier: str | None  # namespace.table, or None when it cannot be resolved
    schema_object: SchemaObject
    problem: str | None = None  # why identifier is None


def iceberg_server(contract: DataContract) -> Server | None:
    """The contract's first server of type ``iceberg``."""
    return next((s for s in contract.servers or [] if (s.type or "").lower() == "iceberg"), None)


def resolve_table(obj: SchemaObject, index: int, server: Server | None) -> ContractTable:
    """The table of one schema object, or a ``ContractTable`` that says why there is none."""
    label = obj.name or f"schema[{index}]"
    physical = (obj.physicalName or "").strip()
    parts = [p for p in physical.split(".") if p]
    if server is not None and server.catalog and len(parts) > 2 and parts[0] == server.catalog:
        parts = parts[1:]
    if len(parts) >= 2:
        return ContractTable(label, ".".join(parts), obj)
    table_name = parts[0] if parts else obj.name
    namespace = (server.namespace or "").strip() if server is not None else ""
    if table_name and namespace:
        return ContractTable(label, f"{namespace}.{table_name}", obj)
    problem = (
        f"schema object '{label}' does not say which Iceberg table it describes: give it a "
        f"physicalName of the form namespace.table (for example physicalName: "
        f"analytics.{table_name or 'my_table'}), or add a server of type iceberg with a namespace."
    )
    return ContractTable(label, None, obj, problem)


def contract_tables(contract: DataContract) -> list[ContractTable]:
    """Every schema object of the contract with its table (or the reason it has none)."""
    server = iceberg_server(contract)
    return [resolve_table(obj, i, server) for i, obj in enumerate(contract.schema_ or [])]
