"""What the gas benchmarks (bench/gas.py, bench/oracle_gas.py) share: a fresh development chain,
brownie's printout kept off stdout, and the JSON with goals and misses."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from citypass.chain.session import disconnect, load_project, silence_transactions


def run_gas_bench(measure: Callable[[Any, Any], Mapping[str, Any]], goals: dict[str, int]) -> int:
    """`measure(project, network)` on a fresh development chain; prints the gas as JSON, with
    each figure over its goal under "misses"."""
    project, network = load_project()
    silence_transactions()
    try:
        # brownie prints each transaction; keep stdout for the JSON alone.
        with contextlib.redirect_stdout(sys.stderr):
            result = dict(measure(project, network))
    finally:
        disconnect()
    result["goals"] = goals
    result["misses"] = {k: result[k] for k, goal in goals.items() if result[k] > goal}
    print(json.dumps(result, indent=2))
    return 0
