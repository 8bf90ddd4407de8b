"""Shared core: what every layer may use (no brownie, no services)."""
