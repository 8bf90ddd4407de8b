"""How deep parsed JSON nests: the edge and the oracle refuse input nested deeper than they
ever need (a deeply nested document made their handlers fail with RecursionError)."""

from __future__ import annotations


def nesting_exceeds(value: object, limit: int) -> bool:
    """Whether parsed JSON nests deeper than `limit` (iteratively: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((inner, depth + 1) for inner in item)
    return False
