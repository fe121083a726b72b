"""duplicateValues split along the files' value ranges gives the same exact count."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pytest

from floe_core.quality.columns import Column
from floe_core.quality.metadata import TableFacts
from floe_core.quality.ranges import disjoint_groups

SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("code", pa.string())])
RULE = {"id": "ids", "type": "library", "metric": "duplicateValues", "mustBe": 0}


def duplicates(values: list[Any]) -> int:
    """Non-null values that already occurred: the brute-force answer."""
    counts = Counter(v for v in values if v is not None)
    return sum(n - 1 for n in counts.values())


def build(lake: Any, batches: list[list[int | None]]) -> Any:
    lake.table("shop.orders", SCHEMA, {"id": batches[0], "code": ["x"] * len(batches[0])})
    for batch in batches[1:]:
        lake.append("shop.orders", {"id": batch, "code": ["x"] * len(batch)})
    return lake.load("shop.orders")


def groups_of(table: Any) -> list[list[str]] | None:
    facts = TableFacts().facts(table)
    field = table.schema().find_field("id")
    column = Column("id", ("id",), field.field_id, field.field_type)
    paths = [f.path for f in facts.data_files]
    return disjoint_groups(facts.data_files, paths, column)


CASES = {
    # ids appended in order: every file its own group; duplicates only inside files
    "disjoint": [[1, 2, 2, 3], [10, 11, 11, 11], [20, None, None, 21]],
    # two files overlap, a third stands apart; a duplicate spans the overlapping pair
    "partly-overlapping": [[1, 5, 9], [4, 5, 6], [100, 100, 101]],
    # a file of nulls only has no range and cannot collide
    "null-only-file": [[1, 2, 3], [None, None], [3, 4, 5]],
}


@pytest.mark.parametrize("batches", CASES.values(), ids=CASES.keys())
def test_split_count_equals_brute_force(lake: Any, batches: list[list[int | None]]) -> None:
    build(lake, batches)
    contract = lake.contract(lake.obj("shop.orders", [{"name": "id", "quality": [RULE]}]))

    result = lake.quality(contract)

    expected = duplicates([v for batch in batches for v in batch])
    assert lake.rules(result)["ids"]["measured"] == expected
    assert lake.rules(result)["ids"]["method"] == "scan"


def test_groups_follow_overlapping_ranges(lake: Any) -> None:
    table = build(lake, CASES["partly-overlapping"])
    groups = groups_of(table)
    assert groups is not None
    assert sorted(len(g) for g in groups) == [1, 2]


def test_one_range_for_all_files_is_not_split(lake: Any) -> None:
    table = build(lake, [[1, 50], [2, 40], [3, 30]])
    assert groups_of(table) is None


def test_files_without_bounds_are_not_split(lake: Any) -> None:
    lake.table("shop.orders", SCHEMA, {"id": [1, 2], "code": ["x", "y"]})
    table = lake.load("shop.orders")
    with table.transaction() as tx:
        tx.set_properties({"write.metadata.metrics.default": "counts"})
    lake.append("shop.orders", {"id": [5, 5], "code": ["z", "z"]})
    assert groups_of(lake.load("shop.orders")) is None


def test_files_appended_in_order_are_one_group_each(lake: Any) -> None:
    table = build(lake, CASES["disjoint"])
    groups = groups_of(table)
    assert groups is not None
    assert [len(g) for g in groups] == [1, 1, 1]
