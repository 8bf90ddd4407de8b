"""Keyed-hash plate tags: the grammar, the normalisation, and the month keys (the same plate in
two months gives unrelated tags; the derivation is stable, pinned by an independent HMAC)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from citypass.protocol.plate_tags import (
    GRAMMAR,
    MonthFormatError,
    PlateFormatError,
    month_key,
    months_from,
    normalise_plate,
    plate_tag,
)

SECRET = bytes(range(32))


@pytest.mark.parametrize(
    "text, normalised",
    [("12가3456", "12가3456"), ("123가 4567", "123가4567"), ("서울12가3456", "서울12가3456"),
     ("경기 1 바-1234", "경기1바1234"), (" 99 배 1234 ", "99배1234"), ("12하3456", "12하3456"),
     # A decomposed (NFD) syllable is the same plate.
     ("12\u1100\u11613456", "12가3456")],
)  # fmt: skip
def test_good_plates_normalise_to_one_spelling(text, normalised):
    assert normalise_plate(text) == normalised


@pytest.mark.parametrize(
    "text",
    ["", "12가345", "1가3456", "1234가5678", "12X3456", "12가34567", "12힣3456", "１２가3456",
     "서울123가4567", "뉴욕12가3456", "12가3456a", "12_가3456"],
)  # fmt: skip
def test_bad_plates_are_refused_without_repeating_them(text):
    with pytest.raises(PlateFormatError) as caught:
        normalise_plate(text)
    assert str(caught.value) == f"not {GRAMMAR}"


def test_the_month_key_and_tag_are_the_documented_hmacs():
    expected_key = hmac.new(SECRET, b"citypass-plate-tag|2026-12", hashlib.sha256).digest()
    assert month_key(SECRET, "2026-12") == expected_key
    expected_tag = hmac.new(expected_key, "12가3456".encode(), hashlib.sha256).digest()
    assert plate_tag(expected_key, "12가3456") == expected_tag
    assert month_key(SECRET, "2026-12") == month_key(bytes(range(32)), "2026-12")  # stable


def test_the_same_plate_in_different_months_gives_different_tags():
    tags = {plate_tag(month_key(SECRET, m), "12가3456") for m in months_from("2026-11", 4)}
    assert len(tags) == 4
    other = plate_tag(month_key(bytes(32), "2026-12"), "12가3456")
    assert other not in tags  # another secret, another tag


def test_months_run_over_the_year_end():
    assert months_from("2026-11", 4) == ["2026-11", "2026-12", "2027-01", "2027-02"]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-12", "2026/12", ""])
def test_a_bad_month_is_refused(month):
    with pytest.raises(MonthFormatError, match="YYYY-MM"):
        month_key(SECRET, month)


def test_a_short_secret_or_key_is_refused():
    with pytest.raises(ValueError, match="at least 16 bytes"):
        month_key(b"short", "2026-12")
    with pytest.raises(ValueError, match="32 bytes"):
        plate_tag(b"short", "12가3456")
