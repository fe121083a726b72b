from collections.abc import Callable
from typing import Any

PLAN_VERSION: int

def read_blocks(
    data: bytes, start: int, plan: tuple[Any, ...], decompress: Callable[[bytes], bytes] | None
) -> list[Any]: ...
def read_file(path: str) -> bytes: ...
