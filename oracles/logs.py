"""Structured logging: the shared JSON-line shape of every CityPass daemon (citypass/core/jsonlogs.py)."""

from citypass.core.jsonlogs import JsonFormatter, configure

__all__ = ["JsonFormatter", "configure"]
