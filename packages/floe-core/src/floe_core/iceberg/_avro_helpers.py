"""What the readers ``_avro_compile`` generates call: primitive readers, Iceberg's maps by
field id, loops over array and map blocks, optional fields, and the errors they raise.

Each reader and skipper takes the decoder and the length of its buffer; every length and
count read from the data is checked against that end before anything is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from floe_core.iceberg._avro_schema import AvroError

if TYPE_CHECKING:
    from pyiceberg.avro.decoder import BinaryDecoder

#: Decodes one value; takes the decoder and the length of its buffer.
Read = Callable[["BinaryDecoder", int], Any]


def _past_end(size: int) -> AvroError:
    return AvroError(f"a value of {size} bytes runs past the end of the data")


def _negative(what: str) -> AvroError:
    return AvroError(f"a negative {what}")


def _no_branch(index: int) -> AvroError:
    return AvroError(f"union branch {index} does not exist")


def _no_symbol(index: int) -> AvroError:
    return AvroError(f"enum symbol {index} does not exist")


# Readers and skippers of values read by loops or called from the generated code: each takes
# the decoder and the length of its buffer.


def _int(decoder: BinaryDecoder, end: int) -> int:
    return decoder.read_int()


def _bytes(decoder: BinaryDecoder, end: int) -> bytes:
    size = decoder.read_int()
    if size < 0 or decoder.tell() + size > end:
        raise _past_end(size)
    return decoder.read(size)


def _string(decoder: BinaryDecoder, end: int) -> str:
    size = decoder.read_int()
    if size < 0 or decoder.tell() + size > end:
        raise _past_end(size)
    return decoder.read(size).decode("utf-8")


def _null(decoder: BinaryDecoder, end: int) -> None:
    return None


def _boolean(decoder: BinaryDecoder, end: int) -> bool:
    return decoder.read_boolean()


def _float(decoder: BinaryDecoder, end: int) -> float:
    return decoder.read_float()


def _double(decoder: BinaryDecoder, end: int) -> float:
    return decoder.read_double()


_PRIMITIVE_READERS: dict[str, Read] = {
    "int": _int,
    "long": _int,
    "bytes": _bytes,
    "string": _string,
    "null": _null,
    "boolean": _boolean,
    "float": _float,
    "double": _double,
}


def _fixed(size: int) -> Read:
    def read_fixed(decoder: BinaryDecoder, end: int) -> bytes:
        if decoder.tell() + size > end:
            raise _past_end(size)
        return decoder.read(size)

    return read_fixed


def _enum(symbols: tuple[str, ...]) -> Read:
    def read_enum(decoder: BinaryDecoder, end: int) -> str:
        index = decoder.read_int()
        if not 0 <= index < len(symbols):
            raise _no_symbol(index)
        return symbols[index]

    return read_enum


def _skip_bytes(decoder: BinaryDecoder, end: int) -> None:
    size = decoder.read_int()
    if size < 0:
        raise _negative("byte length")
    decoder.skip(size)  # moves the position only; the block's final check catches an overrun


def check_count(decoder: BinaryDecoder, end: int, count: int) -> int:
    """``count``, if the bytes left can hold that many items (each takes at least one);
    beyond them it is damage, and would otherwise loop or allocate as much as it says."""
    if count > end - decoder.tell():
        raise AvroError("a block holds more items than the data has bytes")
    return count


def block_count(decoder: BinaryDecoder, end: int) -> int:
    """The item count of the next array or map block; a negative count precedes a size."""
    count = decoder.read_int()
    if count < 0:
        count = -count
        if decoder.read_int() < 0:  # the block's size in bytes
            raise _negative("block size")
    return check_count(decoder, end, count)


_SIGN, _WRAP = 1 << 63, 1 << 64


def read_int_pairs(decoder: BinaryDecoder, end: int) -> dict[int, int]:
    """A map of int or long to int or long (Iceberg's counts by field id), read in bulk."""
    pairs: dict[int, int] = {}
    while count := block_count(decoder, end):
        values = decoder.read_ints(2 * count)
        if values and max(values) >= _SIGN:  # pyiceberg 0.12's compiled read_ints gives
            values = tuple(v - _WRAP if v >= _SIGN else v for v in values)  # negatives unsigned
        pairs.update(zip(values[::2], values[1::2], strict=True))
    return pairs


def _int_bytes_pairs(decoder: BinaryDecoder, end: int) -> dict[int, bytes]:
    """A map of int to bytes (Iceberg's bounds by field id)."""
    pairs: dict[int, bytes] = {}
    while count := block_count(decoder, end):
        for _ in range(count):
            key = decoder.read_int()
            size = decoder.read_int()
            if size < 0 or decoder.tell() + size > end:
                raise _past_end(size)
            pairs[key] = decoder.read(size)
    return pairs


def _items_to_skip(decoder: BinaryDecoder, end: int) -> int | None:
    """The item count of the next block, to be skipped item by item (0: the last block was
    read); None when the block gave its size in bytes and has been jumped over whole."""
    count = decoder.read_int()
    if count < 0:
        size = decoder.read_int()
        if size < 0:
            raise _negative("block size")
        decoder.skip(size)
        return None
    return check_count(decoder, end, count)


def _skip_int_bytes_pairs(decoder: BinaryDecoder, end: int) -> None:
    """Moves past a map of int to bytes (Iceberg's bounds by field id)."""
    while (count := _items_to_skip(decoder, end)) != 0:
        for _ in range(count or 0):
            decoder.skip_int()
            _skip_bytes(decoder, end)


def _skip_map(decoder: BinaryDecoder, end: int, value: Read) -> None:
    """Moves past a map with string keys, each value by ``value``."""
    while (count := _items_to_skip(decoder, end)) != 0:
        for _ in range(count or 0):
            _skip_bytes(decoder, end)
            value(decoder, end)


def _list(decoder: BinaryDecoder, end: int, item: Read) -> list[Any]:
    items: list[Any] = []
    while count := block_count(decoder, end):
        items.extend([item(decoder, end) for _ in range(count)])
    return items


def _dict(decoder: BinaryDecoder, end: int, key: Read, value: Read) -> dict[Any, Any]:
    pairs: dict[Any, Any] = {}
    while count := block_count(decoder, end):
        for _ in range(count):
            k = key(decoder, end)
            pairs[k] = value(decoder, end)
    return pairs


def _skip_blocks(decoder: BinaryDecoder, end: int, varints: int, item: Read | None) -> None:
    """Moves past an array or map: ``varints`` per item when ``item`` is None, else by it."""
    while (count := _items_to_skip(decoder, end)) != 0:
        if not count:
            continue  # jumped over by its size
        if item is None:
            if varints:
                decoder.read_ints(varints * count)
        else:
            for _ in range(count):
                item(decoder, end)


def _varint_blocks(varints: int) -> Read:
    """Moves past an array whose items are ``varints`` varints each."""

    def skip(decoder: BinaryDecoder, end: int) -> None:
        _skip_blocks(decoder, end, varints, None)

    return skip


def _optional(decoder: BinaryDecoder, end: int, null: int, read: Read) -> Any:
    """A union of null and one type, as Iceberg writes every optional field."""
    index = decoder.read_int()
    if index == null:
        return None
    if index == 1 - null:
        return read(decoder, end)
    raise _no_branch(index)


def _skip_optional(decoder: BinaryDecoder, end: int, null: int, skip: Read) -> None:
    index = decoder.read_int()
    if index == 1 - null:
        skip(decoder, end)
    elif index != null:
        raise _no_branch(index)


def _skip_optional_varints(decoder: BinaryDecoder, end: int, null: int, count: int) -> None:
    index = decoder.read_int()
    if index == 1 - null:
        decoder.read_ints(count)
    elif index != null:
        raise _no_branch(index)
