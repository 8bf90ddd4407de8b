import pytest

from citypass.core.ranges import check_range


class SettingError(Exception):
    pass


def test_a_value_within_the_bounds_passes_including_the_bounds():
    for value in (1, 32, 64):
        check_range("--x", value, 1, 64)


def test_the_message_names_the_setting_the_value_and_the_bounds():
    with pytest.raises(ValueError, match=r"^--x 65 is out of range: use 1 … 64$"):
        check_range("--x", 65, 1, 64)
    with pytest.raises(SettingError, match=r"^period 0\.01 s is out of range: use 0\.05 … 300$"):
        check_range("period", 0.01, 0.05, 300, unit="s", error=SettingError)


def test_a_bound_can_be_said_in_words():
    with pytest.raises(ValueError, match=r"use 0 \(off\) … the cap \(10\)$"):
        check_range("--rate", 11, 0, 10, low_text="0 (off)", high_text="the cap (10)")
