"""citypass/core/files.py: atomic replacement and private exclusive creation."""

from __future__ import annotations

import json

import pytest

from citypass.core.files import (
    create_exclusively,
    size_or_zero,
    write_atomically,
    write_json_atomically,
)


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("old")
    write_atomically(path, "new")
    write_json_atomically(tmp_path / "data.json", {"a": 1})
    assert path.read_text() == "new"
    assert json.loads((tmp_path / "data.json").read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.json", "state.json"]


def test_a_failed_atomic_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("old")
    with pytest.raises(TypeError):
        write_atomically(path, None)  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_create_exclusively_is_private_and_refuses_an_existing_file(tmp_path):
    path = tmp_path / "secret" / "key"
    create_exclusively(path, b"\x00" * 32)
    assert path.read_bytes() == b"\x00" * 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    with pytest.raises(FileExistsError):
        create_exclusively(path, b"other")
    assert path.read_bytes() == b"\x00" * 32


def test_size_or_zero_is_the_files_size_and_zero_for_a_missing_one(tmp_path):
    path = tmp_path / "journal.sqlite-wal"
    assert size_or_zero(path) == 0
    path.write_bytes(b"x" * 1234)
    assert size_or_zero(path) == 1234
