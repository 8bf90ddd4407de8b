"""Structured logging: the shared JSON-line shape of every CityPass daemon (citypass/jsonlogs.py)."""

from citypass.jsonlogs import JsonFormatter, configure

__all__ = ["JsonFormatter", "configure"]
