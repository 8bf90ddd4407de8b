"""Brownie plumbing and deployment: used by scripts, tests, the demo and benches; never by a service."""
