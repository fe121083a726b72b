"""A table's fields by the names contracts use for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField


def find_field(schema: Schema, name: str) -> NestedField | None:
    """The field ``name`` (dotted for struct fields): exact match first, then any case."""
    for case_sensitive in (True, False):
        try:
            return schema.find_field(name, case_sensitive=case_sensitive)
        except ValueError:
            continue
    return None
