"""duplicateValues split along the files' value ranges gives the same exact count."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pytest

from floe_core.iceberg import TableFacts
from floe_core.plugins.quality import QualityRule
from floe_core.quality.columns import Column
from floe_core.quality.engine import Settings
from floe_core.quality.ranges import BITMAP_MAX_RANGE, bitmap_range, disjoint_groups
from floe_core.quality.rules import parse_rule
from floe_core.quality.scan import scan_rules

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


def column_of(table: Any, name: str = "id") -> Column:
    field = table.schema().find_field(name)
    return Column(name, (name,), field.field_id, field.field_type)


def test_dense_integer_ranges_are_counted_in_a_bitmap(lake: Any) -> None:
    table = build(lake, [[1, 2, 2, 3], [3, 4, None, 5]])  # values 1..5: width 5, 7 values
    assert bitmap_range(TableFacts().facts(table).data_files, column_of(table)) == (1, 5)


def test_sparse_or_non_integer_ranges_are_not_counted_in_a_bitmap(lake: Any) -> None:
    sparse = build(lake, [[1, 2], [1000, 1001]])  # width 1001 for 4 values
    assert bitmap_range(TableFacts().facts(sparse).data_files, column_of(sparse)) is None
    strings = column_of(sparse, "code")
    assert bitmap_range(TableFacts().facts(sparse).data_files, strings) is None


def test_a_range_wider_than_the_bitmap_limit_is_hashed(lake: Any) -> None:
    lake.table("shop.orders", SCHEMA, {"id": [0, BITMAP_MAX_RANGE], "code": ["x", "y"]})
    table = lake.load("shop.orders")
    assert bitmap_range(TableFacts().facts(table).data_files, column_of(table)) is None


def test_bitmap_counts_with_the_other_rules_in_one_pass(lake: Any) -> None:
    batches = [[1, 2, 2, 3, None], [4, 5, 5, 5, 6]]  # disjoint: hashing would split them
    build(lake, batches)
    codes = {"id": "codes", "type": "library", "metric": "invalidValues"}
    codes |= {"arguments": {"validValues": ["x"]}, "mustBe": 0}
    properties = [{"name": "id", "quality": [RULE]}, {"name": "code", "quality": [codes]}]
    contract = lake.contract(lake.obj("shop.orders", properties))

    result = lake.quality(contract)

    assert lake.rules(result)["ids"]["measured"] == duplicates([v for b in batches for v in b])
    assert lake.rules(result)["codes"]["measured"] == 0
    assert result.details["tables"][0]["scans"] == 1


def test_bounds_that_do_not_enclose_the_values_fall_back_to_hashing(
    lake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    batches = [[1, 2, 2, 3], [7, 8, 8, 9]]
    table = build(lake, batches)
    facts = TableFacts().facts(table)
    field_id = column_of(table).field_id
    narrow = (1).to_bytes(8, "little"), (4).to_bytes(8, "little")  # the second file lies
    lying = [
        replace(f, lower_bounds={field_id: narrow[0]}, upper_bounds={field_id: narrow[1]})
        for f in facts.data_files
    ]
    facts = replace(facts, data_files=tuple(lying))
    [rule] = parse_rules(table, RULE)

    scanned = scan_rules(table, facts, [(0, rule)], {"id": column_of(table)}, Settings())

    assert scanned.results[0].measured == duplicates([v for b in batches for v in b])
    assert "do not enclose its values" in caplog.text
    assert "7" not in caplog.text.split("bounds")[-1]  # no row value in the log


def parse_rules(table: Any, *rules: dict[str, Any]) -> list[QualityRule]:
    """``rules`` on the table's ``id`` column, as the quality check parses them."""
    from open_data_contract_standard.model import DataQuality

    return [
        parse_rule(DataQuality.model_validate(r), "q", "orders", "id", {"id": "id"}) for r in rules
    ]
