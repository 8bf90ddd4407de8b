"""Benchmark goals: which measured figures miss theirs.

A ceiling is a goal a figure must not exceed (a latency, gas), a floor one it must reach (a
rate). A figure that was not measured misses its goal: a benchmark that could not measure
something must not look as if it met it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def misses(
    result: Mapping[str, Any],
    *,
    ceilings: Mapping[str, float] | None = None,
    floors: Mapping[str, float] | None = None,
) -> list[str]:
    """The names of the figures of `result` that miss their goal, ceilings first."""
    missed = [
        name for name, goal in (ceilings or {}).items()
        if result.get(name) is None or result[name] > goal
    ]  # fmt: skip
    missed += [
        name for name, goal in (floors or {}).items()
        if result.get(name) is None or result[name] < goal
    ]  # fmt: skip
    return missed


def print_with_goals(
    result: dict[str, Any],
    *,
    ceilings: Mapping[str, float] | None = None,
    floors: Mapping[str, float] | None = None,
) -> None:
    """Print a benchmark's JSON on stdout, its goals (ceilings and floors in one map) and the
    figures that miss them last."""
    result.update(
        goals={**(ceilings or {}), **(floors or {})},
        misses=misses(result, ceilings=ceilings, floors=floors),
    )
    print(json.dumps(result, indent=2))
