"""Who consumes a contract's data: every violation event names them in ``affected_consumers``.

Read from two places, in this order, duplicates dropped (first one kept):

1. the contract-level ``customProperties`` entry ``consumers``: one name, or a list of names
   and of mappings with a ``name`` (other keys, such as ``team`` or ``contact``, are the
   author's notes);
2. every contract-level ``roles`` entry with ``access: read``: ODCS lists there the roles a
   consumer needs to read the data, so their holders are affected too.

Anything else (an empty name, a mapping without ``name``, ``access: write``) names no one.
"""

from __future__ import annotations

from floe_core.contracts.model import DataContract

#: The ``customProperties`` property that lists consumers (compared case-insensitively).
CONSUMERS_PROPERTY = "consumers"


def affected_consumers(contract: DataContract) -> list[str]:
    """The consumers ``contract`` declares, in declaration order, each once."""
    names: list[str] = []
    for prop in contract.customProperties or []:
        if (prop.property or "").strip().lower() == CONSUMERS_PROPERTY:
            values = prop.value if isinstance(prop.value, list) else [prop.value]
            names.extend(_name(value) for value in values)
    for role in contract.roles or []:
        if (role.access or "").strip().lower() == "read":
            names.append(_name(role.role))
    return list(dict.fromkeys(name for name in names if name))


def _name(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("name")
    return value.strip() if isinstance(value, str) else ""
