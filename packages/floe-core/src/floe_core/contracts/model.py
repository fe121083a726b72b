"""The ODCS v3 contract model, from the ``open-data-contract-standard`` package."""

from __future__ import annotations

from open_data_contract_standard.model import (
    DataQuality,
    OpenDataContractStandard,
    SchemaObject,
    SchemaProperty,
    Server,
    ServiceLevelAgreementProperty,
)

#: An ODCS v3 data contract (apiVersion v3.0.x to v3.2.x).
DataContract = OpenDataContractStandard

__all__ = [
    "DataContract",
    "DataQuality",
    "SchemaObject",
    "SchemaProperty",
    "Server",
    "ServiceLevelAgreementProperty",
]


def contract_name(contract: DataContract) -> str:
    """The name floe reports a contract under: its ``name``, else its ``id``."""
    return contract.name or contract.id or "unnamed-contract"


def contract_version(contract: DataContract) -> str:
    """The contract's own ``version``."""
    return contract.version or "0.0.0"
