"""Benchmarks that print one JSON object on stdout (progress goes to stderr).

Run them from the repository root as modules, e.g. `python -m bench.ledger --quick`
(`make bench-ledger QUICK=1`). Modules whose name starts with `_` are parts of a benchmark,
not benchmarks of their own."""
