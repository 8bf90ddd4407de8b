"""Kept only for indexer/handlers.py's `unpack_windows` import: the sharing-window model lives in
citypass/core/windows.py. Delete this module once handlers.py imports it from there."""

from citypass.core.windows import unpack_windows

__all__ = ["unpack_windows"]
