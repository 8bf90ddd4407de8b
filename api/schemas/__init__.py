"""Pydantic schemas: `*Create` for what clients send, `*Public` for what the API returns."""
