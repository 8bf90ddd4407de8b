"""Shared field parsing for the adapters: timestamps, typed fields, privacy filtering."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from citypass.core.json_nesting import nesting_exceeds
from edge_oracle.errors import ReadingError

# Keys that may carry personal data (DESIGN §6). They are never copied into a reading; the
# adapters count them so an operator can see a camera sending more than it should.
_PERSONAL_KEY = re.compile(r"plate|licen[cs]e|lpr|anpr|face|name|phone|person_?id", re.I)


# A device line is one flat-ish object; deeper JSON is not a reading, and deep enough JSON
# exhausts Python's recursion (in the parser, or in personal_fields below), which would stop
# the ingest thread and with it the daemon.
MAX_JSON_DEPTH = 32


def load_json_line(line: str) -> Any:
    """One device line as JSON; ReadingError("bad_json") if it is not JSON or nests too deep."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ReadingError("bad_json", f"not JSON ({exc.msg} at column {exc.colno})") from exc
    except RecursionError:
        obj = None
        too_deep = True
    else:
        too_deep = nesting_exceeds(obj, MAX_JSON_DEPTH)
    if too_deep:
        raise ReadingError("bad_json", f"JSON nested too deep (more than {MAX_JSON_DEPTH} levels)")
    return obj


def load_json_object(line: str) -> tuple[dict[str, Any], list[str]]:
    """One device line as a JSON object, and the personal-looking keys in it (a reading never
    copies them; the adapters count them). ReadingError("bad_json") if it is not one."""
    obj = load_json_line(line)
    if not isinstance(obj, dict):
        raise ReadingError("bad_json", "each line must be one JSON object")
    return obj, personal_fields(obj)


def personal_fields(value: Any, path: str = "") -> list[str]:
    """Paths of keys in `value` (nested) that look like personal data."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _PERSONAL_KEY.search(str(key)):
                found.append(here)
            else:
                found.extend(personal_fields(inner, here))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(personal_fields(inner, f"{path}[{index}]"))
    return found


def timestamp_ms(value: Any, name: str) -> int:
    """Unix milliseconds from an ISO 8601 time with a UTC offset, or from epoch milliseconds."""
    if isinstance(value, bool):
        raise ReadingError("bad_timestamp", f"{name} must be ISO 8601 or epoch milliseconds")
    if isinstance(value, int):
        if not 0 < value < 2**63:
            raise ReadingError("bad_timestamp", f"{name} {value} is not epoch milliseconds")
        return value
    if not isinstance(value, str):
        raise ReadingError("bad_timestamp", f"{name} must be ISO 8601 or epoch milliseconds")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ReadingError(
            "bad_timestamp", f"{name} {value!r} is not ISO 8601 (like 2026-11-24T08:01:02+09:00)"
        ) from exc
    if moment.tzinfo is None:
        raise ReadingError(
            "bad_timestamp", f"{name} {value!r} has no UTC offset: add +09:00 (KST) or Z"
        )
    return int(round(moment.timestamp() * 1000))


def require(obj: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in obj:
        raise ReadingError("missing_field", f"field {name!r} is missing")
    value = obj[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in kinds)
        raise ReadingError("bad_field", f"field {name!r} must be {names}")
    return value


def slot_id(value: Any, name: str) -> int:
    """A parking slot id: a non-negative integer, or a string of digits (DeepStream place ids)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        raise ReadingError("bad_field", f"{name} must be a parking slot id (a whole number)")
    return value


def sensor_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or not value.isprintable():
        raise ReadingError("bad_field", f"{name} must be a sensor id of 1 to 64 characters")
    return value
