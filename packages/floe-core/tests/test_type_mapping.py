import pytest
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from floe_core.contracts.iceberg_types import logical_matches, logical_type, physical_matches

STRUCT = StructType(NestedField(1, "a", StringType()))


@pytest.mark.parametrize(
    ("iceberg", "logical"),
    [
        (BooleanType(), "boolean"),
        (IntegerType(), "integer"),
        (LongType(), "integer"),
        (DoubleType(), "number"),
        (DecimalType(10, 2), "number"),
        (DateType(), "date"),
        (TimeType(), "time"),
        (TimestampType(), "timestamp"),
        (TimestamptzType(), "timestamp"),
        (StringType(), "string"),
        (UUIDType(), "string"),
        (FixedType(16), "string"),
        (BinaryType(), "string"),
        (STRUCT, "object"),
        (ListType(2, StringType()), "array"),
        (MapType(3, StringType(), 4, LongType()), "object"),
    ],
)
def test_logical_type_of_each_iceberg_type(iceberg: object, logical: str):
    assert logical_type(iceberg) == logical  # type: ignore[arg-type]
    assert logical_matches(logical, iceberg)  # type: ignore[arg-type]


def test_odcs_3_0_spellings_are_accepted():
    assert logical_matches("date", TimestamptzType())
    assert logical_matches("string", TimeType())
    assert not logical_matches("integer", StringType())
    assert not logical_matches("date", StringType())


@pytest.mark.parametrize(
    ("physical", "iceberg", "expected"),
    [
        ("bigint", LongType(), True),
        ("BIGINT", LongType(), True),
        ("int64", LongType(), True),
        ("int", LongType(), False),
        ("decimal(10,2)", DecimalType(10, 2), True),
        ("DECIMAL(10, 2)", DecimalType(10, 2), True),
        ("decimal(12,2)", DecimalType(10, 2), False),
        ("decimal", DecimalType(38, 9), True),
        ("varchar(255)", StringType(), True),
        ("timestamp with time zone", TimestamptzType(), True),
        ("timestamp", TimestamptzType(), False),
        ("fixed[16]", FixedType(16), True),
        ("fixed[8]", FixedType(16), False),
        ("struct<a:string>", STRUCT, True),
        ("array<string>", ListType(2, StringType()), True),
        ("VARCHAR2(20)", StringType(), None),
        ("table", StringType(), None),
    ],
)
def test_physical_type_spellings(physical: str, iceberg: object, expected: bool | None):
    assert physical_matches(physical, iceberg) is expected  # type: ignore[arg-type]
