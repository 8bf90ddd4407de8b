"""CityPass Ledger: shared Python helpers for operators' scripts, the demo and the benchmarks."""
