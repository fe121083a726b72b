"""Table columns that quality rules name, and whether data files can be read by column name.

Parquet files carry Iceberg field ids; reading them by name is only right while every schema
the table has had agrees with the current one on the columns read (same field id, same name,
same type), and while the names need no sanitizing (writers store ``a b`` as ``a_x20b``). A
rename, a retype, or a column added after files were written breaks that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from floe_core.iceberg import find_field

if TYPE_CHECKING:
    from pyiceberg.schema import Schema
    from pyiceberg.types import IcebergType, StructType


class ColumnNotFound(Exception):
    """A rule names a column the table does not have (or one floe cannot address)."""


@dataclass(frozen=True)
class Column:
    """A column of the current schema: pyiceberg's dotted name, its path, id and type."""

    name: str
    parts: tuple[str, ...]
    field_id: int
    type: IcebergType

    @property
    def top_level(self) -> bool:
        """Whether the column is a top-level field (not inside a struct)."""
        return len(self.parts) == 1


def resolve(schema: Schema, name: str) -> Column:
    """The column ``name`` (dotted for struct fields), matched case-insensitively last."""
    field = find_field(schema, name)
    if field is None:
        raise ColumnNotFound(
            f"column '{name}' does not exist in the table; fix the property's name or "
            "physicalName, or the table"
        )
    parts = _path(schema.as_struct(), field.field_id)
    if parts is None:
        raise ColumnNotFound(
            f"column '{name}' is inside a list or map; floe checks the quality of columns and "
            "struct fields only"
        )
    dotted = schema.find_column_name(field.field_id) or name
    return Column(dotted, parts, field.field_id, field.field_type)


def _path(struct: StructType, field_id: int) -> tuple[str, ...] | None:
    from pyiceberg.types import StructType

    for field in struct.fields:
        if field.field_id == field_id:
            return (field.name,)
        if isinstance(field.field_type, StructType):
            below = _path(field.field_type, field_id)
            if below is not None:
                return (field.name, *below)
    return None


def unstable_names(schemas: Iterable[Schema], columns: Iterable[Column]) -> str | None:
    """Why reading ``columns`` by name could be wrong, or None when every schema agrees."""
    from pyiceberg.schema import make_compatible_name

    columns = list(columns)
    for column in columns:
        names = (*column.parts, *_nested_names(column.type))
        if any(make_compatible_name(part) != part for part in names):
            return f"column '{column.name}' is stored under a sanitized name in Parquet"
    for schema in schemas:
        for column in columns:
            try:
                field = schema.find_field(column.field_id)
            except ValueError:
                return (
                    f"the schema evolved: column '{column.name}' is absent from schema "
                    f"{schema.schema_id}"
                )
            then = schema.find_column_name(column.field_id)
            if then != column.name or field.field_type != column.type:
                return (
                    f"the schema evolved: column '{column.name}' was '{then}' "
                    f"({field.field_type}) in schema {schema.schema_id}"
                )
    return None


def _nested_names(iceberg_type: IcebergType) -> Iterator[str]:
    """Every struct field name inside a nested type."""
    from pyiceberg.types import ListType, MapType, StructType

    if isinstance(iceberg_type, StructType):
        for field in iceberg_type.fields:
            yield field.name
            yield from _nested_names(field.field_type)
    elif isinstance(iceberg_type, ListType):
        yield from _nested_names(iceberg_type.element_type)
    elif isinstance(iceberg_type, MapType):
        yield from _nested_names(iceberg_type.key_type)
        yield from _nested_names(iceberg_type.value_type)
