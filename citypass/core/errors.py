"""The shape the services' error roots share: a message that says what to do, and a short code
for programs (an API error body's code, a metrics or log label)."""

from __future__ import annotations

from typing import Any


class CodedError(Exception):
    """A subclass states its default code in its class line,
    `class NotFound(ApiError, code="not_found")`; an instance may carry a more precise one."""

    code = "error"

    def __init_subclass__(cls, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
