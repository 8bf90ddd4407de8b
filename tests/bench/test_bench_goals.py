"""bench/goals: the figures a benchmark reports as missing their goals, and its printed JSON."""

from __future__ import annotations

import json

from bench.goals import misses, print_with_goals


def test_a_figure_above_its_ceiling_or_below_its_floor_misses():
    result = {"p99_ms": 12.0, "tps": 900.0, "gas": 80_000}
    assert misses(result, ceilings={"p99_ms": 10, "gas": 80_000}, floors={"tps": 1_000}) == [
        "p99_ms",
        "tps",
    ]


def test_a_figure_on_its_goal_meets_it():
    assert (
        misses({"p99_ms": 10, "tps": 1_000}, ceilings={"p99_ms": 10}, floors={"tps": 1_000}) == []
    )


def test_a_figure_not_measured_misses():
    assert misses({"tps": None}, ceilings={"p99_ms": 10}, floors={"tps": 1}) == ["p99_ms", "tps"]


def test_the_printed_json_ends_with_the_goals_and_the_misses(capsys):
    print_with_goals({"tps": 900, "p99_ms": 3}, ceilings={"p99_ms": 10}, floors={"tps": 1_000})
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["tps", "p99_ms", "goals", "misses"]
    assert printed["goals"] == {"p99_ms": 10, "tps": 1_000}
    assert printed["misses"] == ["tps"]
